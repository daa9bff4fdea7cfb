// The DHT on a deterministic simulated network of 2,000 real dht::Nodes (src/sim): bootstrap
// converges, lookups find the k closest, get_peers finds every announced peer, the BEP-51
// sampler finds ≥ 99% of stored infohashes while honouring every node's interval and the
// per-destination rate limit, and all of it still works with 20% packet loss.
#include "dht/peer_store.hpp"
#include "dht/routing_table.hpp"
#include "krpc/codec.hpp"
#include "world.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace bitscrape::sim {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kNodes = 2000;

struct Accuracy {
  std::size_t exact = 0;  // lookups that found all k closest
  std::size_t worst = 8;  // smallest overlap with the true k closest
  std::size_t unfinished = 0;
  std::size_t overlap = 0;  // sum over lookups of the overlap with the true k closest
};

// Starts `count` find_node lookups from random hosts to random targets at once, runs until
// they all finished, and compares each result with the true 8 closest online nodes.
Accuracy lookup_accuracy(test::World& w, std::size_t count) {
  struct Started {
    std::size_t host;
    dht::LookupId id;
    Id160 target;
  };
  std::vector<Started> started;
  std::set<std::pair<std::size_t, dht::LookupId>> pending;
  for (std::size_t i = 0; i < count; ++i) {
    const auto host = w.net.rng().below(kNodes);
    const auto target = w.net.rng().id();
    const auto id = w.net.node(host).find_node(target, w.net.now());
    EXPECT_NE(id, dht::kNoLookup);
    w.net.poke(host);
    started.push_back({host, id, target});
    pending.insert({host, id});
  }
  std::map<std::pair<std::size_t, dht::LookupId>, std::vector<krpc::CompactNode>> results;
  w.done.clear();
  (void)w.net.run_until(
      [&] {
        for (auto& d : w.done) {
          if (pending.erase({d.host, d.result.id}) != 0)
            results[{d.host, d.result.id}] = std::move(d.closest);
        }
        w.done.clear();
        return pending.empty();
      },
      w.net.now() + 120s);
  Accuracy a;
  for (const auto& s : started) {
    const auto it = results.find({s.host, s.id});
    if (it == results.end()) {
      ++a.unfinished;
      a.worst = 0;
      continue;
    }
    std::size_t overlap = 0;
    for (const auto i : w.net.closest(s.target, 8)) {
      const auto& want = w.net.node(i).id();
      overlap +=
          std::any_of(it->second.begin(), it->second.end(), [&](const auto& c) { return c.id == want; }) ? 1
                                                                                                         : 0;
    }
    a.exact += overlap == 8 ? 1 : 0;
    a.overlap += overlap;
    a.worst = std::min(a.worst, overlap);
  }
  return a;
}

struct PeersResult {
  std::size_t lookups = 0;
  std::size_t complete = 0;  // lookups that found every announced peer
};

// `n_ih` infohashes, each announced by `announcers` random nodes (get_peers + announce_peer),
// then looked up by `seekers` other random nodes; counts lookups that found every announcer.
PeersResult announce_and_find(test::World& w, std::size_t n_ih, std::size_t announcers, std::size_t seekers) {
  std::map<InfoHash, std::set<Endpoint>> announced;
  for (std::size_t j = 0; j < n_ih; ++j) {
    const auto ih = w.net.rng().id();
    for (std::size_t a = 0; a < announcers; ++a) {
      const auto host = w.net.rng().below(kNodes);
      const auto port = static_cast<std::uint16_t>(10000 + a);
      if (w.net.node(host).get_peers(ih, w.net.now(), dht::AnnounceParams{port, false, false}) ==
          dht::kNoLookup)
        continue;
      w.net.poke(host);
      announced[ih].insert(Endpoint{w.net.address(host).ip, port});
    }
  }
  w.net.run_for(30s);
  w.peers.clear();
  std::vector<std::tuple<std::size_t, dht::LookupId, InfoHash>> seeks;
  for (const auto& [ih, _] : announced) {
    for (std::size_t s = 0; s < seekers; ++s) {
      const auto host = w.net.rng().below(kNodes);
      const auto id = w.net.node(host).get_peers(ih, w.net.now());
      if (id == dht::kNoLookup) continue;
      w.net.poke(host);
      seeks.emplace_back(host, id, ih);
    }
  }
  w.net.run_for(30s);
  std::map<std::pair<std::size_t, dht::LookupId>, std::set<Endpoint>> found;
  for (const auto& p : w.peers) found[{p.host, p.id}].insert(p.peer);
  PeersResult r;
  for (const auto& [host, id, ih] : seeks) {
    ++r.lookups;
    const auto& got = found[{host, id}];
    r.complete += std::includes(got.begin(), got.end(), announced[ih].begin(), announced[ih].end()) ? 1 : 0;
  }
  return r;
}

// The lossless checks share one 2,000-node world: ctest runs each TEST in its own process,
// and building the world is most of the cost (~2 s in Release, ~25 s under ASan).
std::unique_ptr<test::World> lossless_world() {
  auto w =
      std::make_unique<test::World>(kNodes, LinkConfig{}, 1, 10ms, [](std::size_t i, dht::NodeConfig& c) {
        // BEP-51 intervals from 1 to 3 minutes, so the crawl sees intervals expire and must
        // come back no earlier than each node asked.
        c.store.sample_interval = std::chrono::seconds(60 + (i * 7919) % 120);
      });
  w->net.run_for(60s);
  return w;
}

void bootstrap_converges(test::World& w);
void get_peers_finds_every_peer(test::World& w);
void sampler_finds_nearly_all_politely(test::World& w);

TEST(Simulation, TwoThousandNodes) {
  const auto w = lossless_world();
  {
    SCOPED_TRACE("bootstrap converges, lookups find the k closest");
    bootstrap_converges(*w);
  }
  {
    SCOPED_TRACE("get_peers finds every announced peer");
    get_peers_finds_every_peer(*w);
  }
  {
    SCOPED_TRACE("the sampler finds >= 99% of the infohashes, politely");
    sampler_finds_nearly_all_politely(*w);
  }
}

void bootstrap_converges(test::World& w) {
  std::size_t not_bootstrapped = 0;
  std::vector<std::size_t> sizes;
  for (std::size_t i = 0; i < kNodes; ++i) {
    not_bootstrapped += w.net.node(i).bootstrapped() ? 0 : 1;
    EXPECT_EQ(w.net.node(i).check_invariant(), "") << "host " << i;
    sizes.push_back(w.net.node(i).table(IpAddress::Family::V4)->size());
  }
  EXPECT_EQ(not_bootstrapped, 0u);
  std::sort(sizes.begin(), sizes.end());
  std::printf("table sizes: min %zu median %zu max %zu; %llu datagrams delivered\n", sizes.front(),
              sizes[sizes.size() / 2], sizes.back(), static_cast<unsigned long long>(w.net.delivered()));
  EXPECT_GE(sizes.front(), 16u);  // every table holds well more than its own bucket
  const auto a = lookup_accuracy(w, 200);
  std::printf("lookups: %zu/200 found all 8 closest, worst %zu/8\n", a.exact, a.worst);
  EXPECT_EQ(a.unfinished, 0u);
  EXPECT_GE(a.exact, 196u);
  EXPECT_GE(a.worst, 7u);
}

void get_peers_finds_every_peer(test::World& w) {
  const auto r = announce_and_find(w, 30, 4, 10);
  std::printf("get_peers: %zu/%zu lookups found every announced peer\n", r.complete, r.lookups);
  EXPECT_EQ(r.lookups, 300u);
  EXPECT_EQ(r.complete, r.lookups);
}

void sampler_finds_nearly_all_politely(test::World& w) {
  // Each infohash is stored at the 8 nodes closest to it, as announce_peer would put it.
  // Assumption: a node's BEP-51 sample shows at most 20 of its keys, fixed for its interval
  // (libtorrent-like), so only infohashes held by some node with ≤ 20 keys are sure to be
  // sampled. 1,000 infohashes over 2,000 nodes put 4 keys on a node on average; we check
  // that ≥ 99.9% of them have such a holder, then require the crawler to find ≥ 99%.
  constexpr std::size_t kInfohashes = 1000;
  std::vector<InfoHash> ihs;
  for (std::size_t j = 0; j < kInfohashes; ++j) {
    ihs.push_back(w.net.rng().id());
    w.net.store_at_closest(ihs.back(), 8, host_address(100000 + j));
  }
  std::size_t sampleable = 0;
  std::size_t biggest = 0;
  for (const auto& ih : ihs) {
    bool ok = false;
    for (const auto i : w.net.closest(ih, 8, false)) ok = ok || w.net.node(i).store().size() <= 20;
    sampleable += ok ? 1 : 0;
  }
  for (std::size_t i = 0; i < kNodes; ++i) biggest = std::max(biggest, w.net.node(i).store().size());
  std::printf("store: largest node holds %zu keys; %zu/%zu infohashes have a holder with <= 20\n", biggest,
              sampleable, kInfohashes);
  EXPECT_GE(sampleable * 1000, kInfohashes * 999);

  // The crawler: a node with the sampler and node discovery on.
  struct Crawler : dht::Observer {
    std::unordered_set<InfoHash, Id160Hash> found;
    std::size_t samples = 0;
    void on_infohash_seen(const InfoHash& ih, dht::InfohashSource src, const Endpoint&) override {
      if (src == dht::InfohashSource::Sample) found.insert(ih);
    }
    void on_sample(const dht::SampleEvent&) override { ++samples; }
  } crawler;
  auto cfg = test::sim_config(424242);
  cfg.sampler.enabled = true;
  cfg.sampler.parallel_walks = 8;
  cfg.sampler.discover_nodes = true;
  cfg.rate.out_packets_per_second = 300;
  cfg.rate.pacer_slots = 4096;
  const Endpoint crawler_ep = host_address(kNodes + 1);

  // Watch everything the crawler sends, as it arrives.
  std::unordered_map<Endpoint, std::deque<TimePoint>, EndpointHash> window;
  std::unordered_map<Endpoint, std::vector<TimePoint>, EndpointHash> sample_queries;
  std::size_t max_in_window = 0;
  std::size_t crawler_packets = 0;
  bencode::Document doc;
  w.net.set_delivery_tap([&](const Endpoint& from, const Endpoint& to, std::string_view bytes, TimePoint at) {
    if (from != crawler_ep) return;
    ++crawler_packets;
    auto& q = window[to];
    q.push_back(at);
    while (at - q.front() >= 1s) q.pop_front();
    max_in_window = std::max(max_in_window, q.size());
    auto p = krpc::parse(bytes, doc);
    if (p && p->kind == krpc::MessageKind::SampleInfohashes) sample_queries[to].push_back(at);
  });
  const auto c = w.net.add_node(cfg, crawler_ep, &crawler);
  std::vector<Endpoint> routers;
  for (int r = 0; r < 3; ++r) routers.push_back(w.net.address(w.net.rng().below(kNodes)));
  w.net.node(c).bootstrap(routers, {}, w.net.now());
  w.net.poke(c);

  std::set<InfoHash> wanted(ihs.begin(), ihs.end());
  const auto coverage = [&] {
    std::size_t n = 0;
    for (const auto& ih : ihs) n += crawler.found.count(ih);
    return n;
  };
  const auto start = w.net.now();
  // Check coverage once per simulated second (counting on every event would dominate).
  while (coverage() * 100 < kInfohashes * 99 && w.net.now() - start < 1h) w.net.run_for(1s);
  const auto took = w.net.now() - start;
  // Keep crawling for 4 more minutes: intervals (1-3 min) expire and nodes get asked again.
  w.net.run_for(4min);
  w.net.set_delivery_tap({});
  const auto found = coverage();
  const auto counters = w.net.node(c).counters();
  std::printf(
      "sampler: %zu/%zu infohashes in %llds of virtual time; %zu samples; %zu packets sent; "
      "%llu interval skips; max %zu packets to one IP in 1 s\n",
      found, kInfohashes,
      static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(took).count()), crawler.samples,
      crawler_packets, static_cast<unsigned long long>(counters.sampler_interval_skips), max_in_window);
  EXPECT_GE(found * 100, kInfohashes * 99);
  EXPECT_LE(max_in_window, 5u);
  // Every node was asked for samples no sooner than the interval it announced.
  std::size_t repeats = 0;
  for (const auto& [ep, times] : sample_queries) {
    const auto host = static_cast<std::size_t>(ep.ip.v4_host_order() - (20u << 24) - 1);
    if (host >= kNodes) {
      ADD_FAILURE() << "sample_infohashes to a non-host " << ep.to_string();
      continue;
    }
    const auto interval = std::chrono::seconds(60 + (host * 7919) % 120);
    for (std::size_t i = 1; i < times.size(); ++i) {
      ++repeats;
      EXPECT_GE(times[i] - times[i - 1], interval) << ep.to_string();
    }
  }
  EXPECT_GT(repeats, 100u);  // the crawl did come back to nodes after their interval
  EXPECT_EQ(w.net.node(c).check_invariant(), "");
}

// Once every node in reach has been sampled (libtorrent-like 6 h intervals), the sampler stops
// walking instead of sending find_node traffic for nothing; it comes back when intervals end.
TEST(SamplerSimulation, GoesQuietWhenEveryNodeInReachIsSampled) {
  constexpr std::size_t kSmall = 300;
  test::World w(kSmall, LinkConfig{}, 7);
  w.net.run_for(60s);
  struct Count : dht::Observer {
    std::size_t samples = 0;
    void on_sample(const dht::SampleEvent&) override { ++samples; }
  } crawler;
  auto cfg = test::sim_config(77);
  cfg.sampler.enabled = true;
  cfg.sampler.parallel_walks = 8;
  cfg.rate.pacer_slots = 1024;
  const Endpoint crawler_ep = host_address(kSmall + 1);
  std::size_t sent = 0;
  w.net.set_delivery_tap([&](const Endpoint& from, const Endpoint&, std::string_view, TimePoint) {
    if (from == crawler_ep) ++sent;
  });
  const auto c = w.net.add_node(cfg, crawler_ep, &crawler);
  const std::vector<Endpoint> routers{w.net.address(0), w.net.address(1)};
  w.net.node(c).bootstrap(routers, {}, w.net.now());
  w.net.poke(c);
  w.net.run_for(10min);
  const auto sampled = crawler.samples;
  const auto busy_packets = sent;
  sent = 0;
  w.net.run_for(20min);
  const auto idle_packets = sent;
  const auto counters = w.net.node(c).counters();
  std::printf("sampler: %zu samples in 10 min (%zu packets), then %zu packets in 20 min; %llu idle walks\n",
              sampled, busy_packets, idle_packets,
              static_cast<unsigned long long>(counters.sampler_idle_walks));
  EXPECT_GE(sampled * 100, kSmall * 95);  // nearly every node sampled once
  EXPECT_EQ(crawler.samples, sampled);    // and none again within its interval
  EXPECT_GT(counters.sampler_idle_walks, 0u);
  // Table upkeep (pings, bucket refreshes) stays; walking stops: under one packet per second.
  EXPECT_LT(idle_packets, 20u * 60u);
}

TEST(LossySimulation, TwentyPercentLossStillConverges) {
  LinkConfig lossy;
  lossy.loss = 0.2;
  test::World w(kNodes, lossy, 2);
  w.net.run_for(120s);
  std::size_t not_bootstrapped = 0;
  for (std::size_t i = 0; i < kNodes; ++i) not_bootstrapped += w.net.node(i).bootstrapped() ? 0 : 1;
  EXPECT_EQ(not_bootstrapped, 0u);
  const auto a = lookup_accuracy(w, 200);
  std::printf("lossy lookups: %zu/200 found all 8 closest, mean %.2f/8, worst %zu/8, lost %llu of %llu\n",
              a.exact, static_cast<double>(a.overlap) / 200.0, a.worst,
              static_cast<unsigned long long>(w.net.lost()),
              static_cast<unsigned long long>(w.net.lost() + w.net.delivered()));
  // With the default single resend, a node whose query and resend are both lost (a round trip
  // fails with p = 0.36, twice with 0.13) is missing from that lookup's result, so "all 8" is
  // not the norm; what must hold is that every lookup finishes and finds most of them, and
  // that get_peers (which reaches 8 holders) still finds every peer.
  EXPECT_EQ(a.unfinished, 0u);
  EXPECT_GE(a.overlap * 10, 200u * 68);  // mean overlap ≥ 6.8 of 8
  // The worst single lookup is a tail figure: across seeds 2-7 it is 3-5 of 8, before and after
  // replies stopped being paced (the mean moved by less than its run-to-run spread).
  EXPECT_GE(a.worst, 3u);
  const auto r = announce_and_find(w, 20, 4, 10);
  std::printf("lossy get_peers: %zu/%zu lookups found every announced peer\n", r.complete, r.lookups);
  EXPECT_GE(r.complete * 100, r.lookups * 95);
}

}  // namespace
}  // namespace bitscrape::sim
