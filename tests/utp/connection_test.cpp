// utp::Connection on the simulated link (link.hpp): handshake, transfers both ways over loss,
// duplication, reordering and delay, clean close, connect timeout, reset, the receive-window
// bound and LEDBAT keeping a bottleneck's queue near the target delay.
#include "utp/connection.hpp"

#include "filler.hpp"
#include "link.hpp"

#include <gtest/gtest.h>

#include <iostream>
#include <optional>
#include <string>

namespace bitscrape::utp {
namespace {

using namespace std::chrono_literals;
using test::Link;
using test::LinkParams;

std::string pattern(std::size_t n, std::uint32_t seed) { return test_support::filler(n, seed); }

// Two ends that each send `to_b` / `to_a` and close once they have sent everything and
// received everything they expect.
struct Transfer {
  Transfer(LinkParams p, std::string ab, std::string ba, Config cfg = {})
      : link(p), config(cfg), a(Connection::connect(cfg, 1000, 40000, link.now())), to_b(std::move(ab)),
        to_a(std::move(ba)) {}

  bool run(Duration limit) {
    link.flush(a, true);
    return link.run(
        a, b, [this] { app(); }, [this] { return a.closed() && b && b->closed(); }, limit,
        [this](const Packet& syn) {
          b.emplace(Connection::accept(config, syn, 7, link.now_b()));
        });
  }

  void app() {
    side(a, to_b, sent_ab, got_a, to_a.size(), link.now());
    if (b) side(*b, to_a, sent_ba, got_b, to_b.size(), link.now_b());
  }

  void side(Connection& c, const std::string& out, std::size_t& sent, std::string& got, std::size_t expect,
            TimePoint now) {
    if (read_enabled) got += c.take_received();
    if (c.connected() && sent < out.size())
      sent += c.write(std::string_view(out).substr(sent, 64 * 1024));
    if (sent == out.size() && got.size() == expect) c.close(now);
  }

  Link link;
  Config config;
  Connection a;
  std::optional<Connection> b;
  std::string to_b, to_a, got_a, got_b;
  std::size_t sent_ab = 0, sent_ba = 0;
  bool read_enabled = true;
};

TEST(UtpConnection, HandshakeAndCleanTransferBothWays) {
  Transfer t(LinkParams{}, pattern(100'000, 1), pattern(70'000, 2));
  ASSERT_TRUE(t.run(60s));
  ASSERT_TRUE(t.b);
  EXPECT_EQ(t.got_b, t.to_b);
  EXPECT_EQ(t.got_a, t.to_a);
  EXPECT_EQ(t.a.error(), Error::None);
  EXPECT_EQ(t.b->error(), Error::None);
  EXPECT_EQ(t.a.send_id(), t.b->recv_id());
  EXPECT_EQ(t.b->send_id(), t.a.recv_id());
  EXPECT_EQ(t.a.recv_id(), 1000);
  EXPECT_EQ(t.a.stats().retransmits, 0u);
  EXPECT_EQ(t.b->stats().retransmits, 0u);
  EXPECT_GT(t.a.rtt(), 15ms);  // two 10 ms legs
  EXPECT_LT(t.a.rtt(), 40ms);
}

class HostileLink : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(HostileLink, LossDuplicationReorderingAndDelay) {
  LinkParams p;
  p.seed = GetParam();
  p.loss = 0.10;
  p.duplicate = 0.05;
  p.delay = 20ms;
  p.jitter = 40ms;  // reorders freely
  p.b_clock_offset = 4294s;  // B's microsecond clock wraps during the run
  Transfer t(p, pattern(150'000, 3), pattern(120'000, 4));
  ASSERT_TRUE(t.run(600s)) << "sent " << t.link.sent() << " lost " << t.link.lost() << " a state "
                           << int(t.a.state()) << " err " << int(t.a.error()) << " b "
                           << (t.b ? int(t.b->state()) : -1) << " err " << (t.b ? int(t.b->error()) : -1)
                           << " got_a " << t.got_a.size() << " got_b " << t.got_b.size() << " sent "
                           << t.sent_ab << "/" << t.sent_ba << "\nA " << t.a.describe() << "\nB "
                           << (t.b ? t.b->describe() : "");
  EXPECT_EQ(t.got_b, t.to_b);
  EXPECT_EQ(t.got_a, t.to_a);
  EXPECT_EQ(t.a.error(), Error::None);
  EXPECT_EQ(t.b->error(), Error::None);
  EXPECT_GT(t.a.stats().retransmits + t.b->stats().retransmits, 0u);
  EXPECT_GT(t.a.stats().duplicates_received + t.b->stats().duplicates_received, 0u);
}
INSTANTIATE_TEST_SUITE_P(Seeds, HostileLink, ::testing::Values(1, 2, 3, 4, 5, 6, 7, 8));

TEST(UtpConnection, SequenceNumbersWrapDuringTransfer) {
  Config cfg;
  Transfer t(LinkParams{}, pattern(200'000, 5), "", cfg);
  t.a = Connection::connect(cfg, 0xFFFF, 0xFFF0, t.link.now());  // ids and seq wrap at once
  ASSERT_TRUE(t.run(60s));
  EXPECT_EQ(t.got_b, t.to_b);
  EXPECT_EQ(t.b->recv_id(), 0);
}

TEST(UtpConnection, ConnectTimesOutAfterSynRetries) {
  Link link(LinkParams{});
  auto a = Connection::connect(Config{}, 5, 1, link.now());
  const auto start = link.now();
  std::optional<Connection> none;
  link.flush(a, true);
  link.run(a, none, [] {}, [&] { return a.closed(); }, 60s, [](const Packet&) {});
  EXPECT_EQ(a.error(), Error::ConnectTimeout);
  EXPECT_EQ(a.stats().packets_sent, 3u);  // SYN at 0, 1 s and 3 s; given up at 7 s
  EXPECT_EQ(link.now() - start, 7s);
}

TEST(UtpConnection, ResetClosesThePeer) {
  Transfer u(LinkParams{}, pattern(1'000'000, 9), "");
  u.run(200ms);
  ASSERT_TRUE(u.b);
  ASSERT_TRUE(u.a.connected());
  u.b->reset();
  u.link.flush(*u.b, false);
  u.run(1s);
  EXPECT_TRUE(u.a.closed());
  EXPECT_EQ(u.a.error(), Error::Reset);
}

TEST(UtpConnection, ReceiveBufferIsBoundedAndTheSenderWaits) {
  Config cfg;
  cfg.max_receive_buffer = 20'000;
  Transfer t(LinkParams{}, pattern(300'000, 6), "", cfg);
  t.read_enabled = false;
  EXPECT_FALSE(t.run(300s));  // B never reads: stalls, but nobody gives up
  ASSERT_TRUE(t.b);
  EXPECT_LE(t.b->received_size(), cfg.max_receive_buffer);
  EXPECT_GT(t.b->received_size(), cfg.max_receive_buffer - 2 * cfg.max_payload);
  EXPECT_FALSE(t.a.closed());
  EXPECT_FALSE(t.b->closed());
  EXPECT_LE(t.a.memory_footprint(), 4 * cfg.max_send_buffer);
  t.read_enabled = true;
  ASSERT_TRUE(t.run(600s));
  EXPECT_EQ(t.got_b, t.to_b);
}

TEST(UtpConnection, WriteIsBoundedBySendBuffer) {
  Config cfg;
  cfg.max_send_buffer = 10'000;
  Link link(LinkParams{});
  auto a = Connection::connect(cfg, 5, 1, link.now());
  EXPECT_EQ(a.write(std::string(50'000, 'x')), 10'000u);
  EXPECT_EQ(a.write("more"), 0u);
  EXPECT_EQ(a.send_buffer_free(), 0u);
}

// A 200 KB/s bottleneck with a FIFO queue: a window fixed at the 64 KiB send buffer would keep
// ~330 ms queued; LEDBAT holds the queue near its 100 ms target and still fills the link.
TEST(UtpConnection, LedbatHoldsQueueingDelayNearTarget) {
  LinkParams p;
  p.delay = 10ms;
  p.bottleneck_bytes_per_s = 200'000;
  Transfer t(p, pattern(3'000'000, 7), "");
  const auto start = t.link.now();
  Duration sum{};
  std::uint64_t samples = 0;
  t.link.flush(t.a, true);
  const bool ok = t.link.run(
      t.a, t.b,
      [&] {
        t.app();
        if (t.link.now() - start > 5s && t.sent_ab < t.to_b.size()) {
          sum += t.link.queue_delay();
          ++samples;
        }
      },
      [&] { return t.a.closed() && t.b && t.b->closed(); }, 300s,
      [&](const Packet& syn) { t.b.emplace(Connection::accept(t.config, syn, 7, t.link.now_b())); });
  ASSERT_TRUE(ok);
  EXPECT_EQ(t.got_b, t.to_b);
  ASSERT_GT(samples, 100u);
  const auto mean = sum / static_cast<std::int64_t>(samples);
  std::cout << "mean queueing delay " << std::chrono::duration_cast<std::chrono::milliseconds>(mean).count() << " ms, max " << std::chrono::duration_cast<std::chrono::milliseconds>(t.link.max_queue()).count() << " ms\n";
  EXPECT_LT(mean, 150ms) << "mean queueing delay " << std::chrono::duration_cast<std::chrono::milliseconds>(mean).count();
  EXPECT_GT(mean, 30ms);  // and it does use the link's queue
  const double seconds = std::chrono::duration<double>(t.link.now() - start).count();
  EXPECT_GT(3'000'000 / seconds, 0.8 * 200'000 * 1200.0 / 1220) << seconds << " s";
}

TEST(UtpConnection, KeepAliveWhenIdle) {
  Link link(LinkParams{});
  auto a = Connection::connect(Config{}, 9, 1, link.now());
  std::optional<Connection> b;
  link.flush(a, true);
  link.run(a, b, [] {}, [] { return false; }, 100s,
           [&](const Packet& syn) { b.emplace(Connection::accept(Config{}, syn, 3, link.now_b())); });
  ASSERT_TRUE(b);
  EXPECT_TRUE(a.connected());
  EXPECT_TRUE(b->connected());
  // 100 s idle at a 29 s keep-alive: three ST_STATEs each beyond the handshake.
  EXPECT_GE(a.stats().packets_sent, 1u + 3u);
  EXPECT_GE(b->stats().packets_sent, 1u + 3u);
}

TEST(UtpConnection, IgnoresAcksForUnsentPacketsAndBogusSacks) {
  Transfer t(LinkParams{}, pattern(50'000, 8), "");
  t.run(100ms);
  ASSERT_TRUE(t.a.connected());
  const auto free_before = t.a.send_buffer_free();
  Packet lie;
  lie.header.type = Type::State;
  lie.header.connection_id = t.a.recv_id();
  lie.header.ack_nr = 30000;  // far past anything sent
  lie.header.wnd_size = 1 << 20;
  std::string all(32, '\xFF');
  lie.sack = all;
  t.a.on_packet(lie, t.link.now());
  EXPECT_EQ(t.a.send_buffer_free(), free_before);  // nothing was taken as acked
  ASSERT_TRUE(t.run(60s));
  EXPECT_EQ(t.got_b, t.to_b);
}

}  // namespace
}  // namespace bitscrape::utp
