#include "storage/search_text.hpp"

#include <gtest/gtest.h>

namespace bitscrape::storage {
namespace {

ParsedSearch P(std::vector<std::string> tokens, bool prefix) { return ParsedSearch{std::move(tokens), prefix}; }

TEST(SearchText, SplitsOnAsciiPunctuationAndFoldsCase) {
  EXPECT_EQ(parse_search_text("Ubuntu 22.04 LTS"), P({"ubuntu", "22", "04", "lts"}, true));
  EXPECT_EQ(parse_search_text("Ubuntu 22.04"), P({"ubuntu", "22", "04"}, false));
  EXPECT_EQ(parse_search_text("Some.Movie.2019.1080p-GROUP"), P({"some", "movie", "2019", "1080p", "group"}, true));
  EXPECT_EQ(parse_search_text("a_b"), P({"a", "b"}, false));  // "b" is shorter than min_prefix_bytes
}

TEST(SearchText, LastTokenIsPrefixUnlessFinishedOrShort) {
  EXPECT_TRUE(parse_search_text("ubu").last_is_prefix);
  EXPECT_FALSE(parse_search_text("ubu ").last_is_prefix);   // the word was finished
  EXPECT_FALSE(parse_search_text("ubu\"").last_is_prefix);  // any separator finishes it
  EXPECT_FALSE(parse_search_text("x").last_is_prefix);      // one or two bytes: too broad
  EXPECT_FALSE(parse_search_text("x2").last_is_prefix);
  EXPECT_TRUE(parse_search_text("x26").last_is_prefix);
}

TEST(SearchText, OperatorsBecomeWords) {
  EXPECT_EQ(parse_search_text("a AND b OR NOT c NEAR d"), P({"a", "and", "b", "or", "not", "c", "near", "d"}, false));
  EXPECT_EQ(parse_search_text("NEAR(foo bar, 3)"), P({"near", "foo", "bar", "3"}, false));
  EXPECT_EQ(parse_search_text("name:foo* -bar ^baz"), P({"name", "foo", "bar", "baz"}, true));
}

TEST(SearchText, NonAsciiStaysInTokens) {
  EXPECT_EQ(parse_search_text("Café déjà"), P({"café", "déjà"}, true));
  EXPECT_EQ(parse_search_text("日本語"), P({"日本語"}, true));
}

TEST(SearchText, InvalidUtf8IsRepaired) {
  const auto p = parse_search_text(std::string("ab\xff\xfe", 4));
  ASSERT_EQ(p.tokens.size(), 1u);
  EXPECT_EQ(p.tokens[0], "ab\xEF\xBF\xBD\xEF\xBF\xBD");  // two U+FFFD
}

TEST(SearchText, Limits) {
  SearchTextLimits lim;
  lim.max_tokens = 3;
  lim.max_token_bytes = 4;
  lim.max_input_bytes = 64;
  const auto p = parse_search_text("aaaaaaa bbb ccc ddd eee", lim);
  EXPECT_EQ(p, P({"aaaa", "bbb", "ccc"}, false));  // cut tokens: "ccc" is not the end of the text
  // A token is cut at a character boundary, never inside a UTF-8 sequence.
  lim.max_tokens = 16;
  const auto q = parse_search_text("ééé", lim);  // 6 bytes
  ASSERT_EQ(q.tokens.size(), 1u);
  EXPECT_EQ(q.tokens[0], "éé");
  // Input is cut at max_input_bytes.
  const auto r = parse_search_text(std::string(100, 'z') + " tail", lim);
  EXPECT_EQ(r.tokens, std::vector<std::string>{"zzzz"});
}

TEST(SearchText, MatchExpressionQuotesEveryToken) {
  EXPECT_EQ(fts5_match_expression(parse_search_text("Ubuntu 22.04 lts")), "\"ubuntu\" \"22\" \"04\" \"lts\"*");
  EXPECT_EQ(fts5_match_expression(parse_search_text("ubuntu ")), "\"ubuntu\"");
  EXPECT_EQ(fts5_match_expression(parse_search_text("\"\" () * - NEAR")), "\"near\"*");
  EXPECT_EQ(fts5_match_expression(parse_search_text("")), "");
  EXPECT_EQ(fts5_match_expression(parse_search_text("*** ((( )))")), "");
}

TEST(SearchText, ExpressionNeverContainsOperatorsOrStrayQuotes) {
  // Whatever goes in, the output is: ("token" )* "token"*? with token bytes only.
  const std::string nasty[] = {"\"a\" OR \"b\"", "a\"b", "(a OR b) AND NOT c", "x NEAR/3 y", "{a b}: c",
                               "'; DROP TABLE torrents; --", std::string("a\0b", 3), "\\\"", "a*b*c*"};
  for (const auto& s : nasty) {
    const std::string e = fts5_match_expression(parse_search_text(s));
    std::size_t quotes = 0;
    for (std::size_t i = 0; i < e.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(e[i]);
      if (c == '"') {
        ++quotes;
        continue;
      }
      const bool ok = c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      (c == ' ' && quotes % 2 == 0) || (c == '*' && i + 1 == e.size() && quotes % 2 == 0);
      EXPECT_TRUE(ok) << "byte " << int(c) << " at " << i << " in " << e;
    }
    EXPECT_EQ(quotes % 2, 0u) << e;
  }
}

TEST(SearchText, DistinctPathTerms) {
  const std::vector<FileRecord> files = {
      {"Show S01/Show.S01E01.1080p.mkv", 1}, {"Show S01/Show.S01E02.1080p.mkv", 1},
      {"Show S01/Subs/01_English.srt", 1},   {"Show S01/Extras/IMG_0001.jpg", 1}};
  // Name tokens, repeats and bare numbers are left out; the rest once, in first-seen order.
  EXPECT_EQ(distinct_path_terms("Show S01", files, 1000), "s01e01 1080p mkv s01e02 subs english srt extras img jpg");
  EXPECT_EQ(distinct_path_terms("Show S01", files, 20), "s01e01 1080p mkv");  // cut at a whole term
  EXPECT_EQ(distinct_path_terms("Show S01", {}, 1000), "");
}

TEST(SearchText, DocumentTokens) {
  EXPECT_EQ(document_tokens("Season 1/Show.S01E02.mkv"),
            (std::vector<std::string>{"season", "1", "show", "s01e02", "mkv"}));
  EXPECT_TRUE(document_tokens("--//..").empty());
}

}  // namespace
}  // namespace bitscrape::storage
