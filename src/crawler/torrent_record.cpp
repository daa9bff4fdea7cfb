#include "crawler/torrent_record.hpp"

#include <utility>

namespace bitscrape::crawler {

storage::TorrentRecord to_record(const metainfo::TorrentInfo& t, std::string info_dict,
                                 storage::UnixTime discovered_at, storage::UnixTime fetched_at) {
  storage::TorrentRecord rec;
  rec.infohash_v1 = t.v1;
  rec.infohash_v2 = t.v2;
  rec.name = t.name;
  rec.total_size = t.total_size;
  rec.piece_length = t.piece_length;
  rec.file_count = static_cast<std::uint32_t>(t.file_count);
  rec.is_private = t.is_private;
  rec.info_dict = std::move(info_dict);
  rec.discovered_at = discovered_at;
  rec.fetched_at = fetched_at;
  rec.files.reserve(t.files.size());
  for (const auto& f : t.files) rec.files.push_back({f.path, f.length});
  return rec;
}

}  // namespace bitscrape::crawler
