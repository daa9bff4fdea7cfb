// UtpSocket: many utp::Connection (BEP-29) over one UDP socket — the DHT's, so peers see one
// port — each exposed as a net::Transport for net::WireDriver.
//
// Demultiplexing: the UDP socket hands every uTP-looking datagram (utp::looks_like_utp) to
// on_datagrams(); a connection is found by (peer endpoint, connection_id): an outgoing one by
// the recv_id it picked, an accepted one by the SYN's connection_id + 1 (a repeated SYN, same
// id, goes to the connection it opened). An ST_SYN with no connection is accepted when a
// listener is set and the caps allow, else answered with ST_RESET (so the peer gives up at once
// rather than after its SYN retries); other packets for no connection are dropped and counted
// (no reply: a stray packet must not make us a reflector).
//
// Timers: one asio timer for the whole socket, armed at the earliest next_wake() of its
// connections (kept in an ordered set); each wake-up ticks the connections due.
//
// Closing a stream (Transport::close) closes its connection gracefully: FIN after the bytes
// already handed to it, so a seeder's last piece is not cut off. The connection stays here,
// without events, until it is closed (bounded by utp::Config's close_timeout and retransmit
// limits) and counts against max_connections meanwhile.
//
// Caps: max_connections (open + closing) in total; connect() beyond it returns a transport that
// fails on open. Every connection's buffers are bounded by utp::Config; the bytes a stream takes
// from its writer wait in the connection's send buffer, at most max_send_buffer beyond it.
//
// Threading: the io_context's thread, like the UDP socket.
#pragma once

#include "common/endpoint.hpp"
#include "common/telemetry.hpp"
#include "common/time.hpp"
#include "net/transport.hpp"
#include "net/udp.hpp"
#include "utp/connection.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <span>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace bitscrape::net {

// Where a UtpSocket's datagrams go: send() queues, flush() writes out (UdpSocket's contract).
class DatagramOut {
 public:
  virtual ~DatagramOut() = default;
  virtual void send_datagram(const Endpoint& to, std::string_view bytes) = 0;
  virtual void flush_datagrams() = 0;
};

// DatagramOut over a net::UdpSocket.
class UdpSocketOut final : public DatagramOut {
 public:
  explicit UdpSocketOut(UdpSocket& s) : s_(s) {}
  void send_datagram(const Endpoint& to, std::string_view bytes) override { s_.send(to, bytes); }
  void flush_datagrams() override { s_.flush(); }

 private:
  UdpSocket& s_;
};

struct UtpSocketConfig {
  utp::Config utp;
  std::size_t max_connections = 4096;  // open and closing, outgoing and accepted
};

#define BITSCRAPE_UTP_SOCKET_COUNTERS(X)                                                \
  X(datagrams_in, counter)                                                              \
  X(datagrams_out, counter)                                                             \
  X(bad_datagrams, counter)      /* not a valid uTP packet */                           \
  X(unknown_connection, counter) /* valid, for no connection we have: dropped */        \
  X(connects, counter)                                                                  \
  X(connected, counter)                                                                 \
  X(accepted, counter)                                                                  \
  X(refused_syn, counter)     /* not listening or at the cap: answered with ST_RESET */ \
  X(refused_connect, counter) /* connect() at the cap */                                \
  X(resets_sent, counter)                                                               \
  X(timeouts, counter)                                                                  \
  X(peer_resets, counter)                                                               \
  X(retransmits, counter)                                                               \
  X(connections, gauge)                                                                 \
  X(peak_connections, gauge)

struct UtpSocketCounters {
  BITSCRAPE_UTP_SOCKET_COUNTERS(BITSCRAPE_COUNTER_FIELD)
  template <class F>
  void for_each(F&& f) const {
    BITSCRAPE_UTP_SOCKET_COUNTERS(BITSCRAPE_COUNTER_VISIT)
  }
};

class UtpSocket {
 public:
  // An accepted connection: serve it (open() the transport) or drop it (close()).
  using OnAccept = std::function<void(std::shared_ptr<Transport> transport, const Endpoint& peer)>;

  UtpSocket(asio::io_context& io, DatagramOut& out, UtpSocketConfig config, std::uint64_t seed);
  ~UtpSocket();
  UtpSocket(const UtpSocket&) = delete;
  UtpSocket& operator=(const UtpSocket&) = delete;

  // An outgoing stream to `peer`: sends ST_SYN when opened; on_transport_closed when the peer
  // resets or does not answer (utp::Config::syn_retries).
  std::shared_ptr<Transport> connect(const Endpoint& peer);
  // Accepts incoming connections from now on.
  void listen(OnAccept on_accept) { on_accept_ = std::move(on_accept); }
  // uTP datagrams received on the shared socket (views valid during the call).
  void on_datagrams(std::span<const Datagram> batch);
  void on_datagram(std::string_view bytes, const Endpoint& from);
  // Resets every connection (streams hear on_transport_closed) and accepts no more.
  void close();

  bool has_room() const noexcept { return conns_.size() < config_.max_connections; }
  std::size_t connections() const noexcept { return conns_.size(); }
  const UtpSocketCounters& counters() const noexcept { return counters_; }

  class Stream;

 private:
  struct Key {
    Endpoint peer;
    std::uint16_t id = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept { return EndpointHash{}(k.peer) * 31 + k.id; }
  };
  friend class Stream;

  std::uint64_t random();
  void open_stream(const std::shared_ptr<Stream>& s, TimePoint now);
  void service(Stream& s, TimePoint now);
  void step(Stream& s, TimePoint now);
  void schedule(Stream& s);
  void arm_timer();
  void on_timer();
  void remove(Stream& s);
  void send_reset(const Endpoint& to, const utp::Packet& p);
  void flush();

  asio::io_context& io_;
  DatagramOut& out_;
  UtpSocketConfig config_;
  std::uint64_t rng_;
  asio::steady_timer timer_;
  TimePoint armed_for_ = kNever;
  std::unordered_map<Key, std::shared_ptr<Stream>, KeyHash> conns_;
  std::set<std::pair<TimePoint, Stream*>> wakes_;
  OnAccept on_accept_;
  int batch_depth_ = 0;  // > 0: inside a batch, flush once at its end
  bool flush_due_ = false;
  bool closed_ = false;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
  UtpSocketCounters counters_;
};

}  // namespace bitscrape::net
