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
// Transports (config.transports, in the order tried): uTP over the DHT's UDP socket (one
// net::UtpSocket per attached socket, attach_udp()) and TCP. A peer that does not take the
// first — no answer to our uTP SYN within utp_connect_timeout (1 s + 2 s: libtorrent's
// utp_connect_timeout is 3 s too), a reset, a refused TCP connect — is tried with the next, by
// a fresh fetcher; a peer that connected and then failed is not tried again (it spoke: its
// answer stands). uTP is skipped for a peer whose address family has no attached socket.
//
// Caps: max_connections in total and max_per_ip per peer address; start() refuses (returns
// false) beyond them, and the caller (crawler::FetchScheduler) keeps the queue. One peer holds
// one slot of each cap from start() to its result, whichever transports it goes through. Memory per open
// connection is the Conn object, the fetcher (see MetadataFetcher::memory_footprint) and, only
// while a download runs, the metadata itself.
//
// Threading: all methods and callbacks on the io_context's thread.
#pragma once

#include "common/telemetry.hpp"
#include "common/endpoint.hpp"
#include "common/id160.hpp"
#include "net/udp.hpp"
#include "net/utp_socket.hpp"
#include "peerwire/fetcher.hpp"

#include <asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bitscrape::net {

enum class WireTransport : std::uint8_t { Utp, Tcp };
std::string_view to_string(WireTransport t) noexcept;
// "utp" / "tcp" (what fetch.transports says), in order; unknown names are skipped.
std::vector<WireTransport> parse_transports(const std::vector<std::string>& names);

struct MetadataPoolConfig {
  std::size_t max_connections = 1000;  // peers being fetched from at once, over any transport
  std::size_t max_per_ip = 2;          // to one peer address at once
  std::chrono::milliseconds connect_timeout{5000};  // TCP
  std::vector<WireTransport> transports{WireTransport::Utp, WireTransport::Tcp};
  // uTP connect: the SYN and one resend (1 s, then 2 s) before the next transport is tried.
  std::chrono::milliseconds utp_syn_timeout{1000};
  int utp_syn_retries = 1;
  peerwire::FetcherConfig fetcher;
  std::string peer_id_prefix = "-BS0001-";
};

#define BITSCRAPE_METADATA_POOL_COUNTERS(X)                                       \
  X(connections_started, counter)                                              \
  X(connected, counter)                                                        \
  X(utp_started, counter)                                                      \
  X(utp_connected, counter)                                                    \
  X(tcp_started, counter)                                                      \
  X(fallbacks, counter) /* a transport did not connect: the next one was tried */ \
  X(peer_succeeded, counter)                                                   \
  X(peer_failed, counter)                                                      \
  X(refused_cap, counter) /* start() refused: global or per-IP cap */          \
  X(bytes_in, counter)                                                         \
  /* the uTP sockets and the UDP demultiplexer of the attached sockets, summed: */ \
  X(udp_krpc_in, counter)                                                      \
  X(udp_utp_in, counter)                                                       \
  X(udp_unknown_in, counter) /* neither KRPC nor uTP: dropped */               \
  X(utp_bad_datagrams, counter)                                                \
  X(utp_unknown_connection, counter)                                           \
  X(utp_refused_syn, counter)                                                  \
  X(utp_timeouts, counter)                                                     \
  X(utp_peer_resets, counter)                                                  \
  X(utp_retransmits, counter)                                                  \
  X(utp_sockets_connections, gauge) /* open and closing uTP connections */     \
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
  // Fetches over uTP on `udp` (the DHT's socket) from peers of its address family from now on:
  // its uTP datagrams come here. The socket must outlive the pool.
  void attach_udp(UdpSocket& udp);

  std::size_t active() const noexcept { return conns_.size(); }
  // Refreshes the uTP and UDP sums first (cheap: one pass over the attached sockets).
  const MetadataPoolCounters& counters() const noexcept;
  const MetadataPoolConfig& config() const noexcept { return config_; }

 private:
  struct Conn;
  struct Utp;
  bool attempt(const std::shared_ptr<Conn>& c);
  void attempt_done(Conn* c);
  void finish(const std::shared_ptr<Conn>& c);
  UtpSocket* utp_for(const Endpoint& peer) const;

  asio::io_context& io_;
  MetadataPoolConfig config_;
  Callback on_done_;
  std::uint64_t rng_state_;
  std::unordered_map<Conn*, std::shared_ptr<Conn>> conns_;
  std::unordered_map<IpAddress, std::size_t, IpAddressHash> per_ip_;
  std::vector<char> rx_;  // shared receive buffer
  std::vector<std::unique_ptr<Utp>> utp_;
  bool stopping_ = false;
  std::shared_ptr<char> alive_ = std::make_shared<char>();  // posted reports check it
  mutable MetadataPoolCounters counters_;
};

}  // namespace bitscrape::net
