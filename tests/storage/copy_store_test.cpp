// copy_store(): a whole database through the Store interface, between every pair of backends.
#include "storage/copy_store.hpp"
#include "pg_test_db.hpp"
#include "storage/memory_store.hpp"
#include "storage/pg_store.hpp"
#include "storage/sqlite_store.hpp"
#include "storage_test_util.hpp"

#include <gtest/gtest.h>

namespace bitscrape::storage {
namespace {

using namespace bitscrape::storage::testing;

// A little of everything: good and bad nodes, v1/hybrid/v2 torrents with files and info
// dicts, keys pending and failed with several sources and attempts, peers, counters.
void populate(Store& s) {
  WriteBatch b;
  for (int i = 0; i < 40; ++i)
    b.nodes.push_back({ep("10.1.0." + std::to_string(i) + ":6881"), key(i, "n"), T(100 + i), i % 4 != 0});
  for (int i = 0; i < 30; ++i) {
    b.sightings.push_back({key(i, "p"), T(50 + i), Source::Sample, static_cast<std::uint32_t>(i), i % 3});
    b.sightings.push_back({key(i, "p"), T(500 + i), Source::AnnouncePeer, 2, 0});
    if (i % 5 == 0) b.fetch_outcomes.push_back({key(i, "p"), T(600 + i), i % 10 == 0});
    b.peers.push_back({key(i, "p"), ep("10.2.0." + std::to_string(i) + ":5000"), T(700 + i)});
  }
  for (int i = 0; i < 25; ++i) {
    TorrentRecord t =
        v1_torrent(i, "Torrent " + std::to_string(i) + " ubuntu", 1000 + i,
                   {{"dir/a" + std::to_string(i) + ".iso", 600}, {"dir/b.txt", 400 + i}}, 1000 + i);
    if (i % 3 == 1) t.infohash_v2 = v2_of(i);
    if (i % 3 == 2) {
      t.infohash_v1.reset();
      t.infohash_v2 = v2_of(i);
    }
    t.info_dict = "d4:name" + std::to_string(t.name.size()) + ":" + t.name + "e";
    b.sightings.push_back({t.key(), T(900 + i), Source::GetPeers, 7, 1});
    b.peers.push_back({t.key(), ep("10.3.0." + std::to_string(i) + ":6000"), T(800 + i)});
    b.torrents.push_back(std::move(t));
  }
  b.counters.push_back({T(100), {{"a", 1}, {"b", 2}}});
  b.counters.push_back({T(110), {{"a", 3}}});
  ASSERT_TRUE(s.write(b));
}

// Everything a store shows, ids aside, for comparing two of them.
struct Snapshot {
  StoreStats stats;
  std::vector<NodeRecord> nodes;
  std::vector<TorrentRecord> torrents;
  std::vector<InfohashRecord> keys;  // of torrents and without metadata
  std::vector<PeerRecord> peers;
  std::vector<CounterSample> counters;
};

Snapshot snapshot(Store& s) {
  Snapshot out;
  out.stats = s.stats().value();
  EXPECT_TRUE(s.for_each_node([&](const NodeRecord& n) { return out.nodes.push_back(n), true; }));
  auto add_key = [&](const InfoHash& k) {
    if (auto r = s.infohash(k).value()) out.keys.push_back(*r);
    const auto peers = s.peers(k, 1000).value();
    out.peers.insert(out.peers.end(), peers.begin(), peers.end());
  };
  EXPECT_TRUE(s.for_each_torrent(ExportOptions{true, true}, [&](const TorrentRecord& t) {
    TorrentRecord c = t;
    c.id = 0;
    out.torrents.push_back(c);
    for (const auto& k : {t.infohash_v1, t.infohash_v2_truncated()}) {
      if (k) add_key(*k);
    }
    return true;
  }));
  EXPECT_TRUE(
      s.for_each_without_metadata([&](const InfohashRecord& r) { return add_key(r.infohash), true; }));
  EXPECT_TRUE(
      s.for_each_counter_sample([&](const CounterSample& c) { return out.counters.push_back(c), true; }));
  return out;
}

void expect_same(const Snapshot& a, const Snapshot& b) {
  EXPECT_EQ(a.stats, b.stats);
  EXPECT_EQ(a.nodes, b.nodes);
  EXPECT_EQ(a.torrents, b.torrents);
  EXPECT_EQ(a.keys, b.keys);
  EXPECT_EQ(a.peers, b.peers);
  ASSERT_EQ(a.counters.size(), b.counters.size());
  for (std::size_t i = 0; i < a.counters.size(); ++i) {
    EXPECT_EQ(a.counters[i].at, b.counters[i].at);
    EXPECT_EQ(a.counters[i].values, b.counters[i].values);
  }
}

std::unique_ptr<Store> sqlite_at(const std::string& path) {
  return std::move(open_sqlite_store(path).value());
}

TEST(CopyStore, MemoryToSqliteAndBackKeepsEverything) {
  TempDir dir;
  auto mem = make_memory_store();
  populate(*mem);
  const Snapshot original = snapshot(*mem);
  ASSERT_EQ(original.stats.torrents, 25u);
  auto lite = sqlite_at(dir.file("copy.db"));
  std::uint64_t last_done = 0, last_total = 0;
  auto r = copy_store(*mem, *lite, CopyOptions{7, 11, 1000},
                      [&](std::uint64_t d, std::uint64_t t, std::string_view) {
                        EXPECT_GE(d, last_done);
                        last_done = d;
                        last_total = t;
                      });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->torrents, 25u);
  EXPECT_EQ(r->nodes, 40u);
  EXPECT_EQ(r->infohashes, 30u);
  EXPECT_EQ(r->counter_instants, 2u);
  EXPECT_EQ(last_done, last_total);
  expect_same(original, snapshot(*lite));
  auto back = make_memory_store();
  ASSERT_TRUE(copy_store(*lite, *back));
  expect_same(original, snapshot(*back));
}

TEST(CopyStore, PostgresRoundTripKeepsEverything) {
  TempDir dir;
  auto lite = sqlite_at(dir.file("a.db"));
  populate(*lite);
  const Snapshot original = snapshot(*lite);
  auto pg = std::move(open_pg_store(test_support::fresh_pg_database()).value());
  auto r = copy_store(*lite, *pg, CopyOptions{5, 13, 1000});
  ASSERT_TRUE(r) << r.error().message;
  expect_same(original, snapshot(*pg));
  auto again = sqlite_at(dir.file("b.db"));
  ASSERT_TRUE(copy_store(*pg, *again));
  expect_same(original, snapshot(*again));
}

}  // namespace
}  // namespace bitscrape::storage
