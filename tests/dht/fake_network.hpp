// A tiny in-test network for dht::Node tests: captures what the node sends and answers its
// queries on behalf of scripted fake nodes (which know the true k closest nodes to any
// target, like a converged DHT). The full simulator lives in src/sim/.
#pragma once

#include "bencode/decoder.hpp"
#include "dht/node.hpp"
#include "krpc/codec.hpp"
#include "test_util.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bitscrape::dht::test {

struct Sent {
  std::string bytes;
  Endpoint to;
};

class Capture : public DatagramSink {
 public:
  void send(std::string_view d, const Endpoint& to) override { sent.push_back({std::string(d), to}); }
  std::vector<Sent> take() {
    auto s = std::move(sent);
    sent.clear();
    return s;
  }
  std::vector<Sent> sent;
};

// Owns a datagram and its parse, so the views stay valid.
struct Decoded {
  explicit Decoded(std::string b) : bytes(std::move(b)) {
    auto r = krpc::parse(bytes, doc);
    if (r) parsed.emplace(std::move(*r));
  }
  Decoded(const Decoded&) = delete;
  bool ok() const { return parsed.has_value(); }
  const krpc::Query* query() const { return parsed ? std::get_if<krpc::Query>(&parsed->message) : nullptr; }
  const krpc::Response* response() const {
    return parsed ? std::get_if<krpc::Response>(&parsed->message) : nullptr;
  }
  const krpc::ErrorMessage* error() const {
    return parsed ? std::get_if<krpc::ErrorMessage>(&parsed->message) : nullptr;
  }
  std::string bytes;
  bencode::Document doc;
  std::optional<krpc::Parsed> parsed;
};

inline std::string encode_query(std::string_view tid, const NodeId& id, krpc::QueryArgs args,
                                bool ro = false) {
  krpc::Query q;
  q.tid = tid;
  q.id = id;
  q.args = std::move(args);
  q.read_only = ro;
  std::string out;
  if (!krpc::encode(q, out)) return {};
  return out;
}

struct Recorder : Observer {
  struct Seen {
    InfoHash ih;
    InfohashSource src;
    Endpoint from;
  };
  void on_node_seen(const NodeId& id, const Endpoint& ep, NodeSource) override { nodes.emplace_back(id, ep); }
  void on_infohash_seen(const InfoHash& ih, InfohashSource src, const Endpoint& from) override {
    infohashes.push_back({ih, src, from});
  }
  void on_peers_found(LookupId, const InfoHash&, std::span<const Endpoint> p) override {
    peers.insert(peers.end(), p.begin(), p.end());
  }
  void on_sample(const SampleEvent& ev) override {
    samples.push_back({ev.from, ev.samples.size(), ev.num, ev.interval});
  }
  void on_lookup_done(const LookupResult& r) override {
    done.push_back(
        {r.id, r.kind, r.target, {r.closest.begin(), r.closest.end()}, r.peers, r.queried, r.announced});
  }
  void on_external_ip(const IpAddress& ip) override { external.push_back(ip); }
  void on_client_version(const NodeId& id, const Endpoint& ep, std::string_view v) override {
    versions.push_back({id, ep, std::string(v)});
  }

  struct Sample {
    Endpoint from;
    std::size_t count;
    std::int64_t num;
    Duration interval;
  };
  struct Done {
    LookupId id;
    LookupKind kind;
    Id160 target;
    std::vector<krpc::CompactNode> closest;
    std::size_t peers;
    std::size_t queried;
    bool announced;
  };
  std::vector<std::pair<NodeId, Endpoint>> nodes;
  std::vector<Seen> infohashes;
  std::vector<Endpoint> peers;
  std::vector<Sample> samples;
  std::vector<Done> done;
  std::vector<IpAddress> external;
  struct Version {
    NodeId id;
    Endpoint ep;
    std::string version;
  };
  std::vector<Version> versions;
};

struct FakeNode {
  NodeId id;
  Endpoint ep;
  bool alive = true;
  std::map<InfoHash, std::vector<Endpoint>> peers;
  std::vector<InfoHash> samples;  // served by sample_infohashes (empty + !bep51: no support)
  bool bep51 = true;
  std::int64_t interval = 60;
  std::optional<Endpoint> report_ip;  // the BEP-42 `ip` it reports back
};

class FakeNetwork {
 public:
  struct Received {
    std::size_t node;
    krpc::Method method;
    Id160 target;
    TimePoint at;
    std::string token;
    std::uint16_t port = 0;
    bool implied_port = false;
    bool read_only = false;
  };

  std::size_t add(const NodeId& id, const Endpoint& ep) {
    index_[ep] = nodes.size();
    nodes.push_back(FakeNode{id, ep, true, {}, {}, true, 60, std::nullopt});
    return nodes.size() - 1;
  }

  std::vector<krpc::CompactNode> closest(const Id160& target, std::size_t k, IpAddress::Family f) const {
    std::vector<krpc::CompactNode> all;
    for (const auto& n : nodes)
      if (n.ep.ip.family() == f) all.push_back({n.id, n.ep});
    const auto n = std::min(k, all.size());
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(),
                      [&](const auto& a, const auto& b) { return closer_to(target, a.id, b.id); });
    all.resize(n);
    return all;
  }

  // Answers every query the node sent (and the ones its answers trigger) until it is quiet.
  // Datagrams to endpoints that are not fake nodes are kept in `other`.
  void pump(Node& node, Capture& cap, TimePoint now) {
    for (int rounds = 0; rounds < 10000 && !cap.sent.empty(); ++rounds) {
      for (auto& s : cap.take()) handle(node, s, now);
    }
  }

  std::vector<Received> received;
  std::vector<Sent> other;
  std::vector<FakeNode> nodes;
  // When set, replaces the `nodes` a fake node returns (to inject lies).
  std::function<std::vector<krpc::CompactNode>(const FakeNode&, const Id160&)> nodes_override;

 private:
  void handle(Node& node, const Sent& s, TimePoint now) {
    const auto it = index_.find(s.to);
    if (it == index_.end()) {
      other.push_back(s);
      return;
    }
    FakeNode& fn = nodes[it->second];
    Decoded d(s.bytes);
    const auto* q = d.query();
    if (q == nullptr) return;
    Received rec{it->second, q->method(), {}, now, {}, 0, false, q->read_only};
    krpc::Response r;
    r.tid = q->tid;
    r.id = fn.id;
    if (fn.report_ip) r.ip = fn.report_ip;
    std::string nodes_blob;
    std::string nodes6_blob;
    std::string samples_blob;
    std::vector<Endpoint> values;
    const auto fill = [&](const Id160& target, const krpc::Want& want) {
      const bool none = !want.n4 && !want.n6;
      const bool n4 = want.n4 || (none && fn.ep.ip.is_v4());
      const bool n6 = want.n6 || (none && fn.ep.ip.is_v6());
      const auto list = [&](IpAddress::Family f) {
        return nodes_override ? nodes_override(fn, target) : closest(target, 8, f);
      };
      if (n4) {
        for (const auto& n : list(IpAddress::Family::V4))
          if (n.endpoint.ip.is_v4()) krpc::append_compact_node(nodes_blob, n);
        r.nodes = krpc::NodeList::v4(nodes_blob);
      }
      if (n6) {
        for (const auto& n : list(IpAddress::Family::V6))
          if (n.endpoint.ip.is_v6()) krpc::append_compact_node(nodes6_blob, n);
        r.nodes6 = krpc::NodeList::v6(nodes6_blob);
      }
    };
    std::string token;
    switch (q->method()) {
      case krpc::Method::Ping:
        break;
      case krpc::Method::FindNode: {
        const auto& a = std::get<krpc::FindNodeArgs>(q->args);
        rec.target = a.target;
        fill(a.target, a.want);
        break;
      }
      case krpc::Method::GetPeers: {
        const auto& a = std::get<krpc::GetPeersArgs>(q->args);
        rec.target = a.info_hash;
        fill(a.info_hash, a.want);
        token = "tk" + std::to_string(it->second);
        r.token = token;
        if (auto p = fn.peers.find(a.info_hash); p != fn.peers.end()) {
          values = p->second;
          r.values = krpc::PeerValues::from_endpoints(values);
        }
        break;
      }
      case krpc::Method::AnnouncePeer: {
        const auto& a = std::get<krpc::AnnouncePeerArgs>(q->args);
        rec.target = a.info_hash;
        rec.token = std::string(a.token);
        rec.port = a.port;
        rec.implied_port = a.implied_port;
        break;
      }
      case krpc::Method::SampleInfohashes: {
        const auto& a = std::get<krpc::SampleInfohashesArgs>(q->args);
        rec.target = a.target;
        fill(a.target, a.want);
        if (fn.bep51) {
          for (const auto& ih : fn.samples) samples_blob.append(ih.view());
          r.samples = krpc::SampleList::from(samples_blob);
          r.interval = fn.interval;
          r.num = static_cast<std::int64_t>(fn.samples.size());
        }
        break;
      }
    }
    received.push_back(rec);
    if (!fn.alive) return;
    std::string out;
    if (!krpc::encode(r, out)) return;
    node.on_datagram(out, fn.ep, now);
  }

  std::map<Endpoint, std::size_t> index_;
};

}  // namespace bitscrape::dht::test
