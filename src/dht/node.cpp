#include "dht/node.hpp"

#include "bencode/decoder.hpp"
#include "dht/external_ip.hpp"
#include "dht/peer_store.hpp"
#include "dht/random.hpp"
#include "dht/rate_limit.hpp"
#include "dht/routing_table.hpp"
#include "dht/sampler.hpp"
#include "dht/search.hpp"
#include "dht/token.hpp"
#include "dht/transaction_table.hpp"
#include "krpc/bep42.hpp"
#include "krpc/codec.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <deque>
#include <unordered_set>

namespace bitscrape::dht {

namespace {

// The compact node list of `nodes`: one resize, then fixed-size writes (no append per field).
void write_nodes(const std::vector<const RoutingNode*>& nodes, std::string& out) {
  out.resize(nodes.size() * (Id160::kSize + krpc::kMaxCompactPeerSize));
  char* p = out.data();
  for (const auto* n : nodes) {
    std::memcpy(p, n->id.bytes.data(), Id160::kSize);
    p += Id160::kSize;
    p += krpc::write_compact_peer(n->endpoint, p);
  }
  out.resize(static_cast<std::size_t>(p - out.data()));
}

Observer& null_observer() {
  static Observer o;
  return o;
}

std::size_t slot_of(const IpAddress& ip) noexcept {
  return ip.is_v4() ? 0 : 1;
}

// Reply bodies are kept within one unfragmented packet: the IPv4 typical MTU payload, or the
// IPv6 minimum MTU payload. Fixed part of a get_peers reply (dict keys, id, token, ip, v,
// tid) stays well under this many bytes.
constexpr std::size_t kReplyOverhead = 160;

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

}  // namespace

struct Node::Impl {
  Impl(const NodeConfig& c, DatagramSink& s, Observer* o, TimePoint now);

  // ---- entry points
  void on_datagram(std::string_view datagram, const Endpoint& from, TimePoint now);
  TimePoint tick(TimePoint now);
  TimePoint next_wake() const;
  LookupId start_lookup(LookupKind kind, const Id160& target, std::uint8_t families, TimePoint now,
                        std::span<const krpc::CompactNode> ask_first = {});
  // Seeds l's searches with the routing table's closest nodes to its target; how many were added.
  std::size_t seed_from_table(Lookup& l, std::uint8_t families);
  void direct_answered(Lookup& l, const Endpoint& from);

  // ---- server
  void handle_query(const krpc::Query& q, const Endpoint& from, TimePoint now);
  void fill_nodes(const Id160& target, const krpc::Want& want, const Endpoint& from, krpc::Response& r);
  void send_error(std::string_view tid, std::int64_t code, std::string_view msg, const Endpoint& to,
                  TimePoint now);
  void send_reply(const krpc::Response& r, const Endpoint& to, TimePoint now);
  void account_reply(const Endpoint& to, TimePoint now);  // a reply spends budget and pacing, never waits

  // ---- client
  enum class SendResult : std::uint8_t { Sent, Deferred, Failed };
  SendResult send_query(Transaction meta, const krpc::QueryArgs& args, TimePoint now);
  krpc::QueryArgs args_for(krpc::Method m, const Id160& target) const;
  krpc::Want want() const noexcept { return krpc::Want{cfg.ipv4 && cfg.ipv6, cfg.ipv4 && cfg.ipv6}; }
  void handle_response(const krpc::Response& r, const Endpoint& from, TimePoint now);
  void handle_error(const krpc::ErrorMessage& e, const Endpoint& from, TimePoint now);
  void on_timeout(Transaction& t, TimePoint now);
  void lookup_response(Lookup& l, const Transaction& t, const krpc::Response& r, const Endpoint& from,
                       TimePoint now);
  void lookup_failure(Lookup& l, const Transaction& t);
  bool learned_ok(const krpc::CompactNode& n);
  void note_node(const NodeId& id, const Endpoint& ep, TimePoint now, bool responded, bool read_only);
  void vote_ip(const Endpoint& voter, const Endpoint& reported, TimePoint now);

  // ---- lookups
  Lookup* find_lookup(LookupId id);
  void advance(LookupId id, TimePoint now);
  bool step(Lookup& l, TimePoint now);  // true when complete
  void finish(Lookup& l, TimePoint now);
  void maintenance(TimePoint now);
  void want_verification(const NodeId& nid, const Endpoint& ep, TimePoint now);
  void verify(TimePoint now);
  void ping_done(TimePoint now);
  void run_sampler(TimePoint now);
  LookupId start_bootstrap(std::span<const krpc::CompactNode> known, TimePoint now);

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

Node::Impl::Impl(const NodeConfig& c_, DatagramSink& s, Observer* o, TimePoint now)
    : cfg(c_),
      sink(s),
      obs(o != nullptr ? *o : null_observer()),
      rng(c_.seed),
      id(c_.node_id ? *c_.node_id : rng.id()),
      tokens(c_.token.rotation, rng, now),
      store(c_.store),
      txns(c_.client.max_transactions),
      budget(c_.rate.out_packets_per_second, c_.rate.out_burst),
      pacer(c_.rate.per_destination_packets, c_.rate.per_destination_window, c_.rate.pacer_slots),
      inbound(c_.rate.in_packets_per_ip_per_second, c_.rate.in_burst_per_ip, c_.rate.inbound_slots,
              c_.rate.in_block_duration),
      voter4(c_.external_ip.votes_needed, c_.external_ip.max_voters),
      voter6(c_.external_ip.votes_needed, c_.external_ip.max_voters),
      schedule(c_.sampler.max_tracked_nodes),
      walk(c_.sampler.keyspace),
      next_maintenance(now),
      next_sweep(now + c_.store.sweep_interval),
      next_discover(now),
      sampler_wake(now) {
  if (cfg.ipv4) table4 = std::make_unique<RoutingTable>(id, IpAddress::Family::V4, cfg.routing, now);
  if (cfg.ipv6) table6 = std::make_unique<RoutingTable>(id, IpAddress::Family::V6, cfg.routing, now);
  out.reserve(2048);
  nodes_buf.reserve(krpc::kCompactNodeV4Size * cfg.routing.bucket_size);
  nodes6_buf.reserve(krpc::kCompactNodeV6Size * cfg.routing.bucket_size);
  samples_buf.reserve(InfoHash::kSize * cfg.store.max_samples);
  closest_buf.reserve(4 * cfg.routing.bucket_size);
  values_buf.reserve(cfg.store.max_peers_per_reply);
}

// ============================================================================ inbound

void Node::Impl::on_datagram(std::string_view datagram, const Endpoint& from, TimePoint now) {
  ++c.packets_in;
  c.bytes_in += datagram.size();
  if (datagram.size() > cfg.max_datagram) {
    ++c.drop_oversize;
    return;
  }
  switch (inbound.check(from.ip, now)) {
    case InboundLimiter::Verdict::Ok:
      break;
    case InboundLimiter::Verdict::Limited:
      ++c.drop_inbound_rate;
      ++c.inbound_blocks;
      return;
    case InboundLimiter::Verdict::Blocked:
      ++c.drop_inbound_blocked;
      return;
  }
  tokens.maybe_rotate(now);
  krpc::ParseLimits limits;
  limits.max_datagram = cfg.max_datagram;
  auto parsed = krpc::parse(datagram, doc, limits);
  if (!parsed) {
    const auto& e = parsed.error();
    if (e.code == krpc::ParseErrorCode::NotADict || e.code == krpc::ParseErrorCode::NotBencode ||
        e.code == krpc::ParseErrorCode::TooLarge) {
      ++c.drop_bencode;
    } else {
      ++c.drop_krpc;
    }
    if (e.is_query) {
      if (e.reply_code == static_cast<std::int64_t>(krpc::ErrorCode::MethodUnknown)) ++c.queries_in_unknown;
      if (e.can_reply() && !cfg.read_only) {
        const auto reply = e.reply();
        send_error(reply.tid, reply.code, reply.message, from, now);
      }
    }
    return;
  }
  auto& msg = parsed->message;
  if (const auto* q = std::get_if<krpc::Query>(&msg)) {
    handle_query(*q, from, now);
  } else if (const auto* r = std::get_if<krpc::Response>(&msg)) {
    handle_response(*r, from, now);
  } else {
    handle_error(std::get<krpc::ErrorMessage>(msg), from, now);
  }
}

// ============================================================================ server

void Node::Impl::note_node(const NodeId& nid, const Endpoint& ep, TimePoint now, bool responded,
                           bool read_only) {
  if (nid == id) {
    ++c.drop_self_id;
    return;
  }
  if (!cfg.allow_private_addresses && ep.ip.is_martian()) {
    ++c.drop_martian_source;
    return;
  }
  obs.on_node_seen(nid, ep, responded ? NodeSource::Response : NodeSource::Query);
  if (read_only) {
    ++c.drop_ro_node;  // BEP-43: never in the table
    return;
  }
  if (cfg.routing.enforce_bep42 && !krpc::is_secure_id(nid, ep.ip)) {
    ++c.drop_bep42;
    return;
  }
  RoutingTable* t = table_for(ep.ip);
  if (t == nullptr) return;
  const auto r = t->heard_from(nid, ep, now, responded);
  if (r == RoutingTable::AddResult::Inserted || r == RoutingTable::AddResult::Replaced) {
    ++c.table_inserts;
    if (!responded) want_verification(nid, ep, now);
  }
}

void Node::Impl::want_verification(const NodeId& nid, const Endpoint& ep, TimePoint now) {
  // A node that took a slot without answering us yet: ping it soon, so it can be handed out
  // to others (only confirmed nodes are). Waiting for the periodic maintenance would leave
  // fresh joiners invisible for tens of seconds.
  if (verify_q.size() >= cfg.client.max_pending_verifications) {
    ++c.drop_verify_queue_full;
    return;
  }
  verify_q.emplace_back(nid, ep);
  verify_wake = std::min(verify_wake, now);
}

void Node::Impl::ping_done(TimePoint now) {
  if (pings_in_flight > 0) --pings_in_flight;
  if (!verify_q.empty()) verify_wake = std::min(verify_wake, now);
}

void Node::Impl::verify(TimePoint now) {
  verify_wake = kNever;
  while (!verify_q.empty() && pings_in_flight < cfg.client.max_maintenance_pings) {
    const auto [nid, ep] = verify_q.front();
    const RoutingTable* t = table_for(ep.ip);
    const RoutingNode* n = t != nullptr ? t->find(nid) : nullptr;
    if (n == nullptr || n->responded || n->endpoint != ep) {
      verify_q.pop_front();  // gone, or confirmed meanwhile
      continue;
    }
    Transaction tx;
    tx.to = ep;
    tx.node_id = nid;
    tx.id_known = true;
    tx.purpose = Purpose::Ping;
    tx.retries_left = cfg.client.ping_retries;
    const auto r = send_query(tx, krpc::PingArgs{}, now);
    if (r == SendResult::Deferred) {
      verify_wake = lookup_wake;  // paced or out of budget: come back when it may go
      return;
    }
    verify_q.pop_front();
    if (r == SendResult::Sent) {
      ++pings_in_flight;
      ++c.verification_pings;
    }
  }
}

void Node::Impl::account_reply(const Endpoint& to, TimePoint now) {
  // Answers are never dropped for our own budget or pacing (a node that silently drops answers
  // is a bad DHT citizen; abuse is cut on the inbound side, before decoding). They still spend
  // the budget when it has tokens and count towards the destination's pacing, so our own
  // queries yield to them: the budget stays the total unless answers alone exceed it.
  (void)budget.try_consume(now);
  (void)pacer.try_send(to.ip, now);
}

void Node::Impl::send_reply(const krpc::Response& r, const Endpoint& to, TimePoint now) {
  account_reply(to, now);
  out.clear();
  if (!krpc::encode(r, out)) return;  // cannot happen for what we build; nothing sent
  ++c.responses_out;
  ++c.packets_out;
  c.bytes_out += out.size();
  sink.send(out, to);
}

void Node::Impl::send_error(std::string_view tid, std::int64_t code, std::string_view msg, const Endpoint& to,
                            TimePoint now) {
  account_reply(to, now);
  krpc::ErrorMessage e;
  e.tid = tid;
  e.code = code;
  e.message = msg;
  e.version = cfg.version;
  out.clear();
  if (!krpc::encode(e, out)) return;
  switch (code) {
    case 201:
      ++c.errors_out_201;
      break;
    case 202:
      ++c.errors_out_202;
      break;
    case 203:
      ++c.errors_out_203;
      break;
    default:
      ++c.errors_out_204;
      break;
  }
  ++c.packets_out;
  c.bytes_out += out.size();
  sink.send(out, to);
}

void Node::Impl::fill_nodes(const Id160& target, const krpc::Want& w, const Endpoint& from,
                            krpc::Response& r) {
  // BEP-32: without `want`, the family the query arrived over.
  const bool none = !w.n4 && !w.n6;
  const bool n4 = w.n4 || (none && from.ip.is_v4());
  const bool n6 = w.n6 || (none && from.ip.is_v6());
  const auto k = cfg.routing.bucket_size;
  if (n4 && table4) {
    table4->closest(target, k, true, closest_buf);
    write_nodes(closest_buf, nodes_buf);
    r.nodes = krpc::NodeList::v4(nodes_buf);
  }
  if (n6 && table6) {
    table6->closest(target, k, true, closest_buf);
    write_nodes(closest_buf, nodes6_buf);
    r.nodes6 = krpc::NodeList::v6(nodes6_buf);
  }
}

void Node::Impl::handle_query(const krpc::Query& q, const Endpoint& from, TimePoint now) {
  switch (q.method()) {
    case krpc::Method::Ping:
      ++c.queries_in_ping;
      break;
    case krpc::Method::FindNode:
      ++c.queries_in_find_node;
      break;
    case krpc::Method::GetPeers:
      ++c.queries_in_get_peers;
      break;
    case krpc::Method::AnnouncePeer:
      ++c.queries_in_announce_peer;
      break;
    case krpc::Method::SampleInfohashes:
      ++c.queries_in_sample_infohashes;
      break;
  }
  if (cfg.read_only) {
    ++c.drop_read_only_query;  // BEP-43: a read-only node does not answer
    return;
  }
  note_node(q.id, from, now, false, q.read_only);
  if (!q.version.empty()) obs.on_client_version(q.id, from, q.version);

  krpc::Response r;
  r.tid = q.tid;
  r.id = id;
  r.ip = from;
  r.version = cfg.version;
  switch (q.method()) {
    case krpc::Method::Ping:
      break;
    case krpc::Method::FindNode: {
      const auto& a = std::get<krpc::FindNodeArgs>(q.args);
      fill_nodes(a.target, a.want, from, r);
      break;
    }
    case krpc::Method::GetPeers: {
      const auto& a = std::get<krpc::GetPeersArgs>(q.args);
      obs.on_infohash_seen(a.info_hash, InfohashSource::GetPeersQuery, from);
      const auto token = tokens.issue(from.ip);
      r.token = token_view(token);
      fill_nodes(a.info_hash, a.want, from, r);
      // Keep values + nodes inside one unfragmented packet.
      const bool v4 = from.ip.is_v4();
      const std::size_t mtu = v4 ? krpc::kTypicalMtuPayload : krpc::kMinIpv6MtuPayload;
      const std::size_t used = kReplyOverhead + (r.nodes ? r.nodes->bytes().size() + 8 : 0) +
                               (r.nodes6 ? r.nodes6->bytes().size() + 8 : 0) +
                               (a.scrape ? 2 * (krpc::kBloomFilterSize + 12) : 0);
      const std::size_t per_value = (v4 ? krpc::kCompactPeerV4Size : krpc::kCompactPeerV6Size) + 3;
      const std::size_t room = used < mtu ? (mtu - used) / per_value : 0;
      const auto max_values = std::min(cfg.store.max_peers_per_reply, room);
      if (store.get_peers(a.info_hash, from.ip.family(), a.noseed, max_values, rng, values_buf) > 0) {
        r.values = krpc::PeerValues::from_endpoints(values_buf);
      }
      if (a.scrape) {
        if (const auto* s = store.scrape(a.info_hash)) {
          r.bf_seeds = s->seeds.view();
          r.bf_peers = s->peers.view();
        }
      }
      send_reply(r, from, now);
      return;
    }
    case krpc::Method::AnnouncePeer: {
      const auto& a = std::get<krpc::AnnouncePeerArgs>(q.args);
      if (!tokens.verify(a.token, from.ip)) {
        ++c.announce_bad_token;
        send_error(q.tid, static_cast<std::int64_t>(krpc::ErrorCode::Protocol), "bad token", from, now);
        return;
      }
      const std::uint16_t port = a.implied_port ? from.port : a.port;
      if (port == 0) {
        ++c.drop_port_zero;
        send_error(q.tid, static_cast<std::int64_t>(krpc::ErrorCode::Protocol), "invalid port", from, now);
        return;
      }
      // For announces the observer gets the announced peer (the sender's IP, announced port).
      obs.on_infohash_seen(a.info_hash, InfohashSource::AnnouncePeerQuery, Endpoint{from.ip, port});
      if (!cfg.allow_private_addresses && from.ip.is_martian()) {
        ++c.drop_martian_peer;  // answered, but never handed out to others
      } else {
        switch (store.announce(a.info_hash, Endpoint{from.ip, port}, a.seed, now)) {
          case PeerStore::AnnounceResult::StoreFull:
            ++c.store_full;
            break;
          case PeerStore::AnnounceResult::ReplacedOldest:
            ++c.store_peer_replaced;
            [[fallthrough]];
          default:
            ++c.announces_stored;
            break;
        }
      }
      break;
    }
    case krpc::Method::SampleInfohashes: {
      const auto& a = std::get<krpc::SampleInfohashesArgs>(q.args);
      const auto interval =
          std::chrono::duration_cast<std::chrono::seconds>(cfg.store.sample_interval).count();
      r.interval = std::clamp<std::int64_t>(interval, 0, krpc::kMaxSampleInterval);
      r.num = static_cast<std::int64_t>(store.size());
      samples_buf.clear();
      for (const auto& ih : store.sample(now, rng)) samples_buf.append(ih.view());
      r.samples = krpc::SampleList::from(samples_buf);
      c.samples_served += samples_buf.size() / InfoHash::kSize;
      fill_nodes(a.target, a.want, from, r);
      break;
    }
  }
  send_reply(r, from, now);
}

// ============================================================================ client

krpc::QueryArgs Node::Impl::args_for(krpc::Method m, const Id160& target) const {
  switch (m) {
    case krpc::Method::FindNode:
      return krpc::FindNodeArgs{target, want()};
    case krpc::Method::GetPeers:
      return krpc::GetPeersArgs{target, want(), false, false};
    case krpc::Method::SampleInfohashes:
      return krpc::SampleInfohashesArgs{target, want()};
    default:
      return krpc::PingArgs{};
  }
}

Node::Impl::SendResult Node::Impl::send_query(Transaction meta, const krpc::QueryArgs& args, TimePoint now) {
  const auto& ip = meta.to.ip;
  switch (pacer.check(ip, now)) {
    case DestinationPacer::Verdict::Paced:
      lookup_wake = std::min(lookup_wake, pacer.next_allowed(ip, now));
      return SendResult::Deferred;
    case DestinationPacer::Verdict::Full:
      ++c.drop_out_pacer_full;
      lookup_wake = std::min(lookup_wake, now + cfg.rate.per_destination_window / 4);
      return SendResult::Deferred;
    case DestinationPacer::Verdict::Ok:
      break;
  }
  if (!budget.available(now)) {
    lookup_wake = std::min(lookup_wake, budget.next_available(now));
    return SendResult::Deferred;
  }
  if (txns.full()) {
    ++c.drop_txn_table_full;
    lookup_wake = std::min(lookup_wake, txns.next_deadline());
    return SendResult::Deferred;
  }
  meta.method = static_cast<krpc::Method>(args.index());
  meta.sent = now;
  meta.deadline = now + cfg.client.query_timeout;
  const auto tid = txns.add(meta, rng);
  if (!tid) return SendResult::Deferred;
  char tid_bytes[TransactionTable::kTidSize];
  TransactionTable::write_tid(*tid, tid_bytes);
  krpc::Query q;
  q.tid = std::string_view(tid_bytes, sizeof tid_bytes);
  q.id = id;
  q.args = args;
  q.read_only = cfg.read_only;
  q.version = cfg.version;
  out.clear();
  if (!krpc::encode(q, out)) {
    txns.cancel(*tid);
    return SendResult::Failed;
  }
  (void)budget.try_consume(now);
  (void)pacer.try_send(ip, now);
  switch (meta.method) {
    case krpc::Method::Ping:
      ++c.queries_out_ping;
      break;
    case krpc::Method::FindNode:
      ++c.queries_out_find_node;
      break;
    case krpc::Method::GetPeers:
      ++c.queries_out_get_peers;
      break;
    case krpc::Method::AnnouncePeer:
      ++c.queries_out_announce_peer;
      break;
    case krpc::Method::SampleInfohashes:
      ++c.queries_out_sample_infohashes;
      break;
  }
  ++c.packets_out;
  c.bytes_out += out.size();
  sink.send(out, meta.to);
  return SendResult::Sent;
}

bool Node::Impl::learned_ok(const krpc::CompactNode& n) {
  if (n.endpoint.port == 0) {
    ++c.drop_port_zero;
    return false;
  }
  if (!cfg.allow_private_addresses && n.endpoint.ip.is_martian()) {
    ++c.drop_martian_node;
    return false;
  }
  if (n.id == id) {
    ++c.drop_self_id;
    return false;
  }
  if (cfg.routing.enforce_bep42 && !krpc::is_secure_id(n.id, n.endpoint.ip)) {
    ++c.drop_bep42;
    return false;
  }
  return true;
}

void Node::Impl::vote_ip(const Endpoint& voter, const Endpoint& reported, TimePoint now) {
  auto& v = reported.ip.is_v4() ? voter4 : voter6;
  const auto changed = v.vote(voter.ip, reported.ip);
  if (!changed) return;
  ++c.external_ip_changes;
  obs.on_external_ip(*changed);
  // BEP-42: derive our id from the address we are seen at (IPv4 first, as most nodes check it).
  if (!cfg.external_ip.secure_id || cfg.node_id || (changed->is_v6() && cfg.ipv4)) return;
  if (krpc::is_secure_id(id, *changed)) return;
  id = krpc::make_secure_id(*changed, rng.id());
  ++c.node_id_changes;
  if (table4) table4->rebuild(id, now);
  if (table6) table6->rebuild(id, now);
}

void Node::Impl::handle_response(const krpc::Response& r, const Endpoint& from, TimePoint now) {
  ++c.responses_in;
  auto t = txns.take(r.tid, from);
  if (!t) {
    ++c.drop_unmatched_response;
    return;
  }
  if (r.id == id) {
    ++c.drop_response_from_self;
    t->retries_left = 0;  // treat as a failed query; a retry would reach us again
    on_timeout(*t, now);
    return;
  }
  if (!r.version.empty()) obs.on_client_version(r.id, from, r.version);
  note_node(r.id, from, now, true, false);
  if (r.ip) vote_ip(from, *r.ip, now);
  switch (t->purpose) {
    case Purpose::Ping:
      ping_done(now);
      return;
    case Purpose::Announce:
      return;
    case Purpose::Lookup:
    case Purpose::Bootstrap:
      if (Lookup* l = find_lookup(t->owner)) {
        lookup_response(*l, *t, r, from, now);
        advance(l->id, now);
      }
      return;
  }
}

void Node::Impl::lookup_response(Lookup& l, const Transaction& t, const krpc::Response& r,
                                 const Endpoint& from, TimePoint now) {
  auto& s = l.search[slot_of(from.ip)];
  direct_answered(l, from);
  if (t.purpose == Purpose::Bootstrap) {
    if (l.bootstrap_in_flight > 0) --l.bootstrap_in_flight;
    if (s) (void)s->add(r.id, from);
  }
  if (s) {
    if (auto* cand = s->on_response(r.id, from); cand != nullptr && r.token)
      cand->token = std::string(*r.token);
  }
  const auto add_nodes = [&](const std::optional<krpc::NodeList>& list, std::size_t slot) {
    if (!list) return;
    RoutingTable* table = slot == 0 ? table4.get() : table6.get();
    for (const auto n : *list) {
      if (!learned_ok(n)) continue;
      if (l.search[slot]) (void)l.search[slot]->add(n.id, n.endpoint);
      if (table != nullptr &&
          table->heard_about(n.id, n.endpoint, now) == RoutingTable::AddResult::Inserted) {
        ++c.table_inserts;
        want_verification(n.id, n.endpoint, now);
      }
    }
  };
  add_nodes(r.nodes, 0);
  add_nodes(r.nodes6, 1);

  if (r.values && l.kind == LookupKind::GetPeers) {
    values_buf.clear();
    for (const auto ep : *r.values) {
      if (!cfg.allow_private_addresses && ep.ip.is_martian()) {
        ++c.drop_martian_peer;
        continue;
      }
      if (l.peers.size() >= cfg.client.max_peers_per_lookup) {
        ++c.drop_lookup_peers_full;
        break;
      }
      if (l.peers.insert(ep).second) values_buf.push_back(ep);
    }
    if (!values_buf.empty()) {
      c.peers_found += values_buf.size();
      obs.on_peers_found(l.id, l.target, values_buf);
    }
  }

  if (l.kind == LookupKind::SampleWalk && t.method == krpc::Method::SampleInfohashes) {
    if (!r.samples) {
      // Answered like find_node: no BEP-51 here. Do not ask again for a long while.
      ++c.sampler_unsupported;
      if (schedule.record(from, now + cfg.sampler.unsupported_backoff, now)) ++c.sampler_tracked_evicted;
      return;
    }
    Duration interval =
        r.interval ? Duration(std::chrono::seconds(*r.interval)) : cfg.sampler.default_interval;
    interval = std::clamp(interval, Duration::zero(), cfg.sampler.max_interval);
    if (schedule.record(from, now + interval, now)) ++c.sampler_tracked_evicted;
    ++c.sample_replies;
    c.samples_received += r.samples->size();
    for (const auto ih : *r.samples) obs.on_infohash_seen(ih, InfohashSource::Sample, from);
    obs.on_sample(SampleEvent{from, r.id, *r.samples, r.num.value_or(-1), interval});
  }
}

void Node::Impl::handle_error(const krpc::ErrorMessage& e, const Endpoint& from, TimePoint now) {
  ++c.errors_in;
  auto t = txns.take(e.tid, from);
  if (!t) {
    ++c.drop_unmatched_response;
    return;
  }
  // The node is alive but refused this query: not a routing-table failure.
  switch (t->purpose) {
    case Purpose::Ping:
      ping_done(now);
      return;
    case Purpose::Announce:
      return;
    case Purpose::Lookup:
    case Purpose::Bootstrap:
      if (Lookup* l = find_lookup(t->owner)) {
        if (l->kind == LookupKind::SampleWalk && t->method == krpc::Method::SampleInfohashes) {
          ++c.sampler_unsupported;
          if (schedule.record(from, now + cfg.sampler.unsupported_backoff, now)) ++c.sampler_tracked_evicted;
        }
        lookup_failure(*l, *t);
        advance(l->id, now);
      }
      return;
  }
}

void Node::Impl::lookup_failure(Lookup& l, const Transaction& t) {
  direct_answered(l, t.to);
  if (t.purpose == Purpose::Bootstrap) {
    if (l.bootstrap_in_flight > 0) --l.bootstrap_in_flight;
    return;
  }
  if (auto& s = l.search[t.family_slot]) s->on_failure(t.to);
}

void Node::Impl::on_timeout(Transaction& t, TimePoint now) {
  if (t.id_known) {
    if (RoutingTable* table = table_for(t.to.ip)) {
      if (table->failed(t.node_id, t.to, now)) ++c.table_evictions;
    }
  }
  if (t.retries_left > 0 && t.purpose != Purpose::Announce) {
    --t.retries_left;
    ++c.retries;
    if (send_query(t, args_for(t.method, t.target), now) == SendResult::Sent) return;
  }
  switch (t.purpose) {
    case Purpose::Ping:
      ping_done(now);
      return;
    case Purpose::Announce:
      return;
    case Purpose::Lookup:
    case Purpose::Bootstrap:
      if (Lookup* l = find_lookup(t.owner)) {
        lookup_failure(*l, t);
        advance(l->id, now);
      }
      return;
  }
}

// ============================================================================ lookups

Lookup* Node::Impl::find_lookup(LookupId lid) {
  for (auto& l : lookups)
    if (l->id == lid) return l.get();
  return nullptr;
}

std::size_t Node::Impl::seed_from_table(Lookup& l, std::uint8_t families) {
  std::size_t seeds = 0;
  for (std::size_t slot = 0; slot < 2; ++slot) {
    RoutingTable* t = slot == 0 ? table4.get() : table6.get();
    if (t == nullptr || !l.search[slot] || (families & (1u << slot)) == 0) continue;
    t->closest(l.target, cfg.client.lookup_k, false, closest_buf);
    for (const auto* n : closest_buf) seeds += l.search[slot]->add(n->id, n->endpoint) ? 1 : 0;
  }
  return seeds;
}

LookupId Node::Impl::start_lookup(LookupKind kind, const Id160& target, std::uint8_t families, TimePoint now,
                                  std::span<const krpc::CompactNode> ask_first) {
  if (lookups.size() >= cfg.client.max_lookups) {
    ++c.lookups_refused;
    return kNoLookup;
  }
  auto l = std::make_unique<Lookup>();
  l->id = next_lookup_id++;
  if (next_lookup_id == kNoLookup) ++next_lookup_id;
  l->kind = kind;
  l->target = target;
  const auto& cc = cfg.client;
  for (std::size_t slot = 0; slot < 2; ++slot) {
    RoutingTable* t = slot == 0 ? table4.get() : table6.get();
    if (t == nullptr || (families & (1u << slot)) == 0) continue;
    l->search[slot].emplace(target, cc.lookup_k, cc.alpha, cc.max_lookup_candidates,
                            cfg.routing.one_node_per_ip);
  }
  std::size_t seeds = 0;
  for (const auto& n : ask_first) {
    if (!learned_ok(n) || l->ask_first.size() >= cc.alpha) continue;
    auto& s = l->search[slot_of(n.endpoint.ip)];
    if (s && s->add(n.id, n.endpoint)) {
      l->ask_first.push_back(n.endpoint);
      ++seeds;
    }
  }
  l->direct = seeds > 0;
  if (!l->direct) seeds = seed_from_table(*l, families);
  if (seeds == 0 && kind != LookupKind::Bootstrap) {
    ++c.lookups_refused;
    return kNoLookup;
  }
  ++c.lookups_started;
  const auto lid = l->id;
  lookups.push_back(std::move(l));
  (void)now;
  return lid;
}

void Node::Impl::direct_answered(Lookup& l, const Endpoint& from) {
  if (!l.direct) return;
  std::erase(l.ask_first, from);
}

bool Node::Impl::step(Lookup& l, TimePoint now) {
  if (l.direct && l.ask_first.empty()) {
    // The nodes that store the key have answered (or failed).
    l.direct = false;
    if (!l.peers.empty()) {
      ++c.lookups_direct_hits;
      return true;
    }
    ++c.lookups_direct_misses;
    (void)seed_from_table(l, 3);
  }
  bool done = l.bootstrap_in_flight == 0;
  for (std::size_t slot = 0; slot < 2; ++slot) {
    auto& s = l.search[slot];
    if (!s) continue;
    s->for_each_to_query([&](Search::Candidate& cand) {
      // Asking the key's holders first: nobody else yet (their replies' nodes wait).
      if (l.direct && std::find(l.ask_first.begin(), l.ask_first.end(), cand.endpoint) == l.ask_first.end())
        return false;
      Transaction t;
      t.to = cand.endpoint;
      t.node_id = cand.id;
      t.id_known = true;
      t.purpose = Purpose::Lookup;
      t.owner = l.id;
      t.family_slot = static_cast<std::uint8_t>(slot);
      t.retries_left = cfg.client.lookup_retries;
      t.target = l.target;
      krpc::Method m = krpc::Method::FindNode;
      if (l.kind == LookupKind::GetPeers) {
        m = krpc::Method::GetPeers;
      } else if (l.kind == LookupKind::SampleWalk) {
        // Only nodes inside the keyspace we walk: with several crawlers sharing the keyspace,
        // the nodes a walk passes on its way through another's share are that one's to sample.
        const auto& ks = cfg.sampler.keyspace;
        if (!ks.empty() &&
            std::none_of(ks.begin(), ks.end(), [&](const KeyPrefix& p) { return p.contains(cand.id); })) {
          ++c.sampler_outside_keyspace;
        } else if (schedule.may_sample(cand.endpoint, now)) {
          m = krpc::Method::SampleInfohashes;
        } else {
          ++c.sampler_interval_skips;
        }
      }
      const auto r = send_query(t, args_for(m, l.target), now);
      if (r == SendResult::Failed) cand.state = Search::State::Failed;
      if (r == SendResult::Sent && m == krpc::Method::SampleInfohashes) {
        ++l.samples_asked;
        // Hold the node until its answer tells us its interval, so parallel walks do not
        // ask it twice; if it never answers, it may be asked again after this.
        const auto hold = cfg.client.query_timeout * (cfg.client.lookup_retries + 2);
        if (schedule.record(cand.endpoint, now + hold, now)) ++c.sampler_tracked_evicted;
      }
      return r == SendResult::Sent;
    });
    if (!s->done() || s->in_flight() > 0) done = false;
  }
  return done;
}

void Node::Impl::advance(LookupId lid, TimePoint now) {
  Lookup* l = find_lookup(lid);
  if (l == nullptr) return;
  if (!step(*l, now)) return;
  finish(*l, now);
  lookups.erase(std::find_if(lookups.begin(), lookups.end(), [&](const auto& p) { return p->id == lid; }));
}

void Node::Impl::finish(Lookup& l, TimePoint now) {
  ++c.lookups_completed;
  bool announced = false;
  if (l.announce && l.kind == LookupKind::GetPeers) {
    for (auto& s : l.search) {
      if (!s) continue;
      s->for_each_result([&](const Search::Candidate& cand) {
        if (cand.token.empty() || cand.token.size() > krpc::kMaxTokenSize) return;
        Transaction t;
        t.to = cand.endpoint;
        t.node_id = cand.id;
        t.id_known = true;
        t.purpose = Purpose::Announce;
        t.owner = l.id;
        krpc::AnnouncePeerArgs a;
        a.info_hash = l.target;
        a.port = l.announce->port;
        a.implied_port = l.announce->implied_port;
        a.seed = l.announce->seed;
        a.token = cand.token;
        if (send_query(t, a, now) == SendResult::Sent) {
          ++c.announces_sent;
          announced = true;
        }
      });
    }
  }
  result_buf.clear();
  std::size_t queried = 0;
  for (auto& s : l.search) {
    if (!s) continue;
    queried += s->queried();
    s->for_each_result([&](const Search::Candidate& cand) {
      result_buf.push_back({cand.id, cand.endpoint});
    });
  }
  std::stable_sort(result_buf.begin(), result_buf.end(),
                   [&](const auto& a, const auto& b) { return closer_to(l.target, a.id, b.id); });
  switch (l.kind) {
    case LookupKind::Bootstrap:
      bootstrapped = bootstrapped || !result_buf.empty();
      if (!bootstrapped) next_bootstrap = now + cfg.client.bootstrap_retry;
      break;
    case LookupKind::Refresh:
      for (auto& r : refresh_id)
        if (r == l.id) r = kNoLookup;
      break;
    case LookupKind::SampleWalk: {
      if (sampler_walks > 0) --sampler_walks;
      if (l.samples_asked > 0) {
        sampler_idle_streak = 0;
        sampler_wake = now;
        break;
      }
      // Nobody in reach may be sampled yet: walking on would be find_node traffic for nothing.
      ++c.sampler_idle_walks;
      sampler_idle_streak = std::min(sampler_idle_streak + 1, 20u);
      const Duration pause = std::min<Duration>(cfg.sampler.idle_backoff_max,
                                                std::chrono::seconds(1u << (sampler_idle_streak - 1)));
      sampler_wake = std::min(sampler_wake, std::max(now, std::min(now + pause, schedule.next_expiry(now))));
      break;
    }
    default:
      break;
  }
  obs.on_lookup_done(LookupResult{l.id, l.kind, l.target, result_buf, l.peers.size(), queried, announced});
}

void Node::Impl::maintenance(TimePoint now) {
  if (!bootstrapped && now >= next_bootstrap && find_lookup(bootstrap_id) == nullptr) {
    next_bootstrap = kNever;
    (void)start_bootstrap({}, now);
  }
  for (std::size_t slot = 0; slot < 2; ++slot) {
    RoutingTable* t = slot == 0 ? table4.get() : table6.get();
    if (t == nullptr || t->size() == 0) continue;
    if (refresh_id[slot] == kNoLookup && find_lookup(bootstrap_id) == nullptr) {
      if (const auto target = t->next_refresh_target(now, rng)) {
        refresh_id[slot] =
            start_lookup(LookupKind::Refresh, *target, static_cast<std::uint8_t>(1u << slot), now);
        if (refresh_id[slot] != kNoLookup) ++c.table_refreshes;
      }
    }
    if (pings_in_flight >= cfg.client.max_maintenance_pings) continue;
    ping_buf.clear();
    // A node pinged once is not pinged again (if it stays questionable) before good_for / 3.
    t->nodes_to_ping(now, cfg.routing.good_for / 3, cfg.client.max_maintenance_pings - pings_in_flight,
                     ping_buf);
    for (const auto& n : ping_buf) {
      Transaction tx;
      tx.to = n.endpoint;
      tx.node_id = n.id;
      tx.id_known = true;
      tx.purpose = Purpose::Ping;
      tx.retries_left = cfg.client.ping_retries;
      if (send_query(tx, krpc::PingArgs{}, now) == SendResult::Sent) {
        ++pings_in_flight;
        ++c.maintenance_pings;
      }
    }
  }
}

void Node::Impl::run_sampler(TimePoint now) {
  sampler_wake = kNever;
  if (!cfg.sampler.enabled) return;
  const bool have_nodes = (table4 && table4->size() > 0) || (table6 && table6->size() > 0);
  if (!have_nodes) {
    sampler_wake = next_maintenance;  // try again once the table may have filled
    return;
  }
  while (sampler_walks < cfg.sampler.parallel_walks && lookups.size() < cfg.client.max_lookups) {
    const auto lid = start_lookup(LookupKind::SampleWalk, walk.next(rng), 3, now);
    if (lid == kNoLookup) break;
    ++sampler_walks;
    ++c.sampler_walks;
  }
}

LookupId Node::Impl::start_bootstrap(std::span<const krpc::CompactNode> known, TimePoint now) {
  const LookupId lid = start_lookup(LookupKind::Bootstrap, id, 3, now);
  if (lid == kNoLookup) return kNoLookup;
  bootstrap_id = lid;
  Lookup* l = find_lookup(lid);
  for (const auto& n : known) {
    if (!learned_ok(n)) continue;
    if (auto& s = l->search[slot_of(n.endpoint.ip)]) (void)s->add(n.id, n.endpoint);
  }
  for (const auto& ep : routers) {
    if (!l->search[slot_of(ep.ip)]) continue;  // family disabled
    Transaction t;
    t.to = ep;
    t.purpose = Purpose::Bootstrap;
    t.owner = lid;
    t.family_slot = static_cast<std::uint8_t>(slot_of(ep.ip));
    t.retries_left = cfg.client.bootstrap_retries;
    t.target = id;
    if (send_query(t, args_for(krpc::Method::FindNode, id), now) == SendResult::Sent)
      ++l->bootstrap_in_flight;
  }
  advance(lid, now);
  return lid;
}

TimePoint Node::Impl::tick(TimePoint now) {
  tokens.maybe_rotate(now);
  expired_buf.clear();
  txns.expire(now, expired_buf);
  for (auto& t : expired_buf) {
    ++c.timeouts;
    on_timeout(t, now);
  }
  if (now >= next_sweep) {
    c.store_peers_expired += store.expire(now);
    schedule.purge(now);
    next_sweep = now + cfg.store.sweep_interval;
  }
  if (now >= verify_wake) verify(now);
  if (now >= next_maintenance) {
    maintenance(now);
    next_maintenance = now + cfg.client.table_maintenance_interval;
  }
  if (cfg.sampler.enabled && now >= sampler_wake) run_sampler(now);
  if (cfg.sampler.enabled && cfg.sampler.discover_nodes && now >= next_discover) {
    (void)start_lookup(LookupKind::Discover, rng.id(), 3, now);
    next_discover = now + cfg.sampler.discover_every;
  }
  // Step every lookup: some may have been held back by pacing or the budget.
  lookup_wake = kNever;
  id_buf.clear();
  for (const auto& l : lookups) id_buf.push_back(l->id);
  for (const auto lid : id_buf) advance(lid, now);
  if (cfg.sampler.enabled && sampler_wake <= now) run_sampler(now);
  return next_wake();
}

TimePoint Node::Impl::next_wake() const {
  TimePoint w = std::min(
      {txns.next_deadline(), tokens.next_rotation(), next_sweep, next_maintenance, lookup_wake, verify_wake});
  if (!bootstrapped) w = std::min(w, std::max(next_bootstrap, next_maintenance));
  if (cfg.sampler.enabled) {
    w = std::min(w, sampler_wake);
    if (cfg.sampler.discover_nodes) w = std::min(w, next_discover);
  }
  return w;
}

// ============================================================================ Node

Node::Node(const NodeConfig& cfg, DatagramSink& sink, Observer* observer, TimePoint now)
    : impl_(std::make_unique<Impl>(cfg, sink, observer, now)) {}
Node::~Node() = default;

void Node::on_datagram(std::string_view datagram, const Endpoint& from, TimePoint now) {
  impl_->on_datagram(datagram, from, now);
}
TimePoint Node::tick(TimePoint now) {
  return impl_->tick(now);
}
TimePoint Node::next_wake() const {
  return impl_->next_wake();
}

LookupId Node::bootstrap(std::span<const Endpoint> routers, std::span<const krpc::CompactNode> known,
                         TimePoint now) {
  auto& m = *impl_;
  m.routers.assign(routers.begin(),
                   routers.begin() + static_cast<std::ptrdiff_t>(
                                         std::min(routers.size(), m.cfg.client.max_bootstrap_endpoints)));
  return m.start_bootstrap(known, now);
}

LookupId Node::find_node(const Id160& target, TimePoint now) {
  const auto lid = impl_->start_lookup(LookupKind::FindNode, target, 3, now);
  if (lid != kNoLookup) impl_->advance(lid, now);
  return lid;
}

LookupId Node::get_peers(const InfoHash& ih, TimePoint now, std::optional<AnnounceParams> announce,
                         std::span<const krpc::CompactNode> ask_first) {
  const auto lid = impl_->start_lookup(LookupKind::GetPeers, ih, 3, now, ask_first);
  if (lid == kNoLookup) return lid;
  impl_->find_lookup(lid)->announce = announce;
  impl_->advance(lid, now);
  return lid;
}

void Node::set_packet_budget(double packets_per_second, std::optional<double> burst) {
  auto& m = *impl_;
  const double pps = std::max(0.0, packets_per_second);
  double b = burst.value_or(0);
  if (!burst) {
    const auto& r = m.cfg.rate;
    b = r.out_packets_per_second > 0 ? pps * (r.out_burst / r.out_packets_per_second) : r.out_burst;
  }
  m.budget.set_rate(pps, b);
  m.cfg.rate.out_packets_per_second = pps;
  m.cfg.rate.out_burst = m.budget.burst();
}

void Node::set_sampler_enabled(bool on) {
  auto& m = *impl_;
  if (on && !m.cfg.sampler.enabled) m.sampler_wake = TimePoint{};  // start walks at the next tick
  m.cfg.sampler.enabled = on;
}

void Node::set_keyspace(std::vector<KeyPrefix> prefixes) {
  auto& m = *impl_;
  KeyspaceWalk walk(prefixes);
  if (walk.prefixes() == m.walk.prefixes()) return;
  m.walk = std::move(walk);
  m.cfg.sampler.keyspace = std::move(prefixes);
  // The idle backoff measured the old keyspace (everyone in reach sampled within their
  // interval); the new one may have nodes to sample now. The schedule still guards intervals.
  m.sampler_idle_streak = 0;
  if (m.cfg.sampler.enabled) m.sampler_wake = TimePoint{};
}

const NodeId& Node::id() const noexcept {
  return impl_->id;
}
bool Node::bootstrapped() const noexcept {
  return impl_->bootstrapped;
}
std::size_t Node::active_lookups() const noexcept {
  return impl_->lookups.size();
}

Counters Node::counters() const {
  Counters s = impl_->c;
  s.gauge_table_v4_nodes = impl_->table4 ? impl_->table4->size() : 0;
  s.gauge_table_v6_nodes = impl_->table6 ? impl_->table6->size() : 0;
  s.gauge_table_replacements = (impl_->table4 ? impl_->table4->replacement_count() : 0) +
                               (impl_->table6 ? impl_->table6->replacement_count() : 0);
  s.gauge_table_splits =
      (impl_->table4 ? impl_->table4->splits() : 0) + (impl_->table6 ? impl_->table6->splits() : 0);
  s.gauge_store_infohashes = impl_->store.size();
  s.gauge_store_peers = impl_->store.peer_count();
  s.gauge_transactions = impl_->txns.size();
  s.gauge_lookups = impl_->lookups.size();
  s.gauge_sampler_tracked = impl_->schedule.size();
  return s;
}

const RoutingTable* Node::table(IpAddress::Family f) const noexcept {
  return f == IpAddress::Family::V4 ? impl_->table4.get() : impl_->table6.get();
}
PeerStore& Node::store() noexcept {
  return impl_->store;
}
const PeerStore& Node::store() const noexcept {
  return impl_->store;
}

std::vector<krpc::CompactNode> Node::export_nodes(TimePoint now) const {
  std::vector<krpc::CompactNode> v;
  for (const auto* t : {impl_->table4.get(), impl_->table6.get()}) {
    if (t == nullptr) continue;
    t->for_each([&](const RoutingNode& n) {
      if (t->state(n, now) == NodeState::Good) v.push_back({n.id, n.endpoint});
    });
  }
  return v;
}

std::string Node::check_invariant() const {
  const auto& m = *impl_;
  for (const auto* t : {m.table4.get(), m.table6.get()}) {
    if (t == nullptr) continue;
    if (auto e = t->check_invariant(); !e.empty()) return e;
    if (t->self() != m.id) return "table id differs from node id";
  }
  if (m.txns.size() > m.cfg.client.max_transactions) return "transaction table over capacity";
  if (m.lookups.size() > m.cfg.client.max_lookups) return "too many lookups";
  if (m.store.size() > m.cfg.store.max_infohashes) return "peer store over capacity";
  if (m.schedule.size() > m.cfg.sampler.max_tracked_nodes) return "sample schedule over capacity";
  for (const auto& l : m.lookups) {
    for (const auto& s : l->search) {
      if (!s) continue;
      if (s->candidates().size() > std::max(m.cfg.client.max_lookup_candidates, m.cfg.client.lookup_k))
        return "lookup over candidate capacity";
      if (s->in_flight() > m.cfg.client.alpha) return "lookup over alpha";
    }
    if (l->peers.size() > m.cfg.client.max_peers_per_lookup) return "lookup over peer capacity";
  }
  return {};
}

}  // namespace bitscrape::dht
