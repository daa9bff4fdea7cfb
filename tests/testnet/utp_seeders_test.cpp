// The testnet's seeders over uTP on their nodes' UDP ports, fetched by net::MetadataPool from a
// crawler-like UDP socket (uTP first, TCP after): every torrent of a testnet where half the
// honest seeding addresses have no TCP listener is fetched and verified; the uTP-only ones
// over uTP, never over TCP; the liars serve over uTP too and are caught as liars.
#include "testnet/testnet.hpp"

#include "metainfo/verify.hpp"
#include "net/metadata_pool.hpp"
#include "net/udp.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <variant>

namespace bitscrape::testnet {
namespace {

using namespace std::chrono_literals;

template <class F>
bool run_until(asio::io_context& io, F done, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.run_for(10ms);
    if (io.stopped()) io.restart();
  }
  return done();
}

TEST(TestnetUtp, UtpOnlySeedersAreFetchedOverUtpAndLiarsCaught) {
  asio::io_context io;
  TestnetConfig cfg;
  cfg.nodes = 40;
  cfg.torrents = 24;
  cfg.seeders = 6;
  cfg.utp_only = 0.5;
  cfg.liars = 1.0;
  cfg.net = "127.0.46";
  cfg.port = 16890;
  cfg.seed = 9;
  Testnet net(io, cfg);
  bool ready = false;
  auto r = net.start([&](const ReadyInfo&) { ready = true; });
  ASSERT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
  ASSERT_TRUE(run_until(
      io, [&] { return ready; }, 120s));

  net::UdpSocket udp(io);
  ASSERT_FALSE(udp.open(*Endpoint::parse("127.0.46.250:16890")));
  udp.start([](std::span<const net::Datagram>) {});
  net::MetadataPoolConfig pc;
  pc.max_per_ip = 100;

  std::size_t utp_only_torrents = 0;
  std::size_t expected = 0;
  std::map<InfoHash, std::size_t> torrent_of;
  for (std::size_t t = 0; t < net.torrent_count(); ++t) {
    const auto key = net.torrent_keys(t).front();
    torrent_of[key] = t;
    if (net.seeder_utp_only(t)) ++utp_only_torrents;
    ASSERT_TRUE(net.liar_of(t));
  }
  ASSERT_GT(utp_only_torrents, 0u);
  ASSERT_LT(utp_only_torrents, net.torrent_count());

  // One honest fetch per torrent first, then one from its liar.
  std::map<InfoHash, std::optional<peerwire::FetchResult>> honest, liar;
  net::MetadataPool honest_pool(
      io, pc,
      [&](const InfoHash& ih, const Endpoint&, peerwire::FetchResult res) { honest[ih] = std::move(res); },
      4);
  net::MetadataPool liar_pool(
      io, pc,
      [&](const InfoHash& ih, const Endpoint&, peerwire::FetchResult res) { liar[ih] = std::move(res); }, 5);
  net::UdpSocket udp2(io);
  ASSERT_FALSE(udp2.open(*Endpoint::parse("127.0.46.251:16890")));
  udp2.start([](std::span<const net::Datagram>) {});
  honest_pool.attach_udp(udp);
  liar_pool.attach_udp(udp2);
  for (const auto& [key, t] : torrent_of) {
    ASSERT_TRUE(honest_pool.start(key, net.seeder_of(t)));
    ASSERT_TRUE(liar_pool.start(key, *net.liar_of(t)));
    ++expected;
  }
  ASSERT_TRUE(run_until(
      io, [&] { return honest.size() == expected && liar.size() == expected; }, 60s))
      << honest.size() << " honest and " << liar.size() << " liar results of " << expected;

  for (const auto& [key, t] : torrent_of) {
    const auto& h = *honest[key];
    ASSERT_TRUE(std::holds_alternative<peerwire::FetchSuccess>(h))
        << "torrent " << t << (net.seeder_utp_only(t) ? " (uTP only)" : "") << ": "
        << std::get<peerwire::FetchFailure>(h).detail;
    EXPECT_NE(metainfo::match_key(std::get<peerwire::FetchSuccess>(h).info, key), metainfo::KeyMatch::None);
    const auto& l = *liar[key];
    ASSERT_TRUE(std::holds_alternative<peerwire::FetchFailure>(l)) << "torrent " << t;
    EXPECT_TRUE(std::get<peerwire::FetchFailure>(l).liar) << std::get<peerwire::FetchFailure>(l).detail;
  }
  // Every seeder serves uTP, so nothing needed TCP; the uTP-only ones could not have used it.
  EXPECT_EQ(honest_pool.counters().utp_connected, expected);
  EXPECT_EQ(honest_pool.counters().tcp_started, 0u);
  EXPECT_EQ(liar_pool.counters().utp_connected, expected);
  EXPECT_GE(net.stats().tcp.utp_accepted, 2 * expected);
  EXPECT_GT(net.stats().udp.utp_in, 0u);

  // With uTP off on the fetcher's side, the uTP-only seeders cannot be reached; the others can.
  std::map<InfoHash, std::optional<peerwire::FetchResult>> tcp_only;
  auto tcp_cfg = pc;
  tcp_cfg.transports = net::parse_transports({"tcp"});
  net::MetadataPool tcp_pool(
      io, tcp_cfg,
      [&](const InfoHash& ih, const Endpoint&, peerwire::FetchResult res) { tcp_only[ih] = std::move(res); },
      6);
  for (const auto& [key, t] : torrent_of) ASSERT_TRUE(tcp_pool.start(key, net.seeder_of(t)));
  ASSERT_TRUE(run_until(
      io, [&] { return tcp_only.size() == expected; }, 60s));
  for (const auto& [key, t] : torrent_of) {
    EXPECT_EQ(std::holds_alternative<peerwire::FetchSuccess>(*tcp_only[key]), !net.seeder_utp_only(t))
        << "torrent " << t;
  }
  net.stop();
}

}  // namespace
}  // namespace bitscrape::testnet
