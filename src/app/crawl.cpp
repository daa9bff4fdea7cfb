#include "app/crawl.hpp"

#include "app/cluster.hpp"
#include "app/env.hpp"
#include "app/telemetry.hpp"

#include "crawler/client_versions.hpp"
#include "crawler/fetch_service.hpp"
#include "crawler/pipeline.hpp"
#include "dht/node.hpp"
#include "dht/routing_table.hpp"
#include "net/address.hpp"
#include "net/udp.hpp"
#include "storage/open_store.hpp"
#include "storage/store_writer.hpp"
#include "web/live.hpp"
#include "web/server.hpp"

#include <fmt/core.h>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>

#include <unistd.h>

namespace bitscrape::app {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kBootstrapFromDb = 200;              // persisted nodes to bootstrap from
constexpr std::size_t kRefillBatch = 2000;                 // pending keys fetched from the db at once
constexpr auto kRefillBackoff = std::chrono::minutes(30);  // a failed round waits this long
constexpr auto kNodePersistEvery = std::chrono::minutes(1);
constexpr auto kFirstNodePersist = std::chrono::seconds(15);  // soon enough to survive an early crash
constexpr auto kCounterSampleEvery = std::chrono::seconds(10);
constexpr auto kBootstrapRetry = std::chrono::seconds(60);
constexpr auto kRefillEvery = std::chrono::seconds(1);       // database refills at most this often
constexpr auto kRefillIdle = std::chrono::seconds(10);       // ... and after finding nothing, this

// Parses a hex keyspace prefix ("3", "a0") into a dht::KeyPrefix.
dht::KeyPrefix parse_prefix(const std::string& hex) {
  dht::KeyPrefix p;
  for (std::size_t i = 0; i < hex.size() && i < 40; ++i) {
    const char c = hex[i];
    const int v = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    p.prefix.bytes[i / 2] = static_cast<std::uint8_t>(p.prefix.bytes[i / 2] | (i % 2 == 0 ? v << 4 : v));
  }
  p.bits = static_cast<int>(hex.size() * 4);
  return p;
}

constexpr std::size_t kClientVersionsListed = 200;  // LiveSource: "at most a few hundred entries"

}  // namespace

struct Crawler::Impl final : crawler::PipelineEnv, dht::DatagramSink, dht::Observer, web::LiveSource {
  CrawlConfig cfg;
  CrawlOptions opts;
  asio::io_context io;
  asio::steady_timer wake{io};
  asio::steady_timer second{io};
  asio::steady_timer retry{io};  // bootstrap again when nothing could be resolved
  asio::signal_set signals{io, SIGINT, SIGTERM};
  std::vector<std::unique_ptr<net::UdpSocket>> sockets;
  net::UdpSocket* socket_v4 = nullptr;  // views into `sockets`, by family
  net::UdpSocket* socket_v6 = nullptr;
  std::unique_ptr<storage::Store> write_store;
  std::unique_ptr<storage::Store> read_store;
  std::unique_ptr<storage::Store> cluster_store;  // claims and heartbeats (read-write, the loop's own)
  std::unique_ptr<Cluster> cluster;
  bool share_keyspace = cfg.keyspace.empty();  // a configured dht.keyspace overrides the automatic share
  storage::WriterOptions writer_options;
  std::unique_ptr<storage::StoreWriter> writer;
  std::unique_ptr<crawler::Pipeline> pipeline;
  std::unique_ptr<crawler::FetchService> fetcher;
  std::unique_ptr<dht::Node> node;
  std::ofstream peers_csv;
  std::unique_ptr<FileLock> db_lock;
  Env& env;
  Clock::time_point started = env.now();
  Clock::time_point armed_for = Clock::time_point::max();
  Clock::time_point next_persist, next_counter_sample, next_status, next_heartbeat, next_refill;
  std::atomic<bool> stopping{false};
  int exit_code = 0;
  crawler::ClientVersions clients{crawler::ClientVersions::kDefaultMaxNodes,
                                  crawler::ClientVersions::kDefaultMaxVersions, env.seed()};

  Telemetry telemetry{started};
  mutable std::mutex snap_mu;  // guards everything below it (read by web threads)
  std::vector<web::RoutingTableFill> table_fill;
  std::array<web::KeyspaceCell, 256> coverage{};  // loop-thread copy is `coverage_live`
  std::deque<web::Discovery> recent;              // newest first, at most web::kMaxRecentDiscoveries
  std::vector<web::ClientCount> client_counts;    // clients.top(), at most kClientVersionsListed
  std::array<web::KeyspaceCell, 256> coverage_live{};
  std::unique_ptr<storage::Store> web_store;
  std::unique_ptr<web::Server> web_server;

  Impl(CrawlConfig c, CrawlOptions o, Env& e) : cfg(std::move(c)), opts(std::move(o)), env(e) {}

  // ---- PipelineEnv ----
  dht::LookupId start_get_peers(const InfoHash& ih, dht::TimePoint now,
                                std::span<const krpc::CompactNode> holders) override {
    return node->get_peers(ih, now, std::nullopt, holders);
  }
  bool fetch(const InfoHash& ih, std::span<const Endpoint> peers, int priority) override {
    return fetcher->add(ih, peers, priority);
  }
  std::size_t fetch_backlog() const override { return fetcher->pending(); }
  std::size_t fetch_capacity() const override {
    return cfg.max_connections > 0 ? cfg.max_connections : std::numeric_limits<std::size_t>::max();
  }
  crawler::BudgetSample budget() const override {
    const auto c = node->counters();
    return {cfg.packet_budget, c.packets_out, c.out_budget_waits};
  }
  std::vector<bool> claim(std::span<const InfoHash> keys) override { return cluster->claim(keys, env.wall()); }
  void record(storage::StoreWriter::Record r) override {
    if (peers_csv.is_open()) {
      if (const auto* p = std::get_if<storage::PeerRecord>(&r)) {
        peers_csv << p->infohash.hex() << ',' << p->endpoint.ip.to_string() << ',' << p->endpoint.port
                  << '\n';
      }
    }
    if (const auto* t = std::get_if<storage::TorrentRecord>(&r)) {
      web::Discovery d{t->fetched_at, t->key(),      web::DiscoveryKind::Metadata,
                       t->name,       t->total_size, t->file_count};
      push_recent(std::move(d));
    }
    writer->submit(std::move(r));
  }
  storage::UnixTime wall_now() const override { return env.wall(); }
  void discovered(const InfoHash& ih) override {
    push_recent(web::Discovery{env.wall(), ih, web::DiscoveryKind::Infohash, {}, 0, 0});
  }
  void push_recent(web::Discovery d) {
    std::lock_guard lk(snap_mu);
    recent.push_front(std::move(d));
    if (recent.size() > web::kMaxRecentDiscoveries) recent.pop_back();
  }

  // ---- dht::Observer: the pipeline sees everything; sampling coverage is noted on the way ----
  void on_node_seen(const NodeId& id, const Endpoint& ep, dht::NodeSource src) override {
    pipeline->on_node_seen(id, ep, src);
  }
  void on_infohash_seen(const InfoHash& ih, dht::InfohashSource src, const Endpoint& from) override {
    pipeline->on_infohash_seen(ih, src, from);
  }
  void on_peers_found(dht::LookupId id, const InfoHash& ih, std::span<const Endpoint> peers) override {
    pipeline->on_peers_found(id, ih, peers);
  }
  void on_sample(const dht::SampleEvent& ev) override {
    ++coverage_live[ev.id.bytes[0]].nodes_queried;
    for (const auto ih : ev.samples) ++coverage_live[ih.bytes[0]].samples;
    pipeline->on_sample(ev);
  }
  void on_lookup_done(const dht::LookupResult& r) override { pipeline->on_lookup_done(r); }
  void on_client_version(const NodeId& id, const Endpoint& /*ep*/, std::string_view version) override {
    clients.seen(id, version);
  }
  void on_external_ip(const IpAddress& ip) override {
    std::fprintf(stderr, "\nbitscrape: our external address is %s (voted by the nodes we talk to)\n",
                 ip.to_string().c_str());
  }

  // ---- web::LiveSource (any thread) ----
  telemetry::Snapshot snapshot() override { return telemetry.latest(); }
  std::vector<web::RoutingTableFill> routing_table() override {
    std::lock_guard lk(snap_mu);
    return table_fill;
  }
  web::KeyspaceCoverage keyspace_coverage() override {
    std::lock_guard lk(snap_mu);
    web::KeyspaceCoverage k;
    k.prefix_bits = 8;
    k.cells.assign(coverage.begin(), coverage.end());
    return k;
  }
  std::vector<web::ClientCount> client_versions() override {
    std::lock_guard lk(snap_mu);
    return client_counts;
  }
  std::vector<web::Discovery> recent_discoveries(std::size_t max) override {
    std::lock_guard lk(snap_mu);
    return {recent.begin(), recent.begin() + static_cast<std::ptrdiff_t>(std::min(max, recent.size()))};
  }
  web::ControlResult control(std::function<void()> f) {
    if (stopping) return Unexpected{std::string("the crawler is shutting down")};
    asio::post(io, std::move(f));
    return {};
  }
  web::ControlResult set_sampling_paused(bool paused) override {
    return control([this, paused] {
      pipeline->set_sampling(!paused);
      node->set_sampler_enabled(!paused);
    });
  }
  web::ControlResult set_fetching_paused(bool paused) override {
    return control([this, paused] { pipeline->set_fetching(!paused); });
  }
  web::ControlResult set_packet_budget(double pps) override {
    return control([this, pps] {
      cfg.packet_budget = pps;
      node->set_packet_budget(pps);
    });
  }

  bool start_web(std::string& error) {
    if (!cfg.web) return true;
    storage::SqliteOptions so;
    so.read_only = true;
    so.cache_kib = 16 * 1024;
    auto st = storage::open_store(cfg.database.string(), so);
    if (!st) {
      error = "web: cannot open database " + storage::describe_target(cfg.database.string()) + ": " +
              st.error().message;
      return false;
    }
    web_store = std::move(st.value());
    web::ServerOptions wo;
    wo.bind = *cfg.web;
    wo.token = cfg.web_token;
    wo.version = BITSCRAPE_VERSION_STRING;
    auto srv = web::Server::start(*web_store, this, wo);
    if (!srv) {
      error = srv.error();
      return false;
    }
    web_server = std::move(srv.value());
    std::fprintf(stderr, "bitscrape: web UI at %s\n", web_server->url().c_str());
    return true;
  }

  // ---- DatagramSink ----
  void send(std::string_view datagram, const Endpoint& to) override {
    if (auto* s = socket_for(to.ip.family())) s->send(to, datagram);
  }
  // The socket of an address family (nullptr when not listening on it). No system call: this
  // is on the path of every datagram we send.
  net::UdpSocket* socket_for(IpAddress::Family f) const noexcept {
    return f == IpAddress::Family::V4 ? socket_v4 : socket_v6;
  }

  void flush_sockets() {
    for (auto& s : sockets) s->flush();
  }

  // Runs everything due and re-arms the one timer at the earliest wake-up.
  void pump() {
    const auto now = env.now();
    auto next = node->tick(now);
    next = std::min(next, pipeline->tick(now));
    if (pipeline->wants_refill()) refill();
    flush_sockets();
    arm(next);
  }

  void arm(Clock::time_point at) {
    if (at >= armed_for && armed_for > env.now()) return;
    armed_for = at;
    wake.expires_at(at);
    wake.async_wait([this](std::error_code ec) {
      if (ec) return;
      armed_for = Clock::time_point::max();
      pump();
    });
  }

  // Pending keys from the database, leased to us (claim_pending: none another crawler holds).
  void refill() {
    const auto now = env.now();
    if (now < next_refill) return;
    storage::PendingQuery q;
    q.limit = kRefillBatch;
    q.attempted_before = env.wall() - std::chrono::duration_cast<std::chrono::seconds>(kRefillBackoff);
    const auto r = cluster->claim_pending(q, env.wall());
    next_refill = now + (r.empty() ? kRefillIdle : kRefillEvery);
    if (!r.empty()) pipeline->refill(r);
  }

  bool open_store(std::string& error) {
    const std::string target = cfg.database.string();
    const std::string shown = storage::describe_target(target);
    // A SQLite file gets its directory and the one-crawler lock; a PostgreSQL server serialises
    // its writers itself (and will share its work between crawlers: issue 11).
    if (!storage::is_postgres_uri(target)) {
      std::error_code ec;
      if (cfg.database.has_parent_path()) std::filesystem::create_directories(cfg.database.parent_path(), ec);
      auto lock = env.lock_database(cfg.database);
      if (!lock) {
        error = std::move(lock.error());
        return false;
      }
      db_lock = std::move(lock.value());
    }
    storage::SqliteOptions so;
    so.store.keep_info_dicts = cfg.store_info_dicts;
    so.store.max_peers_per_infohash = cfg.peers_per_infohash;
    auto w = storage::open_store(target, so);
    if (!w) {
      error = "cannot open database " + shown + ": " + w.error().message;
      return false;
    }
    write_store = std::move(w.value());
    so.read_only = true;
    so.cache_kib = 8 * 1024;  // point reads and small scans: a small page cache is enough
    auto rd = storage::open_store(target, so);
    if (!rd) {
      error = "cannot open database " + shown + " for reading: " + rd.error().message;
      return false;
    }
    read_store = std::move(rd.value());
    so.read_only = false;
    auto cl = storage::open_store(target, so);
    if (!cl) {
      error = "cannot open database " + shown + ": " + cl.error().message;
      return false;
    }
    cluster_store = std::move(cl.value());
    cluster = std::make_unique<Cluster>(*cluster_store, pipeline_config(cfg).lease);
    writer = std::make_unique<storage::StoreWriter>(*write_store, writer_options);
    return true;
  }

  bool open_sockets(std::string& error) {
    for (const auto& ep : cfg.listen) {
      auto s = std::make_unique<net::UdpSocket>(io);
      if (auto ec = s->open(ep)) {
        error = fmt::format("cannot listen on UDP {}: {}.", ep.to_string(), ec.message());
        if (ec == asio::error::address_in_use) {
          error +=
              " Another program (another bitscrape?) uses that port: stop it or pick another with --listen.";
        } else if (ec.value() == EADDRNOTAVAIL) {
          error += " That address is not on this machine: use 0.0.0.0 or one of its addresses.";
        }
        return false;
      }
      s->start([this](std::span<const net::Datagram> batch) {
        const auto now = env.now();
        for (const auto& d : batch) node->on_datagram(d.bytes, d.from, now);
        auto next = node->next_wake();
        // New infohashes wait for the pipeline: let it run soon, batching a few datagrams' worth.
        if (pipeline->unchecked() > 0) next = std::min(next, now + std::chrono::milliseconds(20));
        arm(next);
      });
      (ep.ip.is_v4() ? socket_v4 : socket_v6) = s.get();
      sockets.push_back(std::move(s));
    }
    return true;
  }

  dht::NodeConfig node_config() const {
    dht::NodeConfig n;
    n.seed = env.seed();
    n.ipv4 = false;
    n.ipv6 = false;
    for (const auto& ep : cfg.listen) (ep.ip.is_v4() ? n.ipv4 : n.ipv6) = true;
    n.allow_private_addresses = cfg.allow_private_addresses;
    n.version = std::string("BS\x00\x01", 4);
    n.rate.out_packets_per_second = cfg.packet_budget;
    n.rate.out_burst = std::max(20.0, cfg.packet_budget / 5);
    n.client.max_lookups = cfg.max_lookups + 16;  // room for the sampler and table upkeep
    n.sampler.enabled = cfg.sample_walks > 0;
    n.sampler.parallel_walks = cfg.sample_walks;
    n.sampler.discover_nodes = true;
    for (const auto& p : cfg.keyspace) n.sampler.keyspace.push_back(parse_prefix(p));
    n.external_ip.secure_id = true;
    return n;
  }

  // Registers this crawl among the crawlers of the database and takes its keyspace share.
  bool join_cluster(const std::string& addrs) {
    std::array<char, 256> host{};
    if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
    storage::InstanceInfo info{node->id(), addrs, host.data(), env.wall()};
    if (auto r = cluster->join(info); !r) {
      std::fprintf(stderr, "bitscrape: cannot register this crawl in database %s: %s\n",
                   storage::describe_target(cfg.database.string()).c_str(), r.error().message.c_str());
      return false;
    }
    next_heartbeat = env.now() + kHeartbeatEvery;
    if (auto share = cluster->heartbeat(heartbeat_now())) apply_share(std::move(*share));
    return true;
  }

  // What this instance stored so far and its rates (the instances table shows them).
  storage::Heartbeat heartbeat_now() const {
    const auto& s = telemetry.current();
    storage::Heartbeat hb;
    hb.at = env.wall();
    hb.infohashes = s.infohashes_total;
    hb.torrents = writer->stats().torrents_added;
    hb.infohashes_per_s = s.infohashes_per_s;
    hb.torrents_per_s = s.metadata_per_s;
    hb.packets_per_s = s.packets_in_per_s + s.packets_out_per_s;
    return hb;
  }

  // The live crawlers changed: sample our part of the keyspace (unless dht.keyspace says).
  void apply_share(std::vector<dht::KeyPrefix> share) {
    const auto n = cluster->live().size();
    if (!share_keyspace) return;
    node->set_keyspace(std::move(share));
    if (n > 1 || last_live > 1) {
      std::fprintf(stderr, "bitscrape: instance %lld, one of %zu live crawlers on this database: sampling %s\n",
                   static_cast<long long>(cluster->id()), n,
                   n > 1 ? fmt::format("1/{} of the keyspace", n).c_str() : "the whole keyspace");
    }
    last_live = n;
  }
  std::size_t last_live = 1;

  void bootstrap() {
    std::vector<krpc::CompactNode> known;
    if (auto r = read_store->good_nodes(kBootstrapFromDb)) {
      for (const auto& n : *r) known.push_back(krpc::CompactNode{n.id, n.endpoint});
    }
    auto resolver = std::make_shared<asio::ip::udp::resolver>(io);
    auto routers = std::make_shared<std::vector<Endpoint>>();
    auto left = std::make_shared<std::size_t>(cfg.bootstrap.size());
    auto done = [this, routers, known] {
      if (routers->empty() && known.empty()) {
        std::fprintf(
            stderr,
            "bitscrape: nothing to bootstrap from: none of the bootstrap hosts resolved and the database "
            "has no nodes from an earlier run. Check the network (DNS), or pass --bootstrap IP:PORT of a "
            "reachable DHT node. Trying again in %lld s; meanwhile the node answers whoever finds it.\n",
            static_cast<long long>(kBootstrapRetry.count()));
        retry.expires_after(kBootstrapRetry);
        retry.async_wait([this](std::error_code ec) {
          if (!ec && !stopping) bootstrap();
        });
        return;
      }
      std::fprintf(stderr, "bitscrape: bootstrapping from %zu routers and %zu known nodes\n", routers->size(),
                   known.size());
      node->bootstrap(*routers, known, env.now());
      pump();
    };
    if (cfg.bootstrap.empty()) {
      done();
      return;
    }
    for (const auto& hp : cfg.bootstrap) {
      resolver->async_resolve(hp.host, std::to_string(hp.port),
                              [this, resolver, routers, left, done, hp](std::error_code ec, auto results) {
                                if (ec) {
                                  std::fprintf(stderr, "bitscrape: cannot resolve bootstrap host %s: %s\n",
                                               hp.to_string().c_str(), ec.message().c_str());
                                } else {
                                  for (const auto& r : results) {
                                    const auto ep = net::from_asio(r.endpoint());
                                    if (socket_for(ep.ip.family()) != nullptr) routers->push_back(ep);
                                  }
                                }
                                if (--*left == 0) done();
                              });
    }
  }

  void persist_nodes() {
    const auto now = env.wall();
    for (const auto& n : node->export_nodes(env.now())) {
      writer->submit(storage::NodeRecord{n.endpoint, n.id, now, true});
    }
  }

  // What the telemetry reads: every component's own counters, under a prefix each, plus the
  // queues and controls. Registered once; Telemetry::update() runs them every second.
  void register_telemetry() {
    telemetry.add_source([this](telemetry::Collector& c) { c.add("dht_", node->counters()); });
    telemetry.add_source([this](telemetry::Collector& c) { c.add("pipeline_", pipeline->counters()); });
    telemetry.add_source([this](telemetry::Collector& c) {
      c.add("fetch_", fetcher->pool().counters());
      c.add("fetch_", fetcher->scheduler().counters());
    });
    telemetry.add_source([this](telemetry::Collector& c) { c.add("store_", writer->stats()); });
    telemetry.add_source([this](telemetry::Collector& c) { c.add("client_versions_", clients); });
    telemetry.set_decorate([this](telemetry::Snapshot& s) {
      s.queues = {{"lookup", pipeline->lookup_queue(), 0},
                  {"lookups_active", pipeline->lookups_active(), cfg.max_lookups},
                  {"fetch", fetcher->pending(), 0},
                  {"connections", fetcher->pool().active(), cfg.max_connections},
                  {"store_writer", writer->stats().queued_records, writer_options.queue_records}};
      s.sampling_paused = !pipeline->sampling();
      s.fetching_paused = !pipeline->fetching();
      s.packet_budget = cfg.packet_budget;
      s.instance_id = cluster->id();
    });
  }

  // Refreshes the snapshot, records dashboard counters, prints status. Once a second.
  void every_second() {
    const auto now = env.now();
    telemetry.update(now, env.wall());
    std::vector<web::RoutingTableFill> fill;
    for (const auto fam : {IpAddress::Family::V4, IpAddress::Family::V6}) {
      const auto* t = node->table(fam);
      if (t == nullptr) continue;
      web::RoutingTableFill f;
      f.family = fam == IpAddress::Family::V4 ? "ipv4" : "ipv6";
      for (std::size_t i = 0; i < t->bucket_count(); ++i) {
        f.buckets.push_back({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(t->bucket_size(i)), 8,
                             static_cast<std::uint32_t>(t->bucket_replacements(i))});
      }
      fill.push_back(std::move(f));
    }
    std::vector<web::ClientCount> versions;
    for (auto& c : clients.top(kClientVersionsListed)) versions.push_back({std::move(c.version), c.nodes});
    {
      std::lock_guard lk(snap_mu);
      table_fill = std::move(fill);
      coverage = coverage_live;
      client_counts = std::move(versions);
    }

    if (now >= next_counter_sample) {
      next_counter_sample = now + kCounterSampleEvery;
      writer->submit(telemetry.counter_sample());
    }
    if (now >= next_persist) {
      next_persist = now + kNodePersistEvery;
      persist_nodes();
    }
    if (now >= next_heartbeat) {
      next_heartbeat = now + kHeartbeatEvery;
      if (auto share = cluster->heartbeat(heartbeat_now())) apply_share(std::move(*share));
    }
    if (opts.status_line || now >= next_status) {
      next_status = now + cfg.status_interval;
      const std::string line = telemetry.status_line(opts.status_line);
      if (opts.status_line) {
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
      } else {
        std::fprintf(stderr, "bitscrape: %s\n", line.c_str());
      }
      std::fflush(stderr);
    }
    if (cfg.duration.count() > 0 && now - started >= cfg.duration) shutdown();
  }

  void tick_second() {
    second.expires_after(std::chrono::seconds(1));
    second.async_wait([this](std::error_code ec) {
      if (ec) return;
      every_second();
      if (!stopping) tick_second();
    });
  }

  void shutdown() {
    if (stopping.exchange(true)) return;
    signals.cancel();
    wake.cancel();
    second.cancel();
    retry.cancel();
    fetcher->stop();
    for (auto& s : sockets) s->close();
    io.stop();
  }

  int run() {
    std::string error;
    if (!open_store(error) || !open_sockets(error) || !start_web(error)) {
      std::fprintf(stderr, "bitscrape: %s\n", error.c_str());
      return 1;
    }
    if (!opts.peers_csv.empty()) {
      peers_csv.open(opts.peers_csv, std::ios::trunc);
      if (!peers_csv) {
        std::fprintf(stderr, "bitscrape: cannot write %s\n", opts.peers_csv.c_str());
        return 1;
      }
      peers_csv << "infohash,peer_ip,peer_port\n";
    }
    pipeline = std::make_unique<crawler::Pipeline>(*this, pipeline_config(cfg));

    crawler::FetchServiceConfig fc;
    fc.scheduler.max_attempts = cfg.attempts_per_infohash;
    fc.scheduler.max_candidates = cfg.peers_per_infohash;
    fc.pool.max_connections = cfg.max_connections;
    fc.pool.max_per_ip = cfg.max_connections_per_ip;
    fc.pool.fetcher.max_metadata_size = cfg.max_metadata_size;
    fc.pool.fetcher.total_timeout = cfg.fetch_timeout;
    fc.pool.transports = net::parse_transports(cfg.fetch_transports);
    fetcher = std::make_unique<crawler::FetchService>(
        io, fc, [this](crawler::FetchOutcome o) { pipeline->on_fetch_outcome(std::move(o)); }, env.seed());
    for (auto& s : sockets) fetcher->attach_udp(*s);  // uTP peers answer on the DHT's port

    node = std::make_unique<dht::Node>(node_config(), *this, static_cast<dht::Observer*>(this), env.now());
    register_telemetry();
    std::string addrs;
    for (const auto& s : sockets) addrs += (addrs.empty() ? "" : ", ") + s->local_endpoint().to_string();
    std::fprintf(stderr, "bitscrape: DHT node %s listening on %s; database %s\n", node->id().hex().c_str(),
                 addrs.c_str(), storage::describe_target(cfg.database.string()).c_str());
    if (!join_cluster(addrs)) return 1;

    signals.async_wait([this](std::error_code ec, int) {
      if (!ec) shutdown();
    });
    next_persist = started + kFirstNodePersist;
    refill();
    bootstrap();
    tick_second();
    io.run();

    // Clean stop: remember good nodes for the next start, commit everything.
    if (web_server) web_server->stop();
    persist_nodes();
    if (opts.status_line) std::fprintf(stderr, "\n");
    every_second();
    writer->flush(std::chrono::seconds(30));
    writer->stop();
    every_second_final();
    cluster->leave(heartbeat_now());  // after the last commit: our leases go back at once
    if (!opts.stats_json.empty()) write_stats_json();
    return exit_code;
  }

  void write_stats_json() {
    std::ofstream out(opts.stats_json, std::ios::trunc);
    out << telemetry.stats_json();
  }

  void every_second_final() {
    const auto& s = telemetry.current();
    // What this instance stored: with several crawlers on one database, the lines add up.
    std::fprintf(stderr, "bitscrape: stopped after %.0f s: %llu new infohashes, %llu torrents stored\n",
                 s.uptime_s, static_cast<unsigned long long>(s.infohashes_total),
                 static_cast<unsigned long long>(writer->stats().torrents_added));
  }
};

crawler::PipelineConfig pipeline_config(const CrawlConfig& cfg) {
  crawler::PipelineConfig pc;
  pc.max_lookups = cfg.max_lookups;
  pc.peers_per_infohash = cfg.peers_per_infohash;
  pc.allow_private_addresses = cfg.allow_private_addresses;
  // The memory budget: half for the known-key set (16 bytes a key at most), a quarter for the
  // lookup queue (~256 bytes an entry with its peers); the rest is slack for the fetch queue.
  const std::size_t budget = cfg.memory_budget_mb * (std::size_t{1} << 20);
  pc.known_capacity = crawler::KnownSet::capacity_for_bytes(budget / 2);
  pc.max_lookup_queue = std::max<std::size_t>(1000, budget / 4 / 256);
  return pc;
}

Crawler::Crawler(CrawlConfig config, CrawlOptions options, Env& env)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(options), env)) {}
Crawler::~Crawler() = default;

int Crawler::run() {
  return impl_->run();
}
telemetry::Snapshot Crawler::snapshot() const {
  return impl_->telemetry.latest();
}

void Crawler::stop() {
  asio::post(impl_->io, [this] { impl_->shutdown(); });
}

}  // namespace bitscrape::app
