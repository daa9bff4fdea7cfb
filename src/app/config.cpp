#include "app/config.hpp"

#include "web/server.hpp"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fmt/core.h>
#include <set>
#include <toml++/toml.h>

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

struct Reader {
  const toml::table& root;
  std::string origin;
  std::string error;

  std::string where(const toml::node& n, std::string_view key) const {
    return fmt::format("{}:{}: {}", origin, n.source().begin.line, key);
  }
  bool fail(const toml::node& n, std::string_view key, std::string_view what) {
    if (error.empty()) error = where(n, key) + ": " + std::string(what);
    return false;
  }

  // Every key of `section` must be in `known`.
  void check_keys(const toml::table& section, std::string_view name, const std::set<std::string>& known) {
    for (const auto& [k, v] : section) {
      if (known.count(std::string(k.str())) == 0) {
        fail(v, fmt::format("{}.{}", name, k.str()), "unknown key (see docs/configuration.md)");
      }
    }
  }

  template <class T>
  void number(const toml::table& s, std::string_view sec, std::string_view key, T& out, double min, double max) {
    const toml::node* n = s.get(key);
    if (n == nullptr) return;
    std::optional<double> v;
    if (auto i = n->value<std::int64_t>()) v = static_cast<double>(*i);
    if (auto d = n->as_floating_point()) v = d->get();
    const auto name = fmt::format("{}.{}", sec, key);
    if (!v) {
      fail(*n, name, "must be a number");
      return;
    }
    if (*v < min || *v > max) {
      fail(*n, name, fmt::format("must be between {} and {}", min, max));
      return;
    }
    out = static_cast<T>(*v);
  }

  void boolean(const toml::table& s, std::string_view sec, std::string_view key, bool& out) {
    const toml::node* n = s.get(key);
    if (n == nullptr) return;
    if (auto b = n->value<bool>()) {
      out = *b;
    } else {
      fail(*n, fmt::format("{}.{}", sec, key), "must be true or false");
    }
  }

  std::optional<std::string> string(const toml::table& s, std::string_view sec, std::string_view key) {
    const toml::node* n = s.get(key);
    if (n == nullptr) return std::nullopt;
    if (auto v = n->value<std::string>()) return v;
    fail(*n, fmt::format("{}.{}", sec, key), "must be a string");
    return std::nullopt;
  }

  std::optional<std::vector<std::string>> strings(const toml::table& s, std::string_view sec, std::string_view key) {
    const toml::node* n = s.get(key);
    if (n == nullptr) return std::nullopt;
    const auto* arr = n->as_array();
    std::vector<std::string> out;
    if (arr != nullptr) {
      for (const auto& e : *arr) {
        if (auto v = e.value<std::string>()) {
          out.push_back(*v);
        } else {
          fail(e, fmt::format("{}.{}", sec, key), "must be a list of strings");
          return std::nullopt;
        }
      }
      return out;
    }
    fail(*n, fmt::format("{}.{}", sec, key), "must be a list of strings");
    return std::nullopt;
  }
};

// Every key we accept, by section: the one list check_keys() and config_keys() use.
const std::vector<std::pair<std::string, std::set<std::string>>>& key_table() {
  static const std::vector<std::pair<std::string, std::set<std::string>>> keys = {
      {"database", {"path", "url", "store_info_dicts"}},
      {"dht", {"listen", "bootstrap", "allow_private_addresses", "packet_budget", "keyspace", "sample_walks",
               "max_lookups"}},
      {"fetch", {"max_connections", "max_connections_per_ip", "peers_per_infohash", "attempts_per_infohash",
                 "max_metadata_size", "timeout"}},
      {"crawler", {"memory_budget_mb", "duration", "status_interval"}},
      {"web", {"listen", "token"}},
  };
  return keys;
}

const std::set<std::string>& keys_of(std::string_view sec) {
  for (const auto& [name, keys] : key_table()) {
    if (name == sec) return keys;
  }
  static const std::set<std::string> none;
  return none;
}

const toml::table* section(const toml::table& root, std::string_view name, Reader& r) {
  const toml::node* n = root.get(name);
  if (n == nullptr) return nullptr;
  if (const auto* t = n->as_table()) return t;
  r.fail(*n, name, "must be a table ([" + std::string(name) + "])");
  return nullptr;
}

}  // namespace

std::vector<std::string> config_keys() {
  std::vector<std::string> out;
  for (const auto& [name, keys] : key_table()) {
    for (const auto& k : keys) out.push_back(name + "." + k);
  }
  return out;
}

CrawlConfig default_config() {
  CrawlConfig c;
  c.database = xdg("XDG_DATA_HOME", ".local/share") / "bitscrape" / "bitscrape.db";
  c.listen = {*Endpoint::parse("0.0.0.0:6881")};
  for (const char* b : {"dht.libtorrent.org:25401", "dht.transmissionbt.com:6881", "router.bittorrent.com:6881",
                        "router.utorrent.com:6881"}) {
    c.bootstrap.push_back(*HostPort::parse(b));
  }
  c.web = Endpoint::parse("127.0.0.1:8080");
  return c;
}

std::filesystem::path default_config_path() {
  return xdg("XDG_CONFIG_HOME", ".config") / "bitscrape" / "config.toml";
}

Result<void, std::string> load_config_string(std::string_view text, CrawlConfig& c, std::string_view origin) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return Unexpected{fmt::format("{}:{}:{}: {}", origin, e.source().begin.line, e.source().begin.column,
                                  e.description())};
  }
  Reader r{root, std::string(origin), {}};
  std::set<std::string> sections;
  for (const auto& [name, keys] : key_table()) sections.insert(name);
  r.check_keys(root, "(top level)", sections);

  if (const auto* s = section(root, "database", r)) {
    r.check_keys(*s, "database", keys_of("database"));
    auto path = r.string(*s, "database", "path");
    auto url = r.string(*s, "database", "url");
    if (path) c.database = *path;
    if (url) {
      if (path) {
        r.fail(*s->get("url"), "database.url",
               "set either database.path (SQLite) or database.url (PostgreSQL), not both");
      } else if (!url->starts_with("postgresql://") && !url->starts_with("postgres://")) {
        r.fail(*s->get("url"), "database.url", "must be a PostgreSQL URI: postgresql://user@host:port/dbname");
      } else {
        c.database = *url;
      }
    }
    r.boolean(*s, "database", "store_info_dicts", c.store_info_dicts);
  }
  if (const auto* s = section(root, "dht", r)) {
    r.check_keys(*s, "dht", keys_of("dht"));
    if (auto v = r.strings(*s, "dht", "listen")) {
      c.listen.clear();
      for (const auto& e : *v) {
        auto ep = Endpoint::parse(e);
        if (!ep) {
          r.fail(*s->get("listen"), "dht.listen", "'" + e + "' is not IP:PORT or [IPv6]:PORT");
          break;
        }
        c.listen.push_back(*ep);
      }
    }
    if (auto v = r.strings(*s, "dht", "bootstrap")) {
      c.bootstrap.clear();
      for (const auto& e : *v) {
        auto hp = HostPort::parse(e);
        if (!hp) {
          r.fail(*s->get("bootstrap"), "dht.bootstrap", "'" + e + "' is not HOST:PORT");
          break;
        }
        c.bootstrap.push_back(*hp);
      }
    }
    r.boolean(*s, "dht", "allow_private_addresses", c.allow_private_addresses);
    r.number(*s, "dht", "packet_budget", c.packet_budget, 1, 1e7);
    if (auto v = r.strings(*s, "dht", "keyspace")) {
      for (const auto& p : *v) {
        if (p.empty() || p.size() > 16 || p.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
          r.fail(*s->get("keyspace"), "dht.keyspace", "'" + p + "' is not a hex prefix of 1 to 16 digits");
          break;
        }
      }
      c.keyspace = *v;
    }
    r.number(*s, "dht", "sample_walks", c.sample_walks, 0, 1024);
    r.number(*s, "dht", "max_lookups", c.max_lookups, 1, 65536);
  }
  if (const auto* s = section(root, "fetch", r)) {
    r.check_keys(*s, "fetch", keys_of("fetch"));
    r.number(*s, "fetch", "max_connections", c.max_connections, 0, 1e6);
    r.number(*s, "fetch", "max_connections_per_ip", c.max_connections_per_ip, 1, 1e6);
    r.number(*s, "fetch", "peers_per_infohash", c.peers_per_infohash, 1, 1000);
    r.number(*s, "fetch", "attempts_per_infohash", c.attempts_per_infohash, 1, 1000);
    r.number(*s, "fetch", "max_metadata_size", c.max_metadata_size, 1024, 1 << 30);
    double t = static_cast<double>(c.fetch_timeout.count());
    r.number(*s, "fetch", "timeout", t, 1, 3600);
    c.fetch_timeout = std::chrono::seconds(static_cast<std::int64_t>(t));
  }
  if (const auto* s = section(root, "crawler", r)) {
    r.check_keys(*s, "crawler", keys_of("crawler"));
    r.number(*s, "crawler", "memory_budget_mb", c.memory_budget_mb, 16, 1 << 20);
    double d = static_cast<double>(c.duration.count());
    r.number(*s, "crawler", "duration", d, 0, 1e9);
    c.duration = std::chrono::seconds(static_cast<std::int64_t>(d));
    double si = static_cast<double>(c.status_interval.count());
    r.number(*s, "crawler", "status_interval", si, 1, 3600);
    c.status_interval = std::chrono::seconds(static_cast<std::int64_t>(si));
  }
  if (const auto* s = section(root, "web", r)) {
    r.check_keys(*s, "web", keys_of("web"));
    if (auto v = r.string(*s, "web", "listen")) {
      if (v->empty() || *v == "off") {
        c.web.reset();
      } else if (auto ep = Endpoint::parse(*v)) {
        c.web = *ep;
      } else {
        r.fail(*s->get("listen"), "web.listen", "'" + *v + "' is not IP:PORT, [IPv6]:PORT or \"off\"");
      }
    }
    if (auto v = r.string(*s, "web", "token")) c.web_token = *v;
  }
  if (!r.error.empty()) return Unexpected{r.error};
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
