#include "testnet/node_host.hpp"

#include "net/address.hpp"
#include "utp/packet.hpp"

#include <asio/ip/udp.hpp>
#include <asio/ip/v6_only.hpp>

#include <algorithm>
#include <chrono>
#include <deque>

namespace bitscrape::testnet {

using namespace std::chrono_literals;

namespace {
bool would_block(const std::error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}
}  // namespace

struct NodeHost::Sink final : dht::DatagramSink {
  NodeHost* host = nullptr;
  Slot* slot = nullptr;
  void send(std::string_view datagram, const Endpoint& to) override { host->send_from(*slot, datagram, to); }
};

struct NodeHost::Slot {
  explicit Slot(asio::io_context& io) : sock4(io), sock6(io) {}
  asio::ip::udp::socket sock4;
  asio::ip::udp::socket sock6;
  Endpoint ep4;
  std::optional<Endpoint> ep6;
  Sink sink;
  std::unique_ptr<dht::Node> node;
  OutFilter filter;
  DatagramHandler utp;
  // Datagrams the kernel would not take yet, per family; allocated on first need.
  std::unique_ptr<std::deque<std::pair<Endpoint, std::string>>> backlog[2];
  bool write_armed[2] = {false, false};
  dht::TimePoint armed = dht::kNever;  // the wake-up this slot has in the heap (kNever: none)
  std::uint32_t index = 0;
  bool closed = false;

  asio::ip::udp::socket& sock(bool v6) { return v6 ? sock6 : sock4; }
};

NodeHost::NodeHost(asio::io_context& io, std::size_t receive_buffer_bytes)
    : io_(io),
      timer_(io),
      rx_(kReceiveBuffer),
      rcvbuf_(receive_buffer_bytes),
      alive_(std::make_shared<bool>(true)) {}

NodeHost::~NodeHost() {
  close();
}

Result<std::size_t, std::string> NodeHost::add(const dht::NodeConfig& cfg, const Endpoint& v4,
                                               const std::optional<Endpoint>& v6, dht::Observer* observer) {
  if (closed_) return Unexpected{std::string("node host is closed")};
  auto s = std::make_shared<Slot>(io_);
  s->index = static_cast<std::uint32_t>(slots_.size());
  const auto open = [this](asio::ip::udp::socket& sock, const Endpoint& at,
                           Endpoint& bound) -> Result<void, std::string> {
    std::error_code ec;
    const auto ep = net::to_asio(at);
    if (sock.open(ep.protocol(), ec); ec)
      return Unexpected{"cannot open a UDP socket for " + at.to_string() + ": " + ec.message()};
    if (ep.address().is_v6()) sock.set_option(asio::ip::v6_only(true), ec);
    if (rcvbuf_ > 0) sock.set_option(asio::socket_base::receive_buffer_size(static_cast<int>(rcvbuf_)), ec);
    if (sock.bind(ep, ec); ec) return Unexpected{"cannot bind UDP " + at.to_string() + ": " + ec.message()};
    if (sock.non_blocking(true, ec); ec)
      return Unexpected{"cannot make " + at.to_string() + " non-blocking: " + ec.message()};
    const auto local = sock.local_endpoint(ec);
    bound = ec ? at : net::from_asio(local);
    return {};
  };
  if (auto r = open(s->sock4, v4, s->ep4); !r) return Unexpected{r.error()};
  if (v6) {
    Endpoint bound;
    if (auto r = open(s->sock6, *v6, bound); !r) return Unexpected{r.error()};
    s->ep6 = bound;
  }
  hosted_.insert(s->ep4);
  if (s->ep6) hosted_.insert(*s->ep6);
  s->sink.host = this;
  s->sink.slot = s.get();
  s->node = std::make_unique<dht::Node>(cfg, s->sink, observer, dht::Clock::now());
  slots_.push_back(s);
  arm_read(s, false);
  if (s->ep6) arm_read(s, true);
  rearm(*s, s->node->next_wake());
  return static_cast<std::size_t>(s->index);
}

dht::Node& NodeHost::node(std::size_t i) {
  return *slots_[i]->node;
}
const dht::Node& NodeHost::node(std::size_t i) const {
  return *slots_[i]->node;
}
const Endpoint& NodeHost::endpoint(std::size_t i) const {
  return slots_[i]->ep4;
}
const std::optional<Endpoint>& NodeHost::endpoint6(std::size_t i) const {
  return slots_[i]->ep6;
}

void NodeHost::poke(std::size_t i) {
  rearm(*slots_[i], slots_[i]->node->next_wake());
}

void NodeHost::set_filter(std::size_t i, OutFilter filter) {
  slots_[i]->filter = std::move(filter);
}

void NodeHost::set_utp_handler(std::size_t i, DatagramHandler utp) {
  slots_.at(i)->utp = std::move(utp);
}

bool NodeHost::send_raw(std::size_t i, const Endpoint& to, std::string_view bytes) {
  Slot& s = *slots_[i];
  if (s.closed || (to.ip.is_v6() && !s.ep6)) return false;
  ++counters_.raw_out;
  return write(s, to.ip.is_v6(), bytes, to);
}

void NodeHost::send_from(Slot& s, std::string_view bytes, const Endpoint& to) {
  const bool v6 = to.ip.is_v6();
  if (s.closed || (v6 && !s.ep6)) {
    ++counters_.send_errors;
    return;
  }
  std::string_view out = bytes;
  if (s.filter) {
    out = s.filter(bytes, to, scratch_);
    if (out.empty()) return;
  }
  (void)write(s, v6, out, to);
}

bool NodeHost::write(Slot& s, bool v6, std::string_view bytes, const Endpoint& to) {
  auto& backlog = s.backlog[v6 ? 1 : 0];
  if (!backlog || backlog->empty()) {
    std::error_code ec;
    s.sock(v6).send_to(asio::buffer(bytes.data(), bytes.size()), net::to_asio(to), 0, ec);
    if (!ec) {
      ++counters_.datagrams_out;
      counters_.bytes_out += bytes.size();
      if (hosted_.count(to) == 0) ++counters_.external_out;
      return true;
    }
    if (!would_block(ec)) {
      ++counters_.send_errors;
      return false;
    }
  }
  if (!backlog) backlog = std::make_unique<std::deque<std::pair<Endpoint, std::string>>>();
  if (backlog->size() >= kMaxBacklog) {
    ++counters_.backlog_drops;
    return false;
  }
  backlog->emplace_back(to, std::string(bytes));
  arm_write(slots_[s.index], v6);
  return true;
}

void NodeHost::arm_write(const std::shared_ptr<Slot>& s, bool v6) {
  if (s->write_armed[v6 ? 1 : 0]) return;
  s->write_armed[v6 ? 1 : 0] = true;
  s->sock(v6).async_wait(asio::socket_base::wait_write,
                         [this, s, v6, alive = std::weak_ptr<bool>(alive_)](std::error_code ec) {
                           if (alive.expired() || s->closed) return;
                           s->write_armed[v6 ? 1 : 0] = false;
                           if (ec) return;
                           auto& q = *s->backlog[v6 ? 1 : 0];
                           while (!q.empty()) {
                             std::error_code wec;
                             const auto& [to, bytes] = q.front();
                             s->sock(v6).send_to(asio::buffer(bytes), net::to_asio(to), 0, wec);
                             if (would_block(wec)) break;
                             if (wec) {
                               ++counters_.send_errors;
                             } else {
                               ++counters_.datagrams_out;
                               counters_.bytes_out += bytes.size();
                               if (hosted_.count(to) == 0) ++counters_.external_out;
                             }
                             q.pop_front();
                           }
                           if (!q.empty()) arm_write(s, v6);
                         });
}

void NodeHost::arm_read(const std::shared_ptr<Slot>& s, bool v6) {
  s->sock(v6).async_wait(asio::socket_base::wait_read,
                         [this, s, v6, alive = std::weak_ptr<bool>(alive_)](std::error_code ec) {
                           if (ec || alive.expired() || s->closed) return;
                           on_readable(*s, v6);
                           if (!s->closed) arm_read(s, v6);
                         });
}

void NodeHost::on_readable(Slot& s, bool v6) {
  const auto now = dht::Clock::now();
  asio::ip::udp::endpoint from;
  for (std::size_t i = 0; i < kMaxReadsPerWake; ++i) {
    std::error_code ec;
    const std::size_t n = s.sock(v6).receive_from(asio::buffer(rx_), from, 0, ec);
    if (ec) break;  // would_block: drained; anything else: try again at the next wake
    ++counters_.datagrams_in;
    counters_.bytes_in += n;
    if (n >= rx_.size()) {
      ++counters_.oversize_in;
      continue;
    }
    const auto sender = net::from_asio(from);
    if (hosted_.count(sender) == 0) ++counters_.external_in;
    const std::string_view bytes(rx_.data(), n);
    if (s.utp && utp::looks_like_utp(bytes)) {
      ++counters_.utp_in;
      s.utp(bytes, sender);
      if (s.closed) return;
      continue;
    }
    s.node->on_datagram(bytes, sender, now);
  }
  rearm(s, s.node->next_wake());
}

void NodeHost::rearm(Slot& s, dht::TimePoint w) {
  if (s.closed || w == dht::kNever || w >= s.armed) return;
  s.armed = w;
  heap_.emplace(w, s.index);
  if (w < timer_at_) arm_timer();
}

void NodeHost::arm_timer() {
  if (heap_.empty() || closed_) return;
  timer_at_ = heap_.top().first;
  timer_.expires_at(timer_at_);
  timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](std::error_code ec) {
    if (ec || alive.expired()) return;
    on_timer();
  });
}

void NodeHost::on_timer() {
  timer_at_ = dht::kNever;
  const auto now = dht::Clock::now();
  // Bounded work per wake-up so sockets are served in between; what is left fires again at once.
  std::size_t budget = slots_.size() + 64;
  while (!heap_.empty() && heap_.top().first <= now && budget-- > 0) {
    const auto [t, i] = heap_.top();
    heap_.pop();
    Slot& s = *slots_[i];
    if (s.armed != t || s.closed) continue;  // stale: the slot was re-armed earlier since
    ++counters_.ticks;
    auto w = s.node->tick(now);
    if (w <= now) w = now + 1ms;  // a node asking to run again at once must not spin the loop
    s.armed = dht::kNever;
    if (w != dht::kNever) {
      s.armed = w;
      heap_.emplace(w, s.index);
    }
  }
  // Stale entries are dropped as they surface; if they pile up (nodes re-armed earlier again
  // and again), rebuild the heap from what each slot really waits for.
  if (heap_.size() > 4 * slots_.size() + 1024) {
    std::vector<Wake> live;
    live.reserve(slots_.size());
    for (const auto& s : slots_)
      if (s->armed != dht::kNever && !s->closed) live.emplace_back(s->armed, s->index);
    heap_ = decltype(heap_)(std::greater<>(), std::move(live));
  }
  arm_timer();
}

void NodeHost::close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  for (auto& s : slots_) {
    s->closed = true;
    std::error_code ec;
    s->sock4.close(ec);
    s->sock6.close(ec);
  }
}

}  // namespace bitscrape::testnet
