// Magnet links (BEP-9, BEP-52) for a torrent we know by hash and name.
//
//   v1:     magnet:?xt=urn:btih:<40 hex>
//   v2:     magnet:?xt=urn:btmh:1220<64 hex>     (multihash: 0x12 = sha2-256, 0x20 = 32 bytes)
//   hybrid: both xt parameters, v1 first, as libtorrent writes them
// followed by `&dn=<name>` when the name is not empty and one `&tr=<url>` per tracker.
// Hashes are lower-case hex. Values are percent-encoded byte by byte (UTF-8 stays UTF-8):
// everything but RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) becomes %XX with
// upper-case hex digits, so a name can never inject '&', '#' or a second parameter.
//
// Threading: pure functions.
#pragma once

#include "common/hash.hpp"
#include "common/id160.hpp"
#include "metainfo/info_dict.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bitscrape::metainfo {

// The magnet link of a parsed torrent (its hashes and sanitised name).
std::string make_magnet(const TorrentInfo& info, std::span<const std::string> trackers = {});

// From the parts, e.g. for a hash seen on the DHT whose metadata is not known yet (empty name:
// no dn). Returns an empty string when neither hash is given.
std::string make_magnet(const std::optional<InfoHash>& v1, const std::optional<Sha256Digest>& v2,
                        std::string_view name, std::span<const std::string> trackers = {});

// Percent-encodes `s` as described above (exposed for tests and other URL builders).
std::string percent_encode(std::string_view s);

}  // namespace bitscrape::metainfo
