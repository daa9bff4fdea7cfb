#include "krpc/compact.hpp"

#include "test_util.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bitscrape::krpc {
namespace {

using test::hex_bytes;

Endpoint ep(const char* s) {
  return *Endpoint::parse(s);
}

TEST(CompactPeer, V4Decode) {
  const auto e =
      decode_compact_peer(hex_bytes("01020304"
                                    "1ae1"));
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, ep("1.2.3.4:6881"));
}

TEST(CompactPeer, V6Decode) {
  const auto e =
      decode_compact_peer(hex_bytes("20010db8000000000000000000000001"
                                    "c8d5"));
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, ep("[2001:db8::1]:51413"));
}

TEST(CompactPeer, WrongLengths) {
  for (std::size_t n : {0u, 1u, 5u, 7u, 17u, 19u, 26u}) {
    EXPECT_FALSE(decode_compact_peer(std::string(n, 'x'))) << n;
  }
}

TEST(CompactPeer, EncodeV4V6) {
  std::string out = "pre";
  append_compact_peer(out, ep("1.2.3.4:6881"));
  EXPECT_EQ(out, "pre" + hex_bytes("010203041ae1"));
  out.clear();
  append_compact_peer(out, ep("[2001:db8::1]:51413"));
  EXPECT_EQ(out, hex_bytes("20010db8000000000000000000000001c8d5"));
  char buf[kMaxCompactPeerSize];
  EXPECT_EQ(write_compact_peer(ep("255.255.255.255:65535"), buf), 6u);
  EXPECT_EQ(std::string(buf, 6), std::string(6, '\xFF'));
}

TEST(CompactPeer, RoundTrip) {
  for (const char* s : {"0.0.0.0:1", "1.2.3.4:6881", "255.255.255.255:65535", "[::]:1", "[2001:db8::1]:51413",
                        "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", "[::ffff:1.2.3.4]:80"}) {
    std::string out;
    append_compact_peer(out, ep(s));
    EXPECT_EQ(out.size(), ep(s).ip.is_v4() ? 6u : 18u) << s;
    EXPECT_EQ(decode_compact_peer(out), ep(s)) << s;
  }
}

TEST(CompactNode, V4V6RoundTrip) {
  const CompactNode a{test::id_of(test::kIdA), ep("1.2.3.4:6881")};
  const CompactNode b{test::id_of(test::kIdM), ep("[2001:db8::1]:51413")};
  std::string out;
  append_compact_node(out, a);
  EXPECT_EQ(out, std::string(test::kIdA) + hex_bytes("010203041ae1"));
  EXPECT_EQ(decode_compact_node(out), a);
  out.clear();
  append_compact_node(out, b);
  ASSERT_EQ(out.size(), kCompactNodeV6Size);
  EXPECT_EQ(out, std::string(test::kIdM) + hex_bytes("20010db8000000000000000000000001c8d5"));
  EXPECT_EQ(decode_compact_node(out), b);
  EXPECT_FALSE(decode_compact_node(out.substr(1)));
  EXPECT_FALSE(decode_compact_node(""));
  EXPECT_FALSE(decode_compact_node(std::string(27, 'x')));
}

TEST(NodeList, ValidatesStride) {
  EXPECT_TRUE(NodeList::v4(""));
  EXPECT_TRUE(NodeList::v4(std::string(26, 'x')));
  EXPECT_TRUE(NodeList::v4(std::string(26 * 8, 'x')));
  EXPECT_FALSE(NodeList::v4(std::string(25, 'x')));
  EXPECT_FALSE(NodeList::v4(std::string(27, 'x')));
  EXPECT_FALSE(NodeList::v4(std::string(38, 'x')));
  EXPECT_TRUE(NodeList::v6(std::string(38 * 3, 'x')));
  EXPECT_FALSE(NodeList::v6(std::string(26, 'x')));
  EXPECT_FALSE(NodeList::v6(std::string(39, 'x')));
  EXPECT_EQ(NodeList::v4(std::string(26, 'x'))->family(), IpAddress::Family::V4);
  EXPECT_EQ(NodeList::v6(std::string(38, 'x'))->family(), IpAddress::Family::V6);
}

TEST(NodeList, IteratesV4) {
  std::vector<CompactNode> nodes;
  std::string blob;
  for (int i = 0; i < 8; ++i) {
    CompactNode n;
    n.id.bytes.fill(static_cast<std::uint8_t>(i + 1));
    n.endpoint = Endpoint{IpAddress::v4(0x0A000000u + static_cast<std::uint32_t>(i)),
                          static_cast<std::uint16_t>(1000 + i)};
    nodes.push_back(n);
    append_compact_node(blob, n);
  }
  const auto list = NodeList::v4(blob);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 8u);
  EXPECT_EQ(list->bytes(), blob);
  std::vector<CompactNode> got(list->begin(), list->end());
  EXPECT_EQ(got, nodes);
  EXPECT_EQ((*list)[5], nodes[5]);
}

TEST(NodeList, IteratesV6) {
  std::vector<CompactNode> nodes;
  std::string blob;
  for (int i = 0; i < 3; ++i) {
    std::array<std::uint8_t, 16> a{0x20, 0x01, 0x0d, 0xb8};
    a[15] = static_cast<std::uint8_t>(i);
    CompactNode n{NodeId{}, Endpoint{IpAddress::v6(a), static_cast<std::uint16_t>(i + 1)}};
    n.id.bytes[19] = static_cast<std::uint8_t>(i);
    nodes.push_back(n);
    append_compact_node(blob, n);
  }
  const auto list = NodeList::v6(blob);
  ASSERT_TRUE(list);
  std::vector<CompactNode> got;
  for (const CompactNode& n : *list) got.push_back(n);
  EXPECT_EQ(got, nodes);
}

TEST(NodeList, EmptyIteratesNothing) {
  const NodeList l;
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.begin(), l.end());
}

TEST(NodeList, Equality) {
  const std::string blob(38, 'x');
  EXPECT_EQ(*NodeList::v6(blob), *NodeList::v6(std::string(38, 'x')));
  EXPECT_NE(*NodeList::v4(""), *NodeList::v6(""));  // family is part of the value
}

TEST(SampleList, SlicesAtMultiplesOf20) {
  // Each sample is distinct and position-dependent, so an off-by-one slice is caught.
  std::string blob;
  for (int i = 0; i < 20; ++i) {
    for (int k = 0; k < 20; ++k) blob.push_back(static_cast<char>(i * 20 + k));
  }
  const auto s = SampleList::from(blob);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->size(), 20u);
  std::size_t i = 0;
  for (const InfoHash& h : *s) {
    EXPECT_EQ(h.view(), std::string_view(blob).substr(i * 20, 20)) << i;
    EXPECT_EQ(h, (*s)[i]);
    ++i;
  }
  EXPECT_EQ(i, 20u);
}

TEST(SampleList, ValidatesLength) {
  EXPECT_TRUE(SampleList::from(""));
  EXPECT_TRUE(SampleList::from(std::string(40, 'x')));
  EXPECT_FALSE(SampleList::from(std::string(19, 'x')));
  EXPECT_FALSE(SampleList::from(std::string(21, 'x')));
  EXPECT_FALSE(SampleList::from(std::string(26, 'x')));
}

}  // namespace
}  // namespace bitscrape::krpc
