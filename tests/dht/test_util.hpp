// Helpers shared by the dht tests.
#pragma once

#include "common/endpoint.hpp"
#include "common/id160.hpp"
#include "dht/random.hpp"
#include "dht/time.hpp"

#include <chrono>
#include <cstdint>

namespace bitscrape::dht::test {

// A random id sharing exactly `bits` leading bits with `base` (bits < 160).
inline Id160 id_sharing(const Id160& base, int bits, Rng& rng) {
  Id160 id = rng.id();
  for (int b = 0; b < bits; ++b) id.set_bit(b, base.bit(b));
  id.set_bit(bits, !base.bit(bits));
  return id;
}

// Public-looking (non-martian) IPv4 endpoint number n: 20.x.y.z.
inline Endpoint ep4(std::uint32_t n, std::uint16_t port = 6881) {
  return Endpoint{IpAddress::v4((20u << 24) | (n & 0xFFFFFF)), port};
}

// Public-looking IPv6 endpoint number n: 2001:db8::n.
inline Endpoint ep6(std::uint32_t n, std::uint16_t port = 6881) {
  std::array<std::uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8};
  b[12] = static_cast<std::uint8_t>(n >> 24);
  b[13] = static_cast<std::uint8_t>(n >> 16);
  b[14] = static_cast<std::uint8_t>(n >> 8);
  b[15] = static_cast<std::uint8_t>(n);
  return Endpoint{IpAddress::v6(b), port};
}

inline TimePoint at(std::chrono::milliseconds ms) { return TimePoint{} + std::chrono::hours(1) + ms; }

}  // namespace bitscrape::dht::test
