// BEP-51 crawl of a simulated DHT: how fast a crawler node with the sampler on discovers the
// infohashes stored in a network of libtorrent-like nodes, under a packet budget.
//
// World (sim::Network, deterministic): --nodes real dht::Nodes join one every --spacing-ms, each
// bootstrapping from 3 random earlier nodes, then settle 60 s. --infohashes random infohashes are
// stored at the 8 nodes closest to each (what announces would do; the 8 closest are found among
// the 128 ids around the infohash in sorted-id order). Nodes are libtorrent-like for BEP-51:
// interval 21600 s, 20 samples, one fixed sample per interval (the NodeConfig defaults); peers
// do not expire during the run (peer_ttl 48 h: as if re-announced). Links 10-150 ms, no loss.
//
// BEP-51 bound: each node serves the same ≤ 20 samples for 6 h, so at most |union of every
// node's sample| distinct infohashes can be found in the first 6 h. Every node's sample is drawn
// (exactly as its first sample_infohashes would) before the crawl starts, so the bound is exact
// for the run. Also printed: sum over nodes of min(20, store size) (the same without de-dup).
//
// Crawler: one more node with the sampler on (whole keyspace, --walks parallel walks, node
// discovery on), packet budget --budget packets/s (RateConfig::out_packets_per_second, burst
// budget/5), bootstrapped from 8 random nodes. Per simulated hour: infohashes found (from
// samples) / infohashes stored / bound, crawler packets sent, packets per new infohash, wall and
// CPU seconds, peak RSS.
//
// Run: build/benchdht/bench/bench_dht_crawl --nodes 10000 --infohashes 100000 --hours 6
//        [--budget 1000] [--walks 32] [--spacing-ms 10] [--seed 1] [--report-minutes 60] [--run-full 0|1]
// By default the run stops once every coverable infohash is found (--run-full 1 runs all --hours).
#include "dht/config.hpp"
#include "dht/node.hpp"
#include "dht/peer_store.hpp"
#include "dht/random.hpp"
#include "sim/network.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

using namespace bitscrape;
using namespace std::chrono_literals;

namespace {

struct Options {
  std::size_t nodes = 10000;
  std::size_t infohashes = 100000;
  double hours = 6;
  double budget = 1000;
  std::size_t walks = 32;
  int spacing_ms = 10;
  std::uint64_t seed = 1;
  int report_minutes = 60;
  bool stop_when_done = true;  // stop once the whole bound is found (nothing more to find in 6 h)
};

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}
double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

dht::NodeConfig world_config(std::uint64_t seed) {
  dht::NodeConfig c;  // libtorrent-like BEP-51 defaults: interval 21600 s, 20 samples, fixed sample
  c.seed = seed;
  c.ipv6 = false;
  c.rate.pacer_slots = 256;
  c.rate.inbound_slots = 256;
  c.client.max_transactions = 512;
  c.store.peer_ttl = 48h;
  return c;
}

struct IdHash {
  std::size_t operator()(const InfoHash& h) const noexcept {
    std::size_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | h.bytes[std::size_t(i)];
    return v;
  }
};

struct Crawler : dht::Observer {
  const std::unordered_map<InfoHash, std::uint32_t, IdHash>* index = nullptr;
  std::vector<bool> found;
  std::size_t found_count = 0, foreign = 0, sample_replies = 0;
  void on_infohash_seen(const InfoHash& ih, dht::InfohashSource src, const Endpoint&) override {
    if (src != dht::InfohashSource::Sample) return;
    auto it = index->find(ih);
    if (it == index->end()) {
      ++foreign;
      return;
    }
    if (!found[it->second]) {
      found[it->second] = true;
      ++found_count;
    }
  }
  void on_sample(const dht::SampleEvent&) override { ++sample_replies; }
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--nodes") o.nodes = std::strtoull(v, nullptr, 10);
    else if (k == "--infohashes") o.infohashes = std::strtoull(v, nullptr, 10);
    else if (k == "--hours") o.hours = std::atof(v);
    else if (k == "--budget") o.budget = std::atof(v);
    else if (k == "--walks") o.walks = std::strtoull(v, nullptr, 10);
    else if (k == "--spacing-ms") o.spacing_ms = std::atoi(v);
    else if (k == "--seed") o.seed = std::strtoull(v, nullptr, 10);
    else if (k == "--report-minutes") o.report_minutes = std::atoi(v);
    else if (k == "--run-full") o.stop_when_done = std::atoi(v) == 0;
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  std::printf("bench_dht_crawl: %zu nodes, %zu infohashes, %.1f h, budget %.0f packets/s, %zu walks, seed %llu\n", o.nodes,
              o.infohashes, o.hours, o.budget, o.walks, (unsigned long long)o.seed);
  const auto wall0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();

  sim::Network net(sim::NetworkConfig{o.seed, sim::LinkConfig{}, sim::TimePoint{} + 24h});
  for (std::size_t i = 0; i < o.nodes; ++i) {
    net.add_node(world_config(o.seed * 1000003 + i), sim::host_address(i));
    std::vector<Endpoint> routers;
    for (int r = 0; r < 3 && i > 0; ++r) routers.push_back(net.address(net.rng().below(i)));
    net.node(i).bootstrap(routers, {}, net.now());
    net.poke(i);
    net.run_for(std::chrono::milliseconds(o.spacing_ms));
  }
  {
    const std::vector<Endpoint> again{net.address(1)};
    net.node(0).bootstrap(again, {}, net.now());
    net.poke(0);
  }
  net.run_for(60s);
  const double join_wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  std::printf("world built: %.1f s wall, %.1f s CPU, %.0f MB peak RSS, %llu datagrams delivered\n", join_wall,
              cpu_seconds() - cpu0, peak_rss_mb(), (unsigned long long)net.delivered());

  // Store every infohash at its 8 closest nodes (sorted-id neighbourhood search).
  std::vector<std::pair<Id160, std::uint32_t>> sorted;
  sorted.reserve(o.nodes);
  for (std::size_t i = 0; i < o.nodes; ++i) sorted.emplace_back(net.node(i).id(), std::uint32_t(i));
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first.bytes < b.first.bytes; });
  dht::Rng rng(o.seed ^ 0xC0FFEE);
  std::vector<InfoHash> ihs(o.infohashes);
  std::unordered_map<InfoHash, std::uint32_t, IdHash> index;
  index.reserve(o.infohashes * 2);
  const Endpoint peer = sim::host_address(o.nodes + 100, false, 51413);
  for (std::size_t j = 0; j < o.infohashes; ++j) {
    auto& ih = ihs[j];
    for (auto& b : ih.bytes) b = std::uint8_t(rng.next());
    index.emplace(ih, std::uint32_t(j));
    auto pos = std::lower_bound(sorted.begin(), sorted.end(), ih.bytes, [](const auto& e, const auto& key) { return e.first.bytes < key; }) - sorted.begin();
    const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, pos - 64), hi = std::min<std::ptrdiff_t>(std::ptrdiff_t(sorted.size()), pos + 64);
    std::vector<std::uint32_t> cand;
    for (auto p = lo; p < hi; ++p) cand.push_back(sorted[std::size_t(p)].second);
    const std::size_t k = std::min<std::size_t>(8, cand.size());
    std::partial_sort(cand.begin(), cand.begin() + std::ptrdiff_t(k), cand.end(), [&](std::uint32_t a, std::uint32_t b) {
      return closer_to(ih, net.node(a).id(), net.node(b).id());
    });
    for (std::size_t c = 0; c < k; ++c) (void)net.node(cand[c]).store().announce(ih, peer, false, net.now());
  }
  // Draw every node's fixed sample now (as its first sample_infohashes would): the BEP-51 bound.
  std::vector<bool> coverable(o.infohashes);
  std::size_t bound = 0, sum_min = 0, max_store = 0;
  for (std::size_t i = 0; i < o.nodes; ++i) {
    auto& st = net.node(i).store();
    sum_min += std::min<std::size_t>(20, st.size());
    max_store = std::max(max_store, st.size());
    for (const auto& ih : st.sample(net.now(), rng)) {
      const auto j = index.at(ih);
      if (!coverable[j]) {
        coverable[j] = true;
        ++bound;
      }
    }
  }
  std::printf("stored: %zu infohashes x 8 holders; largest store %zu; BEP-51 bound (union of samples) %zu = %.1f%% of stored; sum of min(20, store) %zu\n",
              o.infohashes, max_store, bound, 100.0 * double(bound) / double(o.infohashes), sum_min);

  // The crawler.
  Crawler crawler;
  crawler.index = &index;
  crawler.found.assign(o.infohashes, false);
  auto cfg = world_config(o.seed * 7 + 3);
  cfg.rate.out_packets_per_second = o.budget;
  cfg.rate.out_burst = std::max(20.0, o.budget / 5);
  cfg.rate.pacer_slots = 8192;
  cfg.rate.inbound_slots = 8192;
  cfg.client.max_transactions = 4096;
  cfg.client.max_lookups = o.walks + 16;
  cfg.sampler.enabled = true;
  cfg.sampler.parallel_walks = o.walks;
  cfg.sampler.discover_nodes = true;
  const auto crawler_addr = sim::host_address(o.nodes);
  const std::size_t c = net.add_node(cfg, crawler_addr, &crawler);
  std::uint64_t crawler_sent = 0;
  net.set_send_tap([&](const Endpoint& from, const Endpoint&, std::string_view, sim::TimePoint) {
    if (from == crawler_addr) ++crawler_sent;
  });
  std::vector<Endpoint> routers;
  for (int r = 0; r < 8; ++r) routers.push_back(net.address(net.rng().below(o.nodes)));
  net.node(c).bootstrap(routers, {}, net.now());
  net.poke(c);

  std::printf("\n| sim time | found | of stored | of bound | crawler packets | packets/s | packets per new infohash | sample replies | wall s (this step) | CPU s (this step) | peak RSS MB |\n");
  std::printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  const auto start = net.now();
  const auto step = std::chrono::minutes(o.report_minutes);
  const int steps = int(o.hours * 60 / o.report_minutes + 0.5);
  // Milestones, checked every simulated 10 s: when 50/90/95/99/100% of the bound was reached.
  const double marks[] = {0.5, 0.9, 0.95, 0.99, 1.0};
  struct Mark { double at_s = -1; std::uint64_t packets = 0; };
  Mark reached[5];
  bool all_found = false;
  for (int s = 1; s <= steps && !all_found; ++s) {
    const auto w0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    const auto until = start + step * s;
    while (net.now() < until) {
      net.run_until(std::min(until, net.now() + 10s));
      for (int m = 0; m < 5; ++m) {
        if (reached[m].at_s < 0 && double(crawler.found_count) >= marks[m] * double(bound)) {
          reached[m].at_s = std::chrono::duration<double>(net.now() - start).count();
          reached[m].packets = crawler_sent;
        }
      }
      if (crawler.found_count >= bound && o.stop_when_done) {
        all_found = true;
        break;
      }
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    const double cpu = cpu_seconds() - c0;
    const double secs = std::chrono::duration<double>(net.now() - start).count();
    std::printf("| %.2f h | %zu | %.1f%% | %.1f%% | %llu | %.0f | %.2f | %zu | %.1f | %.1f | %.0f |\n", secs / 3600.0,
                crawler.found_count, 100.0 * double(crawler.found_count) / double(o.infohashes),
                100.0 * double(crawler.found_count) / double(bound), (unsigned long long)crawler_sent,
                double(crawler_sent) / secs, crawler.found_count ? double(crawler_sent) / double(crawler.found_count) : 0.0,
                crawler.sample_replies, wall, cpu, peak_rss_mb());
    std::fflush(stdout);
  }
  std::printf("\n| share of BEP-51 bound | reached at (sim) | crawler packets by then | packets per infohash found |\n| ---: | ---: | ---: | ---: |\n");
  for (int m = 0; m < 5; ++m) {
    if (reached[m].at_s < 0) {
      std::printf("| %.0f%% | not reached | | |\n", marks[m] * 100);
      continue;
    }
    std::printf("| %.0f%% | %.0f s | %llu | %.2f |\n", marks[m] * 100, reached[m].at_s, (unsigned long long)reached[m].packets,
                double(reached[m].packets) / (marks[m] * double(bound)));
  }
  const auto cc = net.node(c).counters();
  std::printf("\ncrawler: %zu sampled infohashes not in the stored set (should be 0); routing table gauges and drops:\n", crawler.foreign);
  cc.for_each([](std::string_view name, std::uint64_t v, auto /*kind*/) {
    if (v != 0 && (name.find("drop") != std::string_view::npos || name.find("sample") != std::string_view::npos ||
                   name.find("timeout") != std::string_view::npos || name.find("table") != std::string_view::npos))
      std::printf("  %.*s = %llu\n", int(name.size()), name.data(), (unsigned long long)v);
  });
  std::printf("total: %.1f s wall, %.1f s CPU, %.0f MB peak RSS\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count(), cpu_seconds() - cpu0, peak_rss_mb());
  return 0;
}
