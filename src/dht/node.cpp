// dht::Node wiring: construction, the inbound path (size and per-IP limits, decode, dispatch to
// the server or the client), tick / next_wake, routing-table upkeep (nodes seen, verification and
// maintenance pings), BEP-42 external-IP voting, and the public Node methods. The server, the
// client and the sampler live in node_server.cpp, node_client.cpp and node_sampler.cpp; the
// state they share is Node::Impl (node_impl.hpp).
#include "dht/node.hpp"

#include "dht/node_impl.hpp"
#include "krpc/bep42.hpp"

#include <algorithm>

namespace bitscrape::dht {

namespace {

Observer& null_observer() {
  static Observer o;
  return o;
}

}  // namespace

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

// ============================================================================ table upkeep

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

// ============================================================================ timers

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
