#include "bencode/decoder.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bitscrape::bencode {
namespace {

Error decode_error(std::string_view in, const Limits& limits = {}) {
  Document doc;
  auto r = decode(in, doc, limits);
  EXPECT_FALSE(r.ok()) << "input: " << in;
  if (r.ok()) return {};
  EXPECT_TRUE(doc.tokens().empty());  // a failed decode leaves nothing to misread
  return r.error();
}

TEST(Decoder, Integers) {
  Document doc;
  for (auto [text, value] : std::initializer_list<std::pair<const char*, std::int64_t>>{
           {"i0e", 0}, {"i42e", 42}, {"i-42e", -42}, {"i9223372036854775807e", INT64_MAX},
           {"i-9223372036854775808e", INT64_MIN}}) {
    ASSERT_TRUE(decode(text, doc).ok()) << text;
    EXPECT_EQ(doc.root().type(), Type::Integer);
    EXPECT_EQ(doc.root().as_int(), value) << text;
    EXPECT_EQ(doc.root().as_string(), std::nullopt);
    EXPECT_EQ(doc.root().raw(), text);
  }
}

TEST(Decoder, IntegerErrors) {
  EXPECT_EQ(decode_error("i03e"), (Error{ErrorCode::LeadingZero, 0}));
  EXPECT_EQ(decode_error("i-03e"), (Error{ErrorCode::LeadingZero, 0}));
  EXPECT_EQ(decode_error("i00e"), (Error{ErrorCode::LeadingZero, 0}));
  EXPECT_EQ(decode_error("i-0e"), (Error{ErrorCode::NegativeZero, 0}));
  EXPECT_EQ(decode_error("ie"), (Error{ErrorCode::EmptyInteger, 0}));
  EXPECT_EQ(decode_error("i-e").code, ErrorCode::EmptyInteger);
  EXPECT_EQ(decode_error("i9223372036854775808e"), (Error{ErrorCode::IntegerOverflow, 0}));
  EXPECT_EQ(decode_error("i-9223372036854775809e"), (Error{ErrorCode::IntegerOverflow, 0}));
  EXPECT_EQ(decode_error("i99999999999999999999999e").code, ErrorCode::IntegerOverflow);
  EXPECT_EQ(decode_error("i12"), (Error{ErrorCode::Truncated, 3}));
  EXPECT_EQ(decode_error("i1x2e"), (Error{ErrorCode::UnexpectedChar, 2}));
  EXPECT_EQ(decode_error("i+1e").code, ErrorCode::EmptyInteger);
  EXPECT_EQ(decode_error("i"), (Error{ErrorCode::Truncated, 1}));
}

TEST(Decoder, Strings) {
  Document doc;
  ASSERT_TRUE(decode("4:spam", doc).ok());
  EXPECT_EQ(doc.root().as_string(), "spam");
  EXPECT_EQ(doc.root().raw(), "4:spam");
  ASSERT_TRUE(decode("0:", doc).ok());
  EXPECT_EQ(doc.root().as_string(), "");
  const std::string binary("3:\0\xff\n", 5);
  ASSERT_TRUE(decode(binary, doc).ok());
  EXPECT_EQ(doc.root().as_string(), std::string_view("\0\xff\n", 3));
}

TEST(Decoder, StringErrors) {
  EXPECT_EQ(decode_error("5:spam"), (Error{ErrorCode::StringTooLong, 0}));
  EXPECT_EQ(decode_error("04:spam"), (Error{ErrorCode::LeadingZero, 0}));
  EXPECT_EQ(decode_error("4spam"), (Error{ErrorCode::UnexpectedChar, 1}));
  EXPECT_EQ(decode_error("4"), (Error{ErrorCode::Truncated, 1}));
  EXPECT_EQ(decode_error("99999999999:x"), (Error{ErrorCode::StringTooLong, 0}));
  EXPECT_EQ(decode_error("4294967296:x").code, ErrorCode::StringTooLong);
}

TEST(Decoder, ListsAndDicts) {
  Document doc;
  const std::string in = "d4:listli1e3:twoli3eee3:numi7e3:str5:helloe";
  ASSERT_TRUE(decode(in, doc).ok());
  auto root = doc.root();
  ASSERT_TRUE(root.is_dict());
  EXPECT_EQ(root.size(), 3u);
  EXPECT_EQ(root.get_int("num"), 7);
  EXPECT_EQ(root.get_string("str"), "hello");
  EXPECT_FALSE(root["missing"]);
  EXPECT_EQ(root.get_int("str"), std::nullopt);  // wrong type reads as absent
  auto list = root["list"];
  ASSERT_TRUE(list.is_list());
  EXPECT_EQ(list.size(), 3u);
  EXPECT_EQ(list.at(0).as_int(), 1);
  EXPECT_EQ(list.at(1).as_string(), "two");
  EXPECT_EQ(list.at(2).raw(), "li3ee");
  EXPECT_EQ(list.at(2).at(0).as_int(), 3);
  EXPECT_FALSE(list.at(3));
  EXPECT_EQ(list.raw(), "li1e3:twoli3eee");
  EXPECT_EQ(list.offset(), 7u);

  std::vector<std::string> keys;
  for (auto [k, v] : root.entries()) keys.emplace_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"list", "num", "str"}));
  std::vector<std::int64_t> ints;
  for (auto v : list.items()) {
    if (v.is_int()) ints.push_back(*v.as_int());
  }
  EXPECT_EQ(ints, std::vector<std::int64_t>{1});
  EXPECT_EQ(doc.consumed(), in.size());
}

TEST(Decoder, EmptyContainers) {
  Document doc;
  ASSERT_TRUE(decode("de", doc).ok());
  EXPECT_TRUE(doc.root().is_dict());
  EXPECT_EQ(doc.root().size(), 0u);
  ASSERT_TRUE(decode("le", doc).ok());
  EXPECT_TRUE(doc.root().is_list());
  EXPECT_EQ(doc.root().items().begin(), doc.root().items().end());
  ASSERT_TRUE(decode("lleledee", doc).ok());
  EXPECT_EQ(doc.root().size(), 3u);
}

TEST(Decoder, RawRangeOfNestedInfoDict) {
  // What an infohash is computed over: the info value exactly as received, even when not canonical.
  const std::string info = "d6:lengthi5e4:name3:abc12:piece lengthi16384ee";
  const std::string torrent = "d8:announce3:url4:info" + info + "e";
  Document doc;
  ASSERT_TRUE(decode(torrent, doc).ok());
  EXPECT_EQ(doc.root()["info"].raw(), info);
  EXPECT_EQ(doc.root()["info"].offset(), torrent.find(info));
}

TEST(Decoder, StructureErrors) {
  EXPECT_EQ(decode_error(""), (Error{ErrorCode::Empty, 0}));
  EXPECT_EQ(decode_error("l"), (Error{ErrorCode::Truncated, 1}));
  EXPECT_EQ(decode_error("li1e"), (Error{ErrorCode::Truncated, 4}));
  EXPECT_EQ(decode_error("e"), (Error{ErrorCode::UnexpectedChar, 0}));
  EXPECT_EQ(decode_error("x"), (Error{ErrorCode::UnexpectedChar, 0}));
  EXPECT_EQ(decode_error("di1ei2ee"), (Error{ErrorCode::KeyNotString, 1}));
  EXPECT_EQ(decode_error("dlee"), (Error{ErrorCode::KeyNotString, 1}));
  EXPECT_EQ(decode_error("d1:ae"), (Error{ErrorCode::UnexpectedChar, 4}));  // key without value
  EXPECT_EQ(decode_error("i1ei2e"), (Error{ErrorCode::TrailingData, 3}));
  EXPECT_EQ(decode_error("dee"), (Error{ErrorCode::TrailingData, 2}));
}

TEST(Decoder, TrailingDataAllowedWhenAsked) {
  // BEP-9 data messages: a bencoded dict followed by raw piece bytes.
  Limits limits;
  limits.allow_trailing = true;
  Document doc;
  const std::string in = "d8:msg_typei1e5:piecei0eeRAWBYTES";
  ASSERT_TRUE(decode(in, doc, limits).ok());
  EXPECT_EQ(doc.consumed(), in.find("RAW"));
  EXPECT_EQ(doc.root().get_int("msg_type"), 1);
}

TEST(Decoder, StrictKeyOrder) {
  Limits strict;
  strict.strict = true;
  Document doc;
  EXPECT_TRUE(decode("d1:ai1e1:bi2ee", doc, strict).ok());
  EXPECT_TRUE(decode("d1:bi1e1:ai2ee", doc).ok());  // lenient by default: real clients send these
  EXPECT_EQ(decode_error("d1:bi1e1:ai2ee", strict), (Error{ErrorCode::UnsortedKeys, 7}));
  EXPECT_EQ(decode_error("d1:ai1e1:ai2ee", strict), (Error{ErrorCode::DuplicateKey, 7}));
  // Raw-byte order: "a" < "ab" < "b", and 0x80 sorts after ASCII (unsigned comparison).
  EXPECT_TRUE(decode("d1:ai0e2:abi0e1:bi0ee", doc, strict).ok());
  EXPECT_TRUE(decode("d1:zi0e1:\x80i0ee", doc, strict).ok());
  EXPECT_EQ(decode_error("d1:\x80i0e1:zi0ee", strict).code, ErrorCode::UnsortedKeys);
  // Order is per dict: nested dicts start afresh.
  EXPECT_TRUE(decode("d1:bd1:ai0ee1:cd1:ai0eee", doc, strict).ok());
}

TEST(Decoder, DepthLimit) {
  Limits limits;
  limits.max_depth = 3;
  Document doc;
  EXPECT_TRUE(decode("llleee", doc, limits).ok());
  EXPECT_EQ(decode_error("lllleeee", limits), (Error{ErrorCode::TooDeep, 3}));
  // The hard limit holds whatever the caller asks for: no stack exhaustion from hostile nesting.
  limits.max_depth = 1u << 30;
  const std::string deep = std::string(5000, 'l') + std::string(5000, 'e');
  EXPECT_EQ(decode_error(deep, limits), (Error{ErrorCode::TooDeep, 1024}));
}

TEST(Decoder, TokenAndSizeLimits) {
  Limits limits;
  limits.max_tokens = 4;
  Document doc;
  EXPECT_TRUE(decode("li1ei2ei3ee", doc, limits).ok());
  EXPECT_EQ(decode_error("li1ei2ei3ei4ee", limits), (Error{ErrorCode::TooManyTokens, 10}));
  limits.max_size = 5;
  EXPECT_EQ(decode_error("li1ei2ee", limits), (Error{ErrorCode::TooLarge, 0}));
}

TEST(Decoder, DocumentReuseReplacesOldContent) {
  Document doc;
  ASSERT_TRUE(decode("li1ei2ei3ee", doc).ok());
  ASSERT_TRUE(decode("3:abc", doc).ok());
  EXPECT_EQ(doc.tokens().size(), 1u);
  EXPECT_EQ(doc.root().as_string(), "abc");
  EXPECT_FALSE(decode("li1e", doc).ok());
  EXPECT_FALSE(doc.root());
}

TEST(Decoder, NullValueAccessorsAreSafe) {
  Value v;
  EXPECT_FALSE(v);
  EXPECT_EQ(v.type(), std::nullopt);
  EXPECT_EQ(v.as_int(), std::nullopt);
  EXPECT_EQ(v.raw(), "");
  EXPECT_FALSE(v["x"]);
  EXPECT_EQ(v.size(), 0u);
  EXPECT_EQ(v.items().begin(), v.items().end());
  EXPECT_EQ(v.entries().begin(), v.entries().end());
}

TEST(Decoder, EveryErrorHasAReason) {
  for (int c = 0; c <= static_cast<int>(ErrorCode::TrailingData); ++c) {
    const Error e{static_cast<ErrorCode>(c), 0};
    EXPECT_FALSE(e.reason().empty());
    EXPECT_NE(e.reason(), "unknown error");
  }
}

}  // namespace
}  // namespace bitscrape::bencode
