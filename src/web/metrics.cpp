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
    out_ += name + " " + number(value) + "\n";
  }
  std::string& out() { return out_; }
  bool claim(const std::string& name) { return seen_.insert(name).second; }

 private:
  std::string out_;
  std::set<std::string> seen_;
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

std::string prometheus_text(const std::optional<storage::StoreStats>& stats, const telemetry::Snapshot* live) {
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
  if (live) {
    const auto& s = *live;
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
    if (!s.queues.empty() && w.claim("bitscrape_queue_depth") && w.claim("bitscrape_queue_capacity")) {
      auto& o = w.out();
      o += "# HELP bitscrape_queue_depth Items queued.\n# TYPE bitscrape_queue_depth gauge\n";
      for (const auto& q : s.queues) {
        o += "bitscrape_queue_depth{queue=\"" + label_value(q.name) + "\"} " +
             number(static_cast<double>(q.depth)) + "\n";
      }
      o += "# HELP bitscrape_queue_capacity Queue bound (0: unbounded).\n# TYPE bitscrape_queue_capacity "
           "gauge\n";
      for (const auto& q : s.queues) {
        o += "bitscrape_queue_capacity{queue=\"" + label_value(q.name) + "\"} " +
             number(static_cast<double>(q.capacity)) + "\n";
      }
    }
    for (const auto& c : s.counters) {
      w.metric("bitscrape_" + c.name, c.gauge ? "gauge" : "counter",
               "Crawler counter " + metric_name(c.name) + ".", c.value);
    }
  }
  return std::move(w.out());
}

}  // namespace bitscrape::web
