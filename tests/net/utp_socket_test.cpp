// net::UtpSocket over loopback UDP: demultiplexing on a shared socket, a byte stream both ways,
// a metadata fetch through net::WireDriver (the same driver as TCP), refusals and timeouts.
#include "net/utp_socket.hpp"

#include "bencode/encoder.hpp"
#include "net/udp.hpp"
#include "net/wire_driver.hpp"
#include "peerwire/fetcher.hpp"
#include "peerwire/seeder.hpp"
#include "utp/packet.hpp"

#include "filler.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace bitscrape::net {
namespace {

using namespace std::chrono_literals;

template <class F>
void run_until(asio::io_context& io, F done, std::chrono::seconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(5ms);
    io.restart();
  }
}

// One UDP socket shared by a KRPC handler (records what it gets) and a UtpSocket.
struct Host {
  explicit Host(asio::io_context& io, UtpSocketConfig cfg = {}, std::uint64_t seed = 1)
      : udp(io), out(udp), utp(io, out, cfg, seed) {
    EXPECT_FALSE(udp.open(*Endpoint::parse("127.0.0.1:0")));
    udp.start([this](std::span<const Datagram> batch) {
      for (const auto& d : batch) krpc.emplace_back(d.bytes);
    });
    udp.set_utp_handler([this](std::span<const Datagram> batch) { utp.on_datagrams(batch); });
  }
  Endpoint endpoint() const { return udp.local_endpoint(); }
  UdpSocket udp;
  UdpSocketOut out;
  UtpSocket utp;
  std::vector<std::string> krpc;
};

// Records transport events; optionally echoes what it reads.
struct Recorder final : Transport::Events {
  Transport* t = nullptr;
  bool echo = false;
  bool is_connected = false;
  std::optional<std::string> closed;
  std::string got;
  void on_transport_connected() override { is_connected = true; }
  bool on_transport_data(std::string_view b) override {
    got.append(b);
    if (echo) t->write(b);
    return true;
  }
  void on_transport_read_done() override {}
  void on_transport_sent() override {}
  void on_transport_closed(std::string_view why) override { closed = std::string(why); }
};

TEST(UtpSocket, SharedSocketSplitsKrpcUtpAndUnknown) {
  asio::io_context io;
  Host a(io), b(io);
  std::string syn;
  utp::Header h;
  h.type = utp::Type::Syn;
  h.connection_id = 77;
  utp::encode(syn, h);
  a.udp.send(b.endpoint(), "d1:q4:pinge");
  a.udp.send(b.endpoint(), syn);         // b is not listening: answered with ST_RESET
  a.udp.send(b.endpoint(), "\x05junk");  // neither
  a.udp.send(b.endpoint(), "hello");     // neither
  a.udp.flush();
  run_until(io, [&] { return b.udp.counters().datagrams_in == 4 && a.utp.counters().datagrams_in == 1; });
  // What is neither goes to the DHT side with KRPC: its inbound limiter must see a flood.
  EXPECT_EQ(b.krpc, (std::vector<std::string>{"d1:q4:pinge", "\x05junk", "hello"}));
  EXPECT_EQ(b.udp.counters().krpc_in, 1u);
  EXPECT_EQ(b.udp.counters().utp_in, 1u);
  EXPECT_EQ(b.udp.counters().unknown_in, 2u);
  EXPECT_EQ(b.utp.counters().refused_syn, 1u);
  EXPECT_EQ(b.utp.counters().resets_sent, 1u);
  // The reset reached a's uTP side (for no connection of a's: dropped, counted).
  EXPECT_EQ(a.udp.counters().utp_in, 1u);
  EXPECT_EQ(a.utp.counters().unknown_connection, 1u);
}

TEST(UtpSocket, StreamCarriesBytesBothWaysInOrder) {
  asio::io_context io;
  Host client(io, {}, 1), server(io, {}, 2);
  Recorder served;
  std::shared_ptr<Transport> accepted;
  server.utp.listen([&](std::shared_ptr<Transport> t, const Endpoint& from) {
    EXPECT_EQ(from, client.endpoint());
    accepted = std::move(t);
    served.t = accepted.get();
    served.echo = true;
    accepted->open(served);
  });
  Recorder rec;
  auto t = client.utp.connect(server.endpoint());
  rec.t = t.get();
  t->open(rec);
  run_until(io, [&] { return rec.is_connected; });
  ASSERT_TRUE(rec.is_connected);
  // More than the send buffer in one go: the stream queues what the connection cannot take yet.
  const std::string payload = test_support::filler(300 * 1024, 5);
  t->write(payload);
  run_until(io, [&] { return rec.got.size() >= payload.size(); });
  EXPECT_EQ(served.got.size(), payload.size());
  EXPECT_TRUE(served.got == payload);
  EXPECT_TRUE(rec.got == payload);
  EXPECT_FALSE(t->writing());
  EXPECT_EQ(server.utp.counters().accepted, 1u);
  EXPECT_EQ(client.utp.counters().connected, 1u);
  // Closing ends the connection gracefully on both sides: the server hears "closed by peer".
  t->close();
  run_until(io, [&] { return served.closed.has_value(); });
  EXPECT_EQ(served.closed.value_or(""), "closed by peer");
  accepted->close();
  run_until(io, [&] { return client.utp.connections() == 0 && server.utp.connections() == 0; });
  EXPECT_EQ(client.utp.connections(), 0u);
  EXPECT_EQ(server.utp.connections(), 0u);
}

std::string info_dict(std::size_t pieces_bytes) {
  bencode::Item info;
  info["name"] = std::string("over-utp.bin");
  info["piece length"] = std::int64_t{16384};
  info["length"] = std::int64_t{1000};
  info["pieces"] = test_support::filler(pieces_bytes / 20 * 20, 9);
  return info.encode();
}

TEST(UtpSocket, MetadataFetchRunsOverTheWireDriver) {
  asio::io_context io;
  Host client(io, {}, 3), server(io, {}, 4);
  const std::string info = info_dict(100 * 1000);  // 7 pieces of 16 KiB
  peerwire::SingleMetadata source(info);
  struct Served {
    explicit Served(const peerwire::MetadataSource& s)
        : seeder(peerwire::SeederConfig{}, s), machine(seeder) {}
    peerwire::Seeder seeder;
    WireMachineOf<peerwire::Seeder> machine;
    std::shared_ptr<WireDriver> driver;
  };
  std::vector<std::unique_ptr<Served>> served;
  int seeders_done = 0;
  server.utp.listen([&](std::shared_ptr<Transport> t, const Endpoint&) {
    auto s = std::make_unique<Served>(source);
    WireDriverOptions o;
    o.flush_grace = 5s;
    s->driver = std::make_shared<WireDriver>(io, std::move(t), s->machine, o, [&] { ++seeders_done; });
    s->driver->start();
    served.push_back(std::move(s));
  });

  peerwire::FetcherConfig fc;
  peerwire::MetadataFetcher fetcher(fc, source.v1_key(), peerwire::make_peer_id("-BS0001-", "utp-test-id!"));
  WireMachineOf<peerwire::MetadataFetcher> machine(fetcher);
  bool finished = false;
  std::uint64_t in = 0, out = 0;
  WireDriverOptions o;
  o.bytes_in = &in;
  o.bytes_out = &out;
  auto driver = std::make_shared<WireDriver>(io, client.utp.connect(server.endpoint()), machine, o,
                                             [&] { finished = true; });
  driver->start();
  run_until(io, [&] { return finished; });
  ASSERT_TRUE(finished);
  auto result = fetcher.take_result();
  ASSERT_TRUE(std::holds_alternative<peerwire::FetchSuccess>(result))
      << std::get<peerwire::FetchFailure>(result).detail;
  EXPECT_TRUE(std::get<peerwire::FetchSuccess>(result).info == info);
  EXPECT_GT(in, info.size());
  EXPECT_GT(out, 0u);
  run_until(io, [&] { return seeders_done == 1; });
  EXPECT_EQ(seeders_done, 1);
  EXPECT_TRUE(served.at(0)->seeder.serving());
}

TEST(UtpSocket, RefusedSynFailsTheConnectAtOnce) {
  asio::io_context io;
  UtpSocketConfig small;
  small.max_connections = 1;
  Host client(io, {}, 5), server(io, small, 6);
  std::vector<std::shared_ptr<Transport>> accepted;
  Recorder first_served;
  server.utp.listen([&](std::shared_ptr<Transport> t, const Endpoint&) {
    accepted.push_back(t);
    t->open(first_served);
  });
  Recorder first, second;
  auto t1 = client.utp.connect(server.endpoint());
  t1->open(first);
  run_until(io, [&] { return first.is_connected; });
  ASSERT_TRUE(first.is_connected);
  const auto t0 = std::chrono::steady_clock::now();
  auto t2 = client.utp.connect(server.endpoint());
  t2->open(second);
  run_until(io, [&] { return second.closed.has_value(); });
  EXPECT_EQ(second.closed.value_or(""), "reset by peer");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 900ms);  // well before the first SYN resend
  EXPECT_EQ(server.utp.counters().refused_syn, 1u);
  EXPECT_EQ(accepted.size(), 1u);
  EXPECT_EQ(client.utp.counters().peer_resets, 1u);
}

TEST(UtpSocket, SilentPeerTimesOutAfterTheSynRetries) {
  asio::io_context io;
  UtpSocketConfig quick;
  quick.utp.initial_timeout = 100ms;
  quick.utp.min_timeout = 100ms;
  quick.utp.syn_retries = 1;
  Host client(io, quick, 7);
  UdpSocket silent(io);  // receives and ignores everything
  ASSERT_FALSE(silent.open(*Endpoint::parse("127.0.0.1:0")));
  silent.start([](std::span<const Datagram>) {});
  Recorder rec;
  auto t = client.utp.connect(silent.local_endpoint());
  t->open(rec);
  run_until(io, [&] { return rec.closed.has_value(); });
  EXPECT_EQ(rec.closed.value_or(""), "connect timed out");
  EXPECT_FALSE(rec.is_connected);
  EXPECT_EQ(silent.counters().datagrams_in, 2u);  // the SYN and one resend
  EXPECT_EQ(client.utp.counters().timeouts, 1u);
  run_until(
      io, [&] { return client.utp.connections() == 0; }, 1s);
  EXPECT_EQ(client.utp.connections(), 0u);
}

TEST(UtpSocket, ClosingTheSocketEndsEveryStream) {
  asio::io_context io;
  Host client(io, {}, 8), server(io, {}, 9);
  std::shared_ptr<Transport> accepted;
  Recorder served;
  server.utp.listen([&](std::shared_ptr<Transport> t, const Endpoint&) {
    accepted = t;
    t->open(served);
  });
  Recorder rec;
  auto t = client.utp.connect(server.endpoint());
  t->open(rec);
  run_until(io, [&] { return rec.is_connected; });
  client.utp.close();
  run_until(io, [&] { return rec.closed.has_value() && served.closed.has_value(); });
  EXPECT_EQ(rec.closed.value_or(""), "uTP socket closed");
  EXPECT_EQ(served.closed.value_or(""), "reset by peer");
  // A stream asked for after the close fails on open, never touches the socket.
  Recorder late;
  auto t2 = client.utp.connect(server.endpoint());
  t2->open(late);
  run_until(io, [&] { return late.closed.has_value(); });
  EXPECT_TRUE(late.closed.has_value());
}

}  // namespace
}  // namespace bitscrape::net
