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
#include "crawler/pipeline.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace bitscrape::app {

struct CrawlOptions {
  std::string peers_csv;       // also stream `infohash,peer_ip,peer_port` rows here
  bool status_line = false;    // a live status line (for a terminal) instead of periodic logs
  std::string stats_json;      // at exit, write every counter here as a JSON object
};

// A consistent copy of the live figures, safe to read from any thread.
struct CrawlSnapshot {
  double uptime_s = 0;
  std::uint64_t nodes_v4 = 0, nodes_v6 = 0;
  std::uint64_t samples = 0;             // BEP-51 samples received
  std::uint64_t infohashes = 0;          // new infohashes this run
  std::uint64_t torrents = 0;            // metadata fetched and stored this run
  std::uint64_t fetch_failures = 0;
  std::uint64_t lookup_queue = 0, lookups_active = 0, fetch_queue = 0, connections = 0;
  std::uint64_t packets_in = 0, packets_out = 0;
  double samples_per_s = 0, infohashes_per_s = 0, torrents_per_s = 0, packets_in_per_s = 0,
         packets_out_per_s = 0;
  bool sampling = true, fetching = true;
  double packet_budget = 0;
  std::map<std::string, std::uint64_t> counters;  // every counter of node, pipeline, fetcher, writer
};

// The pipeline's bounds derived from the configuration (memory budget split, limits).
crawler::PipelineConfig pipeline_config(const CrawlConfig& cfg);

class Crawler {
 public:
  Crawler(CrawlConfig config, CrawlOptions options);
  ~Crawler();
  Crawler(const Crawler&) = delete;
  Crawler& operator=(const Crawler&) = delete;

  // Runs until SIGINT/SIGTERM, the configured duration, or a fatal start-up error. Returns the
  // process exit code (0 after a clean stop).
  int run();

  // Thread-safe: the latest snapshot (refreshed every second by the loop).
  CrawlSnapshot snapshot() const;
  // Thread-safe controls; applied on the loop thread.
  void set_sampling(bool on);
  void set_fetching(bool on);
  void set_packet_budget(double packets_per_second);
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bitscrape::app
