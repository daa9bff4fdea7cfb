#include "fixtures.hpp"

#include "bencode/encoder.hpp"
#include "common/hash.hpp"
#include "crawler/torrent_record.hpp"
#include "metainfo/info_dict.hpp"
#include "metainfo/torrent_file.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace bitscrape::web::testing {
namespace {

storage::UnixTime at(std::int64_t s) {
  return storage::from_unix(s);
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string fake_pieces(std::int64_t total, std::int64_t piece_length, const std::string& seed) {
  const auto n = (total + piece_length - 1) / piece_length;
  std::string pieces;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto d = sha1(seed + std::to_string(i));
    pieces.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  return pieces;
}

Endpoint ep(std::uint32_t ip, std::uint16_t port) {
  return Endpoint{IpAddress::v4(ip), port};
}

}  // namespace

std::string v1_info_dict(const std::string& name, const std::vector<FileSpec>& files, std::int64_t length,
                         std::int64_t piece_length) {
  std::int64_t total = length;
  if (!files.empty()) {
    total = 0;
    for (const auto& f : files) total += f.length;
  }
  std::string out;
  bencode::Writer w(out);
  w.begin_dict();
  if (!files.empty()) {
    w.key("files").begin_list();
    for (const auto& f : files) {
      w.begin_dict().entry("length", f.length).key("path").begin_list();
      for (const auto& c : f.path) w.string(c);
      w.end().end();
    }
    w.end();
  } else {
    w.entry("length", length);
  }
  w.entry("name", name)
      .entry("piece length", piece_length)
      .entry("pieces", fake_pieces(total, piece_length, name));
  w.end();
  if (!w.ok()) throw std::runtime_error("bad info dict for " + name);
  return out;
}

storage::TorrentRecord record_from_info(const std::string& info, std::int64_t discovered,
                                        std::int64_t fetched) {
  auto parsed = metainfo::parse_info_dict(info);
  if (!parsed)
    throw std::runtime_error(std::string("fixture info dict rejected: ") +
                             std::string(parsed.error().reason()));
  return crawler::to_record(*parsed, info, at(discovered), at(fetched));
}

const Fixture& Population::by_name(const std::string& name) const {
  for (const auto& t : torrents) {
    if (t.name == name) return t;
  }
  throw std::runtime_error("no fixture named " + name);
}

Population populate(storage::Store& store, std::int64_t now, int fillers) {
  Population pop;
  std::vector<storage::TorrentRecord> records;
  const auto add = [&](const std::string& info, std::int64_t discovered) {
    auto r = record_from_info(info, discovered, discovered + 60);
    pop.torrents.push_back({r.name, r.key(), r.total_size, r.file_count, discovered});
    records.push_back(std::move(r));
  };
  constexpr std::int64_t day = 86400;
  constexpr std::int64_t GiB = 1LL << 30, MiB = 1LL << 20;

  add(v1_info_dict("ubuntu-22.04.4-desktop-amd64.iso", {}, 4 * GiB + 500 * MiB, 4 * MiB), kBase + 1 * day);
  add(v1_info_dict("Debian 12 netinst",
                   {{{"debian-12.5.0-amd64-netinst.iso"}, 659 * MiB},
                    {{"SHA256SUMS"}, 1200},
                    {{"docs", "README.txt"}, 5300},
                    {{"docs", "install", "guide.pdf"}, 3 * MiB}},
                   0, MiB),
      kBase + 2 * day);
  add(v1_info_dict(kHostileName,
                   {{{"<script>alert(2)</script>.txt"}, 1000},
                    {{"\"quoted\", dir", "a&b <i>.mkv"}, 700 * MiB},
                    {{"normal.nfo"}, 2000}},
                   0),
      kBase + 3 * day);
  add(v1_info_dict(kCsvName, {}, 12345), kBase + 4 * day);
  {
    std::vector<FileSpec> files;
    for (int s = 1; s <= 3; ++s) {
      for (int e = 1; e <= 8; ++e) {
        char ep_name[64];
        std::snprintf(ep_name, sizeof ep_name, "Nature Show S0%dE%02d 1080p.mkv", s, e);
        files.push_back({{"Season " + std::to_string(s), ep_name}, (900 + s * 10 + e) * MiB});
      }
      files.push_back({{"Season " + std::to_string(s), "subs", "en.srt"}, 40000});
    }
    files.push_back({{"poster.jpg"}, 300000});
    add(v1_info_dict("Nature Documentary Collection", files, 0, 4 * MiB), kBase + 5 * day);
  }
  add(v1_info_dict("Ünïcödé — 日本語のテスト", {{{"ファイル.txt"}, 4096}, {{"données.bin"}, 8192}}, 0, 16384),
      kBase + 6 * day);
  add(v1_info_dict("Big Buck Bunny 1080p", {{{"Big Buck Bunny.mp4"}, 276 * MiB}, {{"poster.png"}, 150000}},
                   0),
      kBase + 7 * day);
  add(v1_info_dict("Open Source Fonts Pack", {{{"fonts", "a.ttf"}, 100000}, {{"fonts", "b.ttf"}, 120000}}, 0,
                   16384),
      kBase + 8 * day);
  // libtorrent-made v2 and hybrid torrents (tests/metainfo/data).
  const std::string data = std::string(BITSCRAPE_SOURCE_DIR) + "/tests/metainfo/data/";
  for (const char* f : {"hybrid_multi.torrent", "v2_multi.torrent", "hybrid_single.torrent"}) {
    const auto bytes = read_file(data + f);
    auto info = metainfo::find_info_dict(bytes);
    if (!info) throw std::runtime_error(std::string("no info dict in ") + f);
    add(std::string(*info), kBase + 9 * day);
  }
  for (int i = 1; i <= fillers; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "Filler torrent %03d", i);
    add(v1_info_dict(name, {}, static_cast<std::int64_t>(i) * 10 * MiB + i, MiB),
        kBase + 10 * day + i * 3600);
  }

  storage::WriteBatch b;
  for (const auto& r : records) {
    for (const auto& key : {r.infohash_v1, r.infohash_v2_truncated()}) {
      if (!key) continue;
      b.sightings.push_back({*key, r.discovered_at, storage::Source::Sample, 0, 0});
      b.sightings.push_back(
          {*key, r.fetched_at + std::chrono::seconds(3600), storage::Source::AnnouncePeer, 0, 0});
    }
  }
  b.torrents = records;
  // Keys without metadata.
  for (int i = 0; i < 3; ++i) {
    const auto d = sha1("pending-" + std::to_string(i));
    InfoHash k;
    std::copy(d.begin(), d.end(), k.bytes.begin());
    pop.without_metadata.push_back(k);
    b.sightings.push_back({k, at(kBase + 20 * day + i), storage::Source::GetPeers, 3, 0});
  }
  // Peers: the Debian torrent has two (the later one is "latest"), a pending key has one.
  const auto debian = pop.by_name("Debian 12 netinst").key;
  b.peers.push_back({debian, ep(0x0A000001, 6881), at(kBase + 2 * day + 100)});
  b.peers.push_back({debian, ep(0xC0A80102, 51413), at(kBase + 2 * day + 200)});
  b.peers.push_back({pop.without_metadata[0], ep(0x0A000009, 6889), at(kBase + 20 * day + 5)});
  // Good nodes.
  for (std::uint32_t i = 1; i <= 12; ++i) {
    const auto d = sha1("node-" + std::to_string(i));
    NodeId id;
    std::copy(d.begin(), d.end(), id.bytes.begin());
    b.nodes.push_back({ep(0x7F000100 + i, static_cast<std::uint16_t>(6880 + i)), id, at(now - i * 60), true});
  }
  // Counter samples every minute for two hours: cumulative totals and a gauge.
  for (std::int64_t m = 120; m >= 0; --m) {
    storage::CounterSample s;
    s.at = at(now - m * 60);
    const auto t = 120 - m;
    s.values = {{"infohashes_total", 1000 + t * 37 + (t * t) % 11},
                {"metadata_total", 100 + t * 4},
                {"nodes_in_table", 150 + (t * 7) % 40},
                {"packets_in", 5000 + t * 900}};
    b.counters.push_back(std::move(s));
  }
  auto rep = store.write(b);
  if (!rep) throw std::runtime_error("fixture write failed: " + rep.error().message);
  if (rep->rejected != 0)
    throw std::runtime_error("fixture records rejected: " + std::to_string(rep->rejected));
  return pop;
}

}  // namespace bitscrape::web::testing
