// splitmix64 (Steele, Lea and Flood; the seeding step of xoshiro): a fast, well-mixed 64-bit
// hash of a value, and the generator it makes by stepping a state by the golden gamma. Not
// cryptographic. Used for seeds, jitter and fixed pseudo-random properties (a link's latency)
// wherever the same sequence must come out on every compiler and standard library.
#pragma once

#include <cstdint>

namespace bitscrape {

inline constexpr std::uint64_t kSplitmixGamma = 0x9E3779B97F4A7C15ull;

// The mix of x + gamma.
constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += kSplitmixGamma;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The next value of the splitmix64 generator whose state is `state` (advanced by gamma).
constexpr std::uint64_t splitmix64_next(std::uint64_t& state) noexcept {
  const std::uint64_t r = splitmix64(state);
  state += kSplitmixGamma;
  return r;
}

}  // namespace bitscrape
