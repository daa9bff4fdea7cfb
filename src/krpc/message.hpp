// KRPC messages of the BitTorrent Mainline DHT as typed, zero-copy values.
//
// Covered: BEP-5 (ping, find_node, get_peers, announce_peer incl. implied_port, errors
// 201-204), BEP-32 (nodes6, want), BEP-33 (scrape/noseed, seed, BFsd/BFpe), BEP-42 (top-level
// `ip` in responses), BEP-43 (top-level `ro` in queries), BEP-51 (sample_infohashes) and the
// client version `v`. Parsing and encoding live in krpc/codec.hpp.
//
// Every string_view, NodeList, SampleList and PeerValues in a parsed message points into the
// datagram (and, for PeerValues, into the bencode::Document it was decoded with): a message is
// valid while both are alive and unchanged. Nothing here allocates.
//
// Responses are not self-describing on the wire (no method name), so there is one Response
// type with optional fields; the DHT node interprets it through its pending transaction.
//
// Deviations from / interpretations of the BEPs are listed in docs/krpc.md; the ones visible
// in these types:
//  - `t` must be 1..16 bytes (kMaxTransactionIdSize); BEP-5 sets no bound, clients use 2-4.
//  - `want` is reduced to two flags; unknown entries (neither "n4" nor "n6") are ignored.
//  - `values` entries that are not 6/18-byte strings or carry port 0 are skipped (and counted
//    in Diagnostics) instead of failing the message.
//  - `v` is informational: a non-string or over-long `v` is ignored, not an error.
//
// Threading: plain values; not synchronised.
#pragma once

#include "bencode/decoder.hpp"
#include "common/endpoint.hpp"
#include "common/id160.hpp"
#include "krpc/compact.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>

namespace bitscrape::krpc {

// ---- Limits -------------------------------------------------------------------------------

// Largest datagram parse() accepts by default: the UDP length field's maximum. Real KRPC
// messages are far smaller; the bencode token limit bounds the work before this does.
inline constexpr std::size_t kMaxDatagramSize = 65535;
// Payload that fits one unfragmented packet: Ethernet MTU 1500 - IPv4 20 - UDP 8. A node
// should size replies (how many `values`, samples) to stay under this.
inline constexpr std::size_t kTypicalMtuPayload = 1472;
// The IPv6 minimum MTU 1280 - IPv6 40 - UDP 8: always deliverable over IPv6.
inline constexpr std::size_t kMinIpv6MtuPayload = 1232;
// Transaction ids: BEP-5 says "a short string"; clients use 2-4 bytes. Longer ones are refused
// so a reply can never be made to echo a large attacker-chosen blob.
inline constexpr std::size_t kMinTransactionIdSize = 1;
inline constexpr std::size_t kMaxTransactionIdSize = 16;
// Write tokens: libtorrent uses 4 bytes, others up to 20. Anything above this is refused.
inline constexpr std::size_t kMaxTokenSize = 64;
// Client version `v`: 4 bytes by convention (2 letters + 2 version bytes).
inline constexpr std::size_t kMaxVersionSize = 32;
// BEP-51: the refresh interval is 0..6 hours.
inline constexpr std::int64_t kMaxSampleInterval = 21600;
// bencode limits for one KRPC message. The deepest message we interpret nests 3 containers
// (message dict > `r` > `values` list); 8 leaves room for unknown extension keys. 1024 tokens
// allow ~1000 `values` entries (libtorrent replies with at most 100; its own cap is 500 tokens).
inline constexpr std::uint32_t kMaxDepth = 8;
inline constexpr std::uint32_t kMaxTokens = 1024;

// ---- Kinds and codes --------------------------------------------------------------------------

enum class Method : std::uint8_t { Ping, FindNode, GetPeers, AnnouncePeer, SampleInfohashes };
inline constexpr std::size_t kMethodCount = 5;

// What a datagram was, for counters (one slot per kind; see kMessageKindCount).
enum class MessageKind : std::uint8_t {
  Ping,
  FindNode,
  GetPeers,
  AnnouncePeer,
  SampleInfohashes,
  Response,
  Error,
  Unknown,  // a query with an unknown method, or a datagram whose kind could not be told
};
inline constexpr std::size_t kMessageKindCount = 8;

// KRPC error codes (BEP-5).
enum class ErrorCode : std::int64_t {
  Generic = 201,
  Server = 202,
  Protocol = 203,  // malformed packet, invalid arguments, bad token
  MethodUnknown = 204,
};

// Wire name of a method ("ping", "find_node", ...).
std::string_view method_name(Method m) noexcept;
std::optional<Method> method_from_name(std::string_view name) noexcept;
MessageKind kind_of(Method m) noexcept;
// "ping", ..., "response", "error", "unknown" (stable; usable as a metric label).
std::string_view to_string(MessageKind k) noexcept;

// ---- Queries --------------------------------------------------------------------------------

// BEP-32 `want`: which address families the querier wants nodes for.
struct Want {
  bool n4 = false;
  bool n6 = false;
  bool operator==(const Want&) const = default;
};

struct PingArgs {
  bool operator==(const PingArgs&) const = default;
};
struct FindNodeArgs {
  NodeId target;
  Want want;
  bool operator==(const FindNodeArgs&) const = default;
};
struct GetPeersArgs {
  InfoHash info_hash;
  Want want;
  bool scrape = false;  // BEP-33: include BFsd/BFpe in the reply
  bool noseed = false;  // BEP-33: leave seeds out of `values`
  bool operator==(const GetPeersArgs&) const = default;
};
struct AnnouncePeerArgs {
  InfoHash info_hash;
  std::uint16_t port = 0;     // 1..65535 unless implied_port (then it may be 0 or absent)
  bool implied_port = false;  // use the datagram's source port instead of `port`
  bool seed = false;          // BEP-33: the announcer is a seed
  std::string_view token;     // 1..kMaxTokenSize bytes
  bool operator==(const AnnouncePeerArgs&) const = default;
};
struct SampleInfohashesArgs {  // BEP-51
  NodeId target;
  Want want;
  bool operator==(const SampleInfohashesArgs&) const = default;
};

// Alternative index == static_cast<size_t>(Method).
using QueryArgs = std::variant<PingArgs, FindNodeArgs, GetPeersArgs, AnnouncePeerArgs, SampleInfohashesArgs>;

struct Query {
  std::string_view tid;      // `t`
  NodeId id;                 // `a.id`, the querier's node id
  QueryArgs args;            // the method and its arguments
  bool read_only = false;    // BEP-43 top-level `ro` (non-zero): never add this node to a table
  std::string_view version;  // `v`; empty when absent

  Method method() const noexcept { return static_cast<Method>(args.index()); }
  bool operator==(const Query&) const = default;
};

// ---- Responses ------------------------------------------------------------------------------

// get_peers `values`: a list of compact peers. Either a view over the received bencode list
// (entries that are not 6/18-byte strings, or have port 0, are skipped by iteration and counted
// by skipped()) or, for building a reply, a span of endpoints. Iteration yields Endpoint and
// never allocates. Two PeerValues compare equal when they yield the same endpoints.
class PeerValues {
 public:
  PeerValues() = default;
  // `list` must be a bencode list (parse() guarantees it).
  static PeerValues from_list(bencode::Value list) noexcept;
  // For encoding: every endpoint must have a non-zero port.
  static PeerValues from_endpoints(std::span<const Endpoint> endpoints) noexcept;

  std::size_t size() const noexcept { return count_; }  // entries iteration yields
  bool empty() const noexcept { return count_ == 0; }
  std::size_t skipped() const noexcept { return skipped_; }  // malformed list entries

  class iterator {
   public:
    using value_type = Endpoint;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::forward_iterator_tag;
    iterator() = default;
    Endpoint operator*() const noexcept;
    iterator& operator++() noexcept;
    iterator operator++(int) noexcept {
      auto t = *this;
      ++*this;
      return t;
    }
    bool operator==(const iterator& o) const noexcept { return it_ == o.it_ && i_ == o.i_; }

   private:
    friend class PeerValues;
    void skip_invalid() noexcept;
    const PeerValues* pv_ = nullptr;
    bencode::Value::ListIterator it_, end_;  // list mode
    std::size_t i_ = 0;                      // span mode
  };
  iterator begin() const noexcept;
  iterator end() const noexcept;

  friend bool operator==(const PeerValues& a, const PeerValues& b) noexcept;

  // True for a `values` list entry iteration yields: a 6/18-byte string with a non-zero port.
  static bool valid_entry(bencode::Value entry) noexcept;

 private:
  bencode::Value list_;
  std::span<const Endpoint> endpoints_;
  std::uint32_t count_ = 0;
  std::uint32_t skipped_ = 0;
  bool is_list_ = false;
};

struct Response {
  std::string_view tid;                      // `t`
  NodeId id;                                 // `r.id`, the responder's node id (required)
  std::optional<Endpoint> ip;                // BEP-42 top-level `ip`: our address as the responder saw it
  std::string_view version;                  // `v`; empty when absent
  std::optional<NodeList> nodes;             // `nodes`, IPv4, 26-byte entries
  std::optional<NodeList> nodes6;            // BEP-32 `nodes6`, IPv6, 38-byte entries
  std::optional<PeerValues> values;          // get_peers `values`
  std::optional<std::string_view> token;     // get_peers write token (0..kMaxTokenSize bytes)
  std::optional<SampleList> samples;         // BEP-51 `samples`
  std::optional<std::int64_t> interval;      // BEP-51, seconds, 0..kMaxSampleInterval
  std::optional<std::int64_t> num;           // BEP-51, infohashes the responder stores, >= 0
  std::optional<std::string_view> bf_seeds;  // BEP-33 `BFsd`, exactly 256 bytes
  std::optional<std::string_view> bf_peers;  // BEP-33 `BFpe`, exactly 256 bytes

  bool operator==(const Response&) const = default;
};

// ---- Errors ---------------------------------------------------------------------------------

struct ErrorMessage {
  std::string_view tid;      // `t`
  std::int64_t code = 0;     // e[0]; see ErrorCode (peers may send any integer)
  std::string_view message;  // e[1]; raw bytes, not checked for UTF-8 (repair before display)
  std::string_view version;  // `v`; empty when absent

  bool operator==(const ErrorMessage&) const = default;
};

using Message = std::variant<Query, Response, ErrorMessage>;

MessageKind kind_of(const Message& m) noexcept;

}  // namespace bitscrape::krpc
