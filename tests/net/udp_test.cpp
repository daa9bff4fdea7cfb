#include "net/udp.hpp"

#include <gtest/gtest.h>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <set>
#include <vector>

namespace bitscrape::net {
namespace {

using namespace std::chrono_literals;

// Runs `io` until `done()` or a 5 s safety deadline.
template <class F>
void run_until(asio::io_context& io, F done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(10ms);
    io.restart();
  }
}

TEST(UdpSocket, BatchesManyDatagramsBothWays) {
  asio::io_context io;
  UdpSocket a(io), b(io);
  ASSERT_FALSE(a.open(*Endpoint::parse("127.0.0.1:0")));
  ASSERT_FALSE(b.open(*Endpoint::parse("127.0.0.1:0")));
  const Endpoint a_ep = a.local_endpoint();
  const Endpoint b_ep = b.local_endpoint();
  EXPECT_NE(a_ep.port, 0);

  std::set<std::string> got;
  b.start([&](std::span<const Datagram> batch) {
    for (const auto& d : batch) {
      EXPECT_EQ(d.from, a_ep);
      got.emplace(d.bytes);
      b.send(d.from, "echo:" + std::string(d.bytes));  // replies go out in one flush per batch
    }
  });
  std::set<std::string> echoed;
  a.start([&](std::span<const Datagram> batch) {
    for (const auto& d : batch) echoed.emplace(d.bytes);
  });
  constexpr int kCount = 500;
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(a.send(b_ep, "msg" + std::to_string(i)));
  a.flush();
  run_until(io, [&] { return echoed.size() == kCount; });
  EXPECT_EQ(got.size(), static_cast<std::size_t>(kCount));
  EXPECT_EQ(echoed.size(), static_cast<std::size_t>(kCount));
  EXPECT_EQ(a.counters().datagrams_out, static_cast<std::uint64_t>(kCount));
  EXPECT_EQ(b.counters().datagrams_in, static_cast<std::uint64_t>(kCount));
  // Batching: far fewer system calls than datagrams.
  EXPECT_LT(b.counters().receive_batches, static_cast<std::uint64_t>(kCount));
  EXPECT_LT(a.counters().send_batches, static_cast<std::uint64_t>(kCount));
}

// Replies leave through a separate send-only socket on Linux; every datagram, from whichever
// source (the kernel would spread 4-tuples over a reuseport group by hash), must still reach the
// receiving socket, and replies must come from the same address.
TEST(UdpSocket, EverySourceReachesTheReceiverAndRepliesComeFromItsAddress) {
  asio::io_context io;
  UdpSocket server(io);
  ASSERT_FALSE(server.open(*Endpoint::parse("127.0.0.1:0")));
#ifdef __linux__
  EXPECT_TRUE(server.has_send_socket());
#endif
  const Endpoint server_ep = server.local_endpoint();
  std::size_t received = 0;
  server.start([&](std::span<const Datagram> batch) {
    for (const auto& d : batch) {
      ++received;
      server.send(d.from, d.bytes);
    }
  });
  constexpr int kClients = 64, kEach = 4;
  std::vector<std::unique_ptr<UdpSocket>> clients;
  std::size_t echoed = 0, wrong_source = 0;
  for (int i = 0; i < kClients; ++i) {
    auto c = std::make_unique<UdpSocket>(io);
    ASSERT_FALSE(c->open(*Endpoint::parse("127.0.0.1:0")));
    c->start([&](std::span<const Datagram> batch) {
      for (const auto& d : batch) {
        ++echoed;
        if (d.from != server_ep) ++wrong_source;
      }
    });
    for (int k = 0; k < kEach; ++k) c->send(server_ep, "ping");
    c->flush();
    clients.push_back(std::move(c));
  }
  run_until(io, [&] { return echoed == kClients * kEach; });
  EXPECT_EQ(received, static_cast<std::size_t>(kClients * kEach));
  EXPECT_EQ(echoed, static_cast<std::size_t>(kClients * kEach));
  EXPECT_EQ(wrong_source, 0u);
}

TEST(UdpSocket, SendQueueIsBounded) {
  asio::io_context io;
  UdpSocket a(io, /*max_queued=*/4);
  ASSERT_FALSE(a.open(*Endpoint::parse("127.0.0.1:0")));
  const Endpoint to = *Endpoint::parse("127.0.0.1:9");
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(a.send(to, "x"));
  EXPECT_FALSE(a.send(to, "x"));
  EXPECT_EQ(a.counters().send_queue_drops, 1u);
  EXPECT_EQ(a.queued(), 4u);
  a.flush();
  EXPECT_EQ(a.queued(), 0u);
}

TEST(UdpSocket, Ipv6Loopback) {
  asio::io_context io;
  UdpSocket a(io), b(io);
  if (a.open(*Endpoint::parse("[::1]:0"))) GTEST_SKIP() << "no IPv6 loopback on this machine";
  ASSERT_FALSE(b.open(*Endpoint::parse("[::1]:0")));
  std::string got;
  Endpoint from;
  b.start([&](std::span<const Datagram> batch) {
    got = batch[0].bytes;
    from = batch[0].from;
  });
  a.send(b.local_endpoint(), "hello6");
  a.flush();
  run_until(io, [&] { return !got.empty(); });
  EXPECT_EQ(got, "hello6");
  EXPECT_EQ(from, a.local_endpoint());
  EXPECT_TRUE(from.ip.is_v6());
}

TEST(UdpSocket, PortInUseIsAnError) {
  asio::io_context io;
  UdpSocket a(io), b(io);
  ASSERT_FALSE(a.open(*Endpoint::parse("127.0.0.1:0")));
  EXPECT_TRUE(b.open(a.local_endpoint()));
}

TEST(UdpSocket, OversizedDatagramsAreDroppedAndCounted) {
  asio::io_context io;
  UdpSocket a(io), b(io);
  ASSERT_FALSE(a.open(*Endpoint::parse("127.0.0.1:0")));
  ASSERT_FALSE(b.open(*Endpoint::parse("127.0.0.1:0")));
  std::vector<std::string> got;
  b.start([&](std::span<const Datagram> batch) {
    for (const auto& d : batch) got.emplace_back(d.bytes);
  });
  a.send(b.local_endpoint(), std::string(UdpSocket::kMaxDatagram + 100, 'x'));
  a.send(b.local_endpoint(), "small");
  a.flush();
  run_until(io, [&] { return !got.empty(); });
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "small");
#ifdef __linux__
  EXPECT_EQ(b.counters().truncated_in, 1u);
#endif
}

}  // namespace
}  // namespace bitscrape::net
