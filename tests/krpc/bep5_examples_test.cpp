// The example messages of BEP-5 and BEP-51, byte for byte: each parses into the expected typed
// message, and encoding that message gives the example bytes back (canonical, sorted keys).
#include "krpc/codec.hpp"

#include "test_util.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bitscrape::krpc {
namespace {

using test::id_of;
using test::kIdA;
using test::kIdM;

class Bep5Examples : public ::testing::Test {
 protected:
  // Parses `wire`, checks kind and that re-encoding reproduces `wire` exactly.
  Parsed parse_exact(const std::string& wire, MessageKind kind) {
    auto r = parse(wire, doc_);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : to_string(r.error().code)) << " "
                        << (r.ok() ? "" : r.error().field);
    if (!r.ok()) return {};
    EXPECT_EQ(r->kind, kind);
    EXPECT_EQ(r->diag, Diagnostics{});
    std::string out;
    EXPECT_TRUE(encode(r->message, out).ok());
    EXPECT_EQ(out, wire);
    return *r;
  }
  bencode::Document doc_;
};

TEST_F(Bep5Examples, PingQuery) {
  const std::string wire = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
  const Parsed p = parse_exact(wire, MessageKind::Ping);
  const auto& q = std::get<Query>(p.message);
  EXPECT_EQ(q.tid, "aa");
  EXPECT_EQ(q.id, id_of(kIdA));
  EXPECT_EQ(q.method(), Method::Ping);
  EXPECT_FALSE(q.read_only);
  EXPECT_EQ(q.version, "");

  // And building it from scratch gives the same bytes.
  Query built{"aa", id_of(kIdA), PingArgs{}, false, {}};
  std::string out;
  ASSERT_TRUE(encode(built, out).ok());
  EXPECT_EQ(out, wire);
}

TEST_F(Bep5Examples, PingResponse) {
  const std::string wire = "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re";
  const Parsed p = parse_exact(wire, MessageKind::Response);
  const auto& r = std::get<Response>(p.message);
  EXPECT_EQ(r.tid, "aa");
  EXPECT_EQ(r.id, id_of(kIdM));
  EXPECT_FALSE(r.nodes || r.nodes6 || r.values || r.token || r.samples || r.interval || r.num || r.ip ||
               r.bf_seeds || r.bf_peers);
}

TEST_F(Bep5Examples, FindNodeQuery) {
  const std::string wire =
      "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe";
  const Parsed p = parse_exact(wire, MessageKind::FindNode);
  const auto& q = std::get<Query>(p.message);
  const auto& a = std::get<FindNodeArgs>(q.args);
  EXPECT_EQ(a.target, id_of(kIdM));
  EXPECT_EQ(a.want, Want{});
}

TEST_F(Bep5Examples, FindNodeResponse) {
  // BEP-5 shows `nodes` as the 9-byte placeholder "def456..."; a real one is n * 26 bytes.
  auto bad = parse("d1:rd2:id20:0123456789abcdefghij5:nodes9:def456...e1:t2:aa1:y1:re", doc_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ParseErrorCode::BadLength);
  EXPECT_EQ(bad.error().field, "r.nodes");

  const std::string node = std::string(kIdM) + std::string("\x01\x02\x03\x04\x1a\xe1", 6);
  const std::string wire = "d1:rd2:id20:0123456789abcdefghij5:nodes26:" + node + "e1:t2:aa1:y1:re";
  const Parsed p = parse_exact(wire, MessageKind::Response);
  const auto& r = std::get<Response>(p.message);
  ASSERT_TRUE(r.nodes);
  ASSERT_EQ(r.nodes->size(), 1u);
  EXPECT_EQ((*r.nodes)[0].id, id_of(kIdM));
  EXPECT_EQ((*r.nodes)[0].endpoint, *Endpoint::parse("1.2.3.4:6881"));
}

TEST_F(Bep5Examples, GetPeersQuery) {
  const std::string wire =
      "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe";
  const Parsed p = parse_exact(wire, MessageKind::GetPeers);
  const auto& a = std::get<GetPeersArgs>(std::get<Query>(p.message).args);
  EXPECT_EQ(a.info_hash, id_of(kIdM));
  EXPECT_FALSE(a.scrape);
  EXPECT_FALSE(a.noseed);
}

TEST_F(Bep5Examples, GetPeersResponseWithValues) {
  const std::string wire =
      "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re";
  const Parsed p = parse_exact(wire, MessageKind::Response);
  const auto& r = std::get<Response>(p.message);
  EXPECT_EQ(r.token, "aoeusnth");
  ASSERT_TRUE(r.values);
  const std::vector<Endpoint> got(r.values->begin(), r.values->end());
  ASSERT_EQ(got.size(), 2u);
  // "axje.u": 'a' 'x' 'j' 'e' = 97.120.106.101, port ".u" = 0x2e75.
  EXPECT_EQ(got[0], *Endpoint::parse("97.120.106.101:11893"));
  EXPECT_EQ(got[1], *Endpoint::parse("105.100.104.116:28269"));
}

TEST_F(Bep5Examples, GetPeersResponseWithNodes) {
  auto bad =
      parse("d1:rd2:id20:abcdefghij01234567895:nodes9:def456...5:token8:aoeusnthe1:t2:aa1:y1:re", doc_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "r.nodes");
  const std::string wire = "d1:rd2:id20:abcdefghij01234567895:nodes52:" + std::string(52, 'n') +
                           "5:token8:aoeusnthe1:t2:aa1:y1:re";
  const Parsed p = parse_exact(wire, MessageKind::Response);
  const auto& r = std::get<Response>(p.message);
  EXPECT_EQ(r.nodes->size(), 2u);
  EXPECT_EQ(r.token, "aoeusnth");
}

TEST_F(Bep5Examples, AnnouncePeerQuery) {
  const std::string wire =
      "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:"
      "token8:"
      "aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe";
  const Parsed p = parse_exact(wire, MessageKind::AnnouncePeer);
  const auto& a = std::get<AnnouncePeerArgs>(std::get<Query>(p.message).args);
  EXPECT_EQ(a.info_hash, id_of(kIdM));
  EXPECT_TRUE(a.implied_port);
  EXPECT_EQ(a.port, 6881);
  EXPECT_EQ(a.token, "aoeusnth");
  EXPECT_FALSE(a.seed);
}

TEST_F(Bep5Examples, AnnouncePeerResponse) {
  parse_exact("d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re", MessageKind::Response);
}

TEST_F(Bep5Examples, Error) {
  const std::string wire = "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee";
  const Parsed p = parse_exact(wire, MessageKind::Error);
  const auto& e = std::get<ErrorMessage>(p.message);
  EXPECT_EQ(e.tid, "aa");
  EXPECT_EQ(e.code, static_cast<std::int64_t>(ErrorCode::Generic));
  EXPECT_EQ(e.message, "A Generic Error Ocurred");
}

TEST_F(Bep5Examples, Bep51SampleInfohashesQuery) {
  const std::string wire =
      "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q17:sample_infohashes1:t2:aa1:y1:qe";
  const Parsed p = parse_exact(wire, MessageKind::SampleInfohashes);
  EXPECT_EQ(std::get<SampleInfohashesArgs>(std::get<Query>(p.message).args).target, id_of(kIdM));
}

TEST_F(Bep5Examples, Bep51SampleInfohashesResponse) {
  std::string samples;
  for (char c = 'A'; c < 'D'; ++c) samples += std::string(20, c);
  const std::string wire =
      "d1:rd2:id20:0123456789abcdefghij8:intervali21600e5:nodes26:" + std::string(26, 'n') +
      "3:numi1234e7:samples60:" + samples + "e1:t2:aa1:y1:re";
  const Parsed p = parse_exact(wire, MessageKind::Response);
  const auto& r = std::get<Response>(p.message);
  EXPECT_EQ(r.interval, 21600);
  EXPECT_EQ(r.num, 1234);
  ASSERT_TRUE(r.samples);
  ASSERT_EQ(r.samples->size(), 3u);
  EXPECT_EQ((*r.samples)[0].view(), std::string(20, 'A'));
  EXPECT_EQ((*r.samples)[2].view(), std::string(20, 'C'));
}

}  // namespace
}  // namespace bitscrape::krpc
