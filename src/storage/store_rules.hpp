// Rules every Store backend applies the same way, so that the typed test suite can hold all
// backends to one behaviour: record validation, query limits, series bucketing, merge rules.
// Internal to storage/ (backends include it; callers need not).
//
// Threading: pure functions.
#pragma once

#include "storage/store.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

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

}  // namespace bitscrape::storage::detail
