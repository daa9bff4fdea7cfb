// .torrent files: rebuilding one around an info dict received from a peer, and finding the
// info dict inside one.
//
// make_torrent_file() writes `d[8:announce..][13:announce-list..]4:info<info bytes>[5:nodes..]e`
// with the info dict copied verbatim — never re-encoded — so the file's infohash is exactly
// the one the dict was fetched under. Keys are written in sorted order (BEP-3) by the
// bencode Writer. As in libtorrent's create_torrent, `announce` holds the first tracker and
// `announce-list` is added only when there is more than one tracker; `nodes` is BEP-5's list
// of [host, port] pairs.
//
// find_info_dict() is the inverse: the exact bytes of the `info` value of a .torrent, ready
// for hashing and parse_info_dict().
//
// Deviation: no `creation date`, `created by` or `comment`: we did not create the torrent, and
// a fixed output for fixed input makes the files reproducible.
//
// Threading: pure functions.
#pragma once

#include "common/result.hpp"
#include "metainfo/info_dict.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bitscrape::metainfo {

struct DhtNodeAddr {
  std::string host;  // an address literal or a host name, as BEP-5 allows
  std::uint16_t port = 0;
};

struct TorrentFileExtras {
  // Tracker tiers (BEP-12): tiers[i] is tier i. Empty tiers and empty URLs are skipped.
  std::vector<std::vector<std::string>> trackers;
  std::vector<DhtNodeAddr> nodes;
};

// A .torrent around `info_bytes`. Precondition: `info_bytes` is one complete bencoded dict,
// e.g. bytes parse_info_dict() accepted; it is copied as is.
std::string make_torrent_file(std::string_view info_bytes, const TorrentFileExtras& extras = {});

struct TorrentFileLimits {
  // v2 .torrent files carry `piece layers` outside the info dict (32 bytes per piece), so a
  // file can be much larger than its info dict.
  std::size_t max_torrent_size = 64u << 20;
  Limits info;  // the info dict must fit info.max_info_size; depth and tokens derive from it
};

// The exact bytes of the `info` dict inside a .torrent file (a view into `torrent_file`).
// Errors: Bencode, TooLarge (file or info dict), NotADict (root, or `info` with field "info"),
// MissingKey "info".
Result<std::string_view, InfoError> find_info_dict(std::string_view torrent_file,
                                                   const TorrentFileLimits& limits = {});

}  // namespace bitscrape::metainfo
