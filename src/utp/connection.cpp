#include "utp/connection.hpp"

#include <algorithm>
#include <cstdlib>

namespace bitscrape::utp {

namespace {
std::uint32_t micros(TimePoint t) noexcept {
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}
std::int64_t to_us(Duration d) noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}
// Minimum of two delay samples that may have wrapped around 2^32 (clocks differ by anything).
std::uint32_t wrapping_min(std::uint32_t a, std::uint32_t b) noexcept {
  return static_cast<std::int32_t>(a - b) < 0 ? a : b;
}
}  // namespace

std::string_view to_string(Error e) noexcept {
  switch (e) {
    case Error::None: return "none";
    case Error::ConnectTimeout: return "connect timed out";
    case Error::Timeout: return "timed out";
    case Error::Reset: return "reset by peer";
  }
  return "?";
}

Connection::Connection(const Config& config, State s, std::uint16_t recv_id, std::uint16_t send_id)
    : cfg_(config),
      state_(s),
      recv_id_(recv_id),
      send_id_(send_id),
      rto_us_(to_us(config.initial_timeout)),
      max_window_(static_cast<double>(2 * config.max_payload)) {
  cfg_.reorder_slots = std::clamp<std::size_t>(cfg_.reorder_slots, 1, 8 * kMaxSackBytes);
  cfg_.max_flight_packets = std::max<std::size_t>(cfg_.max_flight_packets, 2);
  cfg_.max_payload = std::max<std::size_t>(cfg_.max_payload, 16);
}

Connection Connection::connect(const Config& config, std::uint16_t recv_id, std::uint16_t initial_seq,
                               TimePoint now) {
  Connection c(config, State::SynSent, recv_id, static_cast<std::uint16_t>(recv_id + 1));
  c.seq_nr_ = initial_seq;
  c.last_send_ = now;
  c.push_entry(Type::Syn, {}, now);
  return c;
}

Connection Connection::accept(const Config& config, const Packet& syn, std::uint16_t initial_seq, TimePoint now) {
  Connection c(config, State::SynRecv, static_cast<std::uint16_t>(syn.header.connection_id + 1),
               syn.header.connection_id);
  c.seq_nr_ = initial_seq;
  c.ack_nr_ = syn.header.seq_nr;
  c.syn_seq_ = syn.header.seq_nr;
  c.peer_wnd_ = syn.header.wnd_size;
  c.reply_micro_ = micros(now) - syn.header.timestamp_us;
  c.last_send_ = now;
  c.ack_due_ = true;  // the ST_STATE that answers the SYN
  return c;
}

std::size_t Connection::send_buffer_free() const noexcept {
  const std::size_t used = send_queue_.size() + unacked_bytes_;
  return used >= cfg_.max_send_buffer ? 0 : cfg_.max_send_buffer - used;
}

std::uint32_t Connection::advertised_window() const noexcept {
  const std::size_t used = received_.size() + reorder_bytes_;
  return used >= cfg_.max_receive_buffer ? 0 : static_cast<std::uint32_t>(cfg_.max_receive_buffer - used);
}

std::size_t Connection::memory_footprint() const noexcept {
  std::size_t n = sizeof(*this) + send_queue_.capacity() + received_.capacity() + present_.capacity() +
                  reorder_.capacity() * sizeof(std::string);
  for (const auto& s : reorder_) n += s.capacity();
  for (const auto& e : flight_) n += sizeof(Out) + e.payload.capacity();
  return n;
}

std::string Connection::describe() const {
  std::string s = "state " + std::to_string(static_cast<int>(state_)) + " seq " + std::to_string(seq_nr_) +
                  " ack " + std::to_string(ack_nr_) + " flight " + std::to_string(flight_.size()) + " net " +
                  std::to_string(network_bytes_) + " queue " + std::to_string(send_queue_.size()) + " wnd " +
                  std::to_string(static_cast<std::size_t>(max_window_)) + " peer_wnd " + std::to_string(peer_wnd_) +
                  " reorder " + std::to_string(reorder_count_) + " rto " + std::to_string(rto_us_) +
                  (rto_deadline_ == kNever ? " no-timer" : " timer");
  if (!flight_.empty())
    s += " front " + std::to_string(flight_.front().seq) + (flight_.front().in_network ? " net" : " out") +
         (flight_.front().acked ? " acked" : "");
  return s;
}

// ---- sending ---------------------------------------------------------------------------------

std::string Connection::make_sack() const {
  if (reorder_count_ == 0) return {};
  // Bit i stands for ack_nr + 2 + i; slot of seq s is s % reorder_slots.
  std::size_t highest = 0;
  for (std::size_t i = 0; i + 1 < cfg_.reorder_slots; ++i) {
    const auto seq = static_cast<std::uint16_t>(ack_nr_ + 2 + i);
    if (present_[seq % cfg_.reorder_slots]) highest = i + 1;
  }
  if (highest == 0) return {};
  std::string mask(((highest - 1) / 32 + 1) * 4, '\0');
  for (std::size_t i = 0; i < highest; ++i) {
    const auto seq = static_cast<std::uint16_t>(ack_nr_ + 2 + i);
    if (present_[seq % cfg_.reorder_slots]) mask[i / 8] = static_cast<char>(mask[i / 8] | (1 << (i % 8)));
  }
  return mask;
}

void Connection::emit(Type type, std::uint16_t seq, std::string_view payload, TimePoint now) {
  Header h;
  h.type = type;
  h.connection_id = type == Type::Syn ? recv_id_ : send_id_;
  h.timestamp_us = micros(now);
  h.timestamp_diff_us = reply_micro_;
  h.wnd_size = advertised_window();
  h.seq_nr = seq;
  h.ack_nr = type == Type::Syn ? 0 : ack_nr_;
  std::string d;
  encode(d, h, type == Type::Syn ? std::string_view{} : std::string_view(make_sack()), payload);
  out_.push_back(std::move(d));
  last_wnd_sent_ = h.wnd_size;
  last_send_ = now;
  ack_due_ = false;
  ++stats_.packets_sent;
}

void Connection::send_entry(Out& e, TimePoint now) {
  if (e.transmissions > 0) ++stats_.retransmits;
  emit(e.type, e.seq, e.payload, now);
  e.sent_at = now;
  if (e.transmissions < 255) ++e.transmissions;
  e.in_network = true;
  network_bytes_ += e.payload.size();
  if (rto_deadline_ == kNever) rto_deadline_ = now + std::chrono::microseconds(rto_us_);
}

void Connection::push_entry(Type type, std::string payload, TimePoint now) {
  Out e;
  e.type = type;
  e.seq = seq_nr_++;
  unacked_bytes_ += payload.size();
  e.payload = std::move(payload);
  flight_.push_back(std::move(e));
  send_entry(flight_.back(), now);
}

std::size_t Connection::window_room() const noexcept {
  const double limit = std::min(max_window_, static_cast<double>(peer_wnd_));
  const double room = limit - static_cast<double>(network_bytes_);
  return room <= 0 ? 0 : static_cast<std::size_t>(room);
}

std::vector<std::string> Connection::take_datagrams(TimePoint now) {
  if (state_ != State::Closed) {
    // Resends first, oldest first; the oldest may always go (it is what unblocks the peer).
    for (auto& e : flight_) {
      if (e.acked || e.in_network || e.transmissions == 0) continue;
      if (network_bytes_ > 0 && e.payload.size() > window_room()) break;
      send_entry(e, now);
    }
    const bool may_send = state_ == State::Connected;
    while (may_send && !send_queue_.empty() && !fin_sent_ && flight_.size() < cfg_.max_flight_packets) {
      std::size_t n = std::min(cfg_.max_payload, send_queue_.size());
      const std::size_t room = window_room();
      if (room < n) {
        // One packet may always be in the network unless the peer's window is closed.
        if (network_bytes_ > 0 || peer_wnd_ == 0) break;
      }
      push_entry(Type::Data, send_queue_.substr(0, n), now);
      send_queue_.erase(0, n);
    }
    if (closing_ && !fin_sent_ && send_queue_.empty() &&
        (state_ == State::Connected || state_ == State::SynRecv) && flight_.size() < cfg_.max_flight_packets) {
      fin_sent_ = true;
      push_entry(Type::Fin, {}, now);
    }
  }
  if (ack_due_) emit(Type::State, seq_nr_, {}, now);  // also the last ack, of the peer's FIN
  if (reset_pending_) {
    reset_pending_ = false;
    emit(Type::Reset, seq_nr_, {}, now);
  }
  return std::move(out_);
}

std::size_t Connection::write(std::string_view bytes) {
  if (state_ == State::Closed || closing_) return 0;
  const std::size_t n = std::min(bytes.size(), send_buffer_free());
  send_queue_.append(bytes.substr(0, n));
  return n;
}

std::string Connection::take_received() {
  std::string r = std::move(received_);
  received_.clear();
  // Tell a peer we had throttled that there is room again.
  if (!r.empty() && last_wnd_sent_ < cfg_.max_payload && advertised_window() >= cfg_.max_payload &&
      state_ != State::Closed)
    ack_due_ = true;
  return r;
}

void Connection::close(TimePoint /*now*/) {
  if (state_ == State::Closed || closing_) return;
  closing_ = true;
  if (state_ == State::SynSent) fail(Error::None);  // nothing was said yet: just forget it
}

void Connection::reset() {
  if (state_ == State::Closed) return;
  reset_pending_ = true;
  fail(Error::None);
}

void Connection::fail(Error e) {
  state_ = State::Closed;
  ack_due_ = false;
  error_ = e;
  send_queue_.clear();
  send_queue_.shrink_to_fit();
  flight_.clear();
  reorder_.clear();
  present_.clear();
  reorder_bytes_ = reorder_count_ = 0;
  unacked_bytes_ = network_bytes_ = 0;
  rto_deadline_ = zero_window_deadline_ = close_deadline_ = kNever;
}

// Closed cleanly once both FINs are through: ours acked, the peer's delivered (its ack goes
// out at the next take_datagrams()).
void Connection::maybe_finish() {
  if (state_ == State::Closed || !fin_sent_ || !flight_.empty() || !peer_finished_) return;
  state_ = State::Closed;
  rto_deadline_ = zero_window_deadline_ = close_deadline_ = kNever;
}

// ---- receiving -------------------------------------------------------------------------------

void Connection::on_packet(const Packet& p, TimePoint now) {
  if (state_ == State::Closed) return;
  const auto& h = p.header;
  ++stats_.packets_received;
  if (h.type == Type::Reset) {
    fail(Error::Reset);
    return;
  }
  if (h.type == Type::Syn) {
    // Our ST_STATE was lost: say it again. Anything else claiming to be a SYN is ignored.
    if (state_ != State::SynSent && h.connection_id == send_id_ && h.seq_nr == syn_seq_ && !connected_once_)
      ack_due_ = true;
    return;
  }
  reply_micro_ = micros(now) - h.timestamp_us;
  if (state_ == State::SynSent) {
    if (h.type != Type::State || flight_.empty() || h.ack_nr != flight_.front().seq) return;
    state_ = State::Connected;
    connected_once_ = true;
    ack_nr_ = static_cast<std::uint16_t>(h.seq_nr - 1);
  } else if (state_ == State::SynRecv) {
    state_ = State::Connected;
    connected_once_ = true;
  }
  peer_wnd_ = h.wnd_size;
  if (peer_wnd_ >= cfg_.max_payload) {
    zero_window_deadline_ = kNever;
  } else {
    // A full peer that still answers is alive: its silence about our probe is no timeout.
    timeouts_ = 0;
    if (zero_window_deadline_ == kNever) zero_window_deadline_ = now + cfg_.zero_window_probe;
  }
  process_ack(p, now);
  if (state_ == State::Closed) return;
  if (h.type == Type::Data || h.type == Type::Fin) on_data(h.seq_nr, p.payload, h.type == Type::Fin);
  maybe_finish();
}

void Connection::ack_entry(Out& e, TimePoint now, std::size_t& bytes_acked) {
  if (e.acked) return;
  e.acked = true;
  if (e.transmissions == 1) {  // Karn: only unambiguous samples
    const std::int64_t sample = std::max<std::int64_t>(to_us(now - e.sent_at), 0);
    if (!have_rtt_) {
      rtt_us_ = sample;
      rtt_var_us_ = sample / 2;
      have_rtt_ = true;
    } else {
      const std::int64_t delta = rtt_us_ - sample;
      rtt_var_us_ += (std::llabs(delta) - rtt_var_us_) / 4;
      rtt_us_ += (sample - rtt_us_) / 8;
    }
    rto_us_ = std::max(rtt_us_ + 4 * rtt_var_us_, to_us(cfg_.min_timeout));
  }
  if (e.in_network) network_bytes_ -= e.payload.size();
  e.in_network = false;
  unacked_bytes_ -= e.payload.size();
  bytes_acked += e.payload.size() + kHeaderSize;
}

void Connection::process_ack(const Packet& p, TimePoint now) {
  const auto& h = p.header;
  if (flight_.empty()) {
    last_ack_ = h.ack_nr;
    return;
  }
  const auto base = flight_.front().seq;
  // How many packets from the front does ack_nr cover? An ack_nr outside
  // [base - 1, seq_nr - 1] acks nothing we have in flight (old, or a lie).
  const auto covered = static_cast<std::uint16_t>(h.ack_nr - base + 1);
  std::size_t n = covered <= flight_.size() ? covered : 0;
  std::size_t bytes_acked = 0;
  for (std::size_t i = 0; i < n; ++i) ack_entry(flight_[i], now, bytes_acked);
  if (!p.sack.empty() && (n > 0 || h.ack_nr == static_cast<std::uint16_t>(base - 1))) {
    for (std::size_t i = 0; i < p.sack.size() * 8; ++i) {
      if (!(static_cast<unsigned char>(p.sack[i / 8]) & (1u << (i % 8)))) continue;
      const std::size_t idx = n + 1 + i;  // ack_nr + 2 + i, counted from base
      if (idx >= flight_.size()) break;
      ack_entry(flight_[idx], now, bytes_acked);
    }
  }
  const bool duplicate = bytes_acked == 0 && h.ack_nr == last_ack_ && p.payload.empty() &&
                         p.header.type == Type::State && network_bytes_ > 0;
  last_ack_ = h.ack_nr;
  while (!flight_.empty() && flight_.front().acked) flight_.pop_front();
  if (fin_sent_ && flight_.empty() && close_deadline_ == kNever) close_deadline_ = now + cfg_.close_timeout;
  if (bytes_acked > 0) {
    timeouts_ = 0;
    dup_acks_ = 0;
    rto_deadline_ = network_bytes_ > 0 || std::any_of(flight_.begin(), flight_.end(), [](const Out& e) {
                      return e.in_network;
                    })
                        ? now + std::chrono::microseconds(rto_us_)
                        : kNever;
    congestion_update(bytes_acked, h.timestamp_diff_us, now);
  } else if (duplicate) {
    ++dup_acks_;
  }
  if (flight_.empty()) return;
  // Fast retransmit: three packets past the oldest one got through, but it did not.
  Out& front = flight_.front();
  std::size_t acked_past = 0;
  for (std::size_t i = 1; i < flight_.size() && acked_past < 3; ++i) acked_past += flight_[i].acked;
  if (!front.fast_resent && front.in_network && (acked_past >= 3 || dup_acks_ >= 3)) {
    front.fast_resent = true;
    front.in_network = false;
    network_bytes_ -= front.payload.size();
    dup_acks_ = 0;
    ++stats_.fast_retransmits;
    on_loss(false);
  }
}

void Connection::on_loss(bool timeout) {
  slow_start_ = false;
  const double one = static_cast<double>(cfg_.max_payload);
  if (timeout) {
    max_window_ = one;
    return;
  }
  // Halve once per episode: losses among packets sent before the last cut are the same episode.
  if (loss_episode_ && seq_before(flight_.front().seq, loss_seq_)) return;
  loss_episode_ = true;
  loss_seq_ = seq_nr_;
  max_window_ = std::max(max_window_ / 2, one);
}

void Connection::congestion_update(std::size_t bytes_acked, std::uint32_t sample, TimePoint now) {
  const double one = static_cast<double>(cfg_.max_payload);
  const double cap = static_cast<double>(std::max(cfg_.max_send_buffer, cfg_.max_payload));
  double our_delay_us = 0;
  bool have_delay = false;
  if (sample != 0) {  // 0: the peer had nothing to measure yet
    if (!have_delay_cur_ || now - delay_bucket_start_ >= std::chrono::minutes(1)) {
      if (have_delay_cur_) {
        delay_min_prev_ = delay_min_cur_;
        have_delay_prev_ = true;
      }
      delay_min_cur_ = sample;
      have_delay_cur_ = true;
      delay_bucket_start_ = now;
    } else {
      delay_min_cur_ = wrapping_min(delay_min_cur_, sample);
    }
    const std::uint32_t base = have_delay_prev_ ? wrapping_min(delay_min_cur_, delay_min_prev_) : delay_min_cur_;
    our_delay_us = static_cast<double>(static_cast<std::uint32_t>(sample - base));
    have_delay = true;
  }
  const double target = static_cast<double>(std::max<std::int64_t>(to_us(cfg_.target_delay), 1));
  if (slow_start_) {
    max_window_ += static_cast<double>(bytes_acked);
    if (have_delay && our_delay_us > target / 2) slow_start_ = false;
  } else if (have_delay) {
    const double acked = static_cast<double>(bytes_acked);
    const double window_factor = std::min(acked, max_window_) / std::max(max_window_, acked);
    const double delay_factor = (target - our_delay_us) / target;
    max_window_ += static_cast<double>(cfg_.max_cwnd_increase) * delay_factor * window_factor;
  }
  max_window_ = std::clamp(max_window_, one, cap);
}

void Connection::on_data(std::uint16_t seq, std::string_view payload, bool fin) {
  ack_due_ = true;  // every data packet, new or not, is acked (a lost ack is repaired so)
  if (fin) {
    if (!fin_seen_ && !seq_before(seq, static_cast<std::uint16_t>(ack_nr_ + 1))) {
      fin_seen_ = true;
      eof_seq_ = seq;
    }
    deliver_in_order();
    return;
  }
  if (fin_seen_ && !seq_before(seq, eof_seq_)) return;  // past the end of the stream
  const auto next = static_cast<std::uint16_t>(ack_nr_ + 1);
  if (seq_before(seq, next)) {
    ++stats_.duplicates_received;
    return;
  }
  const std::size_t ahead = static_cast<std::uint16_t>(seq - next);  // 0 = the next one
  // The next packet in order only has to fit beside what the app has not taken yet: were the
  // out-of-order ones counted, a full reorder buffer could refuse the very packet it waits for.
  const std::size_t used = received_.size() + (ahead == 0 ? 0 : reorder_bytes_);
  if (ahead >= cfg_.reorder_slots || used + payload.size() > cfg_.max_receive_buffer) {
    ++stats_.dropped_no_room;
    return;
  }
  if (ahead == 0) {
    received_.append(payload);
    ack_nr_ = seq;
    deliver_in_order();
    return;
  }
  if (reorder_.empty()) {
    reorder_.resize(cfg_.reorder_slots);
    present_.assign(cfg_.reorder_slots, 0);
  }
  const std::size_t slot = seq % cfg_.reorder_slots;
  if (present_[slot]) {
    ++stats_.duplicates_received;
    return;
  }
  reorder_[slot].assign(payload);
  present_[slot] = 1;
  reorder_bytes_ += payload.size();
  ++reorder_count_;
}

void Connection::deliver_in_order() {
  while (reorder_count_ > 0) {
    const auto next = static_cast<std::uint16_t>(ack_nr_ + 1);
    const std::size_t slot = next % cfg_.reorder_slots;
    if (!present_[slot]) break;
    received_.append(reorder_[slot]);
    reorder_bytes_ -= reorder_[slot].size();
    std::string().swap(reorder_[slot]);
    present_[slot] = 0;
    --reorder_count_;
    ack_nr_ = next;
  }
  if (reorder_count_ == 0 && !reorder_.empty()) {
    reorder_.clear();
    reorder_.shrink_to_fit();
    present_.clear();
    present_.shrink_to_fit();
  }
  if (fin_seen_ && !peer_finished_ && eof_seq_ == static_cast<std::uint16_t>(ack_nr_ + 1)) {
    ack_nr_ = eof_seq_;
    peer_finished_ = true;
  }
}

// ---- time ------------------------------------------------------------------------------------

void Connection::tick(TimePoint now) {
  if (state_ == State::Closed) return;
  if (now >= close_deadline_) {
    // Everything we said was acked and the peer never sent its FIN: that is its business.
    state_ = State::Closed;
    rto_deadline_ = zero_window_deadline_ = close_deadline_ = kNever;
    return;
  }
  if (now >= rto_deadline_) {
    ++timeouts_;
    ++stats_.timeouts;
    if (state_ == State::SynSent) {
      if (timeouts_ > cfg_.syn_retries) {
        fail(Error::ConnectTimeout);
        return;
      }
    } else if (timeouts_ > cfg_.max_retransmits) {
      // Only our FIN is unacked and the peer's FIN came: every byte got through both ways, and
      // the peer closed before its ack of our FIN arrived (it keeps no TIME_WAIT). Clean.
      const bool only_fin_left = flight_.size() == 1 && flight_.front().type == Type::Fin;
      if (only_fin_left && peer_finished_) {
        flight_.clear();
        state_ = State::Closed;
        rto_deadline_ = zero_window_deadline_ = close_deadline_ = kNever;
      } else {
        fail(Error::Timeout);
      }
      return;
    } else {
      on_loss(true);
    }
    rto_us_ = std::min(rto_us_ * 2, to_us(cfg_.max_timeout));
    for (auto& e : flight_) {
      if (!e.in_network) continue;
      e.in_network = false;
      network_bytes_ -= e.payload.size();
    }
    rto_deadline_ = kNever;  // re-armed when the resend goes out
  }
  if (now >= zero_window_deadline_) {
    peer_wnd_ = static_cast<std::uint32_t>(cfg_.max_payload);
    zero_window_deadline_ = kNever;
  }
  if (state_ == State::Connected && now - last_send_ >= cfg_.keepalive) ack_due_ = true;
}

TimePoint Connection::next_wake() const noexcept {
  if (state_ == State::Closed) return kNever;
  TimePoint t = std::min({rto_deadline_, zero_window_deadline_, close_deadline_});
  if (state_ == State::Connected) t = std::min(t, last_send_ + cfg_.keepalive);
  return t;
}

}  // namespace bitscrape::utp
