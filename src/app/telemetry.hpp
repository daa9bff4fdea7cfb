// Telemetry: the crawl's live figures, gathered from every component once a second.
//
// Components list their counters themselves (for_each, common/telemetry.hpp); the crawler only
// registers them here with a prefix. update() builds one telemetry::Snapshot from them — the
// headline totals are read from named counters, the rates computed once (an exponential moving
// average over ~5 s) — and every consumer renders from it: the web UI and /metrics (through
// web::LiveSource), `--stats-json`, the stored counter series and the status line.
//
// Threading: update(), status_line(), counter_sample() and stats_json() on the crawl's loop
// thread; latest() from any thread (it copies under a mutex).
#pragma once

#include "common/telemetry.hpp"
#include "storage/records.hpp"

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace bitscrape::app {

class Telemetry {
 public:
  using Clock = std::chrono::steady_clock;
  using Gather = std::function<void(telemetry::Collector&)>;
  // Fills the parts of a snapshot that are not counters: queues and the controls' state.
  using Decorate = std::function<void(telemetry::Snapshot&)>;

  explicit Telemetry(Clock::time_point started) : started_(started) {}

  // Sources run in registration order; their metrics appear in that order.
  void add_source(Gather g) { sources_.push_back(std::move(g)); }
  void set_decorate(Decorate d) { decorate_ = std::move(d); }

  // Takes a new snapshot; `now` steady, `wall` for its timestamp. Returns it.
  const telemetry::Snapshot& update(Clock::time_point now, std::chrono::sys_seconds wall);
  const telemetry::Snapshot& current() const noexcept { return cur_; }
  // A copy of the last snapshot, from any thread.
  telemetry::Snapshot latest() const;

  // The one-line status. `smoothed`: the live rates (a terminal's status line); otherwise the
  // average since the previous call (log lines).
  std::string status_line(bool smoothed);
  // The series the dashboard's history chart reads, as stored in the database.
  storage::CounterSample counter_sample() const;
  // Every counter as one JSON object (for --stats-json).
  std::string stats_json() const;

 private:
  Clock::time_point started_;
  std::vector<Gather> sources_;
  Decorate decorate_;
  telemetry::Snapshot cur_, prev_, last_status_;
  mutable std::mutex mu_;
  telemetry::Snapshot published_;
};

}  // namespace bitscrape::app
