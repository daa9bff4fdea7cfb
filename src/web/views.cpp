#include "web/views.hpp"

#include "metainfo/magnet.hpp"
#include "web/export.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

namespace bitscrape::web {
namespace {

// JSON has no NaN or infinity; a misbehaving source must not make the document invalid.
double finite(double v) {
  return std::isfinite(v) ? v : 0.0;
}

struct Dir {
  std::map<std::string, std::unique_ptr<Dir>> dirs;
  std::vector<std::pair<std::string, std::int64_t>> files;
  std::int64_t size = 0;
  std::uint64_t count = 0;
};

Json dir_json(const std::string& name, const Dir& d) {
  Json children = Json::array();
  for (const auto& [n, sub] : d.dirs) children.push_back(dir_json(n, *sub));
  auto files = d.files;
  std::stable_sort(files.begin(), files.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [n, len] : files) children.push_back({{"name", n}, {"size", len}});
  return {{"name", name}, {"size", d.size}, {"files", d.count}, {"children", std::move(children)}};
}

}  // namespace

std::string dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json error_json(std::string_view message) {
  return {{"error", std::string(message)}};
}

Json summary_json(const storage::TorrentSummary& t) {
  Json j;
  put_keys(j, t.infohash_v1, t.infohash_v2);
  j["name"] = t.name;
  j["total_bytes"] = t.total_size;
  j["file_count"] = t.file_count;
  j["private"] = t.is_private;
  j["discovered_at"] = iso8601(t.discovered_at);
  j["fetched_at"] = iso8601(t.fetched_at);
  return j;
}

Json stats_json(const storage::StoreStats& s) {
  return {{"nodes", s.nodes}, {"infohashes", s.infohashes}, {"torrents", s.torrents}, {"files", s.files},
          {"peers", s.peers}, {"pending", s.pending},       {"failed", s.failed}};
}

Json live_json(const telemetry::Snapshot& s) {
  Json queues = Json::array();
  for (const auto& q : s.queues)
    queues.push_back({{"name", q.name}, {"depth", q.depth}, {"capacity", q.capacity}});
  Json counters = Json::object();
  for (const auto& c : s.counters) counters[c.name] = finite(c.value);
  return {{"at", iso8601(s.at)},
          {"uptime_s", finite(s.uptime_s)},
          {"nodes_in_table", s.nodes_in_table},
          {"samples_per_s", finite(s.samples_per_s)},
          {"infohashes_total", s.infohashes_total},
          {"infohashes_per_s", finite(s.infohashes_per_s)},
          {"metadata_total", s.metadata_total},
          {"metadata_per_s", finite(s.metadata_per_s)},
          {"metadata_success_rate", finite(s.metadata_success_rate)},
          {"packets_in", s.packets_in},
          {"packets_out", s.packets_out},
          {"packets_in_per_s", finite(s.packets_in_per_s)},
          {"packets_out_per_s", finite(s.packets_out_per_s)},
          {"queues", std::move(queues)},
          {"sampling_paused", s.sampling_paused},
          {"fetching_paused", s.fetching_paused},
          {"packet_budget", finite(s.packet_budget)},
          {"instance_id", s.instance_id == 0 ? Json(nullptr) : Json(s.instance_id)},
          {"counters", std::move(counters)}};
}

Json instances_json(const std::vector<storage::InstanceRecord>& instances, storage::UnixTime alive_since) {
  Json out = Json::array();
  for (const auto& x : instances) {
    const bool live = !x.last.stopped && x.last.at >= alive_since;
    out.push_back({{"id", x.id},
                   {"node_id", x.info.node_id.hex()},
                   {"listen", x.info.listen},
                   {"host", x.info.host},
                   {"started", iso8601(x.info.started)},
                   {"last_heartbeat", iso8601(x.last.at)},
                   {"state", live ? "live" : x.last.stopped ? "stopped" : "gone"},
                   {"infohashes", x.last.infohashes},
                   {"torrents", x.last.torrents},
                   {"infohashes_per_s", finite(x.last.infohashes_per_s)},
                   {"torrents_per_s", finite(x.last.torrents_per_s)},
                   {"packets_per_s", finite(x.last.packets_per_s)}});
  }
  return out;
}

Json routing_json(const std::vector<RoutingTableFill>& tables) {
  Json out = Json::array();
  for (const auto& t : tables) {
    Json buckets = Json::array();
    std::uint64_t nodes = 0;
    for (const auto& b : t.buckets) {
      nodes += b.nodes;
      buckets.push_back({{"prefix_bits", b.prefix_bits},
                         {"nodes", b.nodes},
                         {"capacity", b.capacity},
                         {"replacements", b.replacements}});
    }
    out.push_back({{"family", t.family}, {"nodes", nodes}, {"buckets", std::move(buckets)}});
  }
  return out;
}

Json keyspace_json(const KeyspaceCoverage& k) {
  // Only 4- and 8-bit prefixes are meaningful to the UI; anything else is reported as empty.
  const std::uint32_t bits = (k.prefix_bits == 4 || k.prefix_bits == 8) ? k.prefix_bits : 8;
  const std::size_t n = std::size_t{1} << bits;
  Json nodes = Json::array(), samples = Json::array();
  std::uint64_t covered = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const KeyspaceCell c = i < k.cells.size() && bits == k.prefix_bits ? k.cells[i] : KeyspaceCell{};
    nodes.push_back(c.nodes_queried);
    samples.push_back(c.samples);
    if (c.nodes_queried > 0) ++covered;
  }
  return {{"prefix_bits", bits},
          {"nodes_queried", std::move(nodes)},
          {"samples", std::move(samples)},
          {"covered_fraction", static_cast<double>(covered) / static_cast<double>(n)}};
}

Json clients_json(const std::vector<ClientCount>& clients, std::size_t max) {
  Json out = Json::array();
  for (std::size_t i = 0; i < clients.size() && i < max; ++i) {
    out.push_back({{"version", clients[i].version}, {"nodes", clients[i].nodes}});
  }
  return out;
}

Json discovery_json(const Discovery& d) {
  Json j{{"at", iso8601(d.at)},
         {"infohash", d.infohash.hex()},
         {"kind", d.kind == DiscoveryKind::Metadata ? "metadata" : "infohash"}};
  if (d.kind == DiscoveryKind::Metadata) {
    j["name"] = d.name;
    j["total_bytes"] = d.total_size;
    j["file_count"] = d.file_count;
  } else {
    j["name"] = nullptr;
  }
  return j;
}

Json file_tree_json(const storage::TorrentRecord& t, std::size_t max_files) {
  Dir root;
  const auto files = export_files(t);
  std::size_t placed = 0;
  for (const auto& f : files) {
    if (placed == max_files) break;
    ++placed;
    Dir* d = &root;
    d->size += f.length;
    ++d->count;
    std::string_view path = f.path;
    while (true) {
      const auto slash = path.find('/');
      if (slash == std::string_view::npos) break;
      const auto comp = path.substr(0, slash);
      path.remove_prefix(slash + 1);
      if (comp.empty()) continue;
      auto& sub = d->dirs[std::string(comp)];
      if (!sub) sub = std::make_unique<Dir>();
      d = sub.get();
      d->size += f.length;
      ++d->count;
    }
    d->files.emplace_back(std::string(path.empty() ? "_" : path), f.length);
  }
  Json j = dir_json(t.name, root);
  j["truncated"] = placed < files.size() || files.size() < t.file_count;
  return j;
}

Json detail_json(const storage::TorrentRecord& t, const DetailExtras& extras, std::size_t max_tree_files) {
  Json j;
  put_keys(j, t.infohash_v1, t.infohash_v2);
  j["name"] = t.name;
  j["total_bytes"] = t.total_size;
  j["piece_length"] = t.piece_length;
  j["file_count"] = t.file_count;
  j["private"] = t.is_private;
  j["single_file"] =
      t.file_count == 1 && (t.files.empty() || (t.files.size() == 1 && t.files[0].path == t.name));
  j["discovered_at"] = iso8601(t.discovered_at);
  j["fetched_at"] = iso8601(t.fetched_at);
  j["magnet"] = metainfo::make_magnet(t.infohash_v1, t.infohash_v2, t.name);
  j["has_torrent_file"] = extras.has_info_dict;

  // First and last sighting over every key of the torrent.
  Json first = nullptr, last = nullptr, sources = Json::array();
  storage::SourceMask mask = 0;
  if (!extras.keys.empty()) {
    auto f = extras.keys.front().first_seen, l = extras.keys.front().last_seen;
    for (const auto& r : extras.keys) {
      f = std::min(f, r.first_seen);
      l = std::max(l, r.last_seen);
      mask = static_cast<storage::SourceMask>(mask | r.sources);
    }
    first = iso8601(f);
    last = iso8601(l);
  }
  j["first_seen"] = first;
  j["last_seen"] = last;
  j["sources"] = sources_json(mask);

  Json peers = Json::array();
  for (const auto& p : extras.peers) {
    peers.push_back({{"endpoint", p.endpoint.to_string()}, {"last_seen", iso8601(p.last_seen)}});
  }
  j["peers"] = {{"count", extras.peer_count}, {"recent", std::move(peers)}};
  j["files"] = file_tree_json(t, max_tree_files);
  return j;
}

}  // namespace bitscrape::web
