// Cluster (app/cluster.hpp): keyspace shares, and membership through a store's instances table.
// Lease exclusivity is the store's (tests/storage runs it against PostgreSQL).
#include "app/cluster.hpp"
#include "storage/memory_store.hpp"

#include <gtest/gtest.h>

#include <set>

namespace bitscrape::app {
namespace {

using storage::from_unix;

// The 16-bit cell numbers a share covers (every id whose first 16 bits are in the set).
std::set<std::uint32_t> cells16(const std::vector<dht::KeyPrefix>& share) {
  std::set<std::uint32_t> out;
  for (const auto& p : share) {
    const std::uint32_t top = (std::uint32_t{p.prefix.bytes[0]} << 8) | p.prefix.bytes[1];
    const std::uint32_t span = 1u << (16 - p.bits);
    for (std::uint32_t c = top; c < top + span; ++c) out.insert(c);
  }
  return out;
}

TEST(KeyspaceShare, PartsAreDisjointCoverEverythingAndAreEvenWithEqualPrefixes) {
  EXPECT_TRUE(keyspace_share(0, 1).empty());  // alone: the whole keyspace
  for (const std::size_t count : {2u, 3u, 5u, 7u, 32u, 33u, 100u}) {
    std::set<std::uint32_t> all;
    std::size_t least = SIZE_MAX, most = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const auto share = keyspace_share(i, count);
      ASSERT_FALSE(share.empty());
      for (const auto& p : share) {
        EXPECT_EQ(p.bits, share.front().bits);
        EXPECT_EQ(p.prefix.bytes[1] & ((1u << (16 - p.bits)) - 1), 0u) << "bits below the prefix are zero";
      }
      const auto cells = cells16(share);
      for (const auto c : cells) EXPECT_TRUE(all.insert(c).second) << "cell " << c << " in two parts of " << count;
      least = std::min(least, cells.size());
      most = std::max(most, cells.size());
    }
    EXPECT_EQ(all.size(), 65536u) << count;
    const std::size_t cell = count <= 32 ? 256 : 16;  // 16-bit cells in one prefix
    EXPECT_LE(most - least, cell) << count;
  }
  // A prefix selects the ids it says.
  const auto half = keyspace_share(1, 2);
  Id160 id;
  id.bytes[0] = 0x80;
  EXPECT_TRUE(std::any_of(half.begin(), half.end(), [&](const auto& p) { return p.contains(id); }));
  id.bytes[0] = 0x7f;
  EXPECT_FALSE(std::any_of(half.begin(), half.end(), [&](const auto& p) { return p.contains(id); }));
}

storage::InstanceInfo info(int n) {
  storage::InstanceInfo i;
  i.node_id.bytes[0] = static_cast<std::uint8_t>(n);
  i.listen = "127.0.0.1:" + std::to_string(6880 + n);
  i.host = "test";
  i.started = from_unix(1000);
  return i;
}

storage::Heartbeat beat(std::int64_t at) {
  storage::Heartbeat hb;
  hb.at = from_unix(at);
  return hb;
}

TEST(Cluster, SharesRebalanceWhenInstancesJoinStopOrDie) {
  auto store = storage::make_memory_store();
  Cluster a(*store, std::chrono::seconds(600)), b(*store, std::chrono::seconds(600)),
      c(*store, std::chrono::seconds(600));
  ASSERT_TRUE(a.join(info(1)));
  auto share = a.heartbeat(beat(1000));
  ASSERT_TRUE(share);
  EXPECT_TRUE(share->empty());              // alone: everything
  EXPECT_FALSE(a.heartbeat(beat(1005)));    // nothing changed: no new share

  ASSERT_TRUE(b.join(info(2)));
  ASSERT_TRUE(c.join(info(3)));
  auto sb = b.heartbeat(beat(1006));
  auto sc = c.heartbeat(beat(1006));
  auto sa = a.heartbeat(beat(1010));
  ASSERT_TRUE(sa && sb && sc);
  EXPECT_EQ(a.live().size(), 3u);
  EXPECT_EQ(*sa, keyspace_share(0, 3));
  EXPECT_EQ(*sb, keyspace_share(1, 3));
  EXPECT_EQ(*sc, keyspace_share(2, 3));

  b.leave(beat(1012));  // a clean stop: gone at once
  sa = a.heartbeat(beat(1015));
  ASSERT_TRUE(sa);
  EXPECT_EQ(*sa, keyspace_share(0, 2));

  // c is killed: no more heartbeats. Within the alive window it still counts...
  EXPECT_FALSE(a.heartbeat(beat(1006 + kAliveWindow.count())));
  // ...after it, a has everything again.
  sa = a.heartbeat(beat(1007 + kAliveWindow.count()));
  ASSERT_TRUE(sa);
  EXPECT_TRUE(sa->empty());
  EXPECT_EQ(a.live(), std::vector<std::int64_t>{a.id()});
}

TEST(Cluster, ClaimsGrantWhatIsNotStored) {
  auto store = storage::make_memory_store();
  Cluster a(*store, std::chrono::seconds(600));
  ASSERT_TRUE(a.join(info(1)));
  storage::TorrentRecord t;
  InfoHash stored;
  stored.bytes[0] = 1;
  t.infohash_v1 = stored;
  t.name = "stored";
  t.total_size = 1;
  t.piece_length = 16384;
  t.files = {{"stored", 1}};
  t.file_count = 1;
  ASSERT_TRUE(store->store_torrents({t}));
  InfoHash fresh;
  fresh.bytes[0] = 2;
  const std::vector<InfoHash> keys{*t.infohash_v1, fresh};
  EXPECT_EQ(a.claim(keys, from_unix(2000)), (std::vector<bool>{false, true}));
  EXPECT_EQ(a.errors(), 0u);
}

}  // namespace
}  // namespace bitscrape::app
