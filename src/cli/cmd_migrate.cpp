// `bitscrape migrate`: copy a whole database into another, across backends (SQLite <->
// PostgreSQL), through the Store interface (storage/copy_store.hpp), then check that the
// counts match.
#include "cli/commands.hpp"
#include "cli/database.hpp"
#include "cli/progress.hpp"
#include "storage/copy_store.hpp"
#include "storage/open_store.hpp"
#include "web/views.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>

namespace bitscrape::cli {
namespace {

std::string mismatch(const storage::StoreStats& a, const storage::StoreStats& b) {
  std::string out;
  auto cmp = [&](const char* what, std::uint64_t x, std::uint64_t y) {
    if (x != y) out += fmt::format("{}{} {} -> {}", out.empty() ? "" : ", ", what, x, y);
  };
  cmp("nodes", a.nodes, b.nodes);
  cmp("infohashes", a.infohashes, b.infohashes);
  cmp("pending", a.pending, b.pending);
  cmp("failed", a.failed, b.failed);
  cmp("torrents", a.torrents, b.torrents);
  cmp("files", a.files, b.files);
  cmp("peers", a.peers, b.peers);
  return out;
}

}  // namespace

void register_migrate(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "migrate",
      "Copy a whole database into another one, between SQLite files and PostgreSQL "
      "(postgresql://user@host:port/"
      "dbname): nodes, torrents with files and info dicts, infohashes with their history, peers, counters. "
      "The "
      "destination must be empty (a new SQLite file, or a PostgreSQL database without bitscrape data); the "
      "source is "
      "only read. Checks afterwards that every count matches. Exit status: 0 copied and verified, 1 the copy "
      "failed "
      "or the counts differ, 2 bad arguments or a database that cannot be opened or is not empty.");
  struct Opts {
    std::string from, to;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--from", o->from, "Source: SQLite database file or postgresql:// URI")->required();
  cmd->add_option("--to", o->to,
                  "Destination: SQLite database file (created) or postgresql:// URI (migrated)")
      ->required();
  cmd->add_flag("--json", o->json, "Print the result as JSON on standard output");
  cmd->callback([o] {
    const std::string from_shown = storage::describe_target(o->from);
    const std::string to_shown = storage::describe_target(o->to);
    if (o->from == o->to)
      throw CommandFailed("--from and --to are the same database (" + from_shown + ")", 2);
    auto src = open_database_read_only(o->from);
    if (!storage::is_postgres_uri(o->to)) {
      std::error_code ec;
      if (std::filesystem::exists(o->to, ec)) {
        throw CommandFailed(
            "destination " + o->to +
                " already exists: migrate into a new file (remove it first if it is a leftover)",
            2);
      }
      const auto parent = std::filesystem::path(o->to).parent_path();
      if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    }
    auto dst = storage::open_store(o->to);
    if (!dst) throw CommandFailed("cannot open " + to_shown + ": " + dst.error().message, 2);
    auto before = (*dst)->stats();
    if (!before) throw CommandFailed("cannot read " + to_shown + ": " + before.error().message, 2);
    if (before.value() != storage::StoreStats{}) {
      throw CommandFailed("destination " + to_shown + " is not empty (" + std::to_string(before->torrents) +
                              " torrents, " + std::to_string(before->infohashes) +
                              " infohashes): migrate into an empty database",
                          2);
    }

    const auto started = std::chrono::steady_clock::now();
    ProgressBar bar(!o->json && stderr_is_tty());
    auto copied = storage::copy_store(*src, **dst, {},
                                      [&](std::uint64_t done, std::uint64_t total, std::string_view phase) {
                                        bar.update(done, total, phase);
                                      });
    bar.finish();
    if (!copied) throw CommandFailed("migration failed: " + copied.error().message, 1);
    auto a = src->stats();
    auto b = (*dst)->stats();
    if (!a || !b) throw CommandFailed("cannot verify the counts: " + (!a ? a.error() : b.error()).message, 1);
    const std::string diff = mismatch(*a, *b);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (o->json) {
      nlohmann::json j = {{"from", from_shown},
                          {"to", to_shown},
                          {"seconds", secs},
                          {"copied",
                           {{"nodes", copied->nodes},
                            {"torrents", copied->torrents},
                            {"infohashes_without_metadata", copied->infohashes},
                            {"peers", copied->peers},
                            {"counter_instants", copied->counter_instants}}},
                          {"source", web::stats_json(*a)},
                          {"destination", web::stats_json(*b)},
                          {"counts_match", diff.empty()}};
      std::cout << j.dump() << '\n';
    }
    if (!diff.empty()) throw CommandFailed("migrated, but the counts differ (" + diff + ")", 1);
    if (!o->json) {
      fmt::print(stderr,
                 "bitscrape: migrated {} torrents, {} infohashes, {} nodes, {} peers, {} counter samples "
                 "from {} to {} "
                 "in {:.1f} s; counts match\n",
                 b->torrents, b->infohashes, b->nodes, b->peers, copied->counter_instants, from_shown,
                 to_shown, secs);
    }
  });
}

}  // namespace bitscrape::cli
