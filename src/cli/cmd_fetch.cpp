// `bitscrape fetch` and `bitscrape fetch-batch`: fetch torrent metadata from given peers over the
// peer wire protocol (BEP-3/10/9), verify it against the infohash, and print or save it.
#include "app/env.hpp"
#include "cli/commands.hpp"
#include "cli/format.hpp"
#include "common/csv.hpp"
#include "common/hex.hpp"
#include "crawler/fetch_service.hpp"
#include "crawler/torrent_record.hpp"
#include "net/udp.hpp"
#include "metainfo/info_dict.hpp"
#include "metainfo/magnet.hpp"
#include "metainfo/torrent_file.hpp"
#include "web/export.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>

namespace bitscrape::cli {
namespace {

struct FetchOptions {
  std::size_t max_metadata_size = 10u << 20;
  double timeout = 60;
  std::size_t attempts = 5;
  std::size_t connections = 1000;
  std::size_t parallel = 2;  // connections per infohash at once
  std::vector<std::string> transports{"utp", "tcp"};
};

void add_fetch_options(CLI::App* cmd, FetchOptions& o) {
  cmd->add_option("--max-metadata-size", o.max_metadata_size,
                  "Refuse metadata larger than this many bytes (checked before downloading)")
      ->capture_default_str();
  cmd->add_option("--timeout", o.timeout, "Give up on one peer after this many seconds")->capture_default_str();
  cmd->add_option("--attempts", o.attempts, "Peers tried per infohash before giving up")->capture_default_str();
  cmd->add_option("--transports", o.transports,
                  "How peers are reached, in the order tried (as fetch.transports): utp (from an ephemeral UDP port), "
                  "tcp")
      ->check(CLI::IsMember({"utp", "tcp"}))
      ->capture_default_str();
}

crawler::FetchServiceConfig service_config(const FetchOptions& o) {
  crawler::FetchServiceConfig c;
  c.scheduler.max_attempts = o.attempts;
  c.scheduler.parallel_per_infohash = o.parallel;
  c.scheduler.max_candidates = std::max<std::size_t>(o.attempts, 20);
  c.pool.max_connections = o.connections;
  c.pool.fetcher.max_metadata_size = static_cast<std::uint32_t>(std::min<std::size_t>(o.max_metadata_size, 1u << 30));
  c.pool.fetcher.total_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o.timeout * 1000));
  c.pool.fetcher.handshake_timeout = std::min(c.pool.fetcher.handshake_timeout, c.pool.fetcher.total_timeout);
  c.pool.fetcher.piece_timeout = std::min(c.pool.fetcher.piece_timeout, c.pool.fetcher.total_timeout);
  c.pool.connect_timeout = std::min(c.pool.connect_timeout, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                  c.pool.fetcher.total_timeout));
  c.pool.transports = net::parse_transports(o.transports);
  return c;
}

// A DHT key from 40 hex digits, or from a 64-hex v2 infohash (truncated, as on the DHT).
std::optional<InfoHash> parse_key(std::string_view text) {
  if (text.size() == 64) text = text.substr(0, 40);
  return InfoHash::from_hex(text);
}

std::string describe(const crawler::FetchAttempt& a) {
  if (a.ok) return "delivered valid metadata";
  std::string s(peerwire::to_string(a.reason));
  if (!a.detail.empty()) s += " (" + a.detail + ")";
  if (a.liar) s += " [liar]";
  return s;
}

nlohmann::json attempts_json(const std::vector<crawler::FetchAttempt>& attempts) {
  auto arr = nlohmann::json::array();
  for (const auto& a : attempts) {
    arr.push_back({{"peer", a.peer.to_string()},
                   {"ok", a.ok},
                   {"reason", a.ok ? "ok" : std::string(peerwire::to_string(a.reason))},
                   {"detail", a.detail},
                   {"liar", a.liar}});
  }
  return arr;
}

storage::UnixTime wall_now() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

// The torrent as the export contract writes it (web::export_json over its storage record:
// `discovered_at` is when we started asking, `fetched_at` when the metadata arrived, `peers`
// the peers given), plus `private`.
nlohmann::json torrent_json(const metainfo::TorrentInfo& t, storage::UnixTime asked_at,
                            storage::UnixTime fetched_at, std::uint32_t peers_given) {
  const auto rec = crawler::to_record(t, {}, asked_at, fetched_at);
  auto j = web::export_json(rec, web::KeySummary{peers_given, std::nullopt});
  j["private"] = t.is_private;
  return j;
}

void print_torrent(const metainfo::TorrentInfo& t, const peerwire::FetchSuccess& s, const Endpoint& from) {
  fmt::print("name:         {}\n", t.name);
  if (t.v1) fmt::print("infohash v1:  {}\n", t.v1->hex());
  if (t.v2) fmt::print("infohash v2:  {}\n", to_hex({reinterpret_cast<const char*>(t.v2->data()), 32}));
  fmt::print("size:         {} ({} bytes)\n", human_bytes(t.total_size), t.total_size);
  fmt::print("piece length: {} ({} pieces)\n", human_bytes(t.piece_length), t.piece_count);
  if (t.is_private) fmt::print("private:      yes\n");
  fmt::print("from:         {}{}\n", from.to_string(), s.client.empty() ? "" : " (" + s.client + ")");
  fmt::print("magnet:       {}\n", metainfo::make_magnet(t));
  fmt::print("files ({}):\n", t.file_count);
  for (const auto& f : t.files) fmt::print("  {:>10}  {}\n", human_bytes(f.length), f.path);
}

// Runs every queued fetch to its outcome.
std::vector<crawler::FetchOutcome> run_fetches(const FetchOptions& o,
                                               const std::vector<std::pair<InfoHash, std::vector<Endpoint>>>& jobs) {
  asio::io_context io;
  std::vector<crawler::FetchOutcome> outcomes;
  std::unique_ptr<crawler::FetchService> service;
  service = std::make_unique<crawler::FetchService>(
      io, service_config(o),
      [&](crawler::FetchOutcome out) {
        outcomes.push_back(std::move(out));
        // The UDP sockets' reads never complete by themselves: stop once nothing is left.
        asio::post(io, [&] {
          if (service->pending() == 0) io.stop();
        });
      },
      app::Env::system().seed());
  // uTP goes out from ephemeral UDP ports, one per family this host has.
  std::vector<std::unique_ptr<net::UdpSocket>> udp;
  if (std::find(o.transports.begin(), o.transports.end(), "utp") != o.transports.end()) {
    for (const char* any : {"0.0.0.0:0", "[::]:0"}) {
      auto s = std::make_unique<net::UdpSocket>(io);
      if (s->open(*Endpoint::parse(any))) continue;
      s->start([](std::span<const net::Datagram>) {});
      service->attach_udp(*s);
      udp.push_back(std::move(s));
    }
  }
  for (const auto& [ih, peers] : jobs) {
    if (!service->add(ih, peers)) throw CommandFailed("too many infohashes queued at once", 2);
  }
  asio::post(io, [&] {  // after any outcome add() decided at once (posted before this)
    if (service->pending() == 0) io.stop();
  });
  io.run();
  service.reset();  // before the sockets it sends through
  return outcomes;
}

void register_fetch_one(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "fetch",
      "Fetch one torrent's metadata from the given peers (BEP-9), verify it against the infohash "
      "(SHA-1 for v1, SHA-256 for v2/hybrid) and print it; exit 1 when no peer delivered valid metadata, "
      "saying why for each peer.");
  struct Opts {
    std::string infohash;
    std::vector<std::string> peers;
    std::string output;
    bool json = false;
    FetchOptions fetch;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("INFOHASH", o->infohash, "40 hex digits (v1, or the first 20 bytes of a v2 hash) or 64 (v2)")
      ->required();
  cmd->add_option("--peer", o->peers, "A peer to ask, IP:PORT or [IPv6]:PORT (repeatable)")->required();
  cmd->add_option("-o,--output", o->output, "Also write the .torrent file here");
  cmd->add_flag("--json", o->json, "Print JSON instead of text");
  add_fetch_options(cmd, o->fetch);
  cmd->callback([o] {
    const auto key = parse_key(o->infohash);
    if (!key) throw CommandFailed("INFOHASH must be 40 or 64 hex digits, got '" + o->infohash + "'", 2);
    std::vector<Endpoint> peers;
    for (const auto& p : o->peers) {
      const auto ep = Endpoint::parse(p);
      if (!ep) throw CommandFailed("--peer must be IP:PORT or [IPv6]:PORT, got '" + p + "'", 2);
      peers.push_back(*ep);
    }
    o->fetch.attempts = std::max(o->fetch.attempts, peers.size());
    o->fetch.parallel = 1;  // peers are asked in the order given, so every answer is reported
    const auto asked_at = wall_now();
    const auto outcomes = run_fetches(o->fetch, {{*key, peers}});
    const auto fetched_at = wall_now();
    const auto& out = outcomes.at(0);
    std::optional<metainfo::TorrentInfo> info;
    std::string invalid;
    if (out.success) {
      auto parsed = metainfo::parse_verified(out.success->info, *key);
      if (parsed) {
        info = std::move(parsed.value());
      } else {
        invalid = std::string(parsed.error().reason());
      }
    }
    if (!info) {
      if (o->json) {
        std::cout << nlohmann::json{{"infohash", key->hex()}, {"ok", false}, {"attempts", attempts_json(out.attempts)}}
                         .dump(2)
                  << '\n';
      }
      std::string msg = "no peer delivered valid metadata for " + key->hex();
      if (!invalid.empty()) msg = "metadata for " + key->hex() + " matches its hash but is not a valid info dict: " + invalid;
      for (const auto& a : out.attempts) msg += "\n  " + a.peer.to_string() + ": " + describe(a);
      throw CommandFailed(msg, 1);
    }
    const Endpoint from = out.attempts.back().peer;
    if (!o->output.empty()) {
      std::ofstream f(o->output, std::ios::binary | std::ios::trunc);
      f << metainfo::make_torrent_file(out.success->info);
      if (!f.flush()) throw CommandFailed("cannot write " + o->output, 2);
    }
    if (o->json) {
      const std::set<Endpoint> distinct(peers.begin(), peers.end());
      auto j = torrent_json(*info, asked_at, fetched_at, static_cast<std::uint32_t>(distinct.size()));
      j["ok"] = true;
      j["peer"] = from.to_string();
      j["client"] = out.success->client;
      j["attempts"] = attempts_json(out.attempts);
      std::cout << j.dump(2) << '\n';
    } else {
      print_torrent(*info, *out.success, from);
      if (!o->output.empty()) fmt::print("wrote {}\n", o->output);
    }
  });
}

void register_fetch_batch(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "fetch-batch",
      "Fetch metadata for every infohash in a CSV of `infohash,peer_ip,peer_port` rows (a header row is "
      "optional) and write `infohash,name,file_count,total_bytes,piece_length,peer_ip,peer_port,metadata_ok`, "
      "one row per infohash in input order.");
  struct Opts {
    std::string input;
    std::string output;
    FetchOptions fetch;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("PEERS_CSV", o->input, "Input CSV; - reads standard input")->required();
  cmd->add_option("-o,--output", o->output, "Write the result CSV here instead of standard output");
  cmd->add_option("--connections", o->fetch.connections, "Concurrent peer connections")->capture_default_str();
  add_fetch_options(cmd, o->fetch);
  cmd->callback([o] {
    std::ifstream file;
    if (o->input != "-") {
      file.open(o->input);
      if (!file) throw CommandFailed("cannot open " + o->input, 2);
    }
    std::istream& in = o->input == "-" ? std::cin : file;
    std::vector<std::pair<InfoHash, std::vector<Endpoint>>> jobs;
    std::map<InfoHash, std::size_t> index;
    std::string line;
    for (std::size_t lineno = 1; std::getline(in, line); ++lineno) {
      if (line.empty() || line == "\r") continue;
      const auto fields = split_csv_line(line);
      if (!fields || fields->size() < 3) {
        throw CommandFailed(fmt::format("{}:{}: expected infohash,peer_ip,peer_port", o->input, lineno), 2);
      }
      if (lineno == 1 && (*fields)[0] == "infohash") continue;  // header
      const auto key = parse_key((*fields)[0]);
      const auto ip = IpAddress::parse((*fields)[1]);
      unsigned port = 0;
      try {
        port = static_cast<unsigned>(std::stoul((*fields)[2]));
      } catch (const std::exception&) {
        port = 0;
      }
      if (!key || !ip || port == 0 || port > 65535) {
        throw CommandFailed(fmt::format("{}:{}: bad row '{}'", o->input, lineno, line), 2);
      }
      auto [it, fresh] = index.emplace(*key, jobs.size());
      if (fresh) jobs.push_back({*key, {}});
      jobs[it->second].second.push_back(Endpoint{*ip, static_cast<std::uint16_t>(port)});
    }
    for (auto& [ih, peers] : jobs) o->fetch.attempts = std::max(o->fetch.attempts, std::min<std::size_t>(peers.size(), 20));
    auto outcomes = run_fetches(o->fetch, jobs);
    std::map<InfoHash, crawler::FetchOutcome*> by_key;
    for (auto& out : outcomes) by_key[out.infohash] = &out;

    std::string csv = "infohash,name,file_count,total_bytes,piece_length,peer_ip,peer_port,metadata_ok\n";
    for (const auto& [ih, peers] : jobs) {
      const auto* out = by_key.at(ih);
      const Endpoint peer = out->attempts.empty() ? peers.front() : out->attempts.back().peer;
      std::optional<metainfo::TorrentInfo> info;
      if (out->success) {
        if (auto parsed = metainfo::parse_verified(out->success->info, ih)) info = std::move(parsed.value());
      }
      append_csv_row(csv, {ih.hex(), info ? info->name : "", info ? std::to_string(info->file_count) : "",
                           info ? std::to_string(info->total_size) : "",
                           info ? std::to_string(info->piece_length) : "", peer.ip.to_string(),
                           std::to_string(peer.port), info ? "True" : "False"});
    }
    if (o->output.empty()) {
      std::cout << csv;
    } else {
      std::ofstream f(o->output, std::ios::binary | std::ios::trunc);
      f << csv;
      if (!f.flush()) throw CommandFailed("cannot write " + o->output, 2);
    }
  });
}

}  // namespace

void register_fetch(CLI::App& app) {
  register_fetch_one(app);
  register_fetch_batch(app);
}

}  // namespace bitscrape::cli
