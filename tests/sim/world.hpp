// A simulated DHT of real dht::Nodes for the tests in this folder.
#pragma once

#include "sim/network.hpp"

#include <chrono>
#include <memory>
#include <vector>

namespace bitscrape::sim::test {

using namespace std::chrono_literals;

// Node configuration for simulated hosts: IPv4 only, smaller per-IP tables (2,000 nodes share
// one process), everything else the shipped defaults.
inline dht::NodeConfig sim_config(std::uint64_t seed) {
  dht::NodeConfig c;
  c.seed = seed;
  c.ipv6 = false;
  c.rate.pacer_slots = 256;
  c.rate.inbound_slots = 256;
  c.client.max_transactions = 512;
  return c;
}

struct LookupDone {
  std::size_t host;
  dht::LookupResult result;  // `closest` copied below
  std::vector<krpc::CompactNode> closest;
};

// Records what every host reports.
struct World {
  struct Probe : dht::Observer {
    World* world = nullptr;
    std::size_t host = 0;
    void on_lookup_done(const dht::LookupResult& r) override {
      world->done.push_back({host, r, {r.closest.begin(), r.closest.end()}});
    }
    void on_peers_found(dht::LookupId id, const InfoHash& ih, std::span<const Endpoint> peers) override {
      for (const auto& p : peers) world->peers.push_back({host, id, ih, p});
    }
  };
  struct PeerFound {
    std::size_t host;
    dht::LookupId id;
    InfoHash ih;
    Endpoint peer;
  };

  // `n` nodes join one every `spacing`, each bootstrapping from up to 3 random earlier nodes.
  World(std::size_t n, const LinkConfig& link, std::uint64_t seed, Duration spacing = 10ms,
        const std::function<void(std::size_t, dht::NodeConfig&)>& tweak = {})
      : net(NetworkConfig{seed, link, TimePoint{} + std::chrono::hours(24)}) {
    probes.reserve(n + 8);
    for (std::size_t i = 0; i < n; ++i) {
      auto cfg = sim_config(seed * 100003 + i);
      if (tweak) tweak(i, cfg);
      add(cfg, host_address(i));
      std::vector<Endpoint> routers;
      for (int r = 0; r < 3 && i > 0; ++r) routers.push_back(net.address(net.rng().below(i)));
      net.node(i).bootstrap(routers, {}, net.now());
      net.poke(i);
      net.run_for(spacing);
    }
    // The first node had no one to ask when it started.
    const std::vector<Endpoint> again{net.address(1)};
    net.node(0).bootstrap(again, {}, net.now());
    net.poke(0);
  }

  std::size_t add(const dht::NodeConfig& cfg, const Endpoint& addr) {
    probes.push_back(std::make_unique<Probe>());
    probes.back()->world = this;
    probes.back()->host = probes.size() - 1;
    return net.add_node(cfg, addr, probes.back().get());
  }

  Network net;
  std::vector<std::unique_ptr<Probe>> probes;
  std::vector<LookupDone> done;
  std::vector<PeerFound> peers;
};

}  // namespace bitscrape::sim::test
