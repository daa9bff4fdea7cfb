// `bitscrape export`: write the database as CSV (the seed format), JSONL or .torrent files, with
// the same formatting as the web UI's export (web/export.hpp).
#include "app/config.hpp"
#include "cli/commands.hpp"
#include "cli/database.hpp"
#include "storage/sqlite_store.hpp"
#include "web/export.hpp"

#include <fmt/core.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace bitscrape::cli {

void register_export(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "export",
      "Export the database: --format csv "
      "(infohash,name,file_count,total_bytes,piece_length,peer_ip,peer_port,"
      "metadata_ok), jsonl (one JSON object per torrent, see docs/api.md) or torrents (one .torrent file per "
      "torrent into --output DIR). Streams: the export is never held in memory.");
  struct Opts {
    std::string format;
    bool all = false;
    std::string output;
    std::string db;
  };
  auto o = std::make_shared<Opts>();
  o->db = default_database();
  cmd->add_option("--format", o->format, "csv, jsonl or torrents")
      ->required()
      ->check(CLI::IsMember({"csv", "jsonl", "torrents"}));
  cmd->add_flag("--all", o->all, "Also export infohashes whose metadata was not fetched (csv, jsonl)");
  cmd->add_option("-o,--output", o->output,
                  "Output file (csv, jsonl; default: standard output) or directory (torrents)");
  cmd->add_option("--db", o->db, "SQLite database file or postgresql:// URI to export")->capture_default_str();
  cmd->callback([o] {
    auto store = open_database_read_only(o->db);

    if (o->format == "torrents") {
      if (o->output.empty()) throw CommandFailed("--format torrents needs --output DIR", 2);
      if (o->all)
        throw CommandFailed("--all has no meaning for --format torrents (no metadata, no .torrent)", 2);
      auto r = web::export_torrent_files(*store, o->output);
      if (!r) throw CommandFailed(r.error(), 1);
      fmt::print(stderr, "bitscrape: wrote {} .torrent files to {}", r->torrents, o->output);
      if (r->skipped) fmt::print(stderr, " ({} torrents skipped: info dict not kept)", r->skipped);
      fmt::print(stderr, "\n");
      return;
    }

    web::ExportSelection sel;
    sel.format = o->format == "csv" ? web::ExportFormat::Csv : web::ExportFormat::Jsonl;
    sel.all = o->all;
    std::ofstream file;
    const bool to_stdout = o->output.empty() || o->output == "-";
    if (!to_stdout) {
      file.open(o->output, std::ios::binary | std::ios::trunc);
      if (!file) throw CommandFailed("cannot write " + o->output, 2);
    }
    std::ostream& out = to_stdout ? std::cout : file;
    auto r = web::export_records(*store, sel, [&](std::string_view chunk) {
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      return static_cast<bool>(out);
    });
    out.flush();
    if (!r) throw CommandFailed(r.error(), 1);
    if (r->stopped || !out)
      throw CommandFailed("cannot write " + (to_stdout ? std::string("standard output") : o->output), 1);
    if (!to_stdout) {
      fmt::print(stderr, "bitscrape: exported {} torrents", r->torrents);
      if (sel.all) fmt::print(stderr, " and {} infohashes without metadata", r->without_metadata);
      fmt::print(stderr, " to {}\n", o->output);
    }
  });
}

}  // namespace bitscrape::cli
