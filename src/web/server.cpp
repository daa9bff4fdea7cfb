#include "web/server.hpp"

#include "common/hash.hpp"
#include "metainfo/torrent_file.hpp"
#include "web/assets.hpp"
#include "web/export.hpp"
#include "web/metrics.hpp"
#include "web/params.hpp"
#include "web/views.hpp"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

namespace bitscrape::web {
namespace {

using httplib::DataSink;
using httplib::Request;
using httplib::Response;

constexpr std::size_t kMinTokenBytes = 16;
constexpr std::size_t kMaxTokenBytes = 256;
constexpr std::size_t kRecentMax = kMaxRecentDiscoveries;
constexpr std::size_t kNodesListed = 50;
constexpr std::size_t kPeersListed = 50;
constexpr std::size_t kClientsListed = 100;
constexpr std::size_t kInstancesListed = 100;

constexpr const char* kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

std::string_view reason_of(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 401:
      return "missing or wrong access token";
    case 403:
      return "forbidden";
    case 404:
      return "not found";
    case 405:
      return "method not allowed";
    case 409:
      return "conflict";
    case 413:
      return "request body too large";
    case 414:
      return "request URI too long";
    case 415:
      return "unsupported media type";
    case 416:
      return "range not satisfiable";
    case 431:
      return "request headers too large";
    case 500:
      return "internal error";
    case 503:
      return "service unavailable";
    default:
      return status >= 500 ? "server error" : "client error";
  }
}

void send_json(Response& res, int status, const Json& j) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(dump(j), "application/json");
}

void send_error(Response& res, int status, std::string_view message) {
  send_json(res, status, error_json(message));
}
void send_error(Response& res, const ApiError& e) {
  send_error(res, e.status, e.message);
}

// A query the store refused (a limit or range out of bounds) is the client's; the rest are ours.
void send_store_error(Response& res, const storage::Error& e) {
  if (e.code == storage::ErrorCode::InvalidArgument) return send_error(res, 400, e.message);
  const int status = e.code == storage::ErrorCode::Locked || e.code == storage::ErrorCode::Io ? 503 : 500;
  send_error(res, status, "database: " + e.message);
}

bool printable_token(std::string_view t) {
  return std::all_of(t.begin(), t.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

// "127.0.0.1:8080", "localhost", "[::1]:8080" -> is it a loopback name?
bool loopback_host(std::string_view host) {
  std::string_view name = host;
  if (!name.empty() && name.front() == '[') {
    const auto close = name.find(']');
    if (close == std::string_view::npos) return false;
    name = name.substr(1, close - 1);
  } else if (const auto colon = name.rfind(':'); colon != std::string_view::npos) {
    name = name.substr(0, colon);
  }
  if (name == "localhost") return true;
  const auto ip = IpAddress::parse(name);
  return ip && ip->is_loopback();
}

// Wall-clock now in whole seconds.
storage::UnixTime now_seconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

// Decrements a counter when the response that took a slot is destroyed.
struct SlotGuard {
  std::atomic<std::size_t>* counter;
  void release() const { counter->fetch_sub(1); }
};

}  // namespace

Result<void, std::string> validate(const ServerOptions& o) {
  if (!o.token.empty()) {
    if (o.token.size() < kMinTokenBytes || o.token.size() > kMaxTokenBytes || !printable_token(o.token)) {
      return Unexpected{
          std::string("the web access token must be 16 to 256 printable ASCII characters without spaces")};
    }
  }
  if (!o.bind.ip.is_loopback() && o.token.empty()) {
    return Unexpected{"refusing to serve the web UI on " + o.bind.to_string() +
                      " without an access token: anyone who can reach that address could read the database "
                      "and control the crawler. Pass --web-token (16+ characters) or bind a loopback address "
                      "such as 127.0.0.1:" +
                      std::to_string(o.bind.port)};
  }
  if (o.threads < 2 || o.threads > 256)
    return Unexpected{std::string("web threads must be between 2 and 256")};
  if (o.max_event_streams == 0 || o.max_event_streams >= o.threads) {
    return Unexpected{std::string("max_event_streams must be at least 1 and below the thread count")};
  }
  if (o.search_window == 0 || o.search_window > storage::kMaxSearchWindow) {
    return Unexpected{"search_window must be between 1 and " + std::to_string(storage::kMaxSearchWindow)};
  }
  if (o.max_exports == 0 || o.event_interval.count() <= 0 || o.max_body_bytes == 0) {
    return Unexpected{std::string("web limits must be positive")};
  }
  return {};
}

struct Server::Impl {
  Impl(storage::Store& s, LiveSource* l, ServerOptions o) : store(s), live(l), opt(std::move(o)) {
    token_digest = sha256(opt.token);
  }

  storage::Store& store;
  LiveSource* live;
  const ServerOptions opt;
  Sha256Digest token_digest;
  httplib::Server svr;
  std::thread thread;
  std::uint16_t port = 0;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  std::mutex mu;
  std::condition_variable wake;  // stop() wakes event streams
  bool stopping = false;
  std::atomic<bool> stopped_flag{false};
  std::atomic<std::size_t> streams{0};
  std::atomic<std::size_t> exports{0};

  // --- helpers ---

  bool is_stopping() {
    std::lock_guard lock(mu);
    return stopping;
  }

  // Constant-time: both sides are hashed to 32 bytes first, so neither the length nor the
  // position of the first difference shows in the time taken.
  bool token_ok(std::string_view presented) const {
    const auto d = sha256(presented);
    unsigned diff = 0;
    for (std::size_t i = 0; i < d.size(); ++i) diff |= static_cast<unsigned>(d[i] ^ token_digest[i]);
    return diff == 0;
  }

  // Pre-routing: Host check, token check. Handled = the request is answered (refused).
  httplib::Server::HandlerResponse guard(const Request& req, Response& res) {
    const bool protected_path = req.path.rfind("/api/", 0) == 0 || req.path == "/metrics";
    if (opt.token.empty()) {
      if (req.has_header("Host") && !loopback_host(req.get_header_value("Host"))) {
        send_error(res, 403, "this server only answers requests addressed to a loopback host name");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    }
    if (!protected_path) return httplib::Server::HandlerResponse::Unhandled;
    std::string presented;
    const auto auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0) {
      presented = auth.substr(7);
    } else if (req.has_param("token")) {
      presented = req.get_param_value("token");
    }
    if (presented.empty() || !token_ok(presented)) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"bitscrape\"");
      send_error(res, 401, presented.empty() ? "an access token is required" : "wrong access token");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  }

  Json status_json() {
    Json j;
    j["version"] = opt.version;
    j["time"] = iso8601(now_seconds());
    auto stats = store.stats();
    if (stats) {
      j["store"] = stats_json(*stats);
    } else {
      j["store"] = nullptr;
      j["store_error"] = stats.error().message;
    }
    j["live"] = live ? live_json(live->snapshot()) : Json(nullptr);
    j["server"] = {
        {"uptime_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()},
        {"event_streams", streams.load()},
        {"token_required", !opt.token.empty()}};
    return j;
  }

  // The last discoveries: from the crawl, or the newest torrents of the store.
  ApiResult<std::vector<Discovery>> recent(std::size_t max) {
    if (live) {
      auto v = live->recent_discoveries(max);
      if (v.size() > max) v.resize(max);
      return v;
    }
    storage::SearchQuery q;
    q.sort = storage::SortKey::Discovered;
    q.descending = true;
    q.limit = max;
    q.count_limit = 1;
    auto page = store.search(q);
    if (!page) return api_error(500, "database: " + page.error().message);
    std::vector<Discovery> out;
    for (const auto& t : page->items) {
      Discovery d;
      d.at = t.discovered_at;
      d.kind = DiscoveryKind::Metadata;
      if (t.infohash_v1) {
        d.infohash = *t.infohash_v1;
      } else if (t.infohash_v2) {
        std::copy_n(t.infohash_v2->begin(), InfoHash::kSize, d.infohash.bytes.begin());
      }
      d.name = t.name;
      d.total_size = t.total_size;
      d.file_count = t.file_count;
      out.push_back(std::move(d));
    }
    return out;
  }

  // --- handlers ---

  void status(const Request& req, Response& res) {
    if (auto ok = check_params(req.params, {}); !ok) return send_error(res, ok.error());
    send_json(res, 200, status_json());
  }

  void series(const Request& req, Response& res) {
    auto q = parse_series(req.params, now_seconds());
    if (!q) return send_error(res, q.error());
    auto points = store.counter_series(*q);
    if (!points) return send_store_error(res, points.error());
    Json arr = Json::array();
    for (const auto& p : *points) arr.push_back(Json::array({storage::to_unix(p.at), p.value}));
    send_json(res, 200,
              {{"name", q->name},
               {"from", storage::to_unix(q->from)},
               {"to", storage::to_unix(q->to)},
               {"points", std::move(arr)}});
  }

  void series_names(const Request& req, Response& res) {
    if (auto ok = check_params(req.params, {}); !ok) return send_error(res, ok.error());
    auto names = store.counter_names();
    if (!names) return send_store_error(res, names.error());
    send_json(res, 200, {{"names", *names}});
  }

  void search(const Request& req, Response& res) {
    auto q = parse_search(req.params);
    if (!q) return send_error(res, q.error());
    q->window = q->count_limit = opt.search_window;
    auto page = store.search(*q);
    if (!page) return send_store_error(res, page.error());
    Json items = Json::array();
    for (const auto& t : page->items) items.push_back(summary_json(t));
    send_json(res, 200,
              {{"items", std::move(items)},
               {"total", page->total},
               {"total_exact", page->total_exact},
               {"window_limited", page->window_limited},
               {"window", q->window},
               {"limit", q->limit},
               {"offset", q->offset}});
  }

  void detail(const Request& req, Response& res) {
    if (auto ok = check_params(req.params, {}); !ok) return send_error(res, ok.error());
    auto key = parse_key(req.matches[1].str());
    if (!key) return send_error(res, key.error());
    auto t = store.torrent(*key);
    if (!t) return send_store_error(res, t.error());
    if (!*t) return send_error(res, 404, "no torrent with this infohash");
    const auto& torrent = **t;
    DetailExtras extras;
    const auto keys = keys_of(torrent);
    for (const auto& k : keys) {
      auto r = store.infohash(k);
      if (!r) return send_store_error(res, r.error());
      if (*r) extras.keys.push_back(**r);
      auto peers = store.peers(k, kPeersListed);
      if (!peers) return send_store_error(res, peers.error());
      for (auto& p : *peers) extras.peers.push_back(std::move(p));
    }
    std::stable_sort(extras.peers.begin(), extras.peers.end(),
                     [](const auto& a, const auto& b) { return a.last_seen > b.last_seen; });
    if (extras.peers.size() > kPeersListed) extras.peers.resize(kPeersListed);
    auto summary = key_summary(store, keys);
    if (!summary) return send_store_error(res, summary.error());
    extras.peer_count = summary->count;
    auto info = store.raw_info_dict(*key);
    if (!info) return send_store_error(res, info.error());
    extras.has_info_dict = info->has_value();
    send_json(res, 200, detail_json(torrent, extras, opt.max_tree_files));
  }

  void torrent_file(const Request& req, Response& res) {
    if (auto ok = check_params(req.params, {}); !ok) return send_error(res, ok.error());
    auto key = parse_key(req.matches[1].str());
    if (!key) return send_error(res, key.error());
    auto t = store.torrent(*key);
    if (!t) return send_store_error(res, t.error());
    if (!*t) return send_error(res, 404, "no torrent with this infohash");
    auto info = store.raw_info_dict(*key);
    if (!info) return send_store_error(res, info.error());
    if (!*info)
      return send_error(res, 404, "the info dict of this torrent was not kept (database.store_info_dicts)");
    res.status = 200;
    res.set_header("Content-Disposition", content_disposition(safe_file_stem((*t)->name, *key) + ".torrent"));
    res.set_header("Cache-Control", "no-store");
    res.set_content(metainfo::make_torrent_file(**info), "application/x-bittorrent");
  }

  void export_(const Request& req, Response& res) {
    if (auto ok = check_params(req.params, {"format", "all"}); !ok) return send_error(res, ok.error());
    const auto* f = param(req.params, "format");
    const auto format = parse_export_format(f ? *f : "csv");
    if (!format) return send_error(res, 400, "format must be csv or jsonl");
    ExportSelection sel{*format, false};
    if (const auto* a = param(req.params, "all")) {
      auto b = parse_bool("all", *a);
      if (!b) return send_error(res, b.error());
      sel.all = *b;
    }
    if (exports.fetch_add(1) >= opt.max_exports) {
      exports.fetch_sub(1);
      return send_error(res, 503, "too many exports running; try again when one has finished");
    }
    const bool csv = sel.format == ExportFormat::Csv;
    res.status = 200;
    res.set_header("Cache-Control", "no-store");
    res.set_header("Content-Disposition",
                   content_disposition(std::string("bitscrape-export") + (sel.all ? "-all" : "") +
                                       (csv ? ".csv" : ".jsonl")));
    SlotGuard slot{&exports};
    res.set_chunked_content_provider(
        csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
        [this, sel](std::size_t, DataSink& sink) {
          auto r = export_records(store, sel, [&](std::string_view chunk) {
            if (is_stopping()) return false;
            return sink.write(chunk.data(), chunk.size());
          });
          if (!r) {
            std::fprintf(stderr, "bitscrape web: export failed: %s\n", r.error().c_str());
            return false;  // the client sees a truncated chunked stream, never a silent short file
          }
          if (r->stopped) return false;
          sink.done();
          return true;
        },
        [slot](bool) { slot.release(); });
  }

  void nodes(const Request& req, Response& res) {
    if (auto ok = check_params(req.params, {}); !ok) return send_error(res, ok.error());
    auto stats = store.stats();
    if (!stats) return send_store_error(res, stats.error());
    auto good = store.good_nodes(kNodesListed);
    if (!good) return send_store_error(res, good.error());
    Json recent = Json::array();
    for (const auto& n : *good) {
      recent.push_back(
          {{"endpoint", n.endpoint.to_string()}, {"id", n.id.hex()}, {"last_seen", iso8601(n.last_seen)}});
    }
    Json j;
    j["stored"] = stats->nodes;
    j["recent_good"] = std::move(recent);
    if (live) {
      j["live"] = {{"routing_table", routing_json(live->routing_table())},
                   {"keyspace", keyspace_json(live->keyspace_coverage())},
                   {"client_versions", clients_json(live->client_versions(), kClientsListed)}};
    } else {
      j["live"] = nullptr;
    }
    send_json(res, 200, j);
  }

  void recent_(const Request& req, Response& res) {
    if (auto ok = check_params(req.params, {"limit"}); !ok) return send_error(res, ok.error());
    std::size_t limit = kRecentMax;
    if (const auto* v = param(req.params, "limit")) {
      auto r = parse_int("limit", *v, 1, static_cast<std::int64_t>(kRecentMax));
      if (!r) return send_error(res, r.error());
      limit = static_cast<std::size_t>(*r);
    }
    auto items = recent(limit);
    if (!items) return send_error(res, items.error());
    Json arr = Json::array();
    for (const auto& d : *items) arr.push_back(discovery_json(d));
    send_json(res, 200, {{"items", std::move(arr)}, {"live", live != nullptr}});
  }

  // POST body: a JSON object; nullopt after answering 4xx.
  std::optional<Json> json_body(const Request& req, Response& res) {
    const auto type = req.get_header_value("Content-Type");
    if (type.rfind("application/json", 0) != 0) {
      send_error(res, 415, "send the body as Content-Type: application/json");
      return std::nullopt;
    }
    Json j = Json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      send_error(res, 400, "the body must be a JSON object");
      return std::nullopt;
    }
    return j;
  }

  void control(const Request& req, Response& res, std::string_view which) {
    auto body = json_body(req, res);  // first: a form body would otherwise show up as params
    if (!body) return;
    if (auto ok = check_params(req.params, {}); !ok) return send_error(res, ok.error());
    if (!live)
      return send_error(res, 409,
                        "no crawl is running in this process (bitscrape serve only browses a database)");
    ControlResult r;
    if (which == "packet-budget") {
      const auto it = body->find("packets_per_s");
      if (it == body->end() || !it->is_number())
        return send_error(res, 400, "packets_per_s (a number) is required");
      const double v = it->get<double>();
      if (!(v >= kMinPacketBudget && v <= kMaxPacketBudget)) {
        return send_error(res, 400, "packets_per_s must be between 1 and 1000000");
      }
      r = live->set_packet_budget(v);
    } else {
      const auto it = body->find("paused");
      if (it == body->end() || !it->is_boolean())
        return send_error(res, 400, "paused (true or false) is required");
      const bool paused = it->get<bool>();
      r = which == "sampling" ? live->set_sampling_paused(paused) : live->set_fetching_paused(paused);
    }
    if (!r) return send_error(res, 409, r.error());
    send_json(res, 200, {{"ok", true}, {"live", live_json(live->snapshot())}});
  }

  void metrics(const Request& req, Response& res) {
    if (auto ok = check_params(req.params, {}); !ok) return send_error(res, ok.error());
    auto stats = store.stats();
    std::optional<storage::StoreStats> s;
    if (stats) s = *stats;
    std::optional<telemetry::Snapshot> snap;
    if (live) snap = live->snapshot();
    storage::InstanceQuery iq;
    iq.limit = kInstancesListed;
    auto instances = store.instances(iq);  // an error leaves them out, as stats do
    res.status = 200;
    res.set_header("Cache-Control", "no-store");
    res.set_content(prometheus_text(s, snap ? &*snap : nullptr,
                                    instances ? *instances : std::vector<storage::InstanceRecord>{},
                                    now_seconds() - storage::kInstanceAliveWindow),
                    "text/plain; version=0.0.4; charset=utf-8");
  }

  // The crawlers that share this database, newest last; `self`: this process's crawl.
  void instances(const Request& req, Response& res) {
    if (auto ok = check_params(req.params, {}); !ok) return send_error(res, ok.error());
    storage::InstanceQuery iq;
    iq.limit = kInstancesListed;
    auto r = store.instances(iq);
    if (!r) return send_store_error(res, r.error());
    const auto alive_since = now_seconds() - storage::kInstanceAliveWindow;
    std::size_t live_count = 0;
    for (const auto& x : *r) live_count += !x.last.stopped && x.last.at >= alive_since ? 1 : 0;
    Json self = nullptr;
    if (live) {
      if (const auto id = live->snapshot().instance_id; id != 0) self = id;
    }
    send_json(res, 200, {{"instances", instances_json(*r, alive_since)}, {"live", live_count}, {"self", self}});
  }

  // Server-Sent Events: `status` every event_interval (the /api/status document), `recent`
  // once with the last discoveries, then `discovery` for each new one.
  void events(const Request& req, Response& res) {
    if (auto ok = check_params(req.params, {}); !ok) return send_error(res, ok.error());
    if (streams.fetch_add(1) >= opt.max_event_streams) {
      streams.fetch_sub(1);
      return send_error(res, 503, "too many event streams open");
    }
    struct State {
      bool started = false;
      std::set<std::pair<std::string, int>> seen;  // (infohash, kind) of discoveries sent
    };
    auto state = std::make_shared<State>();
    res.status = 200;
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    SlotGuard slot{&streams};
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, state](std::size_t, DataSink& sink) {
          std::string out;
          if (!state->started) {
            state->started = true;
            out += "retry: 3000\n\n";
          } else {
            std::unique_lock lock(mu);
            wake.wait_for(lock, opt.event_interval, [this] { return stopping; });
            if (stopping) {
              lock.unlock();
              sink.done();
              return true;
            }
          }
          out += "event: status\ndata: " + dump(status_json()) + "\n\n";
          if (auto items = recent(kRecentMax)) {
            const bool first = state->seen.empty();
            Json fresh = Json::array();
            std::set<std::pair<std::string, int>> now;
            for (const auto& d : *items) {
              auto id = std::make_pair(d.infohash.hex(), static_cast<int>(d.kind));
              if (!state->seen.count(id)) fresh.push_back(discovery_json(d));
              now.insert(std::move(id));
            }
            if (first) {
              out += "event: recent\ndata: " + dump(Json{{"items", fresh}}) + "\n\n";
            } else {
              // Oldest first, so a client prepending each one ends with the newest on top.
              for (auto it = fresh.rbegin(); it != fresh.rend(); ++it)
                out += "event: discovery\ndata: " + dump(*it) + "\n\n";
            }
            // Remember what is in the window now (bounded by kRecentMax).
            state->seen = std::move(now);
            if (state->seen.empty()) state->seen.insert({"", -1});  // "first" is over
          }
          return sink.write(out.data(), out.size());
        },
        [slot](bool) { slot.release(); });
  }

  void asset(const Request& req, Response& res) {
    if (req.path.rfind("/api/", 0) == 0)
      return send_error(res, 404, "no such API endpoint (see docs/api.md)");
    const Asset* a = find_asset(req.path);
    if (!a) return send_error(res, 404, "not found");
    res.status = 200;
    res.set_header("Cache-Control", "no-cache");
    const std::string_view data = a->data;
    res.set_content_provider(data.size(), std::string(a->content_type),
                             [data](std::size_t offset, std::size_t length, DataSink& sink) {
                               const auto n = std::min(length, data.size() - offset);
                               return sink.write(data.data() + offset, n);
                             });
  }

  void routes() {
    svr.set_pre_routing_handler([this](const Request& req, Response& res) { return guard(req, res); });
    svr.Get("/api/status", [this](const Request& q, Response& r) { status(q, r); });
    svr.Get("/api/series", [this](const Request& q, Response& r) { series(q, r); });
    svr.Get("/api/series/names", [this](const Request& q, Response& r) { series_names(q, r); });
    svr.Get("/api/torrents", [this](const Request& q, Response& r) { search(q, r); });
    svr.Get(R"(/api/torrents/([^/]+))", [this](const Request& q, Response& r) { detail(q, r); });
    svr.Get(R"(/api/torrents/([^/]+)/torrent)",
            [this](const Request& q, Response& r) { torrent_file(q, r); });
    svr.Get("/api/export", [this](const Request& q, Response& r) { export_(q, r); });
    svr.Get("/api/nodes", [this](const Request& q, Response& r) { nodes(q, r); });
    svr.Get("/api/instances", [this](const Request& q, Response& r) { instances(q, r); });
    svr.Get("/api/recent", [this](const Request& q, Response& r) { recent_(q, r); });
    svr.Get("/api/events", [this](const Request& q, Response& r) { events(q, r); });
    svr.Post("/api/control/sampling", [this](const Request& q, Response& r) { control(q, r, "sampling"); });
    svr.Post("/api/control/fetching", [this](const Request& q, Response& r) { control(q, r, "fetching"); });
    svr.Post("/api/control/packet-budget",
             [this](const Request& q, Response& r) { control(q, r, "packet-budget"); });
    svr.Get("/metrics", [this](const Request& q, Response& r) { metrics(q, r); });
    svr.Get(".*", [this](const Request& q, Response& r) { asset(q, r); });

    // Fills in a JSON body for errors raised by httplib itself (404 no route, 413, 400 ...).
    svr.set_error_handler(httplib::Server::HandlerWithResponse([](const Request&, Response& res) {
      if (!res.body.empty() || res.content_provider_) return httplib::Server::HandlerResponse::Unhandled;
      send_error(res, res.status, reason_of(res.status));
      return httplib::Server::HandlerResponse::Handled;
    }));
    svr.set_exception_handler([](const Request& req, Response& res, std::exception_ptr ep) {
      std::string what = "unknown";
      try {
        if (ep) std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      std::fprintf(stderr, "bitscrape web: %s %s failed: %s\n", req.method.c_str(), req.path.c_str(),
                   what.c_str());
      send_error(res, 500, "internal error");
    });
  }

  void configure() {
    svr.set_default_headers({{"Content-Security-Policy", kCsp},
                             {"X-Content-Type-Options", "nosniff"},
                             {"X-Frame-Options", "DENY"},
                             {"Referrer-Policy", "no-referrer"},
                             {"Cross-Origin-Opener-Policy", "same-origin"},
                             {"Cross-Origin-Resource-Policy", "same-origin"}});
    const auto threads = opt.threads;
    svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    svr.set_read_timeout(opt.read_timeout);
    svr.set_write_timeout(opt.write_timeout);
    svr.set_keep_alive_timeout(static_cast<time_t>(opt.keep_alive_timeout.count()));
    svr.set_keep_alive_max_count(opt.keep_alive_max_requests);
    svr.set_payload_max_length(opt.max_body_bytes);
    routes();
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  stop();
}

Result<std::unique_ptr<Server>, std::string> Server::start(storage::Store& store, LiveSource* live,
                                                           const ServerOptions& options) {
  if (auto ok = validate(options); !ok) return Unexpected{ok.error()};
  auto impl = std::make_unique<Impl>(store, live, options);
  impl->configure();
  const std::string host = options.bind.ip.to_string();
  int port = options.bind.port;
  if (port == 0) {
    port = impl->svr.bind_to_any_port(host);
    if (port <= 0) return Unexpected{"cannot listen on " + host + ": no free port or address not available"};
  } else if (!impl->svr.bind_to_port(host, port)) {
    return Unexpected{"cannot listen on " + options.bind.to_string() +
                      ": address in use or not available (pick another with --web IP:PORT)"};
  }
  impl->port = static_cast<std::uint16_t>(port);
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->svr.listen_after_bind(); });
  // httplib's stop() only acts on a running server: wait until the accept loop runs, so a
  // stop() right after start() cannot be lost (the socket already queues connections).
  for (int i = 0; i < 5000 && !impl->svr.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::uint16_t Server::port() const noexcept {
  return impl_->port;
}

std::string Server::url() const {
  const auto& ip = impl_->opt.bind.ip;
  const std::string host = ip.is_v6() ? "[" + ip.to_string() + "]" : ip.to_string();
  return "http://" + host + ":" + std::to_string(impl_->port) + "/";
}

void Server::stop() {
  if (!impl_ || impl_->stopped_flag.exchange(true)) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->svr.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace bitscrape::web
