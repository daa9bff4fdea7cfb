// LookupGovernor and the pipeline's concurrency: the number of lookups follows the packet
// budget and what lookups cost, and the fetcher's room, not a fixed number.
#include "crawler/lookup_governor.hpp"
#include "crawler/pipeline.hpp"

#include <gtest/gtest.h>

#include <map>

namespace bitscrape::crawler {
namespace {

using namespace std::chrono_literals;

InfoHash key(int n) {
  InfoHash h;
  h.bytes[0] = static_cast<std::uint8_t>(n);
  h.bytes[1] = static_cast<std::uint8_t>(n >> 8);
  h.bytes[19] = 0x5a;
  return h;
}

// A pipeline environment over a modelled node: every running lookup wants `lookup_pps` packets a
// second and needs `packets_per_lookup` to finish; the node's token bucket lets `budget_pps`
// through and counts a wait whenever it held queries back. Other traffic (sampler, replies)
// takes `background_pps` first.
struct ModelEnv : PipelineEnv {
  double budget_pps = 1000;
  double background_pps = 0;
  double lookup_pps = 10;
  double packets_per_lookup = 20;
  std::size_t capacity = std::numeric_limits<std::size_t>::max();
  std::size_t backlog = 0;

  double packets = 0;
  std::uint64_t waits = 0;
  std::map<dht::LookupId, double> running;  // lookup -> packets still to send
  dht::LookupId next_id = 1;
  std::size_t started = 0;

  dht::LookupId start_get_peers(const InfoHash&, dht::TimePoint,
                                std::span<const krpc::CompactNode>) override {
    running[next_id] = packets_per_lookup;
    ++started;
    return next_id++;
  }
  bool fetch(const InfoHash&, std::span<const Endpoint>, int) override { return true; }
  std::size_t fetch_backlog() const override { return backlog; }
  std::size_t fetch_capacity() const override { return capacity; }
  BudgetSample budget() const override { return {budget_pps, static_cast<std::uint64_t>(packets), waits}; }
  std::vector<bool> claim(std::span<const InfoHash> keys) override {
    return std::vector<bool>(keys.size(), true);
  }
  void record(storage::StoreWriter::Record) override {}
  storage::UnixTime wall_now() const override { return storage::from_unix(1'700'000'000); }

  // Advances the node by `dt`; returns the lookups that finished.
  std::vector<dht::LookupId> advance(dht::Duration dt) {
    const double s = std::chrono::duration<double>(dt).count();
    const double want = background_pps * s + static_cast<double>(running.size()) * lookup_pps * s;
    const double can = budget_pps * s;
    if (want > can + 1e-9) ++waits;
    const double sent = std::min(want, can);
    packets += sent;
    const double bg = std::min(background_pps * s, sent);
    const double per_lookup = running.empty() ? 0 : (sent - bg) / static_cast<double>(running.size());
    std::vector<dht::LookupId> done;
    for (auto& [id, left] : running) {
      left -= per_lookup;
      if (left <= 1e-9) done.push_back(id);
    }
    for (const auto id : done) running.erase(id);
    return done;
  }
};

struct Run {
  double mean_active = 0;
  double mean_used_pps = 0;
  std::size_t finished = 0;
};

// Runs a pipeline with plenty of queued keys against the model for `seconds`; the means are over
// the second half.
Run crawl(ModelEnv& env, PipelineConfig cfg = {}, int seconds = 60) {
  Pipeline p(env, cfg);
  for (int i = 0; i < 20000; ++i) p.on_infohash_seen(key(i), dht::InfohashSource::Sample, Endpoint{});
  dht::TimePoint now{};
  Run r;
  double active_sum = 0;
  double packets_at_half = 0;
  int samples = 0;
  const int steps = seconds * 10;
  for (int step = 0; step < steps; ++step) {
    p.tick(now);
    now += 100ms;
    for (const auto id : env.advance(100ms)) {
      dht::LookupResult res;
      res.id = id;
      res.kind = dht::LookupKind::GetPeers;
      res.queried = static_cast<std::size_t>(env.packets_per_lookup);
      p.on_lookup_done(res);
      ++r.finished;
    }
    if (step == steps / 2) packets_at_half = env.packets;
    if (step >= steps / 2) {
      active_sum += static_cast<double>(p.lookups_active());
      ++samples;
    }
    EXPECT_LE(p.lookups_active(), cfg.max_lookups);
  }
  r.mean_active = active_sum / samples;
  r.mean_used_pps = (env.packets - packets_at_half) / (seconds / 2.0);
  return r;
}

TEST(LookupGovernor, MoreBudgetRunsMoreLookups) {
  // 10 packets/s per lookup: a 1,000 packets/s budget carries ~90 lookups at 90%, 100 carries ~9.
  // A fixed cap (48) would leave most of the large budget unused and swamp the small one.
  ModelEnv big;
  big.budget_pps = 1000;
  const auto b = crawl(big);
  ModelEnv small;
  small.budget_pps = 100;
  const auto s = crawl(small);
  EXPECT_GT(b.mean_active, 60);
  EXPECT_LE(b.mean_active, 100);
  EXPECT_GT(b.mean_used_pps, 0.7 * 1000);
  EXPECT_GE(s.mean_active, 4);
  EXPECT_LE(s.mean_active, 12);
  EXPECT_GT(s.mean_used_pps, 0.6 * 100);
  EXPECT_GT(b.finished, 8 * s.finished);
}

TEST(LookupGovernor, CheaperLookupsRunMoreAtOnceOtherTrafficLeavesLess) {
  ModelEnv cheap;
  cheap.lookup_pps = 2;  // slow lookups (long timeouts) spend little per second each
  const auto c = crawl(cheap);
  EXPECT_GT(c.mean_active, 250);  // ~450 fit in the budget; the 512 safety bound above
  ModelEnv busy;
  busy.background_pps = 600;  // replies and the sampler take most of the budget
  const auto b = crawl(busy);
  EXPECT_LE(b.mean_active, 35);  // (900 - 600) / 10 = 30
  EXPECT_GE(b.mean_active, 15);
}

TEST(LookupGovernor, SafetyBoundHolds) {
  ModelEnv env;
  env.lookup_pps = 0.5;  // the budget would carry 1,800
  PipelineConfig cfg;
  cfg.max_lookups = 100;
  const auto r = crawl(env, cfg, 30);
  EXPECT_GT(r.mean_active, 95);  // crawl() checks every step that it never exceeds 100
}

TEST(LookupGovernor, NoLookupStartsThatTheFetcherCannotTake) {
  ModelEnv env;
  env.capacity = 40;
  env.backlog = 35;  // the fetcher holds 35 infohashes and can work on 40
  const auto r = crawl(env, {}, 10);
  EXPECT_LE(r.mean_active, 5.0);
  EXPECT_GT(r.mean_active, 4.0);
  env.backlog = 40;
  Pipeline p(env, {});
  p.on_infohash_seen(key(1), dht::InfohashSource::Sample, Endpoint{});
  const auto before = env.started;
  p.tick(dht::TimePoint{});
  EXPECT_EQ(env.started, before);
  EXPECT_EQ(p.lookup_limit(), 0u);
}

TEST(LookupGovernor, IdleCrawlerDoesNotInflateItsLimit) {
  LookupGovernorConfig cfg;
  cfg.initial_lookups = 8;
  LookupGovernor g(cfg);
  dht::TimePoint now{};
  std::uint64_t packets = 0;
  for (int i = 0; i < 200; ++i) {
    if (g.tick(now, 1)) g.control(now, {1000, packets, 0});
    g.started(1, false);  // one lookup running, nothing held back
    g.lookup_done(5);
    packets += 10;
    now += 100ms;
  }
  EXPECT_EQ(g.limit(), 8u);
  EXPECT_EQ(g.increases(), 0u);
}

TEST(LookupGovernor, SaturationCutsTheLimitToTheFloor) {
  LookupGovernorConfig cfg;
  cfg.initial_lookups = 64;
  cfg.min_lookups = 3;
  LookupGovernor g(cfg);
  dht::TimePoint now{};
  std::uint64_t waits = 0;
  std::uint64_t packets = 0;
  for (int i = 0; i < 100; ++i) {
    if (g.tick(now, 64)) g.control(now, {1000, packets, waits});
    g.started(64, true);
    packets += 100;  // the full budget
    ++waits;         // and the node held queries back
    now += 100ms;
  }
  EXPECT_EQ(g.limit(), 3u);
  EXPECT_GT(g.decreases(), 5u);
  EXPECT_EQ(g.increases(), 0u);
}

TEST(LookupGovernor, WaitsInBurstsTheBucketAbsorbsDoNotCut) {
  // Half the budget on average, but every interval some query waited for the token bucket (a
  // batch of lookups starting at once): the limit keeps growing while it holds keys back.
  LookupGovernorConfig cfg;
  cfg.initial_lookups = 8;
  LookupGovernor g(cfg);
  dht::TimePoint now{};
  std::uint64_t waits = 0;
  std::uint64_t packets = 0;
  for (int i = 0; i < 20; ++i) {
    if (g.tick(now, g.limit())) g.control(now, {1000, packets, waits});
    g.started(g.limit(), true);
    g.lookup_done(g.limit());
    packets += 50;  // 500 packets/s
    waits += 100;
    now += 100ms;
  }
  EXPECT_EQ(g.decreases(), 0u);
  EXPECT_GT(g.limit(), 8u);
  EXPECT_GT(g.waited_intervals(), 0u);
}

TEST(LookupGovernor, WithoutABudgetFigureTheSafetyBoundIsTheLimit) {
  LookupGovernorConfig cfg;
  cfg.max_lookups = 77;
  LookupGovernor g(cfg);
  if (g.tick(dht::TimePoint{}, 0)) g.control(dht::TimePoint{}, {});
  EXPECT_EQ(g.limit(), 77u);
  EXPECT_EQ(g.limit(10), 10u);
}

}  // namespace
}  // namespace bitscrape::crawler
