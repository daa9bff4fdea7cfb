// ClientVersions: how many distinct DHT nodes report each client version (the KRPC `v` key),
// in bounded memory, for the live "client versions" table of the web UI.
//
// The node reports a version for every query and matched response that carries `v`, so one
// node is reported many times; each node is counted once, under the version it reported last
// (a node that changes version moves its count).
//
// Bounds (both hold whatever the network sends):
//  - Nodes: up to `max_nodes` (default kDefaultMaxNodes = 1,000,000) node-id fingerprints are
//    remembered, each in one 64-bit slot of an open-addressing table that starts small and
//    doubles at half load: 8 bytes a slot, so at most 16 MiB at the default cap. Beyond the
//    cap, nodes not yet counted are no longer counted (saturated() is true, turned_away() counts
//    their reports); counted nodes can still move to another version. The fingerprint is 48 bits
//    of a hash of the whole node id keyed by `seed` (so ids chosen by a stranger cannot be made
//    to collide or cluster without knowing the seed); two nodes whose fingerprints collide
//    count as one (expected colliding pairs ~ n²/2^49: ~0.002 at 1M nodes).
//  - Versions: up to `max_versions` (default kDefaultMaxVersions = 1,000) distinct raw `v`
//    strings are kept; nodes reporting any further new string are counted under kOther.
//
// Threading: single-threaded (the event loop owns it; copy top() out for other threads).
#pragma once

#include "common/telemetry.hpp"
#include "common/id160.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bitscrape::crawler {

// A readable label for a raw KRPC `v` (a string of 0..32 arbitrary bytes from a stranger).
// Conventions (libtorrent's "Mainline DHT extensions", client identification: "two characters
// describing the client and two characters interpreted as a binary number describing the client
// version"; BEP 20 for the two-character client codes):
//  - libtorrent: 'L', 'T', then since 1.2 the major version and (minor << 4) | tiny as raw bytes,
//    up to 1.1 the major and minor versions: "LT\x02\x08" -> "LT 2.0.8", "LT\x01\x21" ->
//    "LT 1.2.1", "LT\x01\x01" -> "LT 1.1". Read as 1.2+ when major >= 2 or (major == 1 and the
//    last byte >= 0x20, i.e. minor >= 2); otherwise as the old form.
//  - any other 4 bytes starting with two ASCII letters or digits: the code, a space and the last
//    two bytes as one big-endian 16-bit number: "UT\x01\x02" -> "UT 258".
//  - the empty string -> "(empty)".
//  - anything else -> "hex:" and the bytes in lowercase hex: "\x01ab" -> "hex:016162".
// The label only ever holds printable ASCII (no control characters, no quotes or markup except
// what a client code can hold: letters and digits), at most 4 + 2 * 32 characters long, and two
// different raw strings never get the same label.
std::string format_client_version(std::string_view raw);

struct VersionCount {
  std::string version;  // format_client_version() of the raw `v`, or ClientVersions::kOther
  std::uint64_t nodes = 0;
};

class ClientVersions {
 public:
  static constexpr std::size_t kDefaultMaxNodes = 1'000'000;
  static constexpr std::size_t kDefaultMaxVersions = 1'000;
  static constexpr std::size_t kMaxVersionsLimit = 65'000;  // max_versions is clamped to this
  static constexpr std::string_view kOther = "other";       // the label of the overflow bucket

  explicit ClientVersions(std::size_t max_nodes = kDefaultMaxNodes,
                          std::size_t max_versions = kDefaultMaxVersions, std::uint64_t seed = 0);

  // Node `id` reported `raw_version` (its KRPC `v`, as received).
  void seen(const NodeId& id, std::string_view raw_version);

  // The versions with at least one node, most nodes first (ties by label), at most `max`.
  std::vector<VersionCount> top(std::size_t max) const;

  std::size_t nodes() const noexcept { return size_; }                  // distinct nodes counted
  std::size_t versions() const noexcept { return labels_.size() - 1; }  // distinct raw `v` kept
  bool saturated() const noexcept { return saturated_; }  // a new node was not counted (node cap)
  std::uint64_t turned_away() const noexcept { return turned_away_; }  // reports not counted
  std::size_t memory_bytes() const noexcept { return slots_.size() * sizeof(std::uint64_t); }

  // Telemetry (common/telemetry.hpp): gauge_nodes, gauge_versions, turned_away.
  template <class F>
  void for_each(F&& f) const {
    f(std::string_view("gauge_nodes"), std::uint64_t{nodes()}, telemetry::MetricKind::gauge);
    f(std::string_view("gauge_versions"), std::uint64_t{versions()}, telemetry::MetricKind::gauge);
    f(std::string_view("turned_away"), turned_away(), telemetry::MetricKind::counter);
  }

 private:
  std::uint64_t fingerprint(const NodeId& id) const noexcept;  // high 48 bits, never 0
  std::size_t find(std::uint64_t fp) const noexcept;           // slot holding fp, or the empty one
  void grow();
  std::uint16_t intern(std::string_view raw);  // 0 (kOther) once max_versions are kept

  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };

  std::vector<std::uint64_t> slots_;  // 0 = empty; else fingerprint (high 48 bits) | version index
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  std::size_t max_nodes_;
  std::size_t max_versions_;
  std::uint64_t seed_;
  bool saturated_ = false;
  std::uint64_t turned_away_ = 0;
  std::unordered_map<std::string, std::uint16_t, Hash, std::equal_to<>> index_;  // raw `v` -> index
  std::vector<std::string> labels_;                                              // by index; [0] = kOther
  std::vector<std::uint64_t> counts_;                                            // nodes by index
};

}  // namespace bitscrape::crawler
