#include "net/metadata_pool.hpp"

#include "net/address.hpp"

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

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
  Conn(asio::io_context& io, const peerwire::FetcherConfig& cfg, const InfoHash& h, const peerwire::PeerId& id,
       const Endpoint& p)
      : socket(io), timer(io), fetcher(cfg, h, id), ih(h), peer(p) {}
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  peerwire::MetadataFetcher fetcher;
  InfoHash ih;
  Endpoint peer;
  std::string writing;  // bytes handed to async_write (must stay alive until it completes)
  std::string pending;  // produced while a write was in flight
  bool connected = false;
  bool finished = false;
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
  auto c = std::make_shared<Conn>(io_, config_.fetcher, ih, id, peer);
  conns_.emplace(c.get(), c);
  ++per_ip_[peer.ip];
  ++counters_.connections_started;
  counters_.peak_connections = std::max(counters_.peak_connections, conns_.size());

  c->timer.expires_after(config_.connect_timeout);
  c->timer.async_wait([this, c](std::error_code ec) {
    if (ec || c->connected || c->finished) return;
    c->fetcher.on_connect_failed("connect timed out");
    finish(c);
  });
  c->socket.async_connect(to_asio_tcp(peer), [this, c](std::error_code ec) {
    if (c->finished) return;
    if (ec) {
      c->fetcher.on_connect_failed(ec.message());
      finish(c);
      return;
    }
    on_connected(c);
  });
  return true;
}

void MetadataPool::on_connected(const std::shared_ptr<Conn>& c) {
  c->connected = true;
  ++counters_.connected;
  std::error_code ec;
  c->socket.non_blocking(true, ec);
  c->socket.set_option(asio::ip::tcp::no_delay(true), ec);
  c->fetcher.start(std::chrono::steady_clock::now());
  pump(c);
  if (!c->finished) arm_read(c);
}

void MetadataPool::arm_read(const std::shared_ptr<Conn>& c) {
  c->socket.async_wait(asio::socket_base::wait_read, [this, c](std::error_code ec) {
    if (c->finished) return;
    if (ec) {
      c->fetcher.on_peer_closed();
      finish(c);
      return;
    }
    // Drain what the kernel holds into the shared buffer, feeding the fetcher chunk by chunk.
    for (;;) {
      std::error_code rec;
      const std::size_t n = c->socket.read_some(asio::buffer(rx_), rec);
      if (rec == asio::error::would_block) break;
      if (rec || n == 0) {
        c->fetcher.on_peer_closed();
        break;
      }
      counters_.bytes_in += n;
      c->fetcher.on_bytes(std::string_view(rx_.data(), n), std::chrono::steady_clock::now());
      if (c->fetcher.done()) break;
    }
    pump(c);
    if (!c->finished) arm_read(c);
  });
}

// Sends what the fetcher produced, re-arms its deadline, and finishes it when done.
void MetadataPool::pump(const std::shared_ptr<Conn>& c) {
  if (c->finished) return;
  c->pending += c->fetcher.take_output();
  write_next(c);
  if (c->fetcher.done()) {
    finish(c);
    return;
  }
  arm_timer(c);
}

// One async_write at a time; what the fetcher produces meanwhile waits in `pending`.
void MetadataPool::write_next(const std::shared_ptr<Conn>& c) {
  if (!c->writing.empty() || c->pending.empty() || c->finished) return;
  c->writing.swap(c->pending);
  counters_.bytes_out += c->writing.size();
  asio::async_write(c->socket, asio::buffer(c->writing), [this, c](std::error_code ec, std::size_t) {
    c->writing.clear();
    if (c->finished) return;
    if (ec) {
      c->fetcher.on_peer_closed();
      finish(c);
      return;
    }
    write_next(c);
  });
}

void MetadataPool::arm_timer(const std::shared_ptr<Conn>& c) {
  const auto deadline = c->fetcher.next_deadline();
  if (deadline == peerwire::kNever) return;
  c->timer.expires_at(deadline);
  c->timer.async_wait([this, c](std::error_code ec) {
    if (ec || c->finished) return;
    c->fetcher.tick(std::chrono::steady_clock::now());
    pump(c);
  });
}

void MetadataPool::finish(const std::shared_ptr<Conn>& c) {
  if (c->finished) return;
  c->finished = true;
  std::error_code ec;
  c->socket.close(ec);
  c->timer.cancel();
  if (auto it = per_ip_.find(c->peer.ip); it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
  conns_.erase(c.get());
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
  for (auto& c : all) {
    if (!c->connected) {
      c->fetcher.on_connect_failed("stopped");
    } else {
      c->fetcher.on_peer_closed();
    }
    finish(c);
  }
}

}  // namespace bitscrape::net
