#include "krpc/bep42.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace bitscrape::krpc {
namespace {

IpAddress ip(const char* s) {
  return *IpAddress::parse(s);
}
NodeId hexid(const char* s) {
  return *NodeId::from_hex(s);
}

struct Vector {
  const char* ip;
  std::uint8_t r;
  const char* id;
  std::uint32_t crc;  // crc32c of the masked address (computed independently in Python)
};

// The example table of BEP-42.
constexpr std::array<Vector, 5> kVectors{{
    {"124.31.75.21", 1, "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401", 0x5fbfbdb2},
    {"21.75.31.124", 86, "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256", 0x5a3ce9b0},
    {"65.23.51.170", 22, "a5d43220bc8f112a3d426c84764f8c2a1150e616", 0xa5d4344a},
    {"84.124.73.14", 65, "1b0321dd1bb1fe518101ceef99462b947a01ff41", 0x1b03217b},
    {"43.213.53.83", 90, "e56f6cbf5b7c4be0237986d5243b87aa6d51305a", 0xe56f6972},
}};

TEST(Bep42, CrcOfExampleTable) {
  for (const auto& v : kVectors) {
    SCOPED_TRACE(v.ip);
    EXPECT_EQ(bep42_crc(ip(v.ip), v.r), v.crc);
  }
}

TEST(Bep42, ExampleIdsAreSecure) {
  for (const auto& v : kVectors) {
    SCOPED_TRACE(v.ip);
    EXPECT_TRUE(is_secure_id(hexid(v.id), ip(v.ip)));
    EXPECT_EQ(hexid(v.id).bytes[19], v.r);
  }
}

TEST(Bep42, ExampleIdsAreNotSecureForOtherAddresses) {
  for (std::size_t i = 0; i < kVectors.size(); ++i) {
    for (std::size_t j = 0; j < kVectors.size(); ++j) {
      if (i == j) continue;
      EXPECT_FALSE(is_secure_id(hexid(kVectors[i].id), ip(kVectors[j].ip))) << i << " vs " << j;
    }
  }
}

TEST(Bep42, GeneratedIdsMatchTheTablePrefix) {
  for (const auto& v : kVectors) {
    SCOPED_TRACE(v.ip);
    // Entropy: the table's own id with its first 3 bytes scrambled, so only the prefix
    // computation can restore them.
    NodeId entropy = hexid(v.id);
    entropy.bytes[0] ^= 0xA5;
    entropy.bytes[1] ^= 0x5A;
    entropy.bytes[2] ^= 0xFF;
    const NodeId id = make_secure_id(ip(v.ip), entropy);
    const NodeId expected = hexid(v.id);
    EXPECT_EQ(id.bytes[0], expected.bytes[0]);
    EXPECT_EQ(id.bytes[1], expected.bytes[1]);
    EXPECT_EQ(id.bytes[2] & 0xF8, expected.bytes[2] & 0xF8);
    // The low 3 bits of byte 2 and bytes 3..19 come from the entropy.
    EXPECT_EQ(id.bytes[2] & 0x07, entropy.bytes[2] & 0x07);
    for (std::size_t k = 3; k < 20; ++k) EXPECT_EQ(id.bytes[k], entropy.bytes[k]);
    EXPECT_EQ(id.bytes[19], v.r);
    EXPECT_TRUE(is_secure_id(id, ip(v.ip)));
  }
}

TEST(Bep42, OnlyThe21PrefixBitsMatter) {
  const NodeId good = hexid(kVectors[0].id);
  const IpAddress a = ip(kVectors[0].ip);
  for (int bit = 0; bit < 152; ++bit) {  // bits of bytes 0..18; byte 19 is r
    NodeId m = good;
    m.set_bit(bit, !m.bit(bit));
    EXPECT_EQ(is_secure_id(m, a), bit >= kBep42PrefixBits) << "bit " << bit;
  }
  // Changing r changes the expected prefix.
  NodeId r_changed = good;
  r_changed.bytes[19] = 2;
  EXPECT_FALSE(is_secure_id(r_changed, a));
  // Only r's low 3 bits feed the crc: r = 1 + 8 gives the same prefix.
  NodeId r_high = good;
  r_high.bytes[19] = 9;
  EXPECT_TRUE(is_secure_id(r_high, a));
}

TEST(Bep42, Ipv6) {
  // crc32c values computed independently (Python) over the first 8 masked bytes.
  EXPECT_EQ(bep42_crc(ip("2001:db8:85a3::8a2e:370:7334"), 5), 0xe8859a6cu);
  EXPECT_EQ(bep42_crc(ip("2a01:4f8:c17:1234::1"), 0xb3), 0xe2745838u);
  // Only the first 8 bytes count.
  EXPECT_EQ(bep42_crc(ip("2a01:4f8:c17:1234:ffff:1:2:3"), 0xb3), 0xe2745838u);

  NodeId entropy;
  for (std::size_t i = 0; i < 20; ++i) entropy.bytes[i] = static_cast<std::uint8_t>(0x11 * i + 7);
  entropy.bytes[19] = 0xb3;
  const IpAddress a = ip("2a01:4f8:c17:1234::1");
  const NodeId id = make_secure_id(a, entropy);
  EXPECT_EQ(id.bytes[0], 0xe2);
  EXPECT_EQ(id.bytes[1], 0x74);
  EXPECT_EQ(id.bytes[2] & 0xF8, 0x58);
  EXPECT_TRUE(is_secure_id(id, a));
  EXPECT_FALSE(is_secure_id(id, ip("2a01:4f8:c17:1235::1")));
  EXPECT_FALSE(is_secure_id(entropy, a));
}

TEST(Bep42, V4MappedIsJudgedAsV4) {
  const auto& v = kVectors[1];
  EXPECT_EQ(bep42_crc(ip("::ffff:21.75.31.124"), v.r), v.crc);
  EXPECT_TRUE(is_secure_id(hexid(v.id), ip("::ffff:21.75.31.124")));
  EXPECT_TRUE(is_bep42_exempt(ip("::ffff:192.168.1.1")));
}

TEST(Bep42, ExemptAddresses) {
  for (const char* s :
       {"10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255", "192.168.0.1", "169.254.3.4",
        "127.0.0.1", "127.45.6.7", "::1", "fe80::1", "febf::1", "fc00::1", "fdff::1"}) {
    EXPECT_TRUE(is_bep42_exempt(ip(s))) << s;
    // Any id is acceptable from an exempt address.
    EXPECT_TRUE(is_secure_id(NodeId{}, ip(s))) << s;
  }
  for (const char* s : {"172.15.255.255", "172.32.0.0", "11.0.0.1", "192.169.0.1", "169.253.0.1", "128.0.0.1",
                        "8.8.8.8", "100.64.0.1", "2001:db8::1", "fec0::1", "fe00::1", "fb00::1", "::"}) {
    EXPECT_FALSE(is_bep42_exempt(ip(s))) << s;
  }
  EXPECT_FALSE(is_secure_id(NodeId{}, ip("8.8.8.8")));
}

}  // namespace
}  // namespace bitscrape::krpc
