// `bitscrape stats` and `bitscrape search` end to end, on both backends: the instances of a
// shared database are listed, and text from the database reaches a terminal harmless.
#include "pg_test_db.hpp"
#include "run_cli.hpp"
#include "storage/open_store.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

namespace bitscrape {
namespace {

using test_support::q;
using test_support::Ran;
using test_support::run;

storage::UnixTime now() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

// Three crawlers (one live, one stopped cleanly, one killed long ago) and a torrent whose name
// carries terminal escapes.
void populate(const std::string& target) {
  auto store = std::move(storage::open_store(target).value());
  const char* hosts[] = {"crawl-a", "crawl-b", "evil\x1b]0;pwned\x07host"};
  const std::int64_t beats[] = {-1, -5, -3600};
  for (int i = 0; i < 3; ++i) {
    storage::InstanceInfo info;
    info.node_id.bytes[0] = static_cast<std::uint8_t>(i + 1);
    info.listen = "10.0.0." + std::to_string(i + 1) + ":6881";
    info.host = hosts[i];
    info.started = now() - std::chrono::hours(2);
    auto id = store->register_instance(info);
    ASSERT_TRUE(id) << id.error().message;
    storage::Heartbeat hb;
    hb.at = now() + std::chrono::seconds(beats[i]);
    hb.torrents = static_cast<std::uint64_t>(10 * (i + 1));
    hb.infohashes = static_cast<std::uint64_t>(100 * (i + 1));
    hb.stopped = i == 1;
    ASSERT_TRUE(store->heartbeat(*id, hb));
  }
  storage::TorrentRecord t;
  InfoHash k;
  k.bytes[0] = 0xee;
  t.infohash_v1 = k;
  t.name = "movie\x1b[2J\xc2\x9b" "31mred";
  t.total_size = 5;
  t.piece_length = 16384;
  t.files = {{"movie", 5}};
  t.file_count = 1;
  t.discovered_at = now();
  t.fetched_at = now();
  ASSERT_TRUE(store->store_torrents({t}));
}

void check_stats_and_search(const std::string& db) {
  populate(db);
  const Ran json = run("stats --json --db " + q(db));
  ASSERT_EQ(json.status, 0);
  const auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["torrents"], 1);
  ASSERT_EQ(j["instances"].size(), 3u);
  EXPECT_EQ(j["instances"][0]["state"], "live");
  EXPECT_EQ(j["instances"][0]["torrents"], 10);
  EXPECT_EQ(j["instances"][1]["state"], "stopped");
  EXPECT_EQ(j["instances"][2]["state"], "gone");
  EXPECT_EQ(j["instances"][2]["infohashes"], 300);

  const Ran text = run("stats --db " + q(db));
  ASSERT_EQ(text.status, 0);
  EXPECT_NE(text.out.find("instances   3 (1 live)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("crawl-a"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("evil?]0;pwned?host"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find('\x1b'), std::string::npos) << "no escape reaches the terminal";

  const Ran found = run("search movie --db " + q(db));
  ASSERT_EQ(found.status, 0);
  EXPECT_NE(found.out.find("movie?[2J?31mred"), std::string::npos) << found.out;
  EXPECT_EQ(found.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(found.out.find("\xc2\x9b"), std::string::npos);
}

TEST(Query, StatsListsInstancesAndTextIsMadeSafeForTerminals) {
  test_support::TempDir dir("bitscrape-query");
  check_stats_and_search(dir.file("q.db"));
}

TEST(QueryPostgres, StatsListsInstancesAndTextIsMadeSafeForTerminals) {
  check_stats_and_search(test_support::fresh_pg_database());
}

}  // namespace
}  // namespace bitscrape
