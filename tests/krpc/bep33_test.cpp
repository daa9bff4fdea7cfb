#include "krpc/bep33.hpp"

#include "common/hex.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace bitscrape::krpc {
namespace {

// The BEP-33 test vector: 192.0.2.0..255 and 2001:DB8::..2001:DB8::3E7 (1256 addresses).
ScrapeBloom bep33_vector_filter() {
  ScrapeBloom bf;
  for (int i = 0; i <= 255; ++i) {
    bf.insert(IpAddress::v4(std::array<std::uint8_t, 4>{192, 0, 2, static_cast<std::uint8_t>(i)}));
  }
  for (int i = 0; i <= 0x3E7; ++i) {
    std::array<std::uint8_t, 16> a{0x20, 0x01, 0x0D, 0xB8};
    a[14] = static_cast<std::uint8_t>(i >> 8);
    a[15] = static_cast<std::uint8_t>(i & 0xFF);
    bf.insert(IpAddress::v6(a));
  }
  return bf;
}

constexpr const char* kExpectedHex =
    "F6C3F5EAA07FFD91BDE89F777F26FB2BFF37BDB8FB2BBAA2FD3DDDE7BACFFF75EE7CCBAE"
    "FE5EEDB1FBFAFF67F6ABFF5E43DDBCA3FD9B9FFDF4FFD3E9DFF12D1BDF59DB53DBE9FA5B"
    "7FF3B8FDFCDE1AFB8BEDD7BE2F3EE71EBBBFE93BCDEEFE148246C2BC5DBFF7E7EFDCF24F"
    "D8DC7ADFFD8FFFDFDDFFF7A4BBEEDF5CB95CE81FC7FCFF1FF4FFFFDFE5F7FDCBB7FD79B3"
    "FA1FC77BFE07FFF905B7B7FFC7FEFEFFE0B8370BB0CD3F5B7F2BD93FEB4386CFDD6F7FD5"
    "BFAF2E9EBFFFFEECD67ADBF7C67F17EFD5D75EBA6FFEBA7FFF47A91EB1BFBB53E8ABFB57"
    "62ABE8FF237279BFEFBFEEF5FFC5FEBFDFE5ADFFADFEE1FB737FFFFBFD9F6AEFFEEE76B6"
    "FD8F72EF";

TEST(Bep33, SpecVectorBits) {
  const ScrapeBloom bf = bep33_vector_filter();
  // Compared as hex so a failure shows which bytes differ.
  EXPECT_EQ(to_hex(bf.view()), to_hex(*from_hex(kExpectedHex)));
}

TEST(Bep33, SpecVectorEstimate) {
  const double est = bep33_vector_filter().estimate();
  EXPECT_EQ(std::floor(est * 10000.0) / 10000.0, 1224.9308);
}

TEST(Bep33, EmptyAndSaturated) {
  ScrapeBloom empty;
  EXPECT_EQ(empty.estimate(), 0.0);
  ScrapeBloom one;
  one.insert(*IpAddress::parse("1.2.3.4"));
  EXPECT_GT(one.estimate(), 0.9);
  EXPECT_LT(one.estimate(), 1.1);
  ScrapeBloom full;
  full.bits.fill(0xFF);
  EXPECT_NEAR(full.estimate(), 7805.7, 0.1);  // the ceiling, not infinity
  EXPECT_TRUE(std::isfinite(full.estimate()));
}

TEST(Bep33, InsertIsIdempotentAndMergeIsUnion) {
  ScrapeBloom a;
  ScrapeBloom b;
  a.insert(*IpAddress::parse("1.2.3.4"));
  const ScrapeBloom a1 = a;
  a.insert(*IpAddress::parse("1.2.3.4"));
  EXPECT_EQ(a, a1);
  b.insert(*IpAddress::parse("5.6.7.8"));
  ScrapeBloom both;
  both.insert(*IpAddress::parse("1.2.3.4"));
  both.insert(*IpAddress::parse("5.6.7.8"));
  a.merge(b);
  EXPECT_EQ(a, both);
}

TEST(Bep33, Assign) {
  ScrapeBloom bf;
  EXPECT_FALSE(bf.assign(std::string(255, 'x')));
  EXPECT_FALSE(bf.assign(std::string(257, 'x')));
  EXPECT_EQ(bf, ScrapeBloom{});
  const std::string raw = *from_hex(kExpectedHex);
  EXPECT_TRUE(bf.assign(raw));
  EXPECT_EQ(bf, bep33_vector_filter());
}

}  // namespace
}  // namespace bitscrape::krpc
