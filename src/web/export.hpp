// The export formats, shared by the web API (/api/export) and `bitscrape export`, so the two
// always write the same bytes; `bitscrape fetch --json` prints its torrent with export_json too.
//
//   csv    the seed format: header `infohash,name,file_count,total_bytes,piece_length,peer_ip,
//          peer_port,metadata_ok`, one row per infohash; metadata_ok is True/False; fields
//          quoted per RFC 4180 (common/csv.hpp). peer_ip/peer_port: the most recently seen
//          peer, empty when none is known. Keys without metadata (--all) have empty name and
//          sizes.
//   jsonl  one JSON object per line per torrent:
//            infohash      40-hex DHT key (the v1 hash when there is one, else the truncated v2)
//            infohash_v1   40-hex or null
//            infohash_v2   64-hex or null
//            name, total_bytes, piece_length, file_count
//            files         [{path, length}] — path inside the torrent joined with '/', without
//                          the torrent's name for multi-file torrents; a single-file torrent's
//                          one file has the torrent's name as its path
//            magnet, discovered_at, fetched_at (ISO-8601 UTC, "2024-05-01T12:00:00Z")
//            peers         count of peers known (see KeySummary)
//            sources       how its keys were heard of (see sources_json)
//          With `all`, keys without metadata follow, one object each: infohash, infohash_v1 and
//          infohash_v2 null (a bare DHT key does not say which version it is), name, total_bytes,
//          piece_length, file_count, files and fetched_at null, magnet (btih of the key),
//          discovered_at (first seen), peers, sources, state (pending|failed), fetch_attempts.
//   torrents  one .torrent per torrent (metainfo::make_torrent_file over the stored info dict)
//          named `<safe name>-<first 8 hex of the key>.torrent`.
//
// Streaming: records are read with Store::for_each_torrent / for_each_without_metadata (chunks)
// and handed to the sink in pieces of about `chunk_bytes`; nothing holds the whole export.
//
// Threading: functions are reentrant; the Store does its own locking.
#pragma once

#include "common/endpoint.hpp"
#include "common/id160.hpp"
#include "common/result.hpp"
#include "storage/store.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bitscrape::web {

enum class ExportFormat : std::uint8_t { Csv, Jsonl };
// "csv" or "jsonl"; nullopt otherwise.
std::optional<ExportFormat> parse_export_format(std::string_view text) noexcept;

struct ExportSelection {
  ExportFormat format = ExportFormat::Csv;
  bool all = false;  // also keys without metadata
};

// Receives the output in pieces; returns false to stop (client gone, disk full).
using ExportSink = std::function<bool(std::string_view chunk)>;

struct ExportCounts {
  std::uint64_t torrents = 0;
  std::uint64_t without_metadata = 0;
  std::uint64_t skipped = 0;  // torrents: no info dict kept
  bool stopped = false;       // the sink asked to stop
};

// What the sightings of a torrent's DHT keys say, over all of its keys.
struct KeySummary {
  // The most peers we know of: the larger of the count sightings reported
  // (InfohashRecord::peers) and the peers stored (bounded by max_peers_per_infohash).
  std::uint32_t count = 0;
  std::optional<Endpoint> latest;  // the most recently seen stored peer
  storage::SourceMask sources = 0;  // how any of its keys was heard of
};
// A source mask as every JSON view names it: ["sample", "get_peers", "announce_peer", "lookup"].
nlohmann::json sources_json(storage::SourceMask mask);
storage::StoreResult<KeySummary> key_summary(storage::Store& store, std::span<const InfoHash> keys);
// The DHT keys of a torrent: v1 and/or truncated v2.
std::vector<InfoHash> keys_of(const storage::TorrentRecord& t);

inline constexpr std::string_view kCsvHeader =
    "infohash,name,file_count,total_bytes,piece_length,peer_ip,peer_port,metadata_ok\n";

void append_csv_torrent(std::string& out, const storage::TorrentRecord& t, const KeySummary& peers);
void append_csv_without_metadata(std::string& out, const storage::InfohashRecord& r,
                                 const KeySummary& peers);
nlohmann::json export_json(const storage::TorrentRecord& t, const KeySummary& peers);
nlohmann::json export_json(const storage::InfohashRecord& r, const KeySummary& peers);
// Sets a torrent's keys as every JSON view names them: "infohash" (the DHT key: v1, else the
// truncated v2), "infohash_v1" (40 hex or null), "infohash_v2" (64 hex or null).
void put_keys(nlohmann::json& j, const std::optional<InfoHash>& v1, const std::optional<Sha256Digest>& v2);
// The files of `t` as the export contract says (a single file synthesised when the store kept
// none for a single-file torrent).
std::vector<storage::FileRecord> export_files(const storage::TorrentRecord& t);

// Streams a CSV or JSONL export into `sink`.
Result<ExportCounts, std::string> export_records(storage::Store& store, const ExportSelection& selection,
                                                 const ExportSink& sink, std::size_t chunk_bytes = 64u << 10);

// Writes one .torrent per stored torrent into `dir` (created if missing). Existing files of the
// same name are replaced.
Result<ExportCounts, std::string> export_torrent_files(storage::Store& store,
                                                       const std::filesystem::path& dir);

// A file-name stem safe on every common file system: valid UTF-8 without control characters,
// '/', '\', ':', '*', '?', '"', '<', '>', '|'; no leading dots or trailing dots/spaces; at most
// 120 bytes (cut at a character boundary); the key's hex when nothing is left.
std::string safe_file_stem(std::string_view name, const InfoHash& key);
// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266).
std::string content_disposition(std::string_view filename);

// "2024-05-01T12:00:00Z".
std::string iso8601(storage::UnixTime t);

}  // namespace bitscrape::web
