// dht::Node as a client: bootstrap, lookups, announce, timeouts, the sampler, pacing and the
// politeness rules, against scripted fake nodes.
#include "dht/node.hpp"

#include "dht/routing_table.hpp"
#include "fake_network.hpp"
#include "krpc/bep42.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace bitscrape::dht {
namespace {

using namespace std::chrono_literals;
using test::at;
using test::Capture;
using test::ep4;
using test::ep6;
using test::FakeNetwork;
using test::Recorder;

class NodeClientTest : public ::testing::Test {
 protected:
  NodeClientTest() {
    cfg.seed = 7;
    for (std::uint32_t i = 0; i < 500; ++i) net.add(rng.id(), ep4(i));
  }

  Node& make() {
    node = std::make_unique<Node>(cfg, cap, &rec, now);
    return *node;
  }

  // Runs the node for `d` of virtual time in `step`s, answering everything it sends.
  void run(Duration d, Duration step = 100ms) {
    const auto end = now + d;
    net.pump(*node, cap, now);
    for (int i = 0; now < end; ++i) {
      now += step;
      node->tick(now);
      net.pump(*node, cap, now);
      if (i % 16 == 0) ASSERT_EQ(node->check_invariant(), "");
    }
    ASSERT_EQ(node->check_invariant(), "");
  }

  void bootstrap() {
    const std::vector<Endpoint> routers{net.nodes[0].ep, net.nodes[1].ep};
    node->bootstrap(routers, {}, now);
    run(10s);
    ASSERT_TRUE(node->bootstrapped());
  }

  NodeConfig cfg;
  Capture cap;
  Recorder rec;
  FakeNetwork net;
  Rng rng{8};
  TimePoint now = at(0ms);
  std::unique_ptr<Node> node;
};

TEST_F(NodeClientTest, BootstrapFillsTheTableAroundOurId) {
  auto& n = make();
  bootstrap();
  const auto* t = n.table(IpAddress::Family::V4);
  // The fake nodes answer with the true closest at once (one hop): the table holds the two
  // routers and our 8 closest neighbours.
  EXPECT_GE(t->size(), 10u);
  EXPECT_EQ(t->check_invariant(), "");
  // Our 8 true closest neighbours are all in the table.
  for (const auto& c : net.closest(n.id(), 8, IpAddress::Family::V4)) EXPECT_NE(t->find(c.id), nullptr);
  ASSERT_FALSE(rec.done.empty());
  EXPECT_EQ(rec.done[0].kind, LookupKind::Bootstrap);
  // Bootstrap queries went to routers whose ids we did not know, with find_node(self).
  EXPECT_EQ(net.received[0].method, krpc::Method::FindNode);
  EXPECT_EQ(net.received[0].target, n.id());
}

TEST_F(NodeClientTest, BootstrapFromPersistedNodes) {
  auto& n = make();
  std::vector<krpc::CompactNode> known;
  for (int i = 0; i < 5; ++i)
    known.push_back(
        {net.nodes[static_cast<std::size_t>(100 + i)].id, net.nodes[static_cast<std::size_t>(100 + i)].ep});
  n.bootstrap({}, known, now);
  run(10s);
  EXPECT_TRUE(n.bootstrapped());
  for (const auto& c : net.closest(n.id(), 8, IpAddress::Family::V4))
    EXPECT_NE(n.table(IpAddress::Family::V4)->find(c.id), nullptr);
  const auto saved = n.export_nodes(now);
  EXPECT_GE(saved.size(), 8u);
  for (const auto& s : saved)
    EXPECT_EQ(n.table(IpAddress::Family::V4)->state(*n.table(IpAddress::Family::V4)->find(s.id), now),
              NodeState::Good);
}

TEST_F(NodeClientTest, FindNodeFindsTheTrueKClosest) {
  auto& n = make();
  bootstrap();
  for (int round = 0; round < 10; ++round) {
    const auto target = rng.id();
    rec.done.clear();
    const auto lid = n.find_node(target, now);
    ASSERT_NE(lid, kNoLookup);
    run(10s);
    ASSERT_EQ(rec.done.size(), 1u);
    EXPECT_EQ(rec.done[0].id, lid);
    EXPECT_EQ(rec.done[0].kind, LookupKind::FindNode);
    EXPECT_EQ(rec.done[0].closest, net.closest(target, 8, IpAddress::Family::V4)) << "round " << round;
    EXPECT_LT(rec.done[0].queried, 60u);
  }
  EXPECT_EQ(n.active_lookups(), 0u);
}

TEST_F(NodeClientTest, GetPeersCollectsPeersAndAnnouncesToTheClosest) {
  auto& n = make();
  bootstrap();
  const auto ih = rng.id();
  const auto holders = net.closest(ih, 8, IpAddress::Family::V4);
  std::set<Endpoint> expect;
  for (std::size_t i = 0; i < holders.size(); ++i) {
    for (auto& fn : net.nodes) {
      if (fn.id != holders[i].id) continue;
      fn.peers[ih] = {Endpoint{ep4(9000 + static_cast<std::uint32_t>(i)).ip, 51413},
                      ep6(static_cast<std::uint32_t>(i))};
      expect.insert(fn.peers[ih].begin(), fn.peers[ih].end());
    }
  }
  // A martian peer is never reported.
  for (auto& fn : net.nodes)
    if (fn.id == holders[0].id) fn.peers[ih].push_back(Endpoint{IpAddress::v4(0x0A000001), 80});
  net.received.clear();
  const auto lid = n.get_peers(ih, now, AnnounceParams{6881, false, true});
  run(10s);
  EXPECT_EQ(std::set<Endpoint>(rec.peers.begin(), rec.peers.end()), expect);
  EXPECT_EQ(rec.peers.size(), expect.size());  // each reported once
  EXPECT_GE(n.counters().drop_martian_peer, 1u);
  ASSERT_EQ(rec.done.back().id, lid);
  EXPECT_TRUE(rec.done.back().announced);
  EXPECT_EQ(rec.done.back().peers, expect.size());
  // announce_peer went to exactly the 8 closest, each with the token it gave us.
  std::set<NodeId> announced_to;
  for (const auto& r : net.received) {
    if (r.method != krpc::Method::AnnouncePeer) continue;
    announced_to.insert(net.nodes[r.node].id);
    EXPECT_EQ(r.token, "tk" + std::to_string(r.node));
    EXPECT_EQ(r.target, ih);
    EXPECT_EQ(r.port, 6881);
  }
  std::set<NodeId> want;
  for (const auto& h : holders) want.insert(h.id);
  EXPECT_EQ(announced_to, want);
  EXPECT_EQ(n.counters().announces_sent, 8u);
}

// A key's holder (the node whose sample showed it) is asked first: when it gives peers the
// lookup ends there, one get_peers sent; when it gives none, a full lookup follows.
TEST_F(NodeClientTest, GetPeersAsksTheKeysHolderFirst) {
  auto& n = make();
  bootstrap();
  const auto ih = rng.id();
  const auto holders = net.closest(ih, 8, IpAddress::Family::V4);
  for (auto& fn : net.nodes)
    if (fn.id == holders[3].id) fn.peers[ih] = {Endpoint{ep4(9000).ip, 51413}};
  const krpc::CompactNode holder = holders[3];
  net.received.clear();
  const auto lid = n.get_peers(ih, now, std::nullopt, std::span(&holder, 1));
  run(5s);
  ASSERT_EQ(rec.done.back().id, lid);
  EXPECT_EQ(rec.peers, (std::vector<Endpoint>{Endpoint{ep4(9000).ip, 51413}}));
  std::vector<NodeId> asked;  // (the new nodes in its reply get verification pings)
  for (const auto& r : net.received)
    if (r.method == krpc::Method::GetPeers) asked.push_back(net.nodes[r.node].id);
  EXPECT_EQ(asked, std::vector<NodeId>{holders[3].id});  // nobody else was asked
  EXPECT_EQ(n.counters().lookups_direct_hits, 1u);

  // A holder without peers for the key: the full lookup finds them at the closest nodes.
  const auto ih2 = rng.id();
  const auto closest2 = net.closest(ih2, 8, IpAddress::Family::V4);
  for (auto& fn : net.nodes)
    if (fn.id == closest2[0].id) fn.peers[ih2] = {Endpoint{ep4(9001).ip, 51413}};
  const krpc::CompactNode empty = closest2[5];
  rec.peers.clear();
  net.received.clear();
  const auto lid2 = n.get_peers(ih2, now, std::nullopt, std::span(&empty, 1));
  run(10s);
  ASSERT_EQ(rec.done.back().id, lid2);
  EXPECT_EQ(rec.peers, (std::vector<Endpoint>{Endpoint{ep4(9001).ip, 51413}}));
  std::size_t asked2 = 0;
  for (const auto& r : net.received) asked2 += r.method == krpc::Method::GetPeers ? 1 : 0;
  EXPECT_GT(asked2, 1u);
  EXPECT_EQ(n.counters().lookups_direct_misses, 1u);
}

TEST_F(NodeClientTest, DeadNodesTimeOutAndTheLookupStillConverges) {
  auto& n = make();
  bootstrap();
  const auto target = rng.id();
  // Kill the 3 true closest: the lookup must end with the next 8 that answer. The others
  // still list the dead ones (they have not noticed yet), plus the next 8.
  auto closest = net.closest(target, 11, IpAddress::Family::V4);
  net.nodes_override = [&](const test::FakeNode&, const Id160& t) {
    return net.closest(t, 11, IpAddress::Family::V4);
  };
  for (auto& fn : net.nodes)
    for (int i = 0; i < 3; ++i)
      if (fn.id == closest[static_cast<std::size_t>(i)].id) fn.alive = false;
  rec.done.clear();
  (void)n.find_node(target, now);
  run(20s);
  ASSERT_EQ(rec.done.size(), 1u);
  EXPECT_EQ(rec.done[0].closest, std::vector<krpc::CompactNode>(closest.begin() + 3, closest.end()));

  EXPECT_GE(n.counters().timeouts, 3u);
}

TEST_F(NodeClientTest, TimeoutsMakeTableNodesBadAndPingsUseTheRetry) {
  cfg.client.query_timeout = 2s;
  auto& n = make();
  bootstrap();
  const auto* t = n.table(IpAddress::Family::V4);
  // Kill everything: maintenance pings time out, are retried once, and nodes go bad.
  for (auto& fn : net.nodes) fn.alive = false;
  run(20min, 1s);
  std::size_t good = 0;
  t->for_each([&](const RoutingNode& rn) { good += t->state(rn, now) == NodeState::Good ? 1 : 0; });
  EXPECT_EQ(good, 0u);
  EXPECT_GT(n.counters().retries, 0u);
  EXPECT_GT(n.counters().timeouts, n.counters().retries);
}

TEST_F(NodeClientTest, MartianAndPortZeroNodesAreNeverQueried) {
  auto& n = make();
  const Endpoint lan{IpAddress::v4(0xC0A80001), 6881};
  const Endpoint zero{ep4(777).ip, 0};
  net.nodes_override = [&](const test::FakeNode&, const Id160& target) {
    auto v = net.closest(target, 6, IpAddress::Family::V4);
    v.push_back({rng.id(), lan});
    v.push_back({rng.id(), zero});
    return v;
  };
  const std::vector<Endpoint> routers{net.nodes[0].ep};
  n.bootstrap(routers, {}, now);
  run(10s);
  for (const auto& s : net.other) {
    EXPECT_NE(s.to, lan);
    EXPECT_NE(s.to, zero);
  }
  EXPECT_GT(n.counters().drop_martian_node, 0u);
  EXPECT_GT(n.counters().drop_port_zero, 0u);
}

TEST_F(NodeClientTest, NeverMoreThanFourPacketsPerSecondToOneIp) {
  cfg.sampler.enabled = true;
  cfg.sampler.discover_nodes = true;
  cfg.sampler.discover_every = 100ms;
  cfg.sampler.parallel_walks = 16;
  cfg.rate.out_packets_per_second = 100000;
  cfg.rate.out_burst = 1000;
  // A tiny network so the node keeps hitting the same few IPs.
  FakeNetwork small;
  for (std::uint32_t i = 0; i < 12; ++i) small.add(rng.id(), ep4(50000 + i));
  for (auto& fn : small.nodes) fn.interval = 0;  // may be sampled as often as we like
  net = std::move(small);
  auto& n = make();
  std::map<Endpoint, std::vector<TimePoint>> sends;
  const std::vector<Endpoint> routers{net.nodes[0].ep};
  n.bootstrap(routers, {}, now);
  for (int i = 0; i < 600; ++i) {
    now += 10ms;
    n.tick(now);
    for (const auto& s : cap.sent) sends[s.to].push_back(now);
    net.pump(n, cap, now);
  }
  std::size_t total = 0;
  for (const auto& [ep, times] : sends) {
    total += times.size();
    for (std::size_t i = 4; i < times.size(); ++i) EXPECT_GE(times[i] - times[i - 4], 1s) << ep.to_string();
  }
  EXPECT_GT(total, 100u);  // it was busy, and still polite
}

TEST_F(NodeClientTest, SamplerReportsSamplesAndHonoursIntervals) {
  cfg.sampler.enabled = true;
  cfg.sampler.parallel_walks = 4;
  std::set<InfoHash> all;
  for (auto& fn : net.nodes) {
    for (int i = 0; i < 3; ++i) {
      fn.samples.push_back(rng.id());
      all.insert(fn.samples.back());
    }
    fn.interval = 300;
  }
  net.nodes[5].bep51 = false;  // answers without samples
  auto& n = make();
  bootstrap();
  run(11min, 1s);
  std::set<InfoHash> found;
  for (const auto& s : rec.infohashes)
    if (s.src == InfohashSource::Sample) found.insert(s.ih);
  EXPECT_GT(found.size(), all.size() * 9 / 10);
  EXPECT_FALSE(rec.samples.empty());
  for (const auto& s : rec.samples) {
    EXPECT_EQ(s.count, 3u);
    EXPECT_EQ(s.num, 3);
    EXPECT_EQ(s.interval, 300s);
  }
  // No node got sample_infohashes twice within its 300 s interval.
  std::map<std::size_t, TimePoint> last;
  std::size_t sample_queries = 0;
  for (const auto& r : net.received) {
    if (r.method != krpc::Method::SampleInfohashes) continue;
    ++sample_queries;
    if (auto it = last.find(r.node); it != last.end()) EXPECT_GE(r.at - it->second, 300s) << r.node;
    last[r.node] = r.at;
  }
  EXPECT_GT(sample_queries, 500u);  // it came back after intervals passed
  // The node without BEP-51 was asked once, then left alone for the backoff.
  EXPECT_EQ(
      std::count_if(net.received.begin(), net.received.end(),
                    [](const auto& r) { return r.node == 5 && r.method == krpc::Method::SampleInfohashes; }),
      1);
  EXPECT_GE(n.counters().sampler_unsupported, 1u);
}

TEST_F(NodeClientTest, SamplerWalksOnlyTheConfiguredKeyspace) {
  cfg.sampler.enabled = true;
  const KeyPrefix p{*Id160::from_hex("3000000000000000000000000000000000000000"), 4};
  cfg.sampler.keyspace = {p};
  auto& n = make();
  bootstrap();
  net.received.clear();
  run(2min, 500ms);
  std::size_t sampled = 0;
  for (const auto& r : net.received) {
    if (r.method != krpc::Method::SampleInfohashes) continue;
    ++sampled;
    EXPECT_TRUE(p.contains(r.target));
    // The nodes a walk passes outside the prefix are not sampled (another crawler's share).
    EXPECT_TRUE(p.contains(net.nodes[r.node].id)) << net.nodes[r.node].id.hex();
  }
  EXPECT_GT(sampled, 10u);
  EXPECT_GT(n.counters().sampler_walks, 4u);
  EXPECT_GT(n.counters().sampler_outside_keyspace, 0u);
}

TEST_F(NodeClientTest, SetKeyspaceMovesNewWalksKeepsWalksUnderWayAndIntervals) {
  cfg.sampler.enabled = true;
  const KeyPrefix a{*Id160::from_hex("3000000000000000000000000000000000000000"), 4};
  const KeyPrefix b{*Id160::from_hex("c000000000000000000000000000000000000000"), 4};
  cfg.sampler.keyspace = {a};
  for (auto& fn : net.nodes) {
    fn.samples = {rng.id()};
    fn.interval = 120;
  }
  auto& n = make();
  bootstrap();
  run(1min, 500ms);
  // Switch while sample queries of walks in `a` are sent and not yet answered.
  std::size_t pending_in_a = 0;
  for (int i = 0; i < 600 && pending_in_a == 0; ++i) {
    net.pump(n, cap, now);
    now += 500ms;
    n.tick(now);
    for (const auto& s : cap.sent) {
      test::Decoded d(s.bytes);
      const auto* q = d.query();
      ASSERT_NE(q, nullptr);
      if (q->method() == krpc::Method::SampleInfohashes &&
          a.contains(std::get<krpc::SampleInfohashesArgs>(q->args).target))
        ++pending_in_a;
    }
  }
  ASSERT_GT(pending_in_a, 0u);  // the test needs walks under way
  const auto samples_before = rec.samples.size();
  const auto done_before = rec.done.size();
  n.set_keyspace({b});
  net.pump(n, cap, now);
  // Their answers were taken (samples reported) and the old walks finished, still toward `a`.
  EXPECT_GE(rec.samples.size() - samples_before, pending_in_a);
  run(20s, 500ms);
  EXPECT_TRUE(
      std::any_of(rec.done.begin() + static_cast<std::ptrdiff_t>(done_before), rec.done.end(),
                  [&](const auto& d) { return d.kind == LookupKind::SampleWalk && a.contains(d.target); }));
  // From now on every walk and every sample query is inside `b`.
  const auto received_from = net.received.size();
  const auto walks_from = rec.done.size();
  run(3min, 500ms);
  std::size_t sampled_b = 0;
  for (auto i = received_from; i < net.received.size(); ++i) {
    const auto& r = net.received[i];
    if (r.method != krpc::Method::SampleInfohashes) continue;
    EXPECT_TRUE(b.contains(r.target));
    ++sampled_b;
  }
  EXPECT_GT(sampled_b, 10u);
  std::size_t walks_b = 0;
  for (auto i = walks_from; i < rec.done.size(); ++i) {
    if (rec.done[i].kind != LookupKind::SampleWalk) continue;
    EXPECT_TRUE(b.contains(rec.done[i].target));
    ++walks_b;
  }
  EXPECT_GT(walks_b, 4u);
  // Empty: the whole keyspace again (targets in both halves).
  n.set_keyspace({});
  EXPECT_LE(n.next_wake(), now);  // an idle sampler looks at the new keyspace at once
  run(20s, 500ms);
  const auto whole_from = rec.done.size();
  run(3min, 500ms);
  std::set<bool> first_bits;
  for (auto i = whole_from; i < rec.done.size(); ++i)
    if (rec.done[i].kind == LookupKind::SampleWalk) first_bits.insert(rec.done[i].target.bit(0));
  EXPECT_EQ(first_bits.size(), 2u);
  // Across both switches no node was asked for samples again within its 120 s interval.
  std::map<std::size_t, TimePoint> last;
  for (const auto& r : net.received) {
    if (r.method != krpc::Method::SampleInfohashes) continue;
    if (auto it = last.find(r.node); it != last.end()) EXPECT_GE(r.at - it->second, 120s) << r.node;
    last[r.node] = r.at;
  }
}

TEST_F(NodeClientTest, SamplerCanBeSwitchedOffAndOn) {
  cfg.sampler.enabled = true;
  auto& n = make();
  bootstrap();
  run(30s);
  n.set_sampler_enabled(false);
  run(30s);  // walks under way finish
  net.received.clear();
  run(2min, 1s);
  for (const auto& r : net.received) EXPECT_NE(r.method, krpc::Method::SampleInfohashes);
  n.set_sampler_enabled(true);
  EXPECT_LE(n.next_wake(), now);
  run(30s);
  EXPECT_TRUE(std::any_of(net.received.begin(), net.received.end(),
                          [](const auto& r) { return r.method == krpc::Method::SampleInfohashes; }));
}

TEST_F(NodeClientTest, ReadOnlyNodeSendsRoFlag) {
  cfg.read_only = true;
  auto& n = make();
  bootstrap();
  ASSERT_FALSE(net.received.empty());
  for (const auto& r : net.received) EXPECT_TRUE(r.read_only);
  (void)n;
}

TEST_F(NodeClientTest, ExternalIpVoteYieldsABep42Id) {
  cfg.external_ip.secure_id = true;
  cfg.external_ip.votes_needed = 3;
  const Endpoint mine{IpAddress::v4(0x5D0A0B0C), 6881};  // 93.10.11.12
  for (auto& fn : net.nodes) fn.report_ip = mine;
  auto& n = make();
  const auto old_id = n.id();
  bootstrap();
  ASSERT_EQ(rec.external.size(), 1u);
  EXPECT_EQ(rec.external[0], mine.ip);
  EXPECT_NE(n.id(), old_id);
  EXPECT_TRUE(krpc::is_secure_id(n.id(), mine.ip));
  EXPECT_EQ(n.counters().node_id_changes, 1u);
  EXPECT_EQ(n.check_invariant(), "");
  EXPECT_GT(n.table(IpAddress::Family::V4)->size(), 8u);
}

TEST_F(NodeClientTest, Bep42EnforcementRefusesMismatchedIds) {
  cfg.routing.enforce_bep42 = true;
  auto& n = make();
  bootstrap();  // the fake nodes have random ids: none passes
  EXPECT_EQ(n.table(IpAddress::Family::V4)->size(), 0u);
  EXPECT_GT(n.counters().drop_bep42, 0u);
}

TEST_F(NodeClientTest, LookupsAreBounded) {
  cfg.client.max_lookups = 3;
  auto& n = make();
  bootstrap();
  int ok = 0;
  for (int i = 0; i < 10; ++i) ok += n.find_node(rng.id(), now) != kNoLookup ? 1 : 0;
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(n.counters().lookups_refused, 7u);
  EXPECT_EQ(n.find_node(rng.id(), now), kNoLookup);
}

TEST_F(NodeClientTest, TickReportsTheNextDeadline) {
  auto& n = make();
  const std::vector<Endpoint> routers{net.nodes[0].ep};
  net.nodes[0].alive = false;
  n.bootstrap(routers, {}, now);
  cap.sent.clear();
  EXPECT_EQ(n.next_wake(), now);  // maintenance is due at start
  const auto w = n.tick(now);
  EXPECT_GT(w, now);
  EXPECT_LE(w, now + cfg.client.query_timeout);
}

TEST_F(NodeClientTest, DualStackLookupUsesBothTables) {
  for (std::uint32_t i = 0; i < 200; ++i) net.add(rng.id(), ep6(i));
  auto& n = make();
  const std::vector<Endpoint> routers{net.nodes[0].ep, net.nodes[600].ep};
  n.bootstrap(routers, {}, now);
  run(10s);
  EXPECT_GE(n.table(IpAddress::Family::V4)->size(), 8u);
  EXPECT_GE(n.table(IpAddress::Family::V6)->size(), 8u);
  const auto target = rng.id();
  rec.done.clear();
  (void)n.find_node(target, now);
  run(10s);
  ASSERT_EQ(rec.done.size(), 1u);
  std::set<NodeId> got;
  for (const auto& c : rec.done[0].closest) got.insert(c.id);
  for (const auto& c : net.closest(target, 8, IpAddress::Family::V4)) EXPECT_EQ(got.count(c.id), 1u);
  for (const auto& c : net.closest(target, 8, IpAddress::Family::V6)) EXPECT_EQ(got.count(c.id), 1u);
}

}  // namespace
}  // namespace bitscrape::dht
