// Store: the persistence interface the crawler writes to and the CLI and web UI read from.
//
// Backends: SQLite (sqlite_store.hpp, the embedded default), in-memory (memory_store.hpp, for
// tests) and PostgreSQL (pg_store.hpp, a shared server); all satisfy the same contract, and tests/storage runs one typed
// suite against every backend.
//
// Writes come in batches: write(batch) applies a whole WriteBatch in ONE transaction (all or
// nothing) — this is the unit of group commit the StoreWriter builds. Invalid records (over
// the limits below, a torrent without any infohash) are skipped and counted in
// WriteReport::rejected instead of failing the batch.
//
// Many crawlers, one database: each crawl registers an instance and sends heartbeats; an
// instance is live while it has not stopped and its last heartbeat is recent. Infohash work is
// claimed with leases (claim(), claim_pending()): a key leased to a live instance, or with a
// torrent stored under it, is never granted to another, so no two crawlers fetch the same
// infohash. A lease lasts until its expiry, or until its holder stops or misses its
// heartbeats (killed): then its keys go back to the pool. Only the PostgreSQL store is shared
// by several crawlers; SQLite (one crawler per file, a file lock) and memory keep an instances
// table with the same API and grant every claim the database does not show fetched.
//
// Threading: every method is safe to call from any thread; calls on one Store object are
// serialised by an internal mutex. For parallelism open one Store per thread (SQLite: one
// connection each; WAL lets readers proceed while a writer commits). Visitor callbacks of the
// for_each_* methods run on the caller's thread without the store's lock held, so they may
// call back into the store.
#pragma once

#include "storage/error.hpp"
#include "storage/records.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bitscrape::storage {

// Limits and policy shared by every backend.
struct StoreOptions {
  // Keep the (zstd-compressed) raw info dict of every torrent. It usually dominates the
  // database size (piece hashes do not compress) but .torrent download needs it.
  bool keep_info_dicts = true;
  std::size_t max_peers_per_infohash = 50;   // most recent kept
  std::size_t max_files_per_torrent = 100'000;  // longer file lists are truncated (file_count kept)
  std::size_t max_name_bytes = 4096;         // longer names: the torrent is rejected
  std::size_t max_path_bytes = 4096;         // a longer file path: the torrent is rejected
  std::size_t max_info_dict_bytes = 10u << 20;  // larger info dicts: the torrent is rejected
  std::size_t max_counter_names = 1024;      // distinct counter names; more are rejected
};

// A torrent's encoded forms (codec.hpp, search_text.hpp): what a backend would otherwise
// compute inside write(), with its lock held. See Store::prepare().
struct EncodedTorrent {
  std::string file_list;   // encode_file_list() blob; empty: no row (no files, or one implied file)
  std::string info_dict;   // one zstd frame; empty: not kept
  std::string path_terms;  // distinct_path_terms(), for the full-text index
};

struct WriteBatch {
  std::vector<NodeRecord> nodes;
  std::vector<InfohashSighting> sightings;
  std::vector<FetchOutcome> fetch_outcomes;
  std::vector<TorrentRecord> torrents;
  std::vector<PeerRecord> peers;
  std::vector<CounterSample> counters;
  // Filled by Store::prepare(): one entry per torrent, in order. Valid only for the torrents it
  // was computed from and for the store that computed it; write() ignores it unless it has
  // exactly one entry per torrent.
  std::vector<EncodedTorrent> encoded;

  // Records in the batch (a counter sample counts once).
  std::size_t size() const noexcept {
    return nodes.size() + sightings.size() + fetch_outcomes.size() + torrents.size() + peers.size() +
           counters.size();
  }
  bool empty() const noexcept { return size() == 0; }
  void clear() noexcept {
    nodes.clear();
    sightings.clear();
    fetch_outcomes.clear();
    torrents.clear();
    peers.clear();
    counters.clear();
    encoded.clear();
  }
};

// What write() did. Records are applied in the order: nodes, sightings, fetch outcomes,
// torrents, peers, counters.
struct WriteReport {
  std::size_t torrents_added = 0;      // new torrent records
  std::size_t torrents_duplicate = 0;  // already stored under one of their keys (keys merged)
  std::size_t rejected = 0;            // invalid records skipped
  std::size_t peers_evicted = 0;       // dropped by the per-infohash bound

  bool operator==(const WriteReport&) const = default;
};

struct PendingQuery {
  std::size_t limit = 100;  // ≤ kMaxPendingLimit
  // Only keys never attempted or last attempted at or before this time (retry back-off).
  std::optional<UnixTime> attempted_before;
};
inline constexpr std::size_t kMaxPendingLimit = 100'000;
inline constexpr std::size_t kMaxNodesLimit = 100'000;
inline constexpr std::size_t kMaxIsFetchedBatch = 10'000;

enum class SortKey : std::uint8_t {
  Relevance,   // best match first (see search_relevance()); without text: newest first
  Size,        // total_size
  Discovered,  // discovered_at
  Name,        // name, byte order
};

// Search cost is bounded whatever the size of the database. Two limits make that true:
//   - the count stops at count_limit: the total is exact below it, a lower bound above it;
//   - an order that no index provides — every order of a text query, and Name without text —
//     is computed over a window: the `window` newest torrents (highest ids) that match the
//     text and pass the filters. A broad query ("the", 30% of all torrents) thus shows the
//     best of its newest 5,000 matches; SearchPage::window_limited says so, and the UI asks
//     for a narrower query. Without text, Size and Discovered walk an index: exact, no window.
// Pages reach at most `window` results where the window applies.
struct SearchQuery {
  // User text, any bytes: sanitised (see search_text.hpp), never an error. Empty (or nothing
  // searchable in it) lists every torrent that passes the filters.
  std::string text;
  std::optional<std::int64_t> min_size, max_size;      // inclusive, bytes
  std::optional<std::uint32_t> min_files, max_files;   // inclusive
  std::optional<UnixTime> discovered_from, discovered_to;  // inclusive
  SortKey sort = SortKey::Relevance;
  bool descending = true;  // ignored for Relevance; ties are broken by id in the same direction
  std::size_t limit = 50;   // ≤ kMaxSearchLimit
  std::size_t offset = 0;   // ≤ kMaxSearchOffset
  // Equal by default: then one pass over at most window+1 matches gives order and count.
  std::size_t count_limit = 5'000;  // ≤ kMaxSearchCount
  std::size_t window = 5'000;       // 1 ..= kMaxSearchWindow
};
inline constexpr std::size_t kMaxSearchLimit = 1'000;
inline constexpr std::size_t kMaxSearchOffset = 100'000;
inline constexpr std::size_t kMaxSearchCount = 1'000'000;
inline constexpr std::size_t kMaxSearchWindow = 100'000;

// The relevance of a torrent to a query, higher first (ties: newer first):
//   hits / (20 + bytes of the name), where hits counts every query token occurrence, 10 for
//   one in the name and 1 for one among the file path terms (each distinct path term counts
//   once, see distinct_path_terms()). So a name match beats a path-only match and a short
//   name ("Ubuntu") beats a long one ("Ubuntu ... collection"). Unlike FTS5's bm25 it needs
//   no pass over every match to weigh terms by rarity — which for an AND of all query tokens
//   changes little: every result contains every token.
inline double search_relevance(double hits, std::size_t name_bytes) noexcept {
  return hits / (20.0 + static_cast<double>(name_bytes));
}

struct TorrentSummary {
  std::int64_t id = 0;
  std::optional<InfoHash> infohash_v1;
  std::optional<Sha256Digest> infohash_v2;
  std::string name;
  std::int64_t total_size = 0;
  std::uint32_t file_count = 0;
  bool is_private = false;
  UnixTime discovered_at{};
  UnixTime fetched_at{};

  bool operator==(const TorrentSummary&) const = default;
};

struct SearchPage {
  std::vector<TorrentSummary> items;
  std::uint64_t total = 0;      // matches, up to count_limit
  bool total_exact = true;      // false when there are more than count_limit matches
  bool window_limited = false;  // the order covered only the newest `window` matches
};

struct ExportOptions {
  bool with_files = true;
  bool with_info_dict = false;  // decompressed into TorrentRecord::info_dict
};
// Return false to stop the iteration.
using TorrentVisitor = std::function<bool(const TorrentRecord&)>;
using InfohashVisitor = std::function<bool(const InfohashRecord&)>;
using NodeVisitor = std::function<bool(const NodeRecord&)>;
// One instant's samples, values sorted by counter name.
using CounterVisitor = std::function<bool(const CounterSample&)>;

struct StoreStats {
  std::uint64_t nodes = 0;
  std::uint64_t infohashes = 0;
  std::uint64_t torrents = 0;
  std::uint64_t files = 0;  // sum of file_count
  std::uint64_t peers = 0;
  std::uint64_t pending = 0;
  std::uint64_t failed = 0;

  bool operator==(const StoreStats&) const = default;
};

enum class Aggregate : std::uint8_t {
  Last,  // the latest sample in each bucket (cumulative counters)
  Mean,  // the average (gauges)
  Max,
};

// Samples of one counter in [from, to], in `points` equal buckets of
// width = ceil((to - from + 1) / points) seconds; bucket i covers
// [from + i*width, from + (i+1)*width). Empty buckets are omitted.
struct SeriesQuery {
  std::string name;
  UnixTime from{};
  UnixTime to{};
  std::size_t points = 300;  // 1 ..= kMaxSeriesPoints
  Aggregate aggregate = Aggregate::Last;
};
inline constexpr std::size_t kMaxSeriesPoints = 10'000;

struct SeriesPoint {
  UnixTime at{};  // start of the bucket
  double value = 0;

  bool operator==(const SeriesPoint&) const = default;
};

// Bounds enforced by prune(); zero means "no bound" for that table.
struct PruneLimits {
  std::size_t max_nodes = 0;                  // keep the most recently seen
  std::size_t max_infohashes_without_metadata = 0;  // keep the most recently seen (Pending/Failed)
  std::optional<UnixTime> counters_before;    // delete counter samples older than this
};
struct PruneReport {
  std::uint64_t nodes = 0;
  std::uint64_t infohashes = 0;  // their peers go with them
  std::uint64_t counter_samples = 0;

  bool operator==(const PruneReport&) const = default;
};

// A crawl, as it describes itself when it starts.
struct InstanceInfo {
  NodeId node_id;      // its DHT node id
  std::string listen;  // its UDP endpoints, ", " between them
  std::string host;    // the machine's name, for people
  UnixTime started{};

  bool operator==(const InstanceInfo&) const = default;
};

// What a crawl reports every few seconds: what it stored so far and its live rates.
struct Heartbeat {
  UnixTime at{};
  std::uint64_t infohashes = 0;  // new infohashes this instance stored
  std::uint64_t torrents = 0;    // torrents this instance stored
  double infohashes_per_s = 0;
  double torrents_per_s = 0;
  double packets_per_s = 0;  // DHT packets in + out
  bool stopped = false;      // a clean stop: its leases and keyspace share go back at once

  bool operator==(const Heartbeat&) const = default;
};

struct InstanceRecord {
  std::int64_t id = 0;  // assigned by register_instance()
  InstanceInfo info;
  // The latest heartbeat (at = started before the first); with last.stopped, at is when it
  // stopped cleanly.
  Heartbeat last;

  bool operator==(const InstanceRecord&) const = default;
};

struct InstanceQuery {
  std::size_t limit = 100;  // the newest (highest ids); ≤ kMaxInstancesLimit
  // Only live instances: not stopped, last heartbeat at or after this time.
  std::optional<UnixTime> alive_since;
};
inline constexpr std::size_t kMaxInstancesLimit = 1'000;
// An instance is live while not stopped and its last heartbeat is at most this old: crawlers
// beat every few seconds, so this is several missed beats (a slow database, a stalled host),
// and the time a killed crawler's leases and keyspace share wait before others take them.
inline constexpr std::chrono::seconds kInstanceAliveWindow{30};
// Instances whose last heartbeat is older than this are forgotten (register_instance()).
inline constexpr std::chrono::seconds kForgetInstancesAfter{7 * 24 * 3600};

// A claim on infohash work, made by one instance.
struct Lease {
  std::int64_t instance = 0;
  UnixTime now{};
  UnixTime until{};        // the lease expires then (claiming again renews it)
  UnixTime alive_since{};  // a holder without a heartbeat since then (or stopped) holds nothing

  bool operator==(const Lease&) const = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // --- writes ---
  // Applies the batch in one transaction (see the file comment).
  virtual StoreResult<WriteReport> write(const WriteBatch& batch) = 0;
  // Does the work of a write that needs no database — encoding and compressing torrents into
  // batch.encoded — so that a writer can do it on another thread, before write() and without
  // the store's lock (StoreWriter does, while the previous batch commits). Optional: write()
  // encodes an unprepared batch itself. Safe from any thread, concurrently with every other
  // method. The default does nothing.
  virtual void prepare(WriteBatch& batch) const { (void)batch; }
  // Deletes what exceeds `limits`, oldest first, in one transaction.
  virtual StoreResult<PruneReport> prune(const PruneLimits& limits) = 0;

  // --- reads ---
  // Good nodes, most recently seen first (ties: endpoint bytes), for bootstrapping.
  virtual StoreResult<std::vector<NodeRecord>> good_nodes(std::size_t limit) = 0;
  // Pending keys, highest priority first, then fewest attempts, then most recently seen
  // (ties: key bytes). Never Fetched or Failed keys.
  virtual StoreResult<std::vector<InfohashRecord>> pending_fetch(const PendingQuery& query) = 0;
  // For each key (≤ kMaxIsFetchedBatch): is a torrent stored under it (v1 or truncated v2)?
  virtual StoreResult<std::vector<bool>> is_fetched(std::span<const InfoHash> keys) = 0;
  virtual StoreResult<std::optional<InfohashRecord>> infohash(const InfoHash& key) = 0;
  // The torrent stored under `key` (v1 or truncated v2), with files, without the info dict.
  virtual StoreResult<std::optional<TorrentRecord>> torrent(const InfoHash& key) = 0;
  // The exact info dict bytes (decompressed); nullopt when no torrent or none kept.
  virtual StoreResult<std::optional<std::string>> raw_info_dict(const InfoHash& key) = 0;
  // Peers of `key`, most recent first.
  virtual StoreResult<std::vector<PeerRecord>> peers(const InfoHash& key, std::size_t limit) = 0;
  virtual StoreResult<SearchPage> search(const SearchQuery& query) = 0;
  // Every torrent in id order, streamed in chunks (never all in memory). Returns how many
  // were visited.
  virtual StoreResult<std::uint64_t> for_each_torrent(const ExportOptions& options,
                                                      const TorrentVisitor& visit) = 0;
  // Every key without metadata (Pending or Failed), in key order, streamed.
  virtual StoreResult<std::uint64_t> for_each_without_metadata(const InfohashVisitor& visit) = 0;
  // Every node, good or not, in endpoint order (ip bytes, port), streamed. For copying a
  // whole database (`bitscrape migrate`); good_nodes() is the bootstrap read.
  virtual StoreResult<std::uint64_t> for_each_node(const NodeVisitor& visit) = 0;
  // Every counter sample, one CounterSample per instant in time order, streamed. Returns how
  // many instants were visited.
  virtual StoreResult<std::uint64_t> for_each_counter_sample(const CounterVisitor& visit) = 0;
  virtual StoreResult<StoreStats> stats() = 0;
  virtual StoreResult<std::vector<SeriesPoint>> counter_series(const SeriesQuery& query) = 0;
  // Every counter name ever written, sorted.
  virtual StoreResult<std::vector<std::string>> counter_names() = 0;

  // --- many crawlers, one database (see the file comment) ---
  // Registers a starting crawl; returns its id (ids grow). Forgets instances without a
  // heartbeat for kForgetInstancesAfter, so the table stays small.
  virtual StoreResult<std::int64_t> register_instance(const InstanceInfo& info) = 0;
  // Records a heartbeat of instance `id` (InvalidArgument when no such instance).
  virtual Status heartbeat(std::int64_t id, const Heartbeat& hb) = 0;
  // Instances in id order (the newest `limit` of them).
  virtual StoreResult<std::vector<InstanceRecord>> instances(const InstanceQuery& query) = 0;
  // For each key (≤ kMaxIsFetchedBatch): may lease.instance fetch it? True: leased to it now —
  // no torrent is stored under the key and no other live instance holds an unexpired lease.
  // The default (a database only one crawler writes): !is_fetched().
  virtual StoreResult<std::vector<bool>> claim(std::span<const InfoHash> keys, const Lease& lease);
  // pending_fetch(), leased: the keys returned are leased to lease.instance and none is held
  // by another live instance. The default (one crawler): pending_fetch().
  virtual StoreResult<std::vector<InfohashRecord>> claim_pending(const PendingQuery& query, const Lease& lease);

  // --- convenience: one-kind batches ---
  StoreResult<WriteReport> upsert_nodes(std::vector<NodeRecord> nodes);
  StoreResult<WriteReport> record_sightings(std::vector<InfohashSighting> sightings);
  StoreResult<WriteReport> record_fetch_outcomes(std::vector<FetchOutcome> outcomes);
  StoreResult<WriteReport> store_torrents(std::vector<TorrentRecord> torrents);
  StoreResult<WriteReport> record_peers(std::vector<PeerRecord> peers);
  StoreResult<WriteReport> record_counters(std::vector<CounterSample> samples);
};

}  // namespace bitscrape::storage
