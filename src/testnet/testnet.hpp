// Testnet: a whole BitTorrent DHT on loopback in one process, for crawling it (`bitscrape
// testnet`, the end-to-end tests and the benchmark).
//
//   - N dht::Nodes (our own sans-I/O node), each on its own address 127.A.B.C and its own real
//     UDP socket (NodeHost), all on the same port, behaving like libtorrent nodes by default:
//     BEP-51 `interval` 21600 s, 20 samples, one fixed sample per interval, the per-IP inbound
//     limit and per-destination pacing of dht::NodeConfig; allow_private_addresses (loopback).
//   - M generated torrents (TorrentGenerator: v1, v2-only, hybrid; single/multi-file; unicode),
//     every info dict checked with metainfo::parse_info_dict before anything starts.
//   - Seeders: one TCP listener per seeding address (a node's address, same port number as its
//     UDP port, as BitTorrent clients do) serving many torrents over BEP-3/10/9 with
//     peerwire::Seeder (SeederHost), and uTP on the node's own UDP socket (`utp`; the node's
//     uTP datagrams go to the seeder); a `utp_only` share of the honest addresses has no TCP
//     listener. Torrents are spread round-robin over `seeders` addresses.
//   - Announcing: each torrent key is announced for its seeder's address (and for its liar and
//     slow peers) at the k closest nodes — by writing straight into those nodes' peer stores
//     (AnnounceMethod::Direct, the default: instant at any scale, the k closest are exact), or
//     by each seeder's node running get_peers with announce_peer (AnnounceMethod::Dht: the real
//     protocol, tokens and all; ~40 packets per key, for small testnets). Both re-announce every
//     `reannounce` (peers expire after the node's peer_ttl).
//   - Misbehaviour: liars (corrupt metadata, beside the honest seeder), slow-drip peers (beside
//     it too), martian nodes (lie in `nodes`: 0.0.0.0/8 addresses, port 0, dead 127.255/16
//     neighbours) and one flooder (queries its routing-table neighbours at flood_rate, bounded).
//   - Ground truth: the manifest (manifest.hpp), finished when everything is announced, right
//     before the ready callback runs.
//
// Start-up: start() generates and verifies the torrents (streaming the manifest), checks the
// file-descriptor budget (raising RLIMIT_NOFILE), opens the listeners and starts the nodes in
// waves, each bootstrapping from node 0 and a few nodes started before it. When every node has
// bootstrapped (or bootstrap_timeout passed) and the tables settled, the torrents are announced,
// BEP-51 samples are drawn (so the coverage of the first interval is known and reported), the
// manifest is completed and on_ready() is called. The testnet then runs until stop().
//
// Threading: everything on the io_context's thread; run the io_context to make progress.
#pragma once

#include "common/endpoint.hpp"
#include "common/id160.hpp"
#include "common/result.hpp"
#include "dht/counters.hpp"
#include "dht/node.hpp"
#include "testnet/generator.hpp"
#include "testnet/node_host.hpp"
#include "testnet/seeder_host.hpp"

#include <asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bitscrape::testnet {

enum class AnnounceMethod : std::uint8_t { Direct, Dht };

struct TestnetConfig {
  std::size_t nodes = 500;
  std::size_t torrents = 2000;
  std::string net = "127.0.20";  // first three octets of node 0's address (127.A.B); 127.0.0 is refused
  std::uint16_t port = 6881;     // every node's UDP port and every seeder's TCP port
  std::uint64_t seed = 1;        // node ids, torrents and roles are a function of it
  bool ipv6 = false;             // nodes also on [::1]:port+1+i (see docs/testnet.md for the limits)
  std::size_t seeders = 0;       // honest seeding addresses; 0 = min(200, max(1, nodes / 10))
  double liars = 0;              // share of torrents also served corrupt by a liar
  double slow = 0;               // share of torrents also served by a slow-drip peer
  bool utp = true;               // seeders also serve uTP on their node's UDP port
  double utp_only = 0;           // share of honest seeding addresses with no TCP listener (uTP only)
  double martians = 0;           // share of nodes that lie in `nodes`
  bool flood = false;            // one node floods its neighbours with queries
  double flood_rate = 200;       // the flooder's queries per second (≤ 10,000)
  AnnounceMethod announce = AnnounceMethod::Direct;
  std::chrono::seconds reannounce{1800};  // keeps peers alive (the nodes' peer_ttl is 45 min)
  std::chrono::seconds sample_interval{
      21600};                      // BEP-51 interval (libtorrent's dht_sample_infohashes_interval)
  std::size_t max_samples = 20;    // libtorrent's dht_max_infohashes_sample_count
  std::filesystem::path manifest;  // empty: no manifest
  GeneratorConfig generator;
  std::size_t info_cache_bytes = 64u << 20;     // regenerated info dicts kept in memory
  std::size_t max_seeder_connections = 4096;    // lowered to fit the file-descriptor limit
  std::chrono::seconds bootstrap_timeout{180};  // READY comes anyway after this, with a warning
  std::size_t start_wave = 200;                 // nodes started per 50 ms
  std::size_t max_announce_lookups = 256;       // Dht: get_peers+announce lookups in flight
};

// Checks a configuration for contradictions (ranges, enough nodes for the roles, addresses
// inside 127.0.0.0/8, ports). The message says what to change.
Result<void, std::string> validate(const TestnetConfig& cfg);

// The loopback address of node `i` (0-based) in `net` "127.A.B": 127.A.B.1 .. 127.A.B.254, then
// 127.A.(B+1).1 and so on; nullopt when it would leave 127.0.0.0/8.
std::optional<IpAddress> node_address(std::string_view net, std::size_t i);

// Raises the soft RLIMIT_NOFILE towards `needed` (up to the hard limit). Returns the limit now
// in force; an error when it cannot reach `minimum`.
Result<std::size_t, std::string> ensure_fd_limit(std::size_t needed, std::size_t minimum);

struct ReadyInfo {
  Endpoint bootstrap;
  std::size_t nodes = 0;
  std::size_t torrents = 0;
  std::size_t keys = 0;               // DHT keys announced (hybrids have two)
  std::size_t bootstrapped = 0;       // nodes whose bootstrap lookup finished
  std::size_t sample_visible = 0;     // torrents with a key in some node's first BEP-51 sample
  std::size_t announce_failures = 0;  // Dht: keys whose announce never got a token
  double generate_seconds = 0;
  double bootstrap_seconds = 0;
  double announce_seconds = 0;
};

struct TestnetStats {
  std::size_t nodes = 0;
  std::size_t torrents = 0;
  bool ready = false;
  double table_nodes_avg = 0;  // IPv4 routing-table size, mean over nodes
  std::size_t table_nodes_min = 0;
  double table6_nodes_avg = 0;        // IPv6 routing-table size, mean over nodes (--ipv6)
  std::size_t stored_keys = 0;        // peer-store entries over all nodes
  std::uint64_t martian_replies = 0;  // replies the martian nodes rewrote
  std::uint64_t flood_queries = 0;
  std::uint64_t info_regenerated = 0;  // info dicts rebuilt for a peer (cache misses)
  dht::Counters node_totals;           // every node's counters summed
  NodeHostCounters udp;
  SeederHostCounters tcp;
};

class Testnet {
 public:
  using Log = std::function<void(std::string_view)>;
  using OnReady = std::function<void(const ReadyInfo&)>;

  Testnet(asio::io_context& io, TestnetConfig config, Log log = {});
  ~Testnet();
  Testnet(const Testnet&) = delete;
  Testnet& operator=(const Testnet&) = delete;

  // Generates, verifies, binds and starts everything (see the header comment); `on_ready` runs
  // on the loop once all is announced. Errors (config, a port in use, the descriptor limit, a
  // generated dict that does not verify) leave nothing running.
  Result<void, std::string> start(OnReady on_ready);
  // Closes every socket and timer. The testnet cannot be restarted.
  void stop();

  bool ready() const noexcept;
  const TestnetConfig& config() const noexcept;
  Endpoint bootstrap() const;
  TestnetStats stats() const;

  // Nodes.
  std::size_t node_count() const noexcept;
  Endpoint node_endpoint(std::size_t i) const;
  const dht::Node& node(std::size_t i) const;
  // Indices of the k nodes closest to `key` (XOR), closest first.
  std::vector<std::size_t> closest_nodes(const InfoHash& key, std::size_t k) const;

  // Torrents.
  std::size_t torrent_count() const noexcept;
  GeneratedTorrent torrent(std::size_t t) const;  // regenerated (pure)
  std::vector<InfoHash> torrent_keys(std::size_t t) const;
  Endpoint seeder_of(std::size_t t) const;               // honest seeder (TCP and/or uTP, same port)
  bool seeder_utp_only(std::size_t t) const;             // that seeder has no TCP listener
  std::optional<Endpoint> liar_of(std::size_t t) const;  // nullopt: no liar for it
  std::optional<Endpoint> slow_peer_of(std::size_t t) const;
  std::vector<std::size_t> martian_nodes() const;
  std::optional<std::size_t> flooder() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bitscrape::testnet
