// The hard limits of parse(): datagram size, bencode depth and token count, at their edges.
#include "krpc/codec.hpp"

#include "test_util.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bitscrape::krpc {
namespace {

using test::bstr;
using test::kIdA;
using test::query;
using test::response;

const std::string kId = "2:id20:" + std::string(kIdA);

// A response with n valid `values` entries: 11 + n bencode tokens (root, r, r-dict, id key and
// value, values key, list, n entries, t key and value, y key and value).
std::string values_response(std::size_t n) {
  std::string r = "d" + kId + "6:valuesl";
  for (std::size_t i = 0; i < n; ++i) r += "6:abcdef";
  return response(r + "ee");
}

// A ping whose args carry an unknown key nesting `lists` lists: depth = 2 + lists.
std::string nested_ping(std::size_t lists) {
  return query("ping", "d" + kId + "1:z" + std::string(lists, 'l') + std::string(lists, 'e') + "e");
}

TEST(Limits, Constants) {
  EXPECT_EQ(kMaxDatagramSize, 65535u);
  EXPECT_EQ(kMaxTransactionIdSize, 16u);
  EXPECT_EQ(kMaxDepth, 8u);
  EXPECT_EQ(kMaxTokens, 1024u);
  EXPECT_EQ(kMaxSampleInterval, 21600);
  EXPECT_LT(kMinIpv6MtuPayload, kTypicalMtuPayload);
}

TEST(Limits, DatagramSize) {
  bencode::Document doc;
  // Exactly at the cap: a valid message padded with an unknown string key.
  const std::string head = "d1:a" + std::string("d") + kId + "e1:q4:ping1:t2:aa1:y1:q1:z";
  const std::size_t pad = kMaxDatagramSize - head.size() - 1 - 6;  // "65xxx:" is 6 bytes, then 'e'
  std::string at_cap = head + std::to_string(pad) + ":" + std::string(pad, 'p') + "e";
  ASSERT_EQ(at_cap.size(), kMaxDatagramSize);
  EXPECT_TRUE(parse(at_cap, doc).ok());

  const std::string over(kMaxDatagramSize + 1, 'd');
  const auto r = parse(over, doc);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ParseErrorCode::TooLarge);
  EXPECT_EQ(r.error().tid, "");
  EXPECT_FALSE(r.error().can_reply());

  // A custom, smaller cap.
  ParseLimits small;
  small.max_datagram = 100;
  const std::string ping = query("ping", "d" + kId + "e");
  ASSERT_LT(ping.size(), 100u);
  EXPECT_TRUE(parse(ping, doc, small).ok());
  const std::string padded =
      query("ping", "d" + kId + "1:z" + bstr(std::string(100 - ping.size() - 6, 'p')) + "e");
  ASSERT_EQ(padded.size(), 100u);
  EXPECT_TRUE(parse(padded, doc, small).ok());
  const std::string padded1 =
      query("ping", "d" + kId + "1:z" + bstr(std::string(101 - ping.size() - 6, 'p')) + "e");
  ASSERT_EQ(padded1.size(), 101u);
  const auto too_big = parse(padded1, doc, small);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code, ParseErrorCode::TooLarge);
}

TEST(Limits, Depth) {
  bencode::Document doc;
  EXPECT_TRUE(parse(nested_ping(kMaxDepth - 2), doc).ok());  // exactly kMaxDepth containers deep
  const auto r = parse(nested_ping(kMaxDepth - 1), doc);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ParseErrorCode::NotBencode);
  EXPECT_EQ(r.error().bencode.code, bencode::ErrorCode::TooDeep);
  // A malformed envelope has no transaction id to reply to.
  EXPECT_FALSE(r.error().can_reply());

  ParseLimits deeper;
  deeper.max_depth = 12;
  EXPECT_TRUE(parse(nested_ping(10), doc, deeper).ok());
}

TEST(Limits, TokensAllowOverAThousandValues) {
  bencode::Document doc;
  const std::size_t fits = kMaxTokens - 11;
  const auto ok = parse(values_response(fits), doc);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(std::get<Response>(ok->message).values->size(), fits);

  const auto r = parse(values_response(fits + 1), doc);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ParseErrorCode::NotBencode);
  EXPECT_EQ(r.error().bencode.code, bencode::ErrorCode::TooManyTokens);

  ParseLimits more;
  more.max_tokens = 4096;
  EXPECT_TRUE(parse(values_response(2000), doc, more).ok());
}

TEST(Limits, TransactionIdEdges) {
  bencode::Document doc;
  for (std::size_t n = 1; n <= kMaxTransactionIdSize; ++n) {
    const std::string in =
        "d1:a" + std::string("d") + kId + "e1:q4:ping1:t" + bstr(std::string(n, 't')) + "1:y1:qe";
    EXPECT_TRUE(parse(in, doc).ok()) << n;
  }
  for (const std::size_t n : {std::size_t{0}, kMaxTransactionIdSize + 1, std::size_t{1000}}) {
    const std::string in =
        "d1:a" + std::string("d") + kId + "e1:q4:ping1:t" + bstr(std::string(n, 't')) + "1:y1:qe";
    const auto r = parse(in, doc);
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error().code, ParseErrorCode::BadLength);
    EXPECT_EQ(r.error().field, "t");
    EXPECT_EQ(r.error().tid, "");              // never echo an absurd tid
    EXPECT_TRUE(r.error().is_query == false);  // y comes after t: unknown yet
    EXPECT_FALSE(r.error().can_reply());
  }
}

TEST(Limits, TokenEdges) {
  bencode::Document doc;
  const std::string max_token(kMaxTokenSize, 'k');
  EXPECT_TRUE(parse(response("d" + kId + "5:token" + bstr(max_token) + "e"), doc).ok());
  EXPECT_TRUE(parse(query("announce_peer", "d" + kId + "9:info_hash20:" + std::string(kIdA) +
                                               "4:porti1e5:token" + bstr(max_token) + "e"),
                    doc)
                  .ok());
}

}  // namespace
}  // namespace bitscrape::krpc
