// web_fixture: a test-only helper for the browser tests.
//   web_fixture populate --db PATH         writes the standard fixture set (fixtures.hpp) into a
//                                          new SQLite database and prints it as JSON
//   web_fixture serve --db PATH [--web IP:PORT] [--token T] [--live]
//                                          serves it like `bitscrape serve`, with --live adding
//                                          the FakeLiveSource (dashboard, nodes, controls)
#include "fake_live_source.hpp"
#include "fixtures.hpp"
#include "storage/sqlite_store.hpp"
#include "web/server.hpp"

#include <nlohmann/json.hpp>

#include <pthread.h>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>

using namespace bitscrape;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: web_fixture populate|serve --db PATH [...]\n");
    return 2;
  }
  const std::string mode = argv[1];
  std::map<std::string, std::string> opts;
  bool live = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--live") {
      live = true;
    } else if (i + 1 < argc) {
      opts[a] = argv[++i];
    } else {
      std::fprintf(stderr, "web_fixture: %s needs a value\n", a.c_str());
      return 2;
    }
  }
  if (!opts.count("--db")) {
    std::fprintf(stderr, "web_fixture: --db is required\n");
    return 2;
  }
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();

  if (mode == "populate") {
    auto store = storage::open_sqlite_store(opts["--db"]);
    if (!store) {
      std::fprintf(stderr, "web_fixture: %s\n", store.error().message.c_str());
      return 1;
    }
    const auto pop =
        web::testing::populate(**store, now, opts.count("--fillers") ? std::stoi(opts["--fillers"]) : 40);
    // Two crawlers share the database: one live, one (with a hostile host name) stopped.
    for (int i = 0; i < 2; ++i) {
      storage::InstanceInfo info;
      info.node_id.bytes[0] = static_cast<std::uint8_t>(0xb0 + i);
      info.listen = "10.0.0." + std::to_string(i + 1) + ":6881";
      info.host = i == 0 ? std::string("crawl-a") : std::string(web::testing::kHostileName);
      info.started = storage::from_unix(now - 3600);
      auto id = (*store)->register_instance(info);
      storage::Heartbeat hb;
      hb.at = storage::from_unix(i == 0 ? now : now - 600);
      hb.torrents = 1234 + static_cast<std::uint64_t>(i);
      hb.torrents_per_s = 2.5;
      hb.stopped = i == 1;
      if (!id || !(*store)->heartbeat(*id, hb)) {
        std::fprintf(stderr, "web_fixture: cannot register instances\n");
        return 1;
      }
    }
    nlohmann::json j;
    j["torrents"] = nlohmann::json::array();
    for (const auto& t : pop.torrents) {
      j["torrents"].push_back({{"name", t.name},
                               {"infohash", t.key.hex()},
                               {"total_size", t.total_size},
                               {"file_count", t.file_count}});
    }
    j["without_metadata"] = nlohmann::json::array();
    for (const auto& k : pop.without_metadata) j["without_metadata"].push_back(k.hex());
    std::cout << j.dump(1) << "\n";
    return 0;
  }
  if (mode == "serve") {
    storage::SqliteOptions so;
    so.read_only = true;
    auto store = storage::open_sqlite_store(opts["--db"], so);
    if (!store) {
      std::fprintf(stderr, "web_fixture: %s\n", store.error().message.c_str());
      return 1;
    }
    web::ServerOptions o;
    if (opts.count("--web")) {
      auto e = Endpoint::parse(opts["--web"]);
      if (!e) return 2;
      o.bind = *e;
    } else {
      o.bind.port = 0;
    }
    o.token = opts["--token"];
    o.version = "fixture";
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    web::testing::FakeLiveSource fake;
    auto server = web::Server::start(**store, live ? &fake : nullptr, o);
    if (!server) {
      std::fprintf(stderr, "web_fixture: %s\n", server.error().c_str());
      return 2;
    }
    std::printf("web_fixture: serving %s at %s\n", opts["--db"].c_str(), (*server)->url().c_str());
    std::fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    (*server)->stop();
    return 0;
  }
  std::fprintf(stderr, "web_fixture: unknown mode %s\n", mode.c_str());
  return 2;
}
