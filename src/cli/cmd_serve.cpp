// `bitscrape serve`: browse a database in the web UI without crawling. Opens the database
// read-only, serves the UI and API (web::Server) until SIGINT or SIGTERM.
#include "app/config.hpp"
#include "cli/commands.hpp"
#include "cli/database.hpp"
#include "storage/sqlite_store.hpp"
#include "web/server.hpp"

#include <fmt/core.h>

#include <pthread.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace bitscrape::cli {

void register_serve(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "serve",
      "Browse a database in the web UI without crawling: search torrents, see their files, download .torrent "
      "files, export CSV/JSONL. Prints the URL and runs until interrupted (Ctrl-C or SIGTERM).");
  struct Opts {
    std::string db;
    std::string web;
    std::string token;
  };
  auto o = std::make_shared<Opts>();
  const auto defaults = app::default_config();
  o->db = defaults.database.string();
  o->web = defaults.web ? defaults.web->to_string() : "127.0.0.1:8080";
  cmd->add_option("--db", o->db, "SQLite database file or postgresql:// URI to browse")->capture_default_str();
  cmd->add_option(
         "--web", o->web,
         "Address to serve on, IP:PORT (port 0 picks a free one); a non-loopback address needs --web-token")
      ->capture_default_str();
  cmd->add_option(
      "--web-token", o->token,
      "Access token (16+ characters) required on every API request as 'Authorization: Bearer T' or "
      "?token=T; also read from $BITSCRAPE_WEB_TOKEN");
  cmd->callback([o] {
    web::ServerOptions opt;
    const auto bind = Endpoint::parse(o->web);
    if (!bind)
      throw CommandFailed(
          "--web: expected IP:PORT such as 127.0.0.1:8080 or [::1]:8080, got '" + o->web + "'", 2);
    opt.bind = *bind;
    opt.token = o->token;
    if (opt.token.empty()) {
      if (const char* env = std::getenv("BITSCRAPE_WEB_TOKEN")) opt.token = env;
    }
    opt.version = BITSCRAPE_VERSION;
    // Refuse a bad bind before touching the database.
    if (auto ok = web::validate(opt); !ok) throw CommandFailed(ok.error(), 2);

    auto store = open_database_read_only(o->db);

    // Block the stop signals in every thread (the server's threads inherit the mask), then wait
    // for one here: no handler, no polling.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    auto server = web::Server::start(*store, nullptr, opt);
    if (!server) throw CommandFailed(server.error(), 2);
    fmt::print("bitscrape: serving {} at {}\n", o->db, (*server)->url());
    if (!opt.token.empty())
      fmt::print("bitscrape: open {}?token=<your token> (the token is required)\n", (*server)->url());
    std::fflush(stdout);

    int sig = 0;
    sigwait(&stop_signals, &sig);
    fmt::print(stderr, "bitscrape: stopping ({})\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    (*server)->stop();
  });
}

}  // namespace bitscrape::cli
