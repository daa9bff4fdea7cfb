// dht::Node as a server: answers ping, find_node, get_peers (token, values, nodes, BEP-33 scrape
// filters), announce_peer (token check, implied_port, peer store) and sample_infohashes (BEP-51);
// errors 201-204. Replies never wait for our budget or pacing (see account_reply); abuse is cut
// on the inbound side before a query gets here (node.cpp).
#include "dht/node_impl.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

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

// Reply bodies are kept within one unfragmented packet: the IPv4 typical MTU payload, or the
// IPv6 minimum MTU payload. Fixed part of a get_peers reply (dict keys, id, token, ip, v,
// tid) stays well under this many bytes.
constexpr std::size_t kReplyOverhead = 160;

}  // namespace

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

}  // namespace bitscrape::dht
