#include "metainfo/sanitize.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bitscrape::metainfo {
namespace {

using namespace std::string_literals;

TEST(SanitizeComponent, KeepsOrdinaryNames) {
  EXPECT_EQ(sanitize_component("movie.mkv"), "movie.mkv");
  EXPECT_EQ(sanitize_component("My Album (2020) [FLAC]"), "My Album (2020) [FLAC]");
  EXPECT_EQ(sanitize_component("..."), "...");
  EXPECT_EQ(sanitize_component(".hidden"), ".hidden");
  EXPECT_EQ(sanitize_component("a:b*c?"), "a:b*c?");  // not made Windows-safe, by design
}

TEST(SanitizeComponent, KeepsUnicode) {
  EXPECT_EQ(sanitize_component("日本語のファイル.txt"), "日本語のファイル.txt");
  EXPECT_EQ(sanitize_component("😀 emoji 🎉"), "😀 emoji 🎉");
  EXPECT_EQ(sanitize_component("Ünïcödé"), "Ünïcödé");
}

TEST(SanitizeComponent, DropsDotAndDotDotAndEmpty) {
  EXPECT_EQ(sanitize_component(""), "");
  EXPECT_EQ(sanitize_component("."), "");
  EXPECT_EQ(sanitize_component(".."), "");
}

TEST(SanitizeComponent, ReplacesSeparators) {
  EXPECT_EQ(sanitize_component("a/b"), "a_b");
  EXPECT_EQ(sanitize_component("a\\b"), "a_b");
  EXPECT_EQ(sanitize_component("/etc"), "_etc");
  EXPECT_EQ(sanitize_component("../.."), ".._..");
  EXPECT_EQ(sanitize_component("/"), "_");
}

TEST(SanitizeComponent, ReplacesControlCharacters) {
  EXPECT_EQ(sanitize_component("a\nb\tc\x7f"), "a_b_c_");
  EXPECT_EQ(sanitize_component("a\0b"s), "a_b");
  EXPECT_EQ(sanitize_component("\x1b[31mred"), "_[31mred");
  EXPECT_EQ(sanitize_component("x\xC2\x85y"), "x_y");         // U+0085 NEL (C1)
  EXPECT_EQ(sanitize_component("x\xC2\x9Fy"), "x_y");         // U+009F (C1)
  EXPECT_EQ(sanitize_component("x\xE2\x80\xA8y"), "x_y");     // U+2028 line separator
  EXPECT_EQ(sanitize_component("x\xE2\x80\xA9y"), "x_y");     // U+2029 paragraph separator
  EXPECT_EQ(sanitize_component("x\xC2\xA0y"), "x\xC2\xA0y");  // U+00A0 is not a control
}

TEST(SanitizeComponent, RemovesBidiFormatting) {
  // "gpj<RLO>exe" would render as an innocent picture name.
  EXPECT_EQ(sanitize_component("photo\xE2\x80\xAEgpj.exe"), "photogpj.exe");
  EXPECT_EQ(sanitize_component("\xE2\x80\x8E"
                               "a\xE2\x80\x8F"),
            "a");                                                                         // LRM, RLM
  EXPECT_EQ(sanitize_component("\xE2\x81\xA6x\xE2\x81\xA9"), "x");                        // LRI, PDI
  EXPECT_EQ(sanitize_component("\xD8\x9Cz"), "z");                                        // ALM
  EXPECT_EQ(sanitize_component("\xE2\x80\xAA\xE2\x80\xAB\xE2\x80\xAC\xE2\x80\xAD"), "");  // all gone
  // Removing them must not smuggle a ".." through.
  EXPECT_EQ(sanitize_component(".\xE2\x80\xAE."), "");
}

TEST(SanitizeComponent, RepairsInvalidUtf8) {
  EXPECT_EQ(sanitize_component("a\xFF"
                               "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(sanitize_component("\xE6\x97"), "\xEF\xBF\xBD");      // truncated sequence
  EXPECT_EQ(sanitize_component("\xC0\xAF"), "\xEF\xBF\xBD");      // overlong '/'
  EXPECT_EQ(sanitize_component("\xED\xA0\x80"), "\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(sanitize_component("caf\xE9"), "caf\xEF\xBF\xBD");    // Latin-1
}

TEST(SanitizeText, KeepsSlashesButCleansTheRest) {
  EXPECT_EQ(sanitize_text("http://x/y"), "http://x/y");
  EXPECT_EQ(sanitize_text("a\r\nb"), "a__b");
  EXPECT_EQ(sanitize_text(".."), "..");
  EXPECT_EQ(sanitize_text(""), "");
  EXPECT_EQ(sanitize_text("t\xE2\x80\xAEx\xFF"), "tx\xEF\xBF\xBD");
}

TEST(IsCleanComponent, AgreesWithTheRules) {
  EXPECT_TRUE(is_clean_component("a.txt"));
  EXPECT_TRUE(is_clean_component("日本"));
  EXPECT_TRUE(is_clean_component("..."));
  EXPECT_FALSE(is_clean_component(""));
  EXPECT_FALSE(is_clean_component("."));
  EXPECT_FALSE(is_clean_component(".."));
  EXPECT_FALSE(is_clean_component("a/b"));
  EXPECT_FALSE(is_clean_component("a\\b"));
  EXPECT_FALSE(is_clean_component("a\0b"s));
  EXPECT_FALSE(is_clean_component("a\nb"));
  EXPECT_FALSE(is_clean_component("a\xFF"));
  EXPECT_FALSE(is_clean_component("a\xE2\x80\xAE"));
  // Whatever sanitize_component returns (when not dropped) is clean.
  for (const char* raw : {"a/b", "..\xE2\x80\xAE.", "\x01\x02", "x\xFF\xFE", "ok", "\\\\"}) {
    const auto s = sanitize_component(raw);
    if (!s.empty()) {
      EXPECT_TRUE(is_clean_component(s)) << raw;
    }
  }
}

}  // namespace
}  // namespace bitscrape::metainfo
