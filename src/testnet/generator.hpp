// TorrentGenerator: realistic, deterministic torrents for `bitscrape testnet`.
//
// Torrent i of seed S is a pure function of (S, i, GeneratorConfig): a name in the style of real
// releases (TV episodes and season packs, movies, albums, software images, ebooks, datasets,
// photo sets, courses), with years, resolutions, sources, codecs and release groups; a share of
// them in Japanese, Cyrillic, Chinese, Greek or with emoji; a file list that fits the category
// (sample, .nfo and subtitles beside a movie, numbered tracks and a cover beside an album,
// parquet shards of a dataset, ...); a size drawn log-uniformly from the category's range; and a
// piece length chosen the way torrent creators choose it (a power of two, 16 KiB .. 16 MiB,
// aiming at ~1000-2000 pieces).
//
// Kinds: v1 (BEP-3), v2-only (BEP-52: `meta version` 2, `file tree` with `length` and
// `pieces root`) and hybrid (both halves; the v1 file list carries BEP-47 pad files after every
// file but the last, as libtorrent writes them, so both halves describe the same files). The
// first six torrents of every seed cover the six kinds (v1/v2/hybrid x single/multi) so that
// even a tiny testnet has them all; the rest follow the configured shares.
//
// Piece hashes and merkle roots are pseudo-random bytes: nobody downloads the content, but the
// dict's geometry is exact (the `pieces` count matches the v1 size including pads). Info dicts
// are built with bencode::Item (canonical: sorted keys) and every one can be checked with
// verify(), which runs metainfo::parse_info_dict over the bytes and compares each field.
//
// Info dict sizes: a v1 or hybrid dict is dominated by `pieces` (20 bytes per piece, at most
// ~4000 pieces: ≤ 80 KiB); v2-only dicts hold one 32-byte root per file. The testnet does not
// keep the dicts: it regenerates one when a peer asks for it (generate() is fast and pure).
//
// Threading: a TorrentGenerator is immutable after construction; generate() is const and may
// be called from any thread.
#pragma once

#include "common/hash.hpp"
#include "common/id160.hpp"
#include "common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bitscrape::testnet {

enum class TorrentKind : std::uint8_t { V1, V2, Hybrid };

struct GeneratorConfig {
  // Kind shares; v1 gets the rest. libtorrent 2.x makes hybrids by default, most of the
  // public DHT is still v1.
  double v2_share = 0.15;
  double hybrid_share = 0.30;
  double multi_file_share = 0.6;  // multi-file torrents (the rest are single-file)
  double unicode_share = 0.2;     // names in Japanese, Cyrillic, Chinese, Greek or with emoji
  std::size_t max_files = 300;    // user files per torrent (photo sets and datasets reach it)
};

struct GeneratedFile {
  std::vector<std::string> components;  // relative to the torrent's root directory
  std::string path;                     // components joined with '/' (single-file: the name)
  std::int64_t length = 0;
};

struct GeneratedTorrent {
  std::uint64_t index = 0;
  TorrentKind kind = TorrentKind::V1;
  bool multi_file = false;
  std::string name;
  std::int64_t piece_length = 0;
  std::int64_t total_bytes = 0;      // user files only (no pad files)
  std::vector<GeneratedFile> files;  // user files in the dict's order (the v2 tree's order)
  std::string info;                  // the bencoded info dict
  std::optional<InfoHash> v1;        // SHA-1 of `info` (v1, hybrid)
  std::optional<Sha256Digest> v2;    // SHA-256 of `info` (v2, hybrid)

  // DHT keys, v1 first: one for v1 or v2, two for a hybrid.
  std::vector<InfoHash> dht_keys() const;
  // "v1-single", "v2-multi", "hybrid-single", ... (the interop manifest's names).
  std::string kind_name() const;
};

std::string_view to_string(TorrentKind k) noexcept;  // "v1", "v2", "hybrid"

class TorrentGenerator {
 public:
  explicit TorrentGenerator(std::uint64_t seed, GeneratorConfig config = {});

  // Torrent number `index`: a pure function of (seed, index, config).
  GeneratedTorrent generate(std::uint64_t index) const;

  std::uint64_t seed() const noexcept { return seed_; }
  const GeneratorConfig& config() const noexcept { return config_; }

 private:
  std::uint64_t seed_;
  GeneratorConfig config_;
};

// Parses t.info with metainfo::parse_info_dict and checks that it describes exactly `t`: kind,
// hashes, name, piece length, total size and every file's path and length. The error says
// which field differs.
Result<void, std::string> verify(const GeneratedTorrent& t);

}  // namespace bitscrape::testnet
