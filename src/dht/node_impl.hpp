// dht::Node::Impl: the state of one node and the functions that work on it, shared by the files
// that implement it. Private to src/dht/ (nothing outside includes it); the public contract is
// node.hpp.
//
//   node.cpp          wiring: construction, the inbound path (limits, decode, dispatch), tick /
//                     next_wake, routing-table upkeep (nodes seen, verification and maintenance
//                     pings), BEP-42 external-IP voting, the public Node methods
//   node_server.cpp   answering queries: ping, find_node, get_peers (tokens, values, BEP-33),
//                     announce_peer, sample_infohashes, errors; replies never wait
//   node_client.cpp   our queries: transactions (send, match, errors, timeouts and retries)
//                     and lookups (start, step, finish, ask-the-holder-first, bootstrap)
//   node_sampler.cpp  the BEP-51 sampler: starting keyspace walks, which nodes a walk may ask
//                     for samples, their replies and intervals, the idle backoff
//
// Threading: as Node (single-threaded).
#pragma once

#include "bencode/decoder.hpp"
#include "dht/external_ip.hpp"
#include "dht/node.hpp"
#include "dht/peer_store.hpp"
#include "dht/random.hpp"
#include "dht/rate_limit.hpp"
#include "dht/routing_table.hpp"
#include "dht/sampler.hpp"
#include "dht/search.hpp"
#include "dht/token.hpp"
#include "dht/transaction_table.hpp"
#include "krpc/codec.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace bitscrape::dht {

namespace detail {

// Index of an address family in per-family arrays: [0] IPv4, [1] IPv6.
inline std::size_t slot_of(const IpAddress& ip) noexcept {
  return ip.is_v4() ? 0 : 1;
}

struct Lookup {
  LookupId id = kNoLookup;
  LookupKind kind = LookupKind::FindNode;
  Id160 target;
  std::array<std::optional<Search>, 2> search;  // [0] IPv4, [1] IPv6
  std::optional<AnnounceParams> announce;
  std::unordered_set<Endpoint, EndpointHash> peers;
  std::size_t bootstrap_in_flight = 0;
  std::size_t samples_asked = 0;  // SampleWalk: sample_infohashes sent
  // GetPeers asked of the nodes known to store the key first (get_peers' ask_first): while
  // `ask_first` holds endpoints not yet answered, only they are queried; when they have all
  // answered or failed, the lookup ends if they gave peers and goes on as a full iterative
  // lookup (from the routing table and the nodes they returned) if not.
  std::vector<Endpoint> ask_first;
  bool direct = false;
};

}  // namespace detail

struct Node::Impl {
  using Lookup = detail::Lookup;

  Impl(const NodeConfig& c, DatagramSink& s, Observer* o, TimePoint now);

  // ---- node.cpp: entry points, table upkeep, identity
  void on_datagram(std::string_view datagram, const Endpoint& from, TimePoint now);
  TimePoint tick(TimePoint now);
  TimePoint next_wake() const;
  void note_node(const NodeId& id, const Endpoint& ep, TimePoint now, bool responded, bool read_only);
  void want_verification(const NodeId& nid, const Endpoint& ep, TimePoint now);
  void verify(TimePoint now);
  void ping_done(TimePoint now);
  void maintenance(TimePoint now);
  void vote_ip(const Endpoint& voter, const Endpoint& reported, TimePoint now);

  // ---- node_server.cpp
  void handle_query(const krpc::Query& q, const Endpoint& from, TimePoint now);
  void fill_nodes(const Id160& target, const krpc::Want& want, const Endpoint& from, krpc::Response& r);
  void send_error(std::string_view tid, std::int64_t code, std::string_view msg, const Endpoint& to,
                  TimePoint now);
  void send_reply(const krpc::Response& r, const Endpoint& to, TimePoint now);
  void account_reply(const Endpoint& to, TimePoint now);  // a reply spends budget and pacing, never waits

  // ---- node_client.cpp: transactions
  enum class SendResult : std::uint8_t { Sent, Deferred, Failed };
  SendResult send_query(Transaction meta, const krpc::QueryArgs& args, TimePoint now);
  krpc::QueryArgs args_for(krpc::Method m, const Id160& target) const;
  krpc::Want want() const noexcept { return krpc::Want{cfg.ipv4 && cfg.ipv6, cfg.ipv4 && cfg.ipv6}; }
  void handle_response(const krpc::Response& r, const Endpoint& from, TimePoint now);
  void handle_error(const krpc::ErrorMessage& e, const Endpoint& from, TimePoint now);
  void on_timeout(Transaction& t, TimePoint now);
  bool learned_ok(const krpc::CompactNode& n);

  // ---- node_client.cpp: lookups
  LookupId start_lookup(LookupKind kind, const Id160& target, std::uint8_t families, TimePoint now,
                        std::span<const krpc::CompactNode> ask_first = {});
  LookupId start_bootstrap(std::span<const krpc::CompactNode> known, TimePoint now);
  // Seeds l's searches with the routing table's closest nodes to its target; how many were added.
  std::size_t seed_from_table(Lookup& l, std::uint8_t families);
  void direct_answered(Lookup& l, const Endpoint& from);
  void lookup_response(Lookup& l, const Transaction& t, const krpc::Response& r, const Endpoint& from,
                       TimePoint now);
  void lookup_failure(Lookup& l, const Transaction& t);
  Lookup* find_lookup(LookupId id);
  void advance(LookupId id, TimePoint now);
  bool step(Lookup& l, TimePoint now);  // true when complete
  void finish(Lookup& l, TimePoint now);

  // ---- node_sampler.cpp: the lookup calls these for SampleWalk lookups
  void run_sampler(TimePoint now);  // starts walks up to parallel_walks
  // What a walk asks `ep`: sample_infohashes when its interval has passed, find_node otherwise.
  // What a sample walk asks a node: sample_infohashes when it is inside our keyspace and its
  // interval has passed, find_node otherwise.
  krpc::Method walk_method(const NodeId& node_id, const Endpoint& ep, TimePoint now);
  void sample_sent(Lookup& l, const Endpoint& ep, TimePoint now);
  void sample_answered(const krpc::Response& r, const Endpoint& from, TimePoint now);
  void sample_refused(const Endpoint& from, TimePoint now);  // an error to sample_infohashes
  void walk_done(const Lookup& l, TimePoint now);

  RoutingTable* table_for(const IpAddress& ip) noexcept { return ip.is_v4() ? table4.get() : table6.get(); }

  NodeConfig cfg;
  DatagramSink& sink;
  Observer& obs;
  Rng rng;
  NodeId id;
  std::unique_ptr<RoutingTable> table4;
  std::unique_ptr<RoutingTable> table6;
  TokenIssuer tokens;
  PeerStore store;
  TransactionTable txns;
  TokenBucket budget;
  DestinationPacer pacer;
  InboundLimiter inbound;
  ExternalIpVoter voter4;
  ExternalIpVoter voter6;
  SampleSchedule schedule;
  KeyspaceWalk walk;
  Counters c;

  // Scratch, reused so the query path does not allocate once warm.
  bencode::Document doc;
  std::string out;
  std::string nodes_buf;
  std::string nodes6_buf;
  std::string samples_buf;
  std::vector<const RoutingNode*> closest_buf;
  std::vector<Endpoint> values_buf;
  std::vector<Transaction> expired_buf;
  std::vector<RoutingNode> ping_buf;
  std::vector<krpc::CompactNode> result_buf;
  std::vector<LookupId> id_buf;

  std::vector<std::unique_ptr<Lookup>> lookups;
  LookupId next_lookup_id = 1;
  LookupId bootstrap_id = kNoLookup;
  std::vector<Endpoint> routers;      // for re-bootstrapping (bounded by max_bootstrap_endpoints)
  TimePoint next_bootstrap = kNever;  // when to try again after a bootstrap that found nobody
  bool bootstrapped = false;
  std::array<LookupId, 2> refresh_id{kNoLookup, kNoLookup};
  std::size_t pings_in_flight = 0;
  std::size_t sampler_walks = 0;
  std::uint32_t sampler_idle_streak = 0;  // walks in a row that sampled nobody
  TimePoint next_maintenance;
  TimePoint next_sweep;
  TimePoint next_discover;
  TimePoint lookup_wake = kNever;  // a lookup held back by pacing or the budget
  TimePoint sampler_wake;          // start walks (a walk finished, or at start)
  TimePoint verify_wake = kNever;  // verification pings are waiting
  std::deque<std::pair<NodeId, Endpoint>> verify_q;
};

}  // namespace bitscrape::dht
