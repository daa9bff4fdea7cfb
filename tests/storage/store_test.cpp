// One behavioural suite, run against every Store backend (memory, SQLite, PostgreSQL).
// The PostgreSQL instances run against a real server (pg_test_db.hpp): under ctest the
// storage_postgres fixture starts a private cluster; run directly, the binary starts its own.
#include "pg_test_db.hpp"
#include "storage/memory_store.hpp"
#include "storage/pg_store.hpp"
#include "storage/sqlite_store.hpp"
#include "storage_test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace bitscrape::storage {
namespace {

using namespace bitscrape::storage::testing;

struct MemoryBackend {
  static std::unique_ptr<Store> open(const StoreOptions& o, const TempDir&) { return make_memory_store(o); }
};
struct SqliteBackend {
  static std::unique_ptr<Store> open(const StoreOptions& o, const TempDir& dir) {
    SqliteOptions so;
    so.store = o;
    auto s = open_sqlite_store(dir.file("store.db"), so);
    if (!s) throw std::runtime_error(s.error().message);
    return std::move(s.value());
  }
};

struct PostgresBackend {
  // A fresh database per open (reopen_with() asks for a fresh store).
  static std::unique_ptr<Store> open(const StoreOptions& o, const TempDir&) {
    PgOptions po;
    po.store = o;
    auto s = open_pg_store(test_support::fresh_pg_database(), po);
    if (!s) throw std::runtime_error(s.error().message);
    return std::move(s.value());
  }
};

template <class Backend>
class StoreTest : public ::testing::Test {
 public:
  StoreTest() : store(Backend::open({}, dir)) {}
  // Replaces the store with one using `o` (a fresh database).
  void reopen_with(const StoreOptions& o) {
    store.reset();
    std::filesystem::remove_all(dir.path());
    std::filesystem::create_directories(dir.path());
    store = Backend::open(o, dir);
  }
  WriteReport write(const WriteBatch& b) {
    auto r = store->write(b);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : WriteReport{};
  }
  WriteReport put(std::vector<TorrentRecord> ts) {
    WriteBatch b;
    b.torrents = std::move(ts);
    return write(b);
  }
  StoreStats stats() {
    auto s = store->stats();
    EXPECT_TRUE(s);
    return s ? *s : StoreStats{};
  }
  SearchPage search(const SearchQuery& q) {
    auto r = store->search(q);
    EXPECT_TRUE(r) << "query '" << q.text << "': " << (r ? "" : r.error().message);
    return r ? std::move(r.value()) : SearchPage{};
  }
  std::vector<std::string> names(const SearchQuery& q) {
    std::vector<std::string> out;
    for (const auto& t : search(q).items) out.push_back(t.name);
    return out;
  }
  std::vector<std::string> names(const std::string& text) {
    SearchQuery q;
    q.text = text;
    q.sort = SortKey::Name;
    q.descending = false;
    return names(q);
  }

  TempDir dir;
  std::unique_ptr<Store> store;
};

class BackendNames {
 public:
  template <class T>
  static std::string GetName(int) {
    if (std::is_same_v<T, MemoryBackend>) return "Memory";
    if (std::is_same_v<T, SqliteBackend>) return "Sqlite";
    return "Postgres";
  }
};

using Backends = ::testing::Types<MemoryBackend, SqliteBackend, PostgresBackend>;
TYPED_TEST_SUITE(StoreTest, Backends, BackendNames);

// ---------------------------------------------------------------- nodes

TYPED_TEST(StoreTest, GoodNodesMostRecentFirstBadExcluded) {
  WriteBatch b;
  b.nodes = {
      {ep("10.0.0.2:1"), key(1), T(100), true},
      {ep("10.0.0.1:1"), key(2), T(100), true},  // same time: lower address first
      {ep("10.0.0.3:1"), key(3), T(300), true},
      {ep("[2001:db8::1]:6881"), key(4), T(200), true},
      {ep("10.0.0.4:1"), key(5), T(400), false},
  };
  this->write(b);
  auto nodes = this->store->good_nodes(10);
  ASSERT_TRUE(nodes);
  ASSERT_EQ(nodes->size(), 4u);
  EXPECT_EQ((*nodes)[0], (NodeRecord{ep("10.0.0.3:1"), key(3), T(300), true}));
  EXPECT_EQ((*nodes)[1], (NodeRecord{ep("[2001:db8::1]:6881"), key(4), T(200), true}));
  EXPECT_EQ((*nodes)[2].endpoint, ep("10.0.0.1:1"));
  EXPECT_EQ((*nodes)[3].endpoint, ep("10.0.0.2:1"));
  auto two = this->store->good_nodes(2);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->size(), 2u);
  EXPECT_EQ(this->stats().nodes, 5u);
  auto too_many = this->store->good_nodes(kMaxNodesLimit + 1);
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().code, ErrorCode::InvalidArgument);
}

TYPED_TEST(StoreTest, NodeUpsertKeepsTheNewestView) {
  ASSERT_TRUE(this->store->upsert_nodes({{ep("1.2.3.4:5"), key(1), T(100), true}}));
  // An older report changes nothing; a newer one replaces id and quality.
  ASSERT_TRUE(this->store->upsert_nodes({{ep("1.2.3.4:5"), key(2), T(50), false}}));
  auto n = this->store->good_nodes(10);
  ASSERT_TRUE(n);
  ASSERT_EQ(n->size(), 1u);
  EXPECT_EQ((*n)[0], (NodeRecord{ep("1.2.3.4:5"), key(1), T(100), true}));
  ASSERT_TRUE(this->store->upsert_nodes({{ep("1.2.3.4:5"), key(3), T(150), false}}));
  n = this->store->good_nodes(10);
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->empty());
  ASSERT_TRUE(this->store->upsert_nodes({{ep("1.2.3.4:5"), key(3), T(160), true}}));
  n = this->store->good_nodes(10);
  ASSERT_TRUE(n);
  ASSERT_EQ(n->size(), 1u);
  EXPECT_EQ((*n)[0], (NodeRecord{ep("1.2.3.4:5"), key(3), T(160), true}));
  EXPECT_EQ(this->stats().nodes, 1u);
}

// ---------------------------------------------------------------- infohashes

TYPED_TEST(StoreTest, SightingsMerge) {
  ASSERT_TRUE(this->store->record_sightings({
      {key(1), T(100), Source::Sample, 3, 1},
      {key(1), T(50), Source::GetPeers, 1, 5},
      {key(1), T(200), Source::AnnouncePeer, 0, -2},
      {key(2), T(70), Source::Lookup, 0, -3},
  }));
  auto r = this->store->infohash(key(1));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->has_value());
  InfohashRecord want;
  want.infohash = key(1);
  want.first_seen = T(50);
  want.last_seen = T(200);
  want.sources = mask_of(Source::Sample) | mask_of(Source::GetPeers) | mask_of(Source::AnnouncePeer);
  want.peers = 3;
  want.priority = 5;
  EXPECT_EQ(**r, want);
  auto r2 = this->store->infohash(key(2));
  ASSERT_TRUE(r2 && r2->has_value());
  EXPECT_EQ((*r2)->priority, -3);  // a new key takes the sighting's priority as is
  EXPECT_EQ((*r2)->sources, mask_of(Source::Lookup));
  auto none = this->store->infohash(key(3));
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  const auto s = this->stats();
  EXPECT_EQ(s.infohashes, 2u);
  EXPECT_EQ(s.pending, 2u);
}

TYPED_TEST(StoreTest, PendingOrderedByPriorityAttemptsRecency) {
  ASSERT_TRUE(this->store->record_sightings({
      {byte_key(1), T(100), Source::Sample, 0, 1},
      {byte_key(2), T(300), Source::Sample, 0, 1},
      {byte_key(3), T(100), Source::Sample, 0, 9},
      {byte_key(4), T(100), Source::Sample, 0, 1},  // same as 1 but a later key
      {byte_key(5), T(500), Source::Sample, 0, 1},  // attempted once: after the untried ones
      {byte_key(6), T(900), Source::Sample, 0, 20},  // fetched below
      {byte_key(7), T(900), Source::Sample, 0, 20},  // failed below
  }));
  ASSERT_TRUE(this->store->record_fetch_outcomes({{byte_key(5), T(600), false}, {byte_key(7), T(600), true}}));
  TorrentRecord t = v1_torrent(0, "x");
  t.infohash_v1 = byte_key(6);
  ASSERT_TRUE(this->store->store_torrents({t}));

  auto p = this->store->pending_fetch({10, std::nullopt});
  ASSERT_TRUE(p);
  std::vector<InfoHash> got;
  for (const auto& r : *p) got.push_back(r.infohash);
  EXPECT_EQ(got, (std::vector<InfoHash>{byte_key(3), byte_key(2), byte_key(1), byte_key(4), byte_key(5)}));
  EXPECT_EQ((*p)[4].fetch_attempts, 1u);
  EXPECT_EQ((*p)[4].last_attempt, T(600));

  auto limited = this->store->pending_fetch({2, std::nullopt});
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->size(), 2u);
  // Back-off: keys attempted after the cut-off wait.
  auto backoff = this->store->pending_fetch({10, T(599)});
  ASSERT_TRUE(backoff);
  EXPECT_EQ(backoff->size(), 4u);
  backoff = this->store->pending_fetch({10, T(600)});
  ASSERT_TRUE(backoff);
  EXPECT_EQ(backoff->size(), 5u);

  auto bad = this->store->pending_fetch({kMaxPendingLimit + 1, std::nullopt});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::InvalidArgument);
}

TYPED_TEST(StoreTest, FetchOutcomes) {
  ASSERT_TRUE(this->store->record_sightings({{key(1), T(10), Source::Sample, 0, 0}}));
  ASSERT_TRUE(this->store->record_fetch_outcomes({{key(1), T(20), false}, {key(1), T(30), false}}));
  auto r = this->store->infohash(key(1));
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->fetch_attempts, 2u);
  EXPECT_EQ((*r)->last_attempt, T(30));
  EXPECT_EQ((*r)->state, FetchState::Pending);

  ASSERT_TRUE(this->store->record_fetch_outcomes({{key(1), T(40), true}}));
  r = this->store->infohash(key(1));
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->state, FetchState::Failed);
  EXPECT_EQ((*r)->fetch_attempts, 3u);

  // An outcome for an unknown key creates it.
  ASSERT_TRUE(this->store->record_fetch_outcomes({{key(2), T(50), true}}));
  r = this->store->infohash(key(2));
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->state, FetchState::Failed);
  EXPECT_EQ((*r)->first_seen, T(50));
  EXPECT_EQ((*r)->sources, 0);

  // Fetched is terminal: a later failure does not undo it.
  ASSERT_TRUE(this->store->store_torrents({v1_torrent(3, "three")}));
  ASSERT_TRUE(this->store->record_fetch_outcomes({{key(3), T(60), true}}));
  r = this->store->infohash(key(3));
  ASSERT_TRUE(r && r->has_value());
  EXPECT_EQ((*r)->state, FetchState::Fetched);
  EXPECT_EQ((*r)->fetch_attempts, 1u);

  const auto s = this->stats();
  EXPECT_EQ(s.infohashes, 3u);
  EXPECT_EQ(s.pending, 0u);
  EXPECT_EQ(s.failed, 2u);
}

// ---------------------------------------------------------------- torrents

TYPED_TEST(StoreTest, StoresAndReadsAV1Torrent) {
  TorrentRecord t = v1_torrent(1, "Some Album", 3000, {{"Some Album/01.flac", 1000}, {"Some Album/02.flac", 2000}});
  t.is_private = true;
  t.info_dict = "d4:name10:Some Albume";
  const auto rep = this->put({t});
  EXPECT_EQ(rep, (WriteReport{1, 0, 0, 0}));

  auto got = this->store->torrent(key(1));
  ASSERT_TRUE(got);
  ASSERT_TRUE(got->has_value());
  TorrentRecord want = t;
  want.id = 1;
  want.info_dict.clear();  // read separately
  EXPECT_EQ(**got, want);

  auto fetched = this->store->is_fetched(std::vector<InfoHash>{key(1), key(2)});
  ASSERT_TRUE(fetched);
  EXPECT_EQ(*fetched, (std::vector<bool>{true, false}));
  auto ih = this->store->infohash(key(1));
  ASSERT_TRUE(ih && ih->has_value());
  EXPECT_EQ((*ih)->state, FetchState::Fetched);
  EXPECT_EQ((*ih)->first_seen, T(1000));
  auto missing = this->store->torrent(key(2));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());

  const auto s = this->stats();
  EXPECT_EQ(s.torrents, 1u);
  EXPECT_EQ(s.files, 2u);
  EXPECT_EQ(s.infohashes, 1u);
  EXPECT_EQ(s.pending, 0u);
}

TYPED_TEST(StoreTest, SingleFileTorrentsRoundTrip) {
  TorrentRecord same = v1_torrent(1, "movie.mkv", 700);  // the file is the name
  TorrentRecord other = v1_torrent(2, "movie2", 700, {{"movie2.mkv", 700}});
  TorrentRecord shorter = v1_torrent(3, "movie3", 700, {{"movie3", 699}});
  this->put({same, other, shorter});
  for (auto [k, t] : {std::pair{1, same}, std::pair{2, other}, std::pair{3, shorter}}) {
    auto got = this->store->torrent(key(k));
    ASSERT_TRUE(got && got->has_value());
    EXPECT_EQ((*got)->files, t.files) << k;
  }
}

TYPED_TEST(StoreTest, HybridIsOneRecordUnderBothKeys) {
  TorrentRecord h = v1_torrent(1, "hybrid", 5000, {{"hybrid/a", 2000}, {"hybrid/b", 3000}});
  h.infohash_v2 = v2_of(1);
  this->put({h});
  const InfoHash v2k = truncated(v2_of(1));
  auto by_v1 = this->store->torrent(key(1));
  auto by_v2 = this->store->torrent(v2k);
  ASSERT_TRUE(by_v1 && by_v1->has_value());
  ASSERT_TRUE(by_v2 && by_v2->has_value());
  EXPECT_EQ(**by_v1, **by_v2);
  EXPECT_EQ((*by_v2)->infohash_v2, v2_of(1));
  EXPECT_EQ((*by_v2)->infohash_v1, key(1));
  auto f = this->store->is_fetched(std::vector<InfoHash>{key(1), v2k, key(2)});
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, (std::vector<bool>{true, true, false}));
  for (const auto& k : {key(1), v2k}) {
    auto ih = this->store->infohash(k);
    ASSERT_TRUE(ih && ih->has_value());
    EXPECT_EQ((*ih)->state, FetchState::Fetched);
  }
  const auto s = this->stats();
  EXPECT_EQ(s.torrents, 1u);
  EXPECT_EQ(s.files, 2u);
  EXPECT_EQ(s.infohashes, 2u);
  EXPECT_EQ(this->search(SearchQuery{.text = "hybrid"}).total, 1u);

  // Storing it again under either key, or both, adds nothing.
  TorrentRecord only_v2 = h;
  only_v2.infohash_v1.reset();
  const auto rep = this->put({h, only_v2});
  EXPECT_EQ(rep.torrents_added, 0u);
  EXPECT_EQ(rep.torrents_duplicate, 2u);
  EXPECT_EQ(this->stats().torrents, 1u);
}

TYPED_TEST(StoreTest, V2OnlyTorrentFoundByTruncatedKey) {
  TorrentRecord t = v1_torrent(1, "v2only");
  t.infohash_v1.reset();
  t.infohash_v2 = v2_of(7);
  this->put({t});
  auto got = this->store->torrent(truncated(v2_of(7)));
  ASSERT_TRUE(got && got->has_value());
  EXPECT_FALSE((*got)->infohash_v1);
  EXPECT_EQ((*got)->infohash_v2, v2_of(7));
  EXPECT_EQ((*got)->key(), truncated(v2_of(7)));
}

TYPED_TEST(StoreTest, StoringTwiceKeepsOneFirstWins) {
  TorrentRecord a = v1_torrent(1, "first name", 100, {{"x", 60}, {"y", 40}});
  TorrentRecord b = a;
  b.name = "second name";
  const auto rep = this->put({a, b});
  EXPECT_EQ(rep.torrents_added, 1u);
  EXPECT_EQ(rep.torrents_duplicate, 1u);
  const auto rep2 = this->put({a});
  EXPECT_EQ(rep2, (WriteReport{0, 1, 0, 0}));
  auto got = this->store->torrent(key(1));
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->name, "first name");
  const auto s = this->stats();
  EXPECT_EQ(s.torrents, 1u);
  EXPECT_EQ(s.files, 2u);
  EXPECT_EQ(this->search(SearchQuery{.text = "name"}).total, 1u);
  EXPECT_EQ(this->search(SearchQuery{.text = "second"}).total, 0u);
}

TYPED_TEST(StoreTest, V1ThenHybridMergesTheV2Key) {
  const TorrentRecord v1 = v1_torrent(1, "grows");
  this->put({v1});
  TorrentRecord h = v1;
  h.infohash_v2 = v2_of(1);
  EXPECT_EQ(this->put({h}).torrents_duplicate, 1u);
  auto got = this->store->torrent(truncated(v2_of(1)));
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->id, 1);
  EXPECT_EQ((*got)->infohash_v1, key(1));
  EXPECT_EQ((*got)->infohash_v2, v2_of(1));
  auto ih = this->store->infohash(truncated(v2_of(1)));
  ASSERT_TRUE(ih && ih->has_value());
  EXPECT_EQ((*ih)->state, FetchState::Fetched);
  EXPECT_EQ(this->stats().torrents, 1u);

  // And the other way round: v2-only first, then the hybrid adds the v1 key.
  TorrentRecord v2 = v1_torrent(2, "grows too");
  v2.infohash_v1.reset();
  v2.infohash_v2 = v2_of(2);
  this->put({v2});
  TorrentRecord h2 = v2;
  h2.infohash_v1 = key(2);
  this->put({h2});
  got = this->store->torrent(key(2));
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->id, 2);
  EXPECT_EQ(this->stats().torrents, 2u);
}

// Keys are unique across torrents: a copy whose keys are held, one by each of two torrents,
// or whose other key the stored torrent already has in another version, adds nothing.
TYPED_TEST(StoreTest, ConflictingKeysStayWithTheirFirstTorrent) {
  TorrentRecord h1 = v1_torrent(1, "hybrid one");
  h1.infohash_v2 = v2_of(1);
  TorrentRecord v2only = v1_torrent(2, "v2 only");
  v2only.infohash_v1.reset();
  v2only.infohash_v2 = v2_of(2);
  this->put({h1, v2only});
  // v1 key of h1, a v2 nobody has: h1 already has a v2, so the new one is not added.
  TorrentRecord other_v2 = h1;
  other_v2.infohash_v2 = v2_of(3);
  // v1 key of h1, v2 key of v2only: both held by different torrents.
  TorrentRecord both_held = h1;
  both_held.infohash_v2 = v2_of(2);
  const WriteReport r = this->put({other_v2, both_held});
  EXPECT_EQ(r.torrents_duplicate, 2u);
  EXPECT_EQ(r.torrents_added, 0u);
  EXPECT_FALSE(this->store->torrent(truncated(v2_of(3)))->has_value());
  EXPECT_EQ((*this->store->torrent(key(1)))->infohash_v2, v2_of(1));
  EXPECT_EQ((*this->store->torrent(truncated(v2_of(2))))->name, "v2 only");
  EXPECT_FALSE((*this->store->torrent(truncated(v2_of(2))))->infohash_v1.has_value());
  EXPECT_EQ(this->stats().torrents, 2u);
}

TYPED_TEST(StoreTest, InvalidTorrentsAreRejectedOthersStored) {
  TorrentRecord no_key = v1_torrent(1, "no key");
  no_key.infohash_v1.reset();
  TorrentRecord more_files_than_count = v1_torrent(2, "x", 2, {{"a", 1}, {"b", 1}});
  more_files_than_count.file_count = 1;
  TorrentRecord negative = v1_torrent(3, "neg", -1);
  TorrentRecord long_name = v1_torrent(4, std::string(5000, 'n'));
  TorrentRecord neg_file = v1_torrent(5, "negf", 1, {{"a", -1}});
  TorrentRecord good = v1_torrent(6, "good");
  const auto rep = this->put({no_key, more_files_than_count, negative, long_name, neg_file, good});
  EXPECT_EQ(rep.rejected, 5u);
  EXPECT_EQ(rep.torrents_added, 1u);
  EXPECT_EQ(this->stats().torrents, 1u);
}

TYPED_TEST(StoreTest, FileListsTruncatedToTheLimitCountKept) {
  StoreOptions o;
  o.max_files_per_torrent = 3;
  this->reopen_with(o);
  std::vector<FileRecord> files;
  for (int i = 0; i < 5; ++i) files.push_back({"d/f" + std::to_string(i), 1});
  this->put({v1_torrent(1, "many", 5, files)});
  auto got = this->store->torrent(key(1));
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->file_count, 5u);
  EXPECT_EQ((*got)->files, std::vector<FileRecord>(files.begin(), files.begin() + 3));
  EXPECT_EQ(this->stats().files, 5u);
}

TYPED_TEST(StoreTest, RawInfoDictRoundTripsExactBytes) {
  TorrentRecord t = v1_torrent(1, "bin");
  t.info_dict = std::string("d6:pieces20:\x00\x01\x02\xff", 16) + std::string(20000, '\x7f') + "e";
  t.infohash_v2 = v2_of(1);
  this->put({t});
  for (const auto& k : {key(1), truncated(v2_of(1))}) {
    auto d = this->store->raw_info_dict(k);
    ASSERT_TRUE(d);
    ASSERT_TRUE(d->has_value());
    EXPECT_EQ(**d, t.info_dict);
  }
  auto none = this->store->raw_info_dict(key(2));
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());

  StoreOptions o;
  o.keep_info_dicts = false;
  this->reopen_with(o);
  this->put({t});
  auto dropped = this->store->raw_info_dict(key(1));
  ASSERT_TRUE(dropped);
  EXPECT_FALSE(dropped->has_value());
}

// ---------------------------------------------------------------- peers

TYPED_TEST(StoreTest, PeersBoundedToTheMostRecent) {
  std::vector<PeerRecord> peers;
  for (int i = 0; i < 80; ++i) {
    peers.push_back({key(1), ep("10.1.0." + std::to_string(i) + ":6881"), T(1000 + i)});
  }
  WriteBatch b;
  b.peers = peers;
  const auto rep = this->write(b);
  EXPECT_EQ(rep.peers_evicted, 30u);
  auto got = this->store->peers(key(1), 100);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ((*got)[static_cast<std::size_t>(i)], peers[static_cast<std::size_t>(79 - i)]);
  EXPECT_EQ(this->stats().peers, 50u);

  // Seeing an old peer again makes it the newest; a stale report does not.
  ASSERT_TRUE(this->store->record_peers({{key(1), ep("10.1.0.0:6881"), T(5000)},
                                         {key(1), ep("10.1.0.79:6881"), T(1)}}));
  got = this->store->peers(key(1), 2);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0], (PeerRecord{key(1), ep("10.1.0.0:6881"), T(5000)}));
  EXPECT_EQ((*got)[1], (PeerRecord{key(1), ep("10.1.0.79:6881"), T(1079)}));
  EXPECT_EQ(this->stats().peers, 50u);  // 10.1.0.30 (the oldest) went

  // A peer of an unknown key creates the key.
  ASSERT_TRUE(this->store->record_peers({{key(2), ep("[::1]:1"), T(7)}}));
  auto ih = this->store->infohash(key(2));
  ASSERT_TRUE(ih && ih->has_value());
  EXPECT_EQ((*ih)->first_seen, T(7));
  EXPECT_EQ((*ih)->state, FetchState::Pending);
  EXPECT_EQ(this->stats().peers, 51u);
}

TYPED_TEST(StoreTest, PeerBoundIsConfigurable) {
  StoreOptions o;
  o.max_peers_per_infohash = 3;
  this->reopen_with(o);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(this->store->record_peers({{key(1), ep("10.0.0.1:" + std::to_string(100 + i)), T(i)}}));
  }
  auto got = this->store->peers(key(1), 10);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].endpoint.port, 104);
  EXPECT_EQ((*got)[2].endpoint.port, 102);
}

// ---------------------------------------------------------------- search

// A small corpus: names, paths, sizes, file counts and dates chosen so each filter and
// sort has a known answer.
template <class S>
void load_corpus(S& t) {
  t.put({
      v1_torrent(1, "Ubuntu 22.04 Desktop amd64", 4000, {}, 100),
      v1_torrent(2, "ubuntu-server 20.04", 1000, {{"ubuntu-server/iso", 900}, {"ubuntu-server/sha", 100}}, 200),
      v1_torrent(3, "Debian 12 netinst", 600, {}, 300),
      v1_torrent(4, "Linux ISO collection", 9000,
                 {{"collection/ubuntu.iso", 4000}, {"collection/debian.iso", 3000}, {"collection/arch.iso", 2000}},
                 400),
      v1_torrent(5, "Near Dark 1987", 2000, {}, 500),
      v1_torrent(6, "Café del Mar", 300, {{"Café del Mar/01.mp3", 100}, {"Café del Mar/02.mp3", 200}}, 600),
      v1_torrent(7, "And Then There Were None", 800, {}, 700),
      v1_torrent(8, "ubuntu", 1000, {}, 800),
  });
}

TYPED_TEST(StoreTest, SearchMatchesAllTokensInNamesAndPaths) {
  load_corpus(*this);
  using V = std::vector<std::string>;
  EXPECT_EQ(this->names("ubuntu"),
            (V{"Linux ISO collection", "Ubuntu 22.04 Desktop amd64", "ubuntu", "ubuntu-server 20.04"}));
  EXPECT_EQ(this->names("UBUNTU server"), (V{"ubuntu-server 20.04"}));
  EXPECT_EQ(this->names("ubu"), (V{"Linux ISO collection", "Ubuntu 22.04 Desktop amd64", "ubuntu",
                                   "ubuntu-server 20.04"}));  // prefix
  EXPECT_EQ(this->names("ubu "), V{});                          // finished word: exact
  EXPECT_EQ(this->names("debian iso"), (V{"Linux ISO collection"}));  // both in paths
  EXPECT_EQ(this->names("22.04"), (V{"Ubuntu 22.04 Desktop amd64"}));
  EXPECT_EQ(this->names("mp3"), (V{"Café del Mar"}));
  EXPECT_EQ(this->names("NEAR"), (V{"Near Dark 1987"}));  // an operator is just a word
  EXPECT_EQ(this->names("AND then"), (V{"And Then There Were None"}));
  EXPECT_EQ(this->names("zzz"), V{});
  EXPECT_EQ(this->search(SearchQuery{.text = "ubuntu"}).total, 4u);
}

TYPED_TEST(StoreTest, SearchRelevancePrefersNameMatchesAndShortNames) {
  load_corpus(*this);
  SearchQuery q;
  q.text = "ubuntu";
  std::vector<std::int64_t> ids;
  for (const auto& t : this->search(q).items) ids.push_back(t.id);
  // 10/(20+6) "ubuntu" > 10/(20+19) "ubuntu-server 20.04" > 10/(20+26) "Ubuntu 22.04 Desktop amd64"
  // > 1/(20+20) "Linux ISO collection" (only a file path says ubuntu).
  EXPECT_EQ(ids, (std::vector<std::int64_t>{8, 2, 1, 4}));
  // Two occurrences in the name beat one; equal scores: newest first.
  this->put({v1_torrent(20, "ubuntu ubuntu"), v1_torrent(21, "debian x"), v1_torrent(22, "debian y")});
  q.text = "ubuntu";
  EXPECT_EQ(this->search(q).items.front().name, "ubuntu ubuntu");  // id 9
  q.text = "debian";
  ids.clear();
  for (const auto& t : this->search(q).items) ids.push_back(t.id);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{11, 10, 3, 4}));  // "debian y" and "debian x" tie: newer first
  EXPECT_DOUBLE_EQ(search_relevance(10, 6), 10.0 / 26.0);
}

TYPED_TEST(StoreTest, TextQueriesOrderTheNewestWindowOfMatches) {
  std::vector<TorrentRecord> ts;
  // Sizes grow with id except the oldest, which is the largest of all.
  for (int i = 1; i <= 10; ++i) ts.push_back(v1_torrent(i, "win " + std::to_string(i), i == 1 ? 1'000'000 : 100 * i));
  this->put(ts);
  SearchQuery q;
  q.text = "win";
  q.sort = SortKey::Size;
  q.window = 4;  // the 4 newest matches: ids 7..10
  auto page = this->search(q);
  EXPECT_EQ(page.total, 10u);
  EXPECT_TRUE(page.total_exact);
  EXPECT_TRUE(page.window_limited);
  std::vector<std::int64_t> ids;
  for (const auto& t : page.items) ids.push_back(t.id);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{10, 9, 8, 7}));  // id 1 is bigger but outside the window
  q.offset = 3;
  EXPECT_EQ(this->search(q).items.size(), 1u);  // pages end with the window
  // Filters apply before the window: the newest 4 *passing* matches.
  q.offset = 0;
  q.max_size = 800;
  ids.clear();
  for (const auto& t : this->search(q).items) ids.push_back(t.id);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{8, 7, 6, 5}));
  // A window as large as the matches: exact, not limited.
  q.max_size.reset();
  q.window = 10;
  page = this->search(q);
  EXPECT_FALSE(page.window_limited);
  EXPECT_EQ(page.items.front().id, 1);
  // Without text, Size walks an index: no window at all...
  q.text.clear();
  q.window = 2;
  page = this->search(q);
  EXPECT_FALSE(page.window_limited);
  EXPECT_EQ(page.items.size(), 10u);
  EXPECT_EQ(page.items.front().id, 1);
  // ...but Name has no index: the newest `window` torrents, by name.
  q.sort = SortKey::Name;
  q.descending = false;
  page = this->search(q);
  EXPECT_TRUE(page.window_limited);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].name, "win 10");
  EXPECT_EQ(page.items[1].name, "win 9");
  q.window = 0;
  EXPECT_FALSE(this->store->search(q));
}

TYPED_TEST(StoreTest, SearchWithoutTextListsNewestFirst) {
  load_corpus(*this);
  SearchQuery q;
  q.limit = 3;
  const auto page = this->search(q);
  EXPECT_EQ(page.total, 8u);
  ASSERT_EQ(page.items.size(), 3u);
  EXPECT_EQ(page.items[0].id, 8);
  EXPECT_EQ(page.items[1].id, 7);
  EXPECT_EQ(page.items[2].id, 6);
  // Punctuation only is no text either.
  q.text = "*** ( ) \"";
  EXPECT_EQ(this->search(q).total, 8u);
}

TYPED_TEST(StoreTest, SearchFiltersAreInclusive) {
  load_corpus(*this);
  using V = std::vector<std::string>;
  SearchQuery q;
  q.sort = SortKey::Size;
  q.descending = false;
  q.min_size = 800;
  q.max_size = 2000;
  EXPECT_EQ(this->names(q), (V{"And Then There Were None", "ubuntu-server 20.04", "ubuntu", "Near Dark 1987"}));
  q = SearchQuery{.sort = SortKey::Size, .descending = false};
  q.min_files = 2;
  EXPECT_EQ(this->names(q), (V{"Café del Mar", "ubuntu-server 20.04", "Linux ISO collection"}));
  q.max_files = 2;
  EXPECT_EQ(this->names(q), (V{"Café del Mar", "ubuntu-server 20.04"}));
  q = SearchQuery{.sort = SortKey::Discovered, .descending = false};
  q.discovered_from = T(300);
  q.discovered_to = T(500);
  EXPECT_EQ(this->names(q), (V{"Debian 12 netinst", "Linux ISO collection", "Near Dark 1987"}));
  q.text = "iso";
  EXPECT_EQ(this->names(q), (V{"Linux ISO collection"}));
  EXPECT_EQ(this->search(q).total, 1u);
  q.text = "ubuntu";
  q.discovered_from.reset();
  q.discovered_to.reset();
  q.max_size = 1000;  // a filter on a field other than the sort key, with text
  q.min_size = 1000;
  EXPECT_EQ(this->names(q), (V{"ubuntu-server 20.04", "ubuntu"}));
}

TYPED_TEST(StoreTest, SearchSortsWithIdTieBreaks) {
  load_corpus(*this);
  auto ids = [&](SortKey k, bool desc, std::string text = "") {
    SearchQuery q;
    q.text = std::move(text);
    q.sort = k;
    q.descending = desc;
    std::vector<std::int64_t> out;
    for (const auto& t : this->search(q).items) out.push_back(t.id);
    return out;
  };
  using V = std::vector<std::int64_t>;
  // sizes: 1:4000 2:1000 3:600 4:9000 5:2000 6:300 7:800 8:1000
  EXPECT_EQ(ids(SortKey::Size, false), (V{6, 3, 7, 2, 8, 5, 1, 4}));
  EXPECT_EQ(ids(SortKey::Size, true), (V{4, 1, 5, 8, 2, 7, 3, 6}));
  EXPECT_EQ(ids(SortKey::Discovered, false), (V{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(ids(SortKey::Discovered, true), (V{8, 7, 6, 5, 4, 3, 2, 1}));
  // Byte order: upper case before lower case.
  EXPECT_EQ(ids(SortKey::Name, false), (V{7, 6, 3, 4, 5, 1, 8, 2}));
  EXPECT_EQ(ids(SortKey::Name, true), (V{2, 8, 1, 5, 4, 3, 6, 7}));
  EXPECT_EQ(ids(SortKey::Size, true, "ubuntu"), (V{4, 1, 8, 2}));
}

TYPED_TEST(StoreTest, SearchPaginationIsConsistent) {
  std::vector<TorrentRecord> ts;
  for (int i = 1; i <= 23; ++i) ts.push_back(v1_torrent(i, "page item " + std::to_string(i), 10 * (i % 5), {}, i));
  this->put(ts);
  for (SortKey k : {SortKey::Relevance, SortKey::Size, SortKey::Discovered, SortKey::Name}) {
    for (bool desc : {false, true}) {
      SearchQuery all;
      all.text = "page item";
      all.sort = k;
      all.descending = desc;
      all.limit = 100;
      const auto full = this->search(all);
      ASSERT_EQ(full.items.size(), 23u);
      std::vector<TorrentSummary> paged;
      for (std::size_t off = 0; off < 30; off += 5) {
        SearchQuery q = all;
        q.limit = 5;
        q.offset = off;
        const auto page = this->search(q);
        EXPECT_EQ(page.total, 23u);
        EXPECT_TRUE(page.total_exact);
        paged.insert(paged.end(), page.items.begin(), page.items.end());
      }
      EXPECT_EQ(paged, full.items) << static_cast<int>(k) << desc;
    }
  }
  SearchQuery beyond;
  beyond.offset = 1000;
  const auto empty = this->search(beyond);
  EXPECT_TRUE(empty.items.empty());
  EXPECT_EQ(empty.total, 23u);
}

TYPED_TEST(StoreTest, SearchCountStopsAtTheLimit) {
  std::vector<TorrentRecord> ts;
  for (int i = 1; i <= 30; ++i) ts.push_back(v1_torrent(i, "common word " + std::to_string(i)));
  this->put(ts);
  SearchQuery q;
  q.text = "common";
  q.count_limit = 10;
  q.limit = 20;
  auto page = this->search(q);
  EXPECT_EQ(page.total, 10u);
  EXPECT_FALSE(page.total_exact);
  EXPECT_EQ(page.items.size(), 20u);  // the page itself is not capped by the count
  q.count_limit = 30;
  page = this->search(q);
  EXPECT_EQ(page.total, 30u);
  EXPECT_TRUE(page.total_exact);
  q.count_limit = 29;
  EXPECT_FALSE(this->search(q).total_exact);
  q.text.clear();
  q.min_size = 0;  // the no-text path with a filter
  EXPECT_EQ(this->search(q).total, 29u);
  q.limit = 0;
  EXPECT_TRUE(this->search(q).items.empty());
}

TYPED_TEST(StoreTest, SearchRejectsOutOfRangePaging) {
  SearchQuery q;
  q.limit = kMaxSearchLimit + 1;
  auto r = this->store->search(q);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
  q.limit = 10;
  q.offset = kMaxSearchOffset + 1;
  EXPECT_FALSE(this->store->search(q));
  q.offset = 0;
  q.count_limit = kMaxSearchCount + 1;
  EXPECT_FALSE(this->store->search(q));
}

// Hostile search text: none may error, on any sort, with or without filters.
const std::vector<std::string>& hostile_inputs() {
  static const std::vector<std::string> v = {
      "",
      " ",
      "\"",
      "\"\"",
      "\"unbalanced",
      "'",
      "(",
      ")",
      "((",
      "())",
      "foo)",
      "(foo",
      "AND",
      "OR",
      "NOT",
      "NEAR",
      "NEAR(a b)",
      "NEAR(a b, 2)",
      "a NEAR/3 b",
      "a AND",
      "OR b",
      "NOT a",
      "AND AND AND",
      "a OR b AND (c NOT d)",
      "*",
      "**",
      "a*",
      "*a",
      "-",
      "-a",
      "a -b",
      "+",
      "^",
      "^a",
      "name:foo",
      "paths:",
      ":",
      "{name paths}: x",
      "a:b:c",
      "\\",
      "\\\"",
      "%",
      "_",
      ";",
      "'; DROP TABLE torrents; --",
      "\" OR 1=1 --",
      std::string("a\0b", 3),
      std::string("\0", 1),
      "\xff\xfe",
      "\xc3",
      "\xed\xa0\x80",  // a UTF-16 surrogate in UTF-8
      "ü",
      "—",
      "a—b",
      "\xe2\x80\x8b",  // zero-width space
      "日本語 \"テスト\"",
      "\xf0\x9f\x98\x80 emoji",
      "a\tb\nc\rd",
      "\x01\x02\x1f",
      "[abc]",
      "{a b}",
      "@#$&|!~`",
      "1e10 -1 0x",
      "a''b",
      std::string(10000, 'x'),
      std::string(5000, '"'),
      std::string(3000, '('),
      [] {
        std::string s;
        for (int i = 0; i < 1000; ++i) s += "w" + std::to_string(i) + " ";
        return s;
      }(),
  };
  return v;
}

TYPED_TEST(StoreTest, HostileSearchTextNeverErrors) {
  load_corpus(*this);
  ASSERT_GE(hostile_inputs().size(), 30u);
  for (const auto& text : hostile_inputs()) {
    for (SortKey k : {SortKey::Relevance, SortKey::Size, SortKey::Discovered, SortKey::Name}) {
      SearchQuery q;
      q.text = text;
      q.sort = k;
      auto r = this->store->search(q);
      ASSERT_TRUE(r) << "text '" << text << "' sort " << static_cast<int>(k) << ": " << r.error().message;
      q.min_size = 1;
      q.discovered_to = T(10'000);
      r = this->store->search(q);
      ASSERT_TRUE(r) << "filtered text '" << text << "': " << r.error().message;
    }
  }
  // The data survived the injection attempt.
  EXPECT_EQ(this->stats().torrents, 8u);
  EXPECT_EQ(this->names("'; DROP TABLE torrents; --"), std::vector<std::string>{});
  EXPECT_EQ(this->names("\"ubuntu\" OR \"debian"), std::vector<std::string>{});  // OR is a word here
  EXPECT_EQ(this->names("(ubuntu"), (std::vector<std::string>{"Linux ISO collection", "Ubuntu 22.04 Desktop amd64",
                                                              "ubuntu", "ubuntu-server 20.04"}));
}

// ---------------------------------------------------------------- iteration

TYPED_TEST(StoreTest, ForEachTorrentStreamsEverythingInIdOrder) {
  std::vector<TorrentRecord> ts;
  for (int i = 1; i <= 600; ++i) {
    ts.push_back(v1_torrent(i, "t" + std::to_string(i), 2, {{"a", 1}, {"b" + std::to_string(i), 1}}));
    ts.back().info_dict = "info" + std::to_string(i);
  }
  this->put(ts);
  std::vector<std::int64_t> ids;
  auto n = this->store->for_each_torrent({}, [&](const TorrentRecord& t) {
    ids.push_back(t.id);
    EXPECT_EQ(t.files.size(), 2u);
    EXPECT_EQ(t.files[1].path, "b" + std::to_string(t.id));
    EXPECT_TRUE(t.info_dict.empty());
    return true;
  });
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 600u);
  ASSERT_EQ(ids.size(), 600u);
  for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], static_cast<std::int64_t>(i) + 1);

  // Options, early stop, and a visitor that calls back into the store.
  std::size_t seen = 0;
  n = this->store->for_each_torrent({false, true}, [&](const TorrentRecord& t) {
    EXPECT_TRUE(t.files.empty());
    EXPECT_EQ(t.info_dict, "info" + std::to_string(t.id));
    EXPECT_TRUE(this->store->stats());
    return ++seen < 10;
  });
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 10u);
}

TYPED_TEST(StoreTest, ForEachWithoutMetadataSkipsFetched) {
  std::vector<InfohashSighting> s;
  for (int i = 0; i < 600; ++i) s.push_back({key(i), T(i), Source::Sample, 0, 0});
  ASSERT_TRUE(this->store->record_sightings(s));
  std::vector<TorrentRecord> ts;
  for (int i = 0; i < 600; i += 3) ts.push_back(v1_torrent(i, "f"));
  this->put(ts);
  ASSERT_TRUE(this->store->record_fetch_outcomes({{key(1), T(1), true}}));
  std::vector<InfoHash> seen;
  auto n = this->store->for_each_without_metadata([&](const InfohashRecord& r) {
    seen.push_back(r.infohash);
    EXPECT_NE(r.state, FetchState::Fetched);
    return true;
  });
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 400u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<InfoHash>(seen.begin(), seen.end()).size(), 400u);
  EXPECT_TRUE(std::find(seen.begin(), seen.end(), key(1)) != seen.end());  // failed ones included
  n = this->store->for_each_without_metadata([&](const InfohashRecord&) { return false; });
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);
}

// ---------------------------------------------------------------- stats, counters, prune

TYPED_TEST(StoreTest, ForEachNodeStreamsGoodAndBadInEndpointOrder) {
  std::vector<NodeRecord> nodes;
  for (int i = 0; i < 300; ++i) {  // more than one chunk
    nodes.push_back({ep("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":6881"), key(i), T(100 + i),
                     i % 3 != 0});
  }
  nodes.push_back({ep("[2001:db8::1]:1"), key(1000), T(5), false});
  ASSERT_TRUE(this->store->upsert_nodes(nodes));
  std::vector<NodeRecord> seen;
  auto n = this->store->for_each_node([&](const NodeRecord& r) {
    seen.push_back(r);
    return true;
  });
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, nodes.size());
  ASSERT_EQ(seen.size(), nodes.size());
  auto sorted = nodes;
  std::sort(sorted.begin(), sorted.end(), [](const NodeRecord& a, const NodeRecord& b) {
    return std::pair(std::string(a.endpoint.ip.bytes()), a.endpoint.port) <
           std::pair(std::string(b.endpoint.ip.bytes()), b.endpoint.port);
  });
  EXPECT_EQ(seen, sorted);
  std::size_t visits = 0;
  auto stopped = this->store->for_each_node([&](const NodeRecord&) { return ++visits < 3; });
  ASSERT_TRUE(stopped);
  EXPECT_EQ(*stopped, 3u);
}

TYPED_TEST(StoreTest, ForEachCounterSampleGroupsByInstant) {
  std::vector<CounterSample> samples;
  for (int t = 0; t < 100; ++t) samples.push_back({T(1000 + t * 10), {{"rate", t}, {"a.total", 2 * t}}});
  samples.push_back({T(5), {{"rate", -1}}});
  ASSERT_TRUE(this->store->record_counters(samples));
  std::vector<CounterSample> seen;
  auto n = this->store->for_each_counter_sample([&](const CounterSample& c) {
    seen.push_back(c);
    return true;
  });
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, 101u);
  ASSERT_EQ(seen.size(), 101u);
  EXPECT_EQ(seen[0].at, T(5));
  EXPECT_EQ(seen[0].values, (std::vector<std::pair<std::string, std::int64_t>>{{"rate", -1}}));
  for (int t = 0; t < 100; ++t) {
    EXPECT_EQ(seen[t + 1].at, T(1000 + t * 10));
    EXPECT_EQ(seen[t + 1].values, (std::vector<std::pair<std::string, std::int64_t>>{{"a.total", 2 * t}, {"rate", t}}));
  }
}

TYPED_TEST(StoreTest, StatsCountEverything) {
  EXPECT_EQ(this->stats(), StoreStats{});
  WriteBatch b;
  b.nodes = {{ep("1.1.1.1:1"), key(1), T(1), true}, {ep("1.1.1.2:1"), key(2), T(1), false}};
  b.sightings = {{key(10), T(1), Source::Sample, 0, 0}, {key(11), T(1), Source::Sample, 0, 0}};
  b.fetch_outcomes = {{key(11), T(2), true}};
  b.torrents = {v1_torrent(12, "a", 3, {{"x", 1}, {"y", 1}, {"z", 1}})};
  b.peers = {{key(10), ep("2.2.2.2:2"), T(3)}, {key(12), ep("2.2.2.2:2"), T(3)}};
  this->write(b);
  EXPECT_EQ(this->stats(), (StoreStats{2, 3, 1, 3, 2, 1, 1}));
  // An empty batch is fine and changes nothing.
  this->write(WriteBatch{});
  EXPECT_EQ(this->stats(), (StoreStats{2, 3, 1, 3, 2, 1, 1}));
}

TYPED_TEST(StoreTest, CounterSeriesDownsampled) {
  std::vector<CounterSample> samples;
  for (int t = 0; t < 100; ++t) samples.push_back({T(1000 + t), {{"rx", t}, {"gauge", t % 10}}});
  ASSERT_TRUE(this->store->record_counters(samples));
  SeriesQuery q{"rx", T(1000), T(1099), 10, Aggregate::Last};
  auto s = this->store->counter_series(q);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_EQ((*s)[i], (SeriesPoint{T(1000 + 10 * static_cast<std::int64_t>(i)), 10.0 * static_cast<double>(i) + 9}));
  }
  q.aggregate = Aggregate::Mean;
  s = this->store->counter_series(q);
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ((*s)[0].value, 4.5);
  EXPECT_DOUBLE_EQ((*s)[9].value, 94.5);
  q.aggregate = Aggregate::Max;
  q.name = "gauge";
  s = this->store->counter_series(q);
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ((*s)[3].value, 9.0);
  // A sub-range with uneven buckets: [1005, 1016] in 5 points is width 3, starting at 1005.
  q = SeriesQuery{"rx", T(1005), T(1016), 5, Aggregate::Last};
  s = this->store->counter_series(q);
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, (std::vector<SeriesPoint>{{T(1005), 7}, {T(1008), 10}, {T(1011), 13}, {T(1014), 16}}));
  // More points than samples: one point per sample; empty buckets omitted.
  ASSERT_TRUE(this->store->record_counters({{T(5000), {{"sparse", 1}}}, {T(5010), {{"sparse", 2}}}}));
  s = this->store->counter_series({"sparse", T(4990), T(5020), 31, Aggregate::Mean});
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, (std::vector<SeriesPoint>{{T(5000), 1}, {T(5010), 2}}));
  // The same instant written twice keeps the last value.
  ASSERT_TRUE(this->store->record_counters({{T(5000), {{"sparse", 7}}}}));
  s = this->store->counter_series({"sparse", T(5000), T(5000), 1, Aggregate::Last});
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, (std::vector<SeriesPoint>{{T(5000), 7}}));

  s = this->store->counter_series({"unknown", T(0), T(10), 5, Aggregate::Last});
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->empty());
  auto names = this->store->counter_names();
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, (std::vector<std::string>{"gauge", "rx", "sparse"}));
  EXPECT_FALSE(this->store->counter_series({"rx", T(10), T(0), 5, Aggregate::Last}));
  EXPECT_FALSE(this->store->counter_series({"rx", T(0), T(10), 0, Aggregate::Last}));
  EXPECT_FALSE(this->store->counter_series({"rx", T(0), T(10), kMaxSeriesPoints + 1, Aggregate::Last}));
}

TYPED_TEST(StoreTest, CounterNamesAreBounded) {
  StoreOptions o;
  o.max_counter_names = 2;
  this->reopen_with(o);
  WriteBatch b;
  b.counters = {{T(1), {{"a", 1}, {"b", 2}, {"c", 3}, {"", 4}, {std::string(65, 'n'), 5}}}};
  EXPECT_EQ(this->write(b).rejected, 3u);
  b.counters = {{T(2), {{"a", 1}, {"c", 3}}}};
  EXPECT_EQ(this->write(b).rejected, 1u);
  auto names = this->store->counter_names();
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b"}));
}

TYPED_TEST(StoreTest, PruneKeepsTheMostRecent) {
  WriteBatch b;
  for (int i = 0; i < 10; ++i) {
    b.nodes.push_back({ep("10.0.0." + std::to_string(i) + ":1"), key(i), T(100 + i), true});
    b.sightings.push_back({key(100 + i), T(100 + i), Source::Sample, 0, 0});
    b.peers.push_back({key(100 + i), ep("10.9.9.9:9"), T(100 + i)});
  }
  b.torrents = {v1_torrent(500, "kept")};
  b.torrents.back().discovered_at = T(1);  // old, but fetched keys are never pruned
  b.counters = {{T(10), {{"c", 1}}}, {T(20), {{"c", 2}}}, {T(30), {{"c", 3}}}};
  this->write(b);
  PruneLimits limits;
  limits.max_nodes = 4;
  limits.max_infohashes_without_metadata = 3;
  limits.counters_before = T(25);
  auto r = this->store->prune(limits);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (PruneReport{6, 7, 2}));
  auto nodes = this->store->good_nodes(100);
  ASSERT_TRUE(nodes);
  ASSERT_EQ(nodes->size(), 4u);
  EXPECT_EQ(nodes->back().last_seen, T(106));
  EXPECT_TRUE(this->store->infohash(key(109))->has_value());
  EXPECT_TRUE(this->store->infohash(key(107))->has_value());
  EXPECT_FALSE(this->store->infohash(key(106))->has_value());
  EXPECT_TRUE(this->store->infohash(key(500))->has_value());
  EXPECT_EQ(this->stats(), (StoreStats{4, 4, 1, 1, 3, 3, 0}));
  auto c = this->store->counter_series({"c", T(0), T(100), 100, Aggregate::Last});
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, (std::vector<SeriesPoint>{{T(30), 3}}));
  // Within the limits: nothing to do.
  r = this->store->prune(limits);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, PruneReport{});
}

TYPED_TEST(StoreTest, IsFetchedBatchIsBounded) {
  std::vector<InfoHash> keys(kMaxIsFetchedBatch + 1);
  auto r = this->store->is_fetched(keys);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
}

// ---------------------------------------------------------------- instances and claims

InstanceInfo instance_info(int n, std::int64_t started) {
  InstanceInfo i;
  i.node_id = key(n, "node");
  i.listen = "127.0.0." + std::to_string(n) + ":6881";
  i.host = "host-" + std::to_string(n);
  i.started = T(started);
  return i;
}

TYPED_TEST(StoreTest, InstancesRegisterBeatAndListTheLiveOnes) {
  auto a = this->store->register_instance(instance_info(1, 1000));
  auto b = this->store->register_instance(instance_info(2, 1010));
  auto c = this->store->register_instance(instance_info(3, 1020));
  ASSERT_TRUE(a && b && c);
  EXPECT_LT(*a, *b);
  EXPECT_LT(*b, *c);
  Heartbeat hb{T(1100), 40, 7, 1.5, 0.25, 300, false};
  ASSERT_TRUE(this->store->heartbeat(*a, hb));
  ASSERT_TRUE(this->store->heartbeat(*b, {T(1100), 1, 1, 0, 0, 0, true}));  // stopped cleanly

  auto all = this->store->instances({});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, *a);
  EXPECT_EQ((*all)[0].info, instance_info(1, 1000));
  EXPECT_EQ((*all)[0].last, hb);
  EXPECT_TRUE((*all)[1].last.stopped);
  EXPECT_EQ((*all)[2].last.at, T(1020));  // no heartbeat yet: the start
  EXPECT_EQ((*all)[2].last.torrents, 0u);

  // Live: not stopped, a heartbeat since then. Limit: the newest, still in id order.
  auto live = this->store->instances({100, T(1050)});
  ASSERT_TRUE(live);
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ(live->front().id, *a);
  auto newest = this->store->instances({2, std::nullopt});
  ASSERT_TRUE(newest);
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ(newest->front().id, *b);

  auto unknown = this->store->heartbeat(*c + 100, hb);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::InvalidArgument);
  EXPECT_FALSE(this->store->instances({kMaxInstancesLimit + 1, std::nullopt}));

  // A week without a heartbeat: forgotten when the next instance registers; ids never reused.
  const auto later = 1100 + kForgetInstancesAfter.count() + 1;
  auto d = this->store->register_instance(instance_info(4, later));
  ASSERT_TRUE(d);
  EXPECT_GT(*d, *c);
  all = this->store->instances({});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().id, *d);
}

// One crawler per database (and the shared store seen by one instance): a claim grants every
// key without a stored torrent, claim_pending() is pending_fetch().
TYPED_TEST(StoreTest, AClaimGrantsWhatIsNotFetched) {
  auto me = this->store->register_instance(instance_info(1, 1000));
  ASSERT_TRUE(me);
  WriteBatch b;
  b.sightings = {{key(1), T(100), Source::Sample, 0, 5}, {key(2), T(101), Source::Sample, 0, 9}};
  b.torrents = {v1_torrent(3, "stored")};
  this->write(b);
  const Lease lease{*me, T(1000), T(4600), T(970)};
  const std::vector<InfoHash> keys{key(1), key(3), key(4)};
  auto c = this->store->claim(keys, lease);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(*c, (std::vector<bool>{true, false, true}));
  auto again = this->store->claim(keys, lease);  // one's own lease is renewed
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *c);
  auto p = this->store->claim_pending({10, std::nullopt}, lease);
  ASSERT_TRUE(p) << p.error().message;
  auto plain = this->store->pending_fetch({10, std::nullopt});
  ASSERT_TRUE(plain);
  EXPECT_EQ(*p, *plain);
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ(p->front().infohash, key(2));  // priority order, as pending_fetch()
  EXPECT_FALSE(this->store->claim(std::vector<InfoHash>(kMaxIsFetchedBatch + 1), lease));
}

}  // namespace
}  // namespace bitscrape::storage
