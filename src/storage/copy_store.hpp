// Copying a whole database from one Store into another (any backends: `bitscrape migrate`),
// through the Store interface only: streamed reads in chunks, batched writes (one transaction
// per batch), never the whole database in memory.
//
// What is copied: every node (good or not), every torrent with its file list and raw info
// dict, every DHT key with its sighting history (first/last seen, sources, peer count,
// priority, fetch attempts, state), the peers of every key, every counter sample. Torrent ids
// are reassigned in the same order, so "newest" stays newest. Rebuilt through the write
// rules, a key's record matches the original except in one corner: a key no sighting ever
// reached (sources 0: met only through a peer, a fetch outcome or a torrent) gets first and
// last seen from whatever creates it in the copy. Counter names that have no samples left
// (all pruned) are not copied.
//
// Threading: runs on the caller's thread; the two stores follow store.hpp.
#pragma once

#include "storage/store.hpp"

#include <cstdint>
#include <functional>
#include <string_view>

namespace bitscrape::storage {

struct CopyReport {
  std::uint64_t nodes = 0;
  std::uint64_t torrents = 0;
  std::uint64_t infohashes = 0;  // keys without metadata (the keys of torrents come with them)
  std::uint64_t peers = 0;
  std::uint64_t counter_instants = 0;
};

// Progress: units done of `total` (nodes + torrents + keys without metadata, from the
// source's stats before the copy), and the phase ("nodes", "torrents", ...). Called at most
// once per written batch.
using CopyProgress = std::function<void(std::uint64_t done, std::uint64_t total, std::string_view phase)>;

struct CopyOptions {
  std::size_t batch_torrents = 256;      // torrents per write() (their keys and peers come along)
  std::size_t batch_records = 5000;      // other records per write()
  std::size_t max_peers_per_key = 1000;  // read at most this many peers of one key
};

// Copies everything in `from` into `to`, which should be empty (the caller checks: copying
// into a database that holds data merges by the write rules). Stops at the first error.
StoreResult<CopyReport> copy_store(Store& from, Store& to, const CopyOptions& options = {},
                                   const CopyProgress& progress = {});

}  // namespace bitscrape::storage
