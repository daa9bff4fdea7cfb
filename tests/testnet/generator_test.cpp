// TorrentGenerator: every kind parses with metainfo::parse_info_dict and matches what the
// generator says it made; output is a pure function of (seed, index); names are realistic and
// some are unicode; v2/hybrid specifics (file tree, pieces root, pad files) are exact.
#include "testnet/generator.hpp"

#include "bencode/decoder.hpp"
#include "common/utf8.hpp"
#include "metainfo/info_dict.hpp"
#include "metainfo/sanitize.hpp"
#include "metainfo/verify.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

namespace bitscrape::testnet {
namespace {

constexpr std::size_t kSample = 400;

bool contains_codepoint_in(std::string_view s, char32_t lo, char32_t hi) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    char32_t cp = 0;
    std::size_t n = 1;
    if (c < 0x80) {
      cp = c;
    } else if ((c >> 5) == 0x6) {
      cp = c & 0x1F;
      n = 2;
    } else if ((c >> 4) == 0xE) {
      cp = c & 0x0F;
      n = 3;
    } else {
      cp = c & 0x07;
      n = 4;
    }
    for (std::size_t k = 1; k < n && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    if (cp >= lo && cp <= hi) return true;
    i += n;
  }
  return false;
}

TEST(TestnetGenerator, EveryTorrentVerifiesAndAllSixKindsAppear) {
  for (const std::uint64_t seed : {1ull, 2ull, 987654321ull}) {
    TorrentGenerator gen(seed);
    std::map<std::string, int> kinds;
    for (std::size_t i = 0; i < kSample; ++i) {
      const auto t = gen.generate(i);
      const auto v = verify(t);
      ASSERT_TRUE(v.ok()) << v.error();
      ++kinds[t.kind_name()];
    }
    // The first six cover every combination, whatever the seed.
    const char* expected[] = {"v1-single", "v1-multi",      "v2-single",
                              "v2-multi",  "hybrid-single", "hybrid-multi"};
    for (std::size_t i = 0; i < 6; ++i)
      EXPECT_EQ(gen.generate(i).kind_name(), expected[i]) << "seed " << seed;
    EXPECT_EQ(kinds.size(), 6u);
    // Shares: v1 ~55 %, hybrid ~30 %, v2 ~15 % (binomial; bounds far outside 4 sigma).
    const double v1 = kinds["v1-single"] + kinds["v1-multi"];
    const double v2 = kinds["v2-single"] + kinds["v2-multi"];
    EXPECT_GT(v1 / kSample, 0.42);
    EXPECT_LT(v2 / kSample, 0.25);
    EXPECT_GT(v2 / kSample, 0.07);
  }
}

TEST(TestnetGenerator, DeterministicBySeedAndIndex) {
  TorrentGenerator a(42);
  TorrentGenerator b(42);
  TorrentGenerator c(43);
  std::size_t same_as_other_seed = 0;
  for (std::size_t i = 0; i < 50; ++i) {
    const auto x = a.generate(i);
    const auto y = b.generate(i);
    EXPECT_EQ(x.info, y.info);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.v1, y.v1);
    EXPECT_EQ(x.v2, y.v2);
    EXPECT_EQ(a.generate(i).info, x.info) << "generate() must be pure";
    if (c.generate(i).info == x.info) ++same_as_other_seed;
  }
  EXPECT_EQ(same_as_other_seed, 0u);
  // Indices are independent: torrent 7 is the same whether or not 0..6 were generated first.
  EXPECT_EQ(TorrentGenerator(42).generate(7).info, a.generate(7).info);
  EXPECT_NE(a.generate(7).info, a.generate(8).info);
}

TEST(TestnetGenerator, HashesAndKeysMatchTheBytes) {
  TorrentGenerator gen(5);
  for (std::size_t i = 0; i < 60; ++i) {
    const auto t = gen.generate(i);
    const auto h = metainfo::hash_info(t.info);
    const auto keys = t.dht_keys();
    switch (t.kind) {
      case TorrentKind::V1:
        ASSERT_TRUE(t.v1 && !t.v2);
        EXPECT_EQ(*t.v1, h.v1);
        ASSERT_EQ(keys.size(), 1u);
        EXPECT_EQ(keys[0], h.v1);
        break;
      case TorrentKind::V2:
        ASSERT_TRUE(!t.v1 && t.v2);
        EXPECT_EQ(*t.v2, h.v2);
        ASSERT_EQ(keys.size(), 1u);
        EXPECT_EQ(keys[0], h.v2_truncated());
        break;
      case TorrentKind::Hybrid:
        ASSERT_TRUE(t.v1 && t.v2);
        ASSERT_EQ(keys.size(), 2u);
        EXPECT_EQ(keys[0], h.v1);
        EXPECT_EQ(keys[1], h.v2_truncated());
        break;
    }
  }
}

TEST(TestnetGenerator, V2AndHybridDictsFollowBep52AndBep47) {
  TorrentGenerator gen(11);
  std::size_t hybrids_with_pads = 0;
  for (std::size_t i = 0; i < 200; ++i) {
    const auto t = gen.generate(i);
    bencode::Document doc;
    ASSERT_TRUE(
        bencode::decode(t.info, doc,
                        {.max_depth = 64, .max_tokens = 1u << 20, .max_size = 64u << 20, .strict = true})
            .ok())
        << "canonical bencode (sorted keys) expected";
    const auto root = doc.root();
    const auto pl = root.get_int("piece length");
    ASSERT_TRUE(pl);
    EXPECT_GE(*pl, 16 * 1024);
    EXPECT_LE(*pl, 16 * 1024 * 1024);
    EXPECT_EQ(*pl & (*pl - 1), 0) << "piece length is a power of two";
    if (t.kind == TorrentKind::V1) {
      EXPECT_FALSE(root.find("meta version"));
      EXPECT_FALSE(root.find("file tree"));
      continue;
    }
    EXPECT_EQ(root.get_int("meta version"), 2);
    ASSERT_TRUE(root.find("file tree").is_dict());
    const auto parsed = metainfo::parse_info_dict(t.info);
    ASSERT_TRUE(parsed.ok());
    for (const auto& f : parsed->files) {
      ASSERT_TRUE(f.pieces_root.has_value()) << f.path;
    }
    if (t.kind == TorrentKind::Hybrid) {
      EXPECT_TRUE(root.find("pieces").is_string());
      EXPECT_EQ(parsed->version, metainfo::MetaVersion::Hybrid);
      // v1 `pieces` covers user files plus pads: every file but the last starts on a boundary.
      const auto pieces = root.get_string("pieces")->size() / 20;
      EXPECT_EQ(static_cast<std::int64_t>(pieces), (t.total_bytes + parsed->pad_size + *pl - 1) / *pl);
      if (!parsed->pad_files.empty()) {
        ++hybrids_with_pads;
        for (const auto& p : parsed->pad_files) EXPECT_EQ(p.components.front(), ".pad");
      }
    } else {
      EXPECT_FALSE(root.find("pieces"));
      EXPECT_EQ(parsed->version, metainfo::MetaVersion::V2);
    }
  }
  EXPECT_GT(hybrids_with_pads, 5u);
}

TEST(TestnetGenerator, NamesAreRealisticCleanAndSomeAreUnicode) {
  TorrentGenerator gen(1);
  std::size_t japanese = 0, cyrillic = 0, emoji = 0, cjk = 0, greek = 0, ascii_only = 0;
  std::size_t multi = 0, many_files = 0, release_style = 0;
  std::set<std::string> names;
  for (std::size_t i = 0; i < kSample; ++i) {
    const auto t = gen.generate(i);
    ASSERT_TRUE(is_valid_utf8(t.name));
    ASSERT_EQ(metainfo::sanitize_component(t.name), t.name) << "names survive sanitising unchanged";
    for (const auto& f : t.files) {
      for (const auto& c : f.components) ASSERT_TRUE(metainfo::is_clean_component(c)) << c;
    }
    names.insert(t.name);
    japanese += contains_codepoint_in(t.name, 0x3040, 0x30FF) ? 1 : 0;  // hiragana, katakana
    cjk += contains_codepoint_in(t.name, 0x4E00, 0x9FFF) ? 1 : 0;
    cyrillic += contains_codepoint_in(t.name, 0x0400, 0x04FF) ? 1 : 0;
    greek += contains_codepoint_in(t.name, 0x0370, 0x03FF) ? 1 : 0;
    emoji += contains_codepoint_in(t.name, 0x1F300, 0x1FAFF) ? 1 : 0;
    ascii_only += contains_codepoint_in(t.name, 0x80, 0x10FFFF) ? 0 : 1;
    multi += t.multi_file ? 1 : 0;
    many_files += t.files.size() >= 50 ? 1 : 0;
    for (const char* tag : {"1080p", "2160p", "720p", "480p", "[FLAC", "[MP3", ".iso"})
      if (t.name.find(tag) != std::string::npos) {
        ++release_style;
        break;
      }
  }
  EXPECT_GT(japanese, 3u);
  EXPECT_GT(cjk, 3u);
  EXPECT_GT(cyrillic, 3u);
  EXPECT_GT(greek, 2u);
  EXPECT_GT(emoji, 3u);
  EXPECT_GT(ascii_only, kSample / 2);
  EXPECT_GT(multi, kSample / 2 - kSample / 8);
  EXPECT_GT(many_files, 5u);
  EXPECT_GT(release_style, kSample / 4);
  EXPECT_GT(names.size(), kSample * 9 / 10) << "names rarely repeat";
}

TEST(TestnetGenerator, SizesAndDictsAreBounded) {
  GeneratorConfig cfg;
  cfg.max_files = 40;
  TorrentGenerator gen(3, cfg);
  std::size_t largest = 0;
  for (std::size_t i = 0; i < kSample; ++i) {
    const auto t = gen.generate(i);
    ASSERT_LE(t.files.size(), 40u);
    ASSERT_GT(t.total_bytes, 0);
    largest = std::max(largest, t.info.size());
    for (std::size_t j = 1; j < t.files.size(); ++j) {
      ASSERT_LT(t.files[j - 1].components, t.files[j].components) << "files sorted, no duplicates";
    }
  }
  // ≤ ~4000 pieces (60 GiB at 16 MiB) plus names: every dict stays well under 100 KiB.
  EXPECT_LT(largest, 100u * 1024);
}

TEST(TestnetGenerator, VerifyNamesTheFieldThatDiffers) {
  TorrentGenerator gen(9);
  auto t = gen.generate(1);  // v1-multi
  ASSERT_TRUE(verify(t).ok());
  auto renamed = t;
  renamed.name += "x";
  ASSERT_FALSE(verify(renamed).ok());
  EXPECT_NE(verify(renamed).error().find("name"), std::string::npos);
  ASSERT_GE(t.files.size(), 2u);
  auto resized = t;  // same total, two lengths swapped by one byte
  resized.files[0].length += 1;
  resized.files[1].length -= 1;
  ASSERT_FALSE(verify(resized).ok());
  EXPECT_NE(verify(resized).error().find("length"), std::string::npos);
  auto broken = t;
  broken.info.pop_back();
  ASSERT_FALSE(verify(broken).ok());
  EXPECT_NE(verify(broken).error().find("parse_info_dict"), std::string::npos);
}

}  // namespace
}  // namespace bitscrape::testnet
