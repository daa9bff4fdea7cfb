// Answering DHT queries over loopback UDP: our dht::Node behind net::UdpSocket (batched
// recvmmsg/sendmmsg, one thread) vs a libtorrent 2.0 DHT node (lt::session), same process, same
// load generator, same duration, alternating rounds. Reports answered queries/s and the ratio.
//
// Setup (both sides identical):
//   - the server runs on one thread pinned to --server-cpu (libtorrent: the session is created on
//     that pinned thread, so its network thread and helpers inherit the one-core mask); the
//     generator runs on the main thread pinned to --gen-cpu.
//   - the generator is ONE UDP socket bound to 0.0.0.0 that sends from --sources addresses
//     127.0.40.1..127.0.40.N (source chosen per datagram with IP_PKTINFO, batches of 64 with
//     sendmmsg, replies drained with recvmmsg). Each source has a fixed random node id.
//   - closed loop: --window queries outstanding (slots; tid = slot + generation); a slot not
//     answered within 200 ms is written off (counted as lost) and reused.
//   - warm-up, through the wire only: every source pings the node (the node learns it; its
//     verification pings are answered by the generator, so the node's table holds confirmed
//     nodes), then --infohashes infohashes are announced (get_peers -> token -> announce_peer) by
//     3 sources each. Then a 0.5 s ramp, then --seconds measured.
//   - mix: ping / find_node / get_peers / sample_infohashes, 25% each; random tids and targets;
//     get_peers asks for an announced infohash half the time (replies with values) and a random
//     one otherwise.
//   - limits relaxed the same way on both: ours: inbound per-IP limit 1e9/s, global out budget
//     1e9/s, per-destination pacer 8 per 1 us (i.e. off); libtorrent: dht_block_ratelimit 1e6,
//     dht_upload_rate_limit --lt-upload-limit bytes/s, restrict_routing/search_ips off,
//     ignore_dark_internet off. Both sockets get 4 MiB buffers (ours asks 8 MiB, capped by rmem_max).
//
// Run: build/benchdht/bench/bench_dht_serve [--seconds 5] [--rounds 3] [--window 256]
//        [--sources 250] [--infohashes 1000] [--server-cpu 0] [--gen-cpu 1] [--only ours|lt]
#include "bench_dht_serve_lt.hpp"
#include "common/endpoint.hpp"
#include "common/id160.hpp"
#include "dht/config.hpp"
#include "dht/node.hpp"
#include "dht/peer_store.hpp"
#include "net/udp.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace dht = bitscrape::dht;
namespace net = bitscrape::net;

struct Options {
  double seconds = 5;
  int rounds = 3;
  int window = 256;
  int sources = 250;
  int infohashes = 1000;
  int server_cpu = 0;
  int gen_cpu = 1;
  int lt_upload_limit = 100'000'000;
  std::string only;
};

void pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

// ---------------------------------------------------------------------------------------------
// Servers. Each runs on its own pinned thread until `stop` is set; `port` is fulfilled once bound.

// Our node: dht::Node behind net::UdpSocket on one asio thread.
class OursServer : public dht::DatagramSink {
 public:
  void run(int cpu, std::promise<std::uint16_t>& port, std::atomic<bool>& stop) {
    pin(cpu);
    asio::io_context io;
    net::UdpSocket sock(io);
    socket_ = &sock;
    if (auto ec = sock.open(*bitscrape::Endpoint::parse("127.0.0.1:0"))) {
      port.set_exception(std::make_exception_ptr(std::runtime_error("bind: " + ec.message())));
      return;
    }
    dht::NodeConfig cfg;
    cfg.seed = 42;
    cfg.ipv6 = false;
    cfg.allow_private_addresses = true;  // loopback sources
    cfg.rate.out_packets_per_second = 1e9;
    cfg.rate.out_burst = 1e9;
    cfg.rate.per_destination_packets = 8;
    cfg.rate.per_destination_window = std::chrono::microseconds(1);
    cfg.rate.in_packets_per_ip_per_second = 1e9;
    cfg.rate.in_burst_per_ip = 1e9;
    dht::Node node(cfg, *this, nullptr, Clock::now());
    asio::steady_timer timer(io);
    dht::TimePoint armed = dht::kNever;
    std::function<void(dht::TimePoint)> arm = [&](dht::TimePoint at) {
      if (at >= armed) return;
      armed = at;
      timer.expires_at(at);
      timer.async_wait([&](std::error_code ec) {
        if (ec) return;
        armed = dht::kNever;
        arm(node.tick(Clock::now()));
        sock.flush();
      });
    };
    sock.start([&](std::span<const net::Datagram> batch) {
      const auto now = Clock::now();
      for (const auto& d : batch) node.on_datagram(d.bytes, d.from, now);
      arm(node.next_wake());
    });
    arm(node.tick(Clock::now()));
    asio::steady_timer poll_stop(io);
    std::function<void()> check = [&] {
      if (stop.load()) {
        io.stop();
        return;
      }
      poll_stop.expires_after(20ms);
      poll_stop.async_wait([&](std::error_code) { check(); });
    };
    check();
    port.set_value(sock.local_endpoint().port);
    io.run();
    const auto c = node.counters();
    (void)c;
    sock.close();
  }
  void send(std::string_view datagram, const bitscrape::Endpoint& to) override { socket_->send(to, datagram); }

 private:
  net::UdpSocket* socket_ = nullptr;
};

// libtorrent's session lives in bench_dht_serve_lt.cpp: Boost.Asio (libtorrent) and standalone
// Asio (net::UdpSocket) cannot be included in one translation unit.
class LtServer {
 public:
  explicit LtServer(int upload_limit) : upload_limit_(upload_limit) {}
  void run(int cpu, std::promise<std::uint16_t>& port, std::atomic<bool>& stop) {
    pin(cpu);  // before the session exists: its threads inherit the mask
    std::string error;
    bench_dht::run_libtorrent_dht(upload_limit_, [&](std::uint16_t p) { port.set_value(p); }, stop, error);
    if (!error.empty()) port.set_exception(std::make_exception_ptr(std::runtime_error(error)));
  }

 private:
  int upload_limit_;
};

// ---------------------------------------------------------------------------------------------
// Load generator.

enum Kind : std::uint8_t { Ping, FindNode, GetPeers, Sample, kKinds };
const char* kKindName[] = {"ping", "find_node", "get_peers", "sample_infohashes"};

std::string bstr(std::string_view s) { return std::to_string(s.size()) + ":" + std::string(s); }

// A query template with the offsets of its 20-byte id, 20-byte target and 4-byte tid.
struct Template {
  std::string bytes;
  std::size_t id_at = 0, target_at = 0, tid_at = 0;
};

Template make_template(Kind k) {
  const std::string id(20, 'I'), target(20, 'T'), tid = "tttt";
  std::string a = "d2:id" + bstr(id);
  std::string q;
  switch (k) {
    case Ping: q = "ping"; break;
    case FindNode: a += "6:target" + bstr(target); q = "find_node"; break;
    case GetPeers: a += "9:info_hash" + bstr(target); q = "get_peers"; break;
    case Sample: a += "6:target" + bstr(target); q = "sample_infohashes"; break;
    default: break;
  }
  a += "e";
  Template t;
  t.bytes = "d1:a" + a + "1:q" + bstr(q) + "1:t" + bstr(tid) + "1:y1:qe";
  t.id_at = t.bytes.find(id);
  t.target_at = k == Ping ? std::string::npos : t.bytes.find(target);
  t.tid_at = t.bytes.find("4:tttt") + 2;
  return t;
}

std::string_view find_bstr(std::string_view msg, std::string_view key) {
  // The value of bencoded string key `key` (e.g. "5:token"), if present.
  auto at = msg.find(key);
  if (at == std::string_view::npos) return {};
  std::size_t i = at + key.size(), len = 0;
  while (i < msg.size() && msg[i] >= '0' && msg[i] <= '9') len = len * 10 + std::size_t(msg[i++] - '0');
  if (i >= msg.size() || msg[i] != ':' || i + 1 + len > msg.size()) return {};
  return msg.substr(i + 1, len);
}

struct KindStats {
  std::uint64_t sent = 0, answered = 0, errors = 0, with_content = 0;
};

struct RunResult {
  double seconds = 0;
  std::uint64_t sent = 0, answered = 0, errors = 0, lost = 0;
  KindStats kind[kKinds];
  std::uint64_t announces_acked = 0, node_queries_answered = 0, table_size = 0;
  double server_cpu = 0, gen_cpu = 0;  // CPU seconds during the measured part
};

double cpu_seconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

class Generator {
 public:
  static constexpr int kBatch = 64;

  Generator(const Options& o) : opt_(o), rng_(7) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int one = 1, buf = 4 << 20;
    setsockopt(fd_, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) throw std::runtime_error("generator bind");
    for (int s = 0; s < o.sources; ++s) {
      sources_.push_back(htonl((127u << 24) | (0u << 16) | (40u << 8) | std::uint32_t(1 + s)));
      std::string id(20, 0);
      for (auto& c : id) c = char(rng_());
      ids_.push_back(id);
    }
    for (int k = 0; k < kKinds; ++k) templates_[k] = make_template(Kind(k));
    for (int i = 0; i < o.infohashes; ++i) {
      std::string ih(20, 0);
      for (auto& c : ih) c = char(rng_());
      infohashes_.push_back(ih);
    }
    slots_.resize(std::size_t(o.window));
  }
  ~Generator() { ::close(fd_); }

  // Warm-up: pings from every source, then announces, answering the node's own queries throughout.
  void warm_up(std::uint16_t port, RunResult& r) {
    set_server(port);
    for (int s = 0; s < opt_.sources; ++s) {
      std::string q = templates_[Ping].bytes;
      q.replace(templates_[Ping].id_at, 20, ids_[std::size_t(s)]);
      q.replace(templates_[Ping].tid_at, 4, "wpng");
      enqueue(s, q);
      if (out_.size() >= kBatch) flush();
    }
    flush();
    pump_for(1500ms, r);
    // Announces: get_peers (tid 'G' + 3-byte job) -> token -> announce_peer (tid 'A' + job).
    const int jobs = opt_.infohashes * 3;
    int next = 0;
    const auto deadline = Clock::now() + 10s;
    while ((r.announces_acked < std::uint64_t(jobs) * 9 / 10 || next < jobs) && Clock::now() < deadline) {
      for (int n = 0; n < kBatch && next < jobs; ++n, ++next) {
        const int ih = next / 3, src = (next * 7 + next / 3) % opt_.sources;
        std::string q = templates_[GetPeers].bytes;
        q.replace(templates_[GetPeers].id_at, 20, ids_[std::size_t(src)]);
        q.replace(templates_[GetPeers].target_at, 20, infohashes_[std::size_t(ih)]);
        char tid[4] = {'G', char(next >> 16), char(next >> 8), char(next)};
        q.replace(templates_[GetPeers].tid_at, 4, std::string_view(tid, 4));
        enqueue(src, q);
      }
      flush();
      pump_for(5ms, r);
    }
    pump_for(300ms, r);
  }

  // Closed-loop load for `dur` after a 0.5 s ramp; returns the counts of the measured part.
  void load(std::uint16_t port, Clock::duration dur, RunResult& r) {
    set_server(port);
    for (auto& s : slots_) s.busy = false;
    measuring_ = false;
    RunResult ramp;
    const auto t0 = Clock::now();
    const auto start = t0 + 500ms, end = start + dur;
    auto next_expiry = t0;
    RunResult* cur = &ramp;
    double self0 = 0, gen0 = 0;
    while (true) {
      const auto now = Clock::now();
      if (!measuring_ && now >= start) {
        measuring_ = true;
        cur = &r;
        self0 = cpu_seconds(RUSAGE_SELF);
        gen0 = cpu_seconds(RUSAGE_THREAD);
      }
      if (now >= end) {
        // The server is everything in the process but this thread (libtorrent: all its threads).
        const double self1 = cpu_seconds(RUSAGE_SELF), gen1 = cpu_seconds(RUSAGE_THREAD);
        r.gen_cpu = gen1 - gen0;
        r.server_cpu = (self1 - self0) - r.gen_cpu;
        break;
      }
      // Fill free slots.
      for (std::size_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].busy) continue;
        send_query(i, now, *cur);
        if (out_.size() >= kBatch) flush();
      }
      flush();
      const int got = drain(*cur);
      if (now >= next_expiry) {
        next_expiry = now + 20ms;
        for (auto& s : slots_) {
          if (s.busy && now - s.sent_at > 200ms) {
            s.busy = false;
            ++cur->lost;
          }
        }
      }
      if (got == 0) {
        pollfd p{fd_, POLLIN, 0};
        ::poll(&p, 1, 1);
      }
    }
    r.seconds = std::chrono::duration<double>(dur).count();
    // Let replies in flight land (not counted) so the next run starts clean.
    RunResult tail;
    pump_for(300ms, tail);
  }

 private:
  struct Slot {
    bool busy = false;
    Kind kind = Ping;
    std::uint16_t gen = 0;
    Clock::time_point sent_at;
  };
  struct Out {
    int src;
    std::string bytes;
  };

  void set_server(std::uint16_t port) {
    server_ = sockaddr_in{};
    server_.sin_family = AF_INET;
    server_.sin_port = htons(port);
    server_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }

  void send_query(std::size_t slot, Clock::time_point now, RunResult& r) {
    auto& s = slots_[slot];
    const Kind k = Kind(rng_() % kKinds);
    const auto& t = templates_[k];
    const int src = int(next_src_++ % std::uint32_t(opt_.sources));
    std::string q;
    if (out_pool_.empty()) {
      q = t.bytes;
    } else {
      q = std::move(out_pool_.back());
      out_pool_.pop_back();
      q.assign(t.bytes);
    }
    std::memcpy(q.data() + t.id_at, ids_[std::size_t(src)].data(), 20);
    if (k != Ping) {
      if (k == GetPeers && (rng_() & 1)) {
        std::memcpy(q.data() + t.target_at, infohashes_[rng_() % infohashes_.size()].data(), 20);
      } else {
        const std::uint64_t a = rng_(), b = rng_(), c = rng_();
        std::memcpy(q.data() + t.target_at, &a, 8);
        std::memcpy(q.data() + t.target_at + 8, &b, 8);
        std::memcpy(q.data() + t.target_at + 16, &c, 4);
      }
    }
    ++s.gen;
    const char tid[4] = {'Q', char(slot >> 8), char(slot), char(s.gen & 0xff)};
    std::memcpy(q.data() + t.tid_at, tid, 4);
    s.busy = true;
    s.kind = k;
    s.sent_at = now;
    ++r.sent;
    ++r.kind[k].sent;
    out_.push_back({src, std::move(q)});
  }

  void enqueue(int src, std::string bytes) { out_.push_back({src, std::move(bytes)}); }

  // Sends everything queued (sendmmsg, source address per datagram via IP_PKTINFO).
  void flush() {
    std::size_t done = 0;
    while (done < out_.size()) {
      const std::size_t n = std::min<std::size_t>(kBatch, out_.size() - done);
      mmsghdr msgs[kBatch];
      iovec iov[kBatch];
      alignas(cmsghdr) char ctrl[kBatch][CMSG_SPACE(sizeof(in_pktinfo))];
      for (std::size_t i = 0; i < n; ++i) {
        auto& o = out_[done + i];
        iov[i] = {o.bytes.data(), o.bytes.size()};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_name = o.src < 0 ? static_cast<void*>(&reply_to_[done + i]) : &server_;
        msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_control = ctrl[i];
        msgs[i].msg_hdr.msg_controllen = sizeof ctrl[i];
        cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
        in_pktinfo pi{};
        pi.ipi_spec_dst.s_addr = o.src < 0 ? reply_from_[done + i] : sources_[std::size_t(o.src)];
        std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
      }
      const int sent = ::sendmmsg(fd_, msgs, unsigned(n), 0);
      if (sent <= 0) {
        pollfd p{fd_, POLLOUT, 0};
        ::poll(&p, 1, 1);
        continue;
      }
      done += std::size_t(sent);
    }
    for (auto& o : out_) out_pool_.push_back(std::move(o.bytes));
    out_.clear();
    reply_to_.clear();
    reply_from_.clear();
  }

  void pump_for(Clock::duration d, RunResult& r) {
    const auto end = Clock::now() + d;
    while (Clock::now() < end) {
      if (drain(r) == 0) {
        pollfd p{fd_, POLLIN, 0};
        ::poll(&p, 1, 1);
      }
    }
  }

  // Reads what has arrived; returns the number of datagrams.
  int drain(RunResult& r) {
    constexpr std::size_t kSlot = 2048;
    static std::vector<char> buf(kBatch * kSlot);
    mmsghdr msgs[kBatch];
    iovec iov[kBatch];
    sockaddr_in from[kBatch];
    alignas(cmsghdr) char ctrl[kBatch][CMSG_SPACE(sizeof(in_pktinfo))];
    int total = 0;
    for (int round = 0; round < 8; ++round) {
      for (int i = 0; i < kBatch; ++i) {
        iov[i] = {buf.data() + std::size_t(i) * kSlot, kSlot};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_name = &from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof from[i];
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_control = ctrl[i];
        msgs[i].msg_hdr.msg_controllen = sizeof ctrl[i];
      }
      const int n = ::recvmmsg(fd_, msgs, kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) break;
      total += n;
      for (int i = 0; i < n; ++i) {
        std::string_view m(buf.data() + std::size_t(i) * kSlot, msgs[i].msg_len);
        std::uint32_t to_addr = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
          if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo pi;
            std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
            to_addr = pi.ipi_addr.s_addr;
          }
        }
        handle(m, from[i], to_addr, r);
      }
      if (n < kBatch) break;
    }
    if (!out_.empty()) flush();
    return total;
  }

  void handle(std::string_view m, const sockaddr_in& from, std::uint32_t to_addr, RunResult& r) {
    if (m.size() < 8) return;
    const std::string_view tail = m.substr(m.size() - 7);
    const bool reply = tail == "1:y1:re", error = tail == "1:y1:ee", query = tail == "1:y1:qe";
    if (query) {
      // The node asks one of our sources something (verification ping, refresh): answer with our id.
      const auto tid = find_bstr(m, "1:t");
      std::size_t src = 0;
      const std::uint32_t host = ntohl(to_addr);
      if ((host >> 8) == ((127u << 16) | 40u) && (host & 0xff) >= 1 && int(host & 0xff) <= opt_.sources) src = (host & 0xff) - 1;
      std::string resp = "d1:rd2:id" + bstr(ids_[src]) + "5:nodes0:e1:t" + bstr(tid) + "1:y1:re";
      reply_to_.resize(out_.size() + 1);
      reply_from_.resize(out_.size() + 1);
      reply_to_[out_.size()] = from;
      reply_from_[out_.size()] = to_addr;
      out_.push_back({-1, std::move(resp)});
      ++r.node_queries_answered;
      return;
    }
    if (!reply && !error) return;
    // "t" is the last key before "y" (and "v"): search from the back, past any binary payload.
    const auto t_at = m.rfind("1:t4:");
    if (t_at == std::string_view::npos || t_at + 9 > m.size()) return;
    const std::string_view tid = m.substr(t_at + 5, 4);
    if (tid[0] == 'Q') {
      const std::size_t slot = (std::size_t(std::uint8_t(tid[1])) << 8) | std::uint8_t(tid[2]);
      if (slot >= slots_.size()) return;
      auto& s = slots_[slot];
      if (!s.busy || std::uint8_t(s.gen & 0xff) != std::uint8_t(tid[3])) return;
      s.busy = false;
      if (error) {
        ++r.errors;
        ++r.kind[s.kind].errors;
        return;
      }
      ++r.answered;
      auto& ks = r.kind[s.kind];
      ++ks.answered;
      bool content = false;
      switch (s.kind) {
        case Ping: content = !find_bstr(m, "2:id").empty(); break;
        case FindNode: content = !find_bstr(m, "5:nodes").empty(); break;
        case GetPeers: content = m.find("6:valuesl") != std::string_view::npos; break;
        case Sample: content = !find_bstr(m, "7:samples").empty(); break;
        default: break;
      }
      ks.with_content += content;
    } else if (tid[0] == 'G' && reply) {
      const int job = (std::uint8_t(tid[1]) << 16) | (std::uint8_t(tid[2]) << 8) | std::uint8_t(tid[3]);
      const auto token = find_bstr(m, "5:token");
      if (token.empty() || job >= opt_.infohashes * 3) return;
      const int ih = job / 3, src = (job * 7 + job / 3) % opt_.sources;
      std::string q = "d1:ad2:id" + bstr(ids_[std::size_t(src)]) + "9:info_hash" + bstr(infohashes_[std::size_t(ih)]) +
                      "4:porti" + std::to_string(6881 + job % 3) + "e5:token" + bstr(token) +
                      "e1:q13:announce_peer1:t4:A" + std::string(tid.substr(1)) + "1:y1:qe";
      enqueue(src, std::move(q));
    } else if (tid[0] == 'A' && reply) {
      ++r.announces_acked;
    }
  }

  const Options& opt_;
  std::mt19937_64 rng_;
  int fd_ = -1;
  sockaddr_in server_{};
  std::vector<std::uint32_t> sources_;  // network order
  std::vector<std::string> ids_;
  std::vector<std::string> infohashes_;
  Template templates_[kKinds];
  std::vector<Slot> slots_;
  std::vector<Out> out_;
  std::vector<sockaddr_in> reply_to_;     // for out_ entries with src < 0 (answers to the node)
  std::vector<std::uint32_t> reply_from_;
  std::vector<std::string> out_pool_;
  std::uint32_t next_src_ = 0;
  bool measuring_ = false;
};

template <class Server>
RunResult run_one(Server& server, const Options& o, Generator& gen) {
  std::atomic<bool> stop{false};
  std::promise<std::uint16_t> port_p;
  auto port_f = port_p.get_future();
  std::thread t([&] { server.run(o.server_cpu, port_p, stop); });
  RunResult r;
  try {
    const auto port = port_f.get();
    gen.warm_up(port, r);
    RunResult measured;
    gen.load(port, std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds)), measured);
    measured.announces_acked = r.announces_acked;
    measured.node_queries_answered = r.node_queries_answered;
    r = measured;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "server failed: %s\n", e.what());
  }
  stop = true;
  t.join();
  return r;
}

void print(const char* name, const RunResult& r) {
  std::printf("  %-10s answered %9.0f q/s, server CPU %.0f%% (%.0f answered per server CPU-second), generator CPU %.0f%%\n",
              name, double(r.answered) / r.seconds, 100 * r.server_cpu / r.seconds,
              r.server_cpu > 0 ? double(r.answered) / r.server_cpu : 0.0, 100 * r.gen_cpu / r.seconds);
  std::printf("  %-10s sent %llu, answered %llu, errors %llu, lost %llu; warm-up: %llu announces acked, %llu node queries answered\n",
              "", (unsigned long long)r.sent, (unsigned long long)r.answered,
              (unsigned long long)r.errors, (unsigned long long)r.lost, (unsigned long long)r.announces_acked,
              (unsigned long long)r.node_queries_answered);
  for (int k = 0; k < kKinds; ++k) {
    const auto& s = r.kind[k];
    std::printf("      %-18s sent %8llu answered %8llu errors %6llu  with content %5.1f%%\n", kKindName[k],
                (unsigned long long)s.sent, (unsigned long long)s.answered, (unsigned long long)s.errors,
                s.answered ? 100.0 * double(s.with_content) / double(s.answered) : 0.0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--seconds") o.seconds = std::stod(v);
    else if (k == "--rounds") o.rounds = std::stoi(v);
    else if (k == "--window") o.window = std::stoi(v);
    else if (k == "--sources") o.sources = std::stoi(v);
    else if (k == "--infohashes") o.infohashes = std::stoi(v);
    else if (k == "--server-cpu") o.server_cpu = std::stoi(v);
    else if (k == "--gen-cpu") o.gen_cpu = std::stoi(v);
    else if (k == "--lt-upload-limit") o.lt_upload_limit = std::stoi(v);
    else if (k == "--only") o.only = v;
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  if (o.window > 65535 || o.sources > 250 || o.sources < 1) {
    std::fprintf(stderr, "--window ≤ 65535, 1 ≤ --sources ≤ 250\n");
    return 2;
  }
  pin(o.gen_cpu);
  std::printf("bench_dht_serve: %.1f s x %d rounds, window %d, %d sources, %d infohashes x 3 announces, server cpu %d, generator cpu %d\n",
              o.seconds, o.rounds, o.window, o.sources, o.infohashes, o.server_cpu, o.gen_cpu);
  std::vector<double> ratios, ours_qps, lt_qps;
  for (int round = 0; round < o.rounds; ++round) {
    std::printf("round %d\n", round + 1);
    double a = 0, b = 0;
    if (o.only != "lt") {
      Generator gen(o);
      OursServer s;
      const auto r = run_one(s, o, gen);
      print("ours", r);
      a = double(r.answered) / r.seconds;
      ours_qps.push_back(a);
    }
    if (o.only != "ours") {
      Generator gen(o);
      LtServer s(o.lt_upload_limit);
      const auto r = run_one(s, o, gen);
      print("libtorrent", r);
      b = double(r.answered) / r.seconds;
      lt_qps.push_back(b);
    }
    if (a > 0 && b > 0) {
      ratios.push_back(a / b);
      std::printf("  ratio ours/libtorrent: %.2fx\n", a / b);
    }
    std::fflush(stdout);
  }
  auto median = [](std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("median: ours %.0f q/s, libtorrent %.0f q/s, ratio %.2fx (per-round ratios:", median(ours_qps),
              median(lt_qps), median(ratios));
  for (double r : ratios) std::printf(" %.2f", r);
  std::printf(")\n");
  return 0;
}
