// Id160: a 160-bit identifier — DHT node IDs and (v1 or truncated v2) infohashes.
//
// Kademlia distance is XOR; ordering is big-endian byte order, so `a < b` compares as
// unsigned 160-bit integers. Threading: a plain value type.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bitscrape {

struct Id160 {
  static constexpr std::size_t kSize = 20;
  std::array<std::uint8_t, kSize> bytes{};

  // From exactly 20 raw bytes; nullopt for any other length.
  static std::optional<Id160> from_bytes(std::string_view raw) noexcept;
  // From 40 hex digits (either case); nullopt otherwise.
  static std::optional<Id160> from_hex(std::string_view hex) noexcept;

  std::string hex() const;
  std::string_view view() const noexcept {
    return {reinterpret_cast<const char*>(bytes.data()), kSize};
  }

  // Kademlia XOR distance.
  Id160 operator^(const Id160& o) const noexcept {
    Id160 r;
    for (std::size_t i = 0; i < kSize; ++i) r.bytes[i] = bytes[i] ^ o.bytes[i];
    return r;
  }
  // Number of leading bits this and `o` share (160 when equal).
  int common_prefix_bits(const Id160& o) const noexcept;
  // Number of leading zero bits (160 for the zero id).
  int leading_zero_bits() const noexcept;
  bool bit(int i) const noexcept { return (bytes[i / 8] >> (7 - i % 8)) & 1; }
  void set_bit(int i, bool v) noexcept {
    const auto mask = static_cast<std::uint8_t>(0x80u >> (i % 8));
    bytes[i / 8] = v ? static_cast<std::uint8_t>(bytes[i / 8] | mask)
                     : static_cast<std::uint8_t>(bytes[i / 8] & ~mask);
  }

  bool operator==(const Id160&) const = default;
  std::strong_ordering operator<=>(const Id160&) const = default;
};

// True when `a` is closer to `target` than `b` is (XOR metric).
inline bool closer_to(const Id160& target, const Id160& a, const Id160& b) noexcept {
  for (std::size_t i = 0; i < Id160::kSize; ++i) {
    const auto da = static_cast<std::uint8_t>(a.bytes[i] ^ target.bytes[i]);
    const auto db = static_cast<std::uint8_t>(b.bytes[i] ^ target.bytes[i]);
    if (da != db) return da < db;
  }
  return false;
}

struct Id160Hash {
  std::size_t operator()(const Id160& id) const noexcept {
    // Ids are uniformly random (hashes); any 8 bytes are a good hash.
    std::size_t h = 0;
    for (int i = 0; i < 8; ++i) h = (h << 8) | id.bytes[static_cast<std::size_t>(i)];
    return h;
  }
};

using NodeId = Id160;
using InfoHash = Id160;

}  // namespace bitscrape
