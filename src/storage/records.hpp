// The plain records the storage layer persists: DHT nodes, infohash sightings and their fetch
// state, fetched torrents with their files, peers, and dashboard counter samples.
//
// These are storage's own types; they do not depend on dht/ or metainfo/ so that the crawler
// (which sees both) does the conversion and storage stays below it. Times are wall-clock
// seconds (UnixTime): they are persisted and shown to people, unlike the DHT core's steady
// time points. Threading: plain value types.
#pragma once

#include "common/endpoint.hpp"
#include "common/hash.hpp"
#include "common/id160.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bitscrape::storage {

// Wall-clock time in whole seconds since 1970-01-01 UTC.
using UnixTime = std::chrono::sys_seconds;
inline std::int64_t to_unix(UnixTime t) noexcept { return t.time_since_epoch().count(); }
inline UnixTime from_unix(std::int64_t s) noexcept { return UnixTime{std::chrono::seconds{s}}; }

// A DHT node we talked to. Keyed by endpoint: a node that changes its id on the same endpoint
// replaces the old entry.
struct NodeRecord {
  Endpoint endpoint;
  NodeId id;
  UnixTime last_seen{};
  bool good = true;  // answered our queries (BEP-5 "good"); bad nodes are kept but not bootstrapped from

  bool operator==(const NodeRecord&) const = default;
};

// How an infohash reached us. Stored as a bitmask of every way it was seen.
enum class Source : std::uint8_t {
  Sample = 1,        // BEP-51 sample_infohashes reply
  GetPeers = 2,      // a get_peers query another node sent us
  AnnouncePeer = 4,  // an announce_peer query another node sent us
  Lookup = 8,        // our own lookup (e.g. a user asked for it)
};
using SourceMask = std::uint8_t;
constexpr SourceMask mask_of(Source s) noexcept { return static_cast<SourceMask>(s); }

enum class FetchState : std::uint8_t {
  Pending = 0,  // no metadata yet; a fetch may be attempted
  Fetched = 1,  // a torrent is stored under this key (terminal)
  Failed = 2,   // given up on for good (e.g. every peer served bad metadata)
};

// Everything known about one 20-byte DHT key (a v1 infohash or a truncated v2 one).
struct InfohashRecord {
  InfoHash infohash;
  UnixTime first_seen{};
  UnixTime last_seen{};
  SourceMask sources = 0;
  std::uint32_t peers = 0;           // the largest peer count any sighting reported
  std::uint32_t fetch_attempts = 0;  // metadata fetches tried
  std::optional<UnixTime> last_attempt;
  FetchState state = FetchState::Pending;
  std::int32_t priority = 0;  // higher is fetched first; the crawler's policy, the largest seen

  bool operator==(const InfohashRecord&) const = default;
};

// One sighting of an infohash. Merged into its InfohashRecord: first_seen = min, last_seen =
// max, sources |= source, peers = max, priority = max. A new key starts Pending.
struct InfohashSighting {
  InfoHash infohash;
  UnixTime at{};
  Source source = Source::Sample;
  std::uint32_t peers = 0;
  std::int32_t priority = 0;
};

// The outcome of one metadata fetch attempt: fetch_attempts += 1, last_attempt = at; with
// permanent_failure the key becomes Failed (unless it is already Fetched, which is terminal).
// Success needs no outcome: storing the torrent marks its keys Fetched.
struct FetchOutcome {
  InfoHash infohash;
  UnixTime at{};
  bool permanent_failure = false;
};

// A peer that has (or announced) an infohash. At most StoreOptions::max_peers_per_infohash
// are kept per infohash: the most recently seen (ties: lower endpoint bytes first). A peer of
// an unknown key creates its InfohashRecord (no sources, first_seen = last_seen = last_seen).
struct PeerRecord {
  InfoHash infohash;
  Endpoint endpoint;
  UnixTime last_seen{};

  bool operator==(const PeerRecord&) const = default;
};

struct FileRecord {
  std::string path;  // components joined with '/', as metainfo sanitised them
  std::int64_t length = 0;

  bool operator==(const FileRecord&) const = default;
};

// A torrent whose metadata we fetched and verified. A hybrid (v1 + v2) torrent is one record,
// found under its v1 key and under its truncated v2 key.
struct TorrentRecord {
  std::int64_t id = 0;  // assigned by the store; ignored on write
  std::optional<InfoHash> infohash_v1;
  std::optional<Sha256Digest> infohash_v2;
  std::string name;
  std::int64_t total_size = 0;
  std::int64_t piece_length = 0;
  std::uint32_t file_count = 0;  // user files (pad files excluded); files.size() ≤ file_count
  bool is_private = false;
  // The exact info dict bytes. Written when StoreOptions::keep_info_dicts; left empty by
  // reads (use Store::raw_info_dict) unless an export asks for it.
  std::string info_dict;
  UnixTime discovered_at{};  // when the infohash was first seen
  UnixTime fetched_at{};     // when the metadata arrived
  // In the order of the info dict. May be shorter than file_count when the producer truncated
  // it or it exceeded StoreOptions::max_files_per_torrent.
  std::vector<FileRecord> files;

  // The DHT key of the v2 half: the first 20 bytes of the SHA-256 infohash (BEP-52).
  std::optional<InfoHash> infohash_v2_truncated() const noexcept;
  // The key a torrent is primarily known by: v1 if present, else truncated v2.
  InfoHash key() const noexcept;

  bool operator==(const TorrentRecord&) const = default;
};

// Dashboard counters at one instant (name -> value). Names ≤ 64 bytes.
struct CounterSample {
  UnixTime at{};
  std::vector<std::pair<std::string, std::int64_t>> values;
};

inline std::optional<InfoHash> TorrentRecord::infohash_v2_truncated() const noexcept {
  if (!infohash_v2) return std::nullopt;
  InfoHash k;
  for (std::size_t i = 0; i < InfoHash::kSize; ++i) k.bytes[i] = (*infohash_v2)[i];
  return k;
}

inline InfoHash TorrentRecord::key() const noexcept {
  if (infohash_v1) return *infohash_v1;
  if (auto t = infohash_v2_truncated()) return *t;
  return InfoHash{};
}

}  // namespace bitscrape::storage
