// `bitscrape crawl`: run the crawler (DHT node + BEP-51 sampler + metadata fetcher + database).
#include "app/config.hpp"
#include "app/crawl.hpp"
#include "cli/commands.hpp"

#include <cstdio>
#include <filesystem>

#ifndef _WIN32
#include <unistd.h>
#endif

namespace bitscrape::cli {

void register_crawl(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "crawl",
      "Crawl the DHT: join it as a well-behaved node, discover infohashes (BEP-51 sampling, lookups, queries we "
      "receive), find their peers, fetch and verify their metadata, and store everything in the database. Runs "
      "until SIGINT/SIGTERM or --duration; settings come from the config file, overridden by these flags "
      "(see docs/configuration.md).");
  struct Opts {
    std::string config;
    std::string db;
    std::vector<std::string> listen;
    std::vector<std::string> bootstrap;
    bool allow_private = false;
    double duration = -1;
    std::string web;
    std::string web_token;
    std::string peers_csv;
    std::string stats_json;
    double packet_budget = 0;
    std::vector<std::string> keyspace;
    std::size_t max_connections = 0;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--config", o->config, "TOML config file (default: $XDG_CONFIG_HOME/bitscrape/config.toml if present)");
  cmd->add_option("--db", o->db, "SQLite database file, or a PostgreSQL URI postgresql://user@host:port/dbname (default: $XDG_DATA_HOME/bitscrape/bitscrape.db)");
  cmd->add_option("--listen", o->listen, "UDP address for the DHT node, IP:PORT (repeatable: one IPv4, one IPv6)");
  cmd->add_option("--bootstrap", o->bootstrap, "Bootstrap node HOST:PORT (repeatable; replaces the defaults)");
  cmd->add_flag("--allow-private-addresses", o->allow_private,
                "Contact private/loopback addresses learned from other nodes (for local testnets only)");
  cmd->add_option("--duration", o->duration, "Stop after this many seconds (0: run until stopped)");
  cmd->add_option("--web", o->web, "Web UI address IP:PORT, or 'off' (default 127.0.0.1:8080)");
  cmd->add_option("--web-token", o->web_token, "Access token for the web API (required off loopback)");
  cmd->add_option("--peers-csv", o->peers_csv, "Also write every peer found as infohash,peer_ip,peer_port rows");
  cmd->add_option("--stats-json", o->stats_json, "At exit, write every counter (DHT, pipeline, fetcher, store) as JSON");
  cmd->add_option("--packet-budget", o->packet_budget, "Outgoing UDP packets per second");
  cmd->add_option("--keyspace", o->keyspace, "Hex prefix of the keyspace to sample (repeatable; default all)");
  cmd->add_option("--max-connections", o->max_connections, "Concurrent metadata connections");
  cmd->callback([o] {
    auto cfg = app::default_config();
    const std::filesystem::path config_path =
        o->config.empty() ? app::default_config_path() : std::filesystem::path(o->config);
    if (!o->config.empty() || std::filesystem::exists(config_path)) {
      if (auto r = app::load_config(config_path, cfg); !r) throw CommandFailed(r.error(), 2);
    }
    if (!o->db.empty()) cfg.database = o->db;
    if (!o->listen.empty()) {
      cfg.listen.clear();
      for (const auto& l : o->listen) {
        auto ep = Endpoint::parse(l);
        if (!ep) throw CommandFailed("--listen must be IP:PORT or [IPv6]:PORT, got '" + l + "'", 2);
        cfg.listen.push_back(*ep);
      }
    }
    if (!o->bootstrap.empty()) {
      cfg.bootstrap.clear();
      for (const auto& b : o->bootstrap) {
        auto hp = app::HostPort::parse(b);
        if (!hp) throw CommandFailed("--bootstrap must be HOST:PORT, got '" + b + "'", 2);
        cfg.bootstrap.push_back(*hp);
      }
    }
    if (o->allow_private) cfg.allow_private_addresses = true;
    if (o->duration >= 0) cfg.duration = std::chrono::seconds(static_cast<std::int64_t>(o->duration));
    if (!o->web.empty()) {
      if (o->web == "off") {
        cfg.web.reset();
      } else {
        auto ep = Endpoint::parse(o->web);
        if (!ep) throw CommandFailed("--web must be IP:PORT or 'off', got '" + o->web + "'", 2);
        cfg.web = *ep;
      }
    }
    if (!o->web_token.empty()) cfg.web_token = o->web_token;
    if (o->packet_budget > 0) cfg.packet_budget = o->packet_budget;
    if (!o->keyspace.empty()) cfg.keyspace = o->keyspace;
    if (o->max_connections > 0) cfg.max_connections = o->max_connections;
    if (auto r = app::validate(cfg); !r) throw CommandFailed(r.error(), 2);

    app::CrawlOptions opts;
    opts.peers_csv = o->peers_csv;
    opts.stats_json = o->stats_json;
#ifndef _WIN32
    opts.status_line = ::isatty(STDERR_FILENO) != 0;
#endif
    app::Crawler crawler(cfg, opts);
    const int code = crawler.run();
    if (code != 0) throw CommandFailed("crawl stopped with an error (see above)", code);
  });
}

}  // namespace bitscrape::cli
