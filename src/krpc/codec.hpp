// Parsing datagrams into KRPC messages and encoding messages into datagrams.
//
// parse(): cheap checks first (size, leading 'd'), then a zero-copy bencode decode with limits
// tuned for KRPC, then one pass over each dict, validating every field we interpret. The
// caller passes a reusable bencode::Document; once its token storage is warm, parsing does not
// allocate. Malformed input becomes a ParseError value carrying what the node needs to answer
// (transaction id, whether it was a query, which KRPC error code) or count it (kind, reason).
// Nothing throws and nothing asserts on input.
//
// Forward compatibility (BEP-5 practice): unknown keys are ignored at every level, and keys may
// arrive in any order (real clients send unsorted dicts). A known key appearing twice in one
// dict is refused (DuplicateKey): different parsers pick different copies, which is a classic
// smuggling vector. Keys we do not interpret for a method (e.g. `token` in find_node) are not
// type-checked.
//
// encode(): appends the canonical bencoding (sorted keys, via bencode::Writer) of a message to
// `out`. It validates what parse() would refuse (tid length, token length, ports, bloom filter
// sizes, interval range) so we never emit a message we would reject; on failure `out` is left
// as it was. Encoding output of parse() and parsing it again yields an equal message (the
// property fuzz/fuzz_krpc.cpp checks).
//
// Which KRPC code a malformed query gets follows BEP-5: 204 for an unknown method (libtorrent
// sends 203 there), 203 for everything else.
//
// Threading: pure functions; a Document must not be shared between concurrent parses.
#pragma once

#include "bencode/decoder.hpp"
#include "common/result.hpp"
#include "krpc/message.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bitscrape::krpc {

struct ParseLimits {
  std::size_t max_datagram = kMaxDatagramSize;  // bytes; larger datagrams are TooLarge
  std::uint32_t max_depth = kMaxDepth;          // bencode nesting
  std::uint32_t max_tokens = kMaxTokens;        // bencode values
};

enum class ParseErrorCode : std::uint8_t {
  TooLarge,       // datagram longer than ParseLimits::max_datagram
  NotADict,       // empty, or does not start with 'd' (not a KRPC message at all)
  NotBencode,     // starts like a dict but the bencode decoder refused it (see ParseError::bencode)
  MissingField,   // a required key is absent
  WrongType,      // a key holds the wrong bencode type
  BadLength,      // a byte string of the wrong length (tid, ids, compact blobs, token, BFsd/BFpe)
  BadValue,       // out of range (port, interval, num) or unknown `y`
  DuplicateKey,   // a key we interpret appears twice in one dict
  UnknownMethod,  // `q` names no method we implement (-> 204)
};
inline constexpr std::size_t kParseErrorCodeCount = 9;
std::string_view to_string(ParseErrorCode c) noexcept;

struct ParseError {
  ParseErrorCode code = ParseErrorCode::NotADict;
  // The offending key as a dotted path ("t", "a.id", "r.nodes", "e"); empty when the error is
  // about the datagram as a whole. Always a static string.
  std::string_view field;
  std::size_t offset = 0;    // byte offset in the datagram where the problem was found
  bencode::Error bencode{};  // the decoder's error when code == NotBencode
  std::string_view tid;      // the transaction id when a valid one was found (into the datagram)
  MessageKind kind = MessageKind::Unknown;  // best knowledge of what the datagram was
  bool is_query = false;                    // `y` was "q"
  std::int64_t reply_code = 0;              // 203 or 204 when is_query, else 0

  // The node should answer with an error: a query whose transaction id we could read.
  bool can_reply() const noexcept { return is_query && !tid.empty() && reply_code != 0; }
  // The error to send back (tid, reply_code, a static message). Meaningful when can_reply().
  ErrorMessage reply() const noexcept;
};

// Oddities parse() tolerated, for counters. None of them changes whether parse() succeeds.
struct Diagnostics {
  std::uint32_t values_skipped = 0;  // `values` entries skipped (not 6/18 bytes, or port 0)
  bool ip_ignored = false;           // top-level `ip` of a response was not a 6/18-byte string
  bool version_ignored = false;      // `v` was not a string or longer than kMaxVersionSize
  bool interval_clamped = false;     // `interval` was above kMaxSampleInterval
  bool operator==(const Diagnostics&) const = default;
};

struct Parsed {
  Message message;
  MessageKind kind = MessageKind::Unknown;
  Diagnostics diag;
};

// Parses one datagram. `doc` is reused scratch space; the result views `datagram` and `doc`.
// NOLINTNEXTLINE(bugprone-exception-escape): see decode.cpp
Result<Parsed, ParseError> parse(std::string_view datagram, bencode::Document& doc,
                                 const ParseLimits& limits = {}) noexcept;

enum class EncodeError : std::uint8_t {
  BadTransactionId,  // not 1..kMaxTransactionIdSize bytes
  BadVersion,        // longer than kMaxVersionSize
  BadToken,          // announce_peer: not 1..kMaxTokenSize bytes; response: over kMaxTokenSize
  BadPort,           // announce_peer port 0 without implied_port
  BadValues,         // a `values` endpoint with port 0
  BadInterval,       // outside 0..kMaxSampleInterval
  BadNum,            // negative
  BadBloomFilter,    // BFsd/BFpe not exactly 256 bytes
  Internal,          // the Writer refused (a bug in this file)
};
std::string_view to_string(EncodeError e) noexcept;

// Append the bencoding of a message to `out` (nothing appended on error).
Result<void, EncodeError> encode(const Query& q, std::string& out);
Result<void, EncodeError> encode(const Response& r, std::string& out);
Result<void, EncodeError> encode(const ErrorMessage& e, std::string& out);
Result<void, EncodeError> encode(const Message& m, std::string& out);

}  // namespace bitscrape::krpc
