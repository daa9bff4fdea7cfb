#include "app/config.hpp"

#include "storage/pg_store.hpp"
#include "web/server.hpp"

#include <fmt/core.h>
#include <toml++/toml.h>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <type_traits>

namespace bitscrape::app {

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::optional<HostPort> HostPort::parse(std::string_view text) {
  if (auto ep = Endpoint::parse(text)) return HostPort{ep->ip.to_string(), ep->port};
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || text.find(':') != colon) return std::nullopt;
  const auto host = text.substr(0, colon);
  const auto port = text.substr(colon + 1);
  unsigned p = 0;
  const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc{} || ptr != port.data() + port.size() || p == 0 || p > 65535) return std::nullopt;
  for (const char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return std::nullopt;
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(p)};
}

namespace {

std::filesystem::path xdg(const char* var, const char* fallback) {
  if (const char* v = std::getenv(var); v != nullptr && *v == '/') return v;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : ".") / fallback;
}

using Value = SettingValue;
using Kind = SettingKind;

// Typed views of a SettingValue (the table guarantees the kind before set() runs).
double num(const Value& v) {
  return std::get<double>(v);
}
const std::string& text(const Value& v) {
  return std::get<std::string>(v);
}
const std::vector<std::string>& list(const Value& v) {
  return std::get<std::vector<std::string>>(v);
}
Result<void, std::string> ok() {
  return {};
}

template <auto Member>
Setting number(std::string_view key, double min, double max, std::string_view flag, std::string_view help) {
  return Setting{key,
                 Kind::number,
                 min,
                 max,
                 flag,
                 help,
                 {},
                 [](CrawlConfig& c, const Value& v) {
                   using T = std::remove_reference_t<decltype(c.*Member)>;
                   if constexpr (std::is_same_v<T, std::chrono::seconds>) {
                     c.*Member = std::chrono::seconds(static_cast<std::int64_t>(num(v)));
                   } else {
                     c.*Member = static_cast<T>(num(v));
                   }
                   return ok();
                 },
                 [](const CrawlConfig& c) -> Value {
                   using T = std::remove_cvref_t<decltype(c.*Member)>;
                   if constexpr (std::is_same_v<T, std::chrono::seconds>) {
                     return static_cast<double>((c.*Member).count());
                   } else {
                     return static_cast<double>(c.*Member);
                   }
                 }};
}

template <auto Member>
Setting boolean(std::string_view key, std::string_view flag, std::string_view help) {
  return Setting{key,
                 Kind::boolean,
                 0,
                 0,
                 flag,
                 help,
                 {},
                 [](CrawlConfig& c, const Value& v) {
                   c.*Member = std::get<bool>(v);
                   return ok();
                 },
                 [](const CrawlConfig& c) -> Value { return c.*Member; }};
}

std::vector<std::string> endpoints_to_strings(const std::vector<Endpoint>& eps) {
  std::vector<std::string> out;
  for (const auto& e : eps) out.push_back(e.to_string());
  return out;
}

// The table. Order is documentation order; sections appear in the order of their first key.
const std::vector<Setting>& table() {
  static const std::vector<Setting> rows = {
      Setting{"database.path", Kind::text, 0, 0, "--db",
              "SQLite database file (created with its directory); `--db` also takes a PostgreSQL URI (a value "
              "starting `postgresql://` or `postgres://`, as `database.url`)",
              "$XDG_DATA_HOME/bitscrape/bitscrape.db",
              [](CrawlConfig& c, const Value& v) -> Result<void, std::string> {
                if (text(v).empty()) return Unexpected{std::string("must not be empty")};
                c.database = text(v);
                return ok();
              },
              [](const CrawlConfig& c) -> Value { return c.database.string(); }},
      Setting{"database.url", Kind::text, 0, 0, "",
              "a PostgreSQL database instead, as a libpq URI: `postgresql://user@host:port/dbname` (also "
              "`postgres://`; `?sslmode=...` and the other libpq parameters work, a password is better kept in "
              "`~/.pgpass`); set `path` or `url`, not both",
              "(none)",
              [](CrawlConfig& c, const Value& v) -> Result<void, std::string> {
                if (text(v).empty()) return ok();  // "": no PostgreSQL database (path applies)
                if (!storage::is_postgres_uri(text(v))) {
                  return Unexpected{std::string("must be a PostgreSQL URI: postgresql://user@host:port/dbname")};
                }
                c.database = text(v);
                return ok();
              },
              [](const CrawlConfig& c) -> Value {
                return storage::is_postgres_uri(c.database.string()) ? c.database.string() : std::string();
              }},
      boolean<&CrawlConfig::store_info_dicts>(
          "database.store_info_dicts", "",
          "keep each raw info dict (zstd-compressed); needed to download `.torrent` files"),
      Setting{"dht.listen",
              Kind::list,
              0,
              0,
              "--listen",
              "UDP addresses: at most one IPv4 and one IPv6",
              {},
              [](CrawlConfig& c, const Value& v) -> Result<void, std::string> {
                std::vector<Endpoint> eps;
                for (const auto& e : list(v)) {
                  auto ep = Endpoint::parse(e);
                  if (!ep) return Unexpected{"'" + e + "' is not IP:PORT or [IPv6]:PORT"};
                  eps.push_back(*ep);
                }
                c.listen = std::move(eps);
                return ok();
              },
              [](const CrawlConfig& c) -> Value { return endpoints_to_strings(c.listen); }},
      Setting{"dht.bootstrap",
              Kind::list,
              0,
              0,
              "--bootstrap",
              "routers to join the DHT from, as `HOST:PORT`; nodes persisted by earlier runs are used too",
              {},
              [](CrawlConfig& c, const Value& v) -> Result<void, std::string> {
                std::vector<HostPort> out;
                for (const auto& e : list(v)) {
                  auto hp = HostPort::parse(e);
                  if (!hp) return Unexpected{"'" + e + "' is not HOST:PORT"};
                  out.push_back(*hp);
                }
                c.bootstrap = std::move(out);
                return ok();
              },
              [](const CrawlConfig& c) -> Value {
                std::vector<std::string> out;
                for (const auto& b : c.bootstrap) out.push_back(b.to_string());
                return out;
              }},
      boolean<&CrawlConfig::allow_private_addresses>(
          "dht.allow_private_addresses", "--allow-private-addresses",
          "accept and contact private, loopback and other martian addresses learned from other nodes "
          "(testnets "
          "only: otherwise the crawler would scan strangers' LANs)"),
      number<&CrawlConfig::packet_budget>(
          "dht.packet_budget", 1, 1e7, "--packet-budget",
          "outgoing UDP packets per second, all kinds together; our queries wait for it and send at "
          "most 4 a second to one address, answers to other nodes' queries are never held back"),
      Setting{"dht.keyspace",
              Kind::list,
              0,
              0,
              "--keyspace",
              "hex prefixes of the keyspace the BEP-51 sampler walks and samples (empty: all, or with several "
              "crawlers on one database this crawler's automatic share of it, see [deploy.md](deploy.md)), e.g. "
              "`[\"3\"]` samples only nodes whose ids start 0x3; set, it overrides the automatic share",
              {},
              [](CrawlConfig& c, const Value& v) -> Result<void, std::string> {
                for (const auto& p : list(v)) {
                  if (p.empty() || p.size() > 16 ||
                      p.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
                    return Unexpected{"'" + p + "' is not a hex prefix of 1 to 16 digits"};
                  }
                }
                c.keyspace = list(v);
                return ok();
              },
              [](const CrawlConfig& c) -> Value { return c.keyspace; }},
      number<&CrawlConfig::sample_walks>("dht.sample_walks", 0, 1024, "",
                                         "concurrent BEP-51 keyspace walks (0 disables sampling)"),
      number<&CrawlConfig::max_lookups>("dht.max_lookups", 1, 65536, "",
                                        "upper bound on concurrent get_peers lookups for new infohashes; how many "
                                        "run follows the packet budget and the fetcher's free connections"),
      number<&CrawlConfig::max_connections>("fetch.max_connections", 0, 1e6, "--max-connections",
                                            "concurrent metadata (peer wire) connections"),
      number<&CrawlConfig::max_connections_per_ip>("fetch.max_connections_per_ip", 1, 1e6, "",
                                                   "concurrent connections to one peer address"),
      number<&CrawlConfig::peers_per_infohash>("fetch.peers_per_infohash", 1, 1000, "",
                                               "peers remembered per infohash from get_peers"),
      number<&CrawlConfig::attempts_per_infohash>("fetch.attempts_per_infohash", 1, 1000, "",
                                                  "peers tried per infohash before it is marked failed"),
      number<&CrawlConfig::max_metadata_size>(
          "fetch.max_metadata_size", 1024, 1 << 30, "",
          "largest info dict accepted, in bytes; larger ones are refused before any download"),
      number<&CrawlConfig::fetch_timeout>("fetch.timeout", 1, 3600, "",
                                          "seconds one metadata fetch from one peer may take"),
      Setting{"fetch.transports",
              Kind::list,
              0,
              0,
              "--fetch-transports",
              "how peers are reached, in the order tried: `\"utp\"` (uTP on the DHT's UDP port) and/or "
              "`\"tcp\"`; a peer that does not take the first (no answer within 3 s, or a reset) is tried "
              "with the next, and both count against the same connection limits",
              {},
              [](CrawlConfig& c, const Value& v) -> Result<void, std::string> {
                const auto& l = list(v);
                if (l.empty()) return Unexpected{std::string("needs at least one of \"utp\", \"tcp\"")};
                for (std::size_t i = 0; i < l.size(); ++i) {
                  if (l[i] != "utp" && l[i] != "tcp") {
                    return Unexpected{"'" + l[i] + "' is not a transport (\"utp\" or \"tcp\")"};
                  }
                  for (std::size_t j = 0; j < i; ++j) {
                    if (l[j] == l[i]) return Unexpected{"'" + l[i] + "' is listed twice"};
                  }
                }
                c.fetch_transports = l;
                return ok();
              },
              [](const CrawlConfig& c) -> Value { return c.fetch_transports; }},
      number<&CrawlConfig::memory_budget_mb>(
          "crawler.memory_budget_mb", 16, 1 << 20, "",
          "memory for in-memory sets (seen-infohash filter, queues), in MiB; the database stays the truth"),
      number<&CrawlConfig::duration>("crawler.duration", 0, 1e9, "--duration",
                                     "seconds to run, then flush and exit; 0 runs until SIGINT/SIGTERM"),
      number<&CrawlConfig::status_interval>(
          "crawler.status_interval", 1, 3600, "",
          "seconds between status log lines when standard error is not a terminal"),
      Setting{"web.listen",
              Kind::text,
              0,
              0,
              "--web",
              "address of the web UI and API; `\"off\"` disables it",
              {},
              [](CrawlConfig& c, const Value& v) -> Result<void, std::string> {
                if (text(v).empty() || text(v) == "off") {
                  c.web.reset();
                  return ok();
                }
                auto ep = Endpoint::parse(text(v));
                if (!ep) return Unexpected{"'" + text(v) + "' is not IP:PORT, [IPv6]:PORT or \"off\""};
                c.web = *ep;
                return ok();
              },
              [](const CrawlConfig& c) -> Value { return c.web ? c.web->to_string() : std::string("off"); }},
      Setting{"web.token",
              Kind::text,
              0,
              0,
              "--web-token",
              "access token for the API; required when `web.listen` is not a loopback address",
              {},
              [](CrawlConfig& c, const Value& v) -> Result<void, std::string> {
                c.web_token = text(v);
                return ok();
              },
              [](const CrawlConfig& c) -> Value { return c.web_token; }},
  };
  return rows;
}

std::string_view section_of(std::string_view key) {
  return key.substr(0, key.find('.'));
}
std::string_view name_of(std::string_view key) {
  return key.substr(key.find('.') + 1);
}

// A TOML node as a value of `kind`, or why not.
Result<Value, std::string> from_toml(const toml::node& n, Kind kind) {
  switch (kind) {
    case Kind::boolean:
      if (auto b = n.value_exact<bool>()) return Value{*b};
      return Unexpected{std::string("must be true or false")};
    case Kind::number:
      if (auto i = n.value_exact<std::int64_t>()) return Value{static_cast<double>(*i)};
      if (auto d = n.value_exact<double>()) return Value{*d};
      return Unexpected{std::string("must be a number")};
    case Kind::text:
      if (auto v = n.value_exact<std::string>()) return Value{*v};
      return Unexpected{std::string("must be a string")};
    case Kind::list:
      if (const auto* arr = n.as_array()) {
        std::vector<std::string> out;
        for (const auto& e : *arr) {
          auto v = e.value_exact<std::string>();
          if (!v) return Unexpected{std::string("must be a list of strings")};
          out.push_back(*v);
        }
        return Value{std::move(out)};
      }
      return Unexpected{std::string("must be a list of strings")};
  }
  return Unexpected{std::string("unsupported kind")};
}

std::string md_code(std::string_view s) {
  return fmt::format("`{}`", s);
}

}  // namespace

std::span<const Setting> settings() {
  return table();
}

const Setting* find_setting(std::string_view key) {
  for (const auto& s : table()) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

Result<void, std::string> apply_setting(const Setting& s, const SettingValue& v, CrawlConfig& cfg) {
  if (s.kind == Kind::number) {
    const double x = std::get<double>(v);
    if (!(x >= s.min && x <= s.max))
      return Unexpected{fmt::format("must be between {} and {}", s.min, s.max)};
  }
  return s.set(cfg, v);
}

std::string render_setting(const SettingValue& v) {
  struct R {
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(double d) const { return fmt::format("{}", d); }
    std::string operator()(const std::string& s) const { return "\"" + s + "\""; }
    std::string operator()(const std::vector<std::string>& l) const {
      std::string out = "[";
      for (std::size_t i = 0; i < l.size(); ++i) {
        if (i > 0) out += ", ";
        out += fmt::format("\"{}\"", l[i]);
      }
      return out + "]";
    }
  };
  return std::visit(R{}, v);
}

std::string settings_markdown() {
  const auto defaults = default_config();
  std::string out = "| key | default | flag | meaning |\n| --- | --- | --- | --- |\n";
  for (const auto& s : table()) {
    const std::string def =
        s.shown_default.empty() ? render_setting(s.get(defaults)) : std::string(s.shown_default);
    std::string flag;
    if (!s.flag.empty()) flag = md_code(s.flag) + (s.kind == Kind::list ? " (repeatable)" : "");
    out += fmt::format("| {} | {} | {} | {} |\n", md_code(s.key), md_code(def), flag, s.help);
  }
  return out;
}

std::vector<std::string> config_keys() {
  std::vector<std::string> out;
  for (const auto& s : table()) out.emplace_back(s.key);
  return out;
}

CrawlConfig default_config() {
  CrawlConfig c;
  c.database = xdg("XDG_DATA_HOME", ".local/share") / "bitscrape" / "bitscrape.db";
  c.listen = {*Endpoint::parse("0.0.0.0:6881")};
  for (const char* b : {"dht.libtorrent.org:25401", "dht.transmissionbt.com:6881",
                        "router.bittorrent.com:6881", "router.utorrent.com:6881"}) {
    c.bootstrap.push_back(*HostPort::parse(b));
  }
  c.web = Endpoint::parse("127.0.0.1:8080");
  return c;
}

std::filesystem::path default_config_path() {
  return xdg("XDG_CONFIG_HOME", ".config") / "bitscrape" / "config.toml";
}

Result<void, std::string> load_config_string(std::string_view input, CrawlConfig& c,
                                             std::string_view origin) {
  toml::table root;
  try {
    root = toml::parse(input, origin);
  } catch (const toml::parse_error& e) {
    return Unexpected{
        fmt::format("{}:{}:{}: {}", origin, e.source().begin.line, e.source().begin.column, e.description())};
  }
  const auto fail = [&](const toml::node& n, std::string_view key, std::string_view what) {
    return Unexpected{fmt::format("{}:{}: {}: {}", origin, n.source().begin.line, key, what)};
  };
  // Sections and keys are checked first, so a typo is reported even when other values are bad.
  for (const auto& [name, node] : root) {
    const toml::table* sec = node.as_table();
    bool known = false;
    for (const auto& s : table()) known = known || section_of(s.key) == name.str();
    if (!known)
      return fail(node, fmt::format("(top level).{}", name.str()), "unknown key (see docs/configuration.md)");
    if (sec == nullptr) return fail(node, name.str(), fmt::format("must be a table ([{}])", name.str()));
    for (const auto& [k, v] : *sec) {
      if (find_setting(fmt::format("{}.{}", name.str(), k.str())) == nullptr) {
        return fail(v, fmt::format("{}.{}", name.str(), k.str()), "unknown key (see docs/configuration.md)");
      }
    }
  }
  // The one rule across keys: a database is a SQLite file or a PostgreSQL URI, not both.
  if (const auto* db = root.get("database"); db != nullptr && db->as_table() != nullptr) {
    if (const auto* url = db->as_table()->get("url"); url != nullptr && db->as_table()->get("path") != nullptr) {
      return fail(*url, "database.url", "set either database.path (SQLite) or database.url (PostgreSQL), not both");
    }
  }
  for (const auto& s : table()) {
    const auto* sec = root.get(section_of(s.key));
    const toml::node* n = sec != nullptr ? sec->as_table()->get(name_of(s.key)) : nullptr;
    if (n == nullptr) continue;
    auto v = from_toml(*n, s.kind);
    if (!v) return fail(*n, s.key, v.error());
    if (auto r = apply_setting(s, *v, c); !r) return fail(*n, s.key, r.error());
  }
  return {};
}

Result<void, std::string> load_config(const std::filesystem::path& path, CrawlConfig& cfg) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Unexpected{path.string() + ": no such file"};
  std::string text;
  {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return Unexpected{path.string() + ": cannot read"};
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
  }
  return load_config_string(text, cfg, path.string());
}

Result<void, std::string> validate(const CrawlConfig& c) {
  if (c.listen.empty()) return Unexpected{std::string("dht.listen: at least one address is needed")};
  if (c.listen.size() > 2 || (c.listen.size() == 2 && c.listen[0].ip.family() == c.listen[1].ip.family())) {
    return Unexpected{std::string("dht.listen: at most one IPv4 and one IPv6 address")};
  }
  if (c.web) {
    web::ServerOptions so;
    so.bind = *c.web;
    so.token = c.web_token;
    if (auto r = web::validate(so); !r) return Unexpected{"web: " + r.error()};
  }
  return {};
}

}  // namespace bitscrape::app
