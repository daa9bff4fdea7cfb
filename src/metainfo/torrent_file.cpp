#include "metainfo/torrent_file.hpp"

#include "bencode/encoder.hpp"

namespace bitscrape::metainfo {

std::string make_torrent_file(std::string_view info_bytes, const TorrentFileExtras& extras) {
  std::vector<std::vector<std::string_view>> tiers;
  std::size_t urls = 0;
  for (const auto& tier : extras.trackers) {
    std::vector<std::string_view> t;
    for (const auto& url : tier) {
      if (!url.empty()) t.emplace_back(url);
    }
    urls += t.size();
    if (!t.empty()) tiers.push_back(std::move(t));
  }

  std::string out;
  out.reserve(info_bytes.size() + 64 + 32 * urls + 32 * extras.nodes.size());
  bencode::Writer w(out);
  w.begin_dict();
  if (urls > 0) w.entry("announce", tiers.front().front());
  if (urls > 1) {
    w.key("announce-list").begin_list();
    for (const auto& tier : tiers) {
      w.begin_list();
      for (auto url : tier) w.string(url);
      w.end();
    }
    w.end();
  }
  w.key("info").raw(info_bytes);
  if (!extras.nodes.empty()) {
    w.key("nodes").begin_list();
    for (const auto& n : extras.nodes) w.begin_list().string(n.host).integer(n.port).end();
    w.end();
  }
  w.end();
  return out;
}

Result<std::string_view, InfoError> find_info_dict(std::string_view torrent_file,
                                                   const TorrentFileLimits& limits) {
  if (torrent_file.size() > limits.max_torrent_size)
    return Unexpected{InfoError{ErrorCode::TooLarge, {}, 0, {}}};
  bencode::Limits bl = decoder_limits(limits.info);
  bl.max_size = limits.max_torrent_size;
  bl.max_depth += 1;  // the info dict is one level down
  bencode::Document doc;
  if (auto r = bencode::decode(torrent_file, doc, bl); !r) {
    return Unexpected{InfoError{ErrorCode::Bencode, {}, r.error().offset, r.error()}};
  }
  const bencode::Value root = doc.root();
  if (!root.is_dict()) return Unexpected{InfoError{ErrorCode::NotADict, {}, 0, {}}};
  const bencode::Value info = root.find("info");
  if (!info) return Unexpected{InfoError{ErrorCode::MissingKey, "info", 0, {}}};
  if (!info.is_dict()) return Unexpected{InfoError{ErrorCode::NotADict, "info", info.offset(), {}}};
  const std::string_view raw = info.raw();
  if (raw.size() > limits.info.max_info_size) {
    return Unexpected{InfoError{ErrorCode::TooLarge, "info", info.offset(), {}}};
  }
  return raw;
}

}  // namespace bitscrape::metainfo
