// utp::Connection: one uTP (BEP-29) connection, sans-I/O — a reliable, ordered byte stream
// over datagrams with LEDBAT congestion control.
//
// Driving it (the adapter owns the UDP socket, demultiplexes on (peer, connection id) and
// owns one timer for all connections):
//   auto c = Connection::connect(config, recv_id, initial_seq, now);   // queues ST_SYN
//   auto c = Connection::accept(config, syn_packet, initial_seq, now);  // answers an ST_SYN
//   on a datagram for it:  c.on_packet(decoded, now);
//   at c.next_wake():      c.tick(now);
//   app bytes:             c.write(bytes) (returns how many it took), c.take_received();
//   after any call:        send every datagram of c.take_datagrams(now) to the peer.
// The object never reads a clock and never throws; randomness (ids, initial sequence
// numbers) comes from the caller.
//
// Protocol (BEP-29, as libutp and libtorrent implement it):
//   - the initiator picks recv_id, sends ST_SYN with connection_id = recv_id, and sends every
//     later packet with send_id = recv_id + 1; the acceptor does the reverse;
//   - ST_DATA, ST_SYN and ST_FIN take a sequence number, ST_STATE carries the next one without
//     taking it: the initiator sets ack_nr = seq_nr - 1 from the acceptor's ST_STATE;
//   - every packet acks the in-order prefix (ack_nr) and, with the selective-ack extension,
//     the out-of-order packets held past ack_nr + 1 (bit i = ack_nr + 2 + i);
//   - loss: a packet is resent when three later packets are acked (selective acks or
//     duplicate acks; the window halves once per loss episode) or when the retransmission
//     timer fires (timeout = max(rtt + 4 rtt_var, min_timeout), doubling on each expiry; the
//     window drops to one packet; max_retransmits expiries in a row kill the connection);
//   - LEDBAT: the peer's timestamp_difference is our one-way delay plus a clock offset; the
//     minimum over the last two minutes is the base delay, and the window moves by
//     max_cwnd_increase * (target - (delay - base)) / target per window of acked bytes.
//     Slow start (window += acked bytes) runs until the first loss or delay above target/2;
//   - keep-alive: an ST_STATE after `keepalive` without sending anything;
//   - a zero receive window from the peer is probed with one packet after zero_window_probe.
//
// Memory (bounded whatever the peer sends): unacked + queued outgoing bytes ≤ max_send_buffer
// (write() takes no more); delivered-but-not-taken + out-of-order bytes ≤ max_receive_buffer
// plus one packet (the free part is advertised as wnd_size; packets past it are dropped and
// come again; the next packet in order is refused only when the app's unread bytes fill the
// buffer); at most
// reorder_slots out-of-order packets and max_flight_packets unacked ones.
//
// Deviations: we ack every data packet at the next take_datagrams() (no delayed-ack timer:
// several datagrams handled in one batch share one ack); no half-close API: close() sends our FIN
// after our data and then waits (at most close_timeout) for the peer's; no MTU
// discovery: packets carry at most max_payload bytes; a ST_SYN carrying data is not accepted.
//
// Threading: one object belongs to one thread; it shares nothing.
#pragma once

#include "common/time.hpp"
#include "utp/packet.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace bitscrape::utp {

using bitscrape::Duration;
using bitscrape::kNever;
using bitscrape::TimePoint;

struct Config {
  std::size_t max_payload = 1200;  // data bytes per packet (fits any path MTU we meet)
  std::size_t max_send_buffer = 64 * 1024;
  std::size_t max_receive_buffer = 64 * 1024;
  std::size_t reorder_slots = 128;  // ≤ 8 * kMaxSackBytes
  std::size_t max_flight_packets = 256;
  Duration target_delay = std::chrono::milliseconds(100);
  std::uint32_t max_cwnd_increase = 3000;  // bytes per RTT at zero delay
  Duration initial_timeout = std::chrono::milliseconds(1000);
  Duration min_timeout = std::chrono::milliseconds(500);
  Duration max_timeout = std::chrono::seconds(30);
  int syn_retries = 2;      // ST_SYN resends before connect fails (1 s + 2 s + 4 s)
  int max_retransmits = 4;  // timer expiries in a row before the connection is dead
  Duration keepalive = std::chrono::seconds(29);
  Duration zero_window_probe = std::chrono::seconds(15);
  Duration close_timeout = std::chrono::seconds(10);  // our FIN acked: wait this long for the peer's
};

enum class State : std::uint8_t { SynSent, SynRecv, Connected, Closed };
enum class Error : std::uint8_t { None, ConnectTimeout, Timeout, Reset };
std::string_view to_string(Error e) noexcept;

class Connection {
 public:
  static Connection connect(const Config& config, std::uint16_t recv_id, std::uint16_t initial_seq, TimePoint now);
  // `syn` must be an ST_SYN; the connection receives on syn.connection_id + 1.
  static Connection accept(const Config& config, const Packet& syn, std::uint16_t initial_seq, TimePoint now);

  // A packet whose connection_id is recv_id() (or, for the acceptor, a repeated ST_SYN).
  void on_packet(const Packet& p, TimePoint now);
  void tick(TimePoint now);
  // Queues bytes to send; returns how many fit in the send buffer (0 once closing or closed).
  std::size_t write(std::string_view bytes);
  // Bytes received in order, moved out.
  std::string take_received();
  // Sends FIN after everything written; closed when our FIN is acked and the peer's FIN has
  // arrived, or close_timeout after our FIN was acked (the peer need not send one). Getting
  // the data and FIN through is bounded by max_retransmits like any other packet.
  void close(TimePoint now);
  // Aborts: queues ST_RESET and closes.
  void reset();

  // Datagrams to send, built now: resends, new data within the window, FIN, and an ST_STATE
  // when something must be acked and nothing else carried the ack.
  std::vector<std::string> take_datagrams(TimePoint now);
  // When tick() must run; kNever once closed.
  TimePoint next_wake() const noexcept;

  State state() const noexcept { return state_; }
  bool connected() const noexcept { return state_ == State::Connected; }
  bool closed() const noexcept { return state_ == State::Closed; }
  Error error() const noexcept { return error_; }
  // The peer's FIN arrived and every byte before it was delivered.
  bool peer_finished() const noexcept { return peer_finished_; }
  std::uint16_t recv_id() const noexcept { return recv_id_; }
  std::uint16_t send_id() const noexcept { return send_id_; }
  std::size_t send_buffer_free() const noexcept;
  std::size_t received_size() const noexcept { return received_.size(); }

  struct Stats {
    std::uint64_t packets_sent = 0;
    std::uint64_t packets_received = 0;
    std::uint64_t retransmits = 0;
    std::uint64_t fast_retransmits = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t duplicates_received = 0;
    std::uint64_t dropped_no_room = 0;  // data past the receive window or the reorder slots
  };
  const Stats& stats() const noexcept { return stats_; }
  // Congestion window in bytes and the latest smoothed RTT (for tests and telemetry).
  std::size_t window() const noexcept { return static_cast<std::size_t>(max_window_); }
  Duration rtt() const noexcept { return std::chrono::microseconds(rtt_us_); }
  Duration timeout() const noexcept { return std::chrono::microseconds(rto_us_); }
  std::size_t memory_footprint() const noexcept;
  // One line for logs and failing tests.
  std::string describe() const;

 private:
  struct Out {
    std::string payload;
    TimePoint sent_at{};
    std::uint16_t seq = 0;
    Type type = Type::Data;
    std::uint8_t transmissions = 0;
    bool acked = false;
    bool in_network = false;  // sent and neither acked nor due for resend
    bool fast_resent = false;
  };

  Connection(const Config& config, State s, std::uint16_t recv_id, std::uint16_t send_id);

  std::uint32_t advertised_window() const noexcept;
  std::string make_sack() const;
  void emit(Type type, std::uint16_t seq, std::string_view payload, TimePoint now);
  void send_entry(Out& e, TimePoint now);
  void push_entry(Type type, std::string payload, TimePoint now);
  void process_ack(const Packet& p, TimePoint now);
  void ack_entry(Out& e, TimePoint now, std::size_t& bytes_acked);
  void on_data(std::uint16_t seq, std::string_view payload, bool fin);
  void deliver_in_order();
  void congestion_update(std::size_t bytes_acked, std::uint32_t delay_sample, TimePoint now);
  void on_loss(bool timeout);
  void fail(Error e);
  void maybe_finish();
  std::size_t window_room() const noexcept;

  Config cfg_;
  State state_;
  Error error_ = Error::None;
  std::uint16_t recv_id_;
  std::uint16_t send_id_;
  std::uint16_t seq_nr_ = 0;  // next sequence number we send
  std::uint16_t ack_nr_ = 0;  // last peer packet received in order
  std::uint16_t syn_seq_ = 0;  // the peer's ST_SYN (acceptor), to spot a repeated one
  std::uint16_t eof_seq_ = 0;  // the peer's FIN, when fin_seen_
  std::uint16_t last_ack_ = 0;
  std::uint16_t loss_seq_ = 0;  // packets before this belong to the last loss episode
  std::uint32_t reply_micro_ = 0;
  std::uint32_t peer_wnd_ = 0;
  std::uint32_t last_wnd_sent_ = 0;

  std::deque<Out> flight_;  // seq_nr_ - flight_.size() .. seq_nr_ - 1, oldest first
  std::string send_queue_;  // written, not yet in a packet
  std::size_t unacked_bytes_ = 0;
  std::size_t network_bytes_ = 0;  // payload bytes in flight (counted against the window)

  std::string received_;                // in order, not yet taken
  std::vector<std::string> reorder_;    // slot (seq % reorder_slots), allocated on first use
  std::vector<std::uint8_t> present_;
  std::size_t reorder_bytes_ = 0;
  std::size_t reorder_count_ = 0;

  TimePoint rto_deadline_ = kNever;
  TimePoint zero_window_deadline_ = kNever;
  TimePoint close_deadline_ = kNever;
  TimePoint last_send_{};
  std::int64_t rtt_us_ = 0;
  std::int64_t rtt_var_us_ = 0;
  std::int64_t rto_us_;
  double max_window_;

  // LEDBAT base delay: the minimum of this minute and of the previous one.
  TimePoint delay_bucket_start_{};
  std::uint32_t delay_min_cur_ = 0;
  std::uint32_t delay_min_prev_ = 0;
  bool have_delay_cur_ = false;
  bool have_delay_prev_ = false;

  int timeouts_ = 0;  // expiries in a row
  int dup_acks_ = 0;
  bool have_rtt_ = false;
  bool slow_start_ = true;
  bool loss_episode_ = false;
  bool ack_due_ = false;
  bool closing_ = false;
  bool fin_sent_ = false;
  bool fin_seen_ = false;
  bool peer_finished_ = false;
  bool reset_pending_ = false;
  bool connected_once_ = false;
  std::vector<std::string> out_;
  Stats stats_;
};

}  // namespace bitscrape::utp
