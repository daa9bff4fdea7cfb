// What only the PostgreSQL store has: connection errors, migrations on a server, read-only
// sessions, any bytes in names, reconnecting. The shared behaviour is in store_test.cpp.
// Every test here has "Postgres" in its name: ctest gives them the storage_postgres fixture.
#include "storage/pg_store.hpp"
#include "pg_test_db.hpp"
#include "storage/open_store.hpp"
#include "storage_test_util.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace bitscrape::storage
