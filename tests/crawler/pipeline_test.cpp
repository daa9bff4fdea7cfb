#include "crawler/pipeline.hpp"

#include "bencode/encoder.hpp"
#include "metainfo/verify.hpp"

#include <gtest/gtest.h>

#include <map>

namespace bitscrape::crawler {
namespace {

using dht::InfohashSource;

InfoHash key(int n) {
  InfoHash h;
  h.bytes[0] = static_cast<std::uint8_t>(n);
  h.bytes[19] = static_cast<std::uint8_t>(n >> 8);
  return h;
}
Endpoint peer(int n) { return Endpoint{IpAddress::v4(0x05000000u + static_cast<std::uint32_t>(n)), 6881}; }

struct FakeEnv : PipelineEnv {
  std::vector<InfoHash> lookups;
  std::map<InfoHash, std::vector<krpc::CompactNode>> holders;  // asked first, per lookup
  std::map<InfoHash, std::vector<Endpoint>> fetches;
  std::vector<int> fetch_priorities;
  std::set<InfoHash> in_db;
  std::set<InfoHash> held_elsewhere;  // leased to another crawler sharing the database
  std::vector<InfoHash> claimed;      // every key claimed, in order (renewals too)
  storage::UnixTime wall = storage::from_unix(1'700'000'000);
  std::vector<storage::StoreWriter::Record> records;
  std::size_t backlog = 0;
  bool refuse_lookups = false;
  bool fetch_full = false;
  dht::LookupId next_id = 1;

  dht::LookupId start_get_peers(const InfoHash& ih, dht::TimePoint,
                                std::span<const krpc::CompactNode> holders_) override {
    holders[ih].assign(holders_.begin(), holders_.end());
    if (refuse_lookups) return dht::kNoLookup;
    lookups.push_back(ih);
    return next_id++;
  }
  bool fetch(const InfoHash& ih, std::span<const Endpoint> peers, int priority) override {
    if (fetch_full) return false;
    auto& v = fetches[ih];
    v.insert(v.end(), peers.begin(), peers.end());
    fetch_priorities.push_back(priority);
    return true;
  }
  std::size_t fetch_backlog() const override { return backlog; }
  std::vector<bool> claim(std::span<const InfoHash> keys) override {
    std::vector<bool> out;
    for (const auto& k : keys) {
      claimed.push_back(k);
      out.push_back(in_db.count(k) == 0 && held_elsewhere.count(k) == 0);
    }
    return out;
  }
  void record(storage::StoreWriter::Record r) override { records.push_back(std::move(r)); }
  storage::UnixTime wall_now() const override { return wall; }

  template <class T>
  std::vector<T> of() const {
    std::vector<T> out;
    for (const auto& r : records) {
      if (auto* x = std::get_if<T>(&r)) out.push_back(*x);
    }
    return out;
  }
};

dht::TimePoint t0{};

TEST(Pipeline, NewInfohashIsRecordedCheckedAndLookedUpOnce) {
  FakeEnv env;
  Pipeline p(env, {});
  p.on_infohash_seen(key(1), InfohashSource::Sample, peer(100));
  p.on_infohash_seen(key(1), InfohashSource::Sample, peer(101));  // dedupe
  EXPECT_EQ(env.of<storage::InfohashSighting>().size(), 1u);
  EXPECT_EQ(p.counters().known_duplicates, 1u);
  p.tick(t0);
  ASSERT_EQ(env.lookups.size(), 1u);
  EXPECT_EQ(env.lookups[0], key(1));
  p.tick(t0);
  EXPECT_EQ(env.lookups.size(), 1u);  // no second lookup
}

TEST(Pipeline, PrioritisesAnnouncedThenQueriedThenSampled) {
  FakeEnv env;
  PipelineConfig cfg;
  Pipeline p(env, cfg);
  p.on_infohash_seen(key(1), InfohashSource::Sample, peer(1));
  p.on_infohash_seen(key(2), InfohashSource::GetPeersQuery, peer(2));
  p.on_infohash_seen(key(3), InfohashSource::Sample, peer(3));
  p.on_infohash_seen(key(3), InfohashSource::GetPeersQuery, peer(4));  // seen from a second kind of source
  p.tick(t0);
  // key(2) = get_peers 20; key(3) = sample 10 + a new kind of source, get_peers, +10 = 20, queued
  // after key(2); key(1) = sample 10.
  ASSERT_EQ(env.lookups.size(), 3u);
  EXPECT_EQ(env.lookups[0], key(2));
  EXPECT_EQ(env.lookups[1], key(3));
  EXPECT_EQ(env.lookups[2], key(1));
}

TEST(Pipeline, AnnouncedInfohashIsFetchedFromItsAnnouncerWithoutALookup) {
  FakeEnv env;
  PipelineConfig cfg;
  cfg.allow_private_addresses = true;
  Pipeline p(env, cfg);
  p.on_infohash_seen(key(7), InfohashSource::AnnouncePeerQuery, peer(70));
  p.tick(t0);
  EXPECT_TRUE(env.lookups.empty());
  ASSERT_EQ(env.fetches.count(key(7)), 1u);
  EXPECT_EQ(env.fetches[key(7)], std::vector<Endpoint>{peer(70)});
  // A second announcer joins the running fetch as a candidate.
  p.on_infohash_seen(key(7), InfohashSource::AnnouncePeerQuery, peer(71));
  EXPECT_EQ(env.fetches[key(7)], (std::vector<Endpoint>{peer(70), peer(71)}));
  // The announcers fail: a lookup follows instead of giving up.
  FetchOutcome fail{key(7), std::nullopt, {FetchAttempt{peer(70)}}};
  p.on_fetch_outcome(fail);
  EXPECT_TRUE(env.of<storage::FetchOutcome>().empty());
  p.tick(t0);
  EXPECT_EQ(env.lookups, std::vector<InfoHash>{key(7)});
}

// A liar announcing a key says nothing about the torrent's honest seeders: when only the
// announcers were tried and all of them lied (or were known liars, so nobody was asked), the key
// is looked up; it is not given up on. (A liar announcing every torrent used to get the keys it
// announced first marked failed for good.)
TEST(Pipeline, AnnouncersThatLieLeadToALookupNotAVerdict) {
  FakeEnv env;
  PipelineConfig cfg;
  cfg.allow_private_addresses = true;
  Pipeline p(env, cfg);
  p.on_infohash_seen(key(7), InfohashSource::AnnouncePeerQuery, peer(70));
  p.on_infohash_seen(key(8), InfohashSource::AnnouncePeerQuery, peer(70));
  p.tick(t0);
  EXPECT_TRUE(env.lookups.empty());
  FetchAttempt lied{peer(70)};
  lied.liar = true;
  p.on_fetch_outcome(FetchOutcome{key(7), std::nullopt, {lied}});
  p.on_fetch_outcome(FetchOutcome{key(8), std::nullopt, {}});  // known liar: nobody asked
  EXPECT_TRUE(env.of<storage::FetchOutcome>().empty());
  p.tick(t0);
  EXPECT_EQ(env.lookups, (std::vector<InfoHash>{key(7), key(8)}));
}

// The node whose BEP-51 sample showed a key stores that key: its lookup asks it first.
TEST(Pipeline, SampledKeysAreAskedOfTheNodeThatSampledThem) {
  FakeEnv env;
  Pipeline p(env, {});
  std::string blob;
  for (int i : {1, 2}) blob.append(reinterpret_cast<const char*>(key(i).bytes.data()), InfoHash::kSize);
  const auto samples = krpc::SampleList::from(blob);
  ASSERT_TRUE(samples);
  dht::SampleEvent ev;
  ev.from = peer(40);
  ev.id = key(40);
  ev.samples = *samples;
  p.on_infohash_seen(key(1), InfohashSource::Sample, ev.from);
  p.on_infohash_seen(key(2), InfohashSource::Sample, ev.from);
  p.on_infohash_seen(key(3), InfohashSource::GetPeersQuery, peer(41));  // not in the sample
  p.on_sample(ev);
  p.tick(t0);
  ASSERT_EQ(env.lookups.size(), 3u);
  for (int i : {1, 2}) {
    ASSERT_EQ(env.holders[key(i)].size(), 1u);
    EXPECT_EQ(env.holders[key(i)][0].id, key(40));
    EXPECT_EQ(env.holders[key(i)][0].endpoint, peer(40));
  }
  EXPECT_TRUE(env.holders[key(3)].empty());  // a querier does not store the key: full lookup
}

TEST(Pipeline, MartianAnnouncersAreIgnoredUnlessAllowed) {
  FakeEnv env;
  Pipeline p(env, {});
  p.on_infohash_seen(key(8), InfohashSource::AnnouncePeerQuery, *Endpoint::parse("192.168.1.5:6881"));
  p.tick(t0);
  EXPECT_TRUE(env.fetches.empty());
  EXPECT_EQ(env.lookups.size(), 1u);
}

TEST(Pipeline, KeysFetchedInAnEarlierRunAreSkipped) {
  FakeEnv env;
  env.in_db.insert(key(5));
  Pipeline p(env, {});
  p.on_infohash_seen(key(5), InfohashSource::Sample, peer(1));
  p.on_infohash_seen(key(6), InfohashSource::Sample, peer(1));
  p.tick(t0);
  EXPECT_EQ(env.lookups, std::vector<InfoHash>{key(6)});
  EXPECT_EQ(p.counters().claims_refused, 1u);
  p.on_infohash_seen(key(5), InfohashSource::Sample, peer(2));  // let go: not asked again
  EXPECT_EQ(env.of<storage::InfohashSighting>().size(), 2u);
  EXPECT_EQ(env.claimed.size(), 2u);
}

storage::InfohashRecord pending_record(const InfoHash& ih) {
  storage::InfohashRecord r;
  r.infohash = ih;
  r.state = storage::FetchState::Pending;
  r.priority = 10;
  return r;
}

TEST(Pipeline, AKeyAnotherCrawlerHoldsIsLetGoAndComesBackThroughRefill) {
  FakeEnv env;
  env.held_elsewhere.insert(key(7));
  Pipeline p(env, {});
  p.on_infohash_seen(key(7), InfohashSource::Sample, peer(1));
  p.tick(t0);
  EXPECT_TRUE(env.lookups.empty());
  EXPECT_EQ(p.counters().claims_refused, 1u);
  // That crawler died; its lease lapsed and the runtime's claim_pending() hands the key to us.
  env.held_elsewhere.clear();
  const auto rec = pending_record(key(7));
  p.refill(std::span<const storage::InfohashRecord>(&rec, 1));
  p.tick(t0);
  EXPECT_EQ(env.lookups, std::vector<InfoHash>{key(7)});
}

TEST(Pipeline, LeasesAreRenewedInFlightAndBeforeALookupAfterWaiting) {
  FakeEnv env;
  PipelineConfig cfg;
  cfg.max_lookups = 1;
  cfg.governor.min_lookups = 1;  // one lookup at a time, whatever the budget
  cfg.lease = std::chrono::seconds(600);
  Pipeline p(env, cfg);
  p.on_infohash_seen(key(1), InfohashSource::Sample, peer(1));
  p.on_infohash_seen(key(2), InfohashSource::Sample, peer(1));
  p.tick(t0);
  ASSERT_EQ(env.lookups, std::vector<InfoHash>{key(1)});  // key(2) waits for room
  EXPECT_EQ(env.claimed.size(), 2u);
  env.wall += std::chrono::seconds(299);
  p.tick(t0);
  EXPECT_EQ(env.claimed.size(), 2u);  // not half gone yet
  // In-flight leases are looked at every quarter lease: renewed between half and three
  // quarters of the lease, well before it runs out.
  env.wall += std::chrono::seconds(151);
  p.tick(t0);
  // In flight: key(1) claimed again. key(2) is not at the head of a free slot: not yet.
  ASSERT_EQ(env.claimed.size(), 3u);
  EXPECT_EQ(env.claimed.back(), key(1));
  EXPECT_EQ(p.counters().leases_renewed, 1u);
  // key(1)'s lookup ends without peers; key(2), claimed 300 s ago, is claimed again first.
  dht::LookupResult done;
  done.id = 1;
  p.on_lookup_done(done);
  p.tick(t0);
  ASSERT_EQ(env.claimed.size(), 4u);
  EXPECT_EQ(env.claimed.back(), key(2));
  EXPECT_EQ(env.lookups, (std::vector<InfoHash>{key(1), key(2)}));
}

TEST(Pipeline, ARenewalRefusedLetsTheKeyGo) {
  FakeEnv env;
  PipelineConfig cfg;
  cfg.max_lookups = 1;
  cfg.governor.min_lookups = 1;  // one lookup at a time, whatever the budget
  Pipeline p(env, cfg);
  p.on_infohash_seen(key(1), InfohashSource::Sample, peer(1));
  p.on_infohash_seen(key(2), InfohashSource::Sample, peer(1));
  p.tick(t0);
  ASSERT_EQ(env.lookups, std::vector<InfoHash>{key(1)});
  // We stalled past half the lease; another crawler took key(1) over and key(2) is stored.
  env.held_elsewhere.insert(key(1));
  env.in_db.insert(key(2));
  env.wall += cfg.lease;
  p.tick(t0);
  // key(1) in flight and key(2) at the queue head: both let go, no new lookup.
  EXPECT_EQ(p.counters().leases_lost, 2u);
  EXPECT_EQ(env.lookups.size(), 1u);
  dht::LookupResult done;
  done.id = 1;
  p.on_lookup_done(done);  // the lookup ran on: its end is ignored (no attempt recorded)
  EXPECT_TRUE(env.of<storage::FetchOutcome>().empty());
}

TEST(Pipeline, LookupPeersGoToTheFetcherBoundedAndRecorded) {
  FakeEnv env;
  PipelineConfig cfg;
  cfg.peers_per_infohash = 3;
  Pipeline p(env, cfg);
  p.on_infohash_seen(key(1), InfohashSource::Sample, peer(1));
  p.tick(t0);
  std::vector<Endpoint> found{peer(10), peer(11), peer(10), peer(12), peer(13)};
  p.on_peers_found(1, key(1), found);
  p.on_peers_found(99, key(1), found);  // unknown lookup id: ignored
  dht::LookupResult r;
  r.id = 1;
  r.target = key(1);
  p.on_lookup_done(r);
  ASSERT_EQ(env.fetches.count(key(1)), 1u);
  EXPECT_EQ(env.fetches[key(1)], (std::vector<Endpoint>{peer(10), peer(11), peer(12)}));
  EXPECT_EQ(env.of<storage::PeerRecord>().size(), 3u);
}

TEST(Pipeline, LookupWithoutPeersRecordsAnAttempt) {
  FakeEnv env;
  Pipeline p(env, {});
  p.on_infohash_seen(key(1), InfohashSource::Sample, peer(1));
  p.tick(t0);
  dht::LookupResult r;
  r.id = 1;
  p.on_lookup_done(r);
  const auto outcomes = env.of<storage::FetchOutcome>();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_FALSE(outcomes[0].permanent_failure);
  EXPECT_EQ(p.counters().lookups_no_peers, 1u);
  EXPECT_EQ(p.lookups_active(), 0u);
}

std::string info_dict(const std::string& name) {
  bencode::Item info;
  info["name"] = name;
  info["length"] = 5;
  info["piece length"] = 16384;
  info["pieces"] = std::string(20, 'x');
  return info.encode();
}

TEST(Pipeline, VerifiedMetadataBecomesATorrentRecord) {
  FakeEnv env;
  Pipeline p(env, {});
  const std::string info = info_dict("hello");
  const InfoHash ih = metainfo::hash_info(info).v1;
  p.on_infohash_seen(ih, InfohashSource::Sample, peer(1));
  p.tick(t0);
  peerwire::FetchSuccess s;
  s.info = info;
  s.key = metainfo::KeyMatch::V1;
  FetchAttempt ok;
  ok.peer = peer(9);
  ok.ok = true;
  p.on_fetch_outcome(FetchOutcome{ih, s, {ok}});
  const auto torrents = env.of<storage::TorrentRecord>();
  ASSERT_EQ(torrents.size(), 1u);
  EXPECT_EQ(torrents[0].name, "hello");
  EXPECT_EQ(torrents[0].infohash_v1, ih);
  EXPECT_EQ(torrents[0].total_size, 5);
  EXPECT_EQ(torrents[0].info_dict, info);
  ASSERT_EQ(torrents[0].files.size(), 1u);
  EXPECT_EQ(torrents[0].files[0].path, "hello");
  EXPECT_EQ(p.known().get(ih), KnownSet::State::Fetched);
  // Seen again later: a duplicate, no new lookup.
  p.on_infohash_seen(ih, InfohashSource::Sample, peer(2));
  p.tick(t0);
  EXPECT_EQ(env.lookups.size(), 1u);
}

TEST(Pipeline, MetadataThatDoesNotParseIsAPermanentFailure) {
  FakeEnv env;
  Pipeline p(env, {});
  const std::string junk = "d3:fooi1ee";  // hashes to its key but is no info dict
  const InfoHash ih = metainfo::hash_info(junk).v1;
  p.on_infohash_seen(ih, InfohashSource::Sample, peer(1));
  p.tick(t0);
  peerwire::FetchSuccess s;
  s.info = junk;
  p.on_fetch_outcome(FetchOutcome{ih, s, {}});
  EXPECT_TRUE(env.of<storage::TorrentRecord>().empty());
  const auto outcomes = env.of<storage::FetchOutcome>();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].permanent_failure);
}

TEST(Pipeline, FailedRoundsGiveUpAfterTheLimitOrOnLiars) {
  FakeEnv env;
  PipelineConfig cfg;
  cfg.max_fetch_rounds = 3;
  Pipeline p(env, cfg);
  storage::InfohashRecord a;
  a.infohash = key(1);
  a.fetch_attempts = 2;  // this is its third round
  storage::InfohashRecord b;
  b.infohash = key(2);
  std::vector<storage::InfohashRecord> pending{a, b};
  p.refill(pending);
  EXPECT_EQ(p.counters().refilled, 2u);
  p.tick(t0);
  FetchAttempt plain;
  plain.peer = peer(1);
  FetchAttempt liar;
  liar.peer = peer(2);
  liar.liar = true;
  // Both were looked up (refilled keys skip the database check).
  for (auto [id, ih] : {std::pair<dht::LookupId, InfoHash>{1, key(1)}, {2, key(2)}}) {
    std::vector<Endpoint> ps{peer(3)};
    p.on_peers_found(id, ih, ps);
    dht::LookupResult r;
    r.id = id;
    p.on_lookup_done(r);
  }
  p.on_fetch_outcome(FetchOutcome{key(1), std::nullopt, {plain}});
  p.on_fetch_outcome(FetchOutcome{key(2), std::nullopt, {liar}});
  const auto outcomes = env.of<storage::FetchOutcome>();
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_TRUE(outcomes[0].permanent_failure);  // third failed round
  EXPECT_TRUE(outcomes[1].permanent_failure);  // every peer lied
}

TEST(Pipeline, BoundsHoldAndBackPressureStopsLookups) {
  FakeEnv env;
  PipelineConfig cfg;
  cfg.max_lookup_queue = 10;
  cfg.max_lookups = 3;
  cfg.max_fetch_backlog = 5;
  Pipeline p(env, cfg);
  for (int i = 0; i < 25; ++i) p.on_infohash_seen(key(i), InfohashSource::Sample, peer(i));
  EXPECT_EQ(p.counters().lookup_queue_drops, 15u);
  EXPECT_EQ(env.of<storage::InfohashSighting>().size(), 25u);  // every key is in the database
  env.backlog = 5;
  p.tick(t0);
  EXPECT_TRUE(env.lookups.empty());  // the fetcher is behind: no new lookups
  env.backlog = 0;
  p.tick(t0);
  EXPECT_EQ(env.lookups.size(), 3u);  // concurrency bound
  env.refuse_lookups = true;
  dht::LookupResult r;
  r.id = 1;
  p.on_lookup_done(r);
  p.tick(t0);
  EXPECT_EQ(p.counters().lookups_refused, 1u);
}

TEST(Pipeline, PausedSamplingIgnoresSamplesPausedFetchingStartsNothing) {
  FakeEnv env;
  Pipeline p(env, {});
  p.set_sampling(false);
  p.on_infohash_seen(key(1), InfohashSource::Sample, peer(1));
  EXPECT_TRUE(env.records.empty());
  p.on_infohash_seen(key(2), InfohashSource::GetPeersQuery, peer(1));  // still captured
  p.set_fetching(false);
  p.tick(t0);
  EXPECT_TRUE(env.lookups.empty());
  p.set_fetching(true);
  p.tick(t0);
  EXPECT_EQ(env.lookups.size(), 1u);
}

TEST(KnownSet, StatesAndCapacity) {
  KnownSet s(4);
  EXPECT_EQ(s.get(key(1)), KnownSet::State::Unknown);
  EXPECT_TRUE(s.set(key(1), KnownSet::State::Seen));
  EXPECT_EQ(s.get(key(1)), KnownSet::State::Seen);
  EXPECT_TRUE(s.set(key(1), KnownSet::State::Fetched));
  EXPECT_TRUE(s.set(key(1), KnownSet::State::Seen));  // never downgraded
  EXPECT_EQ(s.get(key(1)), KnownSet::State::Fetched);
  int stored = 1;
  for (int i = 2; i < 100; ++i) stored += s.set(key(i), KnownSet::State::Seen) ? 1 : 0;
  EXPECT_EQ(static_cast<std::size_t>(stored), s.capacity());
  EXPECT_TRUE(s.full());
  EXPECT_EQ(s.get(key(99)), KnownSet::State::Unknown);
  EXPECT_EQ(KnownSet::capacity_for_bytes(16u << 20), 1u << 20);
}

}  // namespace
}  // namespace bitscrape::crawler

namespace bitscrape::crawler {
namespace {

TEST(KnownSet, RemembersSourcesAcrossStates) {
  KnownSet s(16);
  EXPECT_EQ(s.add_sources(key(1), 1), 0);  // unknown key
  s.set(key(1), KnownSet::State::Seen);
  EXPECT_EQ(s.add_sources(key(1), 1), 1);
  EXPECT_EQ(s.add_sources(key(1), 3), 2);
  EXPECT_EQ(s.add_sources(key(1), 3), 0);
  s.set(key(1), KnownSet::State::Fetched);
  EXPECT_EQ(s.get(key(1)), KnownSet::State::Fetched);
  EXPECT_EQ(s.add_sources(key(1), 4), 4);  // sources survive the state change
  EXPECT_EQ(s.add_sources(key(1), 7), 0);
}

TEST(Pipeline, EachNewKindOfSourceReachesTheDatabaseOnceEvenAfterFetch) {
  FakeEnv env;
  Pipeline p(env, {});
  const std::string info = info_dict("x");
  const InfoHash ih = metainfo::hash_info(info).v1;
  p.on_infohash_seen(ih, InfohashSource::GetPeersQuery, peer(1));
  p.on_infohash_seen(ih, InfohashSource::GetPeersQuery, peer(2));
  p.tick(t0);
  peerwire::FetchSuccess s;
  s.info = info;
  p.on_fetch_outcome(FetchOutcome{ih, s, {}});
  p.on_infohash_seen(ih, InfohashSource::Sample, peer(3));
  p.on_infohash_seen(ih, InfohashSource::Sample, peer(4));
  const auto sightings = env.of<storage::InfohashSighting>();
  ASSERT_EQ(sightings.size(), 2u);
  EXPECT_EQ(sightings[0].source, storage::Source::GetPeers);
  EXPECT_EQ(sightings[1].source, storage::Source::Sample);
}

}  // namespace
}  // namespace bitscrape::crawler

namespace bitscrape::crawler {
namespace {

TEST(KnownSet, GrowsWithTheKeysUpToItsCapacity) {
  KnownSet s(100'000);
  const auto small = s.memory_bytes();
  EXPECT_LE(small, 64u * 1024);  // starts small
  for (int i = 0; i < 50'000; ++i) {
    InfoHash h;
    h.bytes[0] = static_cast<std::uint8_t>(i);
    h.bytes[1] = static_cast<std::uint8_t>(i >> 8);
    h.bytes[2] = static_cast<std::uint8_t>(i >> 16);
    h.bytes[7] = static_cast<std::uint8_t>(i * 7);
    ASSERT_TRUE(s.set(h, i % 2 ? KnownSet::State::Seen : KnownSet::State::Fetched));
    s.add_sources(h, 1);
  }
  EXPECT_EQ(s.size(), 50'000u);
  EXPECT_GT(s.memory_bytes(), small);
  EXPECT_LE(s.memory_bytes(), 50'000u * 8 * 4);
  for (int i = 0; i < 50'000; ++i) {  // everything survives the rehashes, state and sources
    InfoHash h;
    h.bytes[0] = static_cast<std::uint8_t>(i);
    h.bytes[1] = static_cast<std::uint8_t>(i >> 8);
    h.bytes[2] = static_cast<std::uint8_t>(i >> 16);
    h.bytes[7] = static_cast<std::uint8_t>(i * 7);
    ASSERT_EQ(s.get(h), i % 2 ? KnownSet::State::Seen : KnownSet::State::Fetched);
    ASSERT_EQ(s.add_sources(h, 1), 0);
  }
}

}  // namespace
}  // namespace bitscrape::crawler
