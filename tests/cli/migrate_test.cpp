// `bitscrape migrate` end to end, through the binary: SQLite -> PostgreSQL -> SQLite keeps
// `bitscrape export` byte for byte, counts are verified, and misuse exits 2 with a reason.
#include "pg_test_db.hpp"
#include "run_cli.hpp"
#include "storage/sqlite_store.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace bitscrape {
namespace {

using test_support::q;
using test_support::Ran;
using test_support::run;

InfoHash ih(int n, char tag) {
  InfoHash k;
  for (std::size_t i = 0; i < InfoHash::kSize; ++i) k.bytes[i] = static_cast<std::uint8_t>(n * 31 + i * 7);
  k.bytes[0] = static_cast<std::uint8_t>(tag);  // distinct per tag
  return k;
}

// A SQLite database with torrents (v1, hybrid, v2-only; file lists; info dicts), keys without
// metadata (pending and failed), peers, nodes and counters.
void populate(const std::string& path) {
  auto store = std::move(storage::open_sqlite_store(path).value());
  storage::WriteBatch b;
  for (int i = 0; i < 60; ++i) {
    storage::TorrentRecord t;
    if (i % 3 != 2) t.infohash_v1 = ih(i, 'a');
    if (i % 3 != 0) {
      Sha256Digest d{};
      for (std::size_t j = 0; j < d.size(); ++j) d[j] = static_cast<std::uint8_t>(i + j * 3 + 1);
      t.infohash_v2 = d;
    }
    t.name = "Linux distro " + std::to_string(i) + (i % 2 ? " \xC3\xA9t\xC3\xA9" : " iso");
    t.piece_length = 16384;
    for (int f = 0; f < 1 + i % 4; ++f) t.files.push_back({"disk" + std::to_string(f) + "/part.bin", 100 + f});
    t.file_count = static_cast<std::uint32_t>(t.files.size());
    for (const auto& f : t.files) t.total_size += f.length;
    t.info_dict = "d6:lengthi" + std::to_string(t.total_size) + "e4:name" + std::to_string(t.name.size()) + ":" +
                  t.name + "e";
    t.discovered_at = storage::from_unix(1'700'000'000 + i);
    t.fetched_at = storage::from_unix(1'700'000'100 + i);
    b.sightings.push_back({t.key(), t.discovered_at, storage::Source::Sample, 3, 0});
    b.peers.push_back({t.key(), *Endpoint::parse("10.9.0." + std::to_string(i) + ":6881"), t.fetched_at});
    b.torrents.push_back(std::move(t));
  }
  for (int i = 0; i < 40; ++i) {
    b.sightings.push_back({ih(i, 'p'), storage::from_unix(1'700'001'000 + i), storage::Source::GetPeers, 1, i % 2});
    if (i % 4 == 0) b.fetch_outcomes.push_back({ih(i, 'p'), storage::from_unix(1'700'002'000), i % 8 == 0});
    b.peers.push_back({ih(i, 'p'), *Endpoint::parse("10.8.0." + std::to_string(i) + ":51413"),
                       storage::from_unix(1'700'003'000 + i)});
  }
  for (int i = 0; i < 20; ++i) {
    b.nodes.push_back({*Endpoint::parse("10.7.0." + std::to_string(i) + ":6881"), NodeId{}, storage::from_unix(5 + i),
                       i % 2 == 0});
  }
  b.counters.push_back({storage::from_unix(1'700'000'000), {{"packets_in", 10}, {"torrents", 2}}});
  ASSERT_TRUE(store->write(b));
}

TEST(MigratePostgres, RoundTripThroughPostgresKeepsTheExportIdentical) {
  test_support::TempDir dir("bitscrape-migrate");
  const std::string a = dir.file("a.db"), b = dir.file("sub/b.db");
  populate(a);
  const std::string pg = test_support::fresh_pg_database();

  const Ran csv_a = run("export --format csv --all --db " + q(a));
  const Ran jsonl_a = run("export --format jsonl --all --db " + q(a));
  ASSERT_EQ(csv_a.status, 0);
  ASSERT_EQ(jsonl_a.status, 0);
  ASSERT_GT(csv_a.out.size(), 1000u);

  const Ran to_pg = run("migrate --from " + q(a) + " --to " + q(pg) + " --json");
  ASSERT_EQ(to_pg.status, 0) << to_pg.out;
  const auto j = nlohmann::json::parse(to_pg.out);
  EXPECT_TRUE(j["counts_match"].get<bool>());
  EXPECT_EQ(j["destination"]["torrents"], 60);
  EXPECT_EQ(j["destination"]["infohashes"], 60 + 20 + 40);  // hybrids have two keys
  EXPECT_EQ(j["destination"]["nodes"], 20);
  EXPECT_EQ(j["source"], j["destination"]);

  EXPECT_EQ(run("export --format csv --all --db " + q(pg)).out, csv_a.out);
  EXPECT_EQ(run("export --format jsonl --all --db " + q(pg)).out, jsonl_a.out);
  EXPECT_EQ(run("stats --json --db " + q(pg)).out, run("stats --json --db " + q(a)).out);

  const Ran back = run("migrate --from " + q(pg) + " --to " + q(b));
  ASSERT_EQ(back.status, 0);
  EXPECT_EQ(run("export --format csv --all --db " + q(b)).out, csv_a.out);
  EXPECT_EQ(run("export --format jsonl --all --db " + q(b)).out, jsonl_a.out);
  const Ran search_a = run("search --db " + q(a) + " --json distro");
  ASSERT_EQ(search_a.status, 0);
  EXPECT_EQ(run("search --db " + q(pg) + " --json distro").out, search_a.out);

  // Misuse: exit 2, nothing written.
  EXPECT_EQ(run("migrate --from " + q(a) + " --to " + q(pg)).status, 2);  // not empty
  EXPECT_EQ(run("migrate --from " + q(a) + " --to " + q(b)).status, 2);   // file exists
  EXPECT_EQ(run("migrate --from " + q(a) + " --to " + q(a)).status, 2);
  EXPECT_EQ(run("migrate --from " + q(dir.file("none.db")) + " --to " + q(dir.file("c.db"))).status, 2);
  EXPECT_EQ(run("migrate --from " + q(a) + " --to postgresql://bitscrape@127.0.40.2:1/x").status, 2);
}

}  // namespace
}  // namespace bitscrape
