// NodeHost: runs many sans-I/O dht::Nodes on real UDP sockets on one asio::io_context.
//
// Each hosted node has its own socket (one per address family), bound to its own loopback
// address, so other DHT nodes — ours or anyone's — see it as a separate host: separate routing
// table entries (one node per IP), separate per-IP rate limits. That is the point of a testnet,
// and why nodes do not share sockets (see docs/testnet.md).
//
// Built for thousands of nodes in one process, so nothing is sized per node that need not be:
//   - ONE receive buffer for all sockets: the loop serves one socket at a time;
//   - ONE timer: a min-heap of (wake time, node) with lazy deletion; each node is ticked when
//     the time its tick()/next_wake() asked for comes, and re-armed after every datagram;
//   - sends go straight to the kernel (non-blocking sendto); only when the kernel's buffer is
//     full does a socket get a bounded backlog (allocated then, kMaxBacklog datagrams; beyond
//     it datagrams are dropped and counted).
// net::UdpSocket is not used here: its per-socket 128 KiB batch buffer and send queue are right
// for a crawler's one socket, and 640 MB for 5,000 nodes.
//
// An optional per-node outgoing filter may rewrite a node's datagrams (the testnet's martian
// nodes use it to lie in `nodes`), and send_raw() lets a caller send from a node's socket
// (the testnet's flooder).
//
// Threading: everything on the io_context's thread. Handlers hold the node slot alive, so
// destroying the host while handlers are queued is safe (they see the host is gone and return).
#pragma once

#include "common/endpoint.hpp"
#include "common/result.hpp"
#include "dht/config.hpp"
#include "dht/node.hpp"
#include "dht/time.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace bitscrape::testnet {

struct NodeHostCounters {
  std::uint64_t datagrams_in = 0;
  std::uint64_t datagrams_out = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t send_errors = 0;    // the kernel refused (unreachable, invalid address, ...)
  std::uint64_t backlog_drops = 0;  // the kernel's buffer and our backlog were full
  std::uint64_t oversize_in = 0;    // datagrams larger than the receive buffer (dropped)
  std::uint64_t ticks = 0;          // Node::tick() calls
  std::uint64_t raw_out = 0;        // send_raw() datagrams (the flooder's, the uTP seeders')
  std::uint64_t utp_in = 0;         // uTP datagrams handed to a node's uTP handler
  // Traffic with endpoints the host does not run (a crawler, a client): what an outsider cost.
  std::uint64_t external_in = 0;
  std::uint64_t external_out = 0;
};

class NodeHost {
 public:
  // Rewrites one outgoing datagram of a node: returns the bytes to send instead (a view of
  // `datagram` or of `scratch`), or an empty view to drop it.
  using OutFilter =
      std::function<std::string_view(std::string_view datagram, const Endpoint& to, std::string& scratch)>;

  static constexpr std::size_t kMaxBacklog = 256;       // datagrams per socket when the kernel is full
  static constexpr std::size_t kMaxReadsPerWake = 64;   // fairness between sockets
  static constexpr std::size_t kReceiveBuffer = 65536;  // the UDP maximum: nothing is truncated

  // `receive_buffer_bytes` sets SO_RCVBUF on every socket (0: the kernel's default); it costs
  // nothing until datagrams queue, and absorbs the bursts of thousands of nodes bootstrapping.
  explicit NodeHost(asio::io_context& io, std::size_t receive_buffer_bytes = 0);
  ~NodeHost();
  NodeHost(const NodeHost&) = delete;
  NodeHost& operator=(const NodeHost&) = delete;

  // Binds `v4` (and `v6` when given), then creates a Node with `cfg` that sends through them.
  // The error names the address that could not be bound and why. `observer` may be null and
  // must outlive the host.
  Result<std::size_t, std::string> add(const dht::NodeConfig& cfg, const Endpoint& v4,
                                       const std::optional<Endpoint>& v6, dht::Observer* observer);

  std::size_t size() const noexcept { return slots_.size(); }
  dht::Node& node(std::size_t i);
  const dht::Node& node(std::size_t i) const;
  const Endpoint& endpoint(std::size_t i) const;
  const std::optional<Endpoint>& endpoint6(std::size_t i) const;

  // After calling into node i from outside (bootstrap, get_peers, store changes): re-arm its
  // wake-up, which may have moved earlier.
  void poke(std::size_t i);
  void set_filter(std::size_t i, OutFilter filter);
  // Sends `bytes` from node i's socket of `to`'s family, bypassing the node (and its pacing).
  bool send_raw(std::size_t i, const Endpoint& to, std::string_view bytes);
  // From now on node i's uTP datagrams (utp::looks_like_utp; KRPC starts with 'd') go to
  // `utp` instead of the node: a seeder at that address serves uTP on the node's UDP port, as
  // BitTorrent clients do. The views are valid during the call only.
  using DatagramHandler = std::function<void(std::string_view bytes, const Endpoint& from)>;
  void set_utp_handler(std::size_t i, DatagramHandler utp);

  // Closes every socket and the timer; nodes stay readable (counters) until destruction.
  void close();

  const NodeHostCounters& counters() const noexcept { return counters_; }
  std::size_t timer_heap_size() const noexcept { return heap_.size(); }

 private:
  struct Slot;
  struct Sink;
  using Wake = std::pair<dht::TimePoint, std::uint32_t>;

  void send_from(Slot& s, std::string_view bytes, const Endpoint& to);
  bool write(Slot& s, bool v6, std::string_view bytes, const Endpoint& to);
  void arm_read(const std::shared_ptr<Slot>& s, bool v6);
  void arm_write(const std::shared_ptr<Slot>& s, bool v6);
  void on_readable(Slot& s, bool v6);
  void rearm(Slot& s, dht::TimePoint w);
  void arm_timer();
  void on_timer();

  asio::io_context& io_;
  asio::steady_timer timer_;
  dht::TimePoint timer_at_ = dht::kNever;
  std::priority_queue<Wake, std::vector<Wake>, std::greater<>> heap_;
  std::vector<std::shared_ptr<Slot>> slots_;
  std::unordered_set<Endpoint, EndpointHash> hosted_;  // every bound endpoint, to tell outsiders apart
  std::vector<char> rx_;
  std::size_t rcvbuf_;
  std::string scratch_;
  std::shared_ptr<bool> alive_;
  NodeHostCounters counters_;
  bool closed_ = false;
};

}  // namespace bitscrape::testnet
