#include "storage/store.hpp"

#include "storage/store_rules.hpp"

#include <algorithm>

namespace bitscrape::storage {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::InvalidArgument: return "invalid argument";
    case ErrorCode::Locked: return "locked";
    case ErrorCode::Io: return "i/o error";
    case ErrorCode::Full: return "full";
    case ErrorCode::Corrupt: return "corrupt";
    case ErrorCode::SchemaTooNew: return "schema too new";
    case ErrorCode::Migration: return "migration failed";
    case ErrorCode::ReadOnly: return "read-only";
    case ErrorCode::Internal: return "internal error";
  }
  return "unknown";
}

StoreResult<WriteReport> Store::upsert_nodes(std::vector<NodeRecord> nodes) {
  WriteBatch b;
  b.nodes = std::move(nodes);
  return write(b);
}
StoreResult<WriteReport> Store::record_sightings(std::vector<InfohashSighting> sightings) {
  WriteBatch b;
  b.sightings = std::move(sightings);
  return write(b);
}
StoreResult<WriteReport> Store::record_fetch_outcomes(std::vector<FetchOutcome> outcomes) {
  WriteBatch b;
  b.fetch_outcomes = std::move(outcomes);
  return write(b);
}
StoreResult<WriteReport> Store::store_torrents(std::vector<TorrentRecord> torrents) {
  WriteBatch b;
  b.torrents = std::move(torrents);
  return write(b);
}
StoreResult<WriteReport> Store::record_peers(std::vector<PeerRecord> peers) {
  WriteBatch b;
  b.peers = std::move(peers);
  return write(b);
}
StoreResult<WriteReport> Store::record_counters(std::vector<CounterSample> samples) {
  WriteBatch b;
  b.counters = std::move(samples);
  return write(b);
}

namespace detail {

std::optional<std::size_t> check_torrent(const TorrentRecord& t, const StoreOptions& o) noexcept {
  if (!t.infohash_v1 && !t.infohash_v2) return std::nullopt;
  if (t.name.size() > o.max_name_bytes || t.total_size < 0 || t.piece_length < 0) return std::nullopt;
  if (t.info_dict.size() > o.max_info_dict_bytes) return std::nullopt;
  if (t.files.size() > t.file_count) return std::nullopt;
  const std::size_t keep = std::min(t.files.size(), o.max_files_per_torrent);
  for (std::size_t i = 0; i < keep; ++i) {
    if (t.files[i].path.size() > o.max_path_bytes || t.files[i].length < 0) return std::nullopt;
  }
  return keep;
}

bool valid_counter_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= kMaxCounterNameBytes;
}

Status check_search(const SearchQuery& q) {
  if (q.limit > kMaxSearchLimit) return fail(ErrorCode::InvalidArgument, "search limit over 1000");
  if (q.offset > kMaxSearchOffset) return fail(ErrorCode::InvalidArgument, "search offset over 100000");
  if (q.count_limit > kMaxSearchCount) return fail(ErrorCode::InvalidArgument, "search count_limit over 1000000");
  if (q.window == 0 || q.window > kMaxSearchWindow) {
    return fail(ErrorCode::InvalidArgument, "search window must be 1..100000");
  }
  return {};
}

Status check_series(const SeriesQuery& q) {
  if (q.points == 0 || q.points > kMaxSeriesPoints) {
    return fail(ErrorCode::InvalidArgument, "series points must be 1..10000");
  }
  if (q.to < q.from) return fail(ErrorCode::InvalidArgument, "series range ends before it starts");
  if (!valid_counter_name(q.name)) return fail(ErrorCode::InvalidArgument, "counter name must be 1..64 bytes");
  return {};
}

Buckets buckets_of(const SeriesQuery& q) noexcept {
  const std::int64_t span = to_unix(q.to) - to_unix(q.from) + 1;
  const auto points = static_cast<std::int64_t>(q.points);
  return Buckets{to_unix(q.from), std::max<std::int64_t>(1, (span + points - 1) / points)};
}

void merge_sighting(InfohashRecord& r, const InfohashSighting& s) noexcept {
  r.first_seen = std::min(r.first_seen, s.at);
  r.last_seen = std::max(r.last_seen, s.at);
  r.sources = static_cast<SourceMask>(r.sources | mask_of(s.source));
  r.peers = std::max(r.peers, s.peers);
  r.priority = std::max(r.priority, s.priority);
}

InfohashRecord new_infohash(const InfoHash& key, UnixTime at) noexcept {
  InfohashRecord r;
  r.infohash = key;
  r.first_seen = at;
  r.last_seen = at;
  return r;
}

InfohashRecord from_sighting(const InfohashSighting& s) noexcept {
  InfohashRecord r = new_infohash(s.infohash, s.at);
  r.sources = mask_of(s.source);
  r.peers = s.peers;
  r.priority = s.priority;
  return r;
}

}  // namespace detail
}  // namespace bitscrape::storage
