// MetadataPool: runs peerwire::MetadataFetcher state machines over real TCP connections.
//
// One asio io_context thread drives every connection, each a net::WireDriver over a
// net::TcpTransport: connect (with a deadline), then each readable event reads what the kernel
// has into ONE buffer shared by all connections (the event loop handles one connection at a
// time, so a per-connection receive buffer would only waste memory) and hands it to the
// connection's fetcher; output is written as the fetcher produces it; one timer per connection
// is re-armed to the fetcher's next deadline. When a fetcher is done the socket is closed and
// the callback gets the result.
//
// Caps: max_connections in total and max_per_ip per peer address; start() refuses (returns
// false) beyond them, and the caller (crawler::FetchScheduler) keeps the queue. Memory per open
// connection is the Conn object, the fetcher (see MetadataFetcher::memory_footprint) and, only
// while a download runs, the metadata itself.
//
// Threading: all methods and callbacks on the io_context's thread.
#pragma once

#include "common/telemetry.hpp"
#include "common/endpoint.hpp"
#include "common/id160.hpp"
#include "peerwire/fetcher.hpp"

#include <asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

namespace bitscrape::net {

struct MetadataPoolConfig {
  std::size_t max_connections = 1000;  // open TCP connections at once
  std::size_t max_per_ip = 2;          // to one peer address at once
  std::chrono::milliseconds connect_timeout{5000};
  peerwire::FetcherConfig fetcher;
  std::string peer_id_prefix = "-BS0001-";
};

#define BITSCRAPE_METADATA_POOL_COUNTERS(X)                                       \
  X(connections_started, counter)                                              \
  X(connected, counter)                                                        \
  X(peer_succeeded, counter)                                                   \
  X(peer_failed, counter)                                                      \
  X(refused_cap, counter) /* start() refused: global or per-IP cap */          \
  X(bytes_in, counter)                                                         \
  X(bytes_out, counter)                                                        \
  X(peak_connections, gauge)

struct MetadataPoolCounters {
  BITSCRAPE_METADATA_POOL_COUNTERS(BITSCRAPE_COUNTER_FIELD)
  template <class F>
  void for_each(F&& f) const {
    BITSCRAPE_METADATA_POOL_COUNTERS(BITSCRAPE_COUNTER_VISIT)
  }
};

class MetadataPool {
 public:
  using Callback = std::function<void(const InfoHash& ih, const Endpoint& peer, peerwire::FetchResult result)>;

  MetadataPool(asio::io_context& io, MetadataPoolConfig config, Callback on_done, std::uint64_t seed);
  ~MetadataPool();
  MetadataPool(const MetadataPool&) = delete;
  MetadataPool& operator=(const MetadataPool&) = delete;

  // True when a connection to `peer` may start now (under both caps).
  bool can_start(const Endpoint& peer) const;
  // Starts fetching `ih` from `peer`; false (nothing started) when a cap is reached.
  bool start(const InfoHash& ih, const Endpoint& peer);
  // Closes every connection; their callbacks run with ConnectFailed/PeerClosed results.
  void stop();

  std::size_t active() const noexcept { return conns_.size(); }
  const MetadataPoolCounters& counters() const noexcept { return counters_; }
  const MetadataPoolConfig& config() const noexcept { return config_; }

 private:
  struct Conn;
  void finish(Conn* c);

  asio::io_context& io_;
  MetadataPoolConfig config_;
  Callback on_done_;
  std::uint64_t rng_state_;
  std::unordered_map<Conn*, std::shared_ptr<Conn>> conns_;
  std::unordered_map<IpAddress, std::size_t, IpAddressHash> per_ip_;
  std::vector<char> rx_;  // shared receive buffer
  MetadataPoolCounters counters_;
};

}  // namespace bitscrape::net
