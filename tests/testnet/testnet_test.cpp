// Small in-process testnets on real loopback sockets (127.0.31-35.x): started, then queried the
// way a crawler would — a client dht::Node's get_peers finds each torrent's seeder, and
// net::MetadataPool fetches metadata over TCP that matches the manifest. Misbehaving peers and
// nodes do exactly what they are configured to do; the DHT-announce path stores through
// announce_peer; configuration errors are refused with a reason.
#include "testnet/testnet.hpp"

#include "common/hex.hpp"
#include "dht/peer_store.hpp"
#include "krpc/codec.hpp"
#include "metainfo/info_dict.hpp"
#include "net/address.hpp"
#include "net/metadata_pool.hpp"
#include "testnet/manifest.hpp"
#include "testnet/node_host.hpp"

#include <gtest/gtest.h>
#include <asio/ip/udp.hpp>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

namespace bitscrape::testnet {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

bool run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    io.run_for(20ms);
    if (io.stopped()) io.restart();
  }
  return true;
}

void run_for(asio::io_context& io, std::chrono::milliseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  run_until(
      io, [&] { return std::chrono::steady_clock::now() >= end; },
      std::chrono::duration_cast<std::chrono::seconds>(d) + 5s);
}

fs::path temp_path(const std::string& name) {
  return fs::temp_directory_path() / ("bitscrape-testnet-test-" + std::to_string(::getpid()) + "-" + name);
}

// A DHT client outside the testnet's range, on its own socket, like a crawler's node.
struct Client : dht::Observer {
  asio::io_context& io;
  NodeHost host;
  std::map<dht::LookupId, std::set<Endpoint>> peers;
  std::set<dht::LookupId> done;

  Client(asio::io_context& io_, const Endpoint& at, const Endpoint& bootstrap) : io(io_), host(io_) {
    dht::NodeConfig c;
    c.allow_private_addresses = true;
    c.ipv6 = false;
    c.seed = 77;
    c.client.max_lookups = 64;
    auto r = host.add(c, at, std::nullopt, this);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
    const Endpoint routers[] = {bootstrap};
    (void)host.node(0).bootstrap(routers, {}, dht::Clock::now());
    host.poke(0);
  }
  dht::Node& node() { return host.node(0); }
  void on_peers_found(dht::LookupId id, const InfoHash&, std::span<const Endpoint> p) override {
    peers[id].insert(p.begin(), p.end());
  }
  void on_lookup_done(const dht::LookupResult& r) override { done.insert(r.id); }

  // get_peers for every key (at most `parallel` at once); the peers found per key.
  std::map<InfoHash, std::set<Endpoint>> lookup_all(const std::vector<InfoHash>& keys,
                                                    std::size_t parallel = 32) {
    std::map<InfoHash, std::set<Endpoint>> out;
    std::map<dht::LookupId, InfoHash> running;
    std::size_t next = 0;
    run_until(
        io,
        [&] {
          for (auto it = running.begin(); it != running.end();) {
            if (done.count(it->first) != 0) {
              out[it->second] = peers[it->first];
              it = running.erase(it);
            } else {
              ++it;
            }
          }
          while (next < keys.size() && running.size() < parallel) {
            const auto id = node().get_peers(keys[next], dht::Clock::now());
            if (id == dht::kNoLookup) break;
            host.poke(0);
            running.emplace(id, keys[next++]);
          }
          return next == keys.size() && running.empty();
        },
        120s);
    return out;
  }
};

// Fetches (key, peer) pairs over TCP with net::MetadataPool; results in order.
std::vector<peerwire::FetchResult> fetch_all(asio::io_context& io,
                                             const std::vector<std::pair<InfoHash, Endpoint>>& jobs,
                                             std::chrono::seconds timeout = 30s) {
  std::vector<std::optional<peerwire::FetchResult>> results(jobs.size());
  std::map<std::pair<InfoHash, Endpoint>, std::size_t> index;
  net::MetadataPoolConfig cfg;
  cfg.max_per_ip = 64;
  cfg.fetcher.total_timeout = timeout;
  cfg.fetcher.piece_timeout = timeout;
  std::size_t finished = 0;
  net::MetadataPool pool(
      io, cfg,
      [&](const InfoHash& ih, const Endpoint& peer, peerwire::FetchResult r) {
        results[index.at({ih, peer})] = std::move(r);
        ++finished;
      },
      99);
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    index[jobs[i]] = i;
    EXPECT_TRUE(pool.start(jobs[i].first, jobs[i].second));
  }
  EXPECT_TRUE(run_until(
      io, [&] { return finished == jobs.size(); }, timeout + 30s));
  std::vector<peerwire::FetchResult> out;
  for (auto& r : results) out.push_back(r ? std::move(*r) : peerwire::FetchResult(peerwire::FetchFailure{}));
  return out;
}

void expect_matches(const metainfo::TorrentInfo& got, const ManifestTorrent& want) {
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.total_size, want.total_bytes);
  EXPECT_EQ(got.piece_length, want.piece_length);
  EXPECT_EQ(got.file_count, want.file_count);
  ASSERT_EQ(got.files.size(), want.files.size());
  for (std::size_t i = 0; i < got.files.size(); ++i) {
    EXPECT_EQ(got.files[i].path, want.files[i].path);
    EXPECT_EQ(got.files[i].length, want.files[i].length);
  }
  EXPECT_EQ(got.v1 ? std::optional(got.v1->hex()) : std::nullopt, want.infohash_v1);
  EXPECT_EQ(
      got.v2 ? std::optional(to_hex({reinterpret_cast<const char*>(got.v2->data()), 32})) : std::nullopt,
      want.infohash_v2);
}

std::optional<ReadyInfo> start_and_wait(asio::io_context& io, Testnet& net) {
  std::optional<ReadyInfo> ready;
  auto r = net.start([&](const ReadyInfo& info) { ready = info; });
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
  if (!r) return std::nullopt;
  EXPECT_TRUE(run_until(
      io, [&] { return ready.has_value(); }, 120s));
  return ready;
}

TEST(Testnet, SmallTestnetIsFoundAndServedLikeTheManifestSays) {
  asio::io_context io;
  TestnetConfig cfg;
  cfg.nodes = 50;
  cfg.torrents = 100;
  cfg.net = "127.0.31";
  cfg.port = 16881;
  cfg.seed = 4;
  cfg.manifest = temp_path("small.json");
  Testnet net(io, cfg);
  const auto ready = start_and_wait(io, net);
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->bootstrapped, 50u);
  EXPECT_EQ(ready->torrents, 100u);
  EXPECT_EQ(ready->bootstrap.to_string(), "127.0.31.1:16881");
  EXPECT_TRUE(net.ready());

  // The manifest is complete and agrees with the testnet.
  auto m = read_manifest(cfg.manifest);
  ASSERT_TRUE(m.ok()) << m.error();
  fs::remove(cfg.manifest);
  EXPECT_EQ(m->bootstrap, "127.0.31.1:16881");
  ASSERT_EQ(m->nodes.size(), 50u);
  EXPECT_EQ(m->nodes[49], "127.0.31.50:16881");
  ASSERT_EQ(m->torrents.size(), 100u);
  std::size_t keys = 0;
  std::set<std::string> kinds;
  for (std::size_t t = 0; t < 100; ++t) {
    EXPECT_EQ(m->torrents[t].name, net.torrent(t).name);
    EXPECT_EQ(m->torrents[t].seeder, net.seeder_of(t).to_string());
    keys += m->torrents[t].dht_keys.size();
    kinds.insert(m->torrents[t].kind);
  }
  EXPECT_EQ(kinds.size(), 6u);
  EXPECT_EQ(ready->keys, keys);

  // Direct announce: each key sits in exactly the k = 8 nodes closest to it (checked by brute
  // force), with the seeder as its peer.
  std::vector<std::pair<NodeId, std::size_t>> ids;
  for (std::size_t i = 0; i < net.node_count(); ++i) ids.emplace_back(net.node(i).id(), i);
  for (std::size_t t = 0; t < 100; ++t) {
    for (const auto& key : net.torrent_keys(t)) {
      auto sorted = ids;
      std::sort(sorted.begin(), sorted.end(),
                [&](const auto& a, const auto& b) { return closer_to(key, a.first, b.first); });
      const auto closest = net.closest_nodes(key, 8);
      ASSERT_EQ(closest.size(), 8u);
      std::size_t holders = 0;
      for (std::size_t i = 0; i < net.node_count(); ++i) holders += net.node(i).store().contains(key) ? 1 : 0;
      EXPECT_EQ(holders, 8u);
      for (std::size_t j = 0; j < 8; ++j) {
        EXPECT_EQ(closest[j], sorted[j].second);
        EXPECT_TRUE(net.node(closest[j]).store().contains(key));
        EXPECT_EQ(net.node(closest[j]).store().peers_of(key), 1u);
      }
    }
  }

  // A client node finds every torrent's seeder through get_peers.
  Client client(io, *Endpoint::parse("127.0.31.250:16881"), net.bootstrap());
  ASSERT_TRUE(run_until(
      io, [&] { return client.node().bootstrapped(); }, 30s));
  std::vector<InfoHash> all_keys;
  for (std::size_t t = 0; t < 100; ++t)
    for (const auto& k : net.torrent_keys(t)) all_keys.push_back(k);
  const auto found = client.lookup_all(all_keys);
  ASSERT_EQ(found.size(), all_keys.size());
  for (std::size_t t = 0; t < 100; ++t) {
    for (const auto& k : net.torrent_keys(t)) {
      EXPECT_EQ(found.at(k), std::set<Endpoint>{net.seeder_of(t)}) << "torrent " << t << " key " << k.hex();
    }
  }

  // Every torrent fetched over TCP from its seeder (by its last key: v2 for hybrids) matches.
  std::vector<std::pair<InfoHash, Endpoint>> jobs;
  for (std::size_t t = 0; t < 100; ++t) jobs.emplace_back(net.torrent_keys(t).back(), net.seeder_of(t));
  const auto results = fetch_all(io, jobs);
  for (std::size_t t = 0; t < 100; ++t) {
    const auto* ok = std::get_if<peerwire::FetchSuccess>(&results[t]);
    ASSERT_NE(ok, nullptr) << "torrent " << t << ": " << std::get<peerwire::FetchFailure>(results[t]).detail;
    const auto info = metainfo::parse_verified(ok->info, jobs[t].first);
    ASSERT_TRUE(info.ok());
    expect_matches(*info, m->torrents[t]);
  }
  // A seeder only serves its own torrents.
  const auto wrong = fetch_all(io, {{net.torrent_keys(0).front(), net.seeder_of(1)}}, 10s);
  EXPECT_TRUE(std::holds_alternative<peerwire::FetchFailure>(wrong[0]));

  const auto s = net.stats();
  EXPECT_GE(s.tcp.served, 100u);
  EXPECT_GE(s.tcp.unknown_infohash, 1u);
  EXPECT_EQ(s.stored_keys, keys * 8);
  EXPECT_GT(s.table_nodes_min, 8u);
  EXPECT_GT(s.node_totals.queries_in_get_peers, 0u);
  EXPECT_EQ(s.udp.send_errors, 0u);
  // The client's traffic is told apart from the testnet's own.
  EXPECT_GT(s.udp.external_in, all_keys.size());
  EXPECT_GT(s.udp.external_out, all_keys.size());
  EXPECT_LT(s.udp.external_in, s.udp.datagrams_in);
}

TEST(Testnet, MisbehavingPeersAndNodesDoWhatTheyAreTold) {
  asio::io_context io;
  TestnetConfig cfg;
  cfg.nodes = 40;
  cfg.torrents = 30;
  cfg.net = "127.0.32";
  cfg.port = 16882;
  cfg.seed = 8;
  cfg.seeders = 4;
  cfg.liars = 1.0;
  cfg.slow = 1.0;
  cfg.martians = 0.1;  // 4 nodes
  cfg.flood = true;
  cfg.flood_rate = 2000;
  Testnet net(io, cfg);
  ASSERT_TRUE(start_and_wait(io, net));
  const auto flood_start = net.stats().flood_queries;
  const auto t_flood = std::chrono::steady_clock::now();

  // Roles: every torrent has a liar and a slow peer besides its honest seeder, all distinct.
  for (std::size_t t = 0; t < 30; ++t) {
    ASSERT_TRUE(net.liar_of(t) && net.slow_peer_of(t));
    EXPECT_NE(*net.liar_of(t), net.seeder_of(t));
    EXPECT_NE(*net.slow_peer_of(t), net.seeder_of(t));
  }
  ASSERT_EQ(net.martian_nodes().size(), 4u);
  ASSERT_TRUE(net.flooder());

  // Liars serve metadata that fails the hash check (and are flagged as liars); the honest seeder
  // of the same torrent serves the real thing; the slow peer drips it but it is right.
  std::size_t slow_t = 30;
  for (std::size_t t = 0; t < 30; ++t) {
    const auto size = net.torrent(t).info.size();
    if (size > 5000 && size < 12000) {
      slow_t = t;
      break;
    }
  }
  ASSERT_LT(slow_t, 30u) << "no torrent with a 5-12 KB dict";
  const auto key = net.torrent_keys(slow_t).front();
  const auto liar = fetch_all(io, {{key, *net.liar_of(slow_t)}});
  const auto* lie = std::get_if<peerwire::FetchFailure>(&liar[0]);
  ASSERT_NE(lie, nullptr);
  EXPECT_EQ(lie->reason, peerwire::FailReason::HashMismatch);
  EXPECT_TRUE(lie->liar);
  auto t0 = std::chrono::steady_clock::now();
  const auto honest = fetch_all(io, {{key, net.seeder_of(slow_t)}});
  const auto honest_time = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(std::holds_alternative<peerwire::FetchSuccess>(honest[0]));
  t0 = std::chrono::steady_clock::now();
  const auto slow = fetch_all(io, {{key, *net.slow_peer_of(slow_t)}});
  const auto slow_time = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(std::holds_alternative<peerwire::FetchSuccess>(slow[0]));
  EXPECT_EQ(std::get<peerwire::FetchSuccess>(slow[0]).info, net.torrent(slow_t).info);
  EXPECT_LT(honest_time, 1s);
  EXPECT_GE(slow_time, 2s) << "2 KiB/s drip of a >5 KB dict";

  // Every peer of a liar torrent is announced: get_peers returns all three.
  Client client(io, *Endpoint::parse("127.0.32.250:16882"), net.bootstrap());
  ASSERT_TRUE(run_until(
      io, [&] { return client.node().bootstrapped(); }, 30s));
  const auto found = client.lookup_all({key});
  EXPECT_EQ(found.at(key),
            (std::set<Endpoint>{net.seeder_of(slow_t), *net.liar_of(slow_t), *net.slow_peer_of(slow_t)}));

  // Martian nodes answer find_node with addresses nobody should contact; honest ones with
  // testnet addresses. Asked with a raw socket, so nothing filters the reply.
  asio::ip::udp::socket raw(io);
  raw.open(asio::ip::udp::v4());
  raw.bind(net::to_asio(*Endpoint::parse("127.0.32.251:16882")));
  // The reply to our find_node (the node may also ping us: it met a new node).
  const auto ask = [&](std::size_t node) {
    krpc::Query q;
    q.tid = "aa";
    q.id = NodeId::from_hex("0102030405060708090a0b0c0d0e0f1011121314").value();
    q.args = krpc::FindNodeArgs{NodeId::from_hex("ffffffffffffffffffffffffffffffffffffffff").value(), {}};
    std::string out;
    EXPECT_TRUE(krpc::encode(q, out).ok());
    raw.send_to(asio::buffer(out), net::to_asio(net.node_endpoint(node)));
    std::vector<char> buf(2048);
    std::string reply;
    raw.non_blocking(true);
    run_until(
        io,
        [&] {
          asio::ip::udp::endpoint from;
          std::error_code ec;
          const auto n = raw.receive_from(asio::buffer(buf), from, 0, ec);
          if (ec || net::from_asio(from) != net.node_endpoint(node)) return false;
          bencode::Document doc;
          auto parsed = krpc::parse(std::string_view(buf.data(), n), doc);
          if (!parsed || !std::holds_alternative<krpc::Response>(parsed->message)) return false;
          reply.assign(buf.data(), n);
          return true;
        },
        10s);
    return reply;
  };
  const auto check = [&](std::size_t node, bool martian) {
    const auto reply = ask(node);
    bencode::Document doc;
    auto parsed = krpc::parse(reply, doc);
    ASSERT_TRUE(parsed.ok()) << "node " << node;
    const auto& r = std::get<krpc::Response>(parsed->message);
    ASSERT_TRUE(r.nodes && !r.nodes->empty());
    for (const auto n : *r.nodes) {
      const auto b = n.endpoint.ip.raw();
      const bool lie_addr = b[0] == 0 || n.endpoint.port == 0 || (b[0] == 127 && b[1] == 255);
      const bool testnet_addr = b[0] == 127 && b[1] == 0 && b[2] == 32 && n.endpoint.port == 16882;
      EXPECT_EQ(lie_addr, martian) << n.endpoint.to_string();
      EXPECT_EQ(testnet_addr, !martian) << n.endpoint.to_string();
    }
  };
  for (const auto m : net.martian_nodes()) check(m, true);
  check(1, false);
  EXPECT_GT(net.stats().martian_replies, 0u);

  // The flooder: bounded by its rate, and over the receivers' per-IP limit.
  run_for(io, 1500ms);
  const auto s = net.stats();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_flood).count();
  const auto sent = static_cast<double>(s.flood_queries - flood_start);
  EXPECT_GT(sent, cfg.flood_rate * 1.0);
  EXPECT_LE(sent, cfg.flood_rate * (secs + 0.2));
  EXPECT_GT(s.node_totals.drop_inbound_rate, 0u);
  EXPECT_GE(s.tcp.served, 3u);  // the liar, the honest seeder and the slow peer each served a connection
}

TEST(Testnet, DhtAnnounceStoresThroughAnnouncePeer) {
  asio::io_context io;
  TestnetConfig cfg;
  cfg.nodes = 30;
  cfg.torrents = 20;
  cfg.net = "127.0.33";
  cfg.port = 16883;
  cfg.seed = 2;
  cfg.announce = AnnounceMethod::Dht;
  Testnet net(io, cfg);
  const auto ready = start_and_wait(io, net);
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->announce_failures, 0u);
  const auto s = net.stats();
  EXPECT_GE(s.node_totals.announces_stored, ready->keys) << "every key stored by announce_peer";
  EXPECT_EQ(s.node_totals.announce_bad_token, 0u);
  EXPECT_GE(s.node_totals.queries_in_announce_peer, ready->keys);

  Client client(io, *Endpoint::parse("127.0.33.250:16883"), net.bootstrap());
  ASSERT_TRUE(run_until(
      io, [&] { return client.node().bootstrapped(); }, 30s));
  std::vector<InfoHash> keys;
  for (std::size_t t = 0; t < 20; ++t)
    for (const auto& k : net.torrent_keys(t)) keys.push_back(k);
  const auto found = client.lookup_all(keys);
  for (std::size_t t = 0; t < 20; ++t) {
    for (const auto& k : net.torrent_keys(t))
      EXPECT_EQ(found.at(k), std::set<Endpoint>{net.seeder_of(t)}) << t;
  }
}

TEST(Testnet, Ipv6NodesAndSeedersOnLoopback) {
  asio::io_context io;
  {
    // Skip where ::1 is missing.
    asio::ip::udp::socket probe(io);
    std::error_code ec;
    probe.open(asio::ip::udp::v6(), ec);
    if (!ec) probe.bind(net::to_asio(*Endpoint::parse("[::1]:0")), ec);
    if (ec) GTEST_SKIP() << "no IPv6 loopback";
  }
  TestnetConfig cfg;
  cfg.nodes = 20;
  cfg.torrents = 10;
  cfg.net = "127.0.36";
  cfg.port = 17881;
  cfg.ipv6 = true;
  Testnet net(io, cfg);
  ASSERT_TRUE(start_and_wait(io, net));
  run_for(io, 2000ms);  // verification pings confirm the IPv6 neighbours learned from nodes6
  EXPECT_GT(net.stats().table6_nodes_avg, 4.0);

  // A dual-stack client finds both of a torrent's seeder addresses: 127.0.36.x and [::1]:port+1+i.
  NodeHost host(io);
  struct Obs : dht::Observer {
    std::map<dht::LookupId, std::set<Endpoint>> peers;
    std::set<dht::LookupId> done;
    void on_peers_found(dht::LookupId id, const InfoHash&, std::span<const Endpoint> p) override {
      peers[id].insert(p.begin(), p.end());
    }
    void on_lookup_done(const dht::LookupResult& r) override { done.insert(r.id); }
  } obs;
  dht::NodeConfig c;
  c.allow_private_addresses = true;
  c.routing.one_node_per_ip = false;  // every IPv6 node is ::1
  c.rate.per_destination_window = 50ms;
  ASSERT_TRUE(host.add(c, *Endpoint::parse("127.0.36.250:17881"), Endpoint::parse("[::1]:0"), &obs).ok());
  std::array<std::uint8_t, 16> loopback6{};
  loopback6[15] = 1;
  const Endpoint routers[] = {net.bootstrap(),
                              Endpoint{IpAddress::v6(loopback6), static_cast<std::uint16_t>(cfg.port + 1)}};
  (void)host.node(0).bootstrap(routers, {}, dht::Clock::now());
  host.poke(0);
  ASSERT_TRUE(run_until(
      io, [&] { return host.node(0).bootstrapped(); }, 30s));
  run_for(io, 2000ms);
  const auto key = net.torrent_keys(0).front();
  const auto id = host.node(0).get_peers(key, dht::Clock::now());
  ASSERT_NE(id, dht::kNoLookup);
  host.poke(0);
  ASSERT_TRUE(run_until(
      io, [&] { return obs.done.count(id) != 0; }, 30s));
  const auto seeder = net.seeder_of(0);
  // Seeder i sits on node i's addresses: the same index gives the IPv6 port.
  const auto node_index = static_cast<std::uint16_t>(seeder.ip.raw()[3] - 1);
  const Endpoint seeder6{IpAddress::v6(loopback6), static_cast<std::uint16_t>(cfg.port + 1 + node_index)};
  EXPECT_EQ(obs.peers[id], (std::set<Endpoint>{seeder, seeder6}));
  const auto fetched = fetch_all(io, {{key, seeder6}});
  EXPECT_TRUE(std::holds_alternative<peerwire::FetchSuccess>(fetched[0]));
}

TEST(Testnet, PortInUseFailsToStartWithTheAddress) {
  asio::io_context io;
  TestnetConfig cfg;
  cfg.nodes = 3;
  cfg.torrents = 2;
  cfg.net = "127.0.34";
  cfg.port = 16884;
  Testnet a(io, cfg);
  ASSERT_TRUE(a.start({}).ok());
  Testnet b(io, cfg);
  const auto r = b.start({});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("127.0.34."), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("16884"), std::string::npos) << r.error();
}

TEST(Testnet, AddressesAndConfigChecks) {
  EXPECT_EQ(node_address("127.0.20", 0)->to_string(), "127.0.20.1");
  EXPECT_EQ(node_address("127.0.20", 253)->to_string(), "127.0.20.254");
  EXPECT_EQ(node_address("127.0.20", 254)->to_string(), "127.0.21.1");
  EXPECT_EQ(node_address("127.0.255", 254)->to_string(), "127.1.0.1");
  EXPECT_EQ(node_address("127.0.20", 4999)->to_string(), "127.0.39.174");
  EXPECT_FALSE(node_address("127.255.255", 300));
  EXPECT_FALSE(node_address("10.0.0", 0));
  EXPECT_FALSE(node_address("127.0", 0));
  EXPECT_FALSE(node_address("127.0.300", 0));

  TestnetConfig ok;
  EXPECT_TRUE(validate(ok).ok());
  const auto bad = [&](auto edit, std::string_view says) {
    TestnetConfig c;
    edit(c);
    const auto r = validate(c);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find(says), std::string::npos) << r.error();
  };
  bad([](TestnetConfig& c) { c.net = "10.0.0"; }, "127.0.0.0/8");
  bad([](TestnetConfig& c) { c.net = "127.0.0"; }, "left to the crawler");
  bad([](TestnetConfig& c) { c.net = "127.0"; }, "three octets");
  bad([](TestnetConfig& c) { c.nodes = 1; }, "--nodes");
  bad(
      [](TestnetConfig& c) {
        c.net = "127.255.250";
        c.nodes = 5000;
      },
      "leave 127.0.0.0/8");
  bad([](TestnetConfig& c) { c.liars = 1.5; }, "--liars");
  bad([](TestnetConfig& c) { c.port = 0; }, "--port");
  bad(
      [](TestnetConfig& c) {
        c.ipv6 = true;
        c.port = 65000;
        c.nodes = 1000;
      },
      "65535");
  bad([](TestnetConfig& c) { c.sample_interval = std::chrono::seconds(30000); }, "BEP-51");
  bad([](TestnetConfig& c) { c.flood_rate = 1e6; }, "--flood-rate");

  // Roles that need more nodes than there are fail at start(), saying so.
  asio::io_context io;
  TestnetConfig c;
  c.nodes = 5;
  c.torrents = 1;
  c.seeders = 10;
  c.net = "127.0.35";
  Testnet net(io, c);
  const auto r = net.start({});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("not enough nodes"), std::string::npos) << r.error();
}

TEST(Testnet, FileDescriptorLimitIsCheckedWithAClearError) {
  const auto now = ensure_fd_limit(64, 16);
  ASSERT_TRUE(now.ok());
  EXPECT_GE(*now, 64u);
  const auto too_many = ensure_fd_limit(std::size_t{1} << 40, std::size_t{1} << 40);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.error().find("RLIMIT_NOFILE"), std::string::npos);
  EXPECT_NE(too_many.error().find("--nodes"), std::string::npos);
}

}  // namespace
}  // namespace bitscrape::testnet
