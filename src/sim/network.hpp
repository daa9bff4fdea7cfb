// sim::Network: a deterministic discrete-event network of real dht::Nodes.
//
// A virtual clock, one seeded RNG, and two priority queues: datagrams in flight
// (deliver_at, seq, dst, bytes) and node timers (the time each Node's tick() asked for). Each
// step takes the earliest event (ties broken by insertion order), sets the clock, and hands it
// to the Node — on_datagram() for a delivery, tick() for a timer — after which the Node's next
// wake-up is re-armed. Nodes send through a per-host sink that only enqueues, so nothing is
// re-entered and a run is a pure function of the seed and the calls made.
//
// Links: latency is fixed per (src, dst) pair, drawn uniformly in [min_latency, max_latency]
// from a hash of the pair and the seed (so packets on one link never reorder and arrive
// spaced exactly as they were sent); each datagram is lost independently with probability
// `loss`. Datagrams to addresses with no host, or to hosts set offline, are dropped.
//
// Used by tests/sim (2,000-node runs in seconds) and bench_dht_crawl. (`bitscrape testnet` runs
// real nodes on loopback sockets instead: src/testnet.)
//
// Threading: single-threaded; everything runs inside run_until().
#pragma once

#include "common/endpoint.hpp"
#include "dht/config.hpp"
#include "dht/node.hpp"
#include "dht/random.hpp"
#include "dht/time.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bitscrape::sim {

using dht::Duration;
using dht::TimePoint;
using namespace std::chrono_literals;

struct LinkConfig {
  Duration min_latency = 10ms;
  Duration max_latency = 150ms;
  double loss = 0.0;  // probability that a datagram is lost
};

struct NetworkConfig {
  std::uint64_t seed = 1;
  LinkConfig link;
  TimePoint start = TimePoint{} + std::chrono::hours(24);  // the virtual clock's origin
};

// Public-looking address of host i: 20.0.0.0/8 + i + 1 (IPv4) or 2001:db8::/32 + i + 1 (IPv6).
Endpoint host_address(std::size_t i, bool v6 = false, std::uint16_t port = 6881);

class Network {
 public:
  // Called for each datagram: at send time (send tap) or delivery time (delivery tap).
  using Tap = std::function<void(const Endpoint& from, const Endpoint& to, std::string_view bytes, TimePoint at)>;

  explicit Network(const NetworkConfig& cfg);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Creates a Node at `addr` (unique) at the current virtual time; returns its index.
  std::size_t add_node(const dht::NodeConfig& cfg, const Endpoint& addr, dht::Observer* observer = nullptr);

  dht::Node& node(std::size_t i);
  const dht::Node& node(std::size_t i) const;
  const Endpoint& address(std::size_t i) const;
  std::size_t size() const noexcept { return hosts_.size(); }
  TimePoint now() const noexcept { return now_; }

  // Runs every event due up to and including `t`; afterwards now() == t.
  void run_until(TimePoint t);
  void run_for(Duration d) { run_until(now_ + d); }
  // Runs until `done()` holds (checked after each event) or `limit` passes; returns done().
  bool run_until(const std::function<bool()>& done, TimePoint limit);

  // After calling a Node's API directly (find_node, bootstrap, ...), re-arm its timer.
  void poke(std::size_t i);

  // An offline host receives nothing and its timers do not fire.
  void set_online(std::size_t i, bool online);
  bool online(std::size_t i) const;

  void set_send_tap(Tap t) { send_tap_ = std::move(t); }
  void set_delivery_tap(Tap t) { delivery_tap_ = std::move(t); }

  // The `k` hosts whose node ids are closest to `target` (brute force), closest first.
  std::vector<std::size_t> closest(const Id160& target, std::size_t k, bool online_only = true) const;

  // Stores `peer` for `ih` at the k hosts closest to ih — where announce_peer would put it.
  void store_at_closest(const InfoHash& ih, std::size_t k, const Endpoint& peer);

  std::uint64_t delivered() const noexcept { return delivered_; }
  std::uint64_t lost() const noexcept { return lost_; }
  std::uint64_t undeliverable() const noexcept { return undeliverable_; }
  std::size_t in_flight() const noexcept { return packets_.size(); }
  dht::Rng& rng() noexcept { return rng_; }

 private:
  struct Host;
  struct Packet {
    TimePoint at;
    std::uint64_t seq;
    std::size_t dst;
    Endpoint from;
    std::string bytes;
  };
  struct Timer {
    TimePoint at;
    std::uint64_t seq;
    std::size_t host;
  };
  struct Later {
    template <class E>
    bool operator()(const E& a, const E& b) const noexcept {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };

  void send(std::size_t src, std::string_view bytes, const Endpoint& to);
  Duration latency(std::size_t src, std::size_t dst) const;
  void schedule(std::size_t i, TimePoint at);
  bool step(TimePoint limit);  // one event ≤ limit; false when none

  NetworkConfig cfg_;
  dht::Rng rng_;
  TimePoint now_;
  std::vector<std::unique_ptr<Host>> hosts_;
  std::unordered_map<Endpoint, std::size_t, EndpointHash> by_addr_;
  std::priority_queue<Packet, std::vector<Packet>, Later> packets_;
  std::priority_queue<Timer, std::vector<Timer>, Later> timers_;
  std::uint64_t seq_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t lost_ = 0;
  std::uint64_t undeliverable_ = 0;
  Tap send_tap_;
  Tap delivery_tap_;
};

}  // namespace bitscrape::sim
