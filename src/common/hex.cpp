#include "common/hex.hpp"

#include "common/id160.hpp"

#include <bit>

namespace bitscrape {
namespace {
constexpr char kDigits[] = "0123456789abcdef";

int nibble(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string to_hex(std::string_view bytes) {
  std::string out(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 15];
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

std::optional<Id160> Id160::from_bytes(std::string_view raw) noexcept {
  if (raw.size() != kSize) return std::nullopt;
  Id160 id;
  for (std::size_t i = 0; i < kSize; ++i) id.bytes[i] = static_cast<std::uint8_t>(raw[i]);
  return id;
}

std::optional<Id160> Id160::from_hex(std::string_view hex) noexcept {
  if (hex.size() != 2 * kSize) return std::nullopt;
  Id160 id;
  for (std::size_t i = 0; i < kSize; ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id.bytes[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return id;
}

std::string Id160::hex() const { return to_hex(view()); }

int Id160::common_prefix_bits(const Id160& o) const noexcept {
  for (std::size_t i = 0; i < kSize; ++i) {
    const auto x = static_cast<std::uint8_t>(bytes[i] ^ o.bytes[i]);
    if (x != 0) return static_cast<int>(i * 8) + std::countl_zero(x);
  }
  return 160;
}

int Id160::leading_zero_bits() const noexcept { return common_prefix_bits(Id160{}); }

}  // namespace bitscrape
