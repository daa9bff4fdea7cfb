// Peer wire building blocks shared by MetadataFetcher and Seeder: the BEP-3 handshake, the
// length-prefixed message framing (FrameReader), and encoders for BEP-10 extended messages and
// BEP-9 ut_metadata messages.
//
// FrameReader is a pull parser that never buffers a message body: it hands out slices of the
// caller's input, and the caller decides per message whether to skip it, buffer it (bounded) or
// stream it somewhere. That is what lets a connection skip a 1 MB bitfield while holding only
// the 68 bytes of framing state below.
//
// Time: the whole layer uses std::chrono::steady_clock::time_point supplied by the caller
// (asio's steady_timer runs on the same clock, and tests drive a virtual time that starts at
// TimePoint{}). Nothing here reads a clock.
//
// Threading: plain objects and pure functions.
//
// Deviations from BEP-3: we do not support the obsolete "no peer id" handshake variant (a peer
// that stops after 48 bytes simply times out), and any length prefix over the reader's sanity
// cap is an error rather than a message to wait for.
#pragma once

#include "common/id160.hpp"
#include "common/time.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bitscrape::peerwire {

using bitscrape::Clock;
using bitscrape::Duration;
using bitscrape::kNever;  // "no deadline": what next_deadline() returns when nothing is pending
using bitscrape::TimePoint;

using PeerId = Id160;

inline constexpr std::string_view kProtocol{
    "\x13"
    "BitTorrent protocol",
    20};
inline constexpr std::size_t kHandshakeSize = 68;  // 20 protocol + 8 reserved + 20 infohash + 20 peer id
inline constexpr std::string_view kDefaultPeerIdPrefix = "-BS0001-";

// BEP-9: metadata is exchanged in 16 KiB pieces; only the last one may be shorter.
inline constexpr std::uint32_t kMetadataPieceSize = 16 * 1024;

// Message ids (BEP-3, BEP-10).
enum MessageId : std::uint8_t {
  kChoke = 0,
  kUnchoke = 1,
  kInterested = 2,
  kNotInterested = 3,
  kHave = 4,
  kBitfield = 5,
  kRequest = 6,
  kPiece = 7,
  kCancel = 8,
  kPort = 9,
  kExtended = 20,
};
inline constexpr std::uint8_t kExtHandshakeId = 0;  // BEP-10: extended message id 0 is the handshake

// BEP-9 msg_type values.
enum class UtMsgType : std::int64_t { Request = 0, Data = 1, Reject = 2 };

// Reserved-byte feature bits.
using Reserved = std::array<std::uint8_t, 8>;
inline constexpr std::size_t kExtensionByte = 5;  // BEP-10: reserved[5] & 0x10
inline constexpr std::uint8_t kExtensionBit = 0x10;
inline constexpr std::size_t kV2Byte = 7;  // BEP-52: reserved[7] & 0x10 ("upgrade to v2")
inline constexpr std::uint8_t kV2Bit = 0x10;

Reserved make_reserved(bool extensions, bool v2) noexcept;

// `prefix` (Azureus style, e.g. "-BS0001-"; only the first 20 bytes are used) followed by the
// bytes of `random` (the caller's RNG — we never pick randomness ourselves); positions that
// `random` does not cover are zero.
PeerId make_peer_id(std::string_view prefix, std::string_view random) noexcept;

struct Handshake {
  Reserved reserved{};
  InfoHash info_hash;
  PeerId peer_id;
  bool supports_extensions() const noexcept { return (reserved[kExtensionByte] & kExtensionBit) != 0; }
  bool supports_v2() const noexcept { return (reserved[kV2Byte] & kV2Bit) != 0; }
};

void append_handshake(std::string& out, const Reserved& reserved, const InfoHash& info_hash,
                      const PeerId& peer_id);
// Exactly kHandshakeSize bytes starting with kProtocol, else false.
bool parse_handshake(std::string_view bytes, Handshake& out) noexcept;

// <len><id><payload>. `payload` must be shorter than 4 GiB - 1.
void append_message(std::string& out, std::uint8_t id, std::string_view payload = {});
void append_keepalive(std::string& out);
// <len><20><ext_id><payload><trailer> — trailer is the raw piece of a ut_metadata data message.
void append_extended(std::string& out, std::uint8_t ext_id, std::string_view payload,
                     std::string_view trailer = {});

// BEP-9 messages sent with the peer's ut_metadata id. `piece` and `total_size` are int64 so a
// misbehaving Seeder can send values no honest peer would.
void append_ut_request(std::string& out, std::uint8_t ext_id, std::int64_t piece);
void append_ut_reject(std::string& out, std::uint8_t ext_id, std::int64_t piece);
void append_ut_data(std::string& out, std::uint8_t ext_id, std::int64_t piece, std::int64_t total_size,
                    std::string_view bytes);

// Piece arithmetic for metadata of `size` bytes (size > 0).
constexpr std::uint32_t metadata_piece_count(std::uint32_t size) noexcept {
  return size / kMetadataPieceSize + (size % kMetadataPieceSize != 0 ? 1u : 0u);
}
constexpr std::uint32_t metadata_piece_length(std::uint32_t size, std::uint32_t piece) noexcept {
  const std::uint32_t begin = piece * kMetadataPieceSize;
  const std::uint32_t left = size - begin;
  return left < kMetadataPieceSize ? left : kMetadataPieceSize;
}

// Pull parser for one direction of a connection: first the 68-byte handshake, then
// <4-byte big-endian length><id>[<ext id> when id == 20 and length ≥ 2]<body> messages.
//
//   FrameReader r(cap);
//   for (;;) switch (r.next(input)) { case Event::NeedMore: return; ... }
//
// next() consumes from the front of `input` and returns one event:
//   Handshake  - handshake() holds the 68 bytes (protocol string already checked);
//   Message    - a message header: id(), has_ext(), ext_id(), body_length() (bytes after the
//                id and ext id). Keep-alives (length 0) are counted and never reported;
//   Body       - chunk() is the next slice of the current body (a view into `input`);
//   MessageEnd - the current message is complete (also right after Message for empty bodies);
//   NeedMore   - `input` is exhausted;
//   Error      - error() says why; the reader stays in this state.
// The protocol string is checked byte by byte, so junk fails at the first wrong byte.
class FrameReader {
 public:
  enum class Event : std::uint8_t { NeedMore, Handshake, Message, Body, MessageEnd, Error };

  // Length prefixes over `max_length` are errors: no message we could want is that long, and
  // refusing early stops a peer from holding the connection with a fake 4 GiB message.
  explicit FrameReader(std::uint32_t max_length) noexcept : max_length_(max_length) {}

  Event next(std::string_view& input) noexcept;

  bool in_handshake() const noexcept { return phase_ == Phase::Handshake; }
  bool failed() const noexcept { return phase_ == Phase::Failed; }
  std::string_view handshake() const noexcept { return {buf_.data(), kHandshakeSize}; }
  std::uint8_t id() const noexcept { return id_; }
  bool has_ext() const noexcept { return has_ext_; }
  std::uint8_t ext_id() const noexcept { return ext_; }
  std::uint32_t body_length() const noexcept { return body_len_; }
  // Body bytes of the current message not yet handed out.
  std::uint32_t body_remaining() const noexcept { return remaining_; }
  std::string_view chunk() const noexcept { return chunk_; }
  const char* error() const noexcept { return error_; }
  std::uint32_t keepalives() const noexcept { return keepalives_; }

 private:
  enum class Phase : std::uint8_t { Handshake, Header, Body, Failed };
  Event fail(const char* why) noexcept {
    phase_ = Phase::Failed;
    error_ = why;
    return Event::Error;
  }

  std::array<char, kHandshakeSize> buf_{};  // the handshake, then the current message header
  std::string_view chunk_;
  const char* error_ = nullptr;
  std::uint32_t max_length_;
  std::uint32_t length_ = 0;    // current length prefix
  std::uint32_t body_len_ = 0;  // body bytes of the current message
  std::uint32_t remaining_ = 0;
  std::uint32_t keepalives_ = 0;
  std::uint8_t got_ = 0;  // bytes of buf_ filled in the current phase
  std::uint8_t id_ = 0;
  std::uint8_t ext_ = 0;
  bool has_ext_ = false;
  Phase phase_ = Phase::Handshake;
};

}  // namespace bitscrape::peerwire
