// Request parameter parsing: every bad value an error value with a 4xx status.
#include "web/params.hpp"

#include <gtest/gtest.h>

namespace bitscrape::web {
namespace {

Params P(std::initializer_list<std::pair<const std::string, std::string>> l) {
  return Params(l);
}

TEST(WebParamsTest, Times) {
  EXPECT_EQ(storage::to_unix(*parse_time("t", "1714521600", false)), 1714521600);
  EXPECT_EQ(storage::to_unix(*parse_time("t", "2024-05-01", false)), 1714521600);
  EXPECT_EQ(storage::to_unix(*parse_time("t", "2024-05-01", true)), 1714521600 + 86399);
  EXPECT_EQ(storage::to_unix(*parse_time("t", "2024-05-01T12:30Z", false)), 1714521600 + 45000);
  EXPECT_EQ(storage::to_unix(*parse_time("t", "2024-05-01T12:30:15Z", true)), 1714521600 + 45015);
  EXPECT_EQ(storage::to_unix(*parse_time("t", "2024-02-29", false)), 1709164800);
  for (const char* bad : {"", "2024-5-1", "2024-02-30", "2023-02-29", "2024-13-01", "2024-05-01T24:00Z",
                          "2024-05-01T12:60Z", "2024-05-01 12:00:00", "2024-05-01T12:00:00+02:00", "-5",
                          "1e9", "99999999999999999999", "2024-05-01T12:00:61Z"}) {
    auto r = parse_time("from", bad, false);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().status, 400);
    EXPECT_EQ(r.error().message.rfind("from must be", 0), 0u) << r.error().message;
  }
}

TEST(WebParamsTest, Keys) {
  const std::string v1 = "0123456789abcdef0123456789abcdef01234567";
  EXPECT_EQ(parse_key(v1)->hex(), v1);
  EXPECT_EQ(parse_key("0123456789ABCDEF0123456789ABCDEF01234567")->hex(), v1);
  EXPECT_EQ(parse_key(v1 + "89abcdef89abcdef89abcdef")->hex(), v1);
  EXPECT_FALSE(parse_key(v1 + "89abcdef89abcdef89abcdeg"));
  EXPECT_FALSE(parse_key(v1.substr(1)));
  EXPECT_FALSE(parse_key(""));
}

TEST(WebParamsTest, SearchDefaultsAndMapping) {
  auto q = parse_search({});
  ASSERT_TRUE(q);
  EXPECT_EQ(q->limit, 50u);
  EXPECT_EQ(q->offset, 0u);
  EXPECT_EQ(q->sort, storage::SortKey::Relevance);
  EXPECT_TRUE(q->descending);
  q = parse_search(P({{"q", "x y"},
                      {"min_size", "1"},
                      {"max_size", "2"},
                      {"min_files", "3"},
                      {"max_files", "4"},
                      {"from", "2024-05-01"},
                      {"to", "2024-05-01"},
                      {"sort", "name"},
                      {"order", "asc"},
                      {"limit", "1000"},
                      {"offset", "100000"},
                      {"token", "t"}}));
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->text, "x y");
  EXPECT_EQ(*q->min_size, 1);
  EXPECT_EQ(*q->max_size, 2);
  EXPECT_EQ(*q->min_files, 3u);
  EXPECT_EQ(*q->max_files, 4u);
  EXPECT_EQ(storage::to_unix(*q->discovered_to) - storage::to_unix(*q->discovered_from), 86399);
  EXPECT_EQ(q->sort, storage::SortKey::Name);
  EXPECT_FALSE(q->descending);
  EXPECT_EQ(q->limit, 1000u);
  EXPECT_EQ(q->offset, 100000u);
  EXPECT_FALSE(parse_search(P({{"offset", "100001"}})));
  EXPECT_FALSE(parse_search(P({{"q", std::string(1025, 'a')}})));
  const auto dup = parse_search(Params{{"q", "a"}, {"q", "b"}});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message, "parameter 'q' given more than once");
  const auto unknown = parse_search(P({{"evil\x01param", "1"}}));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "unknown parameter 'evil?param'");
}

TEST(WebParamsTest, Series) {
  const auto now = storage::from_unix(1'000'000);
  auto q = parse_series(P({{"name", "x"}}), now);
  ASSERT_TRUE(q);
  EXPECT_EQ(storage::to_unix(q->to), 1'000'000);
  EXPECT_EQ(storage::to_unix(q->from), 1'000'000 - 3600);
  EXPECT_EQ(q->points, 300u);
  EXPECT_EQ(q->aggregate, storage::Aggregate::Last);
  q = parse_series(P({{"name", "x"}, {"agg", "max"}, {"points", "10000"}}), now);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->aggregate, storage::Aggregate::Max);
  EXPECT_FALSE(parse_series(P({{"name", "x"}, {"points", "10001"}}), now));
  EXPECT_FALSE(parse_series(P({{"name", std::string(65, 'x')}}), now));
  EXPECT_FALSE(parse_series(P({{"name", "x"}, {"from", "2000000"}}), now));
}

TEST(WebParamsTest, Numbers) {
  EXPECT_EQ(*parse_int("n", "42", 0, 100), 42);
  EXPECT_FALSE(parse_int("n", "42x", 0, 100));
  EXPECT_FALSE(parse_int("n", "+42", 0, 100));
  EXPECT_FALSE(parse_int("n", " 42", 0, 100));
  EXPECT_FALSE(parse_int("n", "101", 0, 100));
  EXPECT_FALSE(parse_int("n", "99999999999999999999999", 0, 100));
  EXPECT_EQ(*parse_number("n", "2.5", 1, 3), 2.5);
  EXPECT_FALSE(parse_number("n", "nan", 1, 3));
  EXPECT_FALSE(parse_number("n", "inf", 1, 3));
  EXPECT_TRUE(*parse_bool("b", "true"));
  EXPECT_FALSE(*parse_bool("b", "0"));
  EXPECT_FALSE(parse_bool("b", "yes"));
}

}  // namespace
}  // namespace bitscrape::web
