// dht::Node as a server: every query answered as BEP-5/32/33/43/51 say, errors with the tid,
// limits and counters on the inbound path.
#include "dht/node.hpp"

#include "dht/peer_store.hpp"
#include "dht/routing_table.hpp"
#include "fake_network.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>

#include <set>

namespace bitscrape::dht {
namespace {

using namespace std::chrono_literals;
using test::at;
using test::Capture;
using test::Decoded;
using test::encode_query;
using test::ep4;
using test::ep6;
using test::Recorder;

class NodeServerTest : public ::testing::Test {
 protected:
  NodeServerTest() { cfg.seed = 99; }

  Node& make() {
    node = std::make_unique<Node>(cfg, cap, &rec, now);
    return *node;
  }

  // Sends one query from `from`; returns the single datagram the node answered with.
  std::unique_ptr<Decoded> ask(const std::string& q, const Endpoint& from) {
    cap.sent.clear();
    node->on_datagram(q, from, now);
    if (cap.sent.size() != 1) return nullptr;
    EXPECT_EQ(cap.sent[0].to, from);
    return std::make_unique<Decoded>(cap.sent[0].bytes);
  }

  // Fills the node's IPv4 table with confirmed nodes by letting them answer its pings.
  std::vector<std::pair<NodeId, Endpoint>> populate(std::uint32_t n) {
    std::vector<std::pair<NodeId, Endpoint>> added;
    for (std::uint32_t i = 0; i < n; ++i) {
      const auto id = rng.id();
      const auto ep = ep4(1000 + i);
      // It queries us (enters unconfirmed) ...
      cap.sent.clear();
      node->on_datagram(encode_query("pp", id, krpc::PingArgs{}), ep, now);
      added.emplace_back(id, ep);
    }
    // ... and answers our maintenance pings (confirmed).
    test::FakeNetwork net;
    for (const auto& [id, ep] : added) net.add(id, ep);
    for (int round = 0; round < 40; ++round) {
      now += 5s;
      cap.sent.clear();
      node->tick(now);
      net.pump(*node, cap, now);
    }
    return added;
  }

  NodeConfig cfg;
  Capture cap;
  Recorder rec;
  TimePoint now = at(0ms);
  std::unique_ptr<Node> node;
  Rng rng{5};
};

TEST_F(NodeServerTest, ReportsTheClientVersionOfQueriers) {
  make();
  const auto them = rng.id();
  krpc::Query q;
  q.tid = "vv";
  q.id = them;
  q.args = krpc::PingArgs{};
  q.version = std::string_view("LT\x02\x00", 4);
  std::string wire;
  ASSERT_TRUE(krpc::encode(q, wire).ok());
  ASSERT_TRUE(ask(wire, ep4(7, 4000)));
  ASSERT_TRUE(ask(encode_query("nv", rng.id(), krpc::PingArgs{}), ep4(8, 4000)));  // no `v`: nothing
  ASSERT_EQ(rec.versions.size(), 1u);
  EXPECT_EQ(rec.versions[0].id, them);
  EXPECT_EQ(rec.versions[0].ep, ep4(7, 4000));
  EXPECT_EQ(rec.versions[0].version, std::string("LT\x02\x00", 4));
}

TEST_F(NodeServerTest, AnswersPingWithOurIdAndTheirAddress) {
  auto& n = make();
  const auto them = rng.id();
  auto d = ask(encode_query("aa", them, krpc::PingArgs{}), ep4(1, 4000));
  ASSERT_TRUE(d && d->response());
  EXPECT_EQ(d->response()->tid, "aa");
  EXPECT_EQ(d->response()->id, n.id());
  ASSERT_TRUE(d->response()->ip);
  EXPECT_EQ(*d->response()->ip, ep4(1, 4000));  // BEP-42 `ip`
  const auto c = n.counters();
  EXPECT_EQ(c.queries_in_ping, 1u);
  EXPECT_EQ(c.responses_out, 1u);
  EXPECT_EQ(c.packets_out, 1u);
  // The querier entered the table, unconfirmed.
  ASSERT_NE(n.table(IpAddress::Family::V4)->find(them), nullptr);
  EXPECT_FALSE(n.table(IpAddress::Family::V4)->find(them)->responded);
  ASSERT_EQ(rec.nodes.size(), 1u);
  EXPECT_EQ(rec.nodes[0].first, them);
}

TEST_F(NodeServerTest, UnknownMethodGets204WithTheTid) {
  auto& n = make();
  const std::string q = "d1:ad2:id20:" + std::string(20, 'x') + "e1:q6:frobby1:t2:zz1:y1:qe";
  auto d = ask(q, ep4(1));
  ASSERT_TRUE(d && d->error());
  EXPECT_EQ(d->error()->tid, "zz");
  EXPECT_EQ(d->error()->code, 204);
  EXPECT_EQ(n.counters().errors_out_204, 1u);
  EXPECT_EQ(n.counters().queries_in_unknown, 1u);
}

TEST_F(NodeServerTest, MalformedQueryGets203WithTheTid) {
  auto& n = make();
  // find_node without a target.
  const std::string q = "d1:ad2:id20:" + std::string(20, 'x') + "e1:q9:find_node1:t2:mm1:y1:qe";
  auto d = ask(q, ep4(1));
  ASSERT_TRUE(d && d->error());
  EXPECT_EQ(d->error()->tid, "mm");
  EXPECT_EQ(d->error()->code, 203);
  EXPECT_EQ(n.counters().errors_out_203, 1u);
  EXPECT_EQ(n.counters().drop_krpc, 1u);
}

TEST_F(NodeServerTest, GarbageIsCountedAndNotAnswered) {
  auto& n = make();
  for (const std::string g : {"", "hello", "d1:y1:q", "i42e", "d1:t2:aa1:y1:re"}) {
    cap.sent.clear();
    n.on_datagram(g, ep4(1), now);
    EXPECT_TRUE(cap.sent.empty()) << g;
  }
  const auto c = n.counters();
  EXPECT_EQ(c.packets_in, 5u);
  EXPECT_EQ(c.drop_bencode + c.drop_krpc, 5u);
  EXPECT_EQ(c.packets_out, 0u);
}

TEST_F(NodeServerTest, OversizeDatagramIsDroppedUnread) {
  auto& n = make();
  n.on_datagram(std::string(cfg.max_datagram + 1, 'd'), ep4(1), now);
  EXPECT_EQ(n.counters().drop_oversize, 1u);
  EXPECT_TRUE(cap.sent.empty());
}

TEST_F(NodeServerTest, FindNodeReturnsTheClosestConfirmedNodes) {
  auto& n = make();
  const auto nodes = populate(60);
  const auto* table = n.table(IpAddress::Family::V4);
  ASSERT_GT(table->size(), 16u);
  // An unconfirmed node, very close to the target, must not be handed out.
  const auto target = rng.id();
  Id160 sneaky = target;
  sneaky.bytes[19] ^= 1;
  n.on_datagram(encode_query("s1", sneaky, krpc::PingArgs{}), ep4(5000), now);
  ASSERT_NE(table->find(sneaky), nullptr);

  auto d = ask(encode_query("fn", rng.id(), krpc::FindNodeArgs{target, {}}), ep4(7));
  ASSERT_TRUE(d && d->response());
  ASSERT_TRUE(d->response()->nodes);
  EXPECT_FALSE(d->response()->nodes6);  // asked over IPv4 without `want`
  std::vector<const RoutingNode*> expect;
  table->closest(target, 8, true, expect);
  std::vector<krpc::CompactNode> got(d->response()->nodes->begin(), d->response()->nodes->end());
  ASSERT_EQ(got.size(), 8u);
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(got[i].id, expect[i]->id);
    EXPECT_EQ(got[i].endpoint, expect[i]->endpoint);
    EXPECT_NE(got[i].id, sneaky);
  }
}

TEST_F(NodeServerTest, WantSelectsFamilies) {
  auto& n = make();
  (void)populate(10);
  // Add a confirmed IPv6 node.
  const auto v6id = rng.id();
  n.on_datagram(encode_query("p6", v6id, krpc::PingArgs{}), ep6(1), now);
  test::FakeNetwork net;
  net.add(v6id, ep6(1));
  for (int i = 0; i < 3; ++i) {
    now += 5s;
    cap.sent.clear();
    n.tick(now);
    net.pump(n, cap, now);
  }
  ASSERT_EQ(n.table(IpAddress::Family::V6)->size(), 1u);
  auto d = ask(encode_query("w6", rng.id(), krpc::FindNodeArgs{rng.id(), krpc::Want{false, true}}), ep4(7));
  ASSERT_TRUE(d && d->response());
  EXPECT_FALSE(d->response()->nodes);
  ASSERT_TRUE(d->response()->nodes6);
  EXPECT_EQ(d->response()->nodes6->size(), 1u);
  EXPECT_EQ((*d->response()->nodes6)[0].id, v6id);
  auto both = ask(encode_query("wb", rng.id(), krpc::FindNodeArgs{rng.id(), krpc::Want{true, true}}), ep6(9));
  ASSERT_TRUE(both && both->response());
  EXPECT_TRUE(both->response()->nodes);
  EXPECT_TRUE(both->response()->nodes6);
}

TEST_F(NodeServerTest, GetPeersTokenAnnounceValuesRoundTrip) {
  auto& n = make();
  const auto ih = rng.id();
  const auto peer = ep4(20, 5555);
  auto d = ask(encode_query("g1", rng.id(), krpc::GetPeersArgs{ih, {}, false, false}), peer);
  ASSERT_TRUE(d && d->response());
  ASSERT_TRUE(d->response()->token);
  EXPECT_FALSE(d->response()->values);  // nothing stored yet
  EXPECT_TRUE(d->response()->nodes);
  const std::string token(*d->response()->token);
  ASSERT_EQ(rec.infohashes.size(), 1u);
  EXPECT_EQ(rec.infohashes[0].ih, ih);
  EXPECT_EQ(rec.infohashes[0].src, InfohashSource::GetPeersQuery);

  // announce with implied_port: the source port is stored, not `port`.
  krpc::AnnouncePeerArgs a{ih, 1, true, false, token};
  auto r = ask(encode_query("a1", rng.id(), a), peer);
  ASSERT_TRUE(r && r->response());
  EXPECT_EQ(n.counters().announces_stored, 1u);
  EXPECT_EQ(rec.infohashes.back().src, InfohashSource::AnnouncePeerQuery);

  // An explicit port from another peer, with its own token.
  const auto peer2 = ep4(21, 7000);
  auto d2 = ask(encode_query("g2", rng.id(), krpc::GetPeersArgs{ih, {}, false, false}), peer2);
  const std::string token2(*d2->response()->token);
  auto r2 = ask(encode_query("a2", rng.id(), krpc::AnnouncePeerArgs{ih, 6000, false, true, token2}), peer2);
  ASSERT_TRUE(r2 && r2->response());

  auto v = ask(encode_query("g3", rng.id(), krpc::GetPeersArgs{ih, {}, false, false}), ep4(30));
  ASSERT_TRUE(v && v->response() && v->response()->values);
  std::set<Endpoint> values(v->response()->values->begin(), v->response()->values->end());
  EXPECT_EQ(values, (std::set<Endpoint>{Endpoint{peer.ip, 5555}, Endpoint{peer2.ip, 6000}}));
  // BEP-33 noseed: peer2 announced as a seed.
  auto ns = ask(encode_query("g4", rng.id(), krpc::GetPeersArgs{ih, {}, false, true}), ep4(30));
  std::set<Endpoint> nonseeds(ns->response()->values->begin(), ns->response()->values->end());
  EXPECT_EQ(nonseeds, (std::set<Endpoint>{Endpoint{peer.ip, 5555}}));
  // Over IPv6 there are no IPv6 peers: no values.
  auto v6 = ask(encode_query("g5", rng.id(), krpc::GetPeersArgs{ih, {}, false, false}), ep6(30));
  ASSERT_TRUE(v6 && v6->response());
  EXPECT_FALSE(v6->response()->values);
}

TEST_F(NodeServerTest, AnnounceWithABadTokenIs203) {
  auto& n = make();
  const auto ih = rng.id();
  auto d = ask(encode_query("g1", rng.id(), krpc::GetPeersArgs{ih, {}, false, false}), ep4(1));
  const std::string token(*d->response()->token);
  // The token was issued to ep4(1): another IP cannot use it.
  auto r = ask(encode_query("a1", rng.id(), krpc::AnnouncePeerArgs{ih, 6881, false, false, token}), ep4(2));
  ASSERT_TRUE(r && r->error());
  EXPECT_EQ(r->error()->code, 203);
  EXPECT_EQ(r->error()->tid, "a1");
  auto r2 = ask(encode_query("a2", rng.id(), krpc::AnnouncePeerArgs{ih, 6881, false, false, "nope"}), ep4(1));
  ASSERT_TRUE(r2 && r2->error());
  EXPECT_EQ(n.counters().announce_bad_token, 2u);
  EXPECT_EQ(n.store().size(), 0u);
}

TEST_F(NodeServerTest, TokensSurviveOneRotationButNotTwo) {
  auto& n = make();
  const auto ih = rng.id();
  auto d = ask(encode_query("g1", rng.id(), krpc::GetPeersArgs{ih, {}, false, false}), ep4(1));
  const std::string token(*d->response()->token);
  now += 6min;
  n.tick(now);
  auto ok = ask(encode_query("a1", rng.id(), krpc::AnnouncePeerArgs{ih, 6881, false, false, token}), ep4(1));
  ASSERT_TRUE(ok && ok->response());
  now += 5min;
  n.tick(now);
  auto late =
      ask(encode_query("a2", rng.id(), krpc::AnnouncePeerArgs{ih, 6881, false, false, token}), ep4(1));
  ASSERT_TRUE(late && late->error());
}

TEST_F(NodeServerTest, ScrapeReturnsBloomFilters) {
  auto& n = make();
  const auto ih = rng.id();
  for (std::uint32_t i = 0; i < 6; ++i) (void)n.store().announce(ih, ep4(100 + i), i < 2, now);
  auto d = ask(encode_query("sc", rng.id(), krpc::GetPeersArgs{ih, {}, true, false}), ep4(1));
  ASSERT_TRUE(d && d->response());
  ASSERT_TRUE(d->response()->bf_seeds && d->response()->bf_peers);
  krpc::ScrapeBloom seeds;
  krpc::ScrapeBloom peers;
  ASSERT_TRUE(seeds.assign(*d->response()->bf_seeds));
  ASSERT_TRUE(peers.assign(*d->response()->bf_peers));
  EXPECT_NEAR(seeds.estimate(), 2.0, 0.5);
  EXPECT_NEAR(peers.estimate(), 4.0, 0.5);
  // Unknown torrent: no filters.
  auto u = ask(encode_query("su", rng.id(), krpc::GetPeersArgs{rng.id(), {}, true, false}), ep4(1));
  EXPECT_FALSE(u->response()->bf_seeds);
}

TEST_F(NodeServerTest, ValuesAreCappedToFitOnePacket) {
  auto& n = make();
  (void)populate(30);
  const auto ih = rng.id();
  for (std::uint32_t i = 0; i < 150; ++i) {
    (void)n.store().announce(ih, ep4(100 + i), false, now);
    (void)n.store().announce(ih, ep6(100 + i), false, now);
  }
  auto d = ask(encode_query("c4", rng.id(), krpc::GetPeersArgs{ih, {}, true, false}), ep4(1));
  ASSERT_TRUE(d && d->response() && d->response()->values);
  EXPECT_EQ(d->response()->values->size(), std::min<std::size_t>(cfg.store.max_peers_per_reply, 150));
  EXPECT_LE(d->bytes.size(), krpc::kTypicalMtuPayload);
  auto d6 =
      ask(encode_query("c6", rng.id(), krpc::GetPeersArgs{ih, krpc::Want{true, true}, true, false}), ep6(1));
  ASSERT_TRUE(d6 && d6->response() && d6->response()->values);
  EXPECT_GT(d6->response()->values->size(), 10u);
  EXPECT_LE(d6->bytes.size(), krpc::kMinIpv6MtuPayload);
}

TEST_F(NodeServerTest, SampleInfohashesServesIntervalNumAndSamples) {
  cfg.store.sample_interval = 3600s;
  auto& n = make();
  (void)populate(20);
  for (std::uint32_t i = 0; i < 30; ++i) (void)n.store().announce(rng.id(), ep4(i), false, now);
  std::set<InfoHash> in_store;
  n.store().for_each_infohash([&](const InfoHash& ih) { in_store.insert(ih); });
  const auto target = rng.id();
  auto d = ask(encode_query("si", rng.id(), krpc::SampleInfohashesArgs{target, {}}), ep4(1));
  ASSERT_TRUE(d && d->response());
  const auto& r = *d->response();
  ASSERT_TRUE(r.interval && r.num && r.samples && r.nodes);
  EXPECT_EQ(*r.interval, 3600);
  EXPECT_EQ(*r.num, static_cast<std::int64_t>(in_store.size()));
  EXPECT_EQ(r.samples->size(), 20u);
  std::set<InfoHash> got(r.samples->begin(), r.samples->end());
  EXPECT_EQ(got.size(), 20u);
  for (const auto& ih : got) EXPECT_EQ(in_store.count(ih), 1u);
  EXPECT_EQ(r.nodes->size(), 8u);
  // libtorrent-like: the same sample until the interval passes.
  auto again = ask(encode_query("s2", rng.id(), krpc::SampleInfohashesArgs{target, {}}), ep4(2));
  EXPECT_EQ(again->response()->samples->bytes(), r.samples->bytes());
  EXPECT_EQ(n.counters().samples_served, 40u);
}

TEST_F(NodeServerTest, ReadOnlyQueriersAreAnsweredButNeverTabled) {
  auto& n = make();
  const auto ro = rng.id();
  auto d = ask(encode_query("ro", ro, krpc::PingArgs{}, true), ep4(1));
  ASSERT_TRUE(d && d->response());
  EXPECT_EQ(n.table(IpAddress::Family::V4)->find(ro), nullptr);
  EXPECT_EQ(n.counters().drop_ro_node, 1u);
}

TEST_F(NodeServerTest, MartianQueriersAreAnsweredButNotTabled) {
  auto& n = make();
  const auto id = rng.id();
  const Endpoint lan{IpAddress::v4(0xC0A80105), 6881};  // 192.168.1.5
  auto d = ask(encode_query("lp", id, krpc::PingArgs{}), lan);
  ASSERT_TRUE(d && d->response());
  EXPECT_EQ(n.table(IpAddress::Family::V4)->find(id), nullptr);
  EXPECT_EQ(n.counters().drop_martian_source, 1u);
}

TEST_F(NodeServerTest, PrivateAddressesAllowedWhenOptedIn) {
  cfg.allow_private_addresses = true;
  auto& n = make();
  const auto id = rng.id();
  (void)ask(encode_query("lp", id, krpc::PingArgs{}), Endpoint{IpAddress::v4(0x7F000002), 6881});
  EXPECT_NE(n.table(IpAddress::Family::V4)->find(id), nullptr);
}

TEST_F(NodeServerTest, ReadOnlyNodeAnswersNothing) {
  cfg.read_only = true;
  auto& n = make();
  n.on_datagram(encode_query("aa", rng.id(), krpc::PingArgs{}), ep4(1), now);
  EXPECT_TRUE(cap.sent.empty());
  EXPECT_EQ(n.counters().drop_read_only_query, 1u);
}

TEST_F(NodeServerTest, InboundFloodIsCutPerSourceAndTheSourceIgnoredForAWhile) {
  cfg.rate.in_packets_per_ip_per_second = 10;
  cfg.rate.in_burst_per_ip = 20;
  cfg.rate.in_block_duration = 60s;
  auto& n = make();
  cap.sent.clear();
  for (int i = 0; i < 100; ++i) n.on_datagram(encode_query("fl", rng.id(), krpc::PingArgs{}), ep4(1), now);
  EXPECT_EQ(cap.sent.size(), 20u) << "the burst is answered";
  EXPECT_EQ(n.counters().drop_inbound_rate, 1u);
  EXPECT_EQ(n.counters().inbound_blocks, 1u);
  EXPECT_EQ(n.counters().drop_inbound_blocked, 79u);
  n.on_datagram(encode_query("ok", rng.id(), krpc::PingArgs{}), ep4(2), now);
  EXPECT_EQ(n.counters().drop_inbound_blocked + n.counters().drop_inbound_rate, 80u)
      << "others are unaffected";
  // Still blocked after its bucket would have refilled; answered again once the block ends.
  now += 30s;
  EXPECT_EQ(ask(encode_query("b1", rng.id(), krpc::PingArgs{}), ep4(1)), nullptr);
  now += 31s;
  EXPECT_NE(ask(encode_query("b2", rng.id(), krpc::PingArgs{}), ep4(1)), nullptr);
}

// What a stranger's client does within a second, from one address: every query is answered
// (our pacing and budget are for our own queries; answers never wait for them).
TEST_F(NodeServerTest, AClientsBurstFromOneAddressIsAllAnswered) {
  cfg.rate.out_packets_per_second = 5;  // a budget our own traffic has exhausted ...
  cfg.rate.out_burst = 1;
  auto& n = make();
  const Endpoint client = ep4(77);
  const auto client_id = rng.id();
  const auto ih = rng.id();
  std::map<std::string, int> answered;
  std::optional<std::string> token;
  const auto send = [&](std::string_view tid, krpc::QueryArgs args) {
    cap.sent.clear();
    n.on_datagram(encode_query(tid, client_id, std::move(args)), client, now);
    n.tick(now);  // as the event loop would: the verification ping to the new node goes out too
    for (const auto& d : cap.sent) {
      if (d.to != client) continue;
      Decoded m(d.bytes);
      if (const auto* r = m.response()) {
        ++answered[std::string(r->tid)];
        if (r->token) token = std::string(*r->token);
      }
    }
    now += 100ms;
  };
  send("p1", krpc::PingArgs{});
  send("f1", krpc::FindNodeArgs{rng.id(), {}});
  send("g1", krpc::GetPeersArgs{ih, {}, false, false});
  ASSERT_TRUE(token);
  send("a1", krpc::AnnouncePeerArgs{ih, 6881, false, false, *token});
  send("g2", krpc::GetPeersArgs{rng.id(), {}, false, false});
  send("g3", krpc::GetPeersArgs{rng.id(), {}, false, false});
  for (const char* tid : {"p1", "f1", "g1", "a1", "g2", "g3"}) EXPECT_EQ(answered[tid], 1) << tid;
  EXPECT_EQ(n.counters().announces_stored, 1u);
  EXPECT_EQ(n.counters().drop_out_paced + n.counters().drop_out_budget, 0u);
}

TEST_F(NodeServerTest, RepliesSpendTheBudgetSoOurQueriesYield) {
  cfg.rate.out_packets_per_second = 10;
  cfg.rate.out_burst = 5;
  auto& n = make();
  cap.sent.clear();
  for (std::uint32_t i = 0; i < 20; ++i)
    n.on_datagram(encode_query("gb", rng.id(), krpc::PingArgs{}), ep4(i), now);
  EXPECT_EQ(cap.sent.size(), 20u) << "every answer goes out";
  EXPECT_EQ(n.counters().drop_out_budget, 0u);
  // The answers took the budget's tokens: our own queries (the verification pings of the 20
  // nodes that just queried us) wait for the refill, then go out within it (10/s, burst 5).
  cap.sent.clear();
  n.tick(now);
  EXPECT_EQ(cap.sent.size(), 0u);
  std::size_t pings = 0;
  for (int second = 0; second < 10; ++second) {
    now += 1s;
    cap.sent.clear();
    n.tick(now);
    EXPECT_LE(cap.sent.size(), 10u) << "our queries stay within the budget";
    pings += cap.sent.size();
  }
  EXPECT_GT(pings, 0u);
  EXPECT_GT(n.counters().verification_pings, 0u);
  // A budget lowered to nothing at run time (the crawler's control) still answers.
  n.set_packet_budget(0, 1);
  now += 1s;
  cap.sent.clear();
  for (std::uint32_t i = 200; i < 210; ++i)
    n.on_datagram(encode_query("gb", rng.id(), krpc::PingArgs{}), ep4(i), now);
  EXPECT_EQ(cap.sent.size(), 10u);
}

TEST_F(NodeServerTest, UnmatchedResponsesAreDropped) {
  auto& n = make();
  krpc::Response r;
  r.tid = "zzzz";
  r.id = rng.id();
  std::string out;
  ASSERT_TRUE(krpc::encode(r, out));
  n.on_datagram(out, ep4(1), now);
  EXPECT_EQ(n.counters().drop_unmatched_response, 1u);
  EXPECT_EQ(n.table(IpAddress::Family::V4)->size(), 0u);  // unsolicited: not tabled
}

TEST_F(NodeServerTest, CountersListEveryFieldByName) {
  auto& n = make();
  (void)ask(encode_query("aa", rng.id(), krpc::PingArgs{}), ep4(1));
  std::map<std::string, std::uint64_t> m;
  n.counters().for_each([&](std::string_view k, std::uint64_t v, auto /*kind*/) { m[std::string(k)] = v; });
  EXPECT_EQ(m.at("queries_in_ping"), 1u);
  EXPECT_EQ(m.at("packets_out"), 1u);
  EXPECT_EQ(m.at("gauge_table_v4_nodes"), 1u);
  EXPECT_GT(m.size(), 60u);
}

}  // namespace
}  // namespace bitscrape::dht
