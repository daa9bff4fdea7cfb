// parse(): every malformed path (with the reply information the node needs) and every
// tolerated oddity.
#include "krpc/codec.hpp"

#include "test_util.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

namespace bitscrape::krpc {
namespace {

using test::bstr;
using test::id_of;
using test::kIdA;
using test::kIdM;
using test::query;
using test::response;

const std::string kId = "2:id20:" + std::string(kIdA);
const std::string kArgsId = "d" + kId + "e";
const std::string kRId = "d" + kId + "e";

struct Bad {
  std::string name;
  std::string input;
  ParseErrorCode code;
  std::string_view field;
  std::string_view tid = {};
  bool is_query = false;
  std::int64_t reply_code = 0;
  MessageKind kind = MessageKind::Unknown;
};

void expect_bad(const Bad& c) {
  SCOPED_TRACE(c.name);
  bencode::Document doc;
  const auto r = parse(c.input, doc);
  ASSERT_FALSE(r.ok());
  const ParseError& e = r.error();
  EXPECT_EQ(e.code, c.code) << to_string(e.code);
  EXPECT_EQ(e.field, c.field);
  EXPECT_EQ(e.tid, c.tid);
  EXPECT_EQ(e.is_query, c.is_query);
  EXPECT_EQ(e.reply_code, c.reply_code);
  EXPECT_EQ(e.kind, c.kind) << to_string(e.kind);
  EXPECT_EQ(e.can_reply(), c.is_query && !c.tid.empty());
  EXPECT_LE(e.offset, c.input.size());
}

constexpr auto Q = MessageKind::Ping;
constexpr std::int64_t k203 = 203;

TEST(ParseMalformed, Envelope) {
  const std::vector<Bad> cases = {
      {"empty", "", ParseErrorCode::NotADict, ""},
      {"text", "hello", ParseErrorCode::NotADict, ""},
      {"integer", "i1e", ParseErrorCode::NotADict, ""},
      {"list", "l1:ae", ParseErrorCode::NotADict, ""},
      {"truncated", "d1:t2:aa", ParseErrorCode::NotBencode, ""},
      {"trailing",
       "d1:t2:aa1:y1:qe"
       "x",
       ParseErrorCode::NotBencode, ""},
      {"bad string length", "d1:t99:aae", ParseErrorCode::NotBencode, ""},
      {"non-string key", "di1ei2ee", ParseErrorCode::NotBencode, ""},
      {"leading zero", "d1:ti01ee", ParseErrorCode::NotBencode, ""},
      {"no t", "d1:y1:qe", ParseErrorCode::MissingField, "t"},
      {"t integer", "d1:ti1e1:y1:qe", ParseErrorCode::WrongType, "t"},
      {"t list", "d1:tl2:aae1:y1:qe", ParseErrorCode::WrongType, "t"},
      {"t empty", "d1:t0:1:y1:qe", ParseErrorCode::BadLength, "t"},
      {"t 17 bytes", "d1:t17:" + std::string(17, 'x') + "1:y1:qe", ParseErrorCode::BadLength, "t"},
      {"no y", "d1:t2:aae", ParseErrorCode::MissingField, "y", "aa"},
      {"y integer", "d1:t2:aa1:yi1ee", ParseErrorCode::WrongType, "y", "aa"},
      {"y unknown", "d1:t2:aa1:y1:xe", ParseErrorCode::BadValue, "y", "aa"},
      {"y long", "d1:t2:aa1:y5:querye", ParseErrorCode::BadValue, "y", "aa"},
      {"duplicate t", "d1:t2:aa1:t2:bb1:y1:re", ParseErrorCode::DuplicateKey, "t", "aa", false, 0,
       MessageKind::Response},
  };
  for (const auto& c : cases) expect_bad(c);
}

TEST(ParseMalformed, Query) {
  const std::vector<Bad> cases = {
      {"no q", "d1:a" + kArgsId + "1:t2:aa1:y1:qe", ParseErrorCode::MissingField, "q", "aa", true, k203},
      {"q integer", "d1:a" + kArgsId + "1:qi1e1:t2:aa1:y1:qe", ParseErrorCode::WrongType, "q", "aa", true,
       k203},
      {"unknown method", query("get", kArgsId), ParseErrorCode::UnknownMethod, "q", "aa", true, 204},
      {"unknown method, no args", "d1:q3:put1:t2:aa1:y1:qe", ParseErrorCode::UnknownMethod, "q", "aa", true,
       204},
      {"case matters", query("PING", kArgsId), ParseErrorCode::UnknownMethod, "q", "aa", true, 204},
      {"no a", "d1:q4:ping1:t2:aa1:y1:qe", ParseErrorCode::MissingField, "a", "aa", true, k203, Q},
      {"a list", "d1:ale1:q4:ping1:t2:aa1:y1:qe", ParseErrorCode::WrongType, "a", "aa", true, k203, Q},
      {"a string", "d1:a2:id1:q4:ping1:t2:aa1:y1:qe", ParseErrorCode::WrongType, "a", "aa", true, k203, Q},
      {"no id", query("ping", "de"), ParseErrorCode::MissingField, "a.id", "aa", true, k203, Q},
      {"id int", query("ping", "d2:idi1ee"), ParseErrorCode::WrongType, "a.id", "aa", true, k203, Q},
      {"id 19", query("ping", "d2:id19:" + std::string(19, 'x') + "e"), ParseErrorCode::BadLength, "a.id",
       "aa", true, k203, Q},
      {"id 21", query("ping", "d2:id21:" + std::string(21, 'x') + "e"), ParseErrorCode::BadLength, "a.id",
       "aa", true, k203, Q},
      {"duplicate id", query("ping", "d" + kId + kId + "e"), ParseErrorCode::DuplicateKey, "a.id", "aa", true,
       k203, Q},
      {"duplicate q", "d1:a" + kArgsId + "1:q4:ping1:q4:ping1:t2:aa1:y1:qe", ParseErrorCode::DuplicateKey,
       "q", "aa", true, k203, Q},
      {"ro string", query("ping", kArgsId, "2:ro1:1"), ParseErrorCode::WrongType, "ro", "aa", true, k203, Q},
      // find_node
      {"find_node no target", query("find_node", kArgsId), ParseErrorCode::MissingField, "a.target", "aa",
       true, k203, MessageKind::FindNode},
      {"find_node target 21", query("find_node", "d" + kId + "6:target21:" + std::string(21, 't') + "e"),
       ParseErrorCode::BadLength, "a.target", "aa", true, k203, MessageKind::FindNode},
      {"find_node want string",
       query("find_node", "d" + kId + "6:target20:" + std::string(kIdM) + "4:want2:n4e"),
       ParseErrorCode::WrongType, "a.want", "aa", true, k203, MessageKind::FindNode},
      // get_peers
      {"get_peers no info_hash", query("get_peers", kArgsId), ParseErrorCode::MissingField, "a.info_hash",
       "aa", true, k203, MessageKind::GetPeers},
      {"get_peers info_hash int", query("get_peers", "d" + kId + "9:info_hashi5ee"),
       ParseErrorCode::WrongType, "a.info_hash", "aa", true, k203, MessageKind::GetPeers},
      {"get_peers scrape string",
       query("get_peers", "d" + kId + "9:info_hash20:" + std::string(kIdM) + "6:scrape1:1e"),
       ParseErrorCode::WrongType, "a.scrape", "aa", true, k203, MessageKind::GetPeers},
      {"get_peers noseed list",
       query("get_peers", "d" + kId + "9:info_hash20:" + std::string(kIdM) + "6:noseedlee"),
       ParseErrorCode::WrongType, "a.noseed", "aa", true, k203, MessageKind::GetPeers},
      // sample_infohashes
      {"sample_infohashes no target", query("sample_infohashes", kArgsId), ParseErrorCode::MissingField,
       "a.target", "aa", true, k203, MessageKind::SampleInfohashes},
      {"sample_infohashes want dict",
       query("sample_infohashes", "d" + kId + "6:target20:" + std::string(kIdM) + "4:wantdee"),
       ParseErrorCode::WrongType, "a.want", "aa", true, k203, MessageKind::SampleInfohashes},
  };
  for (const auto& c : cases) expect_bad(c);
}

std::string announce(std::string_view middle) {
  return query("announce_peer", "d" + kId + std::string(middle) + "e");
}

TEST(ParseMalformed, AnnouncePeer) {
  const std::string ih = "9:info_hash20:" + std::string(kIdM);
  const std::string tok = "5:token4:abcd";
  constexpr auto K = MessageKind::AnnouncePeer;
  const std::vector<Bad> cases = {
      {"no info_hash", announce("4:porti1e" + tok), ParseErrorCode::MissingField, "a.info_hash", "aa", true,
       k203, K},
      {"no token", announce(ih + "4:porti1e"), ParseErrorCode::MissingField, "a.token", "aa", true, k203, K},
      {"token int", announce(ih + "4:porti1e5:tokeni1e"), ParseErrorCode::WrongType, "a.token", "aa", true,
       k203, K},
      {"token empty", announce(ih + "4:porti1e5:token0:"), ParseErrorCode::BadLength, "a.token", "aa", true,
       k203, K},
      {"token 65", announce(ih + "4:porti1e5:token" + bstr(std::string(65, 't'))), ParseErrorCode::BadLength,
       "a.token", "aa", true, k203, K},
      {"no port", announce(ih + tok), ParseErrorCode::MissingField, "a.port", "aa", true, k203, K},
      {"port 0", announce(ih + "4:porti0e" + tok), ParseErrorCode::BadValue, "a.port", "aa", true, k203, K},
      {"port 65536", announce(ih + "4:porti65536e" + tok), ParseErrorCode::BadValue, "a.port", "aa", true,
       k203, K},
      {"port -1", announce(ih + "4:porti-1e" + tok), ParseErrorCode::BadValue, "a.port", "aa", true, k203, K},
      {"port -1 implied", announce("12:implied_porti1e" + ih + "4:porti-1e" + tok), ParseErrorCode::BadValue,
       "a.port", "aa", true, k203, K},
      {"port string", announce(ih + "4:port4:6881" + tok), ParseErrorCode::WrongType, "a.port", "aa", true,
       k203, K},
      {"implied_port string", announce("12:implied_port1:1" + ih + "4:porti1e" + tok),
       ParseErrorCode::WrongType, "a.implied_port", "aa", true, k203, K},
      {"seed list", announce(ih + "4:porti1e4:seedle" + tok), ParseErrorCode::WrongType, "a.seed", "aa", true,
       k203, K},
  };
  for (const auto& c : cases) expect_bad(c);
}

TEST(ParseMalformed, Response) {
  constexpr auto R = MessageKind::Response;
  const std::vector<Bad> cases = {
      {"no r", "d1:t2:aa1:y1:re", ParseErrorCode::MissingField, "r", "aa", false, 0, R},
      {"r list", "d1:rle1:t2:aa1:y1:re", ParseErrorCode::WrongType, "r", "aa", false, 0, R},
      {"no id", response("de"), ParseErrorCode::MissingField, "r.id", "aa", false, 0, R},
      {"id 0", response("d2:id0:e"), ParseErrorCode::BadLength, "r.id", "aa", false, 0, R},
      {"nodes int", response("d" + kId + "5:nodesi0ee"), ParseErrorCode::WrongType, "r.nodes", "aa", false, 0,
       R},
      {"nodes 25", response("d" + kId + "5:nodes" + bstr(std::string(25, 'n')) + "e"),
       ParseErrorCode::BadLength, "r.nodes", "aa", false, 0, R},
      {"nodes 27", response("d" + kId + "5:nodes" + bstr(std::string(27, 'n')) + "e"),
       ParseErrorCode::BadLength, "r.nodes", "aa", false, 0, R},
      {"nodes 38 (a v6 entry in nodes)", response("d" + kId + "5:nodes" + bstr(std::string(38, 'n')) + "e"),
       ParseErrorCode::BadLength, "r.nodes", "aa", false, 0, R},
      {"nodes6 26", response("d" + kId + "6:nodes6" + bstr(std::string(26, 'n')) + "e"),
       ParseErrorCode::BadLength, "r.nodes6", "aa", false, 0, R},
      {"nodes6 list", response("d" + kId + "6:nodes6lee"), ParseErrorCode::WrongType, "r.nodes6", "aa", false,
       0, R},
      {"values string", response("d" + kId + "6:values6:abcdefe"), ParseErrorCode::WrongType, "r.values",
       "aa", false, 0, R},
      {"token int", response("d" + kId + "5:tokeni1ee"), ParseErrorCode::WrongType, "r.token", "aa", false, 0,
       R},
      {"token 65", response("d" + kId + "5:token" + bstr(std::string(65, 't')) + "e"),
       ParseErrorCode::BadLength, "r.token", "aa", false, 0, R},
      {"samples 21", response("d" + kId + "7:samples" + bstr(std::string(21, 's')) + "e"),
       ParseErrorCode::BadLength, "r.samples", "aa", false, 0, R},
      {"samples 19", response("d" + kId + "7:samples" + bstr(std::string(19, 's')) + "e"),
       ParseErrorCode::BadLength, "r.samples", "aa", false, 0, R},
      {"samples list", response("d" + kId + "7:samplesle" + "e"), ParseErrorCode::WrongType, "r.samples",
       "aa", false, 0, R},
      {"interval -1", response("d" + kId + "8:intervali-1ee"), ParseErrorCode::BadValue, "r.interval", "aa",
       false, 0, R},
      {"interval string", response("d" + kId + "8:interval2:60e"), ParseErrorCode::WrongType, "r.interval",
       "aa", false, 0, R},
      {"num -1", response("d" + kId + "3:numi-1ee"), ParseErrorCode::BadValue, "r.num", "aa", false, 0, R},
      {"num string", response("d" + kId + "3:num1:1e"), ParseErrorCode::WrongType, "r.num", "aa", false, 0,
       R},
      {"BFsd 255 in r", response("d4:BFsd" + bstr(std::string(255, 'b')) + kId + "e"),
       ParseErrorCode::BadLength, "r.BFsd", "aa", false, 0, R},
      {"BFpe 257", response("d4:BFpe" + bstr(std::string(257, 'b')) + kId + "e"), ParseErrorCode::BadLength,
       "r.BFpe", "aa", false, 0, R},
      {"BFpe int", response("d4:BFpei0e" + kId + "e"), ParseErrorCode::WrongType, "r.BFpe", "aa", false, 0,
       R},
      {"duplicate nodes", response("d" + kId + "5:nodes0:5:nodes0:e"), ParseErrorCode::DuplicateKey,
       "r.nodes", "aa", false, 0, R},
  };
  for (const auto& c : cases) expect_bad(c);
}

TEST(ParseMalformed, Error) {
  constexpr auto E = MessageKind::Error;
  const std::vector<Bad> cases = {
      {"no e", "d1:t2:aa1:y1:ee", ParseErrorCode::MissingField, "e", "aa", false, 0, E},
      {"e string", "d1:e3:bad1:t2:aa1:y1:ee", ParseErrorCode::WrongType, "e", "aa", false, 0, E},
      {"e dict", "d1:ede1:t2:aa1:y1:ee", ParseErrorCode::WrongType, "e", "aa", false, 0, E},
      {"e empty", "d1:ele1:t2:aa1:y1:ee", ParseErrorCode::MissingField, "e.code", "aa", false, 0, E},
      {"e code string", "d1:el3:2013:bade1:t2:aa1:y1:ee", ParseErrorCode::WrongType, "e.code", "aa", false, 0,
       E},
      {"e message int", "d1:eli201ei5ee1:t2:aa1:y1:ee", ParseErrorCode::WrongType, "e.message", "aa", false,
       0, E},
  };
  for (const auto& c : cases) expect_bad(c);
}

// ---- Tolerated ---------------------------------------------------------------------------------

class ParseOk : public ::testing::Test {
 protected:
  // Keeps every input alive: parsed messages view it.
  Parsed ok(std::string in) {
    inputs_.push_back(std::move(in));
    auto r = parse(inputs_.back(), doc_);
    EXPECT_TRUE(r.ok()) << (r.ok() ? ""
                                   : std::string(to_string(r.error().code)) + " " +
                                         std::string(r.error().field));
    return r.ok() ? *r : Parsed{};
  }
  std::deque<std::string> inputs_;
  bencode::Document doc_;
};

TEST_F(ParseOk, UnsortedKeysAndUnknownKeysEverywhere) {
  const std::string in = "d1:y1:q1:t2:aa3:zzzd1:xli1ei2eee1:q9:find_node1:ad6:target20:" + std::string(kIdM) +
                         "5:extrali1ee" + kId + "5:token3:xyze2:xxi9ee";
  const Parsed p = ok(in);
  EXPECT_EQ(p.kind, MessageKind::FindNode);
  const auto& q = std::get<Query>(p.message);
  EXPECT_EQ(q.id, id_of(kIdA));
  EXPECT_EQ(std::get<FindNodeArgs>(q.args).target, id_of(kIdM));
}

TEST_F(ParseOk, KeysOfOtherMethodsAreNotChecked) {
  // A ping carrying a malformed `target`, `port` and `token` is still a valid ping.
  const Parsed p = ok(query("ping", "d" + kId + "4:port4:abcd6:target1:x5:tokeni1ee"));
  EXPECT_EQ(p.kind, MessageKind::Ping);
}

TEST_F(ParseOk, SixteenByteTid) {
  const std::string tid(16, '\x01');
  const Parsed p = ok("d1:a" + kArgsId + "1:q4:ping1:t16:" + tid + "1:y1:qe");
  EXPECT_EQ(std::get<Query>(p.message).tid, tid);
}

TEST_F(ParseOk, ReadOnlyFlag) {
  EXPECT_TRUE(std::get<Query>(ok(query("ping", kArgsId, "2:roi1e")).message).read_only);
  EXPECT_TRUE(std::get<Query>(ok(query("ping", kArgsId, "2:roi7e")).message).read_only);
  EXPECT_FALSE(std::get<Query>(ok(query("ping", kArgsId, "2:roi0e")).message).read_only);
  // `ro` outside a query means nothing and is not checked.
  ok(response(kRId, "2:ro1:x"));
}

TEST_F(ParseOk, VersionIsOptionalAndLenient) {
  EXPECT_EQ(std::get<Query>(ok(query("ping", kArgsId, "1:v4:UT\x01\x02")).message).version, "UT\x01\x02");
  Parsed p = ok(query("ping", kArgsId, "1:vi5e"));
  EXPECT_EQ(std::get<Query>(p.message).version, "");
  EXPECT_TRUE(p.diag.version_ignored);
  p = ok(response(kRId) + "");
  EXPECT_FALSE(p.diag.version_ignored);
  p = ok("d1:eli201e1:xe1:t2:aa1:v" + bstr(std::string(kMaxVersionSize + 1, 'v')) + "1:y1:ee");
  EXPECT_EQ(std::get<ErrorMessage>(p.message).version, "");
  EXPECT_TRUE(p.diag.version_ignored);
  p = ok("d1:eli201e1:xe1:t2:aa1:v" + bstr(std::string(kMaxVersionSize, 'v')) + "1:y1:ee");
  EXPECT_EQ(std::get<ErrorMessage>(p.message).version.size(), kMaxVersionSize);
}

TEST_F(ParseOk, WantEntries) {
  const std::string base = "d" + kId + "6:target20:" + std::string(kIdM) + "4:want";
  auto want_of = [&](const std::string& list) {
    return std::get<FindNodeArgs>(std::get<Query>(ok(query("find_node", base + list + "e")).message).args)
        .want;
  };
  EXPECT_EQ(want_of("l2:n4e"), (Want{true, false}));
  EXPECT_EQ(want_of("l2:n6e"), (Want{false, true}));
  EXPECT_EQ(want_of("l2:n62:n4e"), (Want{true, true}));
  EXPECT_EQ(want_of("le"), (Want{false, false}));
  // Unknown and non-string entries are ignored.
  EXPECT_EQ(want_of("l2:n83:n44i4eli1ee2:n6e"), (Want{false, true}));
}

TEST_F(ParseOk, AnnounceImpliedPortWithoutPort) {
  const Parsed p = ok(announce("12:implied_porti1e9:info_hash20:" + std::string(kIdM) + "5:token2:tk"));
  const auto& a = std::get<AnnouncePeerArgs>(std::get<Query>(p.message).args);
  EXPECT_TRUE(a.implied_port);
  EXPECT_EQ(a.port, 0);
  // With implied_port a port of 0 is acceptable; 65535 is the top of the range.
  ok(announce("12:implied_porti1e9:info_hash20:" + std::string(kIdM) + "4:porti0e5:token2:tk"));
  const Parsed top = ok(announce("9:info_hash20:" + std::string(kIdM) + "4:porti65535e4:seedi1e5:token2:tk"));
  const auto& t = std::get<AnnouncePeerArgs>(std::get<Query>(top.message).args);
  EXPECT_EQ(t.port, 65535);
  EXPECT_TRUE(t.seed);
  EXPECT_FALSE(t.implied_port);
}

TEST_F(ParseOk, BadValuesEntriesAreSkippedAndCounted) {
  const std::string good4("\x01\x02\x03\x04\x1a\xe1", 6);
  const std::string good6 = std::string("\x20\x01\x0d\xb8", 4) + std::string(11, '\0') + "\x01\x1a\xe1";
  const std::string port0("\x01\x02\x03\x04\x00\x00", 6);
  const std::string r = "d" + kId + "6:valuesl" + bstr(good4) + "5:abcde7:abcdefg" + "i5e" + "l6:abcdefe" +
                        bstr(port0) + bstr(good6) + "0:ee";
  const Parsed p = ok(response(r));
  EXPECT_EQ(p.diag.values_skipped, 6u);
  const auto& resp = std::get<Response>(p.message);
  ASSERT_TRUE(resp.values);
  EXPECT_EQ(resp.values->size(), 2u);
  EXPECT_EQ(resp.values->skipped(), 6u);
  const std::vector<Endpoint> got(resp.values->begin(), resp.values->end());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], *Endpoint::parse("1.2.3.4:6881"));
  EXPECT_EQ(got[1], *Endpoint::parse("[2001:db8::1]:6881"));

  // Re-encoding keeps only the good entries.
  std::string out;
  ASSERT_TRUE(encode(p.message, out).ok());
  EXPECT_EQ(out, response("d" + kId + "6:valuesl" + bstr(good4) + bstr(good6) + "ee"));
}

TEST_F(ParseOk, AllValuesBad) {
  const Parsed p = ok(response("d" + kId + "6:valuesl1:xee"));
  const auto& resp = std::get<Response>(p.message);
  ASSERT_TRUE(resp.values);
  EXPECT_TRUE(resp.values->empty());
  EXPECT_EQ(resp.values->begin(), resp.values->end());
  EXPECT_EQ(p.diag.values_skipped, 1u);
}

TEST_F(ParseOk, IpField) {
  const Parsed v4 = ok(response(kRId, "2:ip6:" + std::string("\x7c\x1f\x4b\x15\x1a\xe1", 6)));
  EXPECT_EQ(std::get<Response>(v4.message).ip, *Endpoint::parse("124.31.75.21:6881"));
  const Parsed v6 = ok(response(kRId, "2:ip18:" + std::string(15, '\0') + std::string("\x01\x00\x50", 3)));
  EXPECT_EQ(std::get<Response>(v6.message).ip, *Endpoint::parse("[::1]:80"));
  for (const std::string bad : {"2:ip4:abcd", "2:ip7:abcdefg", "2:ipi1e", "2:ipl6:abcdefe"}) {
    const Parsed p = ok(response(kRId, bad));
    EXPECT_FALSE(std::get<Response>(p.message).ip) << bad;
    EXPECT_TRUE(p.diag.ip_ignored) << bad;
  }
  // `ip` in a query is not ours to interpret.
  const Parsed q = ok(query("ping", kArgsId, "2:ipi1e"));
  EXPECT_FALSE(q.diag.ip_ignored);
}

TEST_F(ParseOk, IntervalClamped) {
  const Parsed p = ok(response("d" + kId + "8:intervali999999ee"));
  EXPECT_EQ(std::get<Response>(p.message).interval, kMaxSampleInterval);
  EXPECT_TRUE(p.diag.interval_clamped);
  const Parsed edge = ok(response("d" + kId + "8:intervali21600ee"));
  EXPECT_EQ(std::get<Response>(edge.message).interval, 21600);
  EXPECT_FALSE(edge.diag.interval_clamped);
}

TEST_F(ParseOk, BloomFilters) {
  const std::string sd(256, '\x11');
  const std::string pe(256, '\x22');
  const Parsed p = ok(response("d4:BFpe" + bstr(pe) + "4:BFsd" + bstr(sd) + kId + "e"));
  const auto& r = std::get<Response>(p.message);
  EXPECT_EQ(r.bf_seeds, sd);
  EXPECT_EQ(r.bf_peers, pe);
}

TEST_F(ParseOk, ErrorVariants) {
  // Code only: the message is empty.
  Parsed p = ok("d1:eli202ee1:t2:aa1:y1:ee");
  EXPECT_EQ(std::get<ErrorMessage>(p.message).code, 202);
  EXPECT_EQ(std::get<ErrorMessage>(p.message).message, "");
  // Extra elements are tolerated.
  p = ok("d1:eli203e3:badi1ee1:t2:aa1:y1:ee");
  EXPECT_EQ(std::get<ErrorMessage>(p.message).message, "bad");
  // Any integer code is carried through.
  p = ok("d1:eli-5e0:e1:t2:aa1:y1:ee");
  EXPECT_EQ(std::get<ErrorMessage>(p.message).code, -5);
}

TEST_F(ParseOk, ResponsesCarryEverythingAnyResponseMay) {
  // A response is not typed by method: nodes + values + samples together are all kept.
  const std::string r = "d" + kId + "5:nodes" + bstr(std::string(26, 'n')) + "6:nodes6" +
                        bstr(std::string(76, 'm')) + "7:samples" + bstr(std::string(40, 's')) +
                        "3:numi7e5:token1:t6:valuesl6:abcdefee";
  const Parsed p = ok(response(r));
  const auto& resp = std::get<Response>(p.message);
  EXPECT_EQ(resp.nodes->size(), 1u);
  EXPECT_EQ(resp.nodes6->size(), 2u);
  EXPECT_EQ(resp.nodes6->family(), IpAddress::Family::V6);
  EXPECT_EQ(resp.samples->size(), 2u);
  EXPECT_EQ(resp.num, 7);
  EXPECT_EQ(resp.token, "t");
  EXPECT_EQ(resp.values->size(), 1u);
}

TEST_F(ParseOk, DocumentReuseAcrossKinds) {
  // One Document, many datagrams: each result is independent of the previous one.
  const std::string a = query("ping", kArgsId);
  const std::string b = response("d" + kId + "6:valuesl6:abcdefee");
  const std::string c = "d1:eli201e1:xe1:t2:aa1:y1:ee";
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ok(a).kind, MessageKind::Ping);
    const Parsed pb = ok(b);
    EXPECT_EQ(std::get<Response>(pb.message).values->size(), 1u);
    EXPECT_EQ(ok(c).kind, MessageKind::Error);
  }
}

}  // namespace
}  // namespace bitscrape::krpc
