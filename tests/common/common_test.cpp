#include "common/endpoint.hpp"
#include "common/hash.hpp"
#include "common/hex.hpp"
#include "common/id160.hpp"
#include "common/utf8.hpp"

#include <gtest/gtest.h>

namespace bitscrape {
namespace {

TEST(Hex, RoundTrip) {
  EXPECT_EQ(to_hex(std::string_view("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(from_hex("00FF10"), std::string("\x00\xff\x10", 3));
  EXPECT_EQ(from_hex("0"), std::nullopt);
  EXPECT_EQ(from_hex("zz"), std::nullopt);
}

TEST(Hash, KnownVectors) {
  EXPECT_EQ(to_hex({reinterpret_cast<const char*>(sha1("abc").data()), 20}),
            "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(to_hex({reinterpret_cast<const char*>(sha256("abc").data()), 32}),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha1 inc;
  inc.update("a");
  inc.update("bc");
  EXPECT_EQ(inc.finish(), sha1("abc"));
  Sha256 inc2;
  inc2.update("ab");
  inc2.update("c");
  EXPECT_EQ(inc2.finish(), sha256("abc"));
}

TEST(Id160, HexAndBytes) {
  const auto id = Id160::from_hex("0123456789ABCDEF0123456789abcdef01234567");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->hex(), "0123456789abcdef0123456789abcdef01234567");
  EXPECT_EQ(Id160::from_bytes(id->view()), id);
  EXPECT_EQ(Id160::from_hex("0123"), std::nullopt);
  EXPECT_EQ(Id160::from_hex("g123456789abcdef0123456789abcdef01234567"), std::nullopt);
  EXPECT_EQ(Id160::from_bytes("short"), std::nullopt);
}

TEST(Id160, DistanceAndPrefix) {
  Id160 a{};
  Id160 b{};
  EXPECT_EQ(a.common_prefix_bits(b), 160);
  b.set_bit(9, true);
  EXPECT_EQ(a.common_prefix_bits(b), 9);
  EXPECT_TRUE(b.bit(9));
  EXPECT_EQ((a ^ b).leading_zero_bits(), 9);
  Id160 c{};
  c.set_bit(0, true);
  EXPECT_TRUE(closer_to(a, b, c));
  EXPECT_FALSE(closer_to(a, c, b));
  EXPECT_FALSE(closer_to(a, b, b));
  EXPECT_LT(b, c);
}

TEST(Endpoint, ParseAndFormat) {
  auto e = Endpoint::parse("1.2.3.4:6881");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->ip.is_v4());
  EXPECT_EQ(e->port, 6881);
  EXPECT_EQ(e->to_string(), "1.2.3.4:6881");
  EXPECT_EQ(e->ip.bytes(), std::string_view("\x01\x02\x03\x04", 4));
  auto e6 = Endpoint::parse("[2001:db8::1]:80");
  ASSERT_TRUE(e6);
  EXPECT_TRUE(e6->ip.is_v6());
  EXPECT_EQ(e6->to_string(), "[2001:db8::1]:80");
  for (const char* bad : {"1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "host:80", "2001:db8::1:80", "[::1]80",
                          "1.2.3.4:-1", "1.2.3.4:8x"}) {
    EXPECT_EQ(Endpoint::parse(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(IpAddress::from_bytes("abc"), std::nullopt);
  EXPECT_EQ(IpAddress::v4(0x7f000001u).to_string(), "127.0.0.1");
}

TEST(IpAddress, Martians) {
  for (const char* m : {"0.1.2.3", "10.0.0.1", "100.64.0.1", "127.0.0.1", "169.254.1.1", "172.16.0.1",
                        "172.31.255.255", "192.168.1.1", "192.0.0.1", "198.18.0.1", "224.0.0.1",
                        "255.255.255.255", "::", "::1", "fc00::1", "fd12::1", "fe80::1", "ff02::1",
                        "::ffff:192.168.0.1"}) {
    EXPECT_TRUE(IpAddress::parse(m)->is_martian()) << m;
  }
  for (const char* ok : {"1.1.1.1", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:db8::1",
                         "::ffff:8.8.8.8", "223.255.255.255"}) {
    EXPECT_FALSE(IpAddress::parse(ok)->is_martian()) << ok;
  }
  EXPECT_TRUE(IpAddress::parse("127.3.4.5")->is_loopback());
  EXPECT_TRUE(IpAddress::parse("::1")->is_loopback());
  EXPECT_FALSE(IpAddress::parse("10.0.0.1")->is_loopback());
}

TEST(Utf8, ValidateAndRepair) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xe6\x97\xa5\xe6\x9c\xac"));  // 日本
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));          // 😀
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));                 // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));             // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));         // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xe6\x97"));                 // truncated
  EXPECT_EQ(repair_utf8("a\xff" "b"), "a\xef\xbf\xbd" "b");
  EXPECT_EQ(repair_utf8("\xe6\x97"), "\xef\xbf\xbd");
  EXPECT_TRUE(is_valid_utf8(repair_utf8("\xc0\xaf\xed\xa0\x80x\xf8")));
}

}  // namespace
}  // namespace bitscrape

#include "common/csv.hpp"

namespace bitscrape {
namespace {

TEST(Csv, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  std::string row;
  append_csv_row(row, {"x", "y,z", ""});
  EXPECT_EQ(row, "x,\"y,z\",\n");
}

TEST(Csv, SplitsAndRoundTrips) {
  EXPECT_EQ(split_csv_line("a,b,c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(split_csv_line("a,,\r"), (std::vector<std::string>{"a", "", ""}));
  EXPECT_EQ(split_csv_line("\"a,b\",\"q\"\"x\""), (std::vector<std::string>{"a,b", "q\"x"}));
  EXPECT_EQ(split_csv_line(""), (std::vector<std::string>{""}));
  EXPECT_EQ(split_csv_line("\"open"), std::nullopt);
  EXPECT_EQ(split_csv_line("a\"b"), std::nullopt);
  EXPECT_EQ(split_csv_line("\"a\"b"), std::nullopt);
  const std::vector<std::string> fields{"日本", "with,comma", "with \"quotes\"", ""};
  std::string row;
  append_csv_row(row, fields);
  row.pop_back();
  EXPECT_EQ(split_csv_line(row), fields);
}

}  // namespace
}  // namespace bitscrape

namespace bitscrape {
namespace {
TEST(Hash, ObjectsAreReusableAfterFinish) {
  Sha1 s;
  s.update("abc");
  EXPECT_EQ(s.finish(), sha1("abc"));
  s.update("abc");
  EXPECT_EQ(s.finish(), sha1("abc"));
  EXPECT_EQ(s.digest({"a", "", "bc"}), sha1("abc"));
  s.update("zzz");  // digest() starts afresh whatever was pending
  EXPECT_EQ(s.digest({"abc"}), sha1("abc"));
  Sha256 t;
  t.update("x");
  EXPECT_EQ(t.finish(), sha256("x"));
  t.update("abc");
  EXPECT_EQ(t.finish(), sha256("abc"));
}
}  // namespace
}  // namespace bitscrape
