#include "storage/store.hpp"

#include "storage/store_rules.hpp"

#include "storage/search_text.hpp"

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

StoreResult<std::vector<bool>> Store::claim(std::span<const InfoHash> keys, const Lease& /*lease*/) {
  auto fetched = is_fetched(keys);
  if (!fetched) return Unexpected<Error>{fetched.error()};
  std::vector<bool> out;
  out.reserve(fetched->size());
  for (const bool f : *fetched) out.push_back(!f);
  return out;
}

StoreResult<std::vector<InfohashRecord>> Store::claim_pending(const PendingQuery& query, const Lease& /*lease*/) {
  return pending_fetch(query);
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

TorrentSummary summary_of(const TorrentRecord& t) {
  TorrentSummary s;
  s.id = t.id;
  s.infohash_v1 = t.infohash_v1;
  s.infohash_v2 = t.infohash_v2;
  s.name = t.name;
  s.total_size = t.total_size;
  s.file_count = t.file_count;
  s.is_private = t.is_private;
  s.discovered_at = t.discovered_at;
  s.fetched_at = t.fetched_at;
  return s;
}

bool implied_file(const TorrentRecord& t, std::span<const FileRecord> files) noexcept {
  return files.size() == 1 && t.file_count == 1 && files[0].path == t.name && files[0].length == t.total_size;
}

EncodedTorrent encode_torrent(const TorrentRecord& t, const StoreOptions& options, ZstdCompressor& zstd) {
  EncodedTorrent e;
  const auto keep = check_torrent(t, options);
  if (!keep) return e;
  const std::span<const FileRecord> files(t.files.data(), *keep);
  if (!implied_file(t, files) && !files.empty()) {
    e.file_list = encode_file_list(files, zstd);
    // Each distinct path token once, minus the name's (search_text.hpp). An implied single
    // file is the name itself.
    e.path_terms = distinct_path_terms(t.name, files, kMaxIndexedPathBytes);
  }
  if (options.keep_info_dicts && !t.info_dict.empty()) e.info_dict = zstd.compress(t.info_dict);
  return e;
}

void encode_batch(WriteBatch& batch, const StoreOptions& options, int zstd_level) {
  ZstdCompressor zstd(zstd_level);
  batch.encoded.clear();
  batch.encoded.reserve(batch.torrents.size());
  for (const auto& t : batch.torrents) batch.encoded.push_back(encode_torrent(t, options, zstd));
}

std::span<const EncodedTorrent> encoded_torrents(const WriteBatch& batch, const StoreOptions& options,
                                                 ZstdCompressor& zstd, std::vector<EncodedTorrent>& own) {
  if (batch.encoded.size() == batch.torrents.size()) return batch.encoded;
  own.clear();
  own.reserve(batch.torrents.size());
  for (const auto& t : batch.torrents) own.push_back(encode_torrent(t, options, zstd));
  return own;
}

Status check_migration_list(std::span<const Migration> ms) {
  for (std::size_t i = 0; i < ms.size(); ++i) {
    if (ms[i].version != static_cast<int>(i) + 1) {
      return fail(ErrorCode::Internal, "migration list must be versions 1..N in order without gaps");
    }
  }
  return {};
}

Error schema_too_new(int found, int known) {
  return Error{ErrorCode::SchemaTooNew, "database schema v" + std::to_string(found) +
                                            " is newer than this bitscrape understands (v" + std::to_string(known) +
                                            "); upgrade bitscrape or use another database"};
}

StoreResult<std::vector<std::int64_t>> order_window(std::vector<SearchCandidate>& cands, const SearchQuery& q,
                                                    SortKey sort, bool desc, SearchPage& page,
                                                    const CountMatches& count) {
  // The candidates arrive newest first; the extra one tells whether the window cut.
  std::sort(cands.begin(), cands.end(), [](const auto& a, const auto& b) { return a.id > b.id; });
  page.window_limited = cands.size() > q.window;
  if (page.window_limited) cands.resize(q.window);  // drop the oldest: outside the window
  std::uint64_t n = cands.size();
  if (page.window_limited && q.count_limit > q.window) {
    auto c = count(q.count_limit + 1);
    if (!c) return Unexpected<Error>{c.error()};
    n = *c;
  } else if (page.window_limited) {
    n = q.count_limit + 1;  // more than the window, and the window is at least count_limit
  }
  page.total = std::min<std::uint64_t>(n, q.count_limit);
  page.total_exact = n <= q.count_limit;
  std::vector<std::int64_t> ids;
  const std::size_t end = std::min(cands.size(), q.offset + q.limit);
  if (q.offset >= end) return ids;
  auto before = [&](const SearchCandidate& a, const SearchCandidate& b) {
    if (sort == SortKey::Relevance) return a.number != b.number ? a.number > b.number : a.id > b.id;
    if (sort == SortKey::Name) {
      if (a.name != b.name) return desc ? a.name > b.name : a.name < b.name;
    } else if (a.number != b.number) {
      return desc ? a.number > b.number : a.number < b.number;
    }
    return desc ? a.id > b.id : a.id < b.id;
  };
  std::partial_sort(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(end), cands.end(), before);
  for (std::size_t i = q.offset; i < end; ++i) ids.push_back(cands[i].id);
  return ids;
}

}  // namespace detail
}  // namespace bitscrape::storage
