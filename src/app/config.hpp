// CrawlConfig: every setting of `bitscrape crawl`, with its default, loaded from a TOML file and
// overridden by command-line flags (the CLI applies flags after load_config()).
//
// One table, settings(), describes every setting once: its key, kind, range or validator, CLI
// flag and help. The TOML loader, the CLI flags (cli/cmd_crawl.cpp) and the reference table in
// docs/configuration.md (settings_markdown(), checked by tests/app/config_test.cpp) all read it,
// so a flag and its config key can never validate differently. Adding a setting is one member
// below and one row in config.cpp. Unknown keys are errors (a typo must not be silently ignored).
//
// Threading: start-up only; the finished struct is copied into the runtime.
#pragma once

#include "common/endpoint.hpp"
#include "common/result.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace bitscrape::app {

struct HostPort {
  std::string host;  // an address literal or a name (resolved at start)
  std::uint16_t port = 0;
  std::string to_string() const;
  // "host:port", "1.2.3.4:6881", "[::1]:6881"; nullopt otherwise.
  static std::optional<HostPort> parse(std::string_view text);
};

struct CrawlConfig {
  // [database]
  std::filesystem::path database;  // SQLite file, or a postgresql:// URI (database.url)
  bool store_info_dicts = true;    // keep the raw info dict (needed for .torrent download)

  // [dht]
  std::vector<Endpoint> listen;  // UDP addresses to bind (one v4, optionally one v6)
  std::vector<HostPort> bootstrap;
  bool allow_private_addresses = false;
  double packet_budget = 1000;        // outgoing packets/s, all kinds together
  std::vector<std::string> keyspace;  // hex prefixes the sampler walks (empty: all)
  std::size_t sample_walks = 4;       // concurrent BEP-51 keyspace walks
  std::size_t max_lookups = 512;      // safety bound on concurrent get_peers lookups (the budget decides)

  // [fetch]
  std::size_t max_connections = 1000;  // concurrent metadata connections
  std::size_t max_connections_per_ip = 2;
  std::size_t peers_per_infohash = 20;  // peers remembered per infohash
  std::size_t attempts_per_infohash = 5;
  std::uint32_t max_metadata_size = 10u << 20;
  std::chrono::seconds fetch_timeout{60};
  // Transports to reach a peer with, in the order tried: "utp" (on the DHT's UDP port) and/or
  // "tcp"; a peer that does not answer the first within its connect timeout gets the next.
  std::vector<std::string> fetch_transports{"utp", "tcp"};

  // [crawler]
  std::size_t memory_budget_mb = 256;  // in-memory sets (seen filter, queues)
  std::chrono::seconds duration{0};    // 0 = until stopped
  std::chrono::seconds status_interval{10};

  // [web]
  std::optional<Endpoint> web;  // nullopt: no web UI
  std::string web_token;        // required when web binds a non-loopback address
};

// The value of one setting as a TOML file or a command line gives it.
enum class SettingKind { boolean, number, text, list };
using SettingValue = std::variant<bool, double, std::string, std::vector<std::string>>;

struct Setting {
  std::string_view key;  // "section.name", as in the TOML file
  SettingKind kind;
  double min = 0, max = 0;         // numbers: the accepted range, inclusive
  std::string_view flag;           // "--keyspace"; empty: config file only
  std::string_view help;           // one line, for --help and the docs table
  std::string_view shown_default;  // for the docs when the default depends on the machine; else rendered
  // Stores a value of `kind` (already range-checked) into the config; an error says what is wrong
  // with the value (the caller adds the key or flag and the place).
  Result<void, std::string> (*set)(CrawlConfig&, const SettingValue&);
  SettingValue (*get)(const CrawlConfig&);
};

// Every setting, in documentation order.
std::span<const Setting> settings();
const Setting* find_setting(std::string_view key);
// Range check plus Setting::set; errors are "<what>" (no key prefix).
Result<void, std::string> apply_setting(const Setting& s, const SettingValue& v, CrawlConfig& cfg);
// The value rendered as TOML (`true`, `1000`, `"x"`, `["a", "b"]`).
std::string render_setting(const SettingValue& v);
// The reference table of docs/configuration.md, generated from settings() and default_config().
std::string settings_markdown();

// Defaults, with paths under the XDG base directories ($XDG_DATA_HOME or ~/.local/share).
CrawlConfig default_config();
// $XDG_CONFIG_HOME/bitscrape/config.toml (or ~/.config/...).
std::filesystem::path default_config_path();

// Applies the TOML document at `path` over `cfg`. Errors name the file, line and key.
Result<void, std::string> load_config(const std::filesystem::path& path, CrawlConfig& cfg);
Result<void, std::string> load_config_string(std::string_view toml, CrawlConfig& cfg,
                                             std::string_view origin);

// Every accepted key as "section.key" (for documentation checks).
std::vector<std::string> config_keys();

// Checks values against each other (e.g. a non-loopback web address needs a token).
Result<void, std::string> validate(const CrawlConfig& cfg);

}  // namespace bitscrape::app
