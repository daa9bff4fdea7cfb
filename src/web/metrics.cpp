#include "web/metrics.hpp"

#include <cmath>
#include <cstdio>
#include <set>

namespace bitscrape::web {
namespace {

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  return buf;
}

class Writer {
 public:
  void metric(std::string_view raw_name, std::string_view type, std::string_view help, double value) {
    const std::string name = metric_name(raw_name);
    if (!seen_.insert(name).second) return;
    out_ += "# HELP " + name + " " + std::string(help) + "\n";
    out_ += "# TYPE " + name + " " + std::string(type) + "\n";
    out_ += name + (labels_.empty() ? "" : "{" + labels_ + "}") + " " + number(value) + "\n";
  }
  // One metric with a sample per labelled value (`labels`: `k="v",...` text, escaped).
  void family(std::string_view raw_name, std::string_view type, std::string_view help,
              const std::vector<std::pair<std::string, double>>& samples) {
    const std::string name = metric_name(raw_name);
    if (samples.empty() || !seen_.insert(name).second) return;
    out_ += "# HELP " + name + " " + std::string(help) + "\n";
    out_ += "# TYPE " + name + " " + std::string(type) + "\n";
    for (const auto& [labels, v] : samples) {
      std::string all = labels_;
      if (!all.empty() && !labels.empty()) all += ",";
      all += labels;
      out_ += name + "{" + all + "} " + number(v) + "\n";
    }
  }
  // Labels every later sample carries.
  void set_labels(std::string labels) { labels_ = std::move(labels); }
  std::string& out() { return out_; }

 private:
  std::string out_;
  std::set<std::string> seen_;
  std::string labels_;
};

}  // namespace

std::string metric_name(std::string_view raw) {
  std::string s;
  s.reserve(raw.size());
  for (char c : raw) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':';
    s += ok ? c : '_';
  }
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) s.insert(s.begin(), '_');
  return s;
}

std::string label_value(std::string_view raw) {
  std::string s;
  for (char c : raw) {
    if (c == '\\')
      s += "\\\\";
    else if (c == '"')
      s += "\\\"";
    else if (c == '\n')
      s += "\\n";
    else
      s += c;
  }
  return s;
}

std::string prometheus_text(const std::optional<storage::StoreStats>& stats, const telemetry::Snapshot* live,
                            const std::vector<storage::InstanceRecord>& instances, storage::UnixTime alive_since) {
  Writer w;
  w.metric("bitscrape_up", "gauge", "1 while the server answers.", 1);
  w.metric("bitscrape_live", "gauge", "1 when a crawl is running in this process, 0 when only browsing.",
           live ? 1 : 0);
  if (stats) {
    w.metric("bitscrape_store_nodes", "gauge", "DHT nodes stored.", static_cast<double>(stats->nodes));
    w.metric("bitscrape_store_infohashes", "gauge", "Infohashes stored.",
             static_cast<double>(stats->infohashes));
    w.metric("bitscrape_store_torrents", "gauge", "Torrents with verified metadata stored.",
             static_cast<double>(stats->torrents));
    w.metric("bitscrape_store_files", "gauge", "Files of the stored torrents.",
             static_cast<double>(stats->files));
    w.metric("bitscrape_store_peers", "gauge", "Peers stored.", static_cast<double>(stats->peers));
    w.metric("bitscrape_store_pending", "gauge", "Infohashes waiting for metadata.",
             static_cast<double>(stats->pending));
    w.metric("bitscrape_store_failed", "gauge", "Infohashes given up on.",
             static_cast<double>(stats->failed));
  }
  if (!instances.empty()) {
    std::vector<std::pair<std::string, double>> up, torrents, infohashes, torrent_rate, packet_rate, beat;
    for (const auto& x : instances) {
      const std::string l = "bitscrape_instance=\"" + std::to_string(x.id) + "\",host=\"" + label_value(x.info.host) + "\"";
      const bool alive = !x.last.stopped && x.last.at >= alive_since;
      up.emplace_back(l, alive ? 1 : 0);
      torrents.emplace_back(l, static_cast<double>(x.last.torrents));
      infohashes.emplace_back(l, static_cast<double>(x.last.infohashes));
      torrent_rate.emplace_back(l, x.last.torrents_per_s);
      packet_rate.emplace_back(l, x.last.packets_per_s);
      beat.emplace_back(l, static_cast<double>(x.last.at.time_since_epoch().count()));
    }
    w.family("bitscrape_instance_up", "gauge", "1 while a crawler instance of this database is live.", up);
    w.family("bitscrape_instance_torrents", "gauge", "Torrents the instance stored (its last heartbeat).",
             torrents);
    w.family("bitscrape_instance_infohashes", "gauge", "New infohashes the instance found (its last heartbeat).",
             infohashes);
    w.family("bitscrape_instance_torrents_per_second", "gauge", "Torrents per second (its last heartbeat).",
             torrent_rate);
    w.family("bitscrape_instance_packets_per_second", "gauge", "DHT packets in and out per second.", packet_rate);
    w.family("bitscrape_instance_heartbeat_timestamp_seconds", "gauge", "Unix time of its last heartbeat.", beat);
  }
  if (live) {
    const auto& s = *live;
    if (s.instance_id != 0) w.set_labels("bitscrape_instance=\"" + std::to_string(s.instance_id) + "\"");
    w.metric("bitscrape_live_uptime_seconds", "gauge", "Seconds since the crawl started.", s.uptime_s);
    w.metric("bitscrape_live_nodes_in_table", "gauge", "Nodes in the routing tables.",
             static_cast<double>(s.nodes_in_table));
    w.metric("bitscrape_live_samples_per_second", "gauge", "BEP-51 samples received per second.",
             s.samples_per_s);
    w.metric("bitscrape_live_infohashes_total", "counter", "Distinct infohashes discovered.",
             static_cast<double>(s.infohashes_total));
    w.metric("bitscrape_live_infohashes_per_second", "gauge", "Infohashes discovered per second.",
             s.infohashes_per_s);
    w.metric("bitscrape_live_metadata_total", "counter", "Torrents fetched and verified.",
             static_cast<double>(s.metadata_total));
    w.metric("bitscrape_live_metadata_per_second", "gauge", "Torrents fetched per second.", s.metadata_per_s);
    w.metric("bitscrape_live_metadata_success_ratio", "gauge", "Verified fetches / finished attempts.",
             s.metadata_success_rate);
    w.metric("bitscrape_live_packets_in_total", "counter", "DHT packets received.",
             static_cast<double>(s.packets_in));
    w.metric("bitscrape_live_packets_out_total", "counter", "DHT packets sent.",
             static_cast<double>(s.packets_out));
    w.metric("bitscrape_live_packets_in_per_second", "gauge", "DHT packets received per second.",
             s.packets_in_per_s);
    w.metric("bitscrape_live_packets_out_per_second", "gauge", "DHT packets sent per second.",
             s.packets_out_per_s);
    w.metric("bitscrape_live_packet_budget", "gauge", "Outgoing packet budget per second.", s.packet_budget);
    w.metric("bitscrape_live_sampling_paused", "gauge", "1 while sampling is paused.",
             s.sampling_paused ? 1 : 0);
    w.metric("bitscrape_live_fetching_paused", "gauge", "1 while metadata fetching is paused.",
             s.fetching_paused ? 1 : 0);
    std::vector<std::pair<std::string, double>> depth, capacity;
    for (const auto& q : s.queues) {
      const std::string l = "queue=\"" + label_value(q.name) + "\"";
      depth.emplace_back(l, static_cast<double>(q.depth));
      capacity.emplace_back(l, static_cast<double>(q.capacity));
    }
    w.family("bitscrape_queue_depth", "gauge", "Items queued.", depth);
    w.family("bitscrape_queue_capacity", "gauge", "Queue bound (0: unbounded).", capacity);
    for (const auto& c : s.counters) {
      w.metric("bitscrape_" + c.name, c.gauge ? "gauge" : "counter",
               "Crawler counter " + metric_name(c.name) + ".", c.value);
    }
  }
  return std::move(w.out());
}

}  // namespace bitscrape::web
