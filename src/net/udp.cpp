#include "net/udp.hpp"

#include "utp/packet.hpp"

#include <asio/ip/v6_only.hpp>
#include <asio/socket_base.hpp>

#include <cstring>

#ifdef __linux__
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#define BITSCRAPE_HAVE_MMSG 1
#endif

namespace bitscrape::net {

namespace {
#ifdef BITSCRAPE_HAVE_MMSG
Endpoint from_sockaddr(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto& sin = reinterpret_cast<const sockaddr_in&>(ss);
    std::array<std::uint8_t, 4> b{};
    std::memcpy(b.data(), &sin.sin_addr, 4);
    return {IpAddress::v4(b), ntohs(sin.sin_port)};
  }
  const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(ss);
  std::array<std::uint8_t, 16> b{};
  std::memcpy(b.data(), &sin6.sin6_addr, 16);
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (std::memcmp(b.data(), kMapped, 12) == 0) {
    return {IpAddress::v4({b[12], b[13], b[14], b[15]}), ntohs(sin6.sin6_port)};
  }
  return {IpAddress::v6(b), ntohs(sin6.sin6_port)};
}

// IPv4 datagrams leave with DF and are never fragmented by us (IP_PMTUDISC_DO): the protocol
// layers size every datagram to fit one packet, and a datagram larger than a path MTU the kernel
// learned fails with EMSGSIZE (dropped and counted as a send error) instead of leaving in
// fragments. Linux sends DF on UDP by default anyway (IP_PMTUDISC_WANT); the difference is
// fragmenting locally after a "fragmentation needed" and, for us, the cost: a DF datagram the
// kernel may not fragment gets IP ID 0 (RFC 6864 atomic datagram) instead of a per-packet
// hashed ID (__ip_select_ident, ~2.5% of a server answering queries).
void never_fragment(int fd, bool v6) {
  if (v6) return;  // IPv6 routers never fragment; the kernel only does so for oversized sends
  const int v = IP_PMTUDISC_DO;
  ::setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof v);
}

socklen_t to_sockaddr(const Endpoint& e, bool socket_is_v6, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (e.ip.is_v4() && !socket_is_v6) {
    auto& sin = reinterpret_cast<sockaddr_in&>(ss);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(e.port);
    std::memcpy(&sin.sin_addr, e.ip.raw().data(), 4);
    return sizeof(sockaddr_in);
  }
  auto& sin6 = reinterpret_cast<sockaddr_in6&>(ss);
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(e.port);
  if (e.ip.is_v4()) {  // v4 destination on a dual-stack v6 socket: v4-mapped
    auto* b = reinterpret_cast<std::uint8_t*>(&sin6.sin6_addr);
    b[10] = b[11] = 0xFF;
    std::memcpy(b + 12, e.ip.raw().data(), 4);
  } else {
    std::memcpy(&sin6.sin6_addr, e.ip.raw().data(), 16);
  }
  return sizeof(sockaddr_in6);
}
#endif
}  // namespace

UdpSocket::UdpSocket(asio::io_context& io, std::size_t max_queued)
    : socket_(io), send_retry_(io), max_queued_(max_queued), rx_(kBatch * kMaxDatagram) {
  batch_.reserve(kBatch);
  utp_batch_.reserve(kBatch);
}

UdpSocket::~UdpSocket() {
  close();
}

std::error_code UdpSocket::open(const Endpoint& local) {
  std::error_code ec;
  auto ep = to_asio(local);
  is_v6_ = local.ip.is_v6();
  bool pair = false;
#ifdef BITSCRAPE_HAVE_MMSG
  {
    // The plain bind: fails if anyone holds the address; for port 0 it picks the port.
    asio::ip::udp::socket probe(socket_.get_executor());
    probe.open(ep.protocol(), ec);
    if (ec) return ec;
    if (is_v6_) probe.set_option(asio::ip::v6_only(true), ec);
    probe.bind(ep, ec);
    if (ec) return ec;
    ep.port(probe.local_endpoint(ec).port());
    if (ec) return ec;
  }
#endif
  socket_.open(ep.protocol(), ec);
  if (ec) return ec;
  if (is_v6_) socket_.set_option(asio::ip::v6_only(true), ec);
#ifdef BITSCRAPE_HAVE_MMSG
  const int one = 1;
  pair = ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0;
#endif
  socket_.bind(ep, ec);
  if (ec) {
    socket_.close();
    return ec;
  }
  socket_.non_blocking(true, ec);
  // Large kernel buffers absorb bursts between event-loop turns.
  socket_.set_option(asio::socket_base::receive_buffer_size(8 << 20), ec);
  socket_.set_option(asio::socket_base::send_buffer_size(8 << 20), ec);
#ifdef BITSCRAPE_HAVE_MMSG
  never_fragment(socket_.native_handle(), is_v6_);
#endif
  if (pair) open_send_socket(socket_.local_endpoint(ec));
  return {};
}

void UdpSocket::open_send_socket([[maybe_unused]] const asio::ip::udp::endpoint& bound) {
#ifdef BITSCRAPE_HAVE_MMSG
  // Steer every datagram to the group's first socket (socket_) before anyone else joins.
  sock_filter to_first[] = {{BPF_RET | BPF_K, 0, 0, 0}};
  sock_fprog prog{1, to_first};
  if (::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) != 0)
    return;
  const int family = is_v6_ ? AF_INET6 : AF_INET;
  const int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const int one = 1, sndbuf = 8 << 20, rcvbuf = 1;
  bool ok = ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0 &&
            (!is_v6_ || ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0) &&
            ::bind(fd, bound.data(), static_cast<socklen_t>(bound.size())) == 0;
  if (!ok) {
    ::close(fd);
    return;
  }
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);  // receives nothing
  never_fragment(fd, is_v6_);
  send_fd_ = fd;
#endif
}

Endpoint UdpSocket::local_endpoint() const {
  std::error_code ec;
  return from_asio(socket_.local_endpoint(ec));
}

void UdpSocket::start(Handler handler) {
  handler_ = std::move(handler);
  arm_read();
}

void UdpSocket::close() {
  std::error_code ec;
  socket_.close(ec);
  send_retry_.cancel();
#ifdef BITSCRAPE_HAVE_MMSG
  if (send_fd_ >= 0) ::close(send_fd_);
#endif
  send_fd_ = -1;
}

void UdpSocket::arm_read() {
  socket_.async_wait(asio::socket_base::wait_read, [this](std::error_code ec) {
    if (ec) return;  // closed
    // Drain what is there, a bounded number of batches per turn so timers and writes still run.
    for (int round = 0; round < 16; ++round) {
      batch_.clear();
      const std::size_t received = receive_batch(batch_);
      if (received == 0) break;
      if (utp_handler_) {
        demultiplex();
        if (!utp_batch_.empty()) utp_handler_(utp_batch_);
      }
      if (!batch_.empty()) handler_(batch_);
      if (received < kBatch) break;
    }
    flush();
    arm_read();
  });
}

// Splits batch_ in place: uTP datagrams move to utp_batch_, everything else stays for the DHT
// node — KRPC, and also what is neither: the node's inbound limiter must see every datagram of
// a flooding address to block it, and it drops (and counts) what does not decode.
void UdpSocket::demultiplex() {
  utp_batch_.clear();
  std::size_t keep = 0;
  for (const auto& d : batch_) {
    if (!d.bytes.empty() && d.bytes[0] == 'd') {
      ++counters_.krpc_in;
      batch_[keep++] = d;
    } else if (utp::looks_like_utp(d.bytes)) {
      ++counters_.utp_in;
      utp_batch_.push_back(d);
    } else {
      ++counters_.unknown_in;
      batch_[keep++] = d;
    }
  }
  batch_.resize(keep);
}

std::size_t UdpSocket::receive_batch(std::vector<Datagram>& out) {
#ifdef BITSCRAPE_HAVE_MMSG
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  sockaddr_storage addrs[kBatch];
  for (std::size_t i = 0; i < kBatch; ++i) {
    iov[i] = {rx_.data() + i * kMaxDatagram, kMaxDatagram};
    std::memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &addrs[i];
    msgs[i].msg_hdr.msg_namelen = sizeof addrs[i];
  }
  const int n = ::recvmmsg(socket_.native_handle(), msgs, kBatch, MSG_DONTWAIT, nullptr);
  if (n <= 0) return 0;
  ++counters_.receive_batches;
  for (int i = 0; i < n; ++i) {
    if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
      ++counters_.truncated_in;
      continue;
    }
    const auto len = msgs[i].msg_len;
    counters_.bytes_in += len;
    out.push_back({std::string_view(rx_.data() + static_cast<std::size_t>(i) * kMaxDatagram, len),
                   from_sockaddr(addrs[i])});
  }
  counters_.datagrams_in += static_cast<std::uint64_t>(n);
  return static_cast<std::size_t>(n);
#else
  std::size_t n = 0;
  asio::ip::udp::endpoint from;
  for (; n < kBatch; ++n) {
    std::error_code ec;
    const auto len =
        socket_.receive_from(asio::buffer(rx_.data() + n * kMaxDatagram, kMaxDatagram), from, 0, ec);
    if (ec) break;
    counters_.bytes_in += len;
    out.push_back({std::string_view(rx_.data() + n * kMaxDatagram, len), from_asio(from)});
  }
  if (n > 0) ++counters_.receive_batches;
  counters_.datagrams_in += n;
  return n;
#endif
}

bool UdpSocket::send(const Endpoint& to, std::string_view bytes) {
  if (tail_ - head_ >= max_queued_) {
    ++counters_.send_queue_drops;
    return false;
  }
  if (head_ == tail_) head_ = tail_ = 0;
  if (tail_ == queue_.size()) {
    // Compact before growing when the front has been consumed.
    if (head_ > 0) {
      for (std::size_t i = head_; i < tail_; ++i) std::swap(queue_[i - head_], queue_[i]);
      tail_ -= head_;
      head_ = 0;
    }
    if (tail_ == queue_.size()) queue_.emplace_back();
  }
  auto& slot = queue_[tail_++];
  slot.to = to;
  slot.bytes.assign(bytes);
  return true;
}

void UdpSocket::flush() {
  while (head_ < tail_) {
    const std::size_t n = std::min(kBatch, tail_ - head_);
    std::size_t sent = 0;
    bool would_block = false;
#ifdef BITSCRAPE_HAVE_MMSG
    mmsghdr msgs[kBatch];
    iovec iov[kBatch];
    sockaddr_storage addrs[kBatch];
    for (std::size_t i = 0; i < n; ++i) {
      auto& o = queue_[head_ + i];
      iov[i] = {o.bytes.data(), o.bytes.size()};
      std::memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &addrs[i];
      msgs[i].msg_hdr.msg_namelen = to_sockaddr(o.to, is_v6_, addrs[i]);
    }
    const int fd = send_fd_ >= 0 ? send_fd_ : socket_.native_handle();
    const int r = ::sendmmsg(fd, msgs, static_cast<unsigned>(n), MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
        would_block = true;
      } else {
        // The first datagram was refused (e.g. unreachable, wrong family): drop it, go on.
        ++counters_.send_errors;
        ++head_;
        continue;
      }
    } else {
      sent = static_cast<std::size_t>(r);
      ++counters_.send_batches;
      for (std::size_t i = 0; i < sent; ++i) counters_.bytes_out += queue_[head_ + i].bytes.size();
    }
#else
    for (; sent < n; ++sent) {
      auto& o = queue_[head_ + sent];
      std::error_code ec;
      socket_.send_to(asio::buffer(o.bytes), to_asio(o.to), 0, ec);
      if (ec == asio::error::would_block) {
        would_block = true;
        break;
      }
      if (ec) {
        ++counters_.send_errors;
      } else {
        counters_.bytes_out += o.bytes.size();
      }
    }
    if (sent > 0) ++counters_.send_batches;
#endif
    counters_.datagrams_out += sent;
    head_ += sent;
    if (would_block) {
      arm_write();
      return;
    }
  }
}

void UdpSocket::arm_write() {
  if (write_armed_) return;
  write_armed_ = true;
  if (send_fd_ >= 0) {
    // Not polled (that is the point of it): try again shortly.
    send_retry_.expires_after(std::chrono::milliseconds(1));
    send_retry_.async_wait([this](std::error_code ec) {
      write_armed_ = false;
      if (!ec) flush();
    });
    return;
  }
  socket_.async_wait(asio::socket_base::wait_write, [this](std::error_code ec) {
    write_armed_ = false;
    if (!ec) flush();
  });
}

}  // namespace bitscrape::net
