#include "bencode/encoder.hpp"

#include <gtest/gtest.h>

#include <random>

namespace bitscrape::bencode {
namespace {

TEST(Writer, WritesCanonicalBencode) {
  std::string out;
  Writer w(out);
  w.begin_dict()
      .entry("a", std::int64_t{-5})
      .key("b").begin_list().string("x").integer(0).end()
      .entry("c", "str")
      .key("d").begin_dict().end()
      .end();
  EXPECT_TRUE(w.ok());
  EXPECT_EQ(w.depth(), 0u);
  EXPECT_EQ(out, "d1:ai-5e1:bl1:xi0ee1:c3:str1:ddee");
}

TEST(Writer, FlagsUnsortedAndDuplicateKeys) {
  std::string out;
  Writer w(out);
  w.begin_dict().entry("b", std::int64_t{1}).entry("a", std::int64_t{2}).end();
  EXPECT_FALSE(w.ok());

  std::string out2;
  Writer w2(out2);
  w2.begin_dict().entry("a", std::int64_t{1}).entry("a", std::int64_t{2}).end();
  EXPECT_FALSE(w2.ok());

  std::string out3;
  Writer w3(out3);
  w3.end();  // nothing open
  EXPECT_FALSE(w3.ok());

  std::string out4;
  Writer w4(out4);
  w4.begin_list().key("k");  // a key outside a dict
  EXPECT_FALSE(w4.ok());
}

TEST(Writer, KeyOrderIsPerDictAndUnsigned) {
  std::string out;
  Writer w(out);
  w.begin_dict()
      .key("a").begin_dict().entry("z", std::int64_t{1}).end()
      .key("b").begin_dict().entry("a", std::int64_t{1}).end()
      .entry("z", std::int64_t{0})
      .entry("\x80", std::int64_t{0})
      .end();
  EXPECT_TRUE(w.ok());
}

TEST(Writer, RawIsVerbatim) {
  std::string out;
  Writer w(out);
  w.begin_dict().key("info").raw("d1:bi0e1:ai0ee").end();  // non-canonical info kept as received
  EXPECT_EQ(out, "d4:infod1:bi0e1:ai0eee");
}

TEST(Item, EncodesDictsSortedWhateverTheInsertionOrder) {
  Item root;
  root["zeta"] = 1;
  root["alpha"] = Item::List{Item("x"), Item(2)};
  root["mid"]["inner"] = "v";
  EXPECT_EQ(root.encode(), "d5:alphal1:xi2ee3:midd5:inner1:ve4:zetai1ee");
}

TEST(Item, RoundTripsThroughTheDecoder) {
  const std::string canonical = "d4:infod6:lengthi12345e4:name4:test12:piece lengthi16384ee5:nodesl6:abcdefee";
  Document doc;
  ASSERT_TRUE(decode(canonical, doc).ok());
  EXPECT_EQ(Item::from(doc.root()).encode(), canonical);
}

TEST(Item, FromNonCanonicalInputYieldsCanonicalOutput) {
  Document doc;
  ASSERT_TRUE(decode("d1:bi1e1:ai2ee", doc).ok());
  EXPECT_EQ(Item::from(doc.root()).encode(), "d1:ai2e1:bi1ee");
}

// Property: random structures encode to bytes the strict decoder accepts, and decoding then
// re-encoding gives the same bytes.
Item random_item(std::mt19937& rng, int depth) {
  const int kind = depth > 4 ? static_cast<int>(rng() % 2) : static_cast<int>(rng() % 4);
  switch (kind) {
    case 0:
      return Item(static_cast<std::int64_t>(rng()) - static_cast<std::int64_t>(rng()) * 1000003);
    case 1: {
      std::string s(rng() % 12, '\0');
      for (auto& c : s) c = static_cast<char>(rng());
      return Item(std::move(s));
    }
    case 2: {
      Item::List l;
      for (unsigned i = rng() % 5; i > 0; --i) l.push_back(random_item(rng, depth + 1));
      return Item(std::move(l));
    }
    default: {
      Item::Dict d;
      for (unsigned i = rng() % 5; i > 0; --i) {
        std::string k(1 + rng() % 4, '\0');
        for (auto& c : k) c = static_cast<char>(rng());
        d[k] = random_item(rng, depth + 1);
      }
      return Item(std::move(d));
    }
  }
}

TEST(Item, RandomRoundTrip) {
  std::mt19937 rng(1234);
  Limits strict;
  strict.strict = true;
  for (int i = 0; i < 2000; ++i) {
    const Item item = random_item(rng, 0);
    const std::string bytes = item.encode();
    Document doc;
    auto r = decode(bytes, doc, strict);
    ASSERT_TRUE(r.ok()) << r.error().reason() << " at " << r.error().offset;
    EXPECT_EQ(Item::from(doc.root()), item);
    EXPECT_EQ(Item::from(doc.root()).encode(), bytes);
  }
}

}  // namespace
}  // namespace bitscrape::bencode

namespace bitscrape::bencode {
namespace {

TEST(Writer, DepthBeyondTheFixedStackIsFlagged) {
  std::string out;
  Writer w(out);
  for (std::size_t i = 0; i < Writer::kMaxDepth; ++i) w.begin_list();
  EXPECT_TRUE(w.ok());
  w.begin_list();
  EXPECT_FALSE(w.ok());
  for (std::size_t i = 0; i <= Writer::kMaxDepth; ++i) w.end();
  EXPECT_EQ(w.depth(), 0u);
  EXPECT_EQ(out, std::string(Writer::kMaxDepth + 1, 'l') + std::string(Writer::kMaxDepth + 1, 'e'));
}

}  // namespace
}  // namespace bitscrape::bencode
