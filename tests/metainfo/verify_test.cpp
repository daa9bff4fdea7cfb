#include "metainfo/verify.hpp"

#include "common/hex.hpp"

#include <gtest/gtest.h>

namespace bitscrape::metainfo {
namespace {

// FIPS 180 test vectors for "abc".
constexpr const char* kSha1Abc = "a9993e364706816aba3e25717850c26c9cd0d89d";
constexpr const char* kSha256Abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(HashInfo, BothDigestsOverTheExactBytes) {
  const auto h = hash_info("abc");
  EXPECT_EQ(h.v1.hex(), kSha1Abc);
  EXPECT_EQ(to_hex(std::string_view(reinterpret_cast<const char*>(h.v2.data()), h.v2.size())), kSha256Abc);
  EXPECT_EQ(h.v2_truncated().hex(), std::string(kSha256Abc).substr(0, 40));
}

TEST(MatchKey, V1V2OrNone) {
  EXPECT_EQ(match_key("abc", *InfoHash::from_hex(kSha1Abc)), KeyMatch::V1);
  EXPECT_EQ(match_key("abc", *InfoHash::from_hex(std::string(kSha256Abc).substr(0, 40))), KeyMatch::V2);
  EXPECT_EQ(match_key("abd", *InfoHash::from_hex(kSha1Abc)), KeyMatch::None);
  // A key made of the *last* 20 bytes of the SHA-256 is not the v2 key.
  EXPECT_EQ(match_key("abc", *InfoHash::from_hex(std::string(kSha256Abc).substr(24, 40))), KeyMatch::None);
}

}  // namespace
}  // namespace bitscrape::metainfo
