#include "dht/sampler.hpp"

#include "dht/external_ip.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <set>

namespace bitscrape::dht {
namespace {

using namespace std::chrono_literals;
using test::at;
using test::ep4;

TEST(KeyspaceWalk, FirstTwoToTheDTargetsHitEveryRegionOnce) {
  Rng rng(1);
  KeyspaceWalk w({});
  for (int d : {1, 4, 8}) {
    KeyspaceWalk fresh({});
    std::set<unsigned> regions;
    for (int i = 0; i < (1 << d); ++i) {
      const auto t = fresh.next(rng);
      unsigned r = 0;
      for (int b = 0; b < d; ++b) r = (r << 1) | (t.bit(b) ? 1u : 0u);
      regions.insert(r);
    }
    EXPECT_EQ(regions.size(), 1u << d) << d;
  }
}

TEST(KeyspaceWalk, ConsecutiveTargetsAreFarApart) {
  Rng rng(2);
  KeyspaceWalk w({});
  auto prev = w.next(rng);
  for (int i = 0; i < 100; ++i) {
    const auto t = w.next(rng);
    // Consecutive van der Corput points differ in one of their first two bits... at least
    // the pair never shares a long prefix.
    EXPECT_LT(t.common_prefix_bits(prev), 8) << i;
    prev = t;
  }
}

TEST(KeyspaceWalk, StaysInsideConfiguredPrefixes) {
  Rng rng(3);
  KeyPrefix p3{*Id160::from_hex("3000000000000000000000000000000000000000"), 4};
  KeyPrefix pa{*Id160::from_hex("a000000000000000000000000000000000000000"), 3};
  KeyspaceWalk w({p3, pa});
  int in3 = 0;
  int ina = 0;
  for (int i = 0; i < 200; ++i) {
    const auto t = w.next(rng);
    in3 += p3.contains(t) ? 1 : 0;
    ina += pa.contains(t) ? 1 : 0;
  }
  EXPECT_EQ(in3, 100);  // round-robin
  EXPECT_EQ(ina, 100);
  EXPECT_EQ(w.steps(), 200u);
}

TEST(SampleSchedule, HonoursIntervals) {
  SampleSchedule s(100);
  EXPECT_TRUE(s.may_sample(ep4(1), at(0ms)));
  EXPECT_FALSE(s.record(ep4(1), at(60s), at(0ms)));
  EXPECT_FALSE(s.may_sample(ep4(1), at(59s)));
  EXPECT_TRUE(s.may_sample(ep4(1), at(60s)));
  EXPECT_TRUE(s.may_sample(ep4(2), at(0ms)));
  s.purge(at(60s));
  EXPECT_EQ(s.size(), 0u);
}

TEST(SampleSchedule, BoundedEvictingTheSoonestToExpire) {
  SampleSchedule s(3);
  EXPECT_FALSE(s.record(ep4(1), at(100s), at(0ms)));
  EXPECT_FALSE(s.record(ep4(2), at(50s), at(0ms)));
  EXPECT_FALSE(s.record(ep4(3), at(200s), at(0ms)));
  EXPECT_TRUE(s.record(ep4(4), at(300s), at(1s)));  // forgets ep4(2), which frees first
  EXPECT_EQ(s.size(), 3u);
  EXPECT_TRUE(s.may_sample(ep4(2), at(2s)));
  EXPECT_FALSE(s.may_sample(ep4(1), at(2s)));
  // Re-recording a node does not grow the schedule.
  for (int i = 0; i < 1000; ++i) (void)s.record(ep4(1), at(100s) + std::chrono::seconds(i), at(2s));
  EXPECT_EQ(s.size(), 3u);
  EXPECT_FALSE(s.may_sample(ep4(1), at(1000s)));
}

TEST(ExternalIpVoter, NeedsDistinctVotersToAgree) {
  ExternalIpVoter v(3, 10);
  const auto mine = IpAddress::v4(0x01020304);
  const auto lie = IpAddress::v4(0x05060708);
  EXPECT_FALSE(v.vote(ep4(1).ip, mine));
  EXPECT_FALSE(v.vote(ep4(1).ip, mine));  // the same voter again does not count twice
  EXPECT_FALSE(v.vote(ep4(2).ip, mine));
  EXPECT_FALSE(v.vote(ep4(9).ip, lie));
  const auto r = v.vote(ep4(3).ip, mine);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, mine);
  EXPECT_EQ(v.current(), mine);
  // A minority cannot move it, nor a tie (3 against 3).
  EXPECT_FALSE(v.vote(ep4(10).ip, lie));
  EXPECT_FALSE(v.vote(ep4(11).ip, lie));
  EXPECT_EQ(v.current(), mine);
  // A plurality can: 4 against 3.
  const auto r2 = v.vote(ep4(12).ip, lie);
  ASSERT_TRUE(r2);
  EXPECT_EQ(*r2, lie);
}

TEST(ExternalIpVoter, ForgetsTheOldestVoterBeyondItsBound) {
  ExternalIpVoter v(2, 2);
  const auto a = IpAddress::v4(0x01020304);
  const auto b = IpAddress::v4(0x05060708);
  EXPECT_FALSE(v.vote(ep4(1).ip, a));
  EXPECT_FALSE(v.vote(ep4(2).ip, b));
  EXPECT_EQ(v.vote(ep4(3).ip, b), b);  // voter 1 forgotten: b has both remaining votes
  EXPECT_EQ(v.current(), b);
}

}  // namespace
}  // namespace bitscrape::dht
