#include "dht/rate_limit.hpp"

#include "test_util.hpp"

#include <gtest/gtest.h>

#include <deque>

namespace bitscrape::dht {
namespace {

using namespace std::chrono_literals;
using test::at;
using test::ep4;
using V = DestinationPacer::Verdict;

TEST(TokenBucket, BurstThenRate) {
  TokenBucket b(10, 5);
  int sent = 0;
  while (b.try_consume(at(0ms))) ++sent;
  EXPECT_EQ(sent, 5);
  EXPECT_FALSE(b.try_consume(at(50ms)));
  EXPECT_TRUE(b.try_consume(at(100ms)));
  EXPECT_FALSE(b.available(at(100ms)));
  const auto next = b.next_available(at(100ms));
  EXPECT_GT(next, at(190ms));
  EXPECT_LE(next, at(201ms));
  EXPECT_TRUE(b.try_consume(next));
}

TEST(DestinationPacer, AtMostPPacketsInAnyWindow) {
  DestinationPacer p(4, 1s, 64);
  const auto ip = ep4(1).ip;
  for (int i = 0; i < 4; ++i) EXPECT_EQ(p.try_send(ip, at(std::chrono::milliseconds(i))), V::Ok);
  EXPECT_EQ(p.check(ip, at(10ms)), V::Paced);
  EXPECT_EQ(p.try_send(ip, at(999ms)), V::Paced);
  EXPECT_EQ(p.next_allowed(ip, at(10ms)), at(1000ms));
  EXPECT_EQ(p.try_send(ip, at(1000ms)), V::Ok);
  EXPECT_EQ(p.try_send(ip, at(1000ms)), V::Paced);  // the one sent at 1 ms is still inside
  EXPECT_EQ(p.try_send(ip, at(1001ms)), V::Ok);
  // Other destinations are independent.
  EXPECT_EQ(p.try_send(ep4(2).ip, at(1001ms)), V::Ok);
}

TEST(DestinationPacer, PropertyNeverMoreThanPInAnyWindow) {
  Rng rng(5);
  DestinationPacer p(4, 1s, 256);
  std::vector<std::deque<TimePoint>> sent(50);
  TimePoint t = at(0ms);
  for (int i = 0; i < 100000; ++i) {
    t += std::chrono::microseconds(rng.below(20000));
    const auto d = rng.below(50);
    if (p.try_send(ep4(static_cast<std::uint32_t>(d)).ip, t) != V::Ok) continue;
    auto& q = sent[d];
    q.push_back(t);
    while (t - q.front() >= 1s) q.pop_front();
    ASSERT_LE(q.size(), 4u);
  }
}

TEST(DestinationPacer, FullTableRefusesRatherThanForget) {
  // One set of 8 ways: the 9th active destination cannot be tracked.
  DestinationPacer p(4, 1s, 8);
  for (std::uint32_t i = 0; i < 8; ++i) EXPECT_EQ(p.try_send(ep4(i).ip, at(0ms)), V::Ok);
  EXPECT_EQ(p.check(ep4(100).ip, at(500ms)), V::Full);
  EXPECT_EQ(p.try_send(ep4(100).ip, at(500ms)), V::Full);
  // Once the others are idle for a window, their ways are reused.
  EXPECT_EQ(p.try_send(ep4(100).ip, at(1000ms)), V::Ok);
}

TEST(InboundLimiter, FloodIsCutAfterTheBurst) {
  InboundLimiter lim(10, 20, 64);
  const auto ip = ep4(1).ip;
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += lim.allow(ip, at(0ms)) ? 1 : 0;
  EXPECT_EQ(allowed, 20);
  EXPECT_TRUE(lim.allow(ep4(2).ip, at(0ms)));  // another source is unaffected
  EXPECT_FALSE(lim.allow(ip, at(50ms)));
  EXPECT_TRUE(lim.allow(ip, at(100ms)));  // refills at 10/s
}

TEST(InboundLimiter, AFlooderIsBlockedForTheBlockDuration) {
  using IV = InboundLimiter::Verdict;
  InboundLimiter lim(10, 20, 64, 60s);
  const auto ip = ep4(1).ip;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(lim.check(ip, at(0ms)), IV::Ok);
  EXPECT_EQ(lim.check(ip, at(0ms)), IV::Limited);  // the packet that empties the burst starts the block
  EXPECT_EQ(lim.check(ip, at(0ms)), IV::Blocked);
  EXPECT_EQ(lim.check(ip, at(30000ms)), IV::Blocked);  // refilled, but still ignored
  EXPECT_EQ(lim.check(ep4(2).ip, at(30000ms)), IV::Ok);
  EXPECT_EQ(lim.check(ip, at(60000ms)), IV::Ok);  // forgiven, with a fresh burst
  for (int i = 0; i < 19; ++i) EXPECT_EQ(lim.check(ip, at(60000ms)), IV::Ok);
}

TEST(InboundLimiter, EvictsTheLeastRecentSourceWhenFull) {
  InboundLimiter lim(1, 1, 8);
  for (std::uint32_t i = 0; i < 8; ++i) EXPECT_TRUE(lim.allow(ep4(i).ip, at(std::chrono::milliseconds(i))));
  EXPECT_TRUE(lim.allow(ep4(100).ip, at(10ms)));
  EXPECT_EQ(lim.evictions(), 1u);
  EXPECT_FALSE(lim.allow(ep4(7).ip, at(11ms)));  // still tracked: its token is spent
}

}  // namespace
}  // namespace bitscrape::dht
