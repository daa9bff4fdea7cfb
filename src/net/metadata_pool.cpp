#include "net/metadata_pool.hpp"

#include "net/tcp_transport.hpp"
#include "net/wire_driver.hpp"

#include <cstring>

namespace bitscrape::net {

namespace {
std::uint64_t splitmix(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
}  // namespace

struct MetadataPool::Conn {
  Conn(const peerwire::FetcherConfig& cfg, const InfoHash& h, const peerwire::PeerId& id, const Endpoint& p)
      : fetcher(cfg, h, id), machine(fetcher), ih(h), peer(p) {}
  peerwire::MetadataFetcher fetcher;
  WireMachineOf<peerwire::MetadataFetcher> machine;
  InfoHash ih;
  Endpoint peer;
  std::shared_ptr<WireDriver> driver;
};

MetadataPool::MetadataPool(asio::io_context& io, MetadataPoolConfig config, Callback on_done, std::uint64_t seed)
    : io_(io), config_(std::move(config)), on_done_(std::move(on_done)), rng_state_(seed), rx_(64 * 1024) {}

MetadataPool::~MetadataPool() { stop(); }

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
    const auto r = splitmix(rng_state_);
    std::memcpy(random.data() + i, &r, std::min<std::size_t>(8, random.size() - i));
  }
  const auto id = peerwire::make_peer_id(config_.peer_id_prefix, random);
  auto c = std::make_shared<Conn>(config_.fetcher, ih, id, peer);
  conns_.emplace(c.get(), c);
  ++per_ip_[peer.ip];
  ++counters_.connections_started;
  counters_.peak_connections = std::max(counters_.peak_connections, conns_.size());

  WireDriverOptions opts;
  opts.bytes_in = &counters_.bytes_in;
  opts.bytes_out = &counters_.bytes_out;
  opts.on_connected = [this] { ++counters_.connected; };
  auto transport = TcpTransport::outgoing(io_, peer, config_.connect_timeout, rx_);
  c->driver = std::make_shared<WireDriver>(io_, std::move(transport), c->machine, std::move(opts),
                                           [this, raw = c.get()] { finish(raw); });
  c->driver->start();
  return true;
}

// The driver is done with the connection: release its caps, report the result.
void MetadataPool::finish(Conn* raw) {
  const auto it = conns_.find(raw);
  if (it == conns_.end()) return;
  const auto c = it->second;  // alive until the callback returns
  conns_.erase(it);
  if (auto ip = per_ip_.find(c->peer.ip); ip != per_ip_.end() && --ip->second == 0) per_ip_.erase(ip);
  auto result = c->fetcher.take_result();
  if (std::holds_alternative<peerwire::FetchSuccess>(result)) {
    ++counters_.peer_succeeded;
  } else {
    ++counters_.peer_failed;
  }
  on_done_(c->ih, c->peer, std::move(result));
}

void MetadataPool::stop() {
  std::vector<std::shared_ptr<Conn>> all;
  all.reserve(conns_.size());
  for (auto& [p, c] : conns_) all.push_back(c);
  for (auto& c : all) c->driver->stop("stopped");
}

}  // namespace bitscrape::net
