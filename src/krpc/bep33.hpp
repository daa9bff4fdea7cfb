// BEP-33 (DHT scrape) bloom filters: the 256-byte `BFsd` (seeds) and `BFpe` (peers) values a
// get_peers response carries when the query had `scrape=1`.
//
// m = 2048 bits, k = 2: an IP's compact address bytes (4 or 16) are SHA-1 hashed; bit indexes
// are hash[0] | hash[1] << 8 and hash[2] | hash[3] << 8, each mod 2048; bit i lives in byte
// i / 8 at mask 1 << (i % 8). estimate() is the BEP's
//   ln(c / m) / (k * ln(1 - 1 / m)),  c = min(m - 1, zero bits)
// except that an all-zero filter estimates exactly 0 (the formula gives 0.5 for it; an empty
// swarm is 0 peers, not half a peer), and a saturated filter (no zero bit) is clamped to c = 1,
// the filter's ceiling of ~7805.7, instead of dividing ln(0).
//
// Threading: plain values and pure functions.
#pragma once

#include "common/endpoint.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bitscrape::krpc {

inline constexpr std::size_t kBloomFilterSize = 256;  // bytes on the wire (BEP-33)
inline constexpr std::size_t kBloomFilterBits = kBloomFilterSize * 8;

struct ScrapeBloom {
  std::array<std::uint8_t, kBloomFilterSize> bits{};

  void insert(const IpAddress& ip);
  // Union with another filter (e.g. merging the answers of several nodes).
  void merge(const ScrapeBloom& o) noexcept;
  // Estimated number of distinct addresses inserted.
  double estimate() const noexcept;
  std::string_view view() const noexcept { return {reinterpret_cast<const char*>(bits.data()), bits.size()}; }
  // From exactly 256 bytes (a received BFsd/BFpe); false for any other size.
  bool assign(std::string_view raw) noexcept;

  bool operator==(const ScrapeBloom&) const = default;
};

}  // namespace bitscrape::krpc
