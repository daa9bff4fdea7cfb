#include "testnet/seeder_host.hpp"

#include "net/address.hpp"

#include "net/tcp_transport.hpp"
#include "net/wire_driver.hpp"

#include <asio/ip/v6_only.hpp>
#include <asio/steady_timer.hpp>

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
  Conn(MetadataCatalog& catalog, std::uint32_t listener, const peerwire::SeederConfig& cfg,
       std::optional<IpAddress> peer)
      : source(catalog, listener), seeder(cfg, source, peer), machine(seeder) {}
  PinnedSource source;  // before `seeder`, which keeps a reference to it
  peerwire::Seeder seeder;
  net::WireMachineOf<peerwire::Seeder> machine;
  std::shared_ptr<net::WireDriver> driver;
};

struct SeederHost::UtpListener {
  UtpListener(asio::io_context& io, net::DatagramOut& out, net::UtpSocketConfig cfg, std::uint64_t seed,
              std::uint32_t i, const peerwire::SeederConfig& c)
      : socket(io, out, std::move(cfg), seed), id(i), config(c) {}
  net::UtpSocket socket;
  std::uint32_t id;
  peerwire::SeederConfig config;  // with this listener's behavior
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

net::UtpSocket& SeederHost::listen_utp(std::uint32_t id, const peerwire::SeederBehavior* behavior,
                                       net::DatagramOut& out) {
  auto cfg = config_.seeder;
  cfg.behavior = behavior;
  net::UtpSocketConfig ucfg;
  ucfg.max_connections = config_.max_connections;
  auto l = std::make_unique<UtpListener>(io_, out, ucfg, 0x5EED'0000'0000'0000ull + id, id, cfg);
  auto* raw = l.get();
  l->socket.listen([this, raw](std::shared_ptr<net::Transport> t, const Endpoint& from) {
    ++counters_.accepted;
    ++counters_.utp_accepted;
    if (closed_ || conns_.size() >= config_.max_connections) {
      ++counters_.refused_cap;
      t->close();
      return;
    }
    serve(raw->id, raw->config, from.ip, std::move(t));
  });
  if (closed_) l->socket.close();
  utp_listeners_.push_back(std::move(l));
  return raw->socket;
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
  auto transport = net::TcpTransport::accepted(io_, std::move(socket), rx_);
  serve(l->id, l->config, peer, std::move(transport));
}

void SeederHost::serve(std::uint32_t listener, const peerwire::SeederConfig& config, std::optional<IpAddress> peer,
                       std::shared_ptr<net::Transport> transport) {
  auto c = std::make_shared<Conn>(catalog_, listener, config, peer);
  conns_.emplace(c.get(), c);
  counters_.peak_connections = std::max(counters_.peak_connections, conns_.size());
  net::WireDriverOptions opts;
  opts.flush_grace = kFlushGrace;
  opts.bytes_in = &counters_.bytes_in;
  opts.bytes_out = &counters_.bytes_out;
  c->driver = std::make_shared<net::WireDriver>(io_, std::move(transport), c->machine, std::move(opts),
                                                [this, raw = c.get()] { finish(raw); });
  c->driver->start_after(config_.hold);
}

// The driver is done with the connection: count what it did and forget it.
void SeederHost::finish(Conn* raw) {
  const auto it = conns_.find(raw);
  if (it == conns_.end()) return;
  const auto c = it->second;
  conns_.erase(it);
  if (c->seeder.serving()) {
    ++counters_.served;
  } else if (c->seeder.end_reason() == peerwire::SeederEnd::UnknownInfoHash) {
    ++counters_.unknown_infohash;
  }
  counters_.pieces_sent += c->seeder.stats().pieces_sent;
  counters_.rejects_sent += c->seeder.stats().rejects_sent;
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
  for (auto& c : all) c->driver->stop("host closed");
  for (auto& l : utp_listeners_) l->socket.close();
}

}  // namespace bitscrape::testnet
