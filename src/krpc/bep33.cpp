#include "krpc/bep33.hpp"

#include "common/hash.hpp"

#include <bit>
#include <cmath>
#include <cstring>

namespace bitscrape::krpc {

void ScrapeBloom::insert(const IpAddress& ip) {
  const Sha1Digest h = sha1(ip.bytes());
  const std::size_t i1 = (std::size_t{h[0]} | (std::size_t{h[1]} << 8)) % kBloomFilterBits;
  const std::size_t i2 = (std::size_t{h[2]} | (std::size_t{h[3]} << 8)) % kBloomFilterBits;
  bits[i1 / 8] = static_cast<std::uint8_t>(bits[i1 / 8] | (1u << (i1 % 8)));
  bits[i2 / 8] = static_cast<std::uint8_t>(bits[i2 / 8] | (1u << (i2 % 8)));
}

void ScrapeBloom::merge(const ScrapeBloom& o) noexcept {
  for (std::size_t i = 0; i < bits.size(); ++i) bits[i] = static_cast<std::uint8_t>(bits[i] | o.bits[i]);
}

double ScrapeBloom::estimate() const noexcept {
  std::size_t set = 0;
  for (const std::uint8_t b : bits) set += static_cast<std::size_t>(std::popcount(b));
  if (set == 0) return 0.0;
  constexpr double m = static_cast<double>(kBloomFilterBits);
  const std::size_t zeros = kBloomFilterBits - set;
  // c is clamped to [1, m-1]: a saturated filter (no zero bit) gives the filter's ceiling
  // (~7805.7) instead of infinity.
  const std::size_t clamped = zeros == 0 ? 1 : (zeros < kBloomFilterBits - 1 ? zeros : kBloomFilterBits - 1);
  const double c = static_cast<double>(clamped);
  return std::log(c / m) / (2.0 * std::log1p(-1.0 / m));
}

bool ScrapeBloom::assign(std::string_view raw) noexcept {
  if (raw.size() != kBloomFilterSize) return false;
  std::memcpy(bits.data(), raw.data(), kBloomFilterSize);
  return true;
}

}  // namespace bitscrape::krpc
