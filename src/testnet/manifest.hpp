// The testnet's ground truth as JSON, in the shape of tests/interop/lt_swarm.py's manifest:
//
//   {"torrents": [{"index", "kind", "name", "infohash_v1", "infohash_v2", "dht_keys",
//                  "total_bytes", "piece_length", "file_count", "files": [{"path", "length"}],
//                  "seeder", "liars", "slow"}, ...],
//    "bootstrap": "ip:port", "nodes": ["ip:port", ...], "stats": {...}}
//
// infohash_v1 is 40 hex digits or null, infohash_v2 the full 64 hex digits or null, dht_keys the
// 40-hex keys the torrent is announced under (v1 first; two for a hybrid). Paths are relative to
// the torrent's root directory; a single-file torrent's one file is its name (as
// metainfo::parse_info_dict reports them). `seeder` is the honest peer serving the metadata;
// `liars` serve corrupt metadata and `slow` drip it (both beside the honest seeder).
//
// ManifestWriter streams: torrents are written as they are generated (50,000 torrents with their
// file lists never sit in memory as one JSON document), into `<path>.partial`, and finish()
// appends the rest and renames the file into place, so a reader never sees a half-written
// manifest. read_manifest() loads one back (tests, tools).
//
// Threading: plain objects, one thread.
#pragma once

#include "common/result.hpp"
#include "testnet/generator.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bitscrape::testnet {

struct ManifestFile {
  std::string path;
  std::int64_t length = 0;
  bool operator==(const ManifestFile&) const = default;
};

struct ManifestTorrent {
  std::uint64_t index = 0;
  std::string kind;  // "v1-single", "hybrid-multi", ...
  std::string name;
  std::optional<std::string> infohash_v1;  // 40 hex
  std::optional<std::string> infohash_v2;  // 64 hex
  std::vector<std::string> dht_keys;       // 40 hex each
  std::int64_t total_bytes = 0;
  std::int64_t piece_length = 0;
  std::size_t file_count = 0;
  std::vector<ManifestFile> files;
  std::string seeder;              // "ip:port"
  std::vector<std::string> liars;  // "ip:port" of peers serving corrupt metadata
  std::vector<std::string> slow;   // "ip:port" of slow-drip peers
  bool operator==(const ManifestTorrent&) const = default;
};

// The manifest entry of a generated torrent (seeder, liars and slow left for the caller).
ManifestTorrent manifest_entry(const GeneratedTorrent& t);

struct Manifest {
  std::string bootstrap;
  std::vector<std::string> nodes;
  std::vector<std::pair<std::string, double>> stats;  // free-form figures, written under "stats"
  std::vector<ManifestTorrent> torrents;
};

class ManifestWriter {
 public:
  // Creates `<path>.partial` (truncating it).
  static Result<ManifestWriter, std::string> open(const std::filesystem::path& path);

  ManifestWriter(ManifestWriter&& o) noexcept;
  ManifestWriter& operator=(ManifestWriter&&) = delete;
  // Removes the partial file when finish() was not reached.
  ~ManifestWriter();

  Result<void, std::string> add(const ManifestTorrent& t);
  // Writes bootstrap, nodes and stats (m.torrents is ignored: they were add()ed), closes the
  // file and renames it to `path`.
  Result<void, std::string> finish(const Manifest& m);

  std::size_t torrents() const noexcept { return count_; }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  ManifestWriter(std::filesystem::path path, std::filesystem::path partial, std::ofstream out)
      : path_(std::move(path)), partial_(std::move(partial)), out_(std::move(out)) {}
  std::filesystem::path path_;
  std::filesystem::path partial_;
  std::ofstream out_;
  std::size_t count_ = 0;
  bool finished_ = false;
};

// Serialises a whole manifest at once (small manifests, tests).
std::string to_json(const Manifest& m);
// Loads a manifest written by ManifestWriter (or lt_swarm.py).
Result<Manifest, std::string> read_manifest(const std::filesystem::path& path);
Result<Manifest, std::string> parse_manifest(std::string_view json);

}  // namespace bitscrape::testnet
