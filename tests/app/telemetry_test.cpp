#include "app/telemetry.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace bitscrape::app {
namespace {

using telemetry::MetricKind;

// A component as the crawler's are: its counters declared once, listed by for_each.
#define TEST_PART_COUNTERS(X)                                                   \
  X(samples_received, counter)                                                  \
  X(packets_in, counter) X(packets_out, counter) X(gauge_table_v4_nodes, gauge) \
      X(gauge_table_v6_nodes, gauge)
struct FakeDht {
  TEST_PART_COUNTERS(BITSCRAPE_COUNTER_FIELD)
  template <class F>
  void for_each(F&& f) const {
    TEST_PART_COUNTERS(BITSCRAPE_COUNTER_VISIT)
  }
};
#define TEST_PIPE_COUNTERS(X) \
  X(infohashes_new, counter) X(torrents_fetched, counter) X(fetch_failures, counter)
struct FakePipeline {
  TEST_PIPE_COUNTERS(BITSCRAPE_COUNTER_FIELD)
  template <class F>
  void for_each(F&& f) const {
    TEST_PIPE_COUNTERS(BITSCRAPE_COUNTER_VISIT)
  }
};

struct Rig {
  using Clock = Telemetry::Clock;
  Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(1);
  Telemetry tm{t0};
  FakeDht dht;
  FakePipeline pipe;
  std::uint64_t lookups = 0;
  Rig() {
    tm.add_source([this](telemetry::Collector& c) { c.add("dht_", dht); });
    tm.add_source([this](telemetry::Collector& c) { c.add("pipeline_", pipe); });
    tm.set_decorate([this](telemetry::Snapshot& s) {
      s.queues = {{"lookup", lookups, 0}};
      s.packet_budget = 123;
    });
  }
  const telemetry::Snapshot& at(double seconds) {
    const auto now = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    return tm.update(
        now, std::chrono::sys_seconds(std::chrono::seconds(1'800'000'000 + static_cast<long>(seconds))));
  }
};

TEST(Telemetry, HeadlineFiguresComeFromTheComponentsCounters) {
  Rig r;
  r.dht.samples_received = 40;
  r.dht.gauge_table_v4_nodes = 7;
  r.dht.gauge_table_v6_nodes = 2;
  r.dht.packets_in = 100;
  r.pipe.infohashes_new = 30;
  r.pipe.torrents_fetched = 3;
  r.pipe.fetch_failures = 1;
  r.lookups = 5;
  const auto& s = r.at(1);
  EXPECT_EQ(s.nodes_in_table, 9u);
  EXPECT_EQ(s.samples_total, 40u);
  EXPECT_EQ(s.infohashes_total, 30u);
  EXPECT_EQ(s.metadata_total, 3u);
  EXPECT_DOUBLE_EQ(s.metadata_success_rate, 0.75);
  EXPECT_EQ(s.packets_in, 100u);
  EXPECT_EQ(s.queue_depth("lookup"), 5u);
  EXPECT_DOUBLE_EQ(s.packet_budget, 123);
  EXPECT_EQ(s.at.time_since_epoch().count(), 1'800'000'001);
  // Every counter, prefixed, with the kind its component declared: no guessing from the name.
  ASSERT_EQ(s.counters.size(), 8u);
  EXPECT_EQ(s.counters[0].name, "dht_samples_received");
  EXPECT_FALSE(s.counters[0].gauge);
  EXPECT_EQ(s.counters[3].name, "dht_gauge_table_v4_nodes");
  EXPECT_TRUE(s.counters[3].gauge);
  EXPECT_EQ(s.counters[7].name, "pipeline_fetch_failures");
}

TEST(Telemetry, RatesAreComputedOnceAndSmoothed) {
  Rig r;
  r.at(0);
  // A steady 100 infohashes a second: the moving average approaches it from below.
  double last = 0;
  for (int i = 1; i <= 30; ++i) {
    r.pipe.infohashes_new += 100;
    const auto& s = r.at(i);
    EXPECT_GE(s.infohashes_per_s, last);
    last = s.infohashes_per_s;
  }
  EXPECT_NEAR(last, 100, 1);
  // The consumers read the same number: the published copy is this snapshot.
  EXPECT_DOUBLE_EQ(r.tm.latest().infohashes_per_s, last);
}

TEST(Telemetry, StatusLineAveragesSinceThePreviousLineUnlessSmoothed) {
  Rig r;
  r.at(0);
  (void)r.tm.status_line(false);
  r.pipe.infohashes_new = 50;  // one burst in ten seconds
  r.at(10);
  const auto line = r.tm.status_line(false);
  EXPECT_NE(line.find("infohashes 50 (5.0/s)"), std::string::npos) << line;
  EXPECT_NE(line.find("queues: lookup 0"), std::string::npos) << line;
}

TEST(Telemetry, StatsJsonAndSeriesRenderTheSameSnapshot) {
  Rig r;
  r.dht.packets_out = 77;
  r.pipe.torrents_fetched = 4;
  r.at(2);
  const auto j = nlohmann::json::parse(r.tm.stats_json());
  EXPECT_EQ(j.at("dht_packets_out"), 77);
  EXPECT_EQ(j.at("pipeline_torrents_fetched"), 4);
  EXPECT_EQ(j.size(), 8u);
  const auto cs = r.tm.counter_sample();
  EXPECT_EQ(cs.at, r.tm.current().at);
  bool metadata = false, packets = false;
  for (const auto& [k, v] : cs.values) {
    metadata = metadata || (k == "metadata_total" && v == 4);
    packets = packets || (k == "dht_packets_out" && v == 77);
  }
  EXPECT_TRUE(metadata);
  EXPECT_TRUE(packets);
}

}  // namespace
}  // namespace bitscrape::app
