// NodeConfig: every limit and knob of a dht::Node, with the defaults we ship.
//
// House rule: each bound on a queue, map, rate or size is a named field here, never a
// literal in the code. Defaults follow BEP-5 and libtorrent's behaviour where the BEPs are
// silent; deviations are noted per field and collected in docs/dht.md.
//
// Threading: a plain value type, copied into the Node at construction.
#pragma once

#include "common/id160.hpp"
#include "dht/time.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bitscrape::dht {

using namespace std::chrono_literals;

// A keyspace prefix: ids whose first `bits` bits equal those of `prefix`.
struct KeyPrefix {
  Id160 prefix;
  int bits = 0;  // 0 = the whole keyspace; at most 64 (the walk fills the bits below)

  bool contains(const Id160& id) const noexcept { return bits <= 0 || prefix.common_prefix_bits(id) >= bits; }
  bool operator==(const KeyPrefix&) const = default;
};

struct RoutingConfig {
  std::size_t bucket_size = 8;             // k (BEP-5)
  std::size_t replacement_cache_size = 8;  // per-bucket spare nodes, most recent kept
  Duration good_for = 15min;               // BEP-5: good = heard from within 15 min
  Duration bucket_refresh = 15min;         // BEP-5: refresh a bucket unchanged for 15 min
  std::uint8_t max_failures = 2;           // BEP-5: "try once more before discarding"
  bool one_node_per_ip = true;             // like libtorrent's dht_restrict_routing_ips
  bool enforce_bep42 = false;              // refuse nodes whose id does not match their IP
};

struct StoreConfig {
  std::size_t max_infohashes = 20000;        // torrents we track peers for
  std::size_t max_peers_per_infohash = 200;  // announcers kept per torrent (oldest replaced)
  Duration peer_ttl = 45min;                 // libtorrent: 1.5 x its 30 min announce interval
  Duration sweep_interval = 1min;            // how often expired peers are removed
  std::size_t max_peers_per_reply = 50;      // `values` entries per get_peers reply (fits MTU for v6)
  // BEP-51
  Duration sample_interval = 21600s;  // the `interval` we announce (libtorrent: 6 h)
  std::size_t max_samples = 20;       // samples per reply (libtorrent: 20)
  bool fixed_sample = true;           // libtorrent-like: one sample per interval, re-served
};

struct TokenConfig {
  Duration rotation = 5min;  // BEP-5; the previous secret stays valid
};

struct RateConfig {
  // Global outgoing budget: token bucket over every datagram we send (queries and replies).
  double out_packets_per_second = 1000;
  double out_burst = 200;
  // Per destination IP: at most `per_destination_packets` in any `per_destination_window`.
  // libtorrent blocks IPs that send it more than ~5 packets/s; 4 leaves a margin.
  std::uint32_t per_destination_packets = 4;  // ≤ 8
  Duration per_destination_window = 1s;
  std::size_t pacer_slots = 8192;  // destination IPs tracked at once
  // Per source IP inbound flood limit (token bucket); excess packets are dropped unread and
  // the source is ignored for in_block_duration (libtorrent's dos_blocker blocks for 5 min).
  // A client's lookup, announce or a few torrents at once stay far inside the burst.
  double in_packets_per_ip_per_second = 50;
  double in_burst_per_ip = 100;
  Duration in_block_duration = std::chrono::minutes(5);
  std::size_t inbound_slots = 8192;  // source IPs tracked at once
};

struct ClientConfig {
  Duration query_timeout = 2s;               // a query not answered by then has failed
  std::uint8_t ping_retries = 1;             // table-maintenance pings: BEP-5 "try once more"
  std::uint8_t bootstrap_retries = 1;        // queries to bootstrap endpoints
  std::uint8_t lookup_retries = 1;           // one resend: a lost datagram must not drop a close node
  Duration bootstrap_retry = 30s;            // re-bootstrap this often while the table stays empty
  std::size_t max_transactions = 4096;       // queries in flight, all kinds together
  std::size_t alpha = 3;                     // parallel queries per lookup
  std::size_t lookup_k = 8;                  // lookup converges on the k closest
  std::size_t max_lookup_candidates = 128;   // nodes a lookup remembers (closest kept)
  std::size_t max_lookups = 64;              // concurrent lookups (user + maintenance)
  std::size_t max_bootstrap_endpoints = 64;  // seeds queried at bootstrap
  std::size_t max_peers_per_lookup = 10000;  // distinct peers one get_peers lookup collects
  Duration table_maintenance_interval = 5s;  // how often buckets are checked for refresh/pings
  std::size_t max_maintenance_pings = 16;    // pings in flight for table upkeep
  // New unconfirmed table entries waiting for their verification ping (overflow is dropped:
  // the node stays questionable and is pinged by the regular maintenance instead).
  std::size_t max_pending_verifications = 128;
};

struct SamplerConfig {
  bool enabled = false;
  // Where to walk; empty = the whole keyspace. Only targets inside one of these are used.
  std::vector<KeyPrefix> keyspace;
  std::size_t parallel_walks = 4;            // concurrent keyspace walks
  std::size_t max_tracked_nodes = 1u << 20;  // per-node interval memory (oldest evicted)
  Duration default_interval = 21600s;        // assumed when a reply has no `interval`
  Duration max_interval = 21600s;            // BEP-51 caps interval at 6 h
  Duration unsupported_backoff = 6h;         // a node that answered sample_infohashes with an error
  // A walk that found nobody to sample (everyone in reach sampled within their interval) pauses
  // the sampler: 1 s, doubling per idle walk up to this, cut short when a sampled node's
  // interval ends. Any walk that samples resets it.
  Duration idle_backoff_max = 300s;
  // Crawler mode: also find_node random targets to discover nodes.
  bool discover_nodes = false;
  Duration discover_every = 2s;  // one random find_node lookup per this period
};

struct ExternalIpConfig {
  std::size_t votes_needed = 5;  // distinct voters agreeing before we believe an `ip`
  std::size_t max_voters = 64;   // voter memory (bounded)
  bool secure_id = false;        // regenerate our id per BEP-42 once the IP is known
};

struct NodeConfig {
  // Our id; random (or BEP-42 once the external IP is known, see external_ip) when unset.
  std::optional<NodeId> node_id;
  std::uint64_t seed = 0;                // RNG seed (adapters pass OS randomness)
  bool ipv4 = true;                      // run the IPv4 table (BEP-32: one table per family)
  bool ipv6 = true;                      // run the IPv6 table
  bool read_only = false;                // BEP-43: send ro=1, answer no queries
  bool allow_private_addresses = false;  // accept learned martian addresses (testnets)
  std::string version;                   // our `v` (client id); empty = not sent
  std::size_t max_datagram = 1500;       // larger inbound datagrams are dropped unread

  RoutingConfig routing;
  StoreConfig store;
  TokenConfig token;
  RateConfig rate;
  ClientConfig client;
  SamplerConfig sampler;
  ExternalIpConfig external_ip;
};

}  // namespace bitscrape::dht
