// dht::Node: a BitTorrent Mainline DHT node (BEP-5, 32, 33, 42, 43, 51) as a sans-I/O state
// machine.
//
// Feed it datagrams with on_datagram(bytes, from, now) and call tick(now) when the time it
// last returned has come; it sends datagrams through the DatagramSink it was given and
// reports what it learns to an Observer. It never reads a clock (time is passed in as
// dht::TimePoint, see dht/time.hpp), never opens a socket, never starts a thread; randomness
// comes from NodeConfig::seed. After on_datagram the adapter should re-arm its one timer to
// next_wake(), which can move earlier (a query just sent has a deadline).
//
//   server: answers ping, find_node, get_peers (values or nodes + token; BEP-33 scrape
//           filters), announce_peer (token, implied_port, peer store), sample_infohashes
//           (BEP-51); unknown methods get 204, malformed queries 203 with their tid.
//   client: find_node / get_peers lookups (α parallel, k closest, per address family),
//           optional announce, bootstrap from endpoints and persisted nodes, table upkeep
//           (bucket refresh, pings of questionable nodes), BEP-42 external-IP voting.
//   crawler: the BEP-51 sampler (keyspace walks honouring every node's interval) and,
//           optionally, find_node on random targets to discover nodes.
//
// Politeness and bounds: every query we send passes the per-destination pacer (at most
// RateConfig::per_destination_packets per window to one IP) and the global budget, and waits
// when either says no. Replies to valid queries never wait and are never dropped for them
// (they spend the budget's tokens, so our queries yield); abuse is cut on the inbound side:
// a source over its per-IP rate and burst is ignored for RateConfig::in_block_duration
// (libtorrent's dos_blocker), its packets dropped before decoding. Learned martian addresses are dropped
// unless allow_private_addresses. Every map is bounded by a NodeConfig field; every drop has a counter
// (dht/counters.hpp).
//
// Deviations from BEP-5 / Kademlia (details in docs/dht.md): nodes that query us enter the
// table unconfirmed and are served to others only once they answered a ping; a get_peers reply carries
// `nodes` even when it carries `values`; `values` only holds peers of the requester's address family;
// read-only nodes (NodeConfig::read_only) answer no queries.
//
// Threading: single-threaded. One event-loop thread owns the Node and calls every method;
// the sink and observer are called synchronously from inside those calls.
#pragma once

#include "common/endpoint.hpp"
#include "common/id160.hpp"
#include "dht/config.hpp"
#include "dht/counters.hpp"
#include "dht/time.hpp"
#include "krpc/compact.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bitscrape::dht {

class RoutingTable;
class PeerStore;

// Where outgoing datagrams go. The adapter writes them to its UDP socket (or batches them);
// the simulator queues them. `datagram` is only valid during the call.
class DatagramSink {
 public:
  virtual ~DatagramSink() = default;
  virtual void send(std::string_view datagram, const Endpoint& to) = 0;
};

enum class NodeSource : std::uint8_t { Query, Response };
enum class InfohashSource : std::uint8_t { GetPeersQuery, AnnouncePeerQuery, Sample };
enum class LookupKind : std::uint8_t { FindNode, GetPeers, Bootstrap, Refresh, Discover, SampleWalk };

using LookupId = std::uint32_t;
inline constexpr LookupId kNoLookup = 0;

struct SampleEvent {
  Endpoint from;
  NodeId id;
  krpc::SampleList samples;  // views the datagram: valid during the callback only
  std::int64_t num = 0;      // the node's store size as it reported it (-1 when absent)
  Duration interval{};       // how long it asked us to wait (clamped, default when absent)
};

struct LookupResult {
  LookupId id = kNoLookup;
  LookupKind kind = LookupKind::FindNode;
  Id160 target;
  std::span<const krpc::CompactNode> closest;  // the k closest that answered, per family, closest first
  std::size_t peers = 0;                       // distinct peers found (get_peers)
  std::size_t queried = 0;                     // queries answered or failed
  bool announced = false;                      // announce_peer was sent to the closest
};

// What the node learns. Every method has a no-op default; callbacks must not call back into
// the Node.
class Observer {
 public:
  virtual ~Observer() = default;
  virtual void on_node_seen(const NodeId& /*id*/, const Endpoint& /*ep*/, NodeSource /*src*/) {}
  // `from` is the querying node; for AnnouncePeerQuery it is the announced peer (the sender's
  // IP with the announced or implied port), which can be asked for the metadata directly.
  virtual void on_infohash_seen(const InfoHash& /*ih*/, InfohashSource /*src*/, const Endpoint& /*from*/) {}
  // New distinct peers of a get_peers lookup (each peer is reported once per lookup).
  virtual void on_peers_found(LookupId /*id*/, const InfoHash& /*ih*/, std::span<const Endpoint> /*peers*/) {}
  virtual void on_sample(const SampleEvent& /*ev*/) {}
  virtual void on_lookup_done(const LookupResult& /*r*/) {}
  virtual void on_external_ip(const IpAddress& /*ip*/) {}
  // The KRPC `v` (client version, up to krpc::kMaxVersionSize raw bytes) a node put in a query or
  // in a response we matched, each time it does. Not reported when absent.
  virtual void on_client_version(const NodeId& /*id*/, const Endpoint& /*ep*/, std::string_view /*version*/) {
  }
};

struct AnnounceParams {
  std::uint16_t port = 0;
  bool implied_port = false;
  bool seed = false;
};

class Node {
 public:
  // `sink` must outlive the Node; `observer` may be null.
  Node(const NodeConfig& cfg, DatagramSink& sink, Observer* observer, TimePoint now);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  void on_datagram(std::string_view datagram, const Endpoint& from, TimePoint now);
  // Does everything due by `now`; returns when it next needs to run.
  TimePoint tick(TimePoint now);
  // When tick() next needs to run (cheap; call after on_datagram).
  TimePoint next_wake() const;

  // Starts the bootstrap lookup (find_node on our own id) from `routers` (resolved by the
  // adapter; their ids are unknown) and `known` (e.g. persisted) nodes. User-given routers
  // are queried even if their address is martian.
  LookupId bootstrap(std::span<const Endpoint> routers, std::span<const krpc::CompactNode> known,
                     TimePoint now);
  // Iterative lookups; kNoLookup when refused (max_lookups reached or no node known).
  LookupId find_node(const Id160& target, TimePoint now);
  // get_peers: with `ask_first` (nodes known to store the key, e.g. the one whose BEP-51 sample
  // showed it; at most alpha are used), only those are asked at first; the lookup ends there
  // when they return peers, and goes on as a full iterative lookup when they do not.
  LookupId get_peers(const InfoHash& ih, TimePoint now, std::optional<AnnounceParams> announce = std::nullopt,
                     std::span<const krpc::CompactNode> ask_first = {});

  // Runtime knobs (the crawler's controls). The budget is RateConfig::out_packets_per_second;
  // without `burst` the configured burst/rate ratio is kept (at least 1 packet).
  void set_packet_budget(double packets_per_second, std::optional<double> burst = std::nullopt);
  // Starts or stops new BEP-51 walks (walks under way finish).
  void set_sampler_enabled(bool on);
  // Replaces the keyspace the BEP-51 sampler walks (empty = the whole keyspace; lengths clamped
  // to 0..64), e.g. to rebalance a crawl's share when other instances join or leave. Walks and
  // sample queries under way finish toward their old targets; every walk started afterwards
  // targets the new prefixes, from the start of their walk order. The per-node interval memory
  // is kept, so no node is asked again before its `interval`. Setting the keyspace already in
  // use changes nothing (the walk keeps its place).
  void set_keyspace(std::vector<KeyPrefix> prefixes);

  const NodeId& id() const noexcept;
  bool bootstrapped() const noexcept;  // the bootstrap lookup has finished
  std::size_t active_lookups() const noexcept;

  Counters counters() const;                                      // a snapshot with gauges filled in
  const RoutingTable* table(IpAddress::Family f) const noexcept;  // nullptr when disabled
  PeerStore& store() noexcept;
  const PeerStore& store() const noexcept;
  // Good nodes of both tables, to persist for the next start.
  std::vector<krpc::CompactNode> export_nodes(TimePoint now) const;
  // Empty when the node's structures are consistent (tables, bounds); a description otherwise.
  std::string check_invariant() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bitscrape::dht
