// Rules every Store backend applies the same way, so that the typed test suite can hold all
// backends to one behaviour: record validation, query limits, series bucketing, merge rules.
// Internal to storage/ (backends include it; callers need not).
//
// Threading: pure functions.
#pragma once

#include "storage/codec.hpp"
#include "storage/migration.hpp"
#include "storage/store.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bitscrape::storage::detail {

inline constexpr std::size_t kMaxCounterNameBytes = 64;
// Distinct path terms of one torrent are indexed up to this many bytes (names always).
inline constexpr std::size_t kMaxIndexedPathBytes = 4u << 10;
// for_each_* read this many rows per chunk, then release the store.
inline constexpr std::size_t kExportChunk = 256;

// Checks a torrent against the limits. nullopt: reject it; otherwise how many of its files
// to keep (the list is truncated to max_files_per_torrent; file_count stays).
std::optional<std::size_t> check_torrent(const TorrentRecord& t, const StoreOptions& options) noexcept;
bool valid_counter_name(std::string_view name) noexcept;

Status check_search(const SearchQuery& q);
Status check_series(const SeriesQuery& q);

// Bucket geometry of a SeriesQuery (see store.hpp).
struct Buckets {
  std::int64_t from = 0;
  std::int64_t width = 1;
  std::int64_t start_of(std::int64_t t) const noexcept { return from + (t - from) / width * width; }
};
Buckets buckets_of(const SeriesQuery& q) noexcept;

// The merge of a sighting into an existing record (store.hpp, InfohashSighting).
void merge_sighting(InfohashRecord& r, const InfohashSighting& s) noexcept;
// A key first met some other way (fetch outcome, torrent, peer): no sources, priority 0.
InfohashRecord new_infohash(const InfoHash& key, UnixTime at) noexcept;
// A key first met by a sighting.
InfohashRecord from_sighting(const InfohashSighting& s) noexcept;

TorrentSummary summary_of(const TorrentRecord& t);

// --- the SQL backends (SQLite, PostgreSQL) ---

// One file named like the torrent: the SQL backends store no file list for it, a flag says so.
bool implied_file(const TorrentRecord& t, std::span<const FileRecord> files) noexcept;
// What a SQL backend stores for a torrent besides its row (store.hpp, Store::prepare()); empty
// for a torrent check_torrent() rejects. Depends only on the record and the options.
EncodedTorrent encode_torrent(const TorrentRecord& t, const StoreOptions& options, ZstdCompressor& zstd);

// Store::prepare() of a SQL backend: batch.encoded, one entry per torrent.
void encode_batch(WriteBatch& batch, const StoreOptions& options, int zstd_level);
// The encoded torrents write() uses: batch.encoded when prepare() filled it, else computed into
// `own` with `zstd` (before the transaction: a StoreWriter prepares on another thread).
std::span<const EncodedTorrent> encoded_torrents(const WriteBatch& batch, const StoreOptions& options,
                                                 ZstdCompressor& zstd, std::vector<EncodedTorrent>& own);

// A migration list must be versions 1..N in order.
Status check_migration_list(std::span<const Migration> ms);
// The refusal of a database whose schema is newer than the list.
Error schema_too_new(int found, int known);

// A search result candidate of a windowed order (SearchQuery: text, or the Name sort).
struct SearchCandidate {
  std::int64_t id = 0;
  double number = 0;  // relevance, size or time
  std::string name;   // Name sort only
};
using CountMatches = std::function<StoreResult<std::uint64_t>(std::size_t cap)>;
// From the newest window+1 candidates (any order): fills page.window_limited, total and
// total_exact (counting with `count` only when the window cut and count_limit > window) and
// returns the ids of the requested page in order. `sort`/`desc` are the effective order.
StoreResult<std::vector<std::int64_t>> order_window(std::vector<SearchCandidate>& cands, const SearchQuery& q,
                                                    SortKey sort, bool desc, SearchPage& page,
                                                    const CountMatches& count);

// Streams a keyset-paged read: read(chunk) appends the next chunk under the store's lock and
// advances its cursor (an empty chunk: the end); the records are then visited without the
// lock, and visit(record) returning false stops. Returns how many were visited.
template <class Record, class Read, class Visit>
StoreResult<std::uint64_t> stream_chunks(Read&& read, const Visit& visit) {
  std::uint64_t visited = 0;
  for (;;) {
    std::vector<Record> chunk;
    if (Status st = read(chunk); !st) return Unexpected<Error>{st.error()};
    if (chunk.empty()) return visited;
    for (const auto& r : chunk) {
      ++visited;
      if (!visit(r)) return visited;
    }
  }
}

}  // namespace bitscrape::storage::detail
