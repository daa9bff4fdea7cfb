#include "net/metadata_pool.hpp"

#include "common/splitmix.hpp"

#include "net/tcp_transport.hpp"
#include "net/wire_driver.hpp"

#include <asio/post.hpp>

#include <cstring>

namespace bitscrape::net {

std::string_view to_string(WireTransport t) noexcept {
  return t == WireTransport::Utp ? "utp" : "tcp";
}

std::vector<WireTransport> parse_transports(const std::vector<std::string>& names) {
  std::vector<WireTransport> out;
  for (const auto& n : names) {
    if (n == "utp") out.push_back(WireTransport::Utp);
    if (n == "tcp") out.push_back(WireTransport::Tcp);
  }
  return out;
}

// One peer being fetched from: one attempt at a time, each a fresh fetcher over the next
// transport.
struct MetadataPool::Conn {
  Conn(const peerwire::FetcherConfig& cfg, const InfoHash& h, const peerwire::PeerId& id, const Endpoint& p)
      : config(cfg), ih(h), peer_id(id), peer(p) {}
  const peerwire::FetcherConfig& config;
  InfoHash ih;
  peerwire::PeerId peer_id;
  Endpoint peer;
  std::size_t next_transport = 0;  // index into MetadataPoolConfig::transports
  std::unique_ptr<peerwire::MetadataFetcher> fetcher;
  std::unique_ptr<WireMachineOf<peerwire::MetadataFetcher>> machine;
  std::shared_ptr<WireDriver> driver;
};

// The uTP side of one attached UDP socket.
struct MetadataPool::Utp {
  Utp(asio::io_context& io, UdpSocket& s, UtpSocketConfig cfg, std::uint64_t seed)
      : udp(s), out(s), socket(io, out, std::move(cfg), seed), v6(!s.local_endpoint().ip.is_v4()) {}
  ~Utp() {
    socket.close();
    udp.set_utp_handler({});
  }
  UdpSocket& udp;
  UdpSocketOut out;
  UtpSocket socket;
  bool v6;
};

MetadataPool::MetadataPool(asio::io_context& io, MetadataPoolConfig config, Callback on_done, std::uint64_t seed)
    : io_(io), config_(std::move(config)), on_done_(std::move(on_done)), rng_state_(seed), rx_(64 * 1024) {}

MetadataPool::~MetadataPool() {
  stop();
  utp_.clear();
}

void MetadataPool::attach_udp(UdpSocket& udp) {
  UtpSocketConfig cfg;
  cfg.utp.initial_timeout = config_.utp_syn_timeout;
  cfg.utp.syn_retries = config_.utp_syn_retries;
  // Closed connections linger until their FIN is acked: room for as many again.
  cfg.max_connections = 2 * config_.max_connections + 16;
  auto u = std::make_unique<Utp>(io_, udp, cfg, splitmix64_next(rng_state_));
  udp.set_utp_handler([s = &u->socket](std::span<const Datagram> batch) { s->on_datagrams(batch); });
  utp_.push_back(std::move(u));
}

const MetadataPoolCounters& MetadataPool::counters() const noexcept {
  auto& c = counters_;
  c.udp_krpc_in = c.udp_utp_in = c.udp_unknown_in = 0;
  c.utp_bad_datagrams = c.utp_unknown_connection = c.utp_refused_syn = 0;
  c.utp_timeouts = c.utp_peer_resets = c.utp_retransmits = c.utp_sockets_connections = 0;
  for (const auto& u : utp_) {
    const auto& d = u->udp.counters();
    c.udp_krpc_in += d.krpc_in;
    c.udp_utp_in += d.utp_in;
    c.udp_unknown_in += d.unknown_in;
    const auto& t = u->socket.counters();
    c.utp_bad_datagrams += t.bad_datagrams;
    c.utp_unknown_connection += t.unknown_connection;
    c.utp_refused_syn += t.refused_syn;
    c.utp_timeouts += t.timeouts;
    c.utp_peer_resets += t.peer_resets;
    c.utp_retransmits += t.retransmits;
    c.utp_sockets_connections += t.connections;
  }
  return c;
}

UtpSocket* MetadataPool::utp_for(const Endpoint& peer) const {
  for (const auto& u : utp_) {
    if (u->v6 == !peer.ip.is_v4()) return &u->socket;
  }
  return nullptr;
}

bool MetadataPool::can_start(const Endpoint& peer) const {
  if (conns_.size() >= config_.max_connections) return false;
  const auto it = per_ip_.find(peer.ip);
  return it == per_ip_.end() || it->second < config_.max_per_ip;
}

bool MetadataPool::start(const InfoHash& ih, const Endpoint& peer) {
  if (!can_start(peer)) {
    ++counters_.refused_cap;
    return false;
  }
  std::string random(12, '\0');
  for (std::size_t i = 0; i < random.size(); i += 8) {
    const auto r = splitmix64_next(rng_state_);
    std::memcpy(random.data() + i, &r, std::min<std::size_t>(8, random.size() - i));
  }
  const auto id = peerwire::make_peer_id(config_.peer_id_prefix, random);
  auto c = std::make_shared<Conn>(config_.fetcher, ih, id, peer);
  conns_.emplace(c.get(), c);
  ++per_ip_[peer.ip];
  ++counters_.connections_started;
  counters_.peak_connections = std::max(counters_.peak_connections, conns_.size());
  if (!attempt(c)) {
    // No transport can reach this peer (e.g. uTP only, and no socket of its family).
    c->fetcher = std::make_unique<peerwire::MetadataFetcher>(c->config, c->ih, c->peer_id);
    c->fetcher->on_connect_failed("no transport reaches this peer");
    asio::post(io_, [this, c, alive = std::weak_ptr<char>(alive_)] {
      if (!alive.expired() && conns_.contains(c.get())) finish(c);
    });
  }
  return true;
}

// Starts the next transport that can reach the peer; false when none is left.
bool MetadataPool::attempt(const std::shared_ptr<Conn>& c) {
  while (c->next_transport < config_.transports.size()) {
    const auto kind = config_.transports[c->next_transport++];
    std::shared_ptr<Transport> transport;
    if (kind == WireTransport::Utp) {
      auto* utp = utp_for(c->peer);
      if (utp == nullptr) continue;
      transport = utp->connect(c->peer);
      ++counters_.utp_started;
    } else {
      transport = TcpTransport::outgoing(io_, c->peer, config_.connect_timeout, rx_);
      ++counters_.tcp_started;
    }
    c->fetcher = std::make_unique<peerwire::MetadataFetcher>(c->config, c->ih, c->peer_id);
    c->machine = std::make_unique<WireMachineOf<peerwire::MetadataFetcher>>(*c->fetcher);
    WireDriverOptions opts;
    opts.bytes_in = &counters_.bytes_in;
    opts.bytes_out = &counters_.bytes_out;
    opts.on_connected = [this, kind] {
      ++counters_.connected;
      if (kind == WireTransport::Utp) ++counters_.utp_connected;
    };
    c->driver = std::make_shared<WireDriver>(io_, std::move(transport), *c->machine, std::move(opts),
                                             [this, raw = c.get()] { attempt_done(raw); });
    c->driver->start();
    return true;
  }
  return false;
}

// An attempt ended: a transport that never connected hands the peer to the next one.
void MetadataPool::attempt_done(Conn* raw) {
  const auto it = conns_.find(raw);
  if (it == conns_.end()) return;
  const auto c = it->second;
  if (!stopping_ && !c->driver->connected() && c->next_transport < config_.transports.size()) {
    // The old driver is inside its finish(); it touches nothing of ours once this returns.
    auto old_driver = std::move(c->driver);
    auto old_machine = std::move(c->machine);
    auto old_fetcher = std::move(c->fetcher);
    if (attempt(c)) {
      ++counters_.fallbacks;
      return;
    }
    c->driver = std::move(old_driver);
    c->machine = std::move(old_machine);
    c->fetcher = std::move(old_fetcher);
  }
  finish(c);
}

// The peer is done with: release its caps, report the result.
void MetadataPool::finish(const std::shared_ptr<Conn>& c) {
  if (conns_.erase(c.get()) == 0) return;
  if (auto ip = per_ip_.find(c->peer.ip); ip != per_ip_.end() && --ip->second == 0) per_ip_.erase(ip);
  auto result = c->fetcher->take_result();
  if (std::holds_alternative<peerwire::FetchSuccess>(result)) {
    ++counters_.peer_succeeded;
  } else {
    ++counters_.peer_failed;
  }
  on_done_(c->ih, c->peer, std::move(result));
}

void MetadataPool::stop() {
  stopping_ = true;
  std::vector<std::shared_ptr<Conn>> all;
  all.reserve(conns_.size());
  for (auto& [p, c] : conns_) all.push_back(c);
  for (auto& c : all) {
    if (c->driver) {
      c->driver->stop("stopped");
    } else if (conns_.contains(c.get())) {
      finish(c);
    }
  }
  stopping_ = false;
}

}  // namespace bitscrape::net
