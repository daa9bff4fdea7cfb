// Real PostgreSQL for tests: fresh databases in a private cluster (tests/support/pg_cluster.sh).
//
// Where the cluster comes from, first match wins:
//   BITSCRAPE_TEST_PG_URI    a server URI to use as is (its databases are created, never dropped);
//   BITSCRAPE_TEST_PG_STATE  the state file of a cluster a ctest fixture started (must exist:
//                            a failed fixture fails the test, it does not skip it);
//   otherwise                this process starts its own cluster on first use and stops it at exit.
// Missing PostgreSQL binaries make fresh_pg_database() throw — a failure, never a skip.
//
// Needs libpq (the test target links it). Threading: call from the test thread.
#pragma once

#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>

namespace bitscrape::test_support {

namespace pg_detail {

inline std::string read_state_uri(const std::string& state) {
  std::ifstream in(state);
  std::string dir, uri;
  if (!(in >> dir >> uri)) {
    throw std::runtime_error(
        "no PostgreSQL test cluster: " + state +
        " is missing or empty (did the storage_postgres_start fixture fail? is postgresql "
        "installed? see tests/support/pg_cluster.sh)");
  }
  return uri;
}

// A cluster this process started itself; stopped at exit.
struct OwnCluster {
  std::string state;
  std::string uri;
  OwnCluster() {
    char tmpl[] = "/tmp/bs-pg-state.XXXXXX";
    const int fd = mkstemp(tmpl);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    ::close(fd);
    state = tmpl;
    const std::string cmd =
        std::string("'") + BITSCRAPE_SOURCE_DIR + "/tests/support/pg_cluster.sh' start '" + state + "'";
    if (std::system(cmd.c_str()) != 0) {
      std::remove(state.c_str());
      throw std::runtime_error("could not start a PostgreSQL test cluster (" + cmd + ")");
    }
    uri = read_state_uri(state);
  }
  ~OwnCluster() {
    const std::string cmd =
        std::string("'") + BITSCRAPE_SOURCE_DIR + "/tests/support/pg_cluster.sh' stop '" + state + "'";
    (void)std::system(cmd.c_str());
  }
};

inline std::string server_uri() {
  if (const char* u = std::getenv("BITSCRAPE_TEST_PG_URI"); u && *u) return u;
  if (const char* s = std::getenv("BITSCRAPE_TEST_PG_STATE"); s && *s) return read_state_uri(s);
  static OwnCluster own;  // started on first use, stopped at exit
  return own.uri;
}

// `uri` with its database name replaced (the path after the authority).
inline std::string with_database(const std::string& uri, const std::string& db) {
  const auto scheme = uri.find("://");
  const auto slash = uri.find('/', scheme + 3);
  const auto query = uri.find('?', scheme + 3);
  const std::string base = uri.substr(0, std::min(slash, query));
  const std::string tail = query == std::string::npos ? "" : uri.substr(query);
  return base + "/" + db + tail;
}

}  // namespace pg_detail

// A new, empty database in the test cluster; returns its URI.
inline std::string fresh_pg_database() {
  static std::mutex mu;
  static int counter = 0;
  std::lock_guard lock(mu);
  const std::string server = pg_detail::server_uri();
  const std::string name = "bs_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  PGconn* c = PQconnectdb(server.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    const std::string msg = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("cannot reach the PostgreSQL test cluster " + server + ": " + msg);
  }
  PGresult* r = PQexec(c, ("CREATE DATABASE " + name + " TEMPLATE template0").c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  const std::string msg = ok ? "" : PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  if (!ok) throw std::runtime_error("CREATE DATABASE " + name + " failed: " + msg);
  return pg_detail::with_database(server, name);
}

}  // namespace bitscrape::test_support
