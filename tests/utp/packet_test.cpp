#include "utp/packet.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bitscrape::utp {
namespace {

using namespace std::string_literals;

Header sample_header() {
  Header h;
  h.type = Type::Data;
  h.connection_id = 0xBEEF;
  h.timestamp_us = 0x01020304;
  h.timestamp_diff_us = 0xA0B0C0D0;
  h.wnd_size = 65536;
  h.seq_nr = 0xFFFE;
  h.ack_nr = 7;
  return h;
}

TEST(UtpPacket, HeaderLayoutIsBep29) {
  std::string d;
  encode(d, sample_header(), {}, "hi");
  ASSERT_EQ(d.size(), kHeaderSize + 2);
  EXPECT_EQ(static_cast<unsigned char>(d[0]), 0x01);  // type 0 << 4 | version 1
  EXPECT_EQ(d[1], 0);
  EXPECT_EQ(d.substr(2, 2), "\xBE\xEF"s);
  EXPECT_EQ(d.substr(4, 4), "\x01\x02\x03\x04"s);
  EXPECT_EQ(d.substr(12, 4), "\x00\x01\x00\x00"s);
  EXPECT_EQ(d.substr(16, 4), "\xFF\xFE\x00\x07"s);
  EXPECT_EQ(d.substr(20), "hi");
}

TEST(UtpPacket, RoundTripWithSelectiveAck) {
  std::string d;
  const std::string sack = "\x05\x00\x00\x80"s;
  auto h = sample_header();
  h.type = Type::State;
  encode(d, h, sack, "");
  EXPECT_EQ(static_cast<unsigned char>(d[0]), 0x21);
  EXPECT_EQ(d[1], kExtSelectiveAck);
  auto p = decode(d);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->header.type, Type::State);
  EXPECT_EQ(p->header.connection_id, 0xBEEF);
  EXPECT_EQ(p->header.timestamp_us, 0x01020304u);
  EXPECT_EQ(p->header.timestamp_diff_us, 0xA0B0C0D0u);
  EXPECT_EQ(p->header.wnd_size, 65536u);
  EXPECT_EQ(p->header.seq_nr, 0xFFFE);
  EXPECT_EQ(p->header.ack_nr, 7);
  EXPECT_EQ(p->sack, sack);
  EXPECT_TRUE(p->payload.empty());
}

TEST(UtpPacket, UnknownExtensionIsSkipped) {
  std::string d;
  encode(d, sample_header(), {}, "");
  d[1] = 2;  // extension bits (BEP-29's second extension), 8 bytes
  d += "\x00\x08"s + std::string(8, 'x') + "payload";
  auto p = decode(d);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->sack.empty());
  EXPECT_EQ(p->payload, "payload");
}

TEST(UtpPacket, RejectsMalformed) {
  std::string good;
  encode(good, sample_header(), {}, "");
  EXPECT_EQ(decode(good.substr(0, 19)).error(), DecodeError::TooShort);
  auto v2 = good;
  v2[0] = 0x02;
  EXPECT_EQ(decode(v2).error(), DecodeError::BadVersion);
  auto t5 = good;
  t5[0] = 0x51;
  EXPECT_EQ(decode(t5).error(), DecodeError::BadType);
  auto cut = good;
  cut[1] = 1;
  cut += "\x00\x08\x01"s;  // says 8 bytes, has 1
  EXPECT_EQ(decode(cut).error(), DecodeError::BadExtension);
  auto odd = good;
  odd[1] = 1;
  odd += "\x00\x03\x01\x02\x03"s;
  EXPECT_EQ(decode(odd).error(), DecodeError::BadSack);
  auto big = good;
  big[1] = 1;
  big += "\x00\x24"s + std::string(36, '\xFF');
  EXPECT_EQ(decode(big).error(), DecodeError::BadSack);
  auto chain = good;
  chain[1] = 2;
  for (int i = 0; i < 5; ++i) chain += "\x02\x00"s;  // endless chain of empty extensions
  EXPECT_EQ(decode(chain).error(), DecodeError::TooManyExtensions);
}

TEST(UtpPacket, DemultiplexesOnFirstByte) {
  std::string d;
  for (int t = 0; t <= 4; ++t) {
    d.clear();
    auto h = sample_header();
    h.type = static_cast<Type>(t);
    encode(d, h);
    EXPECT_TRUE(looks_like_utp(d)) << t;
  }
  EXPECT_FALSE(looks_like_utp("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"));
  EXPECT_FALSE(looks_like_utp(std::string(1, '\x41')));  // too short for a header
  EXPECT_FALSE(looks_like_utp("\x51" + std::string(19, '\0')));
  EXPECT_FALSE(looks_like_utp("\x42" + std::string(19, '\0')));
}

TEST(UtpPacket, SequenceNumbersWrap) {
  EXPECT_TRUE(seq_before(0xFFFF, 0));
  EXPECT_TRUE(seq_before(1, 2));
  EXPECT_FALSE(seq_before(2, 2));
  EXPECT_FALSE(seq_before(0, 0xFFFF));
}

}  // namespace
}  // namespace bitscrape::utp
