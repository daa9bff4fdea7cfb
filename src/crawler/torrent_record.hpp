// to_record: the storage record of a parsed and verified torrent. The one place that maps
// metainfo::TorrentInfo onto storage::TorrentRecord — used by the Pipeline when metadata
// arrives, by `bitscrape fetch --json` (which prints the record as the export contract says)
// and by the web test fixtures.
//
// Threading: a pure function.
#pragma once

#include "metainfo/info_dict.hpp"
#include "storage/records.hpp"

#include <string>

namespace bitscrape::crawler {

// `info_dict`: the exact info dict bytes `t` was parsed from (kept as TorrentRecord::info_dict).
// Files keep the dict's order; pad files are left out, as in TorrentInfo::files.
storage::TorrentRecord to_record(const metainfo::TorrentInfo& t, std::string info_dict,
                                 storage::UnixTime discovered_at, storage::UnixTime fetched_at);

}  // namespace bitscrape::crawler
