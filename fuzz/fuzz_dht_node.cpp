// Fuzzes dht::Node with arbitrary datagrams from arbitrary sources at advancing times.
//
// Input: a sequence of records
//   [source: 1 byte][advance: 2 bytes, ms, big-endian][length: 2 bytes][datagram: length bytes]
// The source byte picks one of 16 endpoints (public, martian, IPv4, IPv6) and its top bit asks
// for a tick() after the datagram. To reach the response path, the 4 bytes "TTTT" in a
// datagram are replaced by the transaction id of the node's latest query to that endpoint
// (tids are random, so the fuzzer could not guess them).
//
// The node runs with small bounds, the sampler on, and bootstraps from four of the endpoints.
// After every step its invariants must hold (check_invariant(), every gauge within its bound);
// any violation aborts.
#include "dht/node.hpp"

#include "common/endpoint.hpp"
#include "krpc/codec.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace bitscrape;
using namespace std::chrono_literals;

Endpoint source(std::size_t i) {
  static const std::array<Endpoint, 16> eps = [] {
    std::array<Endpoint, 16> a{};
    for (std::uint32_t k = 0; k < 8; ++k) a[k] = Endpoint{IpAddress::v4(0x14000001u + k), static_cast<std::uint16_t>(6881 + k)};
    a[8] = Endpoint{IpAddress::v4(0x0A000001u), 6881};   // 10.0.0.1
    a[9] = Endpoint{IpAddress::v4(0x7F000001u), 6881};   // 127.0.0.1
    a[10] = Endpoint{IpAddress::v4(0xC0A80001u), 0};     // 192.168.0.1, port 0
    a[11] = Endpoint{IpAddress::v4(0x14000001u), 9999};  // same IP as [0], other port
    for (std::uint8_t k = 0; k < 4; ++k) {
      std::array<std::uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8};
      b[15] = static_cast<std::uint8_t>(k + 1);
      if (k == 3) b = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};  // link-local
      a[12 + k] = Endpoint{IpAddress::v6(b), 6881};
    }
    return a;
  }();
  return eps[i % eps.size()];
}

struct Sink : dht::DatagramSink {
  void send(std::string_view d, const Endpoint& to) override {
    // Everything the node sends must parse; remember the tid of its latest query per endpoint.
    auto p = krpc::parse(d, doc);
    if (!p) std::abort();
    if (const auto* q = std::get_if<krpc::Query>(&p->message)) last_tid[to] = std::string(q->tid);
  }
  bencode::Document doc;
  std::map<Endpoint, std::string> last_tid;
};

void check(const dht::Node& n, const dht::NodeConfig& cfg) {
  if (!n.check_invariant().empty()) std::abort();
  const auto c = n.counters();
  if (c.gauge_transactions > cfg.client.max_transactions) std::abort();
  if (c.gauge_lookups > cfg.client.max_lookups) std::abort();
  if (c.gauge_store_infohashes > cfg.store.max_infohashes) std::abort();
  if (c.gauge_store_peers > cfg.store.max_infohashes * cfg.store.max_peers_per_infohash) std::abort();
  if (c.gauge_sampler_tracked > cfg.sampler.max_tracked_nodes) std::abort();
  // 160 buckets of k nodes is the most a table can hold.
  if (c.gauge_table_v4_nodes > 160 * cfg.routing.bucket_size) std::abort();
  if (c.gauge_table_v6_nodes > 160 * cfg.routing.bucket_size) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dht::NodeConfig cfg;
  cfg.seed = 1;
  cfg.allow_private_addresses = size > 0 && (data[0] & 1) != 0;
  cfg.client.max_transactions = 32;
  cfg.client.max_lookups = 8;
  cfg.client.max_lookup_candidates = 16;
  cfg.store.max_infohashes = 16;
  cfg.store.max_peers_per_infohash = 4;
  cfg.sampler.enabled = true;
  cfg.sampler.discover_nodes = true;
  cfg.sampler.max_tracked_nodes = 16;
  cfg.rate.pacer_slots = 16;
  cfg.rate.inbound_slots = 16;
  cfg.rate.in_packets_per_ip_per_second = 1000;
  cfg.rate.in_burst_per_ip = 1000;
  Sink sink;
  auto now = dht::TimePoint{} + 1h;
  dht::Node node(cfg, sink, nullptr, now);
  const std::vector<Endpoint> routers{source(0), source(1), source(8), source(12)};
  node.bootstrap(routers, {}, now);
  check(node, cfg);

  std::size_t i = 0;
  std::string dgram;
  while (i + 5 <= size) {
    const std::uint8_t src = data[i];
    const auto advance = static_cast<unsigned>(data[i + 1] << 8 | data[i + 2]);
    const auto len = static_cast<std::size_t>(data[i + 3] << 8 | data[i + 4]);
    i += 5;
    const std::size_t take = len < size - i ? len : size - i;
    dgram.assign(reinterpret_cast<const char*>(data + i), take);
    i += take;
    const Endpoint from = source(src & 0x0F);
    if (auto it = sink.last_tid.find(from); it != sink.last_tid.end()) {
      for (auto p = dgram.find("TTTT"); p != std::string::npos; p = dgram.find("TTTT", p + 4)) dgram.replace(p, 4, it->second);
    }
    now += std::chrono::milliseconds(advance);
    node.on_datagram(dgram, from, now);
    check(node, cfg);
    if ((src & 0x80) != 0 || node.next_wake() <= now) {
      (void)node.tick(now);
      check(node, cfg);
    }
  }
  // Let every timer fire once more, far in the future.
  now += 2h;
  (void)node.tick(now);
  check(node, cfg);
  return 0;
}
