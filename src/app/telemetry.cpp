#include "app/telemetry.hpp"

#include <nlohmann/json.hpp>

#include <fmt/core.h>
#include <algorithm>
#include <cmath>

namespace bitscrape::app {

namespace {

constexpr double kRateWindowS = 5.0;  // time constant of the live rates

// The counters the headline figures are read from (their components' names, with the prefix
// the crawler registers them under).
constexpr std::string_view kNodesV4 = "dht_gauge_table_v4_nodes";
constexpr std::string_view kNodesV6 = "dht_gauge_table_v6_nodes";
constexpr std::string_view kSamples = "dht_samples_received";
constexpr std::string_view kPacketsIn = "dht_packets_in";
constexpr std::string_view kPacketsOut = "dht_packets_out";
constexpr std::string_view kInfohashes = "pipeline_infohashes_new";
constexpr std::string_view kTorrents = "pipeline_torrents_fetched";
constexpr std::string_view kFailures = "pipeline_fetch_failures";

// Stored every sample for the history charts, besides the headline totals.
constexpr std::string_view kSeries[] = {
    "dht_packets_in",           "dht_packets_out",           "dht_samples_received",
    "pipeline_infohashes_new",  "pipeline_torrents_fetched", "pipeline_fetch_failures",
    "dht_gauge_table_v4_nodes", "dht_gauge_table_v6_nodes",  "pipeline_lookups_started",
    "fetch_connections_started"};

std::uint64_t u64(double v) {
  return v > 0 ? static_cast<std::uint64_t>(v) : 0;
}

}  // namespace

const telemetry::Snapshot& Telemetry::update(Clock::time_point now, std::chrono::sys_seconds wall) {
  telemetry::Collector c;
  for (const auto& g : sources_) g(c);
  prev_ = std::move(cur_);
  telemetry::Snapshot s;
  s.at = wall;
  s.uptime_s = std::chrono::duration<double>(now - started_).count();
  s.counters = c.take();
  s.nodes_in_table = u64(s.counter(kNodesV4) + s.counter(kNodesV6));
  s.samples_total = u64(s.counter(kSamples));
  s.infohashes_total = u64(s.counter(kInfohashes));
  s.metadata_total = u64(s.counter(kTorrents));
  s.metadata_failures = u64(s.counter(kFailures));
  const double attempts = static_cast<double>(s.metadata_total + s.metadata_failures);
  s.metadata_success_rate = attempts > 0 ? static_cast<double>(s.metadata_total) / attempts : 0;
  s.packets_in = u64(s.counter(kPacketsIn));
  s.packets_out = u64(s.counter(kPacketsOut));
  // An exponential moving average over ~5 s, so bursts (a sample reply brings 20 infohashes at
  // once) read as the steady rate they add up to.
  const double dt = std::max(1e-3, s.uptime_s - prev_.uptime_s);
  const double alpha = 1.0 - std::exp(-dt / kRateWindowS);
  const auto rate = [dt, alpha](std::uint64_t a, std::uint64_t b, double before) {
    const double now_rate = static_cast<double>(a - std::min(a, b)) / dt;
    return before + alpha * (now_rate - before);
  };
  s.samples_per_s = rate(s.samples_total, prev_.samples_total, prev_.samples_per_s);
  s.infohashes_per_s = rate(s.infohashes_total, prev_.infohashes_total, prev_.infohashes_per_s);
  s.metadata_per_s = rate(s.metadata_total, prev_.metadata_total, prev_.metadata_per_s);
  s.packets_in_per_s = rate(s.packets_in, prev_.packets_in, prev_.packets_in_per_s);
  s.packets_out_per_s = rate(s.packets_out, prev_.packets_out, prev_.packets_out_per_s);
  if (decorate_) decorate_(s);
  cur_ = std::move(s);
  {
    std::lock_guard lk(mu_);
    published_ = cur_;
  }
  return cur_;
}

telemetry::Snapshot Telemetry::latest() const {
  std::lock_guard lk(mu_);
  return published_;
}

std::string Telemetry::status_line(bool smoothed) {
  const auto& s = cur_;
  const auto& p = last_status_;
  const double dt = std::max(1e-3, s.uptime_s - p.uptime_s);
  const auto per_s = [&](std::uint64_t a, std::uint64_t b, double live) {
    return smoothed ? live : static_cast<double>(a - std::min(a, b)) / dt;
  };
  const std::string line = fmt::format(
      "nodes {} | samples {:.0f}/s | infohashes {} ({:.1f}/s) | metadata {} ({:.2f}/s, {:.0f}% ok) | "
      "queues: lookup {} (+{} active) fetch {} ({} conns) | pkts in {:.0f}/s out {:.0f}/s",
      s.nodes_in_table, per_s(s.samples_total, p.samples_total, s.samples_per_s), s.infohashes_total,
      per_s(s.infohashes_total, p.infohashes_total, s.infohashes_per_s), s.metadata_total,
      per_s(s.metadata_total, p.metadata_total, s.metadata_per_s), 100.0 * s.metadata_success_rate,
      s.queue_depth("lookup"), s.queue_depth("lookups_active"), s.queue_depth("fetch"),
      s.queue_depth("connections"), per_s(s.packets_in, p.packets_in, s.packets_in_per_s),
      per_s(s.packets_out, p.packets_out, s.packets_out_per_s));
  last_status_ = s;
  return line;
}

storage::CounterSample Telemetry::counter_sample() const {
  const auto& s = cur_;
  storage::CounterSample cs;
  cs.at = s.at;
  for (const auto k : kSeries)
    cs.values.emplace_back(std::string(k), static_cast<std::int64_t>(s.counter(k)));
  // The names the dashboard's history chart looks for first.
  cs.values.emplace_back("infohashes_total", static_cast<std::int64_t>(s.infohashes_total));
  cs.values.emplace_back("metadata_total", static_cast<std::int64_t>(s.metadata_total));
  cs.values.emplace_back("nodes_in_table", static_cast<std::int64_t>(s.nodes_in_table));
  cs.values.emplace_back("lookup_queue", static_cast<std::int64_t>(s.queue_depth("lookup")));
  cs.values.emplace_back("fetch_queue", static_cast<std::int64_t>(s.queue_depth("fetch")));
  return cs;
}

std::string Telemetry::stats_json() const {
  nlohmann::json j = nlohmann::json::object();  // sorted by name, as before
  for (const auto& c : cur_.counters) j[c.name] = u64(c.value);
  return j.dump(2) + "\n";
}

}  // namespace bitscrape::app
