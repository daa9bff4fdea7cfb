// `bitscrape search` and `bitscrape stats`: look into the database from a script or a terminal.
// --json prints the same shapes as the web API (web/views.hpp), so scripts can use either.
#include "cli/commands.hpp"
#include "cli/database.hpp"
#include "cli/format.hpp"
#include "common/hex.hpp"
#include "web/views.hpp"

#include <fmt/core.h>

#include <iostream>

namespace bitscrape::cli {

namespace {

std::string hex_of(const storage::TorrentSummary& t) {
  if (t.infohash_v1) return t.infohash_v1->hex();
  if (t.infohash_v2) {
    return to_hex(
        std::string_view(reinterpret_cast<const char*>(t.infohash_v2->data()), t.infohash_v2->size()));
  }
  return {};
}

void register_search(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "search",
      "Full-text search of torrent names and file paths in the database. Words match as prefixes; any text is "
      "accepted (quotes and operators are taken literally).");
  struct Opts {
    std::string query;
    std::string db = default_database();
    std::size_t limit = 20;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("QUERY", o->query, "Words to look for (empty: the newest torrents)")->required();
  cmd->add_option("--db", o->db, "SQLite database file or postgresql:// URI")->capture_default_str();
  cmd->add_option("--limit", o->limit, "Results to show (at most 1000)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, storage::kMaxSearchLimit));
  cmd->add_flag("--json", o->json, "Print JSON ({total, total_exact, items: [...]}) instead of a table");
  cmd->callback([o] {
    auto store = open_database_read_only(o->db);
    storage::SearchQuery q;
    q.text = o->query;
    q.limit = o->limit;
    auto page = store->search(q);
    if (!page) throw CommandFailed("search failed: " + page.error().message, 1);
    if (o->json) {
      auto items = web::Json::array();
      for (const auto& t : page->items) items.push_back(web::summary_json(t));
      std::cout << web::dump(web::Json{{"total", page->total}, {"total_exact", page->total_exact}, {"items", items}})
                << '\n';
      return;
    }
    for (const auto& t : page->items) {
      fmt::print("{}  {:>10}  {:>5} files  {}\n", hex_of(t), human_bytes(t.total_size), t.file_count, t.name);
    }
    fmt::print(stderr, "{}{} matches\n", page->total, page->total_exact ? "" : "+");
  });
}

void register_stats(CLI::App& app) {
  auto* cmd = app.add_subcommand("stats", "Counts of what the database holds: nodes, infohashes, torrents, files, peers.");
  struct Opts {
    std::string db = default_database();
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--db", o->db, "SQLite database file or postgresql:// URI")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print JSON");
  cmd->callback([o] {
    auto store = open_database_read_only(o->db);
    auto s = store->stats();
    if (!s) throw CommandFailed("stats failed: " + s.error().message, 1);
    if (o->json) {
      std::cout << web::dump(web::stats_json(*s)) << '\n';
      return;
    }
    fmt::print("nodes       {}\ninfohashes  {}\n  pending   {}\n  failed    {}\ntorrents    {}\nfiles       {}\npeers       {}\n",
               s->nodes, s->infohashes, s->pending, s->failed, s->torrents, s->files, s->peers);
  });
}

}  // namespace

void register_query(CLI::App& app) {
  register_search(app);
  register_stats(app);
}

}  // namespace bitscrape::cli
