#include "metainfo/magnet.hpp"

#include "metainfo/info_dict.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace bitscrape::metainfo {
namespace {

using namespace test;

InfoHash v1_hash() {
  return *InfoHash::from_hex("0123456789abcdef0123456789abcdef01234567");
}
Sha256Digest v2_hash() {
  Sha256Digest d;
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(0xA0 + i);
  return d;
}
constexpr const char* kV2Hex = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";

TEST(PercentEncode, KeepsOnlyUnreserved) {
  EXPECT_EQ(percent_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(percent_encode("a b&c=d#e/f?g+h%"), "a%20b%26c%3Dd%23e%2Ff%3Fg%2Bh%25");
  EXPECT_EQ(percent_encode("\xC3\xA9\x00\xFF"), "%C3%A9");  // the literal stops at the NUL
  EXPECT_EQ(percent_encode(std::string("\x00\xFF", 2)), "%00%FF");
  EXPECT_EQ(percent_encode(""), "");
}

TEST(Magnet, V1) {
  EXPECT_EQ(make_magnet(v1_hash(), std::nullopt, "name"),
            "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=name");
}

TEST(Magnet, V2UsesTheSha256Multihash) {
  EXPECT_EQ(make_magnet(std::nullopt, v2_hash(), "n"),
            std::string("magnet:?xt=urn:btmh:1220") + kV2Hex + "&dn=n");
}

TEST(Magnet, HybridHasBothTopicsV1First) {
  EXPECT_EQ(
      make_magnet(v1_hash(), v2_hash(), ""),
      std::string("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&xt=urn:btmh:1220") + kV2Hex);
}

TEST(Magnet, NameAndTrackersCannotInjectParameters) {
  const std::vector<std::string> trackers{"udp://t:1/a?x=1&y=2", "", "http://u/"};
  EXPECT_EQ(make_magnet(v1_hash(), std::nullopt, "a&tr=evil#frag é", trackers),
            "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"
            "&dn=a%26tr%3Devil%23frag%20%C3%A9"
            "&tr=udp%3A%2F%2Ft%3A1%2Fa%3Fx%3D1%26y%3D2&tr=http%3A%2F%2Fu%2F");
}

TEST(Magnet, NeedsAHash) {
  EXPECT_EQ(make_magnet(std::nullopt, std::nullopt, "name"), "");
}

TEST(Magnet, FromTorrentInfo) {
  TorrentInfo info;
  info.v1 = v1_hash();
  info.name = "x y";
  EXPECT_EQ(make_magnet(info), "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x%20y");
}

// Real interop: libtorrent's own magnet parser reads our links back.
TEST(MagnetInterop, LibtorrentParsesOurLinks) {
  const std::vector<std::string> trackers{"udp://t.example:6969/announce?k=1&j=2"};
  const std::string link = make_magnet(v1_hash(), v2_hash(), "日本 & 😀 #1", trackers);
  const auto path = std::filesystem::path(::testing::TempDir()) / "bitscrape_magnet.txt";
  write_file(path, link);
  const auto out = run_libtorrent_script(R"(
import json, sys
import libtorrent as lt
p = lt.parse_magnet_uri(open(sys.argv[1], encoding="ascii").read())
print(json.dumps({"v1": str(p.info_hashes.v1), "v2": str(p.info_hashes.v2), "name": p.name,
                  "trackers": list(p.trackers)}, ensure_ascii=True))
)",
                                         path.string());
  if (!out) GTEST_SKIP() << "python3-libtorrent not available";
  const auto j = nlohmann::json::parse(*out);
  EXPECT_EQ(j.at("v1").get<std::string>(), v1_hash().hex());
  EXPECT_EQ(j.at("v2").get<std::string>(), kV2Hex);
  EXPECT_EQ(j.at("name").get<std::string>(), "日本 & 😀 #1");
  EXPECT_EQ(j.at("trackers"), nlohmann::json::array({trackers[0]}));
}

}  // namespace
}  // namespace bitscrape::metainfo
