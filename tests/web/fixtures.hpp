// Test fixtures for the web layer: info dicts built with the bencode Writer (plus libtorrent-made
// v2/hybrid .torrent files from tests/metainfo/data), parsed by metainfo and stored through the
// Store API — normal records and hostile ones (markup, quotes, commas in names and paths).
// Shared by the API tests (test_web) and the browser tests' fixture program (web_fixture).
#pragma once

#include "common/id160.hpp"
#include "storage/store.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bitscrape::web::testing {

inline constexpr std::int64_t kBase = 1714521600;  // 2024-05-01T00:00:00Z
inline constexpr const char* kHostileName = "<img src=x onerror=alert(1)>";
inline constexpr const char* kCsvName = "Comma, \"Quote\" name";

struct FileSpec {
  std::vector<std::string> path;  // components
  std::int64_t length = 0;
};

// A v1 info dict: single-file when `files` is empty (then `length` is the size).
std::string v1_info_dict(const std::string& name, const std::vector<FileSpec>& files, std::int64_t length,
                         std::int64_t piece_length = 1 << 18);

// A TorrentRecord from an info dict (parsed and verified by metainfo), or throws.
storage::TorrentRecord record_from_info(const std::string& info, std::int64_t discovered,
                                        std::int64_t fetched);

struct Fixture {
  std::string name;
  InfoHash key;
  std::int64_t total_size = 0;
  std::uint32_t file_count = 0;
  std::int64_t discovered = 0;
};

struct Population {
  std::vector<Fixture> torrents;           // every stored torrent, in insertion order
  std::vector<InfoHash> without_metadata;  // keys seen but not fetched
  const Fixture& by_name(const std::string& name) const;
};

// Fills `store` with the standard set: ~20 named torrents (single, multi, nested, v2, hybrid,
// hostile, unicode), `fillers` numbered ones for pagination, 3 keys without metadata, peers,
// good nodes and counter samples for the two hours before `now`.
Population populate(storage::Store& store, std::int64_t now, int fillers = 40);

}  // namespace bitscrape::web::testing
