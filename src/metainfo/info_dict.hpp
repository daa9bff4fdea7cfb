// Parsing an info dict (BEP-3 v1, BEP-52 v2, or a hybrid of both) into a TorrentInfo.
//
// Input is the exact info dict bytes a peer sent (BEP-9) or that a .torrent holds. The bytes
// are decoded once with the zero-copy bencode decoder under info-dict limits, checked against
// the BEPs, and turned into a TorrentInfo: sanitised name and file list (see sanitize.hpp),
// sizes, piece geometry, flags and the info hashes of the versions the dict declares. The raw
// bytes are not copied or changed; hashes are computed over them as received.
//
// What is read:
//   v1 (BEP-3): `name` / `name.utf-8`, `piece length`, `pieces`, and either `length`
//     (single file) or `files` (list of {`length`, `path` / `path.utf-8`, `attr`}),
//     `private`, `source`.
//   v2 (BEP-52): `meta version` 2, `file tree` ({component: ... {"": {`length`,
//     `pieces root`, `attr`}}}), `piece length`.
//   hybrid: a v2 dict that also carries the v1 keys. Both halves are parsed and must describe
//     the same user files (same sanitised paths, same lengths, same order); if not, the dict
//     is rejected with HybridMismatch. Why reject rather than pick one: the two hashes of one
//     dict would name different content, and a client joining via the other hash would see
//     another torrent than the one we show (libtorrent rejects the same way,
//     torrent_inconsistent_files).
//   BEP-47 pad files — `attr` containing 'p', a v1 path under `.pad/`, or a BitComet
//     `_____padding_file_` path — are not user files: they go to pad_files, not files, and
//     are excluded from total_size and file_count. Pad files in a v2 file tree are invalid
//     (v2 aligns files implicitly) and rejected, as libtorrent does.
//   Symlinks (`attr` 'l') are listed as zero-length files; their target is not exposed.
//   Names and path components are sanitised (sanitize.hpp); components that sanitise away are
//   dropped, a path left with none becomes "_", and a name left empty becomes the hex of the
//   v1 (else v2) info hash, as in libtorrent. A single-file torrent's one file is the name.
//   Limits (Limits below) are hard: exceeding one rejects the dict with a typed error, since
//   a partial file list would be a lie.
//
// Lenience: unknown keys are ignored. Optional keys of the wrong type (`private`, `source`,
// `name.utf-8`, `path.utf-8`, `attr`, `meta version`) are ignored as if absent, as libtorrent
// does; required keys of the wrong type are errors. Dict keys need not be sorted; for a
// duplicated key the first occurrence wins (libtorrent's dict_find does the same).
//
// Deviations from libtorrent, on purpose:
//   - a v1 dict with both `length` and `files` is rejected (AmbiguousLayout); libtorrent
//     silently uses `files`.
//   - a v2 single-file torrent is one whose file tree holds exactly one file whose key equals
//     `name` (and no v1 `files`); libtorrent ignores the key/name equality. Otherwise the
//     tree is a directory named `name`, so "the one file's path is the name" always holds.
//   - colliding sanitised paths are kept as they are (libtorrent renames them ".1", ".2"):
//     we show and store, we do not write files.
//
// Threading: pure functions; a TorrentInfo is a plain value.
#pragma once

#include "bencode/decoder.hpp"
#include "common/hash.hpp"
#include "common/id160.hpp"
#include "common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bitscrape::metainfo {

struct Limits {
  std::size_t max_info_size = 10u << 20;  // bytes of the info dict (BEP-9 metadata_size cap)
  std::size_t max_files = 100'000;        // file entries, pad files included
  std::size_t max_path_depth = 64;        // components in one path (v1 list / v2 tree depth), ≤ 1000
  std::size_t max_name_bytes = 1024;      // raw bytes of `name`, one component, or `source`
  // Bencode values in the whole dict. A v1 file entry costs ~8 tokens plus one per path
  // component, so 100k files fit with room; 2M tokens are 32 MiB of token storage at most.
  std::uint32_t max_tokens = 2'000'000;
};

enum class ErrorCode : std::uint8_t {
  Bencode,             // not bencode, or over the decoder limits (see InfoError::bencode)
  TooLarge,            // input longer than Limits::max_info_size
  NotADict,            // the root value is not a dictionary
  MissingKey,          // a required key is absent (InfoError::field names it)
  WrongType,           // a required key holds the wrong bencode type (field)
  UnsupportedVersion,  // `meta version` other than 1 or 2
  InvalidPieceLength,  // ≤ 0, over 2^30 - 1, or (v2) not a power of two ≥ 16 KiB
  InvalidPieces,       // `pieces` length not a multiple of 20
  PieceCountMismatch,  // `pieces` holds a different number of hashes than the size needs
  NegativeLength,      // a file length below zero
  SizeOverflow,        // file lengths overflow int64 when summed
  AmbiguousLayout,     // v1 dict with both `length` and `files`
  NoFiles,             // empty `files` list or a file tree without files
  EmptyTorrent,        // every file is zero bytes long (nothing to share)
  EmptyPath,           // a v1 file entry whose `path` list is empty
  InvalidFileTree,     // a node that is not a dict, "" at the tree root, a file node with
                       // siblings of "", or a pad file inside the tree
  InvalidPiecesRoot,   // a non-empty v2 file without a 32-byte, non-zero `pieces root`
  TooManyFiles,        // more than Limits::max_files entries
  PathTooDeep,         // a path with more than Limits::max_path_depth components
  NameTooLong,         // a name, component or source over Limits::max_name_bytes
  HybridMismatch,      // the v1 and v2 halves of a hybrid describe different files
  KeyMismatch,         // parse_verified: the bytes hash to neither form of the expected key
};

struct InfoError {
  ErrorCode code = ErrorCode::Bencode;
  std::string_view field;  // the key concerned ("name", "files", "path", ...); static storage
  std::size_t offset = 0;  // byte offset in the info dict where the problem was found
  bencode::Error bencode;  // meaningful when code == Bencode

  // A short English description of `code`.
  std::string_view reason() const noexcept;
  bool operator==(const InfoError&) const = default;
};

enum class MetaVersion : std::uint8_t { V1 = 1, V2 = 2, Hybrid = 3 };

struct FileEntry {
  std::vector<std::string> components;  // sanitised, none empty; relative to the torrent root
  std::string path;                     // components joined with '/'
  std::int64_t length = 0;
  bool is_pad = false;
  bool is_symlink = false;
  std::optional<Sha256Digest> pieces_root;  // v2 files longer than zero bytes
  std::uint32_t index = 0;  // position in the dict's own file order (v1 list order for hybrids)
};

struct TorrentInfo {
  MetaVersion version = MetaVersion::V1;
  // The info hashes this dict is known by: v1 when it has a v1 half, v2 when it has a v2 half;
  // a hybrid has both and is one torrent, announced under two DHT keys.
  std::optional<InfoHash> v1;
  std::optional<Sha256Digest> v2;

  std::string name;  // sanitised; the root directory of a multi-file torrent
  std::int64_t piece_length = 0;
  // v1 or hybrid: hashes in `pieces`; v2 only: sum over files of ceil(length / piece_length).
  std::int64_t piece_count = 0;
  bool is_private = false;
  std::string source;  // sanitised `source` key (tracker tag); empty when absent
  bool single_file = false;

  std::vector<FileEntry> files;      // user files, in the dict's order
  std::vector<FileEntry> pad_files;  // BEP-47 pad files (is_pad), in the dict's order
  std::int64_t total_size = 0;       // sum of files[i].length
  std::size_t file_count = 0;        // files.size()
  std::int64_t pad_size = 0;         // sum of pad_files[i].length

  bool has_v1() const noexcept { return v1.has_value(); }
  bool has_v2() const noexcept { return v2.has_value(); }
  // The v2 hash truncated to 20 bytes: the torrent's v2 DHT key.
  std::optional<InfoHash> v2_key() const noexcept;
  // Every DHT key this torrent is announced under (v1 first): one for v1 or v2, two for a
  // hybrid. Storage keeps one record reachable by either.
  std::vector<InfoHash> dht_keys() const;
};

// The bencode limits parse_info_dict uses, derived from `limits`.
bencode::Limits decoder_limits(const Limits& limits) noexcept;

// Parses and validates an info dict given as its exact bytes.
Result<TorrentInfo, InfoError> parse_info_dict(std::string_view info_bytes, const Limits& limits = {});

// Checks that `info_bytes` hash to `key` — as SHA-1 (v1) or truncated SHA-256 (v2) — then
// parses them. KeyMismatch when the bytes match neither form, or when they match a form the
// dict does not declare (a v1-only dict whose SHA-256 happens to be the key is not a v2
// torrent).
Result<TorrentInfo, InfoError> parse_verified(std::string_view info_bytes, const InfoHash& key,
                                              const Limits& limits = {});

}  // namespace bitscrape::metainfo
