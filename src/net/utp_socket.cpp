#include "net/utp_socket.hpp"

#include "common/splitmix.hpp"

#include <asio/post.hpp>

#include <optional>
#include <string>
#include <vector>

namespace bitscrape::net {

namespace {
std::uint32_t micros(TimePoint t) noexcept {
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}
}  // namespace

class UtpSocket::Stream final : public Transport, public std::enable_shared_from_this<Stream> {
 public:
  Stream(UtpSocket* owner, asio::io_context& io, const Endpoint& peer, bool outgoing)
      : owner_(owner),
        alive_(owner->alive_),
        io_(io),
        peer_(peer),
        outgoing_(outgoing),
        connected_(!outgoing) {}

  // The socket, or nullptr once it is closed or gone.
  UtpSocket* owner() const noexcept { return alive_.expired() ? nullptr : owner_; }

  void open(Events& events) override {
    if (events_ != nullptr || user_closed_) return;
    events_ = &events;
    auto* owner = this->owner();
    if (owner == nullptr) {
      fail_later("uTP socket closed");
      return;
    }
    if (conn_) {  // accepted: deliver what arrived meanwhile
      owner->service(*this, Clock::now());
      if (events_ != nullptr && conn_->closed()) fail_later("closed by peer");
      return;
    }
    if (!owner->has_room() || owner->closed_) {
      ++owner->counters_.refused_connect;
      fail_later("too many uTP connections");
      return;
    }
    owner->open_stream(shared_from_this(), Clock::now());
  }
  bool connected() const noexcept override { return connected_; }
  void write(std::string_view bytes) override {
    if (events_ == nullptr || bytes.empty()) return;
    pending_.append(bytes);
    auto* owner = this->owner();
    if (owner != nullptr && conn_) owner->service(*this, Clock::now());
  }
  bool writing() const noexcept override { return !pending_.empty(); }
  void close() override {
    if (user_closed_) return;
    user_closed_ = true;
    events_ = nullptr;
    auto* owner = this->owner();
    if (owner == nullptr || !conn_) return;
    const auto now = Clock::now();
    if (!conn_->closed()) {
      if (!pending_.empty()) pending_.erase(0, conn_->write(pending_));
      conn_->close(now);
    }
    pending_.clear();
    owner->service(*this, now);
  }

  void fail_later(std::string why) {
    asio::post(io_, [self = shared_from_this(), why = std::move(why)] {
      if (self->events_ == nullptr) return;
      auto* e = self->events_;
      self->events_ = nullptr;
      e->on_transport_closed(why);
    });
  }

  UtpSocket* owner_;
  std::weak_ptr<char> alive_;  // the socket's liveness token
  asio::io_context& io_;
  Endpoint peer_;
  Key key_;
  std::optional<utp::Connection> conn_;
  Events* events_ = nullptr;
  std::string pending_;  // written, not yet taken by the connection (its send buffer was full)
  TimePoint wake_ = kNever;
  bool outgoing_;
  bool connected_;
  bool user_closed_ = false;
  bool registered_ = false;
  bool in_service_ = false;
  bool dirty_ = false;
};

UtpSocket::UtpSocket(asio::io_context& io, DatagramOut& out, UtpSocketConfig config, std::uint64_t seed)
    : io_(io), out_(out), config_(std::move(config)), rng_(seed), timer_(io) {}

UtpSocket::~UtpSocket() {
  close();
}

std::uint64_t UtpSocket::random() {
  return splitmix64_next(rng_);
}

std::shared_ptr<Transport> UtpSocket::connect(const Endpoint& peer) {
  return std::make_shared<Stream>(this, io_, peer, true);
}

void UtpSocket::open_stream(const std::shared_ptr<Stream>& s, TimePoint now) {
  Key k{s->peer_, 0};
  for (int tries = 0; tries < 64; ++tries) {
    k.id = static_cast<std::uint16_t>(random());
    if (!conns_.contains(k)) break;
  }
  if (conns_.contains(k)) {
    ++counters_.refused_connect;
    s->fail_later("no free uTP connection id");
    return;
  }
  s->key_ = k;
  s->conn_.emplace(utp::Connection::connect(config_.utp, k.id, static_cast<std::uint16_t>(random()), now));
  s->registered_ = true;
  conns_.emplace(k, s);
  ++counters_.connects;
  counters_.connections = conns_.size();
  counters_.peak_connections = std::max<std::uint64_t>(counters_.peak_connections, conns_.size());
  service(*s, now);
}

void UtpSocket::on_datagrams(std::span<const Datagram> batch) {
  ++batch_depth_;
  for (const auto& d : batch) on_datagram(d.bytes, d.from);
  --batch_depth_;
  flush();
}

void UtpSocket::on_datagram(std::string_view bytes, const Endpoint& from) {
  auto decoded = utp::decode(bytes);
  if (!decoded) {
    ++counters_.bad_datagrams;
    return;
  }
  ++counters_.datagrams_in;
  const auto& p = *decoded;
  const bool syn = p.header.type == utp::Type::Syn;
  const Key k{from, syn ? static_cast<std::uint16_t>(p.header.connection_id + 1) : p.header.connection_id};
  const auto now = Clock::now();
  if (auto it = conns_.find(k); it != conns_.end() && !(syn && it->second->outgoing_)) {
    const auto s = it->second;
    s->conn_->on_packet(p, now);
    service(*s, now);
    return;
  }
  if (!syn) {
    ++counters_.unknown_connection;
    return;
  }
  if (closed_ || !on_accept_ || !has_room() || conns_.contains(k)) {
    ++counters_.refused_syn;
    send_reset(from, p);
    flush();
    return;
  }
  auto s = std::make_shared<Stream>(this, io_, from, false);
  s->key_ = k;
  s->conn_.emplace(utp::Connection::accept(config_.utp, p, static_cast<std::uint16_t>(random()), now));
  s->registered_ = true;
  conns_.emplace(k, s);
  ++counters_.accepted;
  counters_.connections = conns_.size();
  counters_.peak_connections = std::max<std::uint64_t>(counters_.peak_connections, conns_.size());
  service(*s, now);  // the ST_STATE that answers the SYN
  on_accept_(s, from);
}

void UtpSocket::send_reset(const Endpoint& to, const utp::Packet& p) {
  utp::Header h;
  h.type = utp::Type::Reset;
  h.connection_id = p.header.connection_id;
  h.timestamp_us = micros(Clock::now());
  h.seq_nr = static_cast<std::uint16_t>(random());
  h.ack_nr = p.header.seq_nr;
  std::string d;
  utp::encode(d, h);
  out_.send_datagram(to, d);
  ++counters_.datagrams_out;
  ++counters_.resets_sent;
  flush_due_ = true;
}

// Runs one stream until it has nothing more to do now: events to its writer, bytes into the
// connection, datagrams out. Re-entrant calls (a writer writing from inside an event) mark it
// dirty and the outer call runs another round.
void UtpSocket::service(Stream& s, TimePoint now) {
  if (s.in_service_) {
    s.dirty_ = true;
    return;
  }
  const auto keep = s.shared_from_this();
  s.in_service_ = true;
  ++batch_depth_;
  int rounds = 0;
  do {
    s.dirty_ = false;
    step(s, now);
  } while (s.dirty_ && s.conn_ && ++rounds < 64);
  --batch_depth_;
  s.in_service_ = false;
  if (s.registered_ && s.conn_->closed() && s.events_ == nullptr) {
    remove(s);
  } else if (s.registered_) {
    schedule(s);
  }
  flush();
}

void UtpSocket::step(Stream& s, TimePoint now) {
  auto& c = *s.conn_;
  if (s.events_ != nullptr) {
    if (!s.connected_ && c.connected()) {
      s.connected_ = true;
      ++counters_.connected;
      s.events_->on_transport_connected();
    }
    if (s.events_ != nullptr && s.connected_ && c.received_size() > 0) {
      const auto bytes = c.take_received();
      s.events_->on_transport_data(bytes);  // a reader that is done drops the rest
      if (s.events_ != nullptr) s.events_->on_transport_read_done();
    }
    if (s.events_ != nullptr && !s.pending_.empty()) {
      s.pending_.erase(0, c.write(s.pending_));
      if (s.pending_.empty()) s.events_->on_transport_sent();
    }
    if (s.events_ != nullptr && (c.closed() || c.peer_finished())) {
      std::string why = "closed by peer";
      if (c.closed()) {
        if (c.error() == utp::Error::Reset) ++counters_.peer_resets;
        if (c.error() == utp::Error::Timeout || c.error() == utp::Error::ConnectTimeout) ++counters_.timeouts;
        if (c.error() != utp::Error::None) why = std::string(utp::to_string(c.error()));
      }
      auto* e = s.events_;
      s.events_ = nullptr;
      e->on_transport_closed(why);
    }
  }
  for (auto& d : c.take_datagrams(now)) {
    out_.send_datagram(s.peer_, d);
    ++counters_.datagrams_out;
    flush_due_ = true;
  }
}

void UtpSocket::schedule(Stream& s) {
  const auto wake = s.conn_->closed() ? kNever : s.conn_->next_wake();
  if (wake == s.wake_) return;
  if (s.wake_ != kNever) wakes_.erase({s.wake_, &s});
  s.wake_ = wake;
  if (wake != kNever) wakes_.insert({wake, &s});
  arm_timer();
}

void UtpSocket::arm_timer() {
  if (closed_) return;
  const auto earliest = wakes_.empty() ? kNever : wakes_.begin()->first;
  if (earliest == armed_for_) return;
  armed_for_ = earliest;
  if (earliest == kNever) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(earliest);
  timer_.async_wait([this](std::error_code ec) {
    if (ec) return;
    armed_for_ = kNever;
    on_timer();
  });
}

void UtpSocket::on_timer() {
  const auto now = Clock::now();
  std::vector<std::shared_ptr<Stream>> due;
  for (auto it = wakes_.begin(); it != wakes_.end() && it->first <= now; ++it)
    due.push_back(it->second->shared_from_this());
  ++batch_depth_;
  for (auto& s : due) {
    if (!s->registered_) continue;
    s->conn_->tick(now);
    service(*s, now);
  }
  --batch_depth_;
  flush();
  arm_timer();
}

void UtpSocket::remove(Stream& s) {
  if (!s.registered_) return;
  s.registered_ = false;
  if (s.wake_ != kNever) wakes_.erase({s.wake_, &s});
  s.wake_ = kNever;
  counters_.retransmits += s.conn_->stats().retransmits;
  conns_.erase(s.key_);
  counters_.connections = conns_.size();
}

void UtpSocket::flush() {
  if (batch_depth_ > 0 || !flush_due_) return;
  flush_due_ = false;
  out_.flush_datagrams();
}

void UtpSocket::close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  std::vector<std::shared_ptr<Stream>> all;
  all.reserve(conns_.size());
  for (auto& [k, s] : conns_) all.push_back(s);
  ++batch_depth_;
  for (auto& s : all) {
    if (!s->conn_->closed()) s->conn_->reset();
    for (auto& d : s->conn_->take_datagrams(Clock::now())) {
      out_.send_datagram(s->peer_, d);
      flush_due_ = true;
    }
    remove(*s);
    if (s->events_ != nullptr) s->fail_later("uTP socket closed");
  }
  --batch_depth_;
  flush();
  wakes_.clear();
  alive_.reset();  // streams still held by their writers see the socket gone
}

}  // namespace bitscrape::net
