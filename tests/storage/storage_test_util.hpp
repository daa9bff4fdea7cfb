// Helpers for the storage tests: temp directories, deterministic keys and records.
#pragma once

#include "common/hash.hpp"
#include "storage/records.hpp"
#include "temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace bitscrape::storage::testing {

struct TempDir : test_support::TempDir {
  TempDir() : test_support::TempDir("bitscrape-storage") {}
};

inline UnixTime T(std::int64_t s) { return from_unix(s); }

// A key derived from `n`: SHA-1 of a label, so keys are spread like real infohashes.
inline InfoHash key(int n, const std::string& label = "ih") {
  const auto d = sha1(label + std::to_string(n));
  InfoHash k;
  for (std::size_t i = 0; i < 20; ++i) k.bytes[i] = d[i];
  return k;
}

// A key of 20 equal bytes, for tests that need a known key order.
inline InfoHash byte_key(std::uint8_t b) {
  InfoHash k;
  k.bytes.fill(b);
  return k;
}

inline Sha256Digest v2_of(int n) { return sha256("v2-" + std::to_string(n)); }

inline InfoHash truncated(const Sha256Digest& d) {
  InfoHash k;
  for (std::size_t i = 0; i < 20; ++i) k.bytes[i] = d[i];
  return k;
}

inline Endpoint ep(const std::string& text) {
  auto e = Endpoint::parse(text);
  if (!e) throw std::runtime_error("bad endpoint " + text);
  return *e;
}

// A v1 torrent with the given files (none: a single file named like the torrent).
inline TorrentRecord v1_torrent(int n, std::string name, std::int64_t size = 1000,
                                std::vector<FileRecord> files = {}, std::int64_t discovered = 1000) {
  TorrentRecord t;
  t.infohash_v1 = key(n);
  t.name = std::move(name);
  t.total_size = size;
  t.piece_length = 16384;
  if (files.empty()) files.push_back(FileRecord{t.name, size});
  t.files = std::move(files);
  t.file_count = static_cast<std::uint32_t>(t.files.size());
  t.discovered_at = T(discovered);
  t.fetched_at = T(discovered + 10);
  return t;
}

}  // namespace bitscrape::storage::testing
