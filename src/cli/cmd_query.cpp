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

constexpr std::size_t kInstancesListed = 100;  // the newest; the table forgets week-old ones

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
      fmt::print("{}  {:>10}  {:>5} files  {}\n", hex_of(t), human_bytes(t.total_size), t.file_count, printable(t.name));
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
    storage::InstanceQuery iq;
    iq.limit = kInstancesListed;
    auto instances = store->instances(iq);
    if (!instances) throw CommandFailed("stats failed: " + instances.error().message, 1);
    const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    const auto alive_since = now - storage::kInstanceAliveWindow;
    if (o->json) {
      auto j = web::stats_json(*s);
      j["instances"] = web::instances_json(*instances, alive_since);
      std::cout << web::dump(j) << '\n';
      return;
    }
    fmt::print("nodes       {}\ninfohashes  {}\n  pending   {}\n  failed    {}\ntorrents    {}\nfiles       {}\npeers       {}\n",
               s->nodes, s->infohashes, s->pending, s->failed, s->torrents, s->files, s->peers);
    if (instances->empty()) return;
    // The crawlers of this database (newest last): what each stored, and whether it is live.
    std::size_t live = 0;
    for (const auto& x : *instances) live += !x.last.stopped && x.last.at >= alive_since ? 1 : 0;
    fmt::print("\ninstances   {} ({} live)\n", instances->size(), live);
    fmt::print("  {:>6}  {:<7}  {:>9}  {:>10}  {:>9}  {:<21}  {}\n", "id", "state", "torrents", "infohashes",
               "last seen", "listen", "host");
    for (const auto& x : *instances) {
      const bool alive = !x.last.stopped && x.last.at >= alive_since;
      const auto ago = std::max<std::int64_t>(0, (now - x.last.at).count());
      fmt::print("  {:>6}  {:<7}  {:>9}  {:>10}  {:>8}s  {:<21}  {}\n", x.id,
                 alive ? "live" : x.last.stopped ? "stopped" : "gone", x.last.torrents, x.last.infohashes, ago,
                 printable(x.info.listen), printable(x.info.host));
    }
  });
}

}  // namespace

void register_query(CLI::App& app) {
  register_search(app);
  register_stats(app);
}

}  // namespace bitscrape::cli
