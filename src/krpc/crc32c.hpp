// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as BEP-42 needs for secure node IDs.
//
// Debian 12 ships no crc32c library (libcrc32c-dev does not exist there; only a Python
// module), so this is a small table-driven implementation. BEP-42 hashes 4 or 8 bytes per
// call, so a byte-at-a-time table is plenty; no SSE4.2 path. The table is built at compile
// time. Checked against the RFC 3720 (iSCSI) vectors in tests/krpc/crc32c_test.cpp.
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace bitscrape::krpc {

// CRC-32C of `data`. To continue a running checksum pass the previous result as `crc`
// (crc32c(a + b) == crc32c(b, crc32c(a))).
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0) noexcept;

}  // namespace bitscrape::krpc
