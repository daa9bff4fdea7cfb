#include "metainfo/torrent_file.hpp"

#include "bencode/decoder.hpp"
#include "metainfo/info_dict.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <string>

namespace bitscrape::metainfo {
namespace {

using namespace test;

const std::string kInfo = "d6:lengthi5e4:name1:a12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae";

TEST(MakeTorrentFile, BareInfoIsCopiedVerbatim) {
  EXPECT_EQ(make_torrent_file(kInfo), "d4:info" + kInfo + "e");
  // Even a non-canonical dict (unsorted keys) is copied, not re-encoded: the hash depends on it.
  const std::string unsorted = "d4:name1:a6:lengthi5ee";
  EXPECT_EQ(make_torrent_file(unsorted), "d4:info" + unsorted + "e");
}

TEST(MakeTorrentFile, OneTrackerIsAnnounceOnly) {
  TorrentFileExtras x;
  x.trackers = {{"udp://t.example:1337/announce"}};
  EXPECT_EQ(make_torrent_file(kInfo, x), "d8:announce29:udp://t.example:1337/announce4:info" + kInfo + "e");
}

TEST(MakeTorrentFile, TiersNodesAndSortedKeys) {
  TorrentFileExtras x;
  x.trackers = {{"http://a/ann", ""}, {}, {"udp://b:1/ann", "udp://c:2/ann"}};
  x.nodes = {{"router.example", 6881}, {"10.0.0.1", 1}};
  const std::string out = make_torrent_file(kInfo, x);
  EXPECT_EQ(out,
            "d8:announce12:http://a/ann13:announce-listll12:http://a/annel13:udp://b:1/ann13:udp://c:2/annee"
            "4:info" +
                kInfo + "5:nodesll14:router.examplei6881eel8:10.0.0.1i1eeee");
  // Canonical: a strict decoder (sorted, unique keys) accepts it.
  bencode::Document doc;
  bencode::Limits strict;
  strict.strict = true;
  EXPECT_TRUE(bencode::decode(out, doc, strict).ok());
}

TEST(MakeTorrentFile, EmptyTrackersAreLeftOut) {
  TorrentFileExtras x;
  x.trackers = {{""}, {}};
  EXPECT_EQ(make_torrent_file(kInfo, x), "d4:info" + kInfo + "e");
}

TEST(FindInfoDict, ReturnsTheExactBytes) {
  const std::string torrent = "d8:announce3:url4:info" + kInfo + "5:nodeslee";
  auto r = find_info_dict(torrent);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, kInfo);
  EXPECT_EQ(r->data(), torrent.data() + 22);  // a view into the input, not a copy
}

TEST(FindInfoDict, Errors) {
  auto r = find_info_dict("d4:info");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Bencode);
  EXPECT_EQ(r.error().bencode.code, bencode::ErrorCode::Truncated);

  r = find_info_dict("li1ee");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::NotADict);

  r = find_info_dict("d8:announce1:xe");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::MissingKey);
  EXPECT_EQ(r.error().field, "info");

  r = find_info_dict("d4:infoli1eee");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::NotADict);
  EXPECT_EQ(r.error().field, "info");
  EXPECT_EQ(r.error().offset, 7u);

  TorrentFileLimits small;
  small.max_torrent_size = 10;
  r = find_info_dict("d4:info" + kInfo + "e", small);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::TooLarge);
  EXPECT_EQ(r.error().field, "");

  TorrentFileLimits small_info;
  small_info.info.max_info_size = kInfo.size() - 1;
  r = find_info_dict("d4:info" + kInfo + "e", small_info);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::TooLarge);
  EXPECT_EQ(r.error().field, "info");
  small_info.info.max_info_size = kInfo.size();
  EXPECT_TRUE(find_info_dict("d4:info" + kInfo + "e", small_info).ok());
}

// Real interop: libtorrent loads the .torrent we wrote around a libtorrent-made info dict and
// sees the same hashes, trackers and nodes.
TEST(MakeTorrentFileInterop, LibtorrentLoadsWhatWeWrite) {
  const std::string original = read_file(data_path("hybrid_multi.torrent"));
  const auto info_bytes = find_info_dict(original);
  ASSERT_TRUE(info_bytes.ok());
  const auto info = parse_info_dict(*info_bytes);
  ASSERT_TRUE(info.ok());

  TorrentFileExtras x;
  x.trackers = {{"udp://one.example:1/announce"}, {"http://two.example/announce"}};
  x.nodes = {{"127.0.0.1", 6881}};
  const auto path = std::filesystem::path(::testing::TempDir()) / "bitscrape_rebuilt.torrent";
  write_file(path, make_torrent_file(*info_bytes, x));

  const auto out = run_libtorrent_script(R"(
import json, sys
import libtorrent as lt
ti = lt.torrent_info(sys.argv[1])
ih = ti.info_hashes()
print(json.dumps({
  "v1": str(ih.v1) if ih.has_v1() else None,
  "v2": str(ih.v2) if ih.has_v2() else None,
  "name": ti.name(),
  "trackers": [[t.url, t.tier] for t in ti.trackers()],
  "nodes": [[h, p] for h, p in ti.nodes()],
  "num_files": ti.num_files(),
}))
)",
                                         path.string());
  if (!out) GTEST_SKIP() << "python3-libtorrent not available";
  const auto j = nlohmann::json::parse(*out);
  EXPECT_EQ(j.at("v1").get<std::string>(), info->v1->hex());
  EXPECT_EQ(j.at("v2").get<std::string>().substr(0, 40), info->v2_key()->hex());
  EXPECT_EQ(j.at("name").get<std::string>(), info->name);
  EXPECT_EQ(j.at("trackers"), nlohmann::json::parse(R"([["udp://one.example:1/announce",0],
                                                         ["http://two.example/announce",1]])"));
  EXPECT_EQ(j.at("nodes"), nlohmann::json::parse(R"([["127.0.0.1",6881]])"));
}

}  // namespace
}  // namespace bitscrape::metainfo
