// bench_fetch: metadata fetch throughput at high concurrency — our crawler::FetchService against
// loopback seeders built on our peer wire code (testnet::SeederHost: peerwire::Seeder over asio
// TCP, as `bitscrape testnet` serves). The libtorrent reference (bench_fetch_lt.py) runs against
// the SAME seeder process; bench_fetch.sh runs both and prints the ratio. A plain main with two
// modes (run them as separate processes, so the fetcher's RSS and CPU are its own):
//
//   bench_fetch seed  --torrents M --listeners N --port P --delay-ms D --manifest FILE
//       Generates M valid v1 info dicts (deterministic; `pieces` sized so metadata is 2 KiB to
//       100 KiB, log-uniform: 1 to 7 ut_metadata pieces), listens on N loopback addresses
//       127.20.x.y:P (many addresses so per-IP caps and ephemeral ports are not the bottleneck),
//       serves every torrent on every listener, and writes FILE: one "infohash,ip:port,size"
//       line per torrent, torrent i on listener i % N. Each accepted connection is held D ms
//       before the seeder reads the peer's handshake (SeederHostConfig::hold, so connections
//       overlap), then served by an honest peerwire::Seeder. Prints "READY" when listening;
//       runs until SIGINT/SIGTERM or --duration seconds, then prints its counters.
//
//       --utp 1: every listener also serves uTP (BEP-29) on a UDP socket of its address and port.
//
//   bench_fetch fetch --manifest FILE [--connections C] [--max-per-ip K] [--limit M] [--transport utp|tcp]
//       Queues every line of FILE into one crawler::FetchService (one attempt per infohash, the
//       manifest's peer the only candidate), runs it to completion and prints one line of
//       key=value figures: verified metadata/s, peak concurrent connections
//       (MetadataPoolCounters::peak_connections), peak RSS (VmHWM), and RSS per connection:
//       (VmRSS sampled when the most connections were open − VmRSS before the first connect)
//       / connections open at that sample; and the worst such ratio over every 10 ms sample taken
//       while ≥ 2,000 connections were open (includes metadata being assembled). With
//       --transport utp every fetch goes over uTP from one UDP socket (as the crawler's DHT one).
#include "bencode/encoder.hpp"
#include "common/endpoint.hpp"
#include "common/hash.hpp"
#include "common/id160.hpp"
#include "crawler/fetch_service.hpp"
#include "net/udp.hpp"
#include "net/utp_socket.hpp"
#include "testnet/seeder_host.hpp"

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

using namespace bitscrape;
using Clock = std::chrono::steady_clock;

namespace {

std::map<std::string, std::string> parse_args(int argc, char** argv, int first) {
  std::map<std::string, std::string> a;
  for (int i = first; i + 1 < argc; i += 2) a[argv[i]] = argv[i + 1];
  return a;
}
std::uint64_t arg_u(const std::map<std::string, std::string>& a, const std::string& k, std::uint64_t def) {
  const auto it = a.find(k);
  return it == a.end() ? def : std::strtoull(it->second.c_str(), nullptr, 10);
}
std::string arg_s(const std::map<std::string, std::string>& a, const std::string& k, std::string def) {
  const auto it = a.find(k);
  return it == a.end() ? def : it->second;
}

void raise_nofile() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

// Resident and high-water RSS in KiB from /proc/self/status.
std::pair<std::uint64_t, std::uint64_t> rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  std::uint64_t rss = 0, hwm = 0;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::strtoull(line.c_str() + 6, nullptr, 10);
    if (line.rfind("VmHWM:", 0) == 0) hwm = std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return {rss, hwm};
}

std::uint64_t splitmix(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Endpoint listener_endpoint(std::size_t i, std::uint16_t port) {
  // 127.20.0.1 ... : 250 addresses per /24, skipping .0 and .251-.255.
  const std::uint32_t host = (127u << 24) | (20u << 16) | (static_cast<std::uint32_t>(i / 250) << 8) |
                             static_cast<std::uint32_t>(i % 250 + 1);
  return Endpoint{IpAddress::v4(host), port};
}

// ---------------------------------------------------------------------------------------------
// Seeder side

// Serves every torrent on every listener.
class Catalog final : public testnet::MetadataCatalog {
 public:
  std::shared_ptr<const std::string> find(const InfoHash& key, std::uint32_t /*listener*/) override {
    const auto it = map_.find(key);
    return it == map_.end() ? nullptr : it->second;
  }
  void add(const InfoHash& k, std::string info) {
    map_.emplace(k, std::make_shared<const std::string>(std::move(info)));
  }

 private:
  std::unordered_map<InfoHash, std::shared_ptr<const std::string>, Id160Hash> map_;
};

std::string make_info(std::size_t index, std::uint64_t& rng) {
  // Metadata size log-uniform in [2 KiB, 100 KiB]: pieces = 20 bytes per piece.
  const double lo = std::log(2048.0), hi = std::log(100.0 * 1024);
  const double u = static_cast<double>(splitmix(rng) >> 11) / static_cast<double>(1ull << 53);
  const auto target = static_cast<std::size_t>(std::exp(lo + u * (hi - lo)));
  const std::size_t n = std::max<std::size_t>(1, (target - 100) / 20);
  std::string pieces(n * 20, '\0');
  for (std::size_t i = 0; i < pieces.size(); i += 8) {
    const auto r = splitmix(rng);
    std::memcpy(pieces.data() + i, &r, std::min<std::size_t>(8, pieces.size() - i));
  }
  bencode::Item info;
  char name[64];
  std::snprintf(name, sizeof name, "bench-fetch-%07zu.bin", index);
  info["name"] = std::string(name);
  info["piece length"] = std::int64_t{16384};
  info["length"] = static_cast<std::int64_t>(n * 16384 - (splitmix(rng) % 16384));
  info["pieces"] = std::move(pieces);
  return info.encode();
}

void report(const testnet::SeederHost& host) {
  const auto& c = host.counters();
  std::printf(
      "seeder: accepted=%llu served=%llu pieces_sent=%llu rejects=%llu bytes_out=%llu peak_connections=%zu "
      "accept_errors=%llu utp_accepted=%llu\n",
      (unsigned long long)c.accepted, (unsigned long long)c.served, (unsigned long long)c.pieces_sent,
      (unsigned long long)c.rejects_sent, (unsigned long long)c.bytes_out, c.peak_connections,
      (unsigned long long)c.accept_errors, (unsigned long long)c.utp_accepted);
  std::fflush(stdout);
}

int run_seed(const std::map<std::string, std::string>& a) {
  const std::size_t m = arg_u(a, "--torrents", 10000);
  const std::size_t n = arg_u(a, "--listeners", 1000);
  const auto port = static_cast<std::uint16_t>(arg_u(a, "--port", 16881));
  const auto delay = std::chrono::milliseconds(arg_u(a, "--delay-ms", 1000));
  const std::string manifest = arg_s(a, "--manifest", "bench_fetch_manifest.csv");
  const auto duration = std::chrono::seconds(arg_u(a, "--duration", 900));
  std::uint64_t rng = arg_u(a, "--seed", 42);

  Catalog cat;
  std::ofstream out(manifest);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < m; ++i) {
    auto info = make_info(i, rng);
    const auto d = sha1(info);
    const auto ih = *InfoHash::from_bytes(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
    out << ih.hex() << ',' << listener_endpoint(i % n, port).to_string() << ',' << info.size() << '\n';
    total += info.size();
    cat.add(ih, std::move(info));
  }
  out.close();

  testnet::SeederHostConfig config;
  // Never refuse a connection: the fetcher sets the load.
  config.max_connections = std::numeric_limits<std::size_t>::max();
  config.accept_backoff = std::chrono::milliseconds(50);
  config.hold = delay;
  config.seeder.idle_timeout = std::chrono::seconds(30);
  config.seeder.max_lifetime = std::chrono::seconds(120);
  asio::io_context io;
  testnet::SeederHost host(io, config, cat);
  // --utp 1: every listener also serves uTP on a UDP socket of the same address and port.
  const bool utp = arg_u(a, "--utp", 0) != 0;
  std::vector<std::unique_ptr<net::UdpSocket>> udps;
  std::vector<std::unique_ptr<net::UdpSocketOut>> outs;
  for (std::size_t i = 0; i < n; ++i) {
    const auto bound = host.listen(listener_endpoint(i, port), static_cast<std::uint32_t>(i), nullptr);
    if (!bound) {
      std::fprintf(stderr, "%s\n", bound.error().c_str());
      return 1;
    }
    if (!utp) continue;
    auto u = std::make_unique<net::UdpSocket>(io);
    if (auto ec = u->open(listener_endpoint(i, port))) {
      std::fprintf(stderr, "UDP %s: %s\n", listener_endpoint(i, port).to_string().c_str(), ec.message().c_str());
      return 1;
    }
    outs.push_back(std::make_unique<net::UdpSocketOut>(*u));
    auto& us = host.listen_utp(static_cast<std::uint32_t>(i), nullptr, *outs.back());
    u->start([](std::span<const net::Datagram>) {});
    u->set_utp_handler([&us](std::span<const net::Datagram> b) { us.on_datagrams(b); });
    udps.push_back(std::move(u));
  }
  std::printf("seeder: %zu torrents, %.1f MiB metadata (mean %.1f KiB), %zu listeners on port %u, hold %lld ms\n",
              m, total / 1048576.0, total / 1024.0 / m, n, port, static_cast<long long>(delay.count()));
  std::printf("READY\n");
  std::fflush(stdout);
  asio::signal_set sigs(io, SIGINT, SIGTERM);
  asio::steady_timer stop(io, duration);
  auto shutdown = [&] {
    report(host);
    host.close();
    sigs.cancel();
    stop.cancel();
    io.stop();
  };
  sigs.async_wait([&](std::error_code ec, int) {
    if (!ec) shutdown();
  });
  stop.async_wait([&](std::error_code ec) {
    if (!ec) shutdown();
  });
  io.run();
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Fetcher side

int run_fetch(const std::map<std::string, std::string>& a) {
  const std::string manifest = arg_s(a, "--manifest", "bench_fetch_manifest.csv");
  const std::size_t limit = arg_u(a, "--limit", ~std::size_t{0});
  std::vector<std::pair<InfoHash, Endpoint>> jobs;
  {
    std::ifstream in(manifest);
    std::string line;
    while (jobs.size() < limit && std::getline(in, line)) {
      const auto c1 = line.find(','), c2 = line.find(',', c1 + 1);
      auto ih = InfoHash::from_hex(line.substr(0, c1));
      auto ep = Endpoint::parse(line.substr(c1 + 1, c2 - c1 - 1));
      if (ih && ep) jobs.emplace_back(*ih, *ep);
    }
  }
  if (jobs.empty()) {
    std::fprintf(stderr, "no jobs in %s\n", manifest.c_str());
    return 1;
  }

  crawler::FetchServiceConfig cfg;
  cfg.scheduler.max_attempts = 1;
  cfg.scheduler.max_queued = jobs.size() + 1;
  cfg.pool.max_connections = arg_u(a, "--connections", 4000);
  cfg.pool.max_per_ip = arg_u(a, "--max-per-ip", cfg.pool.max_per_ip);
  cfg.pool.fetcher.total_timeout = std::chrono::seconds(arg_u(a, "--timeout", 60));
  // --transport utp|tcp (default tcp): uTP runs on one UDP socket, as the crawler's DHT socket.
  const std::string transport = arg_s(a, "--transport", "tcp");
  cfg.pool.transports = net::parse_transports({transport});

  asio::io_context io;
  std::uint64_t ok = 0, failed = 0, bytes = 0;
  std::map<std::string, std::uint64_t> reasons;
  auto last = Clock::now();
  crawler::FetchService service(
      io, cfg,
      [&](crawler::FetchOutcome out) {
        last = Clock::now();
        if (out.success) {
          ++ok;
          bytes += out.success->info.size();
        } else {
          ++failed;
          reasons[out.attempts.empty() ? "none" : std::string(peerwire::to_string(out.attempts.back().reason))]++;
        }
      },
      0x5eed);
  net::UdpSocket udp(io);
  if (transport == "utp") {
    if (auto ec = udp.open(*Endpoint::parse("127.0.0.1:0"))) {
      std::fprintf(stderr, "UDP: %s\n", ec.message().c_str());
      return 1;
    }
    udp.start([](std::span<const net::Datagram>) {});
    service.attach_udp(udp);
  }

  // Baseline after loading the manifest, before any connection.
  const auto base = rss_kib().first;
  const auto t0 = Clock::now();
  for (const auto& [ih, ep] : jobs) service.add(ih, std::span<const Endpoint>(&ep, 1));

  // Sample RSS every 10 ms; keep the sample with the most open connections.
  std::size_t sample_conns = 0;
  std::uint64_t sample_rss = 0;
  double worst_per_conn = 0;  // max over samples with >= 2000 connections open
  asio::steady_timer sampler(io);
  std::function<void()> sample = [&] {
    const auto open = service.pool().active();
    const auto rss = rss_kib().first;
    if (open > sample_conns) {
      sample_conns = open;
      sample_rss = rss;
    }
    if (open >= 2000) worst_per_conn = std::max(worst_per_conn, (static_cast<double>(rss) - base) * 1024.0 / open);
    if (service.pending() == 0) {
      if (transport == "utp") io.stop();  // the UDP socket's read never completes by itself
      return;
    }
    sampler.expires_after(std::chrono::milliseconds(10));
    sampler.async_wait([&](std::error_code ec) {
      if (!ec) sample();
    });
  };
  sample();
  io.run();
  const double secs = std::chrono::duration<double>(last - t0).count();
  const auto [rss_end, hwm] = rss_kib();
  const auto& pc = service.pool().counters();
  const double per_conn = sample_conns ? (static_cast<double>(sample_rss) - base) * 1024.0 / sample_conns : 0;
  std::printf(
      "ours: transport=%s torrents=%zu ok=%llu failed=%llu seconds=%.3f metadata_per_s=%.1f MiB_per_s=%.2f "
      "peak_connections=%zu rss_base_kib=%llu rss_at_sample_kib=%llu sample_connections=%zu rss_per_conn_b=%.0f "
      "worst_rss_per_conn_at_2000plus_b=%.0f peak_rss_kib=%llu started=%llu connected=%llu\n",
      transport.c_str(), jobs.size(), (unsigned long long)ok, (unsigned long long)failed, secs, ok / secs, bytes / secs / 1048576.0,
      pc.peak_connections, (unsigned long long)base, (unsigned long long)sample_rss, sample_conns, per_conn, worst_per_conn,
      (unsigned long long)hwm, (unsigned long long)pc.connections_started, (unsigned long long)pc.connected);
  for (const auto& [r, n] : reasons) std::printf("ours: failure %s: %llu\n", r.c_str(), (unsigned long long)n);
  return failed == 0 ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  raise_nofile();
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_fetch seed|fetch [--key value]...\n");
    return 2;
  }
  const std::string mode = argv[1];
  const auto args = parse_args(argc, argv, 2);
  if (mode == "seed") return run_seed(args);
  if (mode == "fetch") return run_fetch(args);
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
