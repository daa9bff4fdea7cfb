// What only the PostgreSQL store has: connection errors, migrations on a server, read-only
// sessions, any bytes in names, reconnecting. The shared behaviour is in store_test.cpp.
// Every test here has "Postgres" in its name: ctest gives them the storage_postgres fixture.
#include "storage/pg_store.hpp"
#include "pg_test_db.hpp"
#include "storage/open_store.hpp"
#include "storage_test_util.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace bitscrape::storage {
namespace {

using namespace bitscrape::storage::testing;

// A plain libpq connection for looking behind the store's back.
class Psql {
 public:
  explicit Psql(const std::string& uri) : c_(PQconnectdb(uri.c_str())) {
    if (PQstatus(c_) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(c_));
  }
  ~Psql() { PQfinish(c_); }
  Psql(const Psql&) = delete;
  Psql& operator=(const Psql&) = delete;
  // The first column of the first row ("" when none); throws on an error.
  std::string value(const std::string& sql) {
    PGresult* r = PQexec(c_, sql.c_str());
    const auto st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      const std::string msg = PQresultErrorMessage(r);
      PQclear(r);
      throw std::runtime_error(sql + ": " + msg);
    }
    std::string out = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    return out;
  }

 private:
  PGconn* c_;
};

std::unique_ptr<Store> open_or_die(const std::string& uri, const PgOptions& o = {}) {
  auto s = open_pg_store(uri, o);
  if (!s) throw std::runtime_error(s.error().message);
  return std::move(s.value());
}

TEST(PostgresStore, ConnectionRefusedSaysWhatToFix) {
  // Nothing listens on port 1 of this loopback address (our range: 127.0.40.0/24).
  auto s = open_store("postgresql://bitscrape@127.0.40.1:1/bitscrape");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::Io);
  EXPECT_EQ(s.error().message,
            "cannot connect to 127.0.40.1:1: connection refused \u2014 is PostgreSQL running? check --db");
}

TEST(PostgresStore, UnknownDatabaseSaysHowToCreateIt) {
  const std::string uri =
      test_support::pg_detail::with_database(test_support::pg_detail::server_uri(), "nope");
  auto s = open_store(uri);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("database \"nope\" does not exist"), std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find("createdb"), std::string::npos) << s.error().message;
}

TEST(PostgresStore, UriDetectionAndRedaction) {
  EXPECT_TRUE(is_postgres_uri("postgresql://h/db"));
  EXPECT_TRUE(is_postgres_uri("postgres://h/db"));
  EXPECT_FALSE(is_postgres_uri("/var/lib/bitscrape.db"));
  EXPECT_FALSE(is_postgres_uri("postgresql.db"));
  EXPECT_EQ(redact_uri("postgresql://u:secret@h:5432/db"), "postgresql://u:***@h:5432/db");
  EXPECT_EQ(redact_uri("postgresql://u@h/db?password=secret&sslmode=require"),
            "postgresql://u@h/db?password=***&sslmode=require");
  EXPECT_EQ(describe_target("/tmp/x.db"), "/tmp/x.db");
}

TEST(PostgresStore, MigrationsAreRecordedAndANewerSchemaIsRefused) {
  const std::string uri = test_support::fresh_pg_database();
  { auto s = open_or_die(uri); }
  Psql sql(uri);
  EXPECT_EQ(sql.value("SELECT max(version) FROM schema_version"), std::to_string(pg_migrations().size()));
  { auto again = open_or_die(uri); }  // reopening applies nothing twice
  EXPECT_EQ(sql.value("SELECT count(*) FROM schema_version"), std::to_string(pg_migrations().size()));
  sql.value("INSERT INTO schema_version VALUES (99, 'from the future', 0)");
  auto s = open_pg_store(uri);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::SchemaTooNew);
}

TEST(PostgresStore, AFailedMigrationRollsBackCompletely) {
  const std::string uri = test_support::fresh_pg_database();
  const Migration bad[] = {
      pg_migrations()[0],
      {2, "half done", "CREATE TABLE half (x int); SELECT no_such_function();"},
  };
  auto s = open_pg_store(uri, PgOptions{}, bad);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::Migration);
  EXPECT_NE(s.error().message.find("stays at v1"), std::string::npos) << s.error().message;
  Psql sql(uri);
  EXPECT_EQ(sql.value("SELECT max(version) FROM schema_version"), "1");
  EXPECT_EQ(sql.value("SELECT to_regclass('half') IS NULL"), "t");
}

TEST(PostgresStore, ReadOnlyRefusesWritesAndNeedsACurrentSchema) {
  const std::string uri = test_support::fresh_pg_database();
  PgOptions ro;
  ro.read_only = true;
  auto early = open_pg_store(uri, ro);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, ErrorCode::Migration);
  { auto rw = open_or_die(uri); }
  auto r = open_or_die(uri, ro);
  auto w = r->upsert_nodes({{ep("1.2.3.4:5"), key(1), T(100), true}});
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, ErrorCode::ReadOnly);
  auto st = r->stats();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->nodes, 0u);
}

TEST(PostgresStore, NamesWithAnyBytesRoundTrip) {
  // PostgreSQL text refuses NUL and invalid UTF-8; the store takes any bytes, as SQLite does.
  auto s = open_or_die(test_support::fresh_pg_database());
  const std::string name = std::string("caf\xE9 bar\0baz ", 14) + "\xF0\x9F\x8E\xB5 tune";
  TorrentRecord t = v1_torrent(1, name, 10, {{"dir\xFF/a.txt", 4}, {"dir\xFF/b.txt", 6}});
  ASSERT_TRUE(s->store_torrents({t}));
  auto back = s->torrent(key(1));
  ASSERT_TRUE(back);
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ((*back)->name, name);
  EXPECT_EQ((*back)->files, t.files);
  SearchQuery q;
  q.text = "bar tune";
  auto page = s->search(q);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].name, name);
}

TEST(PostgresStore, ALostConnectionIsTransientAndTheNextCallReconnects) {
  const std::string uri = test_support::fresh_pg_database();
  auto s = open_or_die(uri);
  ASSERT_TRUE(s->upsert_nodes({{ep("1.2.3.4:5"), key(1), T(100), true}}));
  Psql admin(uri);
  admin.value("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'bitscrape'");
  auto lost = s->stats();
  if (!lost) {
    EXPECT_EQ(lost.error().code, ErrorCode::Io) << lost.error().message;
    EXPECT_TRUE(lost.error().transient());
  }
  auto again = s->stats();
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->nodes, 1u);
}

TEST(PostgresStore, LongTokensAndHugeDocumentsIndex) {
  // Lexemes over PostgreSQL's 2047-byte limit are cut, not an error; a prefix still finds them.
  auto s = open_or_die(test_support::fresh_pg_database());
  const std::string long_token(3000, 'x');
  std::vector<FileRecord> files;
  for (int i = 0; i < 2000; ++i)
    files.push_back({"d/file" + std::to_string(i) + "word" + std::to_string(i * 7), 1});
  auto w = s->store_torrents({v1_torrent(1, "big " + long_token, 2000, files)});
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w->torrents_added, 1u);
  SearchQuery q;
  q.text = std::string(40, 'x');
  auto page = s->search(q);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->items.size(), 1u);
}

// ---------------------------------------------------------------- many crawlers, one database

// Two crawlers: two stores (two connections) on one database, each a registered instance.
struct TwoCrawlers {
  std::string uri = test_support::fresh_pg_database();
  std::unique_ptr<Store> a = open_or_die(uri), b = open_or_die(uri);
  std::int64_t ia = 0, ib = 0;
  TwoCrawlers() {
    InstanceInfo info;
    info.started = T(1000);
    auto x = a->register_instance(info);
    auto y = b->register_instance(info);
    if (!x || !y) throw std::runtime_error("register_instance failed");
    ia = *x;
    ib = *y;
  }
  // Leases until 1000 + 3600; holders need a heartbeat since `alive` to hold anything.
  Lease of(std::int64_t who, std::int64_t now = 1000, std::int64_t alive = 970) const {
    return Lease{who, T(now), T(1000 + 3600), T(alive)};
  }
};

std::vector<InfoHash> keys_of(int from, int to) {
  std::vector<InfoHash> out;
  for (int i = from; i < to; ++i) out.push_back(key(i));
  return out;
}

TEST(PostgresLeases, AKeyLeasedToALiveInstanceIsNeverGrantedToAnother) {
  TwoCrawlers t;
  const auto k = keys_of(0, 4);
  auto ga = t.a->claim(k, t.of(t.ia));
  ASSERT_TRUE(ga) << ga.error().message;
  EXPECT_EQ(*ga, std::vector<bool>(4, true));
  auto gb = t.b->claim(keys_of(2, 6), t.of(t.ib));
  ASSERT_TRUE(gb);
  EXPECT_EQ(*gb, (std::vector<bool>{false, false, true, true}));  // 2, 3 are a's
  EXPECT_EQ(*t.a->claim(k, t.of(t.ia)), std::vector<bool>(4, true));  // a renews its own

  // a stores key 0's torrent: nobody is granted it again, whatever the leases say.
  ASSERT_TRUE(t.a->store_torrents({v1_torrent(0, "done")}));
  EXPECT_EQ(*t.b->claim(keys_of(0, 1), t.of(t.ib, 9000, 8990)), std::vector<bool>{false});
  EXPECT_EQ(*t.a->claim(keys_of(0, 1), t.of(t.ia)), std::vector<bool>{false});

  // a is still beating at 1100: b gets nothing of it; a misses its heartbeats (killed): b
  // takes over its keys.
  ASSERT_TRUE(t.a->heartbeat(t.ia, {T(1100)}));
  EXPECT_EQ(*t.b->claim(keys_of(1, 2), t.of(t.ib, 1110, 1080)), std::vector<bool>{false});
  EXPECT_EQ(*t.b->claim(keys_of(1, 2), t.of(t.ib, 1200, 1170)), std::vector<bool>{true});
  // A clean stop hands back the leases at once; an expired lease is free as well.
  EXPECT_EQ(*t.a->claim(keys_of(10, 12), t.of(t.ia, 1100, 1070)), std::vector<bool>(2, true));
  ASSERT_TRUE(t.a->heartbeat(t.ia, {T(1101), 0, 0, 0, 0, 0, true}));
  EXPECT_EQ(*t.b->claim(keys_of(10, 11), t.of(t.ib, 1102, 1072)), std::vector<bool>{true});
  ASSERT_TRUE(t.a->heartbeat(t.ia, {T(1103)}));  // beating again (not stopped)
  EXPECT_EQ(*t.a->claim(keys_of(20, 21), Lease{t.ia, T(1103), T(1110), T(1073)}), std::vector<bool>{true});
  EXPECT_EQ(*t.b->claim(keys_of(20, 21), t.of(t.ib, 1105, 1075)), std::vector<bool>{false});
  EXPECT_EQ(*t.b->claim(keys_of(20, 21), t.of(t.ib, 1111, 1081)), std::vector<bool>{true});
  // Expired leases are dropped by the next heartbeat.
  Psql sql(t.uri);
  ASSERT_TRUE(t.b->heartbeat(t.ib, {T(1000 + 3601)}));
  EXPECT_EQ(sql.value("SELECT count(*) FROM leases"), "0");
}

TEST(PostgresLeases, ClaimPendingSplitsThePoolAndSkipsWhatOthersHold) {
  TwoCrawlers t;
  WriteBatch b;
  for (int i = 0; i < 100; ++i) b.sightings.push_back({key(i), T(100), Source::Sample, 0, i});
  ASSERT_TRUE(t.a->write(b));
  ASSERT_TRUE(t.a->claim(keys_of(0, 10), t.of(t.ia)));  // a holds 0..9 (the lowest priorities)
  auto pa = t.a->claim_pending({60, std::nullopt}, t.of(t.ia));
  ASSERT_TRUE(pa) << pa.error().message;
  ASSERT_EQ(pa->size(), 60u);
  EXPECT_EQ(pa->front().infohash, key(99));  // highest priority first
  auto pb = t.b->claim_pending({100, std::nullopt}, t.of(t.ib));
  ASSERT_TRUE(pb) << pb.error().message;
  ASSERT_EQ(pb->size(), 30u);  // 100 - 60 - the 10 a claimed one by one
  std::set<InfoHash> seen;
  for (const auto& r : *pa) seen.insert(r.infohash);
  for (const auto& r : *pb) EXPECT_TRUE(seen.insert(r.infohash).second);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(seen.count(key(i)), 0u);
  // a is killed: after its heartbeats stop, b takes the rest.
  auto rest = t.b->claim_pending({100, std::nullopt}, t.of(t.ib, 1200, 1170));
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->size(), 100u);  // b's own 30 again, and a's 70
}

// Two crawlers claiming the same keys at the same moment: each key goes to exactly one of
// them, through claim() and through claim_pending() alike.
TEST(PostgresLeases, ConcurrentClaimersNeverShareAKey) {
  TwoCrawlers t;
  WriteBatch b;
  for (int i = 0; i < 400; ++i) b.sightings.push_back({key(i), T(100), Source::Sample, 0, 0});
  ASSERT_TRUE(t.a->write(b));
  std::vector<InfoHash> got_a, got_b;
  auto run = [&](Store& s, std::int64_t who, std::vector<InfoHash>& got) {
    for (int round = 0; round < 20; ++round) {
      // Half the rounds claim what was seen (keys 400.. are new to the database), half refill.
      if (round % 2 == 0) {
        const auto k = keys_of(400 + round * 20, 400 + round * 20 + 40);
        auto g = s.claim(k, t.of(who));
        if (!g) continue;  // a deadlock victim claims nothing this round
        for (std::size_t i = 0; i < k.size(); ++i)
          if ((*g)[i]) got.push_back(k[i]);
      } else {
        auto p = s.claim_pending({25, std::nullopt}, t.of(who));
        if (!p) continue;
        for (const auto& r : *p) got.push_back(r.infohash);
      }
    }
  };
  std::thread ta([&] { run(*t.a, t.ia, got_a); });
  std::thread tb([&] { run(*t.b, t.ib, got_b); });
  ta.join();
  tb.join();
  // A crawler's own keys come back to it (a renewal); never to the other one.
  std::set<InfoHash> all(got_a.begin(), got_a.end());
  const std::set<InfoHash> only_b(got_b.begin(), got_b.end());
  for (const auto& k : only_b) EXPECT_TRUE(all.insert(k).second) << "both crawlers got " << k.hex();
  EXPECT_GT(got_a.size(), 0u);
  EXPECT_GT(got_b.size(), 0u);
}

// Two crawlers storing the same torrents at the same moment (the two keys of a hybrid leased
// to each, in the crawl): each torrent is stored once, and the writers' reports add up.
TEST(PostgresStore, ConcurrentWritersStoreATorrentOnce) {
  TwoCrawlers t;
  constexpr int kTorrents = 60;
  std::vector<TorrentRecord> all;
  for (int i = 0; i < kTorrents; ++i) {
    TorrentRecord h = v1_torrent(i, "hybrid " + std::to_string(i));
    Sha256Digest d{};
    for (std::size_t j = 0; j < d.size(); ++j) d[j] = static_cast<std::uint8_t>(i * 7 + j + 1);
    h.infohash_v2 = d;
    all.push_back(std::move(h));
  }
  std::size_t added_a = 0, added_b = 0, dup_a = 0, dup_b = 0;
  auto run = [&](Store& s, bool reverse, std::size_t& added, std::size_t& dup) {
    for (int n = 0; n < kTorrents; ++n) {
      const int i = reverse ? kTorrents - 1 - n : n;
      TorrentRecord one = all[static_cast<std::size_t>(i)];
      if (reverse) one.infohash_v1.reset();  // this crawler knows it by its v2 key only
      for (int attempt = 0; attempt < 5; ++attempt) {
        auto r = s.store_torrents({one});
        if (!r) continue;  // a transient error (a deadlock victim) is retried, as StoreWriter does
        added += r->torrents_added;
        dup += r->torrents_duplicate;
        break;
      }
    }
  };
  std::thread ta([&] { run(*t.a, false, added_a, dup_a); });
  std::thread tb([&] { run(*t.b, true, added_b, dup_b); });
  ta.join();
  tb.join();
  EXPECT_EQ(t.a->stats()->torrents, static_cast<std::uint64_t>(kTorrents));
  EXPECT_EQ(added_a + added_b, static_cast<std::size_t>(kTorrents));
  EXPECT_EQ(dup_a + dup_b, static_cast<std::size_t>(kTorrents));
  for (int i = 0; i < kTorrents; ++i) {
    auto by_v1 = t.b->torrent(key(i));
    ASSERT_TRUE(by_v1 && by_v1->has_value()) << i;
    EXPECT_TRUE((*by_v1)->infohash_v2.has_value()) << "one record with both keys";
  }
}

}  // namespace
}  // namespace bitscrape::storage
