// What only the SQLite store has: a file that persists, WAL, migrations, locking between
// processes, compact encodings on disk, a writer thread with concurrent readers, and crash
// safety under kill -9.
#include "storage/sqlite_store.hpp"
#include "storage/store_writer.hpp"
#include "storage_test_util.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

namespace bitscrape::storage {
namespace {

using namespace bitscrape::storage::testing;

std::unique_ptr<Store> open_or_die(const std::string& path, const SqliteOptions& o = {}) {
  auto s = open_sqlite_store(path, o);
  if (!s) throw std::runtime_error(s.error().message);
  return std::move(s.value());
}

// A plain connection for looking at (or interfering with) the file from outside the store.
class Raw {
 public:
  explicit Raw(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("raw open failed");
  }
  ~Raw() { sqlite3_close(db_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;
  // The first column of the first row as text ("" when no row); throws on SQL errors.
  std::string one(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sqlite3_errmsg(db_));
    }
    std::string out;
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_text(s, 0)) out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db_));
    return out;
  }
  int exec(const std::string& sql) { return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr); }

 private:
  sqlite3* db_ = nullptr;
};

TEST(SqliteStore, PersistsAcrossReopen) {
  TempDir dir;
  const std::string path = dir.file("p.db");
  TorrentRecord t = v1_torrent(1, "persisted", 30, {{"a", 10}, {"b", 20}});
  t.infohash_v2 = v2_of(1);
  t.info_dict = "d4:infoe";
  {
    auto s = open_or_die(path);
    WriteBatch b;
    b.nodes = {{ep("1.2.3.4:5"), key(9), T(10), true}};
    b.sightings = {{key(2), T(5), Source::Sample, 1, 2}};
    b.torrents = {t};
    b.peers = {{key(1), ep("5.6.7.8:9"), T(11)}};
    b.counters = {{T(100), {{"c", 42}}}};
    ASSERT_TRUE(s->write(b));
  }
  auto s = open_or_die(path);
  auto got = s->torrent(truncated(v2_of(1)));
  ASSERT_TRUE(got && got->has_value());
  t.id = 1;
  t.info_dict.clear();
  EXPECT_EQ(**got, t);
  auto d = s->raw_info_dict(key(1));
  ASSERT_TRUE(d && d->has_value());
  EXPECT_EQ(**d, "d4:infoe");
  EXPECT_EQ(*s->stats(), (StoreStats{1, 3, 1, 2, 1, 1, 0}));
  EXPECT_EQ(s->good_nodes(5)->size(), 1u);
  EXPECT_EQ(s->peers(key(1), 5)->size(), 1u);
  EXPECT_EQ(*s->counter_series({"c", T(0), T(200), 1, Aggregate::Last}), (std::vector<SeriesPoint>{{T(0), 42}}));
  // Ids continue after the stored ones.
  ASSERT_TRUE(s->store_torrents({v1_torrent(2, "second")}));
  EXPECT_EQ((*s->torrent(key(2)))->id, 2);
}

TEST(SqliteStore, WalModeSchemaVersionAndCompactEncodings) {
  TempDir dir;
  const std::string path = dir.file("w.db");
  auto s = open_or_die(path);
  ASSERT_TRUE(s->store_torrents({v1_torrent(1, "single.iso", 5), v1_torrent(2, "multi", 3, {{"x", 1}, {"y", 2}})}));
  Raw raw(path);
  EXPECT_EQ(raw.one("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.one("SELECT group_concat(version || ':' || name) FROM schema_version"),
            "1:initial schema,2:torrent keys in infohashes,3:crawler instances");
  // A single file named like the torrent needs no file list row; keys are 20-byte blobs.
  EXPECT_EQ(raw.one("SELECT count(*) FROM file_lists"), "1");
  EXPECT_EQ(raw.one("SELECT group_concat(length(ih_v1)) FROM torrents"), "20,20");
  EXPECT_EQ(raw.one("SELECT typeof(total_size) FROM torrents LIMIT 1"), "integer");
  EXPECT_EQ(raw.one("PRAGMA foreign_key_check"), "");
  EXPECT_EQ(raw.one("PRAGMA integrity_check"), "ok");
}

// StoreWriter prepares batches on its batching thread (Store::prepare); write() of a prepared
// batch must store exactly what write() of the same batch unprepared stores.
TEST(SqliteStore, PreparedBatchStoresWhatAnUnpreparedOneDoes) {
  TempDir dir;
  std::vector<TorrentRecord> ts = {v1_torrent(1, "single.iso", 5),
                                   v1_torrent(2, "Album", 30, {{"Album/01 Overture.flac", 10}, {"Album/cover.jpg", 20}}),
                                   v1_torrent(3, "negative", -1)};  // rejected
  ts[1].info_dict = "d4:name5:Albume";
  for (const bool prepared : {false, true}) {
    auto s = open_or_die(dir.file(prepared ? "p.db" : "u.db"));
    WriteBatch b;
    b.torrents = ts;
    if (prepared) {
      s->prepare(b);
      ASSERT_EQ(b.encoded.size(), 3u);
      EXPECT_TRUE(b.encoded[0].file_list.empty());  // one implied file: no list
      EXPECT_FALSE(b.encoded[1].file_list.empty());
      EXPECT_EQ(b.encoded[1].path_terms, "overture flac cover jpg");
    }
    auto r = s->write(b);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->torrents_added, 2u);
    EXPECT_EQ(r->rejected, 1u);
    auto got = s->torrent(key(2));
    ASSERT_TRUE(got && got->has_value());
    EXPECT_EQ((*got)->files, ts[1].files);
    EXPECT_EQ(**s->raw_info_dict(key(2)), ts[1].info_dict);
    SearchQuery q;
    q.text = "overture";
    EXPECT_EQ(s->search(q)->total, 1u);
  }
}

TEST(SqliteStore, UnicodeSearchFoldsCaseAndDiacritics) {
  TempDir dir;
  auto s = open_or_die(dir.file("u.db"));
  ASSERT_TRUE(s->store_torrents({v1_torrent(1, "Café Del Mar"), v1_torrent(2, "ÉCOLE 日本語 テスト")}));
  for (const auto& [text, want] : std::vector<std::pair<std::string, std::uint64_t>>{
           {"cafe", 1}, {"CAFÉ", 1}, {"école", 1}, {"ecole", 1}, {"日本語", 1}, {"a—b", 0}, {"—", 0}}) {
    auto r = s->search(SearchQuery{.text = text});
    ASSERT_TRUE(r) << text << ": " << r.error().message;
    EXPECT_EQ(r->total, want) << text;
  }
}

TEST(SqliteStore, DamagedBlobIsAnErrorNotACrash) {
  TempDir dir;
  const std::string path = dir.file("d.db");
  auto s = open_or_die(path);
  TorrentRecord t = v1_torrent(1, "multi", 3, {{"x", 1}, {"y", 2}});
  t.info_dict = "d1:xi1ee";
  ASSERT_TRUE(s->store_torrents({t}));
  {
    Raw raw(path);
    ASSERT_EQ(raw.exec("UPDATE file_lists SET data = x'0005'; UPDATE info_dicts SET data = x'28b52ffd00'"), SQLITE_OK);
  }
  auto got = s->torrent(key(1));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::Corrupt);
  auto d = s->raw_info_dict(key(1));
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::Corrupt);
}

TEST(SqliteStore, NotADatabase) {
  TempDir dir;
  const std::string path = dir.file("junk.db");
  std::ofstream(path) << std::string(8192, 'j');
  auto s = open_sqlite_store(path);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::Corrupt);
  auto missing_dir = open_sqlite_store(dir.file("no/such/dir.db"));
  ASSERT_FALSE(missing_dir);
  EXPECT_EQ(missing_dir.error().code, ErrorCode::Io);
}

TEST(SqliteStore, ManyQueryShapesCycleTheStatementCache) {
  // Each combination of filters, sort, direction and text is its own SQL text; 512 of them
  // overflow the statement cache (256) several times over while statements are in use.
  TempDir dir;
  auto s = open_or_die(dir.file("shapes.db"));
  ASSERT_TRUE(s->store_torrents({v1_torrent(1, "shape one", 100, {}, 50), v1_torrent(2, "shape two", 200, {}, 60)}));
  int queries = 0;
  for (int mask = 0; mask < 64; ++mask) {
    for (SortKey k : {SortKey::Relevance, SortKey::Size, SortKey::Discovered, SortKey::Name}) {
      for (const char* text : {"", "shape"}) {
        SearchQuery q;
        q.text = text;
        q.sort = k;
        if (mask & 1) q.min_size = 0;
        if (mask & 2) q.max_size = 1000;
        if (mask & 4) q.min_files = 0;
        if (mask & 8) q.max_files = 10;
        if (mask & 16) q.discovered_from = T(0);
        if (mask & 32) q.discovered_to = T(100);
        auto r = s->search(q);
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r->total, 2u);
        EXPECT_EQ(r->items.size(), 2u);
        ++queries;
      }
    }
  }
  EXPECT_EQ(queries, 512);
  EXPECT_TRUE(s->torrent(key(1))->has_value());
}

// ---------------------------------------------------------------- migrations

constexpr std::string_view kFakeV2 =
    "ALTER TABLE torrents ADD COLUMN note TEXT; UPDATE torrents SET note = 'migrated';"
    "CREATE TABLE extra (x INTEGER);";

// The version after the built-in ones (the fake migrations below).
const int kNext = static_cast<int>(sqlite_migrations().size()) + 1;
const std::string kNextV = "v" + std::to_string(kNext);

std::string applied_versions() {
  std::string out;
  for (const auto& m : sqlite_migrations()) {
    out += std::to_string(m.version) + ":" + std::string(m.name) + ",";
  }
  return out;
}

std::vector<Migration> with(Migration extra) {
  std::vector<Migration> ms(sqlite_migrations().begin(), sqlite_migrations().end());
  ms.push_back(extra);
  return ms;
}

TEST(SqliteMigrations, FakeV2AppliesInOrderAndKeepsData) {
  TempDir dir;
  const std::string path = dir.file("m.db");
  { ASSERT_TRUE(open_or_die(path)->store_torrents({v1_torrent(1, "before v2")})); }
  const auto v2 = with({kNext, "add note", kFakeV2});
  {
    auto s = open_sqlite_store(path, {}, v2);
    ASSERT_TRUE(s) << s.error().message;
    auto t = (*s)->torrent(key(1));
    ASSERT_TRUE(t && t->has_value());
    EXPECT_EQ((*t)->name, "before v2");
    ASSERT_TRUE((*s)->store_torrents({v1_torrent(2, "after v2")}));  // writes still work
  }
  Raw raw(path);
  EXPECT_EQ(raw.one("SELECT group_concat(version || ':' || name, ',') FROM schema_version"),
            applied_versions() + std::to_string(kNext) + ":add note");
  EXPECT_EQ(raw.one("SELECT note FROM torrents WHERE id = 1"), "migrated");
  EXPECT_EQ(raw.one("SELECT count(*) FROM extra"), "0");
  // Opening again with the same list applies nothing twice.
  { ASSERT_TRUE(open_sqlite_store(path, {}, v2)); }
  EXPECT_EQ(raw.one("SELECT count(*) FROM schema_version"), std::to_string(kNext));
}

TEST(SqliteMigrations, NewerSchemaIsRefused) {
  TempDir dir;
  const std::string path = dir.file("m.db");
  { ASSERT_TRUE(open_sqlite_store(path, {}, with({kNext, "add note", kFakeV2}))); }
  auto s = open_sqlite_store(path);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::SchemaTooNew);
  EXPECT_NE(s.error().message.find(kNextV + " is newer than this bitscrape understands (v" + std::to_string(kNext - 1) +
                                   ")"),
            std::string::npos)
      << s.error().message;
  SqliteOptions ro;
  ro.read_only = true;
  auto r = open_sqlite_store(path, ro);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::SchemaTooNew);
}

TEST(SqliteMigrations, FailingMigrationRollsBack) {
  TempDir dir;
  const std::string path = dir.file("m.db");
  { ASSERT_TRUE(open_or_die(path)->store_torrents({v1_torrent(1, "kept")})); }
  auto s = open_sqlite_store(path, {}, with({kNext, "broken", "CREATE TABLE half (x); SELECT * FROM no_such_table;"}));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::Migration);
  EXPECT_NE(s.error().message.find(kNextV + " (broken) failed and was rolled back"), std::string::npos)
      << s.error().message;
  Raw raw(path);
  EXPECT_EQ(raw.one("SELECT max(version) FROM schema_version"), std::to_string(kNext - 1));
  EXPECT_EQ(raw.one("SELECT count(*) FROM sqlite_master WHERE name = 'half'"), "0");
  auto again = open_sqlite_store(path);  // still a good database at the previous version
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again)->torrent(key(1))->has_value());
}

TEST(SqliteMigrations, ReadOnlyNeedsACurrentSchemaAndRefusesWrites) {
  TempDir dir;
  const std::string path = dir.file("m.db");
  SqliteOptions ro;
  ro.read_only = true;
  auto none = open_sqlite_store(path, ro);  // no file at all
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::Io);
  auto rw = open_or_die(path);
  ASSERT_TRUE(rw->store_torrents({v1_torrent(1, "x")}));
  auto stale = open_sqlite_store(path, ro, with({kNext, "add note", kFakeV2}));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, ErrorCode::Migration);
  EXPECT_NE(stale.error().message.find("open it read-write once"), std::string::npos);
  auto reader = open_sqlite_store(path, ro);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_EQ((*reader)->stats()->torrents, 1u);
  auto w = (*reader)->store_torrents({v1_torrent(2, "y")});
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, ErrorCode::ReadOnly);
}

// A database the v1 schema wrote (made here with raw SQL, as v1 bitscrape wrote its rows)
// upgrades to v2: every key of every torrent still finds it, duplicates are still refused,
// and the unique key indexes are gone.
TEST(SqliteMigrations, V1DatabaseUpgradesToTorrentKeysInInfohashes) {
  TempDir dir;
  const std::string path = dir.file("v1.db");
  const Sha256Digest v2h = v2_of(2), v2only = v2_of(3);
  {
    Raw raw(path);
    ASSERT_EQ(raw.exec("PRAGMA journal_mode = WAL"), SQLITE_OK);
    ASSERT_EQ(raw.exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                       "applied_at INTEGER NOT NULL)"),
              SQLITE_OK);
    ASSERT_EQ(raw.exec(std::string(sqlite_migrations()[0].sql)), SQLITE_OK);
    ASSERT_EQ(raw.exec("INSERT INTO schema_version VALUES (1, 'initial schema', 0)"), SQLITE_OK);
    auto hex = [](std::string_view b) {
      static const char* d = "0123456789abcdef";
      std::string out = "x'";
      for (unsigned char c : b) {
        out += d[c >> 4];
        out += d[c & 15];
      }
      return out + "'";
    };
    auto bytes = [](const Sha256Digest& h) { return std::string(reinterpret_cast<const char*>(h.data()), 32); };
    // 1: v1 only; 2: hybrid; 3: v2 only. Rows as v1's apply_torrent wrote them.
    const std::string sql =
        "INSERT INTO torrents (ih_v1, ih_v2, name, total_size, piece_length, file_count, flags, discovered_at, "
        "fetched_at) VALUES (" + hex(key(1).view()) + ", NULL, 'one', 5, 16384, 1, 2, 100, 110), (" +
        hex(key(2).view()) + ", " + hex(bytes(v2h)) + ", 'hybrid', 5, 16384, 1, 2, 200, 210), (NULL, " +
        hex(bytes(v2only)) + ", 'two', 5, 16384, 1, 2, 300, 310);"
        "INSERT INTO infohashes VALUES (" + hex(key(1).view()) + ", 100, 100, 0, 0, 0, NULL, 1, 0), (" +
        hex(key(2).view()) + ", 200, 200, 0, 0, 0, NULL, 1, 0), (" + hex(truncated(v2h).view()) +
        ", 200, 200, 0, 0, 0, NULL, 1, 0), (" + hex(truncated(v2only).view()) +
        ", 300, 300, 0, 0, 0, NULL, 1, 0), (" + hex(key(9).view()) + ", 50, 60, 1, 3, 0, NULL, 0, 5);";
    ASSERT_EQ(raw.exec(sql), SQLITE_OK);
    ASSERT_EQ(raw.one("SELECT count(*) FROM torrents"), "3");
  }
  auto s = open_or_die(path);
  EXPECT_EQ((*s->torrent(key(1)))->name, "one");
  EXPECT_EQ((*s->torrent(key(2)))->name, "hybrid");
  EXPECT_EQ((*s->torrent(truncated(v2h)))->name, "hybrid");
  EXPECT_EQ((*s->torrent(truncated(v2only)))->name, "two");
  EXPECT_FALSE(s->torrent(key(9))->has_value());
  EXPECT_EQ(*s->is_fetched(std::vector<InfoHash>{key(1), key(9), truncated(v2only)}),
            (std::vector<bool>{true, false, true}));
  // Storing any of them again is a duplicate; a v1 key joins the v2-only torrent.
  TorrentRecord again = v1_torrent(7, "v1 of two", 5);
  again.infohash_v2 = v2only;
  auto r = s->store_torrents({v1_torrent(1, "one again"), again, v1_torrent(10, "new")});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->torrents_added, 1u);
  EXPECT_EQ(r->torrents_duplicate, 2u);
  EXPECT_EQ((*s->torrent(key(7)))->name, "two");
  EXPECT_EQ((*s->torrent(key(10)))->id, 4);
  EXPECT_EQ(s->stats()->torrents, 4u);
  EXPECT_EQ(s->stats()->pending, 1u);
  s.reset();
  Raw raw(path);
  EXPECT_EQ(raw.one("SELECT max(version) FROM schema_version"), std::to_string(sqlite_migrations().size()));
  EXPECT_EQ(raw.one("SELECT count(*) FROM sqlite_master WHERE name IN ('torrents_v1', 'torrents_v2')"), "0");
  EXPECT_EQ(raw.one("SELECT count(*) FROM infohashes WHERE state = 1 AND torrent_id IS NULL"), "0");
  EXPECT_EQ(raw.one("SELECT v FROM torrents_fts_config WHERE k = 'automerge'"), "8");
  EXPECT_EQ(raw.one("PRAGMA integrity_check"), "ok");
}

TEST(SqliteMigrations, ListMustBeContiguous) {
  TempDir dir;
  std::vector<Migration> gap = with({kNext + 1, "gap", "SELECT 1"});
  auto s = open_sqlite_store(dir.file("m.db"), {}, gap);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::Internal);
}

// ---------------------------------------------------------------- locking

TEST(SqliteStore, LockedByAnotherConnectionSaysWhatToDo) {
  TempDir dir;
  const std::string path = dir.file("l.db");
  SqliteOptions o;
  o.busy_timeout = std::chrono::milliseconds(100);
  auto s = open_or_die(path, o);
  Raw other(path);
  ASSERT_EQ(other.exec("BEGIN IMMEDIATE"), SQLITE_OK);  // holds the write lock, like another crawler
  const auto t0 = std::chrono::steady_clock::now();
  auto w = s->store_torrents({v1_torrent(1, "x")});
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, ErrorCode::Locked);
  EXPECT_TRUE(w.error().transient());
  EXPECT_EQ(w.error().message.rfind("database is locked by another bitscrape process? '" + path + "'", 0), 0u)
      << w.error().message;
  EXPECT_NE(w.error().message.find("stop the other bitscrape"), std::string::npos);
  EXPECT_GE(waited, std::chrono::milliseconds(90));  // it did wait for busy_timeout
  // Readers are not blocked by the writer's lock (WAL).
  EXPECT_TRUE(s->stats());
  ASSERT_EQ(other.exec("COMMIT"), SQLITE_OK);
  EXPECT_TRUE(s->store_torrents({v1_torrent(1, "x")}));
}

// ---------------------------------------------------------------- writer thread + readers

TEST(SqliteStore, ConcurrentReaderWhileWriterThreadCommits) {
  TempDir dir;
  const std::string path = dir.file("c.db");
  auto writer_store = open_or_die(path);
  SqliteOptions ro;
  ro.read_only = true;
  auto reader_store = open_or_die(path, ro);

  constexpr int kTorrents = 3000;
  WriterOptions wo;
  wo.max_batch = 100;
  wo.max_delay = std::chrono::milliseconds(1);
  StoreWriter writer(*writer_store, wo);

  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::string reader_error;
  std::thread reader([&] {
    std::uint64_t last = 0;
    while (!done.load()) {
      // Whatever the writer reports durable must be visible to a new read.
      const std::uint64_t durable = writer.durable_seq();
      auto st = reader_store->stats();
      auto page = reader_store->search(SearchQuery{.text = "concurrent", .limit = 5});
      auto f = durable > 0 ? reader_store->is_fetched(std::vector<InfoHash>{key(static_cast<int>(durable))})
                           : StoreResult<std::vector<bool>>(std::vector<bool>{true});
      if (!st || !page || !f) {
        reader_error = !st ? st.error().message : !page ? page.error().message : f.error().message;
        return;
      }
      if (st->torrents < last || st->torrents < durable || !(*f)[0]) {
        reader_error = "went backwards or missed a durable record";
        return;
      }
      last = st->torrents;
      ++reads;
    }
  });
  for (int i = 1; i <= kTorrents; ++i) {
    ASSERT_EQ(writer.submit(v1_torrent(i, "concurrent item " + std::to_string(i))), static_cast<std::uint64_t>(i));
  }
  ASSERT_TRUE(writer.flush());
  done = true;
  reader.join();
  EXPECT_EQ(reader_error, "");
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(reader_store->stats()->torrents, static_cast<std::uint64_t>(kTorrents));
  EXPECT_GT(writer.stats().batches, 1u);
}

// ---------------------------------------------------------------- crash safety

// A child process writes torrents through a StoreWriter and reports every committed sequence
// number through a pipe; the parent kills it with SIGKILL mid-stream, reopens the database and
// checks that every reported record is there.
TEST(SqliteStore, EveryReportedRecordSurvivesKill9) {
  TempDir dir;
  const std::string path = dir.file("crash.db");
  { open_or_die(path); }  // create the schema before forking
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    auto s = open_sqlite_store(path);
    if (!s) _exit(2);
    WriterOptions wo;
    wo.max_batch = 250;
    wo.max_delay = std::chrono::milliseconds(2);
    wo.block_timeout = std::chrono::seconds(60);  // never drop: seq i is torrent i
    const int out = fds[1];
    StoreWriter w(**s, wo, [out](const CommitReport& r) {
      if (!r.ok) return;
      const std::uint64_t v = r.last_seq;
      if (write(out, &v, sizeof v) != sizeof v) _exit(5);
    });
    for (int i = 1;; ++i) {
      TorrentRecord t = v1_torrent(i, "crash test " + std::to_string(i), 100, {{"a/b", 50}, {"a/c", 50}});
      t.info_dict = std::string(2000, static_cast<char>(i));
      if (w.submit(std::move(t)) != static_cast<std::uint64_t>(i)) _exit(3);
    }
  }
  close(fds[1]);
  std::uint64_t reported = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  // Kill it somewhere past 4000 committed records, while it keeps writing.
  while (reported < 4000 && std::chrono::steady_clock::now() < deadline) {
    std::uint64_t v = 0;
    if (read(fds[0], &v, sizeof v) != sizeof v) break;
    reported = std::max(reported, v);
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  // Reports written before the kill are still in the pipe.
  for (;;) {
    std::uint64_t v = 0;
    if (read(fds[0], &v, sizeof v) != sizeof v) break;
    reported = std::max(reported, v);
  }
  close(fds[0]);
  ASSERT_GE(reported, 4000u);

  auto s = open_or_die(path);
  std::vector<InfoHash> keys;
  for (std::uint64_t i = 1; i <= reported; ++i) keys.push_back(key(static_cast<int>(i)));
  for (std::size_t off = 0; off < keys.size(); off += kMaxIsFetchedBatch) {
    const std::size_t n = std::min(kMaxIsFetchedBatch, keys.size() - off);
    auto f = s->is_fetched(std::span<const InfoHash>(keys).subspan(off, n));
    ASSERT_TRUE(f);
    for (std::size_t i = 0; i < n; ++i) ASSERT_TRUE((*f)[i]) << "reported record " << off + i + 1 << " lost";
  }
  auto last = s->torrent(key(static_cast<int>(reported)));
  ASSERT_TRUE(last && last->has_value());
  EXPECT_EQ((*last)->files.size(), 2u);
  auto d = s->raw_info_dict(key(static_cast<int>(reported)));
  ASSERT_TRUE(d && d->has_value());
  EXPECT_EQ(**d, std::string(2000, static_cast<char>(reported)));
  EXPECT_GE(s->stats()->torrents, reported);
  Raw raw(path);
  EXPECT_EQ(raw.one("PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace bitscrape::storage
