// Telemetry: one snapshot of a running crawl, and the one way components list their counters.
//
// Every component that counts things (dht::Node, crawler::Pipeline, the metadata pool and
// fetch scheduler, storage::StoreWriter, crawler::ClientVersions, ...) exposes its counters as
// a plain struct plus `for_each(f)` that calls `f(std::string_view name, std::uint64_t value,
// MetricKind kind)` for each one, declared once (an X-macro, see dht/counters.hpp). A Collector
// gathers them under a prefix; app::Telemetry turns them into a Snapshot once a second, with the
// rates computed once; Prometheus (/metrics), the SSE stream and /api/status, `--stats-json`,
// the stored counter series and the status line all render from that one Snapshot.
//
// Threading: plain values; a Snapshot is copied between threads by its owner.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bitscrape::telemetry {

// Counters only grow (Prometheus `counter`); gauges go up and down.
enum class MetricKind : std::uint8_t { counter, gauge };

// Declares one counter field from an X-macro entry X(name, kind) (kind: counter or gauge) and
// visits it; see dht/counters.hpp for the pattern.
#define BITSCRAPE_COUNTER_FIELD(name, kind) std::uint64_t name = 0;
#define BITSCRAPE_COUNTER_VISIT(name, kind) \
  f(std::string_view(#name), static_cast<std::uint64_t>(name), ::bitscrape::telemetry::MetricKind::kind);

// A named number. Names are the crawler's own identifiers: [a-z0-9_], at most 64 bytes.
struct Metric {
  std::string name;
  double value = 0;
  bool gauge = false;
};

// Gathers (name, value, kind) triples from components, each under a prefix ("dht_", ...).
class Collector {
 public:
  template <class Part>
  void add(std::string_view prefix, const Part& part) {
    part.for_each([&](std::string_view name, std::uint64_t value, MetricKind kind) {
      metrics_.push_back(Metric{std::string(prefix) + std::string(name), static_cast<double>(value),
                                kind == MetricKind::gauge});
    });
  }
  void add(std::string name, double value, MetricKind kind) {
    metrics_.push_back(Metric{std::move(name), value, kind == MetricKind::gauge});
  }
  std::vector<Metric> take() { return std::move(metrics_); }

 private:
  std::vector<Metric> metrics_;
};

struct QueueDepth {
  std::string name;            // "lookup", "fetch", "store_writer", ...
  std::uint64_t depth = 0;     // items queued now
  std::uint64_t capacity = 0;  // its bound; 0 when unbounded or unknown
};

// Counters and rates at one instant. Rates are per second over a recent window (a few
// seconds); totals count since the crawl started unless said otherwise.
struct Snapshot {
  std::chrono::sys_seconds at{};
  double uptime_s = 0;

  std::uint64_t nodes_in_table = 0;  // routing-table nodes, all families
  std::uint64_t samples_total = 0;   // BEP-51 samples received
  double samples_per_s = 0;
  std::uint64_t infohashes_total = 0;  // distinct infohashes discovered
  double infohashes_per_s = 0;
  std::uint64_t metadata_total = 0;  // torrents fetched and verified
  double metadata_per_s = 0;
  std::uint64_t metadata_failures = 0;  // infohashes whose round ended without metadata
  double metadata_success_rate = 0;     // verified fetches / finished attempts, 0..1
  std::uint64_t packets_in = 0;
  std::uint64_t packets_out = 0;
  double packets_in_per_s = 0;
  double packets_out_per_s = 0;
  std::vector<QueueDepth> queues;

  // The current state of the controls.
  bool sampling_paused = false;
  bool fetching_paused = false;
  double packet_budget = 0;  // outgoing packets/s
  // This crawl's id in the database's instances table (0: not registered).
  std::int64_t instance_id = 0;

  // Every counter and gauge of every component, by name, in a stable order.
  std::vector<Metric> counters;

  // The value of a counter by name (0 when absent).
  double counter(std::string_view name) const {
    for (const auto& c : counters) {
      if (c.name == name) return c.value;
    }
    return 0;
  }
  std::uint64_t queue_depth(std::string_view name) const {
    for (const auto& q : queues) {
      if (q.name == name) return q.depth;
    }
    return 0;
  }
};

}  // namespace bitscrape::telemetry
