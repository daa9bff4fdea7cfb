#include "peerwire/wire.hpp"

#include "harness.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace bitscrape::peerwire {
namespace {

using namespace std::string_view_literals;
using Event = FrameReader::Event;

TEST(PeerId, PrefixThenRandomThenZeros) {
  const auto id = make_peer_id("-BS0001-", "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
  EXPECT_EQ(id.view(), "-BS0001-ABCDEFGHIJKL");
  const auto short_random = make_peer_id("-BS0001-", "xy");
  EXPECT_EQ(short_random.view(), "-BS0001-xy\0\0\0\0\0\0\0\0\0\0"sv);
  const auto long_prefix = make_peer_id("0123456789abcdefghijKLMN", "zz");
  EXPECT_EQ(long_prefix.view(), "0123456789abcdefghij");
}

TEST(Reserved, Bits) {
  EXPECT_EQ(make_reserved(false, false), (Reserved{0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(make_reserved(true, false), (Reserved{0, 0, 0, 0, 0, 0x10, 0, 0}));
  EXPECT_EQ(make_reserved(false, true), (Reserved{0, 0, 0, 0, 0, 0, 0, 0x10}));
}

TEST(Handshake, RoundTrip) {
  const auto ih = *InfoHash::from_hex("0123456789abcdef0123456789abcdef01234567");
  const auto pid = make_peer_id("-BS0001-", "000000000000");
  std::string s;
  append_handshake(s, make_reserved(true, true), ih, pid);
  ASSERT_EQ(s.size(), kHandshakeSize);
  EXPECT_EQ(s.substr(0, 20),
            "\x13"
            "BitTorrent protocol");
  EXPECT_EQ(s.substr(20, 8), "\0\0\0\0\0\x10\0\x10"sv);
  Handshake h;
  ASSERT_TRUE(parse_handshake(s, h));
  EXPECT_EQ(h.info_hash, ih);
  EXPECT_EQ(h.peer_id, pid);
  EXPECT_TRUE(h.supports_extensions());
  EXPECT_TRUE(h.supports_v2());

  EXPECT_FALSE(parse_handshake(std::string_view(s).substr(0, 67), h));
  std::string longer = s + "x";
  EXPECT_FALSE(parse_handshake(longer, h));
  std::string wrong = s;
  wrong[3] = 'x';
  EXPECT_FALSE(parse_handshake(wrong, h));
}

TEST(Encode, PlainMessages) {
  std::string s;
  append_keepalive(s);
  append_message(s, kInterested);
  append_message(s, kHave, "\0\0\0\x05"sv);
  EXPECT_EQ(s,
            "\0\0\0\0"
            "\0\0\0\x01\x02"
            "\0\0\0\x05\x04\0\0\0\x05"sv);
}

TEST(Encode, ExtendedAndUtMetadata) {
  std::string s;
  append_extended(s, 0, "de");
  EXPECT_EQ(s, "\0\0\0\x04\x14\0de"sv);

  s.clear();
  append_ut_request(s, 3, 2);
  // d8:msg_typei0e5:piecei2ee is 25 bytes; + id + ext id = 27.
  EXPECT_EQ(s,
            "\0\0\0\x1b\x14\x03"
            "d8:msg_typei0e5:piecei2ee"sv);

  s.clear();
  append_ut_reject(s, 7, 11);
  EXPECT_EQ(s,
            "\0\0\0\x1c\x14\x07"
            "d8:msg_typei2e5:piecei11ee"sv);

  s.clear();
  append_ut_data(s, 2, 0, 5, "ABCDE");
  // d8:msg_typei1e5:piecei0e10:total_sizei5ee is 41 bytes; + 5 payload + 2 = 48.
  EXPECT_EQ(s,
            "\0\0\0\x30\x14\x02"
            "d8:msg_typei1e5:piecei0e10:total_sizei5ee"
            "ABCDE"sv);
}

TEST(PieceMath, CountAndLength) {
  EXPECT_EQ(metadata_piece_count(1), 1u);
  EXPECT_EQ(metadata_piece_count(16384), 1u);
  EXPECT_EQ(metadata_piece_count(16385), 2u);
  EXPECT_EQ(metadata_piece_count(40960), 3u);
  EXPECT_EQ(metadata_piece_length(40960, 0), 16384u);
  EXPECT_EQ(metadata_piece_length(40960, 1), 16384u);
  EXPECT_EQ(metadata_piece_length(40960, 2), 8192u);
  EXPECT_EQ(metadata_piece_length(16384, 0), 16384u);
  EXPECT_EQ(metadata_piece_length(16385, 1), 1u);
}

std::string a_handshake() {
  std::string s;
  append_handshake(s, make_reserved(true, false), InfoHash{}, PeerId{});
  return s;
}

TEST(FrameReader, HandshakeByteAtATime) {
  FrameReader r(1000);
  const std::string hs = a_handshake();
  EXPECT_TRUE(r.in_handshake());
  for (std::size_t i = 0; i + 1 < hs.size(); ++i) {
    std::string_view in = std::string_view(hs).substr(i, 1);
    EXPECT_EQ(r.next(in), Event::NeedMore) << i;
    EXPECT_TRUE(in.empty());
  }
  std::string_view last = std::string_view(hs).substr(67);
  EXPECT_EQ(r.next(last), Event::Handshake);
  EXPECT_EQ(r.handshake(), hs);
  EXPECT_FALSE(r.in_handshake());
  std::string_view empty;
  EXPECT_EQ(r.next(empty), Event::NeedMore);
}

TEST(FrameReader, JunkFailsAtFirstWrongByte) {
  FrameReader r(1000);
  std::string_view in = "HTTP/1.1 200 OK\r\n";
  EXPECT_EQ(r.next(in), Event::Error);
  EXPECT_STREQ(r.error(), "handshake does not start with 19");
  EXPECT_EQ(in.size(), 16u);  // only the bad byte was consumed
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.next(in), Event::Error);  // sticky

  FrameReader r2(1000);
  std::string_view in2 =
      "\x13"
      "BitTorrent protocoX and more";
  EXPECT_EQ(r2.next(in2), Event::Error);
  EXPECT_STREQ(r2.error(), "wrong protocol string");
  EXPECT_EQ(in2, " and more");
}

struct Ev {
  Event e;
  std::string data;
  bool operator==(const Ev&) const = default;
};

// Runs the reader over `input` split into `chunk`-byte pieces, recording events.
std::vector<Ev> run(FrameReader& r, std::string_view input, std::size_t chunk) {
  std::vector<Ev> evs;
  while (!input.empty()) {
    std::string_view part = input.substr(0, chunk);
    input.remove_prefix(part.size());
    for (;;) {
      const Event e = r.next(part);
      if (e == Event::NeedMore) break;
      std::string d;
      if (e == Event::Message) {
        d = std::to_string(r.id()) + (r.has_ext() ? "/" + std::to_string(r.ext_id()) : "") + ":" +
            std::to_string(r.body_length());
      } else if (e == Event::Body) {
        d = std::string(r.chunk());
      } else if (e == Event::Error) {
        d = r.error();
      }
      // Merge consecutive body chunks so that results do not depend on chunking.
      if (e == Event::Body && !evs.empty() && evs.back().e == Event::Body) {
        evs.back().data += d;
      } else {
        evs.push_back({e, d});
      }
      if (e == Event::Error) return evs;
    }
  }
  return evs;
}

TEST(FrameReader, MessagesInAnyChunking) {
  std::string in = a_handshake();
  append_keepalive(in);
  append_message(in, kBitfield, "abc");
  append_message(in, kUnchoke);
  append_extended(in, 3, "payload");
  append_message(in, kExtended);  // length 1: no room for an ext id
  append_keepalive(in);
  const std::vector<Ev> want = {
      {Event::Handshake, ""},  {Event::Message, "5:3"},  {Event::Body, "abc"},       {Event::MessageEnd, ""},
      {Event::Message, "1:0"}, {Event::MessageEnd, ""},  {Event::Message, "20/3:7"}, {Event::Body, "payload"},
      {Event::MessageEnd, ""}, {Event::Message, "20:0"}, {Event::MessageEnd, ""},
  };
  for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{1000}}) {
    FrameReader r(1000);
    EXPECT_EQ(run(r, in, chunk), want) << "chunk " << chunk;
    EXPECT_EQ(r.keepalives(), 2u);
  }
}

TEST(FrameReader, BodyChunksAreViewsIntoInput) {
  FrameReader r(1000);
  std::string in = a_handshake();
  append_message(in, kBitfield, "0123456789");
  std::string_view v(in);
  ASSERT_EQ(r.next(v), Event::Handshake);
  ASSERT_EQ(r.next(v), Event::Message);
  EXPECT_EQ(r.body_length(), 10u);
  ASSERT_EQ(r.next(v), Event::Body);
  EXPECT_EQ(r.chunk().data(), in.data() + kHandshakeSize + 5);
  EXPECT_EQ(r.chunk().size(), 10u);
  EXPECT_EQ(r.body_remaining(), 0u);
  EXPECT_EQ(r.next(v), Event::MessageEnd);
}

TEST(FrameReader, LengthOverSanityCapIsAnError) {
  {
    FrameReader r(100);
    std::string in = a_handshake();
    append_message(in, kBitfield, std::string(99, 'x'));  // length 100: exactly the cap
    EXPECT_EQ(run(r, in, 1000).back().e, Event::MessageEnd);
  }
  {
    FrameReader r(100);
    std::string in = a_handshake();
    in += "\0\0\0\x65"sv;  // 101: over the cap, refused before any body byte arrives
    const auto evs = run(r, in, 1000);
    ASSERT_EQ(evs.size(), 2u);
    EXPECT_EQ(evs[1], (Ev{Event::Error, "message length over sanity cap"}));
  }
}

}  // namespace
}  // namespace bitscrape::peerwire
