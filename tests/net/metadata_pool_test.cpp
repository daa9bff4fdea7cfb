// net::MetadataPool over loopback with both transports: uTP first on the peer's UDP port, TCP
// after a reset or no answer; uTP skipped when configured off or with no socket of the family.
// The seeders here are peerwire::Seeders behind the same net::WireDriver.
#include "net/metadata_pool.hpp"

#include "bencode/encoder.hpp"
#include "net/tcp_transport.hpp"
#include "net/udp.hpp"
#include "net/utp_socket.hpp"
#include "net/wire_driver.hpp"
#include "peerwire/seeder.hpp"

#include "filler.hpp"

#include <gtest/gtest.h>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace bitscrape::net {
namespace {

using namespace std::chrono_literals;

template <class F>
void run_until(asio::io_context& io, F done, std::chrono::seconds limit = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(5ms);
    io.restart();
  }
}

std::string info_dict() {
  bencode::Item info;
  info["name"] = std::string("both-ways.bin");
  info["piece length"] = std::int64_t{16384};
  info["length"] = std::int64_t{1000};
  info["pieces"] = test_support::filler(40 * 1000, 3);
  return info.encode();
}

// A peer on 127.0.0.1:P: a UDP socket (uTP served when `utp`, else SYNs are reset; nothing at
// all when `silent`) and a TCP listener on the same port number when `tcp`.
class Peer {
 public:
  Peer(asio::io_context& io, std::string info, bool utp, bool tcp, bool silent = false)
      : io_(io), source_(std::move(info)), udp_(io), out_(udp_), utp_(io, out_, {}, 11), acceptor_(io) {
    // The same port number for UDP and TCP, as clients do: retry while the TCP one is taken.
    for (int tries = 0; tries < 50; ++tries) {
      UdpSocket probe(io);
      EXPECT_FALSE(probe.open(*Endpoint::parse("127.0.0.1:0")));
      const auto port = probe.local_endpoint().port;
      probe.close();
      if (tcp) {
        std::error_code ec;
        const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
        acceptor_ = asio::ip::tcp::acceptor(io);
        acceptor_.open(ep.protocol(), ec);
        acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
        if (acceptor_.bind(ep, ec); ec) continue;
      }
      if (udp_.open(Endpoint{*IpAddress::parse("127.0.0.1"), port})) continue;
      break;
    }
    endpoint_ = udp_.local_endpoint();
    EXPECT_NE(endpoint_.port, 0);
    udp_.start([](std::span<const Datagram>) {});
    if (!silent) udp_.set_utp_handler([this](std::span<const Datagram> b) { utp_.on_datagrams(b); });
    if (utp) utp_.listen([this](std::shared_ptr<Transport> t, const Endpoint&) { serve(std::move(t)); });
    if (tcp) {
      acceptor_.listen();
      accept();
    }
  }
  ~Peer() {
    for (auto& s : served_) s->driver->stop("test over");
    utp_.close();
  }
  const Endpoint& endpoint() const { return endpoint_; }
  const InfoHash& key() const { return source_.v1_key(); }
  int served() const { return static_cast<int>(served_.size()); }

 private:
  struct Served {
    explicit Served(const peerwire::MetadataSource& s)
        : seeder(peerwire::SeederConfig{}, s), machine(seeder) {}
    peerwire::Seeder seeder;
    WireMachineOf<peerwire::Seeder> machine;
    std::shared_ptr<WireDriver> driver;
  };
  void accept() {
    acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket s) {
      if (ec) return;
      serve(TcpTransport::accepted(io_, std::move(s), rx_));
      accept();
    });
  }
  void serve(std::shared_ptr<Transport> t) {
    auto s = std::make_unique<Served>(source_);
    WireDriverOptions o;
    o.flush_grace = 5s;
    s->driver = std::make_shared<WireDriver>(io_, std::move(t), s->machine, o, [] {});
    s->driver->start();
    served_.push_back(std::move(s));
  }

  asio::io_context& io_;
  peerwire::SingleMetadata source_;
  UdpSocket udp_;
  UdpSocketOut out_;
  UtpSocket utp_;
  asio::ip::tcp::acceptor acceptor_;
  std::array<char, 16384> rx_{};
  Endpoint endpoint_;
  std::vector<std::unique_ptr<Served>> served_;
};

struct Fetch {
  explicit Fetch(asio::io_context& io, MetadataPoolConfig cfg = {})
      : udp(io),
        pool(
            io, std::move(cfg),
            [this](const InfoHash&, const Endpoint&, peerwire::FetchResult r) { result = std::move(r); }, 5) {
    EXPECT_FALSE(udp.open(*Endpoint::parse("127.0.0.1:0")));
    udp.start([](std::span<const Datagram>) {});
  }
  UdpSocket udp;
  std::optional<peerwire::FetchResult> result;
  MetadataPool pool;
};

TEST(MetadataPool, FetchesFromAUtpOnlyPeerOverUtp) {
  asio::io_context io;
  const auto info = info_dict();
  Peer peer(io, info, /*utp=*/true, /*tcp=*/false);
  Fetch f(io);
  f.pool.attach_udp(f.udp);
  ASSERT_TRUE(f.pool.start(peer.key(), peer.endpoint()));
  run_until(io, [&] { return f.result.has_value(); });
  ASSERT_TRUE(f.result.has_value());
  ASSERT_TRUE(std::holds_alternative<peerwire::FetchSuccess>(*f.result))
      << std::get<peerwire::FetchFailure>(*f.result).detail;
  EXPECT_TRUE(std::get<peerwire::FetchSuccess>(*f.result).info == info);
  EXPECT_EQ(f.pool.counters().utp_started, 1u);
  EXPECT_EQ(f.pool.counters().utp_connected, 1u);
  EXPECT_EQ(f.pool.counters().tcp_started, 0u);
  EXPECT_EQ(f.pool.counters().fallbacks, 0u);
  EXPECT_EQ(f.pool.active(), 0u);
}

TEST(MetadataPool, ResetUtpFallsBackToTcpAtOnce) {
  asio::io_context io;
  const auto info = info_dict();
  Peer peer(io, info, /*utp=*/false, /*tcp=*/true);  // its UDP socket resets our SYN
  Fetch f(io);
  f.pool.attach_udp(f.udp);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(f.pool.start(peer.key(), peer.endpoint()));
  run_until(io, [&] { return f.result.has_value(); });
  ASSERT_TRUE(f.result.has_value());
  ASSERT_TRUE(std::holds_alternative<peerwire::FetchSuccess>(*f.result))
      << std::get<peerwire::FetchFailure>(*f.result).detail;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 900ms);  // no SYN resend waited for
  EXPECT_EQ(f.pool.counters().utp_started, 1u);
  EXPECT_EQ(f.pool.counters().utp_connected, 0u);
  EXPECT_EQ(f.pool.counters().tcp_started, 1u);
  EXPECT_EQ(f.pool.counters().fallbacks, 1u);
  EXPECT_EQ(f.pool.counters().connections_started, 1u);  // one peer, one slot
  EXPECT_EQ(f.pool.counters().utp_peer_resets, 1u);      // summed from the uTP socket
  EXPECT_EQ(f.pool.counters().udp_utp_in, 1u);           // the ST_RESET, through the demultiplexer
  EXPECT_EQ(f.pool.counters().udp_krpc_in, 0u);
}

TEST(MetadataPool, SilentUtpFallsBackToTcpAfterTheSynTimeout) {
  asio::io_context io;
  const auto info = info_dict();
  Peer peer(io, info, /*utp=*/false, /*tcp=*/true, /*silent=*/true);
  MetadataPoolConfig cfg;
  cfg.utp_syn_timeout = 150ms;
  Fetch f(io, cfg);
  f.pool.attach_udp(f.udp);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(f.pool.start(peer.key(), peer.endpoint()));
  // The per-IP cap holds the slot across both transports.
  EXPECT_FALSE(f.pool.can_start(peer.endpoint()) && f.pool.config().max_per_ip == 1);
  run_until(io, [&] { return f.result.has_value(); });
  ASSERT_TRUE(f.result.has_value());
  EXPECT_TRUE(std::holds_alternative<peerwire::FetchSuccess>(*f.result));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 450ms);  // 150 ms + 300 ms of SYNs
  EXPECT_EQ(f.pool.counters().fallbacks, 1u);
  EXPECT_EQ(f.pool.counters().tcp_started, 1u);
}

TEST(MetadataPool, TcpOnlyConfigNeverSendsUtp) {
  asio::io_context io;
  const auto info = info_dict();
  Peer peer(io, info, /*utp=*/true, /*tcp=*/true);
  MetadataPoolConfig cfg;
  cfg.transports = parse_transports({"tcp"});
  Fetch f(io, cfg);
  f.pool.attach_udp(f.udp);
  ASSERT_TRUE(f.pool.start(peer.key(), peer.endpoint()));
  run_until(io, [&] { return f.result.has_value(); });
  ASSERT_TRUE(f.result.has_value());
  EXPECT_TRUE(std::holds_alternative<peerwire::FetchSuccess>(*f.result));
  EXPECT_EQ(f.pool.counters().utp_started, 0u);
  EXPECT_EQ(f.udp.counters().datagrams_out, 0u);
}

TEST(MetadataPool, UtpOnlyWithNoSocketOfTheFamilyFailsAsAConnectFailure) {
  asio::io_context io;
  MetadataPoolConfig cfg;
  cfg.transports = parse_transports({"utp"});
  Fetch f(io, cfg);
  f.pool.attach_udp(f.udp);  // IPv4 only
  ASSERT_TRUE(f.pool.start(InfoHash{}, *Endpoint::parse("[::1]:6881")));
  run_until(io, [&] { return f.result.has_value(); });
  ASSERT_TRUE(f.result.has_value());
  ASSERT_TRUE(std::holds_alternative<peerwire::FetchFailure>(*f.result));
  EXPECT_EQ(std::get<peerwire::FetchFailure>(*f.result).reason, peerwire::FailReason::ConnectFailed);
  EXPECT_EQ(f.pool.active(), 0u);
}

TEST(MetadataPool, StopEndsAPeerMidFallbackWithOneResult) {
  asio::io_context io;
  const auto info = info_dict();
  Peer peer(io, info, /*utp=*/false, /*tcp=*/true, /*silent=*/true);
  int results = 0;
  MetadataPool pool(
      io, {}, [&](const InfoHash&, const Endpoint&, peerwire::FetchResult) { ++results; }, 3);
  UdpSocket udp(io);
  ASSERT_FALSE(udp.open(*Endpoint::parse("127.0.0.1:0")));
  udp.start([](std::span<const Datagram>) {});
  pool.attach_udp(udp);
  ASSERT_TRUE(pool.start(peer.key(), peer.endpoint()));
  io.run_for(50ms);
  pool.stop();
  io.restart();
  io.run_for(100ms);
  EXPECT_EQ(results, 1);
  EXPECT_EQ(pool.counters().tcp_started, 0u);
  EXPECT_EQ(pool.active(), 0u);
}

}  // namespace
}  // namespace bitscrape::net
