#include "dht/peer_store.hpp"

#include "test_util.hpp"

#include <gtest/gtest.h>

#include <set>

namespace bitscrape::dht {
namespace {

using namespace std::chrono_literals;
using test::at;
using test::ep4;
using test::ep6;
using R = PeerStore::AnnounceResult;

class PeerStoreTest : public ::testing::Test {
 protected:
  Rng rng{7};
  StoreConfig cfg;
  std::vector<Endpoint> out;
};

TEST_F(PeerStoreTest, AnnounceThenGetPeersByFamily) {
  PeerStore s(cfg);
  const auto ih = rng.id();
  EXPECT_EQ(s.announce(ih, ep4(1), false, at(0ms)), R::Added);
  EXPECT_EQ(s.announce(ih, ep6(1), false, at(0ms)), R::Added);
  EXPECT_EQ(s.announce(ih, ep4(1), false, at(1s)), R::Updated);
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.peer_count(), 2u);
  EXPECT_EQ(s.get_peers(ih, IpAddress::Family::V4, false, 50, rng, out), 1u);
  EXPECT_EQ(out, std::vector<Endpoint>{ep4(1)});
  EXPECT_EQ(s.get_peers(ih, IpAddress::Family::V6, false, 50, rng, out), 1u);
  EXPECT_EQ(out, std::vector<Endpoint>{ep6(1)});
  EXPECT_EQ(s.get_peers(rng.id(), IpAddress::Family::V4, false, 50, rng, out), 0u);
}

TEST_F(PeerStoreTest, NoseedLeavesSeedsOut) {
  PeerStore s(cfg);
  const auto ih = rng.id();
  (void)s.announce(ih, ep4(1), true, at(0ms));
  (void)s.announce(ih, ep4(2), false, at(0ms));
  EXPECT_EQ(s.get_peers(ih, IpAddress::Family::V4, true, 50, rng, out), 1u);
  EXPECT_EQ(out[0], ep4(2));
  EXPECT_EQ(s.get_peers(ih, IpAddress::Family::V4, false, 50, rng, out), 2u);
}

TEST_F(PeerStoreTest, RepliesAreCappedRandomSubsets) {
  PeerStore s(cfg);
  const auto ih = rng.id();
  for (std::uint32_t i = 0; i < 150; ++i) (void)s.announce(ih, ep4(i), false, at(0ms));
  std::set<Endpoint> seen;
  for (int round = 0; round < 40; ++round) {
    ASSERT_EQ(s.get_peers(ih, IpAddress::Family::V4, false, 20, rng, out), 20u);
    EXPECT_EQ(std::set<Endpoint>(out.begin(), out.end()).size(), 20u);  // distinct
    seen.insert(out.begin(), out.end());
  }
  EXPECT_GT(seen.size(), 140u);  // every peer gets its turn
}

TEST_F(PeerStoreTest, HardCaps) {
  StoreConfig small = cfg;
  small.max_infohashes = 2;
  small.max_peers_per_infohash = 3;
  PeerStore s(small);
  const auto a = rng.id();
  for (std::uint32_t i = 0; i < 3; ++i) EXPECT_EQ(s.announce(a, ep4(i), false, at(std::chrono::seconds(i))), R::Added);
  // Full torrent: the peer expiring soonest (ep4(0)) makes room.
  EXPECT_EQ(s.announce(a, ep4(9), false, at(10s)), R::ReplacedOldest);
  EXPECT_EQ(s.peers_of(a), 3u);
  (void)s.get_peers(a, IpAddress::Family::V4, false, 50, rng, out);
  EXPECT_EQ(std::set<Endpoint>(out.begin(), out.end()), (std::set<Endpoint>{ep4(1), ep4(2), ep4(9)}));
  EXPECT_EQ(s.announce(rng.id(), ep4(1), false, at(0ms)), R::Added);
  EXPECT_EQ(s.announce(rng.id(), ep4(1), false, at(0ms)), R::StoreFull);
  EXPECT_EQ(s.size(), 2u);
}

TEST_F(PeerStoreTest, PeersExpireAndEmptyTorrentsGo) {
  cfg.peer_ttl = 30min;
  PeerStore s(cfg);
  const auto a = rng.id();
  const auto b = rng.id();
  (void)s.announce(a, ep4(1), false, at(0ms));
  (void)s.announce(b, ep4(2), false, at(0ms));
  (void)s.announce(b, ep4(3), false, at(20min));
  EXPECT_EQ(s.expire(at(29min)), 0u);
  EXPECT_EQ(s.expire(at(30min)), 2u);
  EXPECT_FALSE(s.contains(a));
  EXPECT_TRUE(s.contains(b));
  EXPECT_EQ(s.peers_of(b), 1u);
  EXPECT_EQ(s.peer_count(), 1u);
  // The index survives the swap-remove.
  EXPECT_EQ(s.announce(b, ep4(4), false, at(31min)), R::Added);
  EXPECT_EQ(s.peers_of(b), 2u);
}

TEST_F(PeerStoreTest, ScrapeFiltersCountSeedsAndPeers) {
  PeerStore s(cfg);
  const auto ih = rng.id();
  EXPECT_EQ(s.scrape(ih), nullptr);
  for (std::uint32_t i = 0; i < 30; ++i) (void)s.announce(ih, ep4(i), i < 10, at(0ms));
  const auto* f = s.scrape(ih);
  ASSERT_NE(f, nullptr);
  EXPECT_NEAR(f->seeds.estimate(), 10.0, 1.5);
  EXPECT_NEAR(f->peers.estimate(), 20.0, 2.0);
  krpc::ScrapeBloom expect;
  for (std::uint32_t i = 0; i < 10; ++i) expect.insert(ep4(i).ip);
  EXPECT_EQ(f->seeds, expect);
  // A change invalidates the cached filters.
  (void)s.announce(ih, ep4(100), true, at(0ms));
  expect.insert(ep4(100).ip);
  EXPECT_EQ(s.scrape(ih)->seeds, expect);
}

TEST_F(PeerStoreTest, SmallStoreSampleIsTheWholeStoreAndFollowsChanges) {
  std::set<InfoHash> all;
  for (int i = 0; i < 5; ++i) all.insert(rng.id());
  PeerStore t(cfg);
  for (const auto& ih : all) (void)t.announce(ih, ep4(1), false, at(0ms));
  auto sample = t.sample(at(0ms), rng);
  EXPECT_EQ(std::set<InfoHash>(sample.begin(), sample.end()), all);
  // Fewer than max_samples keys: recomputed on every request, so a new key shows at once.
  const auto extra = rng.id();
  (void)t.announce(extra, ep4(1), false, at(1s));
  all.insert(extra);
  sample = t.sample(at(1s), rng);
  EXPECT_EQ(std::set<InfoHash>(sample.begin(), sample.end()), all);
}

TEST_F(PeerStoreTest, FixedSampleIsServedUntilTheIntervalPasses) {
  cfg.sample_interval = 6h;
  PeerStore s(cfg);
  for (std::uint32_t i = 0; i < 100; ++i) (void)s.announce(rng.id(), ep4(i), false, at(0ms));
  const auto first = s.sample(at(0ms), rng);
  const std::vector<InfoHash> a(first.begin(), first.end());
  ASSERT_EQ(a.size(), 20u);
  EXPECT_EQ(std::set<InfoHash>(a.begin(), a.end()).size(), 20u);
  for (const auto& ih : a) EXPECT_TRUE(s.contains(ih));
  const auto again = s.sample(at(5h), rng);
  EXPECT_EQ(std::vector<InfoHash>(again.begin(), again.end()), a);
  const auto later = s.sample(at(6h), rng);
  EXPECT_NE(std::vector<InfoHash>(later.begin(), later.end()), a);
}

TEST_F(PeerStoreTest, UnfixedSampleChangesEveryTimeAndCoversTheStore) {
  cfg.fixed_sample = false;
  PeerStore s(cfg);
  for (std::uint32_t i = 0; i < 100; ++i) (void)s.announce(rng.id(), ep4(i), false, at(0ms));
  std::set<InfoHash> seen;
  for (int i = 0; i < 60; ++i) {
    const auto x = s.sample(at(0ms), rng);
    EXPECT_EQ(std::set<InfoHash>(x.begin(), x.end()).size(), 20u);
    seen.insert(x.begin(), x.end());
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace bitscrape::dht
