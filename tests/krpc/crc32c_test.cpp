#include "krpc/crc32c.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bitscrape::krpc {
namespace {

TEST(Crc32c, CheckValue) {
  // The standard CRC catalogue "check" value for CRC-32C.
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
}

TEST(Crc32c, EmptyIsZero) {
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32c, Rfc3720Vectors) {
  // RFC 3720 (iSCSI) appendix B.4.
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string inc(32, '\0');
  std::string dec(32, '\0');
  for (int i = 0; i < 32; ++i) {
    inc[static_cast<std::size_t>(i)] = static_cast<char>(i);
    dec[static_cast<std::size_t>(i)] = static_cast<char>(31 - i);
  }
  EXPECT_EQ(crc32c(inc), 0x46DD794Eu);
  EXPECT_EQ(crc32c(dec), 0x113FDB5Cu);
}

TEST(Crc32c, Chaining) {
  EXPECT_EQ(crc32c("56789", crc32c("1234")), crc32c("123456789"));
}

TEST(Crc32c, Bep42Input) {
  // BEP-42 example 124.31.75.21, r = 1: crc32c(20 0f 0b 15) (cross-checked with an independent
  // Python implementation).
  EXPECT_EQ(crc32c(std::string("\x20\x0f\x0b\x15", 4)), 0x5fbfbdb2u);
}

}  // namespace
}  // namespace bitscrape::krpc
