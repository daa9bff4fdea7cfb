// Rng: the DHT core's only source of randomness (transaction ids, node ids, token secrets,
// samples, lookup targets). Seeded by whoever builds the Node — the adapter from the OS, the
// simulator and tests from a fixed seed — so a simulated run is exactly reproducible.
//
// xoshiro256** seeded through splitmix64: fast, small state, and the same sequence on every
// compiler and standard library (unlike std::uniform_int_distribution). Not cryptographic:
// token secrets derived from it are only as unpredictable as the seed the adapter supplies.
//
// Threading: not thread-safe; one per Node.
#pragma once

#include "common/id160.hpp"
#include "common/splitmix.hpp"

#include <cstddef>
#include <cstdint>

namespace bitscrape::dht {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) noexcept { reseed(seed); }

  void reseed(std::uint64_t seed) noexcept {
    for (auto& w : s_) w = splitmix64_next(seed);
  }

  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n); n > 0. Rejects the low sliver that would bias the modulo.
  std::uint64_t below(std::uint64_t n) noexcept {
    const std::uint64_t threshold = (0 - n) % n;
    for (;;) {
      const std::uint64_t r = next();
      if (r >= threshold) return r % n;
    }
  }

  // True with probability p (0..1).
  bool chance(double p) noexcept {
    return static_cast<double>(next() >> 11) * 0x1.0p-53 < p;
  }

  void fill(std::uint8_t* out, std::size_t n) noexcept {
    while (n > 0) {
      std::uint64_t v = next();
      for (int i = 0; i < 8 && n > 0; ++i, --n) {
        *out++ = static_cast<std::uint8_t>(v);
        v >>= 8;
      }
    }
  }

  Id160 id() noexcept {
    Id160 r;
    fill(r.bytes.data(), r.bytes.size());
    return r;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
};

}  // namespace bitscrape::dht
