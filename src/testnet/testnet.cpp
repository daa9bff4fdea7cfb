#include "testnet/testnet.hpp"

#include "bencode/decoder.hpp"
#include "dht/peer_store.hpp"
#include "dht/random.hpp"
#include "dht/routing_table.hpp"
#include "krpc/codec.hpp"
#include "krpc/compact.hpp"
#include "testnet/manifest.hpp"

#include <asio/steady_timer.hpp>

#include <algorithm>
#include <cmath>
#include <deque>
#include <list>
#include <unordered_map>

#ifndef _WIN32
#include <sys/resource.h>
#endif

namespace bitscrape::testnet {

using namespace std::chrono_literals;

namespace {

constexpr std::uint32_t kNone = 0xFFFFFFFFu;
constexpr auto kWaveEvery = 50ms;
constexpr auto kPollEvery = 100ms;
constexpr auto kAnnouncePoll = 20ms;
constexpr auto kSettle = 3s;
constexpr auto kFloodEvery = 50ms;
constexpr auto kFloodRefresh = 5s;
constexpr std::size_t kKnownPerBootstrap = 8;  // earlier nodes each new node is told about
constexpr std::uint8_t kAnnounceAttempts = 3;
constexpr std::size_t kSpareFds = 64;  // stdio, the manifest, asio's epoll and eventfd, ...
constexpr double kMaxFloodRate = 10000;
constexpr std::size_t kReceiveBufferBytes = 1u << 20;  // per node socket (capped by net.core.rmem_max)

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::optional<std::array<unsigned, 3>> parse_net(std::string_view net) {
  std::array<unsigned, 3> o{};
  std::size_t part = 0;
  unsigned v = 0;
  std::size_t digits = 0;
  for (std::size_t i = 0; i <= net.size(); ++i) {
    if (i == net.size() || net[i] == '.') {
      if (digits == 0 || part >= 3 || v > 255) return std::nullopt;
      o[part++] = v;
      v = 0;
      digits = 0;
      continue;
    }
    if (net[i] < '0' || net[i] > '9' || ++digits > 3) return std::nullopt;
    v = v * 10 + static_cast<unsigned>(net[i] - '0');
  }
  if (part != 3) return std::nullopt;
  return o;
}

Id160 prefix_bound(const Id160& key, int bits, bool upper) {
  Id160 r = key;
  for (int i = bits; i < 160; ++i) r.set_bit(i, upper);
  return r;
}

}  // namespace

std::optional<IpAddress> node_address(std::string_view net, std::size_t i) {
  const auto o = parse_net(net);
  if (!o || (*o)[0] != 127) return std::nullopt;
  const std::size_t host = i % 254 + 1;
  std::size_t third = (*o)[2] + i / 254;
  std::size_t second = (*o)[1] + third / 256;
  third %= 256;
  if (second > 255) return std::nullopt;
  return IpAddress::v4(std::array<std::uint8_t, 4>{127, static_cast<std::uint8_t>(second),
                                                   static_cast<std::uint8_t>(third),
                                                   static_cast<std::uint8_t>(host)});
}

Result<std::size_t, std::string> ensure_fd_limit(std::size_t needed, std::size_t minimum) {
#ifndef _WIN32
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return Unexpected{std::string("cannot read RLIMIT_NOFILE")};
  const auto hard = rl.rlim_max == RLIM_INFINITY ? needed : static_cast<std::size_t>(rl.rlim_max);
  if (rl.rlim_cur != RLIM_INFINITY && static_cast<std::size_t>(rl.rlim_cur) < needed) {
    rl.rlim_cur = static_cast<rlim_t>(std::min(needed, hard));
    (void)setrlimit(RLIMIT_NOFILE, &rl);
    (void)getrlimit(RLIMIT_NOFILE, &rl);
  }
  const auto now = rl.rlim_cur == RLIM_INFINITY ? needed : static_cast<std::size_t>(rl.rlim_cur);
  if (now < minimum) {
    return Unexpected{
        "the testnet needs at least " + std::to_string(minimum) +
        " file descriptors (one UDP socket per node, one TCP listener per seeding address, plus "
        "connections) but RLIMIT_NOFILE allows " +
        std::to_string(now) + " (hard limit " + std::to_string(hard) +
        "): raise it (`ulimit -n`, systemd LimitNOFILE=) or use fewer --nodes"};
  }
  return now;
#else
  (void)minimum;
  return needed;
#endif
}

Result<void, std::string> validate(const TestnetConfig& c) {
  const auto o = parse_net(c.net);
  if (!o) return Unexpected{"--net must be three octets like 127.0.20, got '" + c.net + "'"};
  if ((*o)[0] != 127)
    return Unexpected{"--net must be inside 127.0.0.0/8 (loopback only), got '" + c.net + "'"};
  if ((*o)[1] == 0 && (*o)[2] == 0)
    return Unexpected{
        std::string("--net 127.0.0 is left to the crawler and other tools: use 127.0.1 or above")};
  if (c.nodes < 2) return Unexpected{std::string("--nodes must be at least 2")};
  if (c.nodes > 1'000'000) return Unexpected{std::string("--nodes is at most 1,000,000")};
  if (c.torrents < 1) return Unexpected{std::string("--torrents must be at least 1")};
  if (c.torrents > 10'000'000) return Unexpected{std::string("--torrents is at most 10,000,000")};
  if (!node_address(c.net, c.nodes - 1)) {
    return Unexpected{std::to_string(c.nodes) + " nodes starting at " + c.net +
                      ".1 would leave 127.0.0.0/8: pick a lower --net"};
  }
  if (c.port == 0) return Unexpected{std::string("--port must not be 0")};
  if (c.ipv6 && static_cast<std::size_t>(c.port) + c.nodes >= 65536) {
    return Unexpected{"--ipv6 puts node i on [::1]:port+1+i: --port " + std::to_string(c.port) + " + " +
                      std::to_string(c.nodes) + " nodes runs past 65535"};
  }
  for (const auto& [name, v] :
       {std::pair{"--liars", c.liars}, {"--slow", c.slow}, {"--martians", c.martians}, {"--utp-only", c.utp_only}}) {
    if (!(v >= 0 && v <= 1)) return Unexpected{std::string(name) + " must be a fraction between 0 and 1"};
  }
  if (c.utp_only > 0 && !c.utp) return Unexpected{std::string("--utp-only needs uTP seeders (drop --no-utp)")};
  if (!(c.flood_rate > 0 && c.flood_rate <= kMaxFloodRate))
    return Unexpected{std::string("--flood-rate must be in (0, 10000]")};
  if (c.max_samples == 0 || c.max_samples > 64) return Unexpected{std::string("--max-samples must be 1..64")};
  if (c.sample_interval.count() < 0 || c.sample_interval.count() > 21600) {
    return Unexpected{std::string("--sample-interval must be 0..21600 seconds (BEP-51)")};
  }
  if (c.reannounce.count() < 10) return Unexpected{std::string("--reannounce must be at least 10 seconds")};
  if (c.start_wave == 0) return Unexpected{std::string("start_wave must be at least 1")};
  return {};
}

// ============================================================================ Impl

struct Testnet::Impl final : MetadataCatalog {
  enum class Phase : std::uint8_t { Idle, Starting, Bootstrapping, Settling, Announcing, Ready, Stopped };
  enum class Role : std::uint8_t { Honest, Liar, Slow };

  struct TorrentRec {
    std::array<InfoHash, 2> keys;
    std::uint8_t nkeys = 0;
    std::uint32_t seeder = kNone;  // listener ids
    std::uint32_t liar = kNone;
    std::uint32_t slow = kNone;
  };
  struct ListenerRec {
    std::size_t node = 0;
    Role role = Role::Honest;
    bool tcp = true;  // false: uTP only
    Endpoint tcp4;
    std::optional<Endpoint> tcp6;
  };
  // A seeder's uTP datagrams leave from its node's socket.
  struct NodeOut final : net::DatagramOut {
    NodeOut(NodeHost& h, std::size_t n) : host(h), node(n) {}
    void send_datagram(const Endpoint& to, std::string_view bytes) override { host.send_raw(node, to, bytes); }
    void flush_datagrams() override {}  // send_raw writes at once
    NodeHost& host;
    std::size_t node;
  };
  struct NodeObserver final : dht::Observer {
    Impl* impl = nullptr;
    std::uint32_t node = 0;
    void on_lookup_done(const dht::LookupResult& r) override { impl->announce_done(node, r); }
  };
  struct AnnounceJob {
    std::uint32_t node = 0;
    std::uint32_t torrent = 0;
    InfoHash key;
    std::uint8_t attempts = 0;
  };
  struct CacheEntry {
    std::uint32_t torrent;
    std::shared_ptr<const std::string> info;
  };

  Impl(asio::io_context& io_, TestnetConfig c, Log l)
      : io(io_),
        cfg(std::move(c)),
        log(std::move(l)),
        gen(cfg.seed, cfg.generator),
        host(io_, kReceiveBufferBytes),
        phase_timer(io_),
        reannounce_timer(io_),
        flood_timer(io_),
        sample_rng(cfg.seed ^ 0x5A3D'11E5'0000'0051ull),
        flood_rng(cfg.seed ^ 0xF100'D000'0000'0001ull) {
    liar_behavior.corrupt_piece = 0;  // flip a byte of piece 0: the hash check fails
    slow_behavior.drip_bytes = 2048;  // 2 KiB/s: a 16 KiB piece in 8 s, inside fetchers' piece timeouts
    slow_behavior.drip_interval = 1s;
  }

  ~Impl() override { stop(); }

  SeederHostConfig seeder_config() const {
    SeederHostConfig s;
    s.max_connections = cfg.max_seeder_connections;
    s.seeder.peer_id = peerwire::make_peer_id("-TN0001-", "testnetseed-");
    s.seeder.client_version = "BitScrape testnet seeder";
    return s;
  }

  void say(const std::string& s) const {
    if (log) log(s);
  }

  Endpoint udp(std::size_t i) const { return Endpoint{*node_address(cfg.net, i), cfg.port}; }
  std::optional<Endpoint> udp6(std::size_t i) const {
    if (!cfg.ipv6) return std::nullopt;
    std::array<std::uint8_t, 16> b{};
    b[15] = 1;
    return Endpoint{IpAddress::v6(b), static_cast<std::uint16_t>(cfg.port + 1 + i)};
  }

  // ---------------------------------------------------------------- start-up

  Result<void, std::string> start(OnReady ready) {
    if (phase != Phase::Idle) return Unexpected{std::string("the testnet was already started")};
    if (auto r = validate(cfg); !r) return r;
    on_ready = std::move(ready);
    t_start = std::chrono::steady_clock::now();

    if (auto r = plan_roles(); !r) return r;
    const std::size_t per_node = cfg.ipv6 ? 2 : 1;
    const std::size_t sockets = cfg.nodes * per_node + listeners.size() * per_node;
    auto fds = ensure_fd_limit(sockets + cfg.max_seeder_connections + kSpareFds, sockets + kSpareFds + 16);
    if (!fds) return Unexpected{fds.error()};
    const std::size_t room = *fds - sockets - kSpareFds;
    if (room < cfg.max_seeder_connections) {
      say("file descriptors: RLIMIT_NOFILE is " + std::to_string(*fds) + ", so at most " +
          std::to_string(room) + " seeder connections at once (wanted " +
          std::to_string(cfg.max_seeder_connections) + ")");
      cfg.max_seeder_connections = room;
    }
    seeders = std::make_unique<SeederHost>(io, seeder_config(), *this);

    if (auto r = generate(); !r) return r;
    if (auto r = open_listeners(); !r) {
      stop();
      return r;
    }
    if (auto r = create_nodes(); !r) {
      stop();
      return r;
    }
    attach_utp();
    phase = Phase::Starting;
    t_bootstrap = std::chrono::steady_clock::now();
    say("starting " + std::to_string(cfg.nodes) + " nodes on " + udp(0).ip.to_string() + " .. " +
        udp(cfg.nodes - 1).ip.to_string() + " port " + std::to_string(cfg.port) +
        (cfg.ipv6 ? " (and [::1])" : ""));
    schedule_phase(0ms);
    return {};
  }

  Result<void, std::string> plan_roles() {
    const std::size_t n = cfg.nodes;
    const std::size_t honest =
        cfg.seeders != 0 ? cfg.seeders : std::min<std::size_t>(200, std::max<std::size_t>(1, n / 10));
    const std::size_t liars_n = cfg.liars > 0 ? std::max<std::size_t>(1, honest / 4) : 0;
    const std::size_t slow_n = cfg.slow > 0 ? std::max<std::size_t>(1, honest / 4) : 0;
    const auto martian_n = static_cast<std::size_t>(std::llround(cfg.martians * static_cast<double>(n)));
    const std::size_t flood_n = cfg.flood ? 1 : 0;
    // Node 0 is the bootstrap node; seeders follow it; martians and the flooder take the end.
    if (1 + honest + liars_n + slow_n + martian_n + flood_n > n) {
      return Unexpected{"not enough nodes for the roles: 1 bootstrap + " + std::to_string(honest) +
                        " seeding + " + std::to_string(liars_n) + " liar + " + std::to_string(slow_n) +
                        " slow + " + std::to_string(martian_n) + " martian + " + std::to_string(flood_n) +
                        " flooding addresses > " + std::to_string(n) +
                        " nodes: raise --nodes or lower --seeders"};
    }
    std::size_t next = 1;
    const auto add = [&](std::size_t count, Role role) {
      for (std::size_t i = 0; i < count; ++i) {
        ListenerRec l;
        l.node = next++;
        l.role = role;
        l.tcp4 = Endpoint{udp(l.node).ip, cfg.port};
        if (cfg.ipv6) l.tcp6 = udp6(l.node);
        listeners.push_back(l);
      }
    };
    add(honest, Role::Honest);
    const auto utp_only_n = cfg.utp ? static_cast<std::size_t>(std::llround(cfg.utp_only * static_cast<double>(honest))) : 0;
    for (std::size_t i = 0; i < utp_only_n && i < honest; ++i) listeners[i].tcp = false;
    add(liars_n, Role::Liar);
    add(slow_n, Role::Slow);
    honest_count = honest;
    liar_count = liars_n;
    slow_count = slow_n;
    is_martian.assign(n, false);
    for (std::size_t i = 0; i < martian_n; ++i) is_martian[n - 1 - i] = true;
    if (cfg.flood) flooder = n - 1 - martian_n;
    return {};
  }

  Result<void, std::string> generate() {
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<ManifestWriter> writer;
    if (!cfg.manifest.empty()) {
      auto w = ManifestWriter::open(cfg.manifest);
      if (!w) return Unexpected{w.error()};
      writer.emplace(std::move(*w));
    }
    torrents.resize(cfg.torrents);
    by_key.reserve(cfg.torrents * 3 / 2);
    dht::Rng roles(cfg.seed ^ 0x0DE5'0000'0000'0001ull);
    std::size_t kinds[3] = {0, 0, 0};
    for (std::size_t t = 0; t < cfg.torrents; ++t) {
      const auto g = gen.generate(t);
      if (auto v = verify(g); !v) return Unexpected{v.error()};
      auto& rec = torrents[t];
      for (const auto& k : g.dht_keys()) {
        if (!by_key.emplace(k, static_cast<std::uint32_t>(t)).second) {
          return Unexpected{"generated torrents " + std::to_string(by_key[k]) + " and " + std::to_string(t) +
                            " share the key " + k.hex() + " (change --seed)"};
        }
        rec.keys[rec.nkeys++] = k;
      }
      ++kinds[static_cast<int>(g.kind)];
      rec.seeder = static_cast<std::uint32_t>(t % honest_count);
      if (liar_count > 0 && roles.chance(cfg.liars)) {
        rec.liar = static_cast<std::uint32_t>(honest_count + roles.below(liar_count));
      }
      if (slow_count > 0 && roles.chance(cfg.slow)) {
        rec.slow = static_cast<std::uint32_t>(honest_count + liar_count + roles.below(slow_count));
      }
      if (writer) {
        auto e = manifest_entry(g);
        e.seeder = listeners[rec.seeder].tcp4.to_string();
        if (rec.liar != kNone) e.liars.push_back(listeners[rec.liar].tcp4.to_string());
        if (rec.slow != kNone) e.slow.push_back(listeners[rec.slow].tcp4.to_string());
        if (auto r = writer->add(e); !r) return r;
      }
      key_count += rec.nkeys;
      if ((t + 1) % 10000 == 0) say("generated " + std::to_string(t + 1) + " torrents");
    }
    if (writer) manifest.emplace(std::move(*writer));
    ready_info.generate_seconds = seconds_since(t0);
    say("generated and verified " + std::to_string(cfg.torrents) + " torrents (" + std::to_string(kinds[0]) +
        " v1, " + std::to_string(kinds[1]) + " v2, " + std::to_string(kinds[2]) + " hybrid; " +
        std::to_string(key_count) + " DHT keys) in " + std::to_string(ready_info.generate_seconds) + " s");
    return {};
  }

  Result<void, std::string> open_listeners() {
    for (std::size_t i = 0; i < listeners.size(); ++i) {
      auto& l = listeners[i];
      const peerwire::SeederBehavior* b = l.role == Role::Liar   ? &liar_behavior
                                          : l.role == Role::Slow ? &slow_behavior
                                                                 : nullptr;
      if (!l.tcp) continue;  // uTP only: attach_utp()
      auto r = seeders->listen(l.tcp4, static_cast<std::uint32_t>(i), b);
      if (!r) return Unexpected{r.error()};
      if (l.tcp6) {
        auto r6 = seeders->listen(*l.tcp6, static_cast<std::uint32_t>(i), b);
        if (!r6) return Unexpected{r6.error()};
      }
    }
    return {};
  }

  // Each seeding address serves uTP on its node's UDP socket: the node's uTP datagrams go to
  // the seeder, which answers from the same socket.
  void attach_utp() {
    if (!cfg.utp) return;
    for (std::size_t i = 0; i < listeners.size(); ++i) {
      const auto& l = listeners[i];
      const peerwire::SeederBehavior* b = l.role == Role::Liar   ? &liar_behavior
                                          : l.role == Role::Slow ? &slow_behavior
                                                                 : nullptr;
      utp_outs.push_back(std::make_unique<NodeOut>(host, l.node));
      auto& socket = seeders->listen_utp(static_cast<std::uint32_t>(i), b, *utp_outs.back());
      host.set_utp_handler(l.node, [&socket](std::string_view bytes, const Endpoint& from) {
        socket.on_datagram(bytes, from);
      });
    }
  }

  dht::NodeConfig node_config(std::size_t i, dht::Rng& rng) const {
    dht::NodeConfig c;
    c.node_id = rng.id();
    c.seed = rng.next();
    c.ipv4 = true;
    c.ipv6 = cfg.ipv6;
    c.allow_private_addresses = true;  // a loopback testnet: every address is martian
    c.version = "TN01";
    // libtorrent-like BEP-51 (its dht_sample_infohashes_interval / dht_max_infohashes_sample_count).
    c.store.sample_interval = cfg.sample_interval;
    c.store.max_samples = cfg.max_samples;
    c.store.fixed_sample = true;
    // Per-node memory: a node of a 5,000-node testnet talks to a few dozen addresses a second;
    // the defaults (8,192 pacer and limiter slots, 4,096 transactions) are sized for a crawler
    // and would cost ~1.2 MB per node.
    c.rate.pacer_slots = 256;
    c.rate.inbound_slots = 256;
    c.client.max_transactions = 256;
    c.client.max_lookups = 16;
    c.sampler.enabled = false;
    c.sampler.max_tracked_nodes = 64;
    c.external_ip.max_voters = 16;
    if (i == 0) {
      // The bootstrap node answers every newcomer, like a public router node.
      c.rate = dht::RateConfig{};
      c.rate.out_packets_per_second = 20000;
      c.rate.out_burst = 4000;
      c.client.max_transactions = 1024;
    }
    if (cfg.announce == AnnounceMethod::Dht && i >= 1 && i <= listeners.size()) {
      c.client.max_lookups = 64;  // seeding nodes run the announce lookups
      c.client.max_transactions = 1024;
    }
    if (cfg.ipv6) {
      // Every IPv6 node shares ::1: per-IP limits would treat them as one host.
      c.routing.one_node_per_ip = false;
      c.rate.per_destination_window = 50ms;
      c.rate.in_packets_per_ip_per_second = 5000;
      c.rate.in_burst_per_ip = 1000;
    }
    return c;
  }

  Result<void, std::string> create_nodes() {
    dht::Rng rng(cfg.seed ^ 0x1D5E'ED00'0000'0001ull);
    observers.resize(cfg.nodes);
    ids.reserve(cfg.nodes);
    for (std::size_t i = 0; i < cfg.nodes; ++i) {
      const auto nc = node_config(i, rng);
      auto& obs = observers[i];
      obs.impl = this;
      obs.node = static_cast<std::uint32_t>(i);
      auto r = host.add(nc, udp(i), udp6(i), &obs);
      if (!r)
        return Unexpected{r.error() + " (is another testnet using --net " + cfg.net + " --port " +
                          std::to_string(cfg.port) + "?)"};
      ids.push_back(*nc.node_id);
      if (is_martian[i]) {
        host.set_filter(i, [this](std::string_view d, const Endpoint& to, std::string& scratch) {
          return martian_rewrite(d, to, scratch);
        });
      }
    }
    by_id.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) by_id.emplace_back(ids[i], static_cast<std::uint32_t>(i));
    std::sort(by_id.begin(), by_id.end());
    return {};
  }

  // ---------------------------------------------------------------- phases

  void schedule_phase(std::chrono::milliseconds after) {
    phase_timer.expires_after(after);
    phase_timer.async_wait([this](std::error_code ec) {
      if (ec || phase == Phase::Stopped) return;
      advance();
    });
  }

  void advance() {
    const auto now = dht::Clock::now();
    switch (phase) {
      case Phase::Starting: {
        const std::size_t end = std::min(cfg.nodes, started + cfg.start_wave);
        for (; started < end; ++started) bootstrap_node(started, now);
        if (started < cfg.nodes)
          return schedule_phase(std::chrono::duration_cast<std::chrono::milliseconds>(kWaveEvery));
        phase = Phase::Bootstrapping;
        return schedule_phase(std::chrono::duration_cast<std::chrono::milliseconds>(kPollEvery));
      }
      case Phase::Bootstrapping: {
        const std::size_t done = count_bootstrapped();
        const bool timeout = std::chrono::steady_clock::now() - t_bootstrap > cfg.bootstrap_timeout;
        if (done < cfg.nodes && !timeout)
          return schedule_phase(std::chrono::duration_cast<std::chrono::milliseconds>(kPollEvery));
        ready_info.bootstrapped = done;
        ready_info.bootstrap_seconds = seconds_since(t_bootstrap);
        say((done < cfg.nodes ? "bootstrap timed out: " : "bootstrapped ") + std::to_string(done) + "/" +
            std::to_string(cfg.nodes) + " nodes in " + std::to_string(ready_info.bootstrap_seconds) + " s");
        phase = Phase::Settling;
        return schedule_phase(std::chrono::duration_cast<std::chrono::milliseconds>(kSettle));
      }
      case Phase::Settling:
        phase = Phase::Announcing;
        t_announce = std::chrono::steady_clock::now();
        if (cfg.announce == AnnounceMethod::Direct) {
          store_all(now);
          return become_ready();
        }
        queue_all_announces();
        return advance();
      case Phase::Announcing:
        pump_announces(now);
        if (announce_queue.empty() && announce_inflight.empty()) return become_ready();
        return schedule_phase(std::chrono::duration_cast<std::chrono::milliseconds>(kAnnouncePoll));
      case Phase::Ready:
        // Re-announce (Dht) in progress after READY.
        pump_announces(now);
        if (!announce_queue.empty() || !announce_inflight.empty()) {
          schedule_phase(std::chrono::duration_cast<std::chrono::milliseconds>(kAnnouncePoll));
        }
        return;
      case Phase::Idle:
      case Phase::Stopped:
        return;
    }
  }

  void bootstrap_node(std::size_t i, dht::TimePoint now) {
    if (i == 0) {
      // Nobody to ask yet: its table fills from the newcomers' queries, and it re-bootstraps
      // from that table on its own.
      (void)host.node(0).bootstrap({}, {}, now);
      host.poke(0);
      return;
    }
    // Both families when --ipv6: a v6 table only fills from v6 contacts.
    std::vector<Endpoint> routers{udp(0)};
    if (const auto r6 = udp6(0)) routers.push_back(*r6);
    std::vector<krpc::CompactNode> known;
    known.reserve(2 * kKnownPerBootstrap);
    for (std::size_t j = 0; j < kKnownPerBootstrap && i > 1; ++j) {
      const auto k = static_cast<std::size_t>(1 + bootstrap_rng.below(i - 1));
      known.push_back(krpc::CompactNode{ids[k], udp(k)});
      if (const auto e6 = udp6(k)) known.push_back(krpc::CompactNode{ids[k], *e6});
    }
    (void)host.node(i).bootstrap(routers, known, now);
    host.poke(i);
  }

  std::size_t count_bootstrapped() const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < host.size(); ++i) {
      const auto& node = host.node(i);
      const auto* t = node.table(IpAddress::Family::V4);
      if (node.bootstrapped() || (i == 0 && t != nullptr && t->size() > 0)) ++n;
    }
    return n;
  }

  // ---------------------------------------------------------------- announcing

  std::vector<std::size_t> closest(const InfoHash& key, std::size_t k) const {
    // The k closest (XOR) lie inside the longest prefix of `key` shared by at least k ids: ids
    // outside it are farther than every id inside. Ids sharing a prefix are contiguous in
    // sorted order, so the prefix length is found by binary search.
    k = std::min(k, by_id.size());
    const auto range = [&](int bits) {
      const auto lo =
          std::lower_bound(by_id.begin(), by_id.end(), std::pair{prefix_bound(key, bits, false), 0u});
      const auto hi =
          std::upper_bound(by_id.begin(), by_id.end(), std::pair{prefix_bound(key, bits, true), kNone});
      return std::pair{lo, hi};
    };
    int lo_bits = 0;
    int hi_bits = 160;
    while (lo_bits < hi_bits) {  // largest `bits` whose range still holds k ids
      const int mid = (lo_bits + hi_bits + 1) / 2;
      const auto [a, b] = range(mid);
      if (static_cast<std::size_t>(b - a) >= k) {
        lo_bits = mid;
      } else {
        hi_bits = mid - 1;
      }
    }
    const auto [a, b] = range(lo_bits);
    std::vector<std::pair<Id160, std::uint32_t>> cand(a, b);
    std::partial_sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(k), cand.end(),
                      [&](const auto& x, const auto& y) { return closer_to(key, x.first, y.first); });
    std::vector<std::size_t> out;
    out.reserve(k);
    for (std::size_t i = 0; i < k; ++i) out.push_back(cand[i].second);
    return out;
  }

  std::size_t replication() const { return dht::RoutingConfig{}.bucket_size; }

  void store_all(dht::TimePoint now) {
    std::size_t stored = 0;
    std::size_t full = 0;
    const std::size_t k = replication();
    for (const auto& rec : torrents) {
      for (std::size_t j = 0; j < rec.nkeys; ++j) {
        for (const auto n : closest(rec.keys[j], k)) {
          auto& store = host.node(n).store();
          for (const auto lid : {rec.seeder, rec.liar, rec.slow}) {
            if (lid == kNone) continue;
            const auto& l = listeners[lid];
            if (store.announce(rec.keys[j], l.tcp4, true, now) == dht::PeerStore::AnnounceResult::StoreFull)
              ++full;
            if (l.tcp6) (void)store.announce(rec.keys[j], *l.tcp6, true, now);
            ++stored;
          }
        }
      }
    }
    if (full > 0) say("warning: " + std::to_string(full) + " announces refused by full peer stores");
    last_stored = stored;
  }

  void queue_all_announces() {
    for (std::size_t t = 0; t < torrents.size(); ++t) {
      const auto& rec = torrents[t];
      for (std::size_t j = 0; j < rec.nkeys; ++j) {
        for (const auto lid : {rec.seeder, rec.liar, rec.slow}) {
          if (lid == kNone) continue;
          announce_queue.push_back(AnnounceJob{static_cast<std::uint32_t>(listeners[lid].node),
                                               static_cast<std::uint32_t>(t), rec.keys[j], 0});
        }
      }
    }
  }

  static std::uint64_t lookup_key(std::uint32_t node, dht::LookupId id) {
    return (static_cast<std::uint64_t>(node) << 32) | id;
  }

  void pump_announces(dht::TimePoint now) {
    std::size_t refused = 0;
    while (!announce_queue.empty() && announce_inflight.size() < cfg.max_announce_lookups &&
           refused < announce_queue.size()) {
      auto job = announce_queue.front();
      announce_queue.pop_front();
      dht::AnnounceParams a;
      a.port = cfg.port;
      a.seed = true;
      const auto lid = host.node(job.node).get_peers(job.key, now, a);
      if (lid == dht::kNoLookup) {  // that node is busy: try the next job, this one later
        announce_queue.push_back(job);
        ++refused;
        continue;
      }
      host.poke(job.node);
      announce_inflight.emplace(lookup_key(job.node, lid), job);
    }
  }

  void announce_done(std::uint32_t node, const dht::LookupResult& r) {
    const auto it = announce_inflight.find(lookup_key(node, r.id));
    if (it == announce_inflight.end()) return;
    auto job = it->second;
    announce_inflight.erase(it);
    if (r.announced) {
      ++announces_ok;
      return;
    }
    if (++job.attempts < kAnnounceAttempts) {
      announce_queue.push_back(job);
    } else {
      ++announce_failures;
    }
  }

  void become_ready() {
    phase = Phase::Ready;
    const auto now = dht::Clock::now();
    ready_info.announce_seconds = seconds_since(t_announce);
    ready_info.announce_failures = announce_failures;
    // Draw every node's BEP-51 sample now (what it would draw at the first request; it is then
    // served for the whole interval), so the coverage of the first interval is known.
    std::vector<bool> visible(torrents.size(), false);
    for (std::size_t i = 0; i < host.size(); ++i) {
      for (const auto& ih : host.node(i).store().sample(now, sample_rng)) {
        if (const auto it = by_key.find(ih); it != by_key.end()) visible[it->second] = true;
      }
    }
    ready_info.sample_visible = static_cast<std::size_t>(std::count(visible.begin(), visible.end(), true));
    ready_info.bootstrap = udp(0);
    ready_info.nodes = cfg.nodes;
    ready_info.torrents = cfg.torrents;
    ready_info.keys = key_count;
    if (manifest) {
      Manifest m;
      m.bootstrap = udp(0).to_string();
      m.nodes.reserve(cfg.nodes);
      for (std::size_t i = 0; i < cfg.nodes; ++i) m.nodes.push_back(udp(i).to_string());
      m.stats = {{"seed", static_cast<double>(cfg.seed)},
                 {"keys", static_cast<double>(key_count)},
                 {"sample_interval", static_cast<double>(cfg.sample_interval.count())},
                 {"max_samples", static_cast<double>(cfg.max_samples)},
                 {"sample_visible_first_interval", static_cast<double>(ready_info.sample_visible)},
                 {"bootstrapped", static_cast<double>(ready_info.bootstrapped)},
                 {"generate_seconds", ready_info.generate_seconds},
                 {"bootstrap_seconds", ready_info.bootstrap_seconds},
                 {"announce_seconds", ready_info.announce_seconds}};
      if (auto r = manifest->finish(m); !r) say("warning: " + r.error());
      manifest.reset();
    }
    arm_reannounce();
    if (flooder) arm_flood();
    if (on_ready) on_ready(ready_info);
  }

  void arm_reannounce() {
    reannounce_timer.expires_after(cfg.reannounce);
    reannounce_timer.async_wait([this](std::error_code ec) {
      if (ec || phase != Phase::Ready) return;
      if (cfg.announce == AnnounceMethod::Direct) {
        store_all(dht::Clock::now());
      } else if (announce_queue.empty()) {
        queue_all_announces();
        schedule_phase(0ms);
      }
      arm_reannounce();
    });
  }

  // ---------------------------------------------------------------- misbehaviour

  // A martian node's replies: every `nodes` entry keeps its id but gets an address nobody should
  // contact — 0.0.0.0/8 ("this network", unroutable), port 0, or an unused 127.255.0.0/16
  // address (a dead neighbour). Never a LAN range: a crawler that opted into private addresses
  // for this testnet must not be sent off the host.
  std::string_view martian_rewrite(std::string_view d, const Endpoint& /*to*/, std::string& scratch) {
    auto parsed = krpc::parse(d, martian_doc);
    if (!parsed) return d;
    const auto* r = std::get_if<krpc::Response>(&parsed->message);
    if (r == nullptr || !r->nodes || r->nodes->empty()) return d;
    martian_nodes.clear();
    std::size_t i = 0;
    for (auto n : *r->nodes) {
      const auto& b = n.id.bytes;
      switch (i++ % 3) {
        case 0:
          n.endpoint =
              Endpoint{IpAddress::v4(std::array<std::uint8_t, 4>{0, b[0], b[1], b[2]}), n.endpoint.port};
          break;
        case 1:
          n.endpoint.port = 0;
          break;
        default:
          n.endpoint = Endpoint{IpAddress::v4(std::array<std::uint8_t, 4>{127, 255, b[0], b[1]}), 6881};
          break;
      }
      krpc::append_compact_node(martian_nodes, n);
    }
    krpc::Response lie = *r;
    lie.nodes = krpc::NodeList::v4(martian_nodes);
    scratch.clear();
    if (!krpc::encode(lie, scratch)) return d;
    ++martian_replies;
    return scratch;
  }

  void arm_flood() {
    flood_timer.expires_after(kFloodEvery);
    flood_timer.async_wait([this](std::error_code ec) {
      if (ec || phase != Phase::Ready) return;
      flood_tick();
      arm_flood();
    });
  }

  // The flooder queries its routing-table neighbours far above libtorrent's ~5 packets/s per IP,
  // at flood_rate packets/s in total: bounded, so it stresses rate limits without drowning the
  // loop.
  void flood_tick() {
    const auto now = dht::Clock::now();
    const std::size_t f = *flooder;
    if (flood_targets.empty() || now >= flood_refresh) {
      flood_targets.clear();
      for (const auto& n : host.node(f).export_nodes(now)) flood_targets.push_back(n.endpoint);
      flood_refresh = now + kFloodRefresh;
      if (flood_targets.empty()) return;
    }
    const auto per_tick = std::max<std::size_t>(
        1, static_cast<std::size_t>(cfg.flood_rate * std::chrono::duration<double>(kFloodEvery).count()));
    for (std::size_t i = 0; i < per_tick; ++i) {
      const auto& to = flood_targets[flood_next++ % flood_targets.size()];
      char tid[2];
      const auto r = flood_rng.next();
      tid[0] = static_cast<char>(r);
      tid[1] = static_cast<char>(r >> 8);
      krpc::Query q;
      q.tid = std::string_view(tid, 2);
      q.id = host.node(f).id();
      if (r & 0x10000) {
        q.args = krpc::GetPeersArgs{flood_rng.id(), {}, false, false};
      } else {
        q.args = krpc::FindNodeArgs{flood_rng.id(), {}};
      }
      flood_buf.clear();
      if (!krpc::encode(q, flood_buf)) continue;
      if (host.send_raw(f, to, flood_buf)) ++flood_queries;
    }
  }

  // ---------------------------------------------------------------- metadata catalog

  std::shared_ptr<const std::string> find(const InfoHash& key, std::uint32_t listener) override {
    const auto it = by_key.find(key);
    if (it == by_key.end()) return nullptr;
    const auto& rec = torrents[it->second];
    if (listener != rec.seeder && listener != rec.liar && listener != rec.slow) return nullptr;
    return info(it->second);
  }

  // Info dicts are regenerated on demand (generate() is pure) and kept in an LRU cache bounded
  // by bytes; connections pin what they serve through the shared pointer.
  std::shared_ptr<const std::string> info(std::uint32_t t) {
    if (const auto it = cache_index.find(t); it != cache_index.end()) {
      cache.splice(cache.begin(), cache, it->second);
      return it->second->info;
    }
    auto bytes = std::make_shared<const std::string>(gen.generate(t).info);
    ++regenerated;
    cache.push_front(CacheEntry{t, bytes});
    cache_index.emplace(t, cache.begin());
    cache_bytes += bytes->size();
    while (cache_bytes > cfg.info_cache_bytes && cache.size() > 1) {
      cache_bytes -= cache.back().info->size();
      cache_index.erase(cache.back().torrent);
      cache.pop_back();
    }
    return bytes;
  }

  // ---------------------------------------------------------------- stop / stats

  void stop() {
    if (phase == Phase::Stopped) return;
    phase = Phase::Stopped;
    phase_timer.cancel();
    reannounce_timer.cancel();
    flood_timer.cancel();
    host.close();
    if (seeders) seeders->close();
    manifest.reset();  // an unfinished manifest is removed
  }

  TestnetStats stats() const {
    TestnetStats s;
    s.nodes = host.size();
    s.torrents = torrents.size();
    s.ready = phase == Phase::Ready;
    std::size_t sum = 0;
    std::size_t sum6 = 0;
    s.table_nodes_min = host.size() > 0 ? SIZE_MAX : 0;
    for (std::size_t i = 0; i < host.size(); ++i) {
      const auto& node = host.node(i);
      const auto c = node.counters();
      const auto* t = node.table(IpAddress::Family::V4);
      const std::size_t tn = t != nullptr ? t->size() : 0;
      sum += tn;
      s.table_nodes_min = std::min(s.table_nodes_min, tn);
      if (const auto* t6 = node.table(IpAddress::Family::V6)) sum6 += t6->size();
      s.stored_keys += node.store().size();
#define BITSCRAPE_TESTNET_SUM(name, kind) s.node_totals.name += c.name;
      BITSCRAPE_DHT_COUNTERS(BITSCRAPE_TESTNET_SUM)
#undef BITSCRAPE_TESTNET_SUM
    }
    s.table_nodes_avg = host.size() > 0 ? static_cast<double>(sum) / static_cast<double>(host.size()) : 0;
    s.table6_nodes_avg = host.size() > 0 ? static_cast<double>(sum6) / static_cast<double>(host.size()) : 0;
    s.martian_replies = martian_replies;
    s.flood_queries = flood_queries;
    s.info_regenerated = regenerated;
    s.udp = host.counters();
    if (seeders) s.tcp = seeders->counters();
    return s;
  }

  // ---------------------------------------------------------------- state

  asio::io_context& io;
  TestnetConfig cfg;
  Log log;
  TorrentGenerator gen;
  peerwire::SeederBehavior liar_behavior;  // outlive `seeders`
  peerwire::SeederBehavior slow_behavior;
  NodeHost host;
  std::vector<std::unique_ptr<NodeOut>> utp_outs;  // outlive `seeders`
  std::unique_ptr<SeederHost> seeders;  // made in start(), once the connection cap is known
  asio::steady_timer phase_timer;
  asio::steady_timer reannounce_timer;
  asio::steady_timer flood_timer;
  dht::Rng sample_rng;
  dht::Rng flood_rng;
  dht::Rng bootstrap_rng{0xB007'0000'0000'0001ull};

  Phase phase = Phase::Idle;
  OnReady on_ready;
  ReadyInfo ready_info;
  std::chrono::steady_clock::time_point t_start, t_bootstrap, t_announce;
  std::size_t started = 0;

  std::vector<TorrentRec> torrents;
  std::unordered_map<InfoHash, std::uint32_t, Id160Hash> by_key;
  std::size_t key_count = 0;
  std::vector<ListenerRec> listeners;
  std::size_t honest_count = 0, liar_count = 0, slow_count = 0;
  std::vector<bool> is_martian;
  std::optional<std::size_t> flooder;
  std::vector<NodeId> ids;
  std::vector<std::pair<Id160, std::uint32_t>> by_id;  // sorted
  std::vector<NodeObserver> observers;
  std::optional<ManifestWriter> manifest;
  std::size_t last_stored = 0;

  std::deque<AnnounceJob> announce_queue;
  std::unordered_map<std::uint64_t, AnnounceJob> announce_inflight;
  std::size_t announces_ok = 0;
  std::size_t announce_failures = 0;

  std::list<CacheEntry> cache;
  std::unordered_map<std::uint32_t, std::list<CacheEntry>::iterator> cache_index;
  std::size_t cache_bytes = 0;
  std::uint64_t regenerated = 0;

  bencode::Document martian_doc;
  std::string martian_nodes;
  std::uint64_t martian_replies = 0;

  std::vector<Endpoint> flood_targets;
  std::size_t flood_next = 0;
  dht::TimePoint flood_refresh{};
  std::string flood_buf;
  std::uint64_t flood_queries = 0;
};

// ============================================================================ Testnet

Testnet::Testnet(asio::io_context& io, TestnetConfig config, Log log)
    : impl_(std::make_unique<Impl>(io, std::move(config), std::move(log))) {}
Testnet::~Testnet() = default;

Result<void, std::string> Testnet::start(OnReady on_ready) {
  return impl_->start(std::move(on_ready));
}
void Testnet::stop() {
  impl_->stop();
}
bool Testnet::ready() const noexcept {
  return impl_->phase == Impl::Phase::Ready;
}
const TestnetConfig& Testnet::config() const noexcept {
  return impl_->cfg;
}
Endpoint Testnet::bootstrap() const {
  return impl_->udp(0);
}
TestnetStats Testnet::stats() const {
  return impl_->stats();
}

std::size_t Testnet::node_count() const noexcept {
  return impl_->host.size();
}
Endpoint Testnet::node_endpoint(std::size_t i) const {
  return impl_->udp(i);
}
const dht::Node& Testnet::node(std::size_t i) const {
  return impl_->host.node(i);
}
std::vector<std::size_t> Testnet::closest_nodes(const InfoHash& key, std::size_t k) const {
  return impl_->closest(key, k);
}

std::size_t Testnet::torrent_count() const noexcept {
  return impl_->torrents.size();
}
GeneratedTorrent Testnet::torrent(std::size_t t) const {
  return impl_->gen.generate(t);
}
std::vector<InfoHash> Testnet::torrent_keys(std::size_t t) const {
  const auto& r = impl_->torrents.at(t);
  return {r.keys.begin(), r.keys.begin() + r.nkeys};
}
bool Testnet::seeder_utp_only(std::size_t t) const {
  return !impl_->listeners[impl_->torrents.at(t).seeder].tcp;
}

Endpoint Testnet::seeder_of(std::size_t t) const {
  return impl_->listeners[impl_->torrents.at(t).seeder].tcp4;
}
std::optional<Endpoint> Testnet::liar_of(std::size_t t) const {
  const auto l = impl_->torrents.at(t).liar;
  if (l == kNone) return std::nullopt;
  return impl_->listeners[l].tcp4;
}
std::optional<Endpoint> Testnet::slow_peer_of(std::size_t t) const {
  const auto l = impl_->torrents.at(t).slow;
  if (l == kNone) return std::nullopt;
  return impl_->listeners[l].tcp4;
}
std::vector<std::size_t> Testnet::martian_nodes() const {
  std::vector<std::size_t> v;
  for (std::size_t i = 0; i < impl_->is_martian.size(); ++i)
    if (impl_->is_martian[i]) v.push_back(i);
  return v;
}
std::optional<std::size_t> Testnet::flooder() const {
  return impl_->flooder;
}

}  // namespace bitscrape::testnet
