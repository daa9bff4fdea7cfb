// The `bitscrape crawl` runtime: wires configuration, sockets, the DHT node, the pipeline, the
// metadata fetch engine and storage together, and runs them until stopped.
//
// Threads: ONE event-loop thread (asio::io_context) owns the UDP sockets, the dht::Node, the
// Pipeline, the FetchService and every timer; the StoreWriter commits on its own thread; the
// web server (when enabled) serves from its own threads through a read-only store and a
// thread-safe snapshot of the live counters. Nothing else shares state.
//
// Start-up failures (port in use, database locked or unreadable, nothing to bootstrap from)
// end the run with a message that says how to fix them; run() returns the exit code.
#pragma once

#include "app/config.hpp"
#include "app/env.hpp"
#include "common/telemetry.hpp"
#include "crawler/pipeline.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace bitscrape::app {

struct CrawlOptions {
  std::string peers_csv;     // also stream `infohash,peer_ip,peer_port` rows here
  bool status_line = false;  // a live status line (for a terminal) instead of periodic logs
  std::string stats_json;    // at exit, write every counter here as a JSON object
};

// The pipeline's bounds derived from the configuration (memory budget split, limits).
crawler::PipelineConfig pipeline_config(const CrawlConfig& cfg);

class Crawler {
 public:
  // `env`: clocks, seed and the database lock (Env::system() but in tests).
  Crawler(CrawlConfig config, CrawlOptions options, Env& env = Env::system());
  ~Crawler();
  Crawler(const Crawler&) = delete;
  Crawler& operator=(const Crawler&) = delete;

  // Runs until SIGINT/SIGTERM, the configured duration, or a fatal start-up error. Returns the
  // process exit code (0 after a clean stop).
  int run();

  // Thread-safe: the latest snapshot (refreshed every second by the loop). The controls
  // (pause, packet budget) are web::LiveSource's, the one path the UI and API use.
  telemetry::Snapshot snapshot() const;
  // Thread-safe: stops the run as SIGTERM does.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bitscrape::app
