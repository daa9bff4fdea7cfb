// SeederHost: TCP listeners that serve torrent metadata (BEP-3/10/9) with peerwire::Seeder.
//
// One listener per seeding address serves every torrent the catalog assigns to it; each accepted
// connection runs one sans-I/O Seeder (the accepting side: it waits for the peer's handshake,
// looks the infohash up, answers ut_metadata requests). Each connection is a net::WireDriver (the
// loop net::MetadataPool uses too) over a net::TcpTransport: one receive buffer shared by all
// connections (the loop serves one at a time), one write in flight per connection with what the
// seeder produces meanwhile queued behind it, one timer per connection armed to the seeder's next
// deadline (idle, lifetime, drip) — or, first, to the end of the connection's hold when
// SeederHostConfig::hold is set; a seeder that is done gets kFlushGrace for its last bytes.
//
// uTP: listen_utp() serves a listener over uTP as well (or only), on a UDP socket the caller
// owns (the testnet's node at that address: one port for DHT and uTP, as clients do). The
// caller hands that socket's uTP datagrams to the returned net::UtpSocket; accepted streams run
// the same Seeder behind the same net::WireDriver, under the same max_connections.
//
// A listener may misbehave on purpose through its peerwire::SeederBehavior (the testnet's liars
// corrupt a piece, its slow peers drip); the behavior object must outlive the host.
//
// Metadata is not stored here: the catalog hands out a shared pointer per connection, which
// pins those bytes for as long as the connection serves them (MetadataSource's contract), so the
// catalog may regenerate and evict info dicts freely.
//
// Caps: max_connections at once over all listeners; beyond that a new connection is accepted and
// closed at once (counted), so the kernel's accept queue never fills with connections nobody
// will serve. Accept errors (out of file descriptors) back off for accept_backoff.
//
// Threading: everything on the io_context's thread.
#pragma once

#include "common/endpoint.hpp"
#include "common/id160.hpp"
#include "common/result.hpp"
#include "net/transport.hpp"
#include "net/utp_socket.hpp"
#include "peerwire/seeder.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace bitscrape::testnet {

// Where listeners find what they serve.
class MetadataCatalog {
 public:
  virtual ~MetadataCatalog() = default;
  // The info dict for `key` when listener `listener` serves that torrent, else nullptr. The
  // bytes stay valid and unchanged while the returned pointer lives.
  virtual std::shared_ptr<const std::string> find(const InfoHash& key, std::uint32_t listener) = 0;
};

struct SeederHostConfig {
  std::size_t max_connections = 4096;  // open connections over all listeners
  std::chrono::milliseconds accept_backoff{200};
  // Each accepted connection waits this long before its seeder starts: nothing is read or written
  // meanwhile (the peer's handshake waits in the kernel), so many connections are open at once
  // (bench_fetch's load). 0: the seeder starts when the connection is accepted.
  std::chrono::milliseconds hold{0};
  peerwire::SeederConfig seeder;  // `behavior` is set per listener
};

struct SeederHostCounters {
  std::uint64_t accepted = 0;
  std::uint64_t refused_cap = 0;  // closed at once: max_connections reached
  std::uint64_t accept_errors = 0;
  std::uint64_t served = 0;            // connections that named a torrent we have
  std::uint64_t unknown_infohash = 0;  // connections that named one we do not
  std::uint64_t pieces_sent = 0;
  std::uint64_t rejects_sent = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::size_t peak_connections = 0;
  std::uint64_t utp_accepted = 0;  // of `accepted`, over uTP
};

class SeederHost {
 public:
  SeederHost(asio::io_context& io, SeederHostConfig config, MetadataCatalog& catalog);
  ~SeederHost();
  SeederHost(const SeederHost&) = delete;
  SeederHost& operator=(const SeederHost&) = delete;

  // Listens on `at` as listener number `id` (what the catalog is asked with), misbehaving as
  // `behavior` says (nullptr: honest). Returns the bound endpoint (port 0 picks one).
  Result<Endpoint, std::string> listen(const Endpoint& at, std::uint32_t id,
                                       const peerwire::SeederBehavior* behavior);

  // Serves listener `id` over uTP too, with `behavior`: feed the returned socket the uTP
  // datagrams of the address; it answers through `out`, which must outlive the host.
  net::UtpSocket& listen_utp(std::uint32_t id, const peerwire::SeederBehavior* behavior, net::DatagramOut& out);

  // Stops accepting and closes every connection.
  void close();

  std::size_t connections() const noexcept { return conns_.size(); }
  std::size_t listeners() const noexcept { return listeners_.size(); }
  const SeederHostCounters& counters() const noexcept { return counters_; }

 private:
  struct Listener;
  struct Conn;
  void accept_next(const std::shared_ptr<Listener>& l);
  void start(const std::shared_ptr<Listener>& l, asio::ip::tcp::socket socket);
  void serve(std::uint32_t listener, const peerwire::SeederConfig& config, std::optional<IpAddress> peer,
             std::shared_ptr<net::Transport> transport);
  void finish(Conn* c);

  asio::io_context& io_;
  SeederHostConfig config_;
  MetadataCatalog& catalog_;
  std::vector<std::shared_ptr<Listener>> listeners_;
  struct UtpListener;
  std::vector<std::unique_ptr<UtpListener>> utp_listeners_;
  std::unordered_map<Conn*, std::shared_ptr<Conn>> conns_;
  std::vector<char> rx_;
  std::shared_ptr<bool> alive_;
  SeederHostCounters counters_;
  bool closed_ = false;
};

}  // namespace bitscrape::testnet
