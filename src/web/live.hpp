// LiveSource: what a running crawl shows the web UI beyond the database, and the controls the
// UI offers it.
//
// The database (storage::Store) holds what was found; a LiveSource tells what is happening
// now: counters and rates (one telemetry::Snapshot, common/telemetry.hpp), the routing table, how well the keyspace is being sampled, which
// client versions answer, the last discoveries — and takes the UI's controls (pause/resume
// sampling and fetching, the packet budget). The crawler (app/) implements it; web::Server
// only calls it. `bitscrape serve` browses a database without crawling and passes none: the
// API then reports `"live": null` and refuses controls with 409.
//
// Threading contract, binding on every implementation:
//   - Every method may be called from any HTTP worker thread, concurrently with the others and
//     with the crawl itself. Implementations must be thread-safe: the crawler either marshals
//     the call to its event loop (post, then wait with a bound) or answers from a snapshot it
//     publishes under a mutex (e.g. once a second).
//   - A call must return promptly (aim for < 100 ms) and never block indefinitely: the server
//     has a fixed number of worker threads (ServerOptions::threads) and the event stream calls
//     snapshot() once a second per connected browser.
//   - Controls take effect asynchronously; a later snapshot() reflects them. They return an
//     error (shown to the user) when the crawler refuses, e.g. it is shutting down.
//
// Strings in here (client versions, torrent names) come from the network. The server passes
// them through JSON encoding (invalid UTF-8 replaced) and the UI renders them as text only.
// Counter names are the crawler's own identifiers: [a-z0-9_], at most 64 bytes.
#pragma once

#include "common/id160.hpp"
#include "common/telemetry.hpp"
#include "common/result.hpp"
#include "storage/records.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bitscrape::web {

// One k-bucket of a routing table.
struct BucketFill {
  std::uint32_t prefix_bits = 0;  // bits this bucket's range shares with our node id
  std::uint32_t nodes = 0;
  std::uint32_t capacity = 8;      // K
  std::uint32_t replacements = 0;  // replacement-cache entries
};

struct RoutingTableFill {
  std::string family;               // "ipv4" or "ipv6" (BEP-32 keeps separate tables)
  std::vector<BucketFill> buckets;  // in prefix order, farthest bucket first
};

// How much of the keyspace sampling has covered, per key prefix of `prefix_bits` bits.
struct KeyspaceCell {
  std::uint64_t nodes_queried = 0;  // sample_infohashes queries answered by nodes in this prefix
  std::uint64_t samples = 0;        // infohashes received whose key falls in this prefix
};
struct KeyspaceCoverage {
  std::uint32_t prefix_bits = 8;    // 4 or 8
  std::vector<KeyspaceCell> cells;  // 2^prefix_bits cells; cells[p]: keys whose top bits are p
};

// Nodes by the client version they report (KRPC `v`), formatted by the crawler: "LT 2.0.8",
// "UT 3.5", or the raw bytes in hex when unknown.
struct ClientCount {
  std::string version;
  std::uint64_t nodes = 0;
};

enum class DiscoveryKind : std::uint8_t {
  Infohash,  // a new infohash was seen (no metadata yet)
  Metadata,  // its metadata was fetched and verified
};

struct Discovery {
  storage::UnixTime at{};
  InfoHash infohash;
  DiscoveryKind kind = DiscoveryKind::Infohash;
  std::string name;              // Metadata only
  std::int64_t total_size = 0;   // Metadata only
  std::uint32_t file_count = 0;  // Metadata only
};

// Success, or why a control was refused (a sentence for the user).
using ControlResult = Result<void, std::string>;

// The most discoveries the server ever asks recent_discoveries() for (the dashboard's feed); a
// source need keep no more.
inline constexpr std::size_t kMaxRecentDiscoveries = 20;

// The server checks the budget against these before calling set_packet_budget().
inline constexpr double kMinPacketBudget = 1;
inline constexpr double kMaxPacketBudget = 1'000'000;

class LiveSource {
 public:
  virtual ~LiveSource() = default;

  virtual telemetry::Snapshot snapshot() = 0;
  virtual std::vector<RoutingTableFill> routing_table() = 0;
  virtual KeyspaceCoverage keyspace_coverage() = 0;
  // Most common first; at most a few hundred entries.
  virtual std::vector<ClientCount> client_versions() = 0;
  // The last discoveries, newest first, at most `max`.
  virtual std::vector<Discovery> recent_discoveries(std::size_t max) = 0;

  virtual ControlResult set_sampling_paused(bool paused) = 0;
  virtual ControlResult set_fetching_paused(bool paused) = 0;
  // Outgoing packets per second, all kinds together; kMinPacketBudget ..= kMaxPacketBudget.
  virtual ControlResult set_packet_budget(double packets_per_s) = 0;
};

}  // namespace bitscrape::web
