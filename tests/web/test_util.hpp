// Helpers for the web API tests: a temp directory, a populated SQLite store and a running Server.
#pragma once

#include "fake_live_source.hpp"
#include "fixtures.hpp"
#include "storage/memory_store.hpp"
#include "storage/sqlite_store.hpp"
#include "temp_dir.hpp"
#include "web/server.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

namespace bitscrape::web::testing {

struct TempDir : test_support::TempDir {
  TempDir() : test_support::TempDir("bitscrape-web") {}
};

inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline ServerOptions loopback_any_port() {
  ServerOptions o;
  o.bind = *Endpoint::parse("127.0.0.1:0");
  o.version = "test";
  return o;
}

inline std::unique_ptr<Server> start_server(storage::Store& store, LiveSource* live, const ServerOptions& o) {
  auto s = Server::start(store, live, o);
  if (!s) throw std::runtime_error("server did not start: " + s.error());
  return std::move(s.value());
}

inline nlohmann::json body_json(const httplib::Result& r) {
  if (!r) throw std::runtime_error("no response: " + httplib::to_string(r.error()));
  return nlohmann::json::parse(r->body);
}

}  // namespace bitscrape::web::testing
