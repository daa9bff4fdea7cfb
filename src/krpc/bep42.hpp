// BEP-42 (DHT security extension): node IDs tied to the node's external IP address.
//
// The first 21 bits of a secure ID equal the first 21 bits of
//   crc32c((ip & mask) with r's low 3 bits in the top 3 bits of the first byte)
// where mask is 03 0f 3f ff for IPv4 (4 bytes hashed) and 01 03 07 0f 1f 3f 7f ff for IPv6
// (the first 8 bytes hashed), and r is the ID's last byte.
//
// Interpretations (see docs/krpc.md):
//  - Exempt (every ID is "secure" for them), as the BEP lists for IPv4: 10/8, 172.16/12,
//    192.168/16, 169.254/16, 127/8. The BEP names no IPv6 ranges; like libtorrent we also exempt
//    ::1, fe80::/10 (link-local) and fc00::/7 (unique local).
//  - An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged as the IPv4 address it carries, so
//    a dual-stack socket reporting mapped addresses gets the same answer as a v4 socket.
//
// Randomness is injected (sans-I/O): the caller passes 20 random bytes and the generator keeps
// all of them except the 21 prefix bits; r is entropy's last byte, which stays the ID's last byte.
//
// Threading: pure functions.
#pragma once

#include "common/endpoint.hpp"
#include "common/id160.hpp"

#include <cstdint>

namespace bitscrape::krpc {

inline constexpr int kBep42PrefixBits = 21;

// True for addresses BEP-42 does not constrain (local and loopback networks, see above).
bool is_bep42_exempt(const IpAddress& ip) noexcept;

// The crc32c BEP-42 derives the ID prefix from, for `ip` and random byte `r` (only r's low
// 3 bits are used).
std::uint32_t bep42_crc(const IpAddress& ip, std::uint8_t r) noexcept;

// A secure node ID for the external address `ip`: the 21-bit prefix from bep42_crc(ip, r) with
// r = entropy.bytes[19]; every other bit comes from `entropy` (so entropy.bytes[19] == r).
NodeId make_secure_id(const IpAddress& ip, const NodeId& entropy) noexcept;

// True when `id` is a valid BEP-42 ID for `ip`, or `ip` is exempt.
bool is_secure_id(const NodeId& id, const IpAddress& ip) noexcept;

}  // namespace bitscrape::krpc
