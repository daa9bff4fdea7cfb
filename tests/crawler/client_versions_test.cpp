#include "crawler/client_versions.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace bitscrape::crawler {
namespace {

using namespace std::string_literals;

NodeId node(std::uint32_t n) {
  NodeId id;
  for (int i = 0; i < 4; ++i)
    id.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (24 - 8 * i));
  return id;
}

const std::string kLT208 = "LT\x02\x08"s;
const std::string kLT121 = "LT\x01\x21"s;

// ---- format_client_version ----

TEST(FormatClientVersion, Libtorrent) {
  // 1.2 and later: major, minor << 4 | tiny.
  EXPECT_EQ(format_client_version(kLT208), "LT 2.0.8");
  EXPECT_EQ(format_client_version("LT\x02\x10"s), "LT 2.1.0");
  EXPECT_EQ(format_client_version(kLT121), "LT 1.2.1");
  EXPECT_EQ(format_client_version("LT\x01\x2f"s), "LT 1.2.15");
  EXPECT_EQ(format_client_version("LT\xff\xff"s), "LT 255.15.15");
  // Up to 1.1: major, minor.
  EXPECT_EQ(format_client_version("LT\x01\x01"s), "LT 1.1");
  EXPECT_EQ(format_client_version("LT\x00\x10"s), "LT 0.16");
  EXPECT_EQ(format_client_version("LT\x01\x1f"s), "LT 1.31");
}

TEST(FormatClientVersion, OtherCodesAreABigEndianNumber) {
  EXPECT_EQ(format_client_version("UT\x01\x02"s), "UT 258");
  EXPECT_EQ(format_client_version("UT\x00\x00"s), "UT 0");
  EXPECT_EQ(format_client_version("GR\xff\xff"s), "GR 65535");
  EXPECT_EQ(format_client_version("lt\x02\x00"s), "lt 512");  // only "LT" is major.minor
}

TEST(FormatClientVersion, UnknownIsHex) {
  EXPECT_EQ(format_client_version(""), "(empty)");
  EXPECT_EQ(format_client_version("L"), "hex:4c");  // 1 byte
  EXPECT_EQ(format_client_version("LT"), "hex:4c54");
  EXPECT_EQ(format_client_version("LT\x02"s), "hex:4c5402");              // odd length
  EXPECT_EQ(format_client_version("LT\x02\x00\x01"s), "hex:4c54020001");  // 5 bytes
  EXPECT_EQ(format_client_version("\x01T\x02\x00"s), "hex:01540200");     // code not a letter
  EXPECT_EQ(format_client_version("<b\x02\x00"s), "hex:3c620200");        // markup
  EXPECT_EQ(format_client_version("\x1b[2J"s), "hex:1b5b324a");           // a terminal escape
  EXPECT_EQ(format_client_version("\n\r\t\0"s), "hex:0a0d0900");
  EXPECT_EQ(format_client_version("abc def"), "hex:61626320646566");  // printable but not a code
}

TEST(FormatClientVersion, AnyBytesGivePrintableDistinctLabels) {
  std::mt19937 rng(7);
  std::set<std::string> raws, labels;
  for (int i = 0; i < 20000; ++i) {
    std::string raw(1 + rng() % 32, '\0');  // 1 ..= krpc::kMaxVersionSize bytes
    for (auto& c : raw) c = static_cast<char>(rng() % (i % 2 == 0 ? 256 : 4));  // many short/zero bytes too
    if (i % 3 == 0) raw = raw.substr(0, 4);
    const auto label = format_client_version(raw);
    for (const char c : label) ASSERT_TRUE(c >= 0x20 && c < 0x7f) << label;
    EXPECT_LE(label.size(), 4u + 2 * 32);
    if (raws.insert(raw).second) EXPECT_TRUE(labels.insert(label).second) << "two raws give " << label;
  }
  // Every 4-byte code form, exhaustively for one code: distinct and printable.
  std::set<std::string> ut;
  for (int v = 0; v < 65536; ++v) {
    const std::string raw = "UT"s + static_cast<char>(v >> 8) + static_cast<char>(v & 0xff);
    ut.insert(format_client_version(raw));
  }
  EXPECT_EQ(ut.size(), 65536u);
}

// ---- ClientVersions ----

TEST(ClientVersions, CountsDistinctNodesNotReports) {
  ClientVersions cv;
  for (int rep = 0; rep < 5; ++rep) {
    for (std::uint32_t n = 0; n < 10; ++n) cv.seen(node(n), kLT208);
    for (std::uint32_t n = 10; n < 13; ++n) cv.seen(node(n), "UT\x01\x02"s);
  }
  EXPECT_EQ(cv.nodes(), 13u);
  EXPECT_EQ(cv.versions(), 2u);
  const auto top = cv.top(10);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].version, "LT 2.0.8");
  EXPECT_EQ(top[0].nodes, 10u);
  EXPECT_EQ(top[1].version, "UT 258");
  EXPECT_EQ(top[1].nodes, 3u);
  EXPECT_FALSE(cv.saturated());
}

TEST(ClientVersions, VersionChangeMovesTheCount) {
  ClientVersions cv;
  cv.seen(node(1), kLT121);
  cv.seen(node(2), kLT121);
  cv.seen(node(1), kLT208);  // node 1 upgraded
  auto top = cv.top(10);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].version, "LT 1.2.1");  // tie: by label
  EXPECT_EQ(top[0].nodes, 1u);
  EXPECT_EQ(top[1].version, "LT 2.0.8");
  EXPECT_EQ(top[1].nodes, 1u);
  cv.seen(node(2), kLT208);
  top = cv.top(10);
  ASSERT_EQ(top.size(), 1u);  // versions without nodes are not listed
  EXPECT_EQ(top[0].version, "LT 2.0.8");
  EXPECT_EQ(top[0].nodes, 2u);
  EXPECT_EQ(cv.nodes(), 2u);
}

TEST(ClientVersions, TopIsMostNodesFirstAndBounded) {
  ClientVersions cv;
  std::uint32_t n = 0;
  for (int v = 1; v <= 20; ++v) {
    const std::string raw = "XX"s + '\0' + static_cast<char>(v);
    for (int k = 0; k < v; ++k) cv.seen(node(n++), raw);
  }
  const auto top = cv.top(5);
  ASSERT_EQ(top.size(), 5u);
  EXPECT_EQ(top[0].version, "XX 20");
  EXPECT_EQ(top[0].nodes, 20u);
  for (std::size_t i = 1; i < top.size(); ++i) EXPECT_GT(top[i - 1].nodes, top[i].nodes);
  EXPECT_EQ(cv.top(100).size(), 20u);
  EXPECT_TRUE(cv.top(0).empty());
}

TEST(ClientVersions, NewVersionsBeyondTheCapGoToOther) {
  ClientVersions cv(1000, 3);
  for (std::uint32_t n = 0; n < 10; ++n) cv.seen(node(n), "v"s + static_cast<char>('0' + n));
  EXPECT_EQ(cv.versions(), 3u);
  auto top = cv.top(10);
  ASSERT_EQ(top.size(), 4u);
  EXPECT_EQ(top[0].version, ClientVersions::kOther);
  EXPECT_EQ(top[0].nodes, 7u);
  // A kept version still counts; a node moving from "other" to a kept version moves its count.
  cv.seen(node(9), "v0");
  cv.seen(node(100), "v1");
  top = cv.top(10);
  EXPECT_EQ(top[0].version, ClientVersions::kOther);
  EXPECT_EQ(top[0].nodes, 6u);
  EXPECT_EQ(top[1].version, format_client_version("v0"));
  EXPECT_EQ(top[1].nodes, 2u);
  EXPECT_EQ(cv.nodes(), 11u);
}

TEST(ClientVersions, SaturatesAtTheNodeCap) {
  ClientVersions cv(100);
  for (std::uint32_t n = 0; n < 150; ++n) cv.seen(node(n), kLT208);
  EXPECT_EQ(cv.nodes(), 100u);
  EXPECT_TRUE(cv.saturated());
  EXPECT_EQ(cv.turned_away(), 50u);
  ASSERT_EQ(cv.top(10).size(), 1u);
  EXPECT_EQ(cv.top(10)[0].nodes, 100u);
  // Counted nodes can still change version.
  cv.seen(node(0), kLT121);
  const auto top = cv.top(10);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].nodes, 99u);
  EXPECT_EQ(top[1].version, "LT 1.2.1");
  EXPECT_EQ(top[1].nodes, 1u);
  // The table grew only as far as the cap needs (load at most 1/2).
  EXPECT_LE(cv.memory_bytes(), 256 * sizeof(std::uint64_t));
}

TEST(ClientVersions, ManyNodesGrowTheTableAndStayExact) {
  ClientVersions cv(ClientVersions::kDefaultMaxNodes, ClientVersions::kDefaultMaxVersions, 12345);
  std::mt19937 rng(3);
  const std::string versions[] = {kLT208, kLT121, "UT\x01\x02"s, "\xff"s};
  std::uint64_t want[4] = {};
  for (std::uint32_t n = 0; n < 50'000; ++n) {
    NodeId id;
    for (auto& b : id.bytes) b = static_cast<std::uint8_t>(rng());
    const auto v = rng() % 4;
    ++want[v];
    cv.seen(id, versions[v]);
    cv.seen(id, versions[v]);  // reported again: no change
  }
  EXPECT_EQ(cv.nodes(), 50'000u);
  std::uint64_t total = 0;
  for (const auto& c : cv.top(10)) {
    total += c.nodes;
    for (int v = 0; v < 4; ++v) {
      if (c.version == format_client_version(versions[v])) EXPECT_EQ(c.nodes, want[v]) << c.version;
    }
  }
  EXPECT_EQ(total, 50'000u);
  EXPECT_EQ(cv.memory_bytes(), (std::size_t{1} << 17) * sizeof(std::uint64_t));
}

TEST(ClientVersions, HostileVersionsStayBounded) {
  ClientVersions cv(10'000, 50);
  std::mt19937 rng(9);
  for (std::uint32_t n = 0; n < 5000; ++n) {
    std::string raw(4 + rng() % 29, '\0');  // distinct: the first 4 bytes are n
    for (auto& c : raw) c = static_cast<char>(rng());
    for (int i = 0; i < 4; ++i) raw[static_cast<std::size_t>(i)] = static_cast<char>(n >> (8 * i));
    cv.seen(node(n), raw);
  }
  EXPECT_EQ(cv.versions(), 50u);
  const auto top = cv.top(1000);
  EXPECT_EQ(top.size(), 51u);
  EXPECT_EQ(top[0].version, ClientVersions::kOther);
  EXPECT_EQ(top[0].nodes, 4950u);
  for (const auto& c : top) {
    for (const char ch : c.version) ASSERT_TRUE(ch >= 0x20 && ch < 0x7f);
  }
}

}  // namespace
}  // namespace bitscrape::crawler
