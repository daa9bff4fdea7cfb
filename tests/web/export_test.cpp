// The export formats and helpers on their own (no HTTP): chunked streaming, stopping, file names.
#include "web/export.hpp"
#include "test_util.hpp"
#include "web/metrics.hpp"
#include "web/views.hpp"

#include "metainfo/info_dict.hpp"
#include "metainfo/torrent_file.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <iterator>

namespace bitscrape::web::testing {
namespace {

InfoHash key_ab() {
  return *InfoHash::from_hex("abababababababababababababababababababab");
}

TEST(WebExportTest, SafeFileStem) {
  EXPECT_EQ(safe_file_stem("Debian 12 netinst", key_ab()), "Debian 12 netinst");
  EXPECT_EQ(safe_file_stem("<img src=x onerror=alert(1)>", key_ab()), "_img src=x onerror=alert(1)_");
  EXPECT_EQ(safe_file_stem("a/b\\c:d*e?f\"g|h", key_ab()), "a_b_c_d_e_f_g_h");
  EXPECT_EQ(safe_file_stem("../../etc/passwd", key_ab()), "_.._etc_passwd");
  EXPECT_EQ(safe_file_stem("...", key_ab()), key_ab().hex());
  EXPECT_EQ(safe_file_stem("", key_ab()), key_ab().hex());
  EXPECT_EQ(safe_file_stem(" name. ", key_ab()), "name");
  EXPECT_EQ(safe_file_stem(std::string("tab\there\nnl\x7f"), key_ab()), "tab_here_nl_");
  EXPECT_EQ(safe_file_stem("gpj.\xE2\x80\xAE"
                           "exe",
                           key_ab()),
            "gpj._exe");  // RLO
  EXPECT_EQ(safe_file_stem("bad \xFF utf8", key_ab()), "bad \xEF\xBF\xBD utf8");
  EXPECT_EQ(safe_file_stem("日本語", key_ab()), "日本語");
  // Cut at 120 bytes on a character boundary (3-byte characters: 40 fit).
  std::string long_name;
  for (int i = 0; i < 100; ++i) long_name += "日";
  EXPECT_EQ(safe_file_stem(long_name, key_ab()).size(), 120u);
  EXPECT_EQ(safe_file_stem(std::string(300, 'a'), key_ab()), std::string(120, 'a'));
}

TEST(WebExportTest, ContentDisposition) {
  EXPECT_EQ(content_disposition("a b.torrent"),
            "attachment; filename=\"a b.torrent\"; filename*=UTF-8''a%20b.torrent");
  EXPECT_EQ(content_disposition("q\"\\;%.csv"),
            "attachment; filename=\"q____.csv\"; filename*=UTF-8''q%22%5C%3B%25.csv");
  EXPECT_EQ(content_disposition("é"), "attachment; filename=\"__\"; filename*=UTF-8''%C3%A9");
}

TEST(WebExportTest, Iso8601) {
  EXPECT_EQ(iso8601(storage::from_unix(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(iso8601(storage::from_unix(kBase + 3661)), "2024-05-01T01:01:01Z");
}

TEST(WebExportTest, ExportStreamsInChunksAndStopsWhenTheSinkRefuses) {
  auto store = storage::make_memory_store();
  const auto pop = populate(*store, unix_now(), 40);
  std::vector<std::size_t> chunks;
  std::string all;
  auto r = export_records(
      *store, {ExportFormat::Jsonl, false},
      [&](std::string_view c) {
        chunks.push_back(c.size());
        all.append(c);
        return true;
      },
      2048);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->torrents, pop.torrents.size());
  EXPECT_FALSE(r->stopped);
  EXPECT_GT(chunks.size(), 3u);
  for (std::size_t i = 0; i + 1 < chunks.size(); ++i) EXPECT_GE(chunks[i], 2048u);
  EXPECT_EQ(static_cast<std::size_t>(std::count(all.begin(), all.end(), '\n')), pop.torrents.size());

  int calls = 0;
  r = export_records(
      *store, {ExportFormat::Csv, true}, [&](std::string_view) { return ++calls < 2; }, 256);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->stopped);
  EXPECT_EQ(calls, 2);
  EXPECT_LT(r->torrents, pop.torrents.size());
  EXPECT_EQ(r->without_metadata, 0u);
}

TEST(WebExportTest, RowsWithoutMetadataSayWhyAndWhereTheKeyCameFrom) {
  auto store = storage::make_memory_store();
  const auto pop = populate(*store, unix_now(), 2);
  storage::WriteBatch b;
  b.fetch_outcomes.push_back({pop.without_metadata[1], storage::from_unix(unix_now()), true});  // given up on
  ASSERT_TRUE(store->write(b));
  std::string all;
  auto r = export_records(*store, {ExportFormat::Jsonl, true}, [&](std::string_view c) {
    all.append(c);
    return true;
  });
  ASSERT_TRUE(r) << r.error();
  std::map<std::string, nlohmann::json> rows;
  std::istringstream in(all);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    rows[j.at("infohash").get<std::string>()] = j;
  }
  const auto& pending = rows.at(pop.without_metadata[0].hex());
  EXPECT_EQ(pending.at("state"), "pending");
  EXPECT_EQ(pending.at("sources"), nlohmann::json::array({"get_peers"}));
  EXPECT_EQ(pending.at("fetch_attempts"), 0);
  const auto& failed = rows.at(pop.without_metadata[1].hex());
  EXPECT_EQ(failed.at("state"), "failed");
  EXPECT_EQ(failed.at("fetch_attempts"), 1);
  // Torrent rows keep their shape.
  EXPECT_FALSE(rows.at(pop.torrents[0].key.hex()).contains("state"));
}

TEST(WebExportTest, TorrentFilesParseAndCarryTheirHash) {
  auto store = storage::make_memory_store();
  const auto pop = populate(*store, unix_now(), 2);
  TempDir dir;
  const std::filesystem::path out = dir.file("torrents");
  auto r = export_torrent_files(*store, out);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->torrents, pop.torrents.size());
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    ++files;
    const auto name = e.path().filename().string();
    EXPECT_EQ(name.find_first_of("<>:\"/\\|?*"), std::string::npos) << name;
    std::ifstream f(e.path(), std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    auto info = metainfo::find_info_dict(bytes);
    ASSERT_TRUE(info) << name;
    auto parsed = metainfo::parse_info_dict(*info);
    ASSERT_TRUE(parsed) << name;
    const auto key = parsed->v1 ? *parsed->v1 : *parsed->v2_key();
    EXPECT_NE(name.find("-" + key.hex().substr(0, 8) + ".torrent"), std::string::npos) << name;
  }
  EXPECT_EQ(files, pop.torrents.size());
  const auto hostile = pop.by_name(kHostileName).key.hex().substr(0, 8);
  EXPECT_TRUE(std::filesystem::exists(out / ("_img src=x onerror=alert(1)_-" + hostile + ".torrent")));
}

TEST(WebViewsTest, FileTreeIsBoundedAndMarksTruncation) {
  storage::TorrentRecord t;
  t.name = "T";
  t.file_count = 5;
  for (int i = 0; i < 5; ++i) t.files.push_back({"d/f" + std::to_string(i), i});
  auto tree = file_tree_json(t, 3);
  EXPECT_EQ(tree["truncated"], true);
  EXPECT_EQ(tree["files"], 3);
  EXPECT_EQ(tree["children"][0]["children"].size(), 3u);
  tree = file_tree_json(t, 10);
  EXPECT_EQ(tree["truncated"], false);
  EXPECT_EQ(tree["size"], 0 + 1 + 2 + 3 + 4);
  // Fewer files stored than file_count (the store truncated the list): also marked.
  t.file_count = 9;
  EXPECT_EQ(file_tree_json(t, 10)["truncated"], true);
}

TEST(WebViewsTest, NonFiniteNumbersAndBadUtf8StayValidJson) {
  telemetry::Snapshot s;
  s.samples_per_s = std::numeric_limits<double>::quiet_NaN();
  s.metadata_per_s = std::numeric_limits<double>::infinity();
  s.queues.push_back({"q\xFF", 1, 2});
  const auto text = dump(live_json(s));
  const auto back = nlohmann::json::parse(text);
  EXPECT_EQ(back["samples_per_s"], 0);
  EXPECT_EQ(back["metadata_per_s"], 0);
  EXPECT_EQ(back["queues"][0]["name"], "q\xEF\xBF\xBD");
}

TEST(WebViewsTest, KeyspaceIsNormalisedTo4Or8Bits) {
  KeyspaceCoverage k;
  k.prefix_bits = 4;
  k.cells.resize(3, {1, 2});  // too few cells: the rest are empty
  auto j = keyspace_json(k);
  EXPECT_EQ(j["nodes_queried"].size(), 16u);
  EXPECT_EQ(j["nodes_queried"][2], 1);
  EXPECT_EQ(j["nodes_queried"][3], 0);
  EXPECT_EQ(j["covered_fraction"], 3.0 / 16.0);
  k.prefix_bits = 20;  // nonsense: reported as an empty 8-bit map, never 2^20 cells
  j = keyspace_json(k);
  EXPECT_EQ(j["nodes_queried"].size(), 256u);
  EXPECT_EQ(j["covered_fraction"], 0);
}

TEST(WebMetricsTest, NamesAndLabelsAreEscaped) {
  EXPECT_EQ(metric_name("ok_name:x"), "ok_name:x");
  EXPECT_EQ(metric_name("bad-name.x y"), "bad_name_x_y");
  EXPECT_EQ(metric_name("9lives"), "_9lives");
  EXPECT_EQ(metric_name(""), "_");
  EXPECT_EQ(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  telemetry::Snapshot s;
  s.counters = {{"dup", 1, false}, {"dup", 2, false}, {"weird name", 3, true}};
  const auto text = prometheus_text(std::nullopt, &s);
  EXPECT_NE(text.find("bitscrape_dup 1\n"), std::string::npos);
  EXPECT_EQ(text.find("bitscrape_dup 2\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE bitscrape_weird_name gauge\nbitscrape_weird_name 3\n"), std::string::npos);
  EXPECT_EQ(text.find("bitscrape_store_"), std::string::npos);
}

}  // namespace
}  // namespace bitscrape::web::testing
