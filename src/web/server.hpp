// web::Server: the HTTP server behind the web UI — JSON API, Server-Sent Events, Prometheus
// metrics, .torrent download, streamed exports and the embedded UI (docs/api.md lists every
// endpoint). Built on cpp-httplib (Debian's libcpp-httplib-dev): no hand-written HTTP parsing.
//
// Data: a storage::Store for everything persisted, and optionally a LiveSource (live.hpp) for a
// crawl running in the same process. Give the server its own Store object — for SQLite its own
// read connection, as SqliteStore serves one store object per thread best; WAL lets it read
// beside the crawler's writer. The Store is shared by the worker threads (it serialises calls
// itself). Without a LiveSource the API reports `"live": null` and controls answer 409.
//
// Security:
//   - binds loopback by default; a non-loopback address needs an access token (at least 16
//     printable characters) or start() refuses with an error saying so;
//   - with a token, every /api/ and /metrics request must carry it (`Authorization: Bearer T`
//     or `?token=T`), compared in constant time; otherwise 401. The static UI files carry no
//     data and are served without it (the UI asks for the token);
//   - without a token (loopback), the Host header must name a loopback address or localhost,
//     so a page on another site cannot reach the API through DNS rebinding (403);
//   - POST bodies must be `application/json` (415), which a cross-site form cannot send;
//   - every response carries a strict Content-Security-Policy (default-src 'self', no inline
//     script or style), X-Content-Type-Options: nosniff, X-Frame-Options: DENY and
//     Referrer-Policy: no-referrer;
//   - bad parameters give 4xx with a JSON body {"error": "..."}; request bodies, headers,
//     time to read and write, threads, keep-alive, event streams and concurrent exports are
//     bounded (ServerOptions).
//
// Threading: start() returns once the socket listens; requests are served by a fixed pool of
// ServerOptions::threads workers. stop() (or the destructor) ends event streams and exports,
// stops listening and joins every thread; call it from any thread but a worker.
#pragma once

#include "common/endpoint.hpp"
#include "common/result.hpp"
#include "storage/store.hpp"
#include "web/live.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace bitscrape::web {

struct ServerOptions {
  Endpoint bind = Endpoint{IpAddress::v4(0x7F000001u), 8080};  // port 0: any free port
  std::string token;                                           // required for a non-loopback bind
  std::size_t threads = 12;                                    // worker threads (each event stream holds one)
  std::size_t max_event_streams = 4;  // concurrent /api/events connections; more get 503
  std::size_t max_exports = 2;        // concurrent /api/export downloads; more get 503
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{30};
  std::chrono::seconds keep_alive_timeout{3};
  std::size_t keep_alive_max_requests = 100;
  std::size_t max_body_bytes = 16u << 10;          // POST bodies; larger get 413
  std::chrono::milliseconds event_interval{1000};  // status events on /api/events
  std::size_t max_tree_files = 10'000;             // files listed in a torrent's detail
  // Text searches are ordered (and counted) over at most this many of the newest matches
  // (storage::SearchQuery::window); the reply says when a search hit it (`window_limited`).
  std::size_t search_window = 5'000;
  std::string version;                             // reported by /api/status
};

// Checks `options` without starting anything: the token rule above, non-zero bounds.
Result<void, std::string> validate(const ServerOptions& options);

class Server {
 public:
  // Binds and starts serving; an error (address in use, token missing, ...) as a sentence.
  static Result<std::unique_ptr<Server>, std::string> start(storage::Store& store, LiveSource* live,
                                                            const ServerOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const noexcept;
  // "http://127.0.0.1:8080/" ("http://[::1]:8080/" for IPv6).
  std::string url() const;
  // Idempotent.
  void stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bitscrape::web
