// UdpSocket: a non-blocking UDP socket on an asio::io_context that moves datagrams in batches.
//
// On Linux, reads drain the socket with recvmmsg() and writes go out with sendmmsg() (up to
// kBatch datagrams per system call); elsewhere (macOS, Windows) the same interface falls back to
// one receive_from/send_to per datagram. The protocol core never sees any of this: it is handed
// batches of (bytes, from) and gives back (bytes, to).
//
// Sending never blocks and never queues without bound: when the kernel's buffer is full the
// datagram waits in a bounded queue (max_queued); past that it is dropped and counted.
//
// On Linux the datagrams go out through a second socket bound to the same address (SO_REUSEPORT,
// with a one-instruction reuseport program that steers every incoming datagram to the first
// socket) that is never registered with the event loop. The kernel wakes the wait queue of a
// socket each time it frees a datagram that socket sent (sock_wfree -> write-space wakeup, an
// irq-save lock per datagram when epoll watches the socket); a send-only socket nobody waits on
// skips that. A plain bind before the pair keeps "address in use" exact: a second process cannot
// share the port by accident. If the kernel refuses any step, one socket does both jobs.
//
// Threading: owned by the thread running its io_context; no method is thread-safe.
#pragma once

#include "common/endpoint.hpp"
#include "net/address.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace bitscrape::net {

struct Datagram {
  std::string_view bytes;
  Endpoint from;
};

struct UdpCounters {
  std::uint64_t datagrams_in = 0;
  std::uint64_t datagrams_out = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t receive_batches = 0;  // system calls that returned datagrams
  std::uint64_t send_batches = 0;
  std::uint64_t send_errors = 0;       // datagrams the kernel refused (unreachable, etc.)
  std::uint64_t send_queue_drops = 0;  // datagrams dropped because the send queue was full
  std::uint64_t truncated_in = 0;      // datagrams larger than the receive buffer slot
  // Demultiplexing (only while a uTP handler is set): KRPC datagrams start with 'd' (a
  // bencoded dictionary), uTP ones with type 0..4 and version 1 (utp::looks_like_utp); anything
  // else is counted unknown and goes to the DHT side with KRPC (its inbound limiter sees floods).
  std::uint64_t krpc_in = 0;
  std::uint64_t utp_in = 0;
  std::uint64_t unknown_in = 0;
};

class UdpSocket {
 public:
  static constexpr std::size_t kBatch = 64;  // datagrams per system call
  static constexpr std::size_t kMaxDatagram =
      2048;  // receive slot; larger datagrams are truncated and dropped

  // Called with each batch of received datagrams; the views are valid during the call only.
  using Handler = std::function<void(std::span<const Datagram>)>;

  UdpSocket(asio::io_context& io, std::size_t max_queued = 16384);
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  // Binds to `local` (port 0 = any). On failure returns the error (e.g. address in use).
  std::error_code open(const Endpoint& local);
  Endpoint local_endpoint() const;

  // Starts reading; `handler` runs on the io_context thread for every batch.
  void start(Handler handler);
  // From now on uTP datagrams go to `utp` and only KRPC-looking ones to the start() handler
  // (see UdpCounters); an empty handler turns demultiplexing off (everything to start()'s).
  void set_utp_handler(Handler utp) { utp_handler_ = std::move(utp); }
  void close();

  // Queues a datagram; it goes out at the next flush(). Returns false if it had to be dropped.
  bool send(const Endpoint& to, std::string_view bytes);
  // Writes out everything queued that the kernel will take now.
  void flush();

  const UdpCounters& counters() const noexcept { return counters_; }
  // True when sends use the separate send-only socket (Linux); false when one socket does both.
  bool has_send_socket() const noexcept { return send_fd_ >= 0; }
  std::size_t queued() const noexcept { return tail_ - head_; }

 private:
  void arm_read();
  void arm_write();
  void open_send_socket(const asio::ip::udp::endpoint& bound);
  std::size_t receive_batch(std::vector<Datagram>& out);
  void demultiplex();

  asio::ip::udp::socket socket_;
  int send_fd_ = -1;               // the send-only socket, or -1 (sends go through socket_)
  asio::steady_timer send_retry_;  // a full send-only socket is retried by timer (it is not polled)
  Handler handler_;
  Handler utp_handler_;
  std::size_t max_queued_;
  struct Outgoing {
    Endpoint to;
    std::string bytes;  // capacity is kept when the slot is reused: no steady-state allocation
  };
  // FIFO of pending datagrams: slots [head_, tail_) are queued. Slots are reused, never freed.
  std::vector<Outgoing> queue_;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
  bool write_armed_ = false;
  bool is_v6_ = false;
  std::vector<char> rx_;  // kBatch slots of kMaxDatagram bytes
  std::vector<Datagram> batch_;
  std::vector<Datagram> utp_batch_;
  UdpCounters counters_;
};

}  // namespace bitscrape::net
