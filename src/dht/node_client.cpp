// dht::Node as a client: our queries (transactions: send through the pacer and the budget, match
// answers by tid and endpoint, errors, timeouts and retries) and the iterative lookups they feed
// (find_node, get_peers with ask-the-holder-first and announce, bootstrap, bucket refresh, node
// discovery, and the sampler's keyspace walks, whose sampling decisions are in node_sampler.cpp).
#include "dht/node_impl.hpp"

#include "krpc/bep42.hpp"

#include <algorithm>

namespace bitscrape::dht {

using detail::slot_of;

// ============================================================================ transactions

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
    ++c.out_budget_waits;
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

  if (l.kind == LookupKind::SampleWalk && t.method == krpc::Method::SampleInfohashes)
    sample_answered(r, from, now);
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
        if (l->kind == LookupKind::SampleWalk && t->method == krpc::Method::SampleInfohashes)
          sample_refused(from, now);
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

Node::Impl::Lookup* Node::Impl::find_lookup(LookupId lid) {
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
        m = walk_method(cand.id, cand.endpoint, now);
      }
      const auto r = send_query(t, args_for(m, l.target), now);
      if (r == SendResult::Failed) cand.state = Search::State::Failed;
      if (r == SendResult::Sent && m == krpc::Method::SampleInfohashes) sample_sent(l, cand.endpoint, now);
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
    case LookupKind::SampleWalk:
      walk_done(l, now);
      break;
    default:
      break;
  }
  obs.on_lookup_done(LookupResult{l.id, l.kind, l.target, result_buf, l.peers.size(), queried, announced});
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

}  // namespace bitscrape::dht
