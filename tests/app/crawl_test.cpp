// The crawl runtime (app/crawl.cpp) through its Env seam: the database lock, the clock the
// stored figures are stamped with, and a short real run on loopback.
#include "app/crawl.hpp"
#include "storage/sqlite_store.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <fstream>

namespace bitscrape::app {
namespace {

using test_support::TempDir;

class LockedOut final : public FileLock {};

// The real clock and lock unless told otherwise; a fixed wall clock far from today.
class FakeEnv final : public Env {
 public:
  std::chrono::steady_clock::time_point now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::sys_seconds wall() const override {
    const auto real = std::chrono::steady_clock::now() - start_;
    return kEpoch + std::chrono::duration_cast<std::chrono::seconds>(real);
  }
  std::uint64_t seed() override { return ++seeds_; }
  Result<std::unique_ptr<FileLock>, std::string> lock_database(const std::filesystem::path& db) override {
    ++lock_calls;
    if (refuse_lock) return Unexpected{std::string("held by the test")};
    return Env::system().lock_database(db);
  }
  static constexpr std::chrono::sys_seconds kEpoch{std::chrono::seconds(1'900'000'000)};  // 2030
  bool refuse_lock = false;
  int lock_calls = 0;
  std::uint64_t seeds_ = 0;

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

CrawlConfig loopback_config(const TempDir& dir) {
  auto c = default_config();
  c.database = dir.file("crawl.db");
  c.listen = {*Endpoint::parse("127.0.90.1:0")};
  c.bootstrap.clear();
  c.web.reset();
  c.allow_private_addresses = true;
  c.duration = std::chrono::seconds(2);
  c.status_interval = std::chrono::seconds(1);
  return c;
}

TEST(CrawlEnv, SystemDatabaseLockIsExclusiveAndNamesTheHolder) {
  TempDir dir;
  const auto db = dir.path() / "x.db";
  auto first = Env::system().lock_database(db);
  ASSERT_TRUE(first.ok()) << first.error();
  auto second = Env::system().lock_database(db);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().find("in use by another bitscrape crawl (pid " + std::to_string(::getpid()) + ")"),
            std::string::npos)
      << second.error();
  EXPECT_NE(second.error().find("--db"), std::string::npos) << second.error();
  first.value().reset();
  EXPECT_TRUE(Env::system().lock_database(db).ok()) << "the lock is released with its holder";
}

TEST(CrawlEnv, ALockHeldElsewhereStopsTheRunBeforeTheDatabaseIsOpened) {
  TempDir dir;
  FakeEnv env;
  env.refuse_lock = true;
  Crawler crawler(loopback_config(dir), {}, env);
  testing::internal::CaptureStderr();
  const int code = crawler.run();
  const auto err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, 1);
  EXPECT_EQ(env.lock_calls, 1);
  EXPECT_NE(err.find("held by the test"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("crawl.db"))) << "nothing may be created past a refused lock";
}

TEST(CrawlEnv, AShortRunStampsWhatItStoresWithTheEnvClock) {
  TempDir dir;
  FakeEnv env;
  CrawlOptions opts;
  opts.stats_json = dir.file("stats.json");
  Crawler crawler(loopback_config(dir), opts, env);
  testing::internal::CaptureStderr();
  const int code = crawler.run();
  const auto err = testing::internal::GetCapturedStderr();
  ASSERT_EQ(code, 0) << err;
  EXPECT_NE(err.find("bitscrape: stopped after 2 s: 0 new infohashes, 0 torrents stored"), std::string::npos)
      << err;
  EXPECT_GE(env.seeds_, 3u) << "node id, client-version and fetch seeds all come from the Env";

  // --stats-json lists every component's counters, from the same snapshot.
  std::ifstream in(dir.file("stats.json"));
  const auto j = nlohmann::json::parse(in);
  for (const char* k : {"dht_packets_in", "pipeline_infohashes_new", "fetch_connections_started",
                        "fetch_liars", "store_committed", "client_versions_gauge_nodes"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_EQ(crawler.snapshot().uptime_s >= 2, true);

  // The stored chart series carries the Env's wall clock (2030), not the machine's.
  storage::SqliteOptions so;
  so.read_only = true;
  auto store = storage::open_sqlite_store(dir.file("crawl.db"), so);
  ASSERT_TRUE(store.ok());
  storage::SeriesQuery q;
  q.name = "metadata_total";
  q.from = FakeEnv::kEpoch - std::chrono::seconds(10);
  q.to = FakeEnv::kEpoch + std::chrono::seconds(60);
  q.points = 10;
  auto series = store.value()->counter_series(q);
  ASSERT_TRUE(series.ok());
  ASSERT_FALSE(series->empty()) << "no counter sample stamped with the Env's clock";
}

}  // namespace
}  // namespace bitscrape::app
