#include "dht/routing_table.hpp"

#include "test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace bitscrape::dht {
namespace {

using namespace std::chrono_literals;
using test::at;
using test::ep4;
using test::ep6;
using test::id_sharing;
using Add = RoutingTable::AddResult;

class RoutingTableTest : public ::testing::Test {
 protected:
  Rng rng{42};
  NodeId self = rng.id();
  RoutingConfig cfg;
  TimePoint t0 = at(0ms);
};

TEST_F(RoutingTableTest, InsertsAndFindsANode) {
  RoutingTable t(self, IpAddress::Family::V4, cfg, t0);
  const auto id = rng.id();
  EXPECT_EQ(t.heard_from(id, ep4(1), t0, true), Add::Inserted);
  EXPECT_EQ(t.size(), 1u);
  ASSERT_NE(t.find(id), nullptr);
  EXPECT_EQ(t.find(id)->endpoint, ep4(1));
  EXPECT_EQ(t.heard_from(id, ep4(1), t0 + 1s, false), Add::Updated);
  EXPECT_EQ(t.find(id)->last_seen, t0 + 1s);
  EXPECT_EQ(t.check_invariant(), "");
}

TEST_F(RoutingTableTest, RefusesSelfAndWrongFamily) {
  RoutingTable t(self, IpAddress::Family::V4, cfg, t0);
  EXPECT_EQ(t.heard_from(self, ep4(1), t0, true), Add::Self);
  EXPECT_EQ(t.heard_from(rng.id(), ep6(1), t0, true), Add::WrongFamily);
  EXPECT_EQ(t.size(), 0u);
}

TEST_F(RoutingTableTest, SplitsOnlyTheBucketHoldingOurId) {
  RoutingTable t(self, IpAddress::Family::V4, cfg, t0);
  // 8 nodes sharing no prefix with us fill the single bucket.
  for (std::uint32_t i = 0; i < 8; ++i) EXPECT_EQ(t.heard_from(id_sharing(self, 0, rng), ep4(i), t0, true), Add::Inserted);
  EXPECT_EQ(t.bucket_count(), 1u);
  // The 9th far node forces a split; the far half stays full, so it waits as a replacement.
  EXPECT_EQ(t.heard_from(id_sharing(self, 0, rng), ep4(100), t0, true), Add::Cached);
  EXPECT_EQ(t.bucket_count(), 2u);
  EXPECT_EQ(t.bucket_size(0), 8u);
  EXPECT_EQ(t.bucket_size(1), 0u);
  EXPECT_EQ(t.replacement_count(), 1u);
  // A node close to us goes to the new (last) bucket.
  EXPECT_EQ(t.heard_from(id_sharing(self, 5, rng), ep4(200), t0, true), Add::Inserted);
  EXPECT_EQ(t.bucket_size(1), 1u);
  // Bucket 0 is no longer the last one: it never splits again, more far nodes are cached.
  EXPECT_EQ(t.heard_from(id_sharing(self, 0, rng), ep4(101), t0, true), Add::Cached);
  EXPECT_EQ(t.bucket_count(), 2u);
  EXPECT_EQ(t.check_invariant(), "");
}

TEST_F(RoutingTableTest, DeepSplitsKeepEveryNodeInItsBucket) {
  RoutingTable t(self, IpAddress::Family::V4, cfg, t0);
  for (std::uint32_t i = 0; i < 3000; ++i) {
    const int bits = static_cast<int>(rng.below(40));
    (void)t.heard_from(id_sharing(self, bits, rng), ep4(i), t0, true);
    if (i % 100 == 0) ASSERT_EQ(t.check_invariant(), "") << "after insert " << i;
  }
  ASSERT_EQ(t.check_invariant(), "");
  // Buckets 0..~30 each saw ~75 candidates: all full.
  for (std::size_t b = 0; b < 20; ++b) EXPECT_EQ(t.bucket_size(b), 8u) << b;
  EXPECT_GE(t.bucket_count(), 38u);
  EXPECT_LE(t.size(), t.bucket_count() * 8);
}

TEST_F(RoutingTableTest, NodeStatesFollowBep5) {
  RoutingTable t(self, IpAddress::Family::V4, cfg, t0);
  const auto a = rng.id();
  const auto b = rng.id();
  (void)t.heard_from(a, ep4(1), t0, true);   // answered us
  (void)t.heard_from(b, ep4(2), t0, false);  // only queried us
  EXPECT_EQ(t.state(*t.find(a), t0 + 14min), NodeState::Good);
  EXPECT_EQ(t.state(*t.find(b), t0 + 1s), NodeState::Questionable);
  EXPECT_EQ(t.state(*t.find(a), t0 + 15min), NodeState::Questionable);
  // A query from a node that has answered before makes it good again.
  (void)t.heard_from(a, ep4(1), t0 + 20min, false);
  EXPECT_EQ(t.state(*t.find(a), t0 + 21min), NodeState::Good);
  // One timeout: questionable; two: bad.
  EXPECT_FALSE(t.failed(a, ep4(1), t0 + 21min));
  EXPECT_EQ(t.state(*t.find(a), t0 + 21min), NodeState::Questionable);
  EXPECT_FALSE(t.failed(a, ep4(1), t0 + 21min));  // no replacement: stays, but bad
  EXPECT_EQ(t.state(*t.find(a), t0 + 21min), NodeState::Bad);
  // A response clears the failures.
  (void)t.heard_from(a, ep4(1), t0 + 22min, true);
  EXPECT_EQ(t.state(*t.find(a), t0 + 22min), NodeState::Good);
}

TEST_F(RoutingTableTest, BadNodesAreReplacedByNewcomers) {
  RoutingTable t(self, IpAddress::Family::V4, cfg, t0);
  std::vector<NodeId> far;
  for (std::uint32_t i = 0; i < 8; ++i) {
    far.push_back(id_sharing(self, 0, rng));
    (void)t.heard_from(far.back(), ep4(i), t0, true);
  }
  (void)t.heard_from(id_sharing(self, 3, rng), ep4(50), t0, true);  // forces the split
  (void)t.failed(far[3], ep4(3), t0);
  (void)t.failed(far[3], ep4(3), t0);
  const auto newcomer = id_sharing(self, 0, rng);
  EXPECT_EQ(t.heard_from(newcomer, ep4(60), t0, false), Add::Replaced);
  EXPECT_EQ(t.find(far[3]), nullptr);
  EXPECT_NE(t.find(newcomer), nullptr);
  EXPECT_EQ(t.check_invariant(), "");
}

TEST_F(RoutingTableTest, FailingNodeIsSwappedForTheFreshestAnsweringReplacement) {
  RoutingTable t(self, IpAddress::Family::V4, cfg, t0);
  std::vector<NodeId> far;
  for (std::uint32_t i = 0; i < 8; ++i) {
    far.push_back(id_sharing(self, 0, rng));
    (void)t.heard_from(far.back(), ep4(i), t0, true);
  }
  (void)t.heard_from(id_sharing(self, 2, rng), ep4(40), t0, true);  // split
  const auto r_answered = id_sharing(self, 0, rng);
  const auto r_queried = id_sharing(self, 0, rng);
  EXPECT_EQ(t.heard_from(r_answered, ep4(41), t0 + 1s, true), Add::Cached);
  EXPECT_EQ(t.heard_from(r_queried, ep4(42), t0 + 2s, false), Add::Cached);
  EXPECT_FALSE(t.failed(far[0], ep4(0), t0 + 3s));
  EXPECT_TRUE(t.failed(far[0], ep4(0), t0 + 3s));
  EXPECT_EQ(t.find(far[0]), nullptr);
  ASSERT_NE(t.find(r_answered), nullptr);  // preferred over the fresher unconfirmed one
  EXPECT_EQ(t.find(r_queried), nullptr);
  EXPECT_EQ(t.replacement_count(), 1u);
  EXPECT_EQ(t.check_invariant(), "");
}

TEST_F(RoutingTableTest, OneNodePerIp) {
  RoutingTable t(self, IpAddress::Family::V4, cfg, t0);
  EXPECT_EQ(t.heard_from(rng.id(), ep4(7, 1000), t0, true), Add::Inserted);
  EXPECT_EQ(t.heard_from(rng.id(), ep4(7, 2000), t0, true), Add::IpTaken);
  EXPECT_EQ(t.size(), 1u);
  RoutingConfig loose = cfg;
  loose.one_node_per_ip = false;
  RoutingTable u(self, IpAddress::Family::V4, loose, t0);
  EXPECT_EQ(u.heard_from(rng.id(), ep4(7, 1000), t0, true), Add::Inserted);
  EXPECT_EQ(u.heard_from(rng.id(), ep4(7, 2000), t0, true), Add::Inserted);
  EXPECT_EQ(u.check_invariant(), "");
}

TEST_F(RoutingTableTest, KnownIdFromAnotherEndpointIsIgnoredUnlessBad) {
  RoutingTable t(self, IpAddress::Family::V4, cfg, t0);
  const auto id = rng.id();
  (void)t.heard_from(id, ep4(1), t0, true);
  EXPECT_EQ(t.heard_from(id, ep4(2), t0, true), Add::IdConflict);
  EXPECT_EQ(t.find(id)->endpoint, ep4(1));
  (void)t.failed(id, ep4(1), t0);
  (void)t.failed(id, ep4(1), t0);
  EXPECT_EQ(t.heard_from(id, ep4(2), t0, true), Add::Updated);
  EXPECT_EQ(t.find(id)->endpoint, ep4(2));
  EXPECT_EQ(t.check_invariant(), "");
}

TEST_F(RoutingTableTest, ClosestMatchesBruteForce) {
  RoutingTable t(self, IpAddress::Family::V4, cfg, t0);
  for (std::uint32_t i = 0; i < 2000; ++i) {
    const int bits = static_cast<int>(rng.below(24));
    (void)t.heard_from(id_sharing(self, bits, rng), ep4(i), t0, rng.chance(0.8));
  }
  std::vector<const RoutingNode*> all;
  t.for_each([&](const RoutingNode& n) { all.push_back(&n); });
  std::vector<const RoutingNode*> got;
  for (int round = 0; round < 300; ++round) {
    // Targets near us, far from us, and exactly on us.
    const Id160 target = round == 0 ? self : id_sharing(self, static_cast<int>(rng.below(30)), rng);
    for (const bool reply_only : {false, true}) {
      t.closest(target, 8, reply_only, got);
      std::vector<const RoutingNode*> want;
      for (const auto* n : all)
        if (!reply_only || n->responded) want.push_back(n);
      std::sort(want.begin(), want.end(),
                [&](const RoutingNode* a, const RoutingNode* b) { return closer_to(target, a->id, b->id); });
      want.resize(std::min<std::size_t>(8, want.size()));
      ASSERT_EQ(got, want) << "round " << round << " reply_only " << reply_only;
    }
  }
}

TEST_F(RoutingTableTest, ClosestSkipsBadNodes) {
  RoutingTable t(self, IpAddress::Family::V4, cfg, t0);
  const auto a = rng.id();
  const auto b = rng.id();
  (void)t.heard_from(a, ep4(1), t0, true);
  (void)t.heard_from(b, ep4(2), t0, true);
  (void)t.failed(a, ep4(1), t0);
  (void)t.failed(a, ep4(1), t0);
  std::vector<const RoutingNode*> got;
  t.closest(a, 8, false, got);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->id, b);
}

TEST_F(RoutingTableTest, RefreshTargetsLieInTheStaleBucket) {
  RoutingTable t(self, IpAddress::Family::V4, cfg, t0);
  for (std::uint32_t i = 0; i < 200; ++i) (void)t.heard_from(id_sharing(self, static_cast<int>(i % 6), rng), ep4(i), t0, true);
  ASSERT_GE(t.bucket_count(), 6u);
  EXPECT_FALSE(t.next_refresh_target(t0 + 14min, rng).has_value());
  std::set<std::size_t> refreshed;
  while (auto target = t.next_refresh_target(t0 + 15min, rng)) refreshed.insert(t.bucket_index(*target));
  EXPECT_EQ(refreshed.size(), t.bucket_count());  // each bucket exactly once, each target inside it
  EXPECT_FALSE(t.next_refresh_target(t0 + 16min, rng).has_value());
  for (std::size_t i = 0; i + 1 < t.bucket_count(); ++i) {
    const auto id = t.random_id_in_bucket(i, rng);
    EXPECT_EQ(static_cast<std::size_t>(self.common_prefix_bits(id)), i);
  }
}

TEST_F(RoutingTableTest, PingsQuestionableNodesOncePerGap) {
  RoutingTable t(self, IpAddress::Family::V4, cfg, t0);
  const auto a = rng.id();
  (void)t.heard_from(a, ep4(1), t0, false);  // unconfirmed: questionable at once
  std::vector<RoutingNode> out;
  t.nodes_to_ping(t0, 5min, 8, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, a);
  out.clear();
  t.nodes_to_ping(t0 + 1min, 5min, 8, out);
  EXPECT_TRUE(out.empty());
  t.nodes_to_ping(t0 + 5min, 5min, 8, out);
  EXPECT_EQ(out.size(), 1u);
  out.clear();
  (void)t.heard_from(a, ep4(1), t0 + 5min, true);  // answered: good, nothing to ping
  t.nodes_to_ping(t0 + 11min, 5min, 8, out);
  EXPECT_TRUE(out.empty());
}

TEST_F(RoutingTableTest, RebuildUnderANewIdKeepsInvariants) {
  RoutingTable t(self, IpAddress::Family::V4, cfg, t0);
  std::set<NodeId> inserted;
  for (std::uint32_t i = 0; i < 500; ++i) {
    const auto id = id_sharing(self, static_cast<int>(rng.below(20)), rng);
    inserted.insert(id);
    (void)t.heard_from(id, ep4(i), t0, true);
  }
  const auto new_self = rng.id();
  t.rebuild(new_self, t0 + 1s);
  EXPECT_EQ(t.self(), new_self);
  EXPECT_EQ(t.check_invariant(), "");
  EXPECT_GT(t.size(), 16u);
  t.for_each([&](const RoutingNode& n) {
    EXPECT_EQ(inserted.count(n.id), 1u);
    EXPECT_TRUE(n.responded);  // state carried over
  });
}

TEST_F(RoutingTableTest, Ipv6TableTakesIpv6Nodes) {
  RoutingTable t(self, IpAddress::Family::V6, cfg, t0);
  EXPECT_EQ(t.heard_from(rng.id(), ep6(1), t0, true), Add::Inserted);
  EXPECT_EQ(t.heard_from(rng.id(), ep4(1), t0, true), Add::WrongFamily);
  EXPECT_EQ(t.check_invariant(), "");
}

}  // namespace
}  // namespace bitscrape::dht
