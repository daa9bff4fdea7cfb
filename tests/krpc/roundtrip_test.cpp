// Every message type and every field: encode to hand-written bencode byte for byte, parse it
// back into an equal message, and re-encode to the same bytes.
#include "krpc/codec.hpp"

#include "bencode/encoder.hpp"

#include "test_util.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace bitscrape::krpc {
namespace {

using test::bstr;
using test::id_of;
using test::kIdA;
using test::kIdM;

const std::string kVer("LT\x01\x02", 4);

// encode(m) == wire, parse(wire) == m, encode(parse(wire)) == wire.
void check_roundtrip(const Message& m, const std::string& wire, MessageKind kind) {
  std::string out;
  const auto e = encode(m, out);
  ASSERT_TRUE(e.ok()) << to_string(e.error());
  EXPECT_EQ(out, wire);
  bencode::Document doc;
  const auto p = parse(wire, doc);
  ASSERT_TRUE(p.ok()) << to_string(p.error().code) << " " << p.error().field;
  EXPECT_EQ(p->kind, kind);
  EXPECT_EQ(kind_of(p->message), kind);
  EXPECT_TRUE(p->message == m);
  std::string again;
  ASSERT_TRUE(encode(p->message, again).ok());
  EXPECT_EQ(again, wire);
}

TEST(RoundTrip, PingReadOnlyWithVersion) {
  const Query q{std::string_view("\x00\xff", 2), id_of(kIdA), PingArgs{}, true, kVer};
  check_roundtrip(Message{q},
                  "d1:ad2:id20:abcdefghij0123456789e1:q4:ping2:roi1e1:t2:" + std::string("\x00\xff", 2) +
                      "1:v4:" + kVer + "1:y1:qe",
                  MessageKind::Ping);
}

TEST(RoundTrip, FindNodeWant) {
  Query q{"t1", id_of(kIdA), FindNodeArgs{id_of(kIdM), Want{true, true}}, false, {}};
  check_roundtrip(Message{q},
                  "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:wantl2:n42:n6ee"
                  "1:q9:find_node1:t2:t11:y1:qe",
                  MessageKind::FindNode);
  q.args = FindNodeArgs{id_of(kIdM), Want{false, true}};
  check_roundtrip(Message{q},
                  "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:wantl2:n6ee"
                  "1:q9:find_node1:t2:t11:y1:qe",
                  MessageKind::FindNode);
}

TEST(RoundTrip, GetPeersScrapeNoseedWant) {
  const Query q{"aa", id_of(kIdA), GetPeersArgs{id_of(kIdM), Want{true, false}, true, true}, false, {}};
  check_roundtrip(Message{q},
                  "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234566:noseedi1e6:scrapei1e"
                  "4:wantl2:n4ee1:q9:get_peers1:t2:aa1:y1:qe",
                  MessageKind::GetPeers);
  const Query only_scrape{"aa", id_of(kIdA), GetPeersArgs{id_of(kIdM), Want{}, true, false}, false, {}};
  check_roundtrip(Message{only_scrape},
                  "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234566:scrapei1ee"
                  "1:q9:get_peers1:t2:aa1:y1:qe",
                  MessageKind::GetPeers);
}

TEST(RoundTrip, AnnouncePeerSeedExplicitPort) {
  const Query q{"aa", id_of(kIdA), AnnouncePeerArgs{id_of(kIdM), 51413, false, true, "abcd"}, false, {}};
  check_roundtrip(Message{q},
                  "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti51413e4:seedi1e"
                  "5:token4:abcde1:q13:announce_peer1:t2:aa1:y1:qe",
                  MessageKind::AnnouncePeer);
}

TEST(RoundTrip, AnnouncePeerImpliedPortZero) {
  const Query q{"aa", id_of(kIdA), AnnouncePeerArgs{id_of(kIdM), 0, true, false, "tok"}, true, {}};
  check_roundtrip(Message{q},
                  "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz123456"
                  "4:porti0e5:token3:toke1:q13:announce_peer2:roi1e1:t2:aa1:y1:qe",
                  MessageKind::AnnouncePeer);
}

TEST(RoundTrip, SampleInfohashesWant) {
  const Query q{"aa", id_of(kIdA), SampleInfohashesArgs{id_of(kIdM), Want{true, true}}, false, kVer};
  check_roundtrip(Message{q},
                  "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz1234564:wantl2:n42:n6ee"
                  "1:q17:sample_infohashes1:t2:aa1:v4:" +
                      kVer + "1:y1:qe",
                  MessageKind::SampleInfohashes);
}

TEST(RoundTrip, ResponseWithEveryField) {
  const std::string n4 = std::string(kIdM) + std::string("\x01\x02\x03\x04\x1a\xe1", 6) + std::string(kIdA) +
                         std::string("\x05\x06\x07\x08\x00\x50", 6);
  const std::string n6 = std::string(kIdA) + std::string(15, '\0') + std::string("\x01\xc8\xd5", 3);
  const std::string samples = std::string(20, 's') + std::string(20, 'S');
  const std::string bfsd(256, '\x5a');
  const std::string bfpe(256, '\xa5');
  const std::array<Endpoint, 2> peers{*Endpoint::parse("9.8.7.6:1234"),
                                      *Endpoint::parse("[2001:db8::2]:6881")};

  Response r;
  r.tid = "xy";
  r.id = id_of(kIdA);
  r.ip = *Endpoint::parse("124.31.75.21:6881");
  r.version = kVer;
  r.nodes = NodeList::v4(n4);
  r.nodes6 = NodeList::v6(n6);
  r.values = PeerValues::from_endpoints(peers);
  r.token = "tokn";
  r.samples = SampleList::from(samples);
  r.interval = 3600;
  r.num = 42;
  r.bf_seeds = bfsd;
  r.bf_peers = bfpe;

  const std::string wire = "d2:ip6:" + std::string("\x7c\x1f\x4b\x15\x1a\xe1", 6) + "1:rd4:BFpe" +
                           bstr(bfpe) + "4:BFsd" + bstr(bfsd) + "2:id20:" + std::string(kIdA) +
                           "8:intervali3600e5:nodes" + bstr(n4) + "6:nodes6" + bstr(n6) +
                           "3:numi42e7:samples" + bstr(samples) +
                           "5:token4:tokn6:valuesl6:" + std::string("\x09\x08\x07\x06\x04\xd2", 6) +
                           "18:" + std::string("\x20\x01\x0d\xb8", 4) + std::string(11, '\0') +
                           std::string("\x02\x1a\xe1", 3) + "ee1:t2:xy1:v4:" + kVer + "1:y1:re";
  check_roundtrip(Message{r}, wire, MessageKind::Response);
}

TEST(RoundTrip, ResponseIpV6AndEmptyBlobs) {
  // Present-but-empty nodes/values/samples/token stay present (distinct from absent).
  Response r;
  r.tid = "aa";
  r.id = id_of(kIdM);
  r.ip = *Endpoint::parse("[2001:db8::1]:51413");
  r.nodes = NodeList::v4("");
  r.nodes6 = NodeList::v6("");
  r.values = PeerValues{};
  r.token = "";
  r.samples = SampleList::from("");
  r.interval = 0;
  r.num = 0;
  const std::string wire =
      "d2:ip18:" + std::string("\x20\x01\x0d\xb8", 4) + std::string(11, '\0') +
      std::string("\x01\xc8\xd5", 3) +
      "1:rd2:id20:mnopqrstuvwxyz1234568:intervali0e5:nodes0:6:nodes60:3:numi0e7:samples0:"
      "5:token0:6:valuesle" +
      "e1:t2:aa1:y1:re";
  check_roundtrip(Message{r}, wire, MessageKind::Response);
}

// Replies are written with literal keys (no Writer): for every combination of optional fields the
// bytes must equal an independent canonical encoding (bencode::Item, a sorted map) and round-trip.
TEST(RoundTrip, ResponseEveryFieldCombinationIsCanonical) {
  const std::string n4 = std::string(kIdM) + std::string("\x01\x02\x03\x04\x1a\xe1", 6);
  const std::string n6 = std::string(kIdA) + std::string(15, '\0') + std::string("\x01\xc8\xd5", 3);
  const std::string samples = std::string(20, 's');
  const std::string bfsd(256, '\x5a'), bfpe(256, '\xa5');
  const std::array<Endpoint, 2> peers{*Endpoint::parse("9.8.7.6:1234"),
                                      *Endpoint::parse("[2001:db8::2]:6881")};
  const auto compact = [](const Endpoint& ep) {
    char b[kMaxCompactPeerSize];
    return std::string(b, write_compact_peer(ep, b));
  };
  constexpr int kFields = 11;
  for (unsigned mask = 0; mask < (1u << kFields); ++mask) {
    const auto has = [&](int f) { return (mask >> f & 1u) != 0; };
    Response r;
    r.tid = "xy";
    r.id = id_of(kIdA);
    bencode::Item::Dict body{{"id", bencode::Item(std::string(kIdA))}};
    bencode::Item::Dict top{{"t", "xy"}, {"y", "r"}};
    if (has(0)) {
      r.ip = *Endpoint::parse("124.31.75.21:6881");
      top["ip"] = compact(*r.ip);
    }
    if (has(1)) body["BFpe"] = *(r.bf_peers = bfpe);
    if (has(2)) body["BFsd"] = *(r.bf_seeds = bfsd);
    if (has(3)) body["interval"] = *(r.interval = 21600);
    if (has(4)) {
      r.nodes = NodeList::v4(n4);
      body["nodes"] = n4;
    }
    if (has(5)) {
      r.nodes6 = NodeList::v6(n6);
      body["nodes6"] = n6;
    }
    if (has(6)) body["num"] = *(r.num = 1234567);
    if (has(7)) {
      r.samples = SampleList::from(samples);
      body["samples"] = samples;
    }
    if (has(8)) body["token"] = *(r.token = "tokn");
    if (has(9)) {
      r.values = PeerValues::from_endpoints(peers);
      body["values"] = bencode::Item::List{compact(peers[0]), compact(peers[1])};
    }
    if (has(10)) {
      r.version = kVer;
      top["v"] = kVer;
    }
    top["r"] = std::move(body);
    const std::string expected = bencode::Item(std::move(top)).encode();
    std::string out;
    ASSERT_TRUE(encode(Message{r}, out).ok()) << mask;
    ASSERT_EQ(out, expected) << "fields mask " << mask;
    bencode::Document doc;
    bencode::Limits strict;
    strict.strict = true;
    ASSERT_TRUE(bencode::decode(out, doc, strict).ok()) << mask;
    const auto p = parse(out, doc);
    ASSERT_TRUE(p.ok()) << mask;
    EXPECT_TRUE(p->message == Message{r}) << mask;
  }
}

TEST(RoundTrip, ErrorCodes) {
  for (const auto code :
       {ErrorCode::Generic, ErrorCode::Server, ErrorCode::Protocol, ErrorCode::MethodUnknown}) {
    const auto c = static_cast<std::int64_t>(code);
    const ErrorMessage e{"aa", c, "msg", {}};
    check_roundtrip(Message{e}, "d1:eli" + std::to_string(c) + "e3:msge1:t2:aa1:y1:ee", MessageKind::Error);
  }
  const ErrorMessage odd{"aa", -7, "", kVer};
  check_roundtrip(Message{odd}, "d1:eli-7e0:e1:t2:aa1:v4:" + kVer + "1:y1:ee", MessageKind::Error);
}

TEST(RoundTrip, ParseErrorReplies) {
  bencode::Document doc;
  const auto unknown = parse("d1:ad2:id20:abcdefghij0123456789e1:q3:get1:t2:aa1:y1:qe", doc);
  ASSERT_FALSE(unknown.ok());
  ASSERT_TRUE(unknown.error().can_reply());
  std::string out;
  ASSERT_TRUE(encode(unknown.error().reply(), out).ok());
  EXPECT_EQ(out, "d1:eli204e14:Method Unknowne1:t2:aa1:y1:ee");

  const auto no_id = parse("d1:ade1:q4:ping1:t2:zz1:y1:qe", doc);
  ASSERT_FALSE(no_id.ok());
  ASSERT_TRUE(no_id.error().can_reply());
  out.clear();
  ASSERT_TRUE(encode(no_id.error().reply(), out).ok());
  EXPECT_EQ(out, "d1:eli203e32:Protocol Error: missing argumente1:t2:zz1:y1:ee");
}

TEST(Encode, AppendsToExistingOutput) {
  std::string out = "prefix";
  ASSERT_TRUE(encode(Query{"aa", id_of(kIdA), PingArgs{}, false, {}}, out).ok());
  EXPECT_EQ(out, "prefixd1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe");
}

// Every refusal leaves `out` untouched.
void expect_refused(const Message& m, EncodeError want) {
  std::string out = "keep";
  const auto r = encode(m, out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), want) << to_string(r.error());
  EXPECT_EQ(out, "keep");
}

TEST(Encode, RefusesWhatParseWouldRefuse) {
  const Query ping{"aa", id_of(kIdA), PingArgs{}, false, {}};
  Query q = ping;
  q.tid = "";
  expect_refused(Message{q}, EncodeError::BadTransactionId);
  q.tid = std::string_view("0123456789abcdefg");  // 17 bytes
  expect_refused(Message{q}, EncodeError::BadTransactionId);
  q = ping;
  const std::string long_version(kMaxVersionSize + 1, 'v');
  q.version = long_version;
  expect_refused(Message{q}, EncodeError::BadVersion);

  q = ping;
  q.args = AnnouncePeerArgs{id_of(kIdM), 6881, false, false, ""};
  expect_refused(Message{q}, EncodeError::BadToken);
  const std::string long_token(kMaxTokenSize + 1, 't');
  q.args = AnnouncePeerArgs{id_of(kIdM), 6881, false, false, long_token};
  expect_refused(Message{q}, EncodeError::BadToken);
  q.args = AnnouncePeerArgs{id_of(kIdM), 0, false, false, "tok"};
  expect_refused(Message{q}, EncodeError::BadPort);

  Response r;
  r.tid = "aa";
  r.token = long_token;
  expect_refused(Message{r}, EncodeError::BadToken);
  r.token.reset();
  r.interval = -1;
  expect_refused(Message{r}, EncodeError::BadInterval);
  r.interval = kMaxSampleInterval + 1;
  expect_refused(Message{r}, EncodeError::BadInterval);
  r.interval.reset();
  r.num = -1;
  expect_refused(Message{r}, EncodeError::BadNum);
  r.num.reset();
  const std::string short_bf(255, 'b');
  r.bf_seeds = short_bf;
  expect_refused(Message{r}, EncodeError::BadBloomFilter);
  r.bf_seeds.reset();
  r.bf_peers = short_bf;
  expect_refused(Message{r}, EncodeError::BadBloomFilter);
  r.bf_peers.reset();
  const std::array<Endpoint, 2> peers{*Endpoint::parse("1.2.3.4:1"), *Endpoint::parse("1.2.3.4:0")};
  r.values = PeerValues::from_endpoints(peers);
  expect_refused(Message{r}, EncodeError::BadValues);
  r.values.reset();
  r.tid = "";
  expect_refused(Message{r}, EncodeError::BadTransactionId);

  expect_refused(Message{ErrorMessage{"", 201, "x", {}}}, EncodeError::BadTransactionId);
  expect_refused(Message{ErrorMessage{"aa", 201, "x", long_version}}, EncodeError::BadVersion);
}

TEST(PeerValues, FromEndpointsIteratesInOrder) {
  const std::array<Endpoint, 3> eps{*Endpoint::parse("1.1.1.1:1"), *Endpoint::parse("[::2]:2"),
                                    *Endpoint::parse("3.3.3.3:3")};
  const PeerValues pv = PeerValues::from_endpoints(eps);
  EXPECT_EQ(pv.size(), 3u);
  EXPECT_EQ(pv.skipped(), 0u);
  const std::vector<Endpoint> got(pv.begin(), pv.end());
  EXPECT_EQ(got, std::vector<Endpoint>(eps.begin(), eps.end()));
  EXPECT_TRUE(PeerValues{} == PeerValues::from_endpoints({}));
  EXPECT_FALSE(pv == PeerValues::from_endpoints(std::span(eps).first(2)));
}

TEST(Names, MethodsAndKinds) {
  for (const auto m :
       {Method::Ping, Method::FindNode, Method::GetPeers, Method::AnnouncePeer, Method::SampleInfohashes}) {
    EXPECT_EQ(method_from_name(method_name(m)), m);
    EXPECT_EQ(to_string(kind_of(m)), method_name(m));
  }
  EXPECT_FALSE(method_from_name("get"));
  EXPECT_FALSE(method_from_name(""));
  EXPECT_FALSE(method_from_name("Ping"));
  EXPECT_EQ(to_string(MessageKind::Response), "response");
  EXPECT_EQ(to_string(MessageKind::Error), "error");
  EXPECT_EQ(to_string(MessageKind::Unknown), "unknown");
}

}  // namespace
}  // namespace bitscrape::krpc
