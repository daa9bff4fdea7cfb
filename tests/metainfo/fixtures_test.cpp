// Our parser against torrents made by libtorrent 2.0 (tests/metainfo/data/make_fixtures.py):
// every hash, name, size and path is compared with what libtorrent itself reported for the
// same file (fixtures.json), never with values we computed ourselves.
#include "metainfo/info_dict.hpp"
#include "metainfo/magnet.hpp"
#include "metainfo/sanitize.hpp"
#include "metainfo/torrent_file.hpp"
#include "metainfo/verify.hpp"

#include "common/hex.hpp"
#include "test_util.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace bitscrape::metainfo {
namespace {

using nlohmann::json;
using test::data_path;
using test::read_file;

const json& fixtures() {
  static const json j = json::parse(read_file(data_path("fixtures.json")));
  return j.at("fixtures");
}

std::string hex32(const Sha256Digest& d) {
  return to_hex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

// Decodes %XX escapes (either case), for comparing our magnet values with libtorrent's.
std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      auto byte = from_hex(s.substr(i + 1, 2));
      if (byte) {
        out += *byte;
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// magnet:?k=v&k=v... -> [(k, decoded v)], in order.
std::vector<std::pair<std::string, std::string>> magnet_params(std::string_view uri) {
  std::vector<std::pair<std::string, std::string>> out;
  EXPECT_EQ(uri.substr(0, 8), "magnet:?");
  uri.remove_prefix(8);
  while (!uri.empty()) {
    const auto amp = uri.find('&');
    const auto part = uri.substr(0, amp);
    const auto eq = part.find('=');
    out.emplace_back(std::string(part.substr(0, eq)), percent_decode(part.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    uri.remove_prefix(amp + 1);
  }
  return out;
}

class Fixture : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    expected_ = fixtures().at(GetParam());
    torrent_ = read_file(data_path(GetParam() + ".torrent"));
    auto info = find_info_dict(torrent_);
    ASSERT_TRUE(info.ok()) << info.error().reason();
    info_bytes_ = *info;
  }
  json expected_;
  std::string torrent_;
  std::string_view info_bytes_;
};

TEST_P(Fixture, InfoSectionIsTheOneLibtorrentHashed) {
  EXPECT_EQ(info_bytes_.size(), expected_.at("info_size").get<std::size_t>());
  EXPECT_EQ(info_bytes_.front(), 'd');
  EXPECT_EQ(info_bytes_.back(), 'e');
}

TEST_P(Fixture, HashesMatchLibtorrent) {
  const auto h = hash_info(info_bytes_);
  const auto parsed = parse_info_dict(info_bytes_);
  ASSERT_TRUE(parsed.ok()) << parsed.error().reason() << " " << parsed.error().field;
  const auto& info = *parsed;
  if (expected_.at("v1").is_null()) {
    EXPECT_FALSE(info.v1.has_value());
  } else {
    const auto v1 = expected_.at("v1").get<std::string>();
    EXPECT_EQ(h.v1.hex(), v1);
    ASSERT_TRUE(info.v1.has_value());
    EXPECT_EQ(info.v1->hex(), v1);
    EXPECT_EQ(match_key(info_bytes_, *InfoHash::from_hex(v1)), KeyMatch::V1);
    EXPECT_TRUE(parse_verified(info_bytes_, *InfoHash::from_hex(v1)).ok());
  }
  if (expected_.at("v2").is_null()) {
    EXPECT_FALSE(info.v2.has_value());
  } else {
    const auto v2 = expected_.at("v2").get<std::string>();
    EXPECT_EQ(hex32(h.v2), v2);
    ASSERT_TRUE(info.v2.has_value());
    EXPECT_EQ(hex32(*info.v2), v2);
    // The DHT key: the first 20 bytes of the SHA-256.
    const auto key = InfoHash::from_hex(v2.substr(0, 40));
    EXPECT_EQ(info.v2_key(), key);
    EXPECT_EQ(match_key(info_bytes_, *key), KeyMatch::V2);
    EXPECT_TRUE(parse_verified(info_bytes_, *key).ok());
  }
  const auto want_version = expected_.at("v1").is_null()   ? MetaVersion::V2
                            : expected_.at("v2").is_null() ? MetaVersion::V1
                                                           : MetaVersion::Hybrid;
  EXPECT_EQ(info.version, want_version);
  EXPECT_EQ(info.dht_keys().size(), want_version == MetaVersion::Hybrid ? 2u : 1u);
}

TEST_P(Fixture, LayoutMatchesLibtorrent) {
  const auto parsed = parse_info_dict(info_bytes_);
  ASSERT_TRUE(parsed.ok()) << parsed.error().reason();
  const auto& info = *parsed;
  const auto name = expected_.at("name").get<std::string>();
  EXPECT_EQ(info.name, name);
  EXPECT_EQ(info.piece_length, expected_.at("piece_length").get<std::int64_t>());
  EXPECT_EQ(info.piece_count, expected_.at("num_pieces").get<std::int64_t>());
  EXPECT_EQ(info.is_private, expected_.at("private").get<bool>());

  // libtorrent lists pad files too (for v2 it even invents the implicit ones); its paths of
  // a multi-file torrent start with the torrent name, ours are relative to it.
  std::vector<json> lt_user;
  std::int64_t lt_user_total = 0;
  std::int64_t lt_pad_total = 0;
  std::size_t lt_pads = 0;
  for (const auto& f : expected_.at("files")) {
    if (f.at("pad").get<bool>()) {
      lt_pad_total += f.at("size").get<std::int64_t>();
      ++lt_pads;
    } else {
      lt_user.push_back(f);
      lt_user_total += f.at("size").get<std::int64_t>();
    }
  }
  ASSERT_EQ(info.files.size(), lt_user.size());
  EXPECT_EQ(info.file_count, lt_user.size());
  EXPECT_EQ(info.total_size, lt_user_total);
  EXPECT_EQ(info.single_file, lt_user.size() == 1 && lt_user[0].at("path").get<std::string>() == name);
  for (std::size_t i = 0; i < lt_user.size(); ++i) {
    std::string lt_path = lt_user[i].at("path").get<std::string>();
    if (!info.single_file) {
      ASSERT_EQ(lt_path.substr(0, name.size() + 1), name + "/");
      lt_path = lt_path.substr(name.size() + 1);
    }
    EXPECT_EQ(info.files[i].path, lt_path) << i;
    EXPECT_EQ(info.files[i].length, lt_user[i].at("size").get<std::int64_t>()) << i;
    EXPECT_FALSE(info.files[i].is_pad);
    for (const auto& c : info.files[i].components) EXPECT_TRUE(is_clean_component(c));
    if (info.has_v2()) {
      EXPECT_EQ(info.files[i].pieces_root.has_value(), info.files[i].length > 0) << i;
    }
  }
  if (info.has_v1()) {
    // The v1 list carries its pad files explicitly, so both sides agree exactly.
    EXPECT_EQ(info.pad_files.size(), lt_pads);
    EXPECT_EQ(info.pad_size, lt_pad_total);
    EXPECT_EQ(info.total_size + info.pad_size, expected_.at("total_size").get<std::int64_t>());
  } else {
    EXPECT_TRUE(info.pad_files.empty());
  }
}

TEST_P(Fixture, MagnetCarriesTheSameHashesAndNameAsLibtorrents) {
  const auto parsed = parse_info_dict(info_bytes_);
  ASSERT_TRUE(parsed.ok());
  const auto ours = magnet_params(make_magnet(*parsed));
  const auto theirs = magnet_params(expected_.at("magnet").get<std::string>());
  std::vector<std::pair<std::string, std::string>> their_no_tr;
  for (const auto& p : theirs) {
    if (p.first != "tr") their_no_tr.push_back(p);
  }
  EXPECT_EQ(ours, their_no_tr);
}

TEST_P(Fixture, RebuiltTorrentFileKeepsTheInfoBytes) {
  const std::string rebuilt = make_torrent_file(info_bytes_);
  EXPECT_EQ(rebuilt, "d4:info" + std::string(info_bytes_) + "e");
  auto again = find_info_dict(rebuilt);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, info_bytes_);
}

INSTANTIATE_TEST_SUITE_P(Libtorrent, Fixture,
                         ::testing::Values("v1_single", "v1_multi", "v1_padded", "v1_private_source",
                                           "v2_single", "v2_multi", "hybrid_single", "hybrid_multi",
                                           "unicode_hybrid"),
                         [](const auto& p) { return p.param; });

TEST(FixtureSet, EveryGeneratedFixtureIsTested) {
  EXPECT_EQ(fixtures().size(), 9u);
  EXPECT_EQ(json::parse(read_file(data_path("fixtures.json")))
                .at("generator")
                .get<std::string>()
                .rfind("libtorrent 2.", 0),
            0u);
}

TEST(FixtureDetails, PrivateSource) {
  const std::string torrent = read_file(data_path("v1_private_source.torrent"));
  const auto info = parse_info_dict(*find_info_dict(torrent));
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->is_private);
  EXPECT_EQ(info->source, "BitScrape-Test");
}

TEST(FixtureDetails, HybridWithTrackersAndNodes) {
  const std::string torrent = read_file(data_path("hybrid_multi.torrent"));
  const auto info_bytes = find_info_dict(torrent);
  ASSERT_TRUE(info_bytes.ok());
  const auto info = parse_info_dict(*info_bytes);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->version, MetaVersion::Hybrid);
  EXPECT_EQ(info->pad_files.size(), 2u);
  // Our magnet with trackers vs libtorrent's (which percent-encodes in lower case).
  const std::vector<std::string> trackers{"udp://tracker.example:6969/announce", "http://t2.example/ann"};
  EXPECT_EQ(magnet_params(make_magnet(*info, trackers)),
            magnet_params(fixtures().at("hybrid_multi").at("magnet").get<std::string>()));
}

TEST(FixtureDetails, UnicodeNamesSurviveIntact) {
  const std::string torrent = read_file(data_path("unicode_hybrid.torrent"));
  const auto info = parse_info_dict(*find_info_dict(torrent));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->name, "日本語トレント 🎉");
  std::vector<std::string> paths;
  for (const auto& f : info->files) paths.push_back(f.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"ファイル.txt", "音楽/曲 01.txt", "😀 emoji.bin"}));
  EXPECT_EQ(make_magnet(*info).substr(0, 8), "magnet:?");
  EXPECT_NE(make_magnet(*info).find("&dn=%E6%97%A5%E6%9C%AC%E8%AA%9E"), std::string::npos);
}

}  // namespace
}  // namespace bitscrape::metainfo
