// Deterministic pseudo-random bytes (xorshift32) for test payloads: the same (n, seed) always
// gives the same bytes, and a flipped byte changes any hash over them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace bitscrape::test_support {

inline std::string filler(std::size_t n, std::uint32_t seed) {
  std::string s(n, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

}  // namespace bitscrape::test_support
