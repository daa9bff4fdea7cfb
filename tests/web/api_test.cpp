// The HTTP API end to end: a web::Server on 127.0.0.1 over a populated SQLite store (read
// through its own read-only connection, as `bitscrape serve` does), queried with httplib's client.
#include "common/csv.hpp"
#include "metainfo/info_dict.hpp"
#include "metainfo/torrent_file.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace bitscrape::web::testing {
namespace {

using nlohmann::json;

class WebApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const auto path = dir_->file("fixture.db");
    {
      auto writer = storage::open_sqlite_store(path);
      ASSERT_TRUE(writer) << writer.error().message;
      pop_ = new Population(populate(**writer, unix_now()));
      // One crawler that stopped cleanly: the instances table shows in /metrics too.
      storage::InstanceInfo info;
      info.listen = "0.0.0.0:6881";
      info.host = "crawler \"one\"";
      info.started = storage::from_unix(unix_now() - 100);
      auto id = (*writer)->register_instance(info);
      ASSERT_TRUE(id);
      storage::Heartbeat hb;
      hb.at = storage::from_unix(unix_now() - 10);
      hb.torrents = 7;
      hb.stopped = true;
      ASSERT_TRUE((*writer)->heartbeat(*id, hb));
    }
    storage::SqliteOptions ro;
    ro.read_only = true;
    auto reader = storage::open_sqlite_store(path, ro);
    ASSERT_TRUE(reader) << reader.error().message;
    store_ = reader->release();
    server_ = start_server(*store_, nullptr, loopback_any_port()).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete store_;
    delete pop_;
    delete dir_;
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(10, 0);
    return c;
  }
  json get_json(const std::string& path, int expect_status = 200) const {
    auto c = client();
    auto r = c.Get(path);
    EXPECT_TRUE(r) << path;
    if (!r) return {};
    EXPECT_EQ(r->status, expect_status) << path << " -> " << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << path;
    return json::parse(r->body);
  }
  std::vector<std::string> names_of(const json& page) const {
    std::vector<std::string> v;
    for (const auto& i : page["items"]) v.push_back(i["name"]);
    return v;
  }

  static TempDir* dir_;
  static Population* pop_;
  static storage::Store* store_;
  static Server* server_;
};
TempDir* WebApiTest::dir_ = nullptr;
Population* WebApiTest::pop_ = nullptr;
storage::Store* WebApiTest::store_ = nullptr;
Server* WebApiTest::server_ = nullptr;

TEST_F(WebApiTest, StatusReportsStoreStatsAndNoLiveSource) {
  const auto j = get_json("/api/status");
  EXPECT_EQ(j["version"], "test");
  EXPECT_EQ(j["store"]["torrents"], pop_->torrents.size());
  EXPECT_EQ(j["store"]["nodes"], 12);
  EXPECT_EQ(j["store"]["pending"], 3);
  EXPECT_TRUE(j["live"].is_null());
  EXPECT_EQ(j["server"]["token_required"], false);
  EXPECT_TRUE(
      std::regex_match(j["time"].get<std::string>(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
}

TEST_F(WebApiTest, SecurityHeadersOnEveryKindOfResponse) {
  auto c = client();
  for (const char* path : {"/", "/api/status", "/api/nope", "/no-such-file", "/api/torrents?limit=0"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    const auto csp = r->get_header_value("Content-Security-Policy");
    EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << path;
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << path;
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << path;
    EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << path;
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff") << path;
    EXPECT_EQ(r->get_header_value("X-Frame-Options"), "DENY") << path;
  }
}

TEST_F(WebApiTest, ServesTheEmbeddedUi) {
  auto c = client();
  auto r = c.Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(r->body.find("<script type=\"module\" src=\"/js/app.js\"></script>"), std::string::npos);
  auto js = c.Get("/js/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  auto chart = c.Get("/vendor/chart.min.js");
  ASSERT_TRUE(chart);
  EXPECT_EQ(chart->status, 200);
  EXPECT_NE(chart->body.find("Chart.js v3"), std::string::npos);
  auto missing = c.Get("/js/../../etc/passwd");
  ASSERT_TRUE(missing);
  EXPECT_GE(missing->status, 400);
  EXPECT_LT(missing->status, 500);
}

TEST_F(WebApiTest, UnknownPathsGiveJson404) {
  auto j = get_json("/api/nope", 404);
  EXPECT_TRUE(j["error"].is_string());
  j = get_json("/nothing-here.html", 404);
  EXPECT_EQ(j["error"], "not found");
}

TEST_F(WebApiTest, SearchFindsByNameAndFilePath) {
  auto j = get_json("/api/torrents?q=ubuntu");
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["name"], "ubuntu-22.04.4-desktop-amd64.iso");
  EXPECT_EQ(j["items"][0]["infohash"], pop_->by_name("ubuntu-22.04.4-desktop-amd64.iso").key.hex());
  EXPECT_EQ(j["total"], 1);
  EXPECT_EQ(j["total_exact"], true);
  // A word that only appears in a file path.
  j = get_json("/api/torrents?q=guide");
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["name"], "Debian 12 netinst");
  // Prefix match while typing.
  j = get_json("/api/torrents?q=natu");
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["name"], "Nature Documentary Collection");
  EXPECT_EQ(j["items"][0]["file_count"], 28);
}

TEST_F(WebApiTest, SearchSaysWhenItsOrderCoversOnlyTheNewestMatches) {
  auto j = get_json("/api/torrents?q=filler");
  EXPECT_EQ(j["window_limited"], false);
  EXPECT_EQ(j["window"], 5000);
  ServerOptions o = loopback_any_port();
  o.search_window = 3;
  auto small = start_server(*store_, nullptr, o);
  httplib::Client c("127.0.0.1", small->port());
  auto r = c.Get("/api/torrents?q=filler");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["window_limited"], true);
  EXPECT_EQ(j["window"], 3);
  EXPECT_EQ(j["total_exact"], false);
  EXPECT_LE(j["items"].size(), 3u);
  // Without text, size order walks an index: exact, no window.
  r = c.Get("/api/torrents?sort=size");
  ASSERT_TRUE(r);
  EXPECT_EQ(nlohmann::json::parse(r->body)["window_limited"], false);
  o.search_window = 0;
  EXPECT_FALSE(validate(o));
}

TEST_F(WebApiTest, SearchFiltersBySizeFilesAndDate) {
  // Fillers are i * 10 MiB + i bytes; sizes between 100 MiB and 150 MiB inclusive: i = 10..14
  // (i=15 is 150 MiB + 15 bytes, outside).
  auto j = get_json("/api/torrents?q=filler&min_size=104857600&max_size=157286400&sort=size&order=asc");
  EXPECT_EQ(names_of(j),
            (std::vector<std::string>{"Filler torrent 010", "Filler torrent 011", "Filler torrent 012",
                                      "Filler torrent 013", "Filler torrent 014"}));
  // Multi-file torrents with at least 20 files.
  j = get_json("/api/torrents?min_files=20");
  EXPECT_EQ(names_of(j), std::vector<std::string>{"Nature Documentary Collection"});
  // Exactly 2 files, by name.
  j = get_json("/api/torrents?min_files=2&max_files=2&sort=name&order=asc");
  EXPECT_EQ(names_of(j), (std::vector<std::string>{"Big Buck Bunny 1080p", "Open Source Fonts Pack",
                                                   "Ünïcödé — 日本語のテスト"}));
  // Discovered on 2024-05-03 (kBase + 2 days) through 2024-05-04 (whole day inclusive).
  j = get_json("/api/torrents?from=2024-05-03&to=2024-05-04&sort=discovered&order=asc");
  EXPECT_EQ(names_of(j), (std::vector<std::string>{"Debian 12 netinst", kHostileName}));
  // The same with unix seconds and date-times.
  j = get_json("/api/torrents?from=" + std::to_string(kBase + 2 * 86400) +
               "&to=2024-05-04T23:59:59Z&sort=discovered");
  EXPECT_EQ(names_of(j), (std::vector<std::string>{kHostileName, "Debian 12 netinst"}));
}

TEST_F(WebApiTest, SearchSortsAndPaginates) {
  const auto total = pop_->torrents.size();
  std::vector<std::string> all;
  for (std::size_t off = 0; off < total; off += 7) {
    auto j = get_json("/api/torrents?sort=name&order=asc&limit=7&offset=" + std::to_string(off));
    EXPECT_EQ(j["total"], total);
    EXPECT_EQ(j["limit"], 7);
    EXPECT_EQ(j["offset"], off);
    EXPECT_LE(j["items"].size(), 7u);
    for (const auto& n : names_of(j)) all.push_back(n);
  }
  ASSERT_EQ(all.size(), total);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), total);
  // Past the end: empty page, same total.
  auto j = get_json("/api/torrents?offset=" + std::to_string(total + 5));
  EXPECT_TRUE(j["items"].empty());
  EXPECT_EQ(j["total"], total);
  // Size descending.
  j = get_json("/api/torrents?sort=size&order=desc&limit=3");
  EXPECT_EQ(j["items"][0]["name"], "Nature Documentary Collection");
  EXPECT_GE(j["items"][0]["total_bytes"].get<std::int64_t>(),
            j["items"][1]["total_bytes"].get<std::int64_t>());
  EXPECT_GE(j["items"][1]["total_bytes"].get<std::int64_t>(),
            j["items"][2]["total_bytes"].get<std::int64_t>());
}

TEST_F(WebApiTest, HostileSearchTextNeverBreaksTheQuery) {
  const auto before = get_json("/api/status")["store"];
  for (const char* q :
       {"%22", "*", "NEAR(", "NEAR(a b", "'; DROP TABLE torrents; --", "name:x", "^", ")", "(", "\"\"\"", "-",
        "AND", "OR NOT", "%00", "%FF%FE", "a*b*c", "{}", "\\", "%27%22%29"}) {
    auto c = client();
    auto r = c.Get(std::string("/api/torrents?q=") + q);
    ASSERT_TRUE(r) << q;
    EXPECT_EQ(r->status, 200) << q << " -> " << r->body;
    const auto j = json::parse(r->body);
    EXPECT_TRUE(j["items"].is_array()) << q;
  }
  // The hostile name itself is searchable, and comes back as the same text.
  auto j = get_json("/api/torrents?q=img%20onerror");
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["name"], kHostileName);
  // Nothing was dropped.
  EXPECT_EQ(get_json("/api/status")["store"], before);
}

TEST_F(WebApiTest, BadParametersGive400WithJsonError) {
  for (const char* path :
       {"/api/torrents?limit=0",
        "/api/torrents?limit=1001",
        "/api/torrents?limit=abc",
        "/api/torrents?offset=-1",
        "/api/torrents?sort=price",
        "/api/torrents?order=up",
        "/api/torrents?min_size=-5",
        "/api/torrents?min_size=1e3",
        "/api/torrents?max_files=99999999999",
        "/api/torrents?from=yesterday",
        "/api/torrents?from=2024-02-30",
        "/api/torrents?from=2024-05-02&to=2024-05-01",
        "/api/torrents?min_size=10&max_size=5",
        "/api/torrents?colour=red",
        "/api/torrents?q=a&q=b",
        "/api/torrents/xyz",
        "/api/torrents/abcd",
        "/api/torrents/"
        "0123456789012345678901234567890123456789zz",
        "/api/series",
        "/api/series?name=x&points=0",
        "/api/series?name=x&agg=median",
        "/api/export?format=xml",
        "/api/export?all=maybe",
        "/api/recent?limit=500",
        "/api/status?x=1",
        "/api/torrents?q="
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaa"}) {
    auto c = client();
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 400) << path << " -> " << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << path;
    const auto j = json::parse(r->body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << path;
    EXPECT_TRUE(j["error"].is_string() && !j["error"].get<std::string>().empty()) << path;
  }
}

TEST_F(WebApiTest, TorrentDetailHasTreeMagnetHashesPeersAndDates) {
  const auto& debian = pop_->by_name("Debian 12 netinst");
  const auto j = get_json("/api/torrents/" + debian.key.hex());
  EXPECT_EQ(j["name"], "Debian 12 netinst");
  EXPECT_EQ(j["infohash"], debian.key.hex());
  EXPECT_EQ(j["infohash_v1"], debian.key.hex());
  EXPECT_TRUE(j["infohash_v2"].is_null());
  EXPECT_EQ(j["file_count"], 4);
  EXPECT_EQ(j["piece_length"], 1 << 20);
  EXPECT_EQ(j["single_file"], false);
  EXPECT_EQ(j["has_torrent_file"], true);
  EXPECT_EQ(j["magnet"], "magnet:?xt=urn:btih:" + debian.key.hex() + "&dn=Debian%2012%20netinst");
  EXPECT_EQ(j["discovered_at"], "2024-05-03T00:00:00Z");
  EXPECT_EQ(j["fetched_at"], "2024-05-03T00:01:00Z");
  EXPECT_EQ(j["first_seen"], "2024-05-03T00:00:00Z");
  EXPECT_EQ(j["last_seen"], "2024-05-03T01:01:00Z");
  EXPECT_EQ(j["sources"], json::array({"sample", "announce_peer"}));
  EXPECT_EQ(j["peers"]["count"], 2);
  ASSERT_EQ(j["peers"]["recent"].size(), 2u);
  EXPECT_EQ(j["peers"]["recent"][0]["endpoint"], "192.168.1.2:51413");
  // Tree: directories first (by name), then files (by name); sizes summed.
  const auto& root = j["files"];
  EXPECT_EQ(root["name"], "Debian 12 netinst");
  EXPECT_EQ(root["files"], 4);
  EXPECT_EQ(root["truncated"], false);
  EXPECT_EQ(root["size"], debian.total_size);
  ASSERT_EQ(root["children"].size(), 3u);
  EXPECT_EQ(root["children"][0]["name"], "docs");
  EXPECT_EQ(root["children"][0]["files"], 2);
  EXPECT_EQ(root["children"][0]["size"], 5300 + 3 * (1 << 20));
  EXPECT_EQ(root["children"][0]["children"][0]["name"], "install");
  EXPECT_EQ(root["children"][0]["children"][0]["children"][0]["name"], "guide.pdf");
  EXPECT_EQ(root["children"][0]["children"][1]["name"], "README.txt");
  EXPECT_EQ(root["children"][1]["name"], "SHA256SUMS");
  EXPECT_EQ(root["children"][2]["name"], "debian-12.5.0-amd64-netinst.iso");
  EXPECT_FALSE(root["children"][2].contains("children"));
}

TEST_F(WebApiTest, HybridTorrentIsReachableByEitherHash) {
  const auto& hybrid = pop_->by_name("hybridmulti");
  const auto j = get_json("/api/torrents/" + hybrid.key.hex());
  EXPECT_EQ(j["infohash_v1"], "2888ac850759772e89e0e69d035560ccfd8e7145");
  EXPECT_EQ(j["infohash_v2"], "37338bad6cb9827a2663df1a9a42e4ffeaf573f2185759e549158ea9e075040a");
  EXPECT_EQ(j["magnet"],
            "magnet:?xt=urn:btih:2888ac850759772e89e0e69d035560ccfd8e7145&xt=urn:btmh:"
            "122037338bad6cb9827a2663df1a9a42e4ffeaf573f2185759e549158ea9e075040a&dn=hybridmulti");
  // By the full v2 hash and by its truncated DHT key.
  EXPECT_EQ(
      get_json("/api/torrents/37338bad6cb9827a2663df1a9a42e4ffeaf573f2185759e549158ea9e075040a")["name"],
      "hybridmulti");
  EXPECT_EQ(get_json("/api/torrents/37338BAD6CB9827A2663DF1A9A42E4FFEAF573F2")["name"], "hybridmulti");
  // Pad files are not listed.
  EXPECT_EQ(j["file_count"], 3);
  EXPECT_EQ(j["files"]["children"][0]["name"], "sub");
}

TEST_F(WebApiTest, UnknownTorrentIs404) {
  const auto j = get_json("/api/torrents/0000000000000000000000000000000000000000", 404);
  EXPECT_EQ(j["error"], "no torrent with this infohash");
  get_json("/api/torrents/0000000000000000000000000000000000000000/torrent", 404);
}

TEST_F(WebApiTest, TorrentDownloadParsesAndHasTheRightInfohash) {
  for (const auto& t : pop_->torrents) {
    auto c = client();
    auto r = c.Get("/api/torrents/" + t.key.hex() + "/torrent");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << t.name;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/x-bittorrent");
    auto info = metainfo::find_info_dict(r->body);
    ASSERT_TRUE(info) << t.name;
    auto parsed = metainfo::parse_verified(*info, t.key);
    ASSERT_TRUE(parsed) << t.name << ": " << parsed.error().reason();
    EXPECT_EQ(parsed->name, t.name);
  }
  // Content-Disposition: a safe ASCII fallback plus the UTF-8 name.
  auto c = client();
  auto r = c.Get("/api/torrents/" + pop_->by_name(kHostileName).key.hex() + "/torrent");
  ASSERT_TRUE(r);
  // httplib's client percent-decodes header values as it parses them, so this is the decoded
  // form of filename*=UTF-8''_img%20src%3Dx... (the wire form is checked by tests/web/cli_test.mjs
  // and content_disposition() by WebExportTest.ContentDisposition).
  EXPECT_EQ(r->get_header_value("Content-Disposition"),
            "attachment; filename=\"_img src=x onerror=alert(1)_.torrent\"; "
            "filename*=UTF-8''_img src=x onerror=alert(1)_.torrent");
  r = c.Get("/api/torrents/" + pop_->by_name("Ünïcödé — 日本語のテスト").key.hex() + "/torrent");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Content-Disposition"),
            "attachment; filename=\"__n__c__d__ ___ _____________________.torrent\"; "
            "filename*=UTF-8''Ünïcödé — 日本語のテスト.torrent");
}

std::vector<std::vector<std::string>> parse_csv(const std::string& body) {
  std::vector<std::vector<std::string>> rows;
  std::size_t pos = 0;
  while (pos < body.size()) {
    const auto nl = body.find('\n', pos);
    const auto line = body.substr(pos, nl - pos);
    pos = nl == std::string::npos ? body.size() : nl + 1;
    auto fields = split_csv_line(line);
    EXPECT_TRUE(fields) << line;
    if (fields) rows.push_back(*fields);
  }
  return rows;
}

TEST_F(WebApiTest, ExportCsvHasTheSeedHeaderAndQuotes) {
  auto c = client();
  auto r = c.Get("/api/export?format=csv");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(r->get_header_value("Transfer-Encoding"), "chunked");
  EXPECT_NE(r->get_header_value("Content-Disposition").find("bitscrape-export.csv"), std::string::npos);
  EXPECT_EQ(
      r->body.rfind("infohash,name,file_count,total_bytes,piece_length,peer_ip,peer_port,metadata_ok\n", 0),
      0u);
  // RFC 4180 quoting of the awkward name, exactly.
  const auto& csv_t = pop_->by_name(kCsvName);
  EXPECT_NE(r->body.find(csv_t.key.hex() + ",\"Comma, \"\"Quote\"\" name\",1,12345,262144,,,True\n"),
            std::string::npos);
  const auto rows = parse_csv(r->body);
  ASSERT_EQ(rows.size(), pop_->torrents.size() + 1);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 8u);
    EXPECT_EQ(rows[i][7], "True");
    EXPECT_EQ(rows[i][0].size(), 40u);
  }
  // The Debian torrent's latest peer.
  const auto debian = pop_->by_name("Debian 12 netinst").key.hex();
  EXPECT_NE(r->body.find(debian + ",Debian 12 netinst,4,"), std::string::npos);
  EXPECT_NE(r->body.find(",192.168.1.2,51413,True\n"), std::string::npos);

  // all=1 adds the keys without metadata, False, with their peer when known.
  r = c.Get("/api/export?format=csv&all=1");
  ASSERT_TRUE(r);
  const auto all = parse_csv(r->body);
  ASSERT_EQ(all.size(), pop_->torrents.size() + 1 + 3);
  std::set<std::string> pending;
  for (const auto& row : all) {
    if (row[7] == "False") pending.insert(row[0]);
  }
  EXPECT_EQ(pending, (std::set<std::string>{pop_->without_metadata[0].hex(), pop_->without_metadata[1].hex(),
                                            pop_->without_metadata[2].hex()}));
  EXPECT_NE(r->body.find(pop_->without_metadata[0].hex() + ",,,,,10.0.0.9,6889,False\n"), std::string::npos);
}

TEST_F(WebApiTest, ExportJsonlFollowsTheContract) {
  auto c = client();
  auto r = c.Get("/api/export?format=jsonl&all=true");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/x-ndjson");
  std::vector<json> lines;
  std::size_t pos = 0;
  while (pos < r->body.size()) {
    const auto nl = r->body.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    lines.push_back(json::parse(r->body.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  ASSERT_EQ(lines.size(), pop_->torrents.size() + 3);
  const std::set<std::string> keys{"infohash",    "infohash_v1",   "infohash_v2", "name",
                                   "total_bytes", "piece_length",  "file_count",  "files",
                                   "magnet",      "discovered_at", "fetched_at",  "peers",
                                   "sources"};
  // A key without metadata also says why (state, fetch_attempts).
  std::set<std::string> keys_without = keys;
  keys_without.insert({"state", "fetch_attempts"});
  const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  std::map<std::string, json> by_name;
  int without = 0;
  for (const auto& l : lines) {
    std::set<std::string> have;
    for (auto it = l.begin(); it != l.end(); ++it) have.insert(it.key());
    EXPECT_EQ(have, l["name"].is_null() ? keys_without : keys);
    EXPECT_EQ(l["infohash"].get<std::string>().size(), 40u);
    EXPECT_TRUE(std::regex_match(l["discovered_at"].get<std::string>(), iso));
    if (l["name"].is_null()) {
      ++without;
      EXPECT_TRUE(l["files"].is_null());
      EXPECT_TRUE(l["fetched_at"].is_null());
      EXPECT_EQ(l["magnet"], "magnet:?xt=urn:btih:" + l["infohash"].get<std::string>());
    } else {
      EXPECT_TRUE(std::regex_match(l["fetched_at"].get<std::string>(), iso));
      by_name[l["name"]] = l;
    }
  }
  EXPECT_EQ(without, 3);
  // Single file: the one file's path is the torrent's name.
  const auto& ubuntu = by_name.at("ubuntu-22.04.4-desktop-amd64.iso");
  EXPECT_EQ(ubuntu["files"],
            json::parse(R"([{"path":"ubuntu-22.04.4-desktop-amd64.iso","length":4819255296}])"));
  EXPECT_EQ(ubuntu["infohash"], ubuntu["infohash_v1"]);
  EXPECT_EQ(ubuntu["file_count"], 1);
  EXPECT_EQ(ubuntu["piece_length"], 4 << 20);
  // Multi-file: paths inside the torrent, without its name.
  const auto& debian = by_name.at("Debian 12 netinst");
  EXPECT_EQ(debian["files"][2], json::parse(R"({"path":"docs/README.txt","length":5300})"));
  EXPECT_EQ(debian["peers"], 2);
  EXPECT_EQ(debian["sources"], json::array({"sample", "announce_peer"}));
  EXPECT_EQ(debian["discovered_at"], "2024-05-03T00:00:00Z");
  // Hybrid: both hashes, the DHT key is the v1 one.
  const auto& hybrid = by_name.at("hybridmulti");
  EXPECT_EQ(hybrid["infohash"], "2888ac850759772e89e0e69d035560ccfd8e7145");
  EXPECT_EQ(hybrid["infohash_v2"], "37338bad6cb9827a2663df1a9a42e4ffeaf573f2185759e549158ea9e075040a");
  EXPECT_EQ(hybrid["files"].size(), 3u);
  EXPECT_EQ(hybrid["files"][1]["path"], "sub/b.bin");
  // Hostile names are data, unchanged.
  // ('/' inside one component became '_' when metainfo sanitised the path.)
  EXPECT_EQ(by_name.at(kHostileName)["files"][0]["path"], "<script>alert(2)<_script>.txt");
}

TEST_F(WebApiTest, SeriesAndNames) {
  auto j = get_json("/api/series/names");
  EXPECT_EQ(j["names"], json::array({"infohashes_total", "metadata_total", "nodes_in_table", "packets_in"}));
  const auto now = unix_now();
  j = get_json("/api/series?name=metadata_total&from=" + std::to_string(now - 7200 - 120) +
               "&to=" + std::to_string(now) + "&points=1000&agg=last");
  EXPECT_EQ(j["name"], "metadata_total");
  ASSERT_GE(j["points"].size(), 100u);
  // Cumulative: never decreasing, last value 100 + 120 * 4.
  double prev = -1;
  for (const auto& p : j["points"]) {
    EXPECT_GE(p[1].get<double>(), prev);
    prev = p[1];
  }
  EXPECT_EQ(prev, 580);
  j = get_json("/api/series?name=no_such_counter");
  EXPECT_TRUE(j["points"].empty());
}

TEST_F(WebApiTest, NodesWithoutLiveSource) {
  const auto j = get_json("/api/nodes");
  EXPECT_EQ(j["stored"], 12);
  EXPECT_EQ(j["recent_good"].size(), 12u);
  EXPECT_EQ(j["recent_good"][0]["endpoint"], "127.0.1.1:6881");
  EXPECT_TRUE(j["live"].is_null());
}

TEST_F(WebApiTest, ControlsWithoutACrawlAre409) {
  auto c = client();
  auto r = c.Post("/api/control/sampling", R"({"paused":true})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_NE(json::parse(r->body)["error"].get<std::string>().find("no crawl"), std::string::npos);
}

TEST_F(WebApiTest, RecentFromTheStoreWithoutLiveSource) {
  const auto j = get_json("/api/recent?limit=3");
  EXPECT_EQ(j["live"], false);
  ASSERT_EQ(j["items"].size(), 3u);
  EXPECT_EQ(j["items"][0]["name"], "Filler torrent 040");  // discovered last
  EXPECT_EQ(j["items"][0]["kind"], "metadata");
}

TEST_F(WebApiTest, MetricsInPrometheusTextFormat) {
  auto c = client();
  auto r = c.Get("/metrics");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r->body.find("# TYPE bitscrape_store_torrents gauge\nbitscrape_store_torrents " +
                         std::to_string(pop_->torrents.size()) + "\n"),
            std::string::npos);
  EXPECT_NE(r->body.find("\nbitscrape_live 0\n"), std::string::npos);
  const std::regex sample(
      R"([a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-z_]+="([^"\\]|\\.)*"(,[a-z_]+="([^"\\]|\\.)*")*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|NaN|[+-]Inf))");
  const std::regex comment(R"(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+)");
  std::size_t pos = 0;
  int samples = 0;
  while (pos < r->body.size()) {
    const auto nl = r->body.find('\n', pos);
    ASSERT_NE(nl, std::string::npos) << "the last line must end with a newline";
    const auto line = r->body.substr(pos, nl - pos);
    pos = nl + 1;
    if (line[0] == '#') {
      EXPECT_TRUE(std::regex_match(line, comment)) << line;
    } else {
      EXPECT_TRUE(std::regex_match(line, sample)) << line;
      ++samples;
    }
  }
  EXPECT_EQ(samples, 9 + 6);  // up, live, 7 store gauges; 6 per instance (one)
  EXPECT_NE(r->body.find("bitscrape_instance_up{bitscrape_instance=\"1\",host=\"crawler \\\"one\\\"\"} 0\n"),
            std::string::npos)
      << "a stopped instance, its host name escaped";
}

TEST_F(WebApiTest, EventStreamDeliversStatusAtLeastOncePerSecond) {
  auto c = client();
  std::string received;
  int statuses = 0;
  const auto start = std::chrono::steady_clock::now();
  auto r = c.Get(
      "/api/events", httplib::Headers{{"Accept", "text/event-stream"}},
      [&](const httplib::Response& res) {
        EXPECT_EQ(res.status, 200);
        EXPECT_EQ(res.get_header_value("Content-Type"), "text/event-stream");
        return true;
      },
      [&](const char* data, std::size_t n) {
        received.append(data, n);
        statuses = 0;
        for (auto p = received.find("event: status\ndata: "); p != std::string::npos;
             p = received.find("event: status\ndata: ", p + 1)) {
          ++statuses;
        }
        return std::chrono::steady_clock::now() - start < std::chrono::milliseconds(2500);
      });
  EXPECT_GE(statuses, 2) << received.substr(0, 500);
  EXPECT_EQ(received.rfind("retry: 3000\n\n", 0), 0u);
  // The first status event carries the /api/status document; the first recent event the list.
  const auto p = received.find("event: status\ndata: ") + 20;
  const auto status = json::parse(received.substr(p, received.find('\n', p) - p));
  EXPECT_EQ(status["store"]["torrents"], pop_->torrents.size());
  const auto q = received.find("event: recent\ndata: ");
  ASSERT_NE(q, std::string::npos);
  const auto recent = json::parse(received.substr(q + 20, received.find('\n', q + 20) - q - 20));
  EXPECT_EQ(recent["items"].size(), 20u);
}

TEST_F(WebApiTest, ForeignHostHeaderIsRefusedWithoutToken) {
  auto c = client();
  auto r = c.Get("/api/status", httplib::Headers{{"Host", "attacker.example:8080"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_TRUE(json::parse(r->body)["error"].is_string());
  r = c.Get("/api/status", httplib::Headers{{"Host", "localhost:1234"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// --- with the fake LiveSource ---------------------------------------------------------------

class WebLiveApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = storage::make_memory_store();
    pop_ = populate(*store_, unix_now(), 5);
    server_ = start_server(*store_, &live_, loopback_any_port());
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(10, 0);
    return c;
  }
  httplib::Result post(const std::string& path, const std::string& body,
                       const std::string& type = "application/json") const {
    auto c = client();
    return c.Post(path, body, type);
  }

  std::unique_ptr<storage::Store> store_;
  Population pop_;
  FakeLiveSource live_;
  std::unique_ptr<Server> server_;
};

TEST_F(WebLiveApiTest, StatusCarriesTheLiveSnapshot) {
  auto c = client();
  const auto j = body_json(c.Get("/api/status"));
  ASSERT_TRUE(j["live"].is_object());
  EXPECT_EQ(j["live"]["metadata_success_rate"], 0.625);
  EXPECT_EQ(j["live"]["packet_budget"], 1000);
  EXPECT_EQ(j["live"]["queues"][1], json::parse(R"({"name":"fetch","depth":35,"capacity":5000})"));
  EXPECT_EQ(j["live"]["counters"]["drop_martian_node"], 17);
  EXPECT_EQ(j["live"]["sampling_paused"], false);
}

TEST_F(WebLiveApiTest, ControlsReachTheCrawler) {
  auto r = post("/api/control/sampling", R"({"paused":true})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(live_.sampling_paused());
  EXPECT_EQ(json::parse(r->body)["live"]["sampling_paused"], true);
  r = post("/api/control/fetching", R"({"paused":true})");
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(live_.fetching_paused());
  r = post("/api/control/fetching", R"({"paused":false})");
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(live_.fetching_paused());
  r = post("/api/control/packet-budget", R"({"packets_per_s":250.5})");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(live_.packet_budget(), 250.5);
}

TEST_F(WebLiveApiTest, BadControlRequestsAre4xxAndChangeNothing) {
  struct Case {
    const char* path;
    const char* body;
    const char* type;
    int status;
  };
  for (const auto& k : std::vector<Case>{
           {"/api/control/sampling", R"({"paused":"yes"})", "application/json", 400},
           {"/api/control/sampling", R"({})", "application/json", 400},
           {"/api/control/sampling", R"([true])", "application/json", 400},
           {"/api/control/sampling", R"({"paused":tru)", "application/json", 400},
           {"/api/control/sampling", "paused=true", "application/x-www-form-urlencoded", 415},
           {"/api/control/sampling", R"({"paused":true})", "text/plain", 415},
           {"/api/control/packet-budget", R"({"packets_per_s":0})", "application/json", 400},
           {"/api/control/packet-budget", R"({"packets_per_s":1e9})", "application/json", 400},
           {"/api/control/packet-budget", R"({"packets_per_s":"100"})", "application/json", 400},
           {"/api/control/reboot", R"({})", "application/json", 404},
       }) {
    auto r = post(k.path, k.body, k.type);
    ASSERT_TRUE(r) << k.body;
    EXPECT_EQ(r->status, k.status) << k.path << " " << k.body << " -> " << r->body;
    EXPECT_TRUE(json::parse(r->body)["error"].is_string()) << k.body;
  }
  EXPECT_FALSE(live_.sampling_paused());
  EXPECT_EQ(live_.packet_budget(), 1000);
  // A body over the limit.
  auto r = post("/api/control/sampling", std::string(64 << 10, ' '));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(json::parse(r->body)["error"].is_string());
  // GET on a control endpoint is not a control.
  auto c = client();
  auto g = c.Get("/api/control/sampling");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 404);
  EXPECT_FALSE(live_.sampling_paused());
}

TEST_F(WebLiveApiTest, RefusedControlIs409WithTheCrawlersReason) {
  live_.refuse_controls("the crawler is shutting down");
  auto r = post("/api/control/sampling", R"({"paused":true})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(json::parse(r->body)["error"], "the crawler is shutting down");
}

TEST_F(WebLiveApiTest, NodesShowRoutingTableKeyspaceAndClients) {
  auto c = client();
  const auto j = body_json(c.Get("/api/nodes"));
  const auto& l = j["live"];
  ASSERT_EQ(l["routing_table"].size(), 2u);
  EXPECT_EQ(l["routing_table"][0]["family"], "ipv4");
  EXPECT_EQ(l["routing_table"][0]["buckets"].size(), 22u);
  EXPECT_EQ(l["routing_table"][1]["nodes"], 8 + 7 + 6 + 5 + 4 + 3);
  EXPECT_EQ(l["keyspace"]["prefix_bits"], 8);
  EXPECT_EQ(l["keyspace"]["nodes_queried"].size(), 256u);
  EXPECT_EQ(l["keyspace"]["nodes_queried"][0], 0);
  EXPECT_NEAR(l["keyspace"]["covered_fraction"].get<double>(), 240.0 / 256.0, 1e-9);
  EXPECT_EQ(l["client_versions"][3]["version"], "<b>bold</b> \"client\"");
}

TEST_F(WebLiveApiTest, MetricsIncludeLiveCounters) {
  auto c = client();
  auto r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("\nbitscrape_live 1\n"), std::string::npos);
  EXPECT_NE(r->body.find("# TYPE bitscrape_drop_martian_node counter\nbitscrape_drop_martian_node 17\n"),
            std::string::npos);
  EXPECT_NE(r->body.find("# TYPE bitscrape_gauge_transactions gauge\nbitscrape_gauge_transactions 64\n"),
            std::string::npos);
  EXPECT_NE(r->body.find("bitscrape_queue_depth{queue=\"fetch\"} 35\n"), std::string::npos);
  EXPECT_NE(r->body.find("bitscrape_live_metadata_success_ratio 0.625\n"), std::string::npos);
  EXPECT_NE(r->body.find("bitscrape_store_torrents 16\n"), std::string::npos);
}

TEST_F(WebLiveApiTest, InstancesSharingTheDatabaseAreListedAndLabelTheMetrics) {
  const auto now = unix_now();
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    storage::InstanceInfo info;
    info.node_id.bytes[0] = static_cast<std::uint8_t>(0xa0 + i);
    info.listen = "10.0.0." + std::to_string(i + 1) + ":6881";
    info.host = "host" + std::to_string(i + 1);
    info.started = storage::from_unix(now - 600);
    auto id = store_->register_instance(info);
    ASSERT_TRUE(id);
    ids.push_back(*id);
  }
  storage::Heartbeat hb;
  hb.at = storage::from_unix(now - 2);
  hb.torrents = 40;
  hb.infohashes = 900;
  hb.torrents_per_s = 1.5;
  ASSERT_TRUE(store_->heartbeat(ids[0], hb));  // live
  hb.torrents = 12;
  hb.stopped = true;
  ASSERT_TRUE(store_->heartbeat(ids[1], hb));  // stopped cleanly
  hb.at = storage::from_unix(now - 300);
  hb.stopped = false;
  hb.torrents = 5;
  ASSERT_TRUE(store_->heartbeat(ids[2], hb));  // killed: its heartbeats stopped
  live_.set_instance_id(ids[0]);

  auto c = client();
  const auto j = body_json(c.Get("/api/instances"));
  ASSERT_EQ(j["instances"].size(), 3u);
  EXPECT_EQ(j["live"], 1);
  EXPECT_EQ(j["self"], ids[0]);
  EXPECT_EQ(j["instances"][0]["state"], "live");
  EXPECT_EQ(j["instances"][0]["host"], "host1");
  EXPECT_EQ(j["instances"][0]["node_id"], std::string("a0") + std::string(38, '0'));
  EXPECT_EQ(j["instances"][0]["torrents"], 40);
  EXPECT_EQ(j["instances"][0]["torrents_per_s"], 1.5);
  EXPECT_EQ(j["instances"][1]["state"], "stopped");
  EXPECT_EQ(j["instances"][2]["state"], "gone");
  EXPECT_EQ(j["instances"][2]["listen"], "10.0.0.3:6881");
  EXPECT_EQ(body_json(c.Get("/api/status"))["live"]["instance_id"], ids[0]);

  auto r = c.Get("/metrics");
  ASSERT_TRUE(r);
  const auto label = [&](int i) {
    return "{bitscrape_instance=\"" + std::to_string(ids[i]) + "\",host=\"host" + std::to_string(i + 1) + "\"}";
  };
  EXPECT_NE(r->body.find("bitscrape_instance_up" + label(0) + " 1\n"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("bitscrape_instance_up" + label(1) + " 0\n"), std::string::npos);
  EXPECT_NE(r->body.find("bitscrape_instance_up" + label(2) + " 0\n"), std::string::npos);
  EXPECT_NE(r->body.find("bitscrape_instance_torrents" + label(1) + " 12\n"), std::string::npos);
  // This process's own live figures carry its instance.
  const std::string self = "bitscrape_instance=\"" + std::to_string(ids[0]) + "\"";
  EXPECT_NE(r->body.find("bitscrape_live_metadata_success_ratio{" + self + "} 0.625\n"), std::string::npos);
  EXPECT_NE(r->body.find("bitscrape_queue_depth{" + self + ",queue=\"fetch\"} 35\n"), std::string::npos);
  EXPECT_NE(r->body.find("bitscrape_drop_martian_node{" + self + "} 17\n"), std::string::npos);
}

TEST_F(WebLiveApiTest, EventStreamSendsRisingCountersAndNewDiscoveries) {
  auto c = client();
  std::string received;
  const auto start = std::chrono::steady_clock::now();
  auto r = c.Get("/api/events", [&](const char* data, std::size_t n) {
    received.append(data, n);
    return std::chrono::steady_clock::now() - start < std::chrono::milliseconds(2500);
  });
  std::vector<std::uint64_t> totals;
  for (auto p = received.find("event: status\ndata: "); p != std::string::npos;
       p = received.find("event: status\ndata: ", p + 1)) {
    const auto s = p + 20;
    totals.push_back(json::parse(received.substr(s, received.find('\n', s) - s))["live"]["infohashes_total"]);
  }
  ASSERT_GE(totals.size(), 2u);
  EXPECT_TRUE(std::is_sorted(totals.begin(), totals.end()));
  EXPECT_LT(totals.front(), totals.back());
  EXPECT_NE(received.find("event: discovery\ndata: "), std::string::npos);
}

TEST_F(WebLiveApiTest, EventStreamsAreBounded) {
  ServerOptions o = loopback_any_port();
  o.max_event_streams = 1;
  o.event_interval = std::chrono::milliseconds(100);
  auto server = start_server(*store_, &live_, o);
  std::atomic<bool> open{false};
  std::thread first([&] {
    httplib::Client c("127.0.0.1", server->port());
    const auto start = std::chrono::steady_clock::now();
    (void)c.Get("/api/events", [&](const char*, std::size_t) {
      open = true;
      return std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500);
    });
  });
  while (!open) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  httplib::Client c("127.0.0.1", server->port());
  auto r = c.Get("/api/events");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_TRUE(json::parse(r->body)["error"].is_string());
  first.join();
  server->stop();  // with no stream left, stops promptly
}

TEST_F(WebLiveApiTest, StopEndsOpenEventStreams) {
  std::atomic<bool> open{false};
  std::thread reader([&] {
    auto c = client();
    (void)c.Get("/api/events", [&](const char*, std::size_t) {
      open = true;
      return true;  // would read forever
    });
  });
  while (!open) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  reader.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

// --- token --------------------------------------------------------------------------------

TEST(WebTokenTest, NonLoopbackBindWithoutTokenIsRefused) {
  auto store = storage::make_memory_store();
  ServerOptions o;
  o.bind = *Endpoint::parse("0.0.0.0:0");
  auto s = Server::start(*store, nullptr, o);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find("without an access token"), std::string::npos) << s.error();
  EXPECT_NE(s.error().find("--web-token"), std::string::npos) << s.error();
  o.bind = *Endpoint::parse("[::]:0");
  EXPECT_FALSE(validate(o));
  o.token = "short";
  auto v = validate(o);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().find("16 to 256"), std::string::npos);
  o.token = "a token with spaces in it";
  EXPECT_FALSE(validate(o));
  o.token = "0123456789abcdef";
  EXPECT_TRUE(validate(o));
  o.bind = *Endpoint::parse("127.0.0.2:0");
  o.token.clear();
  EXPECT_TRUE(validate(o));
}

TEST(WebTokenTest, EveryApiCallNeedsTheToken) {
  auto store = storage::make_memory_store();
  (void)populate(*store, unix_now(), 1);
  FakeLiveSource live;
  ServerOptions o = loopback_any_port();
  o.token = "s3cret-token-0123456789";
  auto server = start_server(*store, &live, o);
  httplib::Client c("127.0.0.1", server->port());
  for (const char* path : {"/api/status", "/api/torrents", "/api/nodes", "/api/export?format=csv", "/metrics",
                           "/api/events", "/api/series/names", "/api/nope"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 401) << path;
    EXPECT_EQ(json::parse(r->body)["error"], "an access token is required") << path;
    EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer realm=\"bitscrape\"");
    r = c.Get(path, httplib::Headers{{"Authorization", "Bearer s3cret-token-012345678"}});
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 401) << path;
    EXPECT_EQ(json::parse(r->body)["error"], "wrong access token") << path;
  }
  auto r = c.Post("/api/control/sampling", R"({"paused":true})", "application/json");
  EXPECT_EQ(r->status, 401);
  EXPECT_FALSE(live.sampling_paused());
  r = c.Get("/api/status?token=wrong");
  EXPECT_EQ(r->status, 401);

  // The right token, either way.
  r = c.Get("/api/status", httplib::Headers{{"Authorization", "Bearer s3cret-token-0123456789"}});
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["server"]["token_required"], true);
  r = c.Get("/api/torrents?token=s3cret-token-0123456789&q=ubuntu");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["items"].size(), 1u);
  r = c.Post("/api/control/sampling?token=s3cret-token-0123456789", R"({"paused":true})", "application/json");
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(live.sampling_paused());
  // The static UI carries no data and loads without the token (it then asks for one).
  r = c.Get("/");
  EXPECT_EQ(r->status, 200);
  // With a token, the Host check is not needed (the token is the protection).
  r = c.Get("/api/status", httplib::Headers{{"Host", "crawler.example:8080"},
                                            {"Authorization", "Bearer s3cret-token-0123456789"}});
  EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace bitscrape::web::testing
