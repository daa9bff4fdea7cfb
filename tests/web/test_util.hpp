// Helpers for the web API tests: a temp directory, a populated SQLite store and a running Server.
#pragma once

#include "fake_live_source.hpp"
#include "fixtures.hpp"
#include "storage/memory_store.hpp"
#include "storage/sqlite_store.hpp"
#include "web/server.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace bitscrape::web::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bitscrape-web-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
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
