#include "sim/network.hpp"

#include "common/splitmix.hpp"
#include "dht/peer_store.hpp"

#include <algorithm>

namespace bitscrape::sim {

Endpoint host_address(std::size_t i, bool v6, std::uint16_t port) {
  const auto n = static_cast<std::uint32_t>(i + 1);
  if (!v6) return Endpoint{IpAddress::v4((20u << 24) | (n & 0xFFFFFF)), port};
  std::array<std::uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8};
  b[12] = static_cast<std::uint8_t>(n >> 24);
  b[13] = static_cast<std::uint8_t>(n >> 16);
  b[14] = static_cast<std::uint8_t>(n >> 8);
  b[15] = static_cast<std::uint8_t>(n);
  return Endpoint{IpAddress::v6(b), port};
}

struct Network::Host : dht::DatagramSink {
  Host(Network& n, std::size_t i, const Endpoint& a) : net(n), index(i), addr(a) {}
  void send(std::string_view datagram, const Endpoint& to) override { net.send(index, datagram, to); }

  Network& net;
  std::size_t index;
  Endpoint addr;
  std::unique_ptr<dht::Node> node;
  TimePoint scheduled = dht::kNever;
  bool online = true;
};

dht::Node& Network::node(std::size_t i) {
  return *hosts_[i]->node;
}
const dht::Node& Network::node(std::size_t i) const {
  return *hosts_[i]->node;
}
const Endpoint& Network::address(std::size_t i) const {
  return hosts_[i]->addr;
}
bool Network::online(std::size_t i) const {
  return hosts_[i]->online;
}

Network::Network(const NetworkConfig& cfg) : cfg_(cfg), rng_(cfg.seed), now_(cfg.start) {}
Network::~Network() = default;

std::size_t Network::add_node(const dht::NodeConfig& cfg, const Endpoint& addr, dht::Observer* observer) {
  const std::size_t i = hosts_.size();
  hosts_.push_back(std::make_unique<Host>(*this, i, addr));
  by_addr_[addr] = i;
  hosts_[i]->node = std::make_unique<dht::Node>(cfg, *hosts_[i], observer, now_);
  poke(i);
  return i;
}

Duration Network::latency(std::size_t src, std::size_t dst) const {
  // splitmix64 of (seed, src, dst): a fixed latency per link, symmetric or not does not matter.
  const std::uint64_t z =
      splitmix64(cfg_.seed ^ (static_cast<std::uint64_t>(src) << 32) ^ static_cast<std::uint64_t>(dst));
  const auto span = cfg_.link.max_latency - cfg_.link.min_latency;
  if (span <= Duration::zero()) return cfg_.link.min_latency;
  return cfg_.link.min_latency +
         Duration(static_cast<Duration::rep>(z % static_cast<std::uint64_t>(span.count())));
}

void Network::send(std::size_t src, std::string_view bytes, const Endpoint& to) {
  const Endpoint& from = hosts_[src]->addr;
  if (send_tap_) send_tap_(from, to, bytes, now_);
  const auto it = by_addr_.find(to);
  if (it == by_addr_.end()) {
    ++undeliverable_;
    return;
  }
  if (cfg_.link.loss > 0 && rng_.chance(cfg_.link.loss)) {
    ++lost_;
    return;
  }
  packets_.push(Packet{now_ + latency(src, it->second), seq_++, it->second, from, std::string(bytes)});
}

void Network::schedule(std::size_t i, TimePoint at) {
  if (at == dht::kNever) return;
  at = std::max(at, now_);
  hosts_[i]->scheduled = at;
  timers_.push(Timer{at, seq_++, i});
}

void Network::poke(std::size_t i) {
  const auto w = hosts_[i]->node->next_wake();
  if (w < hosts_[i]->scheduled) schedule(i, w);
}

void Network::set_online(std::size_t i, bool online) {
  hosts_[i]->online = online;
  if (online) {
    hosts_[i]->scheduled = dht::kNever;
    poke(i);
  }
}

bool Network::step(TimePoint limit) {
  // Drop stale timers (re-armed since) so the comparison below sees a live one.
  while (!timers_.empty() && hosts_[timers_.top().host]->scheduled != timers_.top().at) timers_.pop();
  const bool have_packet = !packets_.empty() && packets_.top().at <= limit;
  const bool have_timer = !timers_.empty() && timers_.top().at <= limit;
  if (!have_packet && !have_timer) return false;
  const bool take_packet =
      have_packet && (!have_timer || Later{}(timers_.top(), Timer{packets_.top().at, packets_.top().seq, 0}));
  if (take_packet) {
    // Moving the payload out of top() leaves the ordering keys (at, seq) untouched, so the
    // heap stays valid for the pop that follows.
    Packet p = std::move(const_cast<Packet&>(packets_.top()));
    packets_.pop();
    now_ = p.at;
    Host& h = *hosts_[p.dst];
    if (!h.online) {
      ++undeliverable_;
      return true;
    }
    ++delivered_;
    if (delivery_tap_) delivery_tap_(p.from, h.addr, p.bytes, now_);
    h.node->on_datagram(p.bytes, p.from, now_);
    poke(p.dst);
  } else {
    const Timer t = timers_.top();
    timers_.pop();
    now_ = t.at;
    Host& h = *hosts_[t.host];
    h.scheduled = dht::kNever;
    if (!h.online) return true;
    schedule(t.host, h.node->tick(now_));
  }
  return true;
}

void Network::run_until(TimePoint t) {
  while (step(t)) {
  }
  now_ = std::max(now_, t);
}

bool Network::run_until(const std::function<bool()>& done, TimePoint limit) {
  while (!done()) {
    if (!step(limit)) {
      now_ = std::max(now_, limit);
      return done();
    }
  }
  return true;
}

std::vector<std::size_t> Network::closest(const Id160& target, std::size_t k, bool online_only) const {
  std::vector<std::size_t> idx;
  idx.reserve(hosts_.size());
  for (std::size_t i = 0; i < hosts_.size(); ++i)
    if (!online_only || hosts_[i]->online) idx.push_back(i);
  const auto n = std::min(k, idx.size());
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(n), idx.end(),
                    [&](std::size_t a, std::size_t b) {
                      return closer_to(target, hosts_[a]->node->id(), hosts_[b]->node->id());
                    });
  idx.resize(n);
  return idx;
}

void Network::store_at_closest(const InfoHash& ih, std::size_t k, const Endpoint& peer) {
  for (const auto i : closest(ih, k, false)) (void)hosts_[i]->node->store().announce(ih, peer, false, now_);
}

}  // namespace bitscrape::sim
