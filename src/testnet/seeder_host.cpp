#include "testnet/seeder_host.hpp"

#include "net/address.hpp"

#include <asio/ip/v6_only.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <chrono>

namespace bitscrape::testnet {

namespace {

constexpr std::chrono::seconds kFlushGrace{5};

// The MetadataSource of one connection: asks the catalog on behalf of its listener and pins the
// bytes it hands to the Seeder for the connection's lifetime.
class PinnedSource final : public peerwire::MetadataSource {
 public:
  PinnedSource(MetadataCatalog& catalog, std::uint32_t listener) : catalog_(catalog), listener_(listener) {}
  std::optional<std::string_view> find(const InfoHash& key) const override {
    pinned_ = catalog_.find(key, listener_);
    if (!pinned_) return std::nullopt;
    return std::string_view(*pinned_);
  }

 private:
  MetadataCatalog& catalog_;
  std::uint32_t listener_;
  mutable std::shared_ptr<const std::string> pinned_;
};

}  // namespace

struct SeederHost::Listener {
  Listener(asio::io_context& io, std::uint32_t i, const peerwire::SeederConfig& c)
      : acceptor(io), backoff(io), id(i), config(c) {}
  asio::ip::tcp::acceptor acceptor;
  asio::steady_timer backoff;
  std::uint32_t id;
  peerwire::SeederConfig config;  // with this listener's behavior
  bool closed = false;
};

struct SeederHost::Conn {
  Conn(asio::io_context& io, asio::ip::tcp::socket s, MetadataCatalog& catalog, std::uint32_t listener,
       const peerwire::SeederConfig& cfg, std::optional<IpAddress> peer)
      : socket(std::move(s)), timer(io), source(catalog, listener), seeder(cfg, source, peer) {}
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  PinnedSource source;  // before `seeder`, which keeps a reference to it
  peerwire::Seeder seeder;
  std::string writing;  // handed to async_write (alive until it completes)
  std::string pending;  // produced while a write was in flight
  bool finished = false;
};

SeederHost::SeederHost(asio::io_context& io, SeederHostConfig config, MetadataCatalog& catalog)
    : io_(io),
      config_(std::move(config)),
      catalog_(catalog),
      rx_(64 * 1024),
      alive_(std::make_shared<bool>(true)) {}

SeederHost::~SeederHost() {
  close();
}

Result<Endpoint, std::string> SeederHost::listen(const Endpoint& at, std::uint32_t id,
                                                 const peerwire::SeederBehavior* behavior) {
  if (closed_) return Unexpected{std::string("seeder host is closed")};
  auto cfg = config_.seeder;
  cfg.behavior = behavior;
  auto l = std::make_shared<Listener>(io_, id, cfg);
  std::error_code ec;
  const auto ep = net::to_asio_tcp(at);
  if (l->acceptor.open(ep.protocol(), ec); ec)
    return Unexpected{"cannot open a TCP socket for " + at.to_string() + ": " + ec.message()};
  // Allows a restart while old connections linger in TIME_WAIT; does not allow two listeners.
  l->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ep.address().is_v6()) l->acceptor.set_option(asio::ip::v6_only(true), ec);
  if (l->acceptor.bind(ep, ec); ec)
    return Unexpected{"cannot bind TCP " + at.to_string() + ": " + ec.message()};
  if (l->acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return Unexpected{"cannot listen on TCP " + at.to_string() + ": " + ec.message()};
  }
  const auto local = l->acceptor.local_endpoint(ec);
  listeners_.push_back(l);
  accept_next(l);
  return ec ? at : net::from_asio(local);
}

void SeederHost::accept_next(const std::shared_ptr<Listener>& l) {
  l->acceptor.async_accept(
      [this, l, alive = std::weak_ptr<bool>(alive_)](std::error_code ec, asio::ip::tcp::socket s) {
        if (alive.expired() || l->closed) return;
        if (ec) {
          if (ec == asio::error::operation_aborted) return;
          ++counters_.accept_errors;  // e.g. out of file descriptors: back off instead of spinning
          l->backoff.expires_after(config_.accept_backoff);
          l->backoff.async_wait([this, l, alive](std::error_code tec) {
            if (tec || alive.expired() || l->closed) return;
            accept_next(l);
          });
          return;
        }
        ++counters_.accepted;
        if (conns_.size() >= config_.max_connections) {
          ++counters_.refused_cap;
          std::error_code cec;
          s.close(cec);
        } else {
          start(l, std::move(s));
        }
        accept_next(l);
      });
}

void SeederHost::start(const std::shared_ptr<Listener>& l, asio::ip::tcp::socket socket) {
  std::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  std::optional<IpAddress> peer;
  if (!ec) peer = net::from_asio(remote.address());
  socket.non_blocking(true, ec);
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  auto c = std::make_shared<Conn>(io_, std::move(socket), catalog_, l->id, l->config, peer);
  conns_.emplace(c.get(), c);
  counters_.peak_connections = std::max(counters_.peak_connections, conns_.size());
  if (config_.hold.count() <= 0) {
    begin(c);
    return;
  }
  c->timer.expires_after(config_.hold);
  c->timer.async_wait([this, c, alive = std::weak_ptr<bool>(alive_)](std::error_code tec) {
    if (tec || alive.expired() || c->finished) return;
    begin(c);
  });
}

void SeederHost::begin(const std::shared_ptr<Conn>& c) {
  c->seeder.start(std::chrono::steady_clock::now());
  pump(c);
  if (!c->finished) arm_read(c);
}

void SeederHost::arm_read(const std::shared_ptr<Conn>& c) {
  c->socket.async_wait(
      asio::socket_base::wait_read, [this, c, alive = std::weak_ptr<bool>(alive_)](std::error_code ec) {
        if (alive.expired() || c->finished) return;
        if (ec) {
          c->seeder.on_peer_closed();
          finish(c);
          return;
        }
        for (;;) {
          std::error_code rec;
          const std::size_t n = c->socket.read_some(asio::buffer(rx_), rec);
          if (rec == asio::error::would_block || rec == asio::error::try_again) break;
          if (rec || n == 0) {
            c->seeder.on_peer_closed();
            break;
          }
          counters_.bytes_in += n;
          c->seeder.on_bytes(std::string_view(rx_.data(), n), std::chrono::steady_clock::now());
          if (c->seeder.done()) break;
        }
        pump(c);
        if (!c->finished) arm_read(c);
      });
}

// Sends what the seeder produced, re-arms its deadline, and ends the connection when it is done
// (after the last bytes are written: a seeder that answered and then closed must not lose them).
void SeederHost::pump(const std::shared_ptr<Conn>& c) {
  if (c->finished) return;
  c->pending += c->seeder.take_output();
  write_next(c);
  if (c->seeder.done()) {
    if (c->writing.empty()) {
      finish(c);
      return;
    }
    // The last bytes are still being written: give the peer a grace period to read them.
    c->timer.expires_after(kFlushGrace);
    c->timer.async_wait([this, c, alive = std::weak_ptr<bool>(alive_)](std::error_code ec) {
      if (ec || alive.expired()) return;
      finish(c);
    });
    return;
  }
  arm_timer(c);
}

void SeederHost::write_next(const std::shared_ptr<Conn>& c) {
  if (!c->writing.empty() || c->pending.empty() || c->finished) return;
  c->writing.swap(c->pending);
  counters_.bytes_out += c->writing.size();
  asio::async_write(c->socket, asio::buffer(c->writing),
                    [this, c, alive = std::weak_ptr<bool>(alive_)](std::error_code ec, std::size_t) {
                      if (alive.expired()) return;
                      c->writing.clear();
                      if (c->finished) return;
                      if (ec) {
                        c->seeder.on_peer_closed();
                        finish(c);
                        return;
                      }
                      write_next(c);
                      if (c->writing.empty() && c->seeder.done()) finish(c);
                    });
}

void SeederHost::arm_timer(const std::shared_ptr<Conn>& c) {
  const auto deadline = c->seeder.next_deadline();
  if (deadline == peerwire::kNever) return;
  c->timer.expires_at(deadline);
  c->timer.async_wait([this, c, alive = std::weak_ptr<bool>(alive_)](std::error_code ec) {
    if (ec || alive.expired() || c->finished) return;
    c->seeder.tick(std::chrono::steady_clock::now());
    pump(c);
  });
}

void SeederHost::finish(const std::shared_ptr<Conn>& c) {
  if (c->finished) return;
  c->finished = true;
  if (c->seeder.serving()) {
    ++counters_.served;
  } else if (c->seeder.end_reason() == peerwire::SeederEnd::UnknownInfoHash) {
    ++counters_.unknown_infohash;
  }
  counters_.pieces_sent += c->seeder.stats().pieces_sent;
  counters_.rejects_sent += c->seeder.stats().rejects_sent;
  std::error_code ec;
  c->socket.close(ec);
  c->timer.cancel();
  conns_.erase(c.get());
}

void SeederHost::close() {
  if (closed_) return;
  closed_ = true;
  for (auto& l : listeners_) {
    l->closed = true;
    std::error_code ec;
    l->acceptor.close(ec);
    l->backoff.cancel();
  }
  std::vector<std::shared_ptr<Conn>> all;
  all.reserve(conns_.size());
  for (auto& [p, c] : conns_) all.push_back(c);
  for (auto& c : all) {
    c->seeder.on_peer_closed();
    finish(c);
  }
}

}  // namespace bitscrape::testnet
