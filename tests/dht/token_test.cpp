#include "dht/token.hpp"

#include "test_util.hpp"

#include <gtest/gtest.h>

namespace bitscrape::dht {
namespace {

using namespace std::chrono_literals;
using test::at;

TEST(TokenIssuer, TokenIsBoundToTheRequesterIp) {
  Rng rng(1);
  TokenIssuer tok(5min, rng, at(0ms));
  const auto a = IpAddress::v4(0x14000001);
  const auto b = IpAddress::v4(0x14000002);
  const auto t = tok.issue(a);
  EXPECT_EQ(t.size(), TokenIssuer::kSize);
  EXPECT_TRUE(tok.verify(token_view(t), a));
  EXPECT_FALSE(tok.verify(token_view(t), b));
  EXPECT_EQ(token_view(tok.issue(a)), token_view(t));  // deterministic within a period
  EXPECT_NE(token_view(tok.issue(b)), token_view(t));
  EXPECT_FALSE(tok.verify("", a));
  EXPECT_FALSE(tok.verify(std::string(TokenIssuer::kSize + 1, 'x'), a));
}

TEST(TokenIssuer, PreviousSecretAcceptedForOneMoreRotation) {
  Rng rng(2);
  TokenIssuer tok(5min, rng, at(0ms));
  const auto ip = IpAddress::v4(0x14000001);
  const auto t = tok.issue(ip);
  tok.maybe_rotate(at(4min));  // not due yet
  EXPECT_EQ(token_view(tok.issue(ip)), token_view(t));
  tok.maybe_rotate(at(5min));  // first rotation: old token still accepted, a new one issued
  EXPECT_TRUE(tok.verify(token_view(t), ip));
  EXPECT_NE(token_view(tok.issue(ip)), token_view(t));
  tok.maybe_rotate(at(10min));  // second rotation: the old token is dead
  EXPECT_FALSE(tok.verify(token_view(t), ip));
  EXPECT_EQ(tok.next_rotation(), at(15min));
}

TEST(TokenIssuer, LongIdleRotatesBothSecrets) {
  Rng rng(3);
  TokenIssuer tok(5min, rng, at(0ms));
  const auto ip = IpAddress::v4(0x14000001);
  const auto t = tok.issue(ip);
  tok.maybe_rotate(at(3h));
  EXPECT_FALSE(tok.verify(token_view(t), ip));
  EXPECT_EQ(tok.next_rotation(), at(3h) + 5min);
}

TEST(TokenIssuer, V6TokensWork) {
  Rng rng(4);
  TokenIssuer tok(5min, rng, at(0ms));
  const auto ip = test::ep6(9).ip;
  EXPECT_TRUE(tok.verify(token_view(tok.issue(ip)), ip));
  EXPECT_FALSE(tok.verify(token_view(tok.issue(ip)), test::ep6(10).ip));
}

}  // namespace
}  // namespace bitscrape::dht
