#include "testnet/manifest.hpp"

#include "common/hex.hpp"

#include <nlohmann/json.hpp>

#include <sstream>
#include <system_error>

namespace bitscrape::testnet {

namespace {

using nlohmann::json;

json torrent_json(const ManifestTorrent& t) {
  auto files = json::array();
  for (const auto& f : t.files) files.push_back({{"path", f.path}, {"length", f.length}});
  return {
      {"index", t.index},
      {"kind", t.kind},
      {"name", t.name},
      {"infohash_v1", t.infohash_v1 ? json(*t.infohash_v1) : json(nullptr)},
      {"infohash_v2", t.infohash_v2 ? json(*t.infohash_v2) : json(nullptr)},
      {"dht_keys", t.dht_keys},
      {"total_bytes", t.total_bytes},
      {"piece_length", t.piece_length},
      {"file_count", t.file_count},
      {"files", std::move(files)},
      {"seeder", t.seeder},
      {"liars", t.liars},
      {"slow", t.slow},
  };
}

json tail_json(const Manifest& m) {
  auto stats = json::object();
  for (const auto& [k, v] : m.stats) stats[k] = v;
  return {{"bootstrap", m.bootstrap}, {"nodes", m.nodes}, {"stats", std::move(stats)}};
}

std::optional<std::string> opt_string(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<std::string>();
}

std::vector<std::string> string_list(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  return it->get<std::vector<std::string>>();
}

}  // namespace

ManifestTorrent manifest_entry(const GeneratedTorrent& t) {
  ManifestTorrent m;
  m.index = t.index;
  m.kind = t.kind_name();
  m.name = t.name;
  if (t.v1) m.infohash_v1 = t.v1->hex();
  if (t.v2)
    m.infohash_v2 = to_hex(std::string_view(reinterpret_cast<const char*>(t.v2->data()), t.v2->size()));
  for (const auto& k : t.dht_keys()) m.dht_keys.push_back(k.hex());
  m.total_bytes = t.total_bytes;
  m.piece_length = t.piece_length;
  m.file_count = t.files.size();
  m.files.reserve(t.files.size());
  for (const auto& f : t.files) m.files.push_back({f.path, f.length});
  return m;
}

Result<ManifestWriter, std::string> ManifestWriter::open(const std::filesystem::path& path) {
  auto partial = path;
  partial += ".partial";
  std::ofstream out(partial, std::ios::binary | std::ios::trunc);
  if (!out) return Unexpected{"cannot write " + partial.string()};
  out << "{\"torrents\": [";
  return ManifestWriter(path, std::move(partial), std::move(out));
}

ManifestWriter::ManifestWriter(ManifestWriter&& o) noexcept
    : path_(std::move(o.path_)),
      partial_(std::move(o.partial_)),
      out_(std::move(o.out_)),
      count_(o.count_),
      finished_(o.finished_) {
  o.finished_ = true;  // the moved-from writer owns no file
}

ManifestWriter::~ManifestWriter() {
  if (finished_) return;
  out_.close();
  std::error_code ec;
  std::filesystem::remove(partial_, ec);
}

Result<void, std::string> ManifestWriter::add(const ManifestTorrent& t) {
  out_ << (count_ == 0 ? "\n" : ",\n") << torrent_json(t).dump();
  ++count_;
  if (!out_) return Unexpected{"writing " + partial_.string() + " failed"};
  return {};
}

Result<void, std::string> ManifestWriter::finish(const Manifest& m) {
  const auto tail = tail_json(m).dump();
  // tail is {"bootstrap":...}: splice its members after the torrents array.
  out_ << "\n], " << std::string_view(tail).substr(1) << "\n";
  out_.close();
  if (!out_) return Unexpected{"writing " + partial_.string() + " failed"};
  std::error_code ec;
  std::filesystem::rename(partial_, path_, ec);
  if (ec)
    return Unexpected{"cannot rename " + partial_.string() + " to " + path_.string() + ": " + ec.message()};
  finished_ = true;
  return {};
}

std::string to_json(const Manifest& m) {
  auto j = tail_json(m);
  auto arr = json::array();
  for (const auto& t : m.torrents) arr.push_back(torrent_json(t));
  j["torrents"] = std::move(arr);
  return j.dump(1);
}

Result<Manifest, std::string> parse_manifest(std::string_view text) {
  try {
    const auto j = json::parse(text);
    Manifest m;
    m.bootstrap = j.at("bootstrap").get<std::string>();
    m.nodes = j.at("nodes").get<std::vector<std::string>>();
    if (const auto it = j.find("stats"); it != j.end()) {
      for (const auto& [k, v] : it->items())
        if (v.is_number()) m.stats.emplace_back(k, v.get<double>());
    }
    for (const auto& t : j.at("torrents")) {
      ManifestTorrent e;
      e.index = t.value("index", std::uint64_t{0});
      e.kind = t.at("kind").get<std::string>();
      e.name = t.at("name").get<std::string>();
      e.infohash_v1 = opt_string(t, "infohash_v1");
      e.infohash_v2 = opt_string(t, "infohash_v2");
      e.dht_keys = string_list(t, "dht_keys");
      e.total_bytes = t.at("total_bytes").get<std::int64_t>();
      e.piece_length = t.at("piece_length").get<std::int64_t>();
      e.file_count = t.at("file_count").get<std::size_t>();
      for (const auto& f : t.at("files"))
        e.files.push_back({f.at("path").get<std::string>(), f.at("length").get<std::int64_t>()});
      e.seeder = t.value("seeder", std::string());
      e.liars = string_list(t, "liars");
      e.slow = string_list(t, "slow");
      m.torrents.push_back(std::move(e));
    }
    return m;
  } catch (const json::exception& e) {
    return Unexpected{std::string("manifest: ") + e.what()};
  }
}

Result<Manifest, std::string> read_manifest(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unexpected{"cannot read " + path.string()};
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_manifest(ss.str());
}

}  // namespace bitscrape::testnet
