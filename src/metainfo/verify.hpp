// Which infohash does a received info dict match?
//
// The DHT key of a torrent is the SHA-1 of its info dict (v1, BEP-3) or the SHA-256 truncated
// to 20 bytes (v2, BEP-52). A fetcher only knows the 20-byte key it asked for, so it checks
// both, over the exact bytes received (never a re-encoding). A hybrid info dict matches one
// key and also yields the other hash.
//
// Threading: pure functions.
#pragma once

#include "common/hash.hpp"
#include "common/id160.hpp"

#include <optional>
#include <string_view>

namespace bitscrape::metainfo {

struct InfoHashes {
  InfoHash v1;           // SHA-1 of the info dict
  Sha256Digest v2;       // full SHA-256 of the info dict
  InfoHash v2_truncated() const noexcept;
};

// Both hashes of an info dict's exact bytes.
InfoHashes hash_info(std::string_view info_bytes);

enum class KeyMatch { None, V1, V2 };
// Whether `info_bytes` hashes to `key` as v1 (SHA-1) or v2 (truncated SHA-256).
KeyMatch match_key(std::string_view info_bytes, const InfoHash& key);

}  // namespace bitscrape::metainfo
