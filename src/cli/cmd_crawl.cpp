// `bitscrape crawl`: run the crawler (DHT node + BEP-51 sampler + metadata fetcher + database).
#include "app/config.hpp"
#include "app/crawl.hpp"
#include "cli/commands.hpp"

#include <fmt/core.h>
#include <cstdio>
#include <filesystem>

#ifndef _WIN32
#include <unistd.h>
#endif

namespace bitscrape::cli {

void register_crawl(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "crawl",
      "Crawl the DHT: join it as a well-behaved node, discover infohashes (BEP-51 sampling, lookups, queries "
      "we "
      "receive), find their peers, fetch and verify their metadata, and store everything in the database. "
      "Runs "
      "until SIGINT/SIGTERM or --duration; settings come from the config file, overridden by these flags "
      "(see docs/configuration.md).");
  struct Opts {
    std::string config;
    std::string peers_csv;
    std::string stats_json;
    // One slot per setting that has a flag; parsed by CLI11 into the setting's kind, then applied
    // through the same app::apply_setting() the config file uses.
    struct Slot {
      const app::Setting* setting;
      CLI::Option* option = nullptr;
      bool flag = false;
      double number = 0;
      std::string text;
      std::vector<std::string> list;
    };
    std::vector<Slot> slots;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--config", o->config,
                  "TOML config file (default: $XDG_CONFIG_HOME/bitscrape/config.toml if present)");
  // Every flag below comes from app::settings(): its help, its [config key], its validator.
  for (const auto& s : app::settings()) {
    if (s.flag.empty()) continue;
    o->slots.emplace_back().setting = &s;
  }
  for (auto& slot : o->slots) {
    const auto& s = *slot.setting;
    const std::string name(s.flag);
    const std::string help = fmt::format("{} [{}]", s.help, s.key);
    switch (s.kind) {
      case app::SettingKind::boolean:
        slot.option = cmd->add_flag(name, slot.flag, help);
        break;
      case app::SettingKind::number:
        slot.option = cmd->add_option(name, slot.number, help)->type_name("NUMBER");
        break;
      case app::SettingKind::text:
        slot.option = cmd->add_option(name, slot.text, help);
        break;
      case app::SettingKind::list:
        slot.option = cmd->add_option(name, slot.list, help + " (repeatable)");
        break;
    }
  }
  cmd->add_option("--peers-csv", o->peers_csv,
                  "Also write every peer found as infohash,peer_ip,peer_port rows");
  cmd->add_option("--stats-json", o->stats_json,
                  "At exit, write every counter (DHT, pipeline, fetcher, store) as JSON");
  cmd->callback([o] {
    auto cfg = app::default_config();
    const std::filesystem::path config_path =
        o->config.empty() ? app::default_config_path() : std::filesystem::path(o->config);
    if (!o->config.empty() || std::filesystem::exists(config_path)) {
      if (auto r = app::load_config(config_path, cfg); !r) throw CommandFailed(r.error(), 2);
    }
    for (const auto& slot : o->slots) {
      if (slot.option->count() == 0) continue;
      app::SettingValue v;
      switch (slot.setting->kind) {
        case app::SettingKind::boolean:
          v = slot.flag;
          break;
        case app::SettingKind::number:
          v = slot.number;
          break;
        case app::SettingKind::text:
          v = slot.text;
          break;
        case app::SettingKind::list:
          v = slot.list;
          break;
      }
      if (auto r = app::apply_setting(*slot.setting, v, cfg); !r) {
        throw CommandFailed(fmt::format("{}: {}", slot.setting->flag, r.error()), 2);
      }
    }
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
