// `bitscrape testnet`: a whole DHT on loopback — N of our own DHT nodes on real UDP sockets,
// seeders serving the metadata of M generated torrents, a JSON manifest of the ground truth — to
// crawl with `bitscrape crawl`. See docs/testnet.md.
#include "cli/commands.hpp"
#include "testnet/testnet.hpp"

#include <fmt/core.h>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>

#ifndef _WIN32
#include <unistd.h>
#endif

namespace bitscrape::cli {
namespace {

std::string shell_quote(const std::string& s) {
  if (!s.empty() &&
      s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=+@,") ==
          std::string::npos) {
    return s;
  }
  std::string q = "'";
  for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string self_path() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("bitscrape") : p.string();
}

// A UDP port on 127.0.0.1 that nobody holds right now (the crawler binds it next).
std::uint16_t free_udp_port() {
  asio::io_context io;
  asio::ip::udp::socket s(io);
  std::error_code ec;
  s.open(asio::ip::udp::v4(), ec);
  s.bind({asio::ip::make_address_v4("127.0.0.1"), 0}, ec);
  const std::uint16_t port = ec ? std::uint16_t{0} : s.local_endpoint(ec).port();
  return ec || port == 0 ? std::uint16_t{6881} : port;
}

std::filesystem::path fresh_db_path(std::uint64_t seed) {
  const auto dir = std::filesystem::temp_directory_path();
  long pid = 0;
#ifndef _WIN32
  pid = static_cast<long>(::getpid());
#endif
  for (int i = 0;; ++i) {
    auto p = dir / fmt::format("bitscrape-testnet-{}-{}{}.db", pid, seed,
                               i == 0 ? std::string() : fmt::format("-{}", i));
    std::error_code ec;
    if (!std::filesystem::exists(p, ec)) return p;
  }
}

void print_stats(const testnet::TestnetStats& s, double uptime) {
  const auto& n = s.node_totals;
  fmt::print(
      stderr,
      "testnet: {:.0f} s up; nodes {} (table avg {:.1f}, min {}{}); keys stored {}; udp in {} out {} (send "
      "errors "
      "{}, drops {}); external in {} out {}; queries in: get_peers {} find_node {} sample_infohashes {} "
      "announce {}; samples served {}; tcp accepted {} served {} unknown {} pieces {}{}{}\n",
      uptime, s.nodes, s.table_nodes_avg, s.table_nodes_min,
      s.table6_nodes_avg > 0 ? fmt::format("; IPv6 avg {:.1f}", s.table6_nodes_avg) : std::string(),
      s.stored_keys, s.udp.datagrams_in, s.udp.datagrams_out, s.udp.send_errors, s.udp.backlog_drops,
      s.udp.external_in, s.udp.external_out, n.queries_in_get_peers, n.queries_in_find_node,
      n.queries_in_sample_infohashes, n.queries_in_announce_peer, n.samples_served, s.tcp.accepted,
      s.tcp.served, s.tcp.unknown_infohash, s.tcp.pieces_sent,
      s.martian_replies > 0 ? fmt::format("; martian replies {}", s.martian_replies) : std::string(),
      s.flood_queries > 0 ? fmt::format("; flood queries {}", s.flood_queries) : std::string());
}

}  // namespace

void register_testnet(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "testnet",
      "Run a DHT testnet on loopback in one process: N of our DHT nodes (each on its own 127.x.y.z, real UDP "
      "sockets, libtorrent-like BEP-51 behaviour) and seeders serving the metadata of M generated torrents "
      "(v1, "
      "v2, hybrid; realistic names, unicode), announced into it. Prints the `bitscrape crawl` command to "
      "crawl it, "
      "writes the ground truth to --manifest, prints READY when everything is announced, and runs until "
      "SIGINT/SIGTERM or --duration. See docs/testnet.md.");
  struct Opts {
    testnet::TestnetConfig cfg;
    std::string announce = "direct";
    double reannounce = 1800;
    double sample_interval = 21600;
    double duration = 0;
    double status_interval = 60;
    std::string manifest;
    std::string db;
  };
  auto o = std::make_shared<Opts>();
  auto& c = o->cfg;
  cmd->add_option("--nodes", c.nodes, "DHT nodes, one loopback address each")->capture_default_str();
  cmd->add_option("--torrents", c.torrents, "Generated torrents to seed and announce")->capture_default_str();
  cmd->add_option("--net", c.net,
                  "First three octets of the node addresses (127.A.B; node i is 127.A.B.1+i, "
                  "continuing into 127.A.B+1 past 254 nodes)")
      ->capture_default_str();
  cmd->add_option("--port", c.port, "UDP port of every node, TCP port of every seeder")
      ->capture_default_str();
  cmd->add_option("--seed", c.seed, "Seed for node ids, torrents and roles (same seed, same testnet)")
      ->capture_default_str();
  cmd->add_option("--manifest", o->manifest,
                  "Write the ground truth (torrents, hashes, files, seeders) here as JSON");
  cmd->add_flag("--ipv6", c.ipv6, "Nodes and seeders also on [::1] (port + 1 + node index)");
  cmd->add_option("--seeders", c.seeders, "Seeding addresses (default: nodes / 10, at most 200)");
  cmd->add_option("--liars", c.liars,
                  "Share of torrents also served with corrupt metadata by a liar (beside the "
                  "honest seeder)")
      ->capture_default_str();
  cmd->add_option("--slow", c.slow,
                  "Share of torrents also served by a slow-drip peer (beside the honest seeder)")
      ->capture_default_str();
  cmd->add_option("--utp-only", c.utp_only,
                  "Share of honest seeding addresses that serve uTP only (no TCP listener); every seeder serves uTP on "
                  "its node's UDP port")
      ->capture_default_str();
  cmd->add_flag("!--no-utp", c.utp, "Seeders serve TCP only (no uTP on the nodes' UDP ports)");
  cmd->add_option("--martians", c.martians, "Share of nodes that put martian addresses in `nodes`")
      ->capture_default_str();
  cmd->add_flag("--flood", c.flood, "One node floods its neighbours with queries (bounded by --flood-rate)");
  cmd->add_option("--flood-rate", c.flood_rate, "The flooder's queries per second")->capture_default_str();
  cmd->add_option(
         "--announce", o->announce,
         "direct: store each key in its k closest nodes' peer stores (scales); dht: each seeder's node runs "
         "get_peers + announce_peer")
      ->check(CLI::IsMember({"direct", "dht"}))
      ->capture_default_str();
  cmd->add_option("--reannounce", o->reannounce, "Seconds between re-announces")->capture_default_str();
  cmd->add_option("--sample-interval", o->sample_interval,
                  "BEP-51 interval the nodes announce and keep their sample for (libtorrent: 21600)")
      ->capture_default_str();
  cmd->add_option("--max-samples", c.max_samples, "BEP-51 samples per reply (libtorrent: 20)")
      ->capture_default_str();
  cmd->add_option("--duration", o->duration, "Stop after this many seconds (0: run until SIGINT/SIGTERM)")
      ->capture_default_str();
  cmd->add_option("--status-interval", o->status_interval, "Seconds between status lines on stderr (0: none)")
      ->capture_default_str();
  cmd->add_option("--db", o->db,
                  "Database path to put in the printed crawl command (default: a fresh temp file)");

  cmd->callback([o] {
    auto cfg = o->cfg;
    cfg.announce = o->announce == "dht" ? testnet::AnnounceMethod::Dht : testnet::AnnounceMethod::Direct;
    cfg.reannounce = std::chrono::seconds(static_cast<std::int64_t>(o->reannounce));
    cfg.sample_interval = std::chrono::seconds(static_cast<std::int64_t>(o->sample_interval));
    cfg.manifest = o->manifest;
    if (auto r = testnet::validate(cfg); !r) throw CommandFailed(r.error(), 2);

    asio::io_context io;
    testnet::Testnet net(io, cfg, [](std::string_view line) { fmt::print(stderr, "testnet: {}\n", line); });
    const auto t0 = std::chrono::steady_clock::now();
    const auto uptime = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };

    asio::steady_timer status(io);
    std::function<void()> arm_status = [&] {
      if (o->status_interval <= 0) return;
      status.expires_after(std::chrono::milliseconds(static_cast<std::int64_t>(o->status_interval * 1000)));
      status.async_wait([&](std::error_code ec) {
        if (ec) return;
        print_stats(net.stats(), uptime());
        arm_status();
      });
    };

    auto started = net.start([&](const testnet::ReadyInfo& r) {
      const auto db = o->db.empty() ? fresh_db_path(cfg.seed).string() : o->db;
      fmt::print("bootstrap: {}\n", r.bootstrap.to_string());
      fmt::print("nodes: {}  torrents: {}  keys: {}  bootstrapped: {}  announce: {} ({:.1f} s)\n", r.nodes,
                 r.torrents, r.keys, r.bootstrapped, o->announce, r.announce_seconds);
      fmt::print(
          "BEP-51: {} of {} torrents are in some node's first sample (interval {} s, {} samples per node)\n",
          r.sample_visible, r.torrents, cfg.sample_interval.count(), cfg.max_samples);
      if (r.announce_failures > 0) fmt::print("announce failures: {} keys\n", r.announce_failures);
      if (!cfg.manifest.empty()) fmt::print("manifest: {}\n", cfg.manifest.string());
      fmt::print(
          "crawl it with:\n  {} crawl --allow-private-addresses --bootstrap {} --db {} --listen "
          "127.0.0.1:{}\n",
          shell_quote(self_path()), r.bootstrap.to_string(), shell_quote(db), free_udp_port());
      fmt::print("READY\n");
      std::fflush(stdout);
      arm_status();
    });
    if (!started) throw CommandFailed(started.error(), 1);

    asio::signal_set signals(io, SIGINT, SIGTERM);
    asio::steady_timer deadline(io);
    const auto shutdown = [&] {
      net.stop();
      signals.cancel();
      deadline.cancel();
      status.cancel();
      io.stop();
    };
    signals.async_wait([&](std::error_code ec, int) {
      if (!ec) shutdown();
    });
    if (o->duration > 0) {
      deadline.expires_after(std::chrono::milliseconds(static_cast<std::int64_t>(o->duration * 1000)));
      deadline.async_wait([&](std::error_code ec) {
        if (!ec) shutdown();
      });
    }
    io.run();
    print_stats(net.stats(), uptime());
  });
}

}  // namespace bitscrape::cli
