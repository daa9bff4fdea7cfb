// uTP (BEP-29) packets: the 20-byte header, the extension chain (selective ack), and the cheap
// test that tells a uTP datagram from a KRPC one on a shared UDP socket.
//
//   0       4       8               16              24              32
//   +-------+-------+---------------+---------------+---------------+
//   | type  | ver   | extension     | connection_id                 |
//   | timestamp_microseconds                                        |
//   | timestamp_difference_microseconds                             |
//   | wnd_size                                                      |
//   | seq_nr                        | ack_nr                        |
//   then, while `extension` != 0: [next extension][len][len bytes], then the payload.
//
// decode() never allocates and never throws: the result holds views into the datagram.
// Limits: at most kMaxExtensions extensions; a selective ack is 4..kMaxSackBytes bytes, a
// multiple of 4 (BEP-29); unknown extensions are skipped (their length is still checked).
//
// Threading: pure functions.
#pragma once

#include "common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bitscrape::utp {

enum class Type : std::uint8_t { Data = 0, Fin = 1, State = 2, Reset = 3, Syn = 4 };
std::string_view to_string(Type t) noexcept;

inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderSize = 20;
inline constexpr std::uint8_t kExtSelectiveAck = 1;
inline constexpr std::size_t kMaxExtensions = 4;
inline constexpr std::size_t kMaxSackBytes = 32;  // 256 packets past ack_nr + 1

struct Header {
  Type type = Type::Data;
  std::uint16_t connection_id = 0;
  std::uint32_t timestamp_us = 0;
  std::uint32_t timestamp_diff_us = 0;
  std::uint32_t wnd_size = 0;
  std::uint16_t seq_nr = 0;
  std::uint16_t ack_nr = 0;
};

struct Packet {
  Header header;
  // Selective ack bitmask (empty: none). Bit i (byte i/8, bit i%8, LSB first) acks
  // ack_nr + 2 + i.
  std::string_view sack;
  std::string_view payload;
};

enum class DecodeError : std::uint8_t { TooShort, BadVersion, BadType, BadExtension, TooManyExtensions, BadSack };
std::string_view to_string(DecodeError e) noexcept;

// True when byte 0 says "uTP version 1, type 0..4" and the datagram can hold a header: what
// the shared socket demultiplexes on (KRPC datagrams start with 'd' = 0x64).
bool looks_like_utp(std::string_view datagram) noexcept;

Result<Packet, DecodeError> decode(std::string_view datagram) noexcept;

// Appends one packet to `out`: the header, a selective ack when `sack` is not empty (its
// length must be a non-zero multiple of 4), then `payload`.
void encode(std::string& out, const Header& h, std::string_view sack = {}, std::string_view payload = {});

// Sequence numbers wrap at 2^16: a is before b when b - a, as a signed 16-bit value, is > 0.
constexpr bool seq_before(std::uint16_t a, std::uint16_t b) noexcept {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(b - a)) > 0;
}

}  // namespace bitscrape::utp
