// LookupGovernor: how many get_peers lookups the pipeline keeps going. Sans-I/O, deterministic.
//
// A fixed number is wrong everywhere but one network: on loopback a lookup asked of the key's
// holder costs one packet and a millisecond, on the Internet a full lookup costs ~15 packets and
// several seconds, so 48 lookups are far too many for a 50 packets/s budget and leave most of a
// 1,000 packets/s budget unused. The governor follows the budget instead: it measures what the
// node sends and what a running lookup costs, and sizes the number of lookups to the headroom.
//
// Every `interval` it looks back over the interval (the pipeline calls tick() on each of its
// ticks, and control() with the node's counters when tick() says a step is due):
//   used    node packets sent per second (every kind: lookups, sampler, replies, table upkeep)
//   cost    packets per second one running lookup spends: the queries of the lookups that ended
//           over the lookup-seconds run (Little's law), both sums decayed by `memory` an interval
// and moves its limit L:
//   saturated (used > target_utilisation x budget; waits for the token bucket alone are not:
//           they come in bursts the bucket absorbs):
//           L <- min(L, mean running) x min(decrease, target / used)  (at least min_lookups)
//   L was the bound (a tick had more keys queued than L let start) and the budget has headroom:
//           L <- L + clamp(gain x headroom / cost, 1, L)  (the headroom in lookups, at most
//           doubling an interval; before any lookup ended there is no cost: L doubles)
//   otherwise L stays (an idle crawler does not inflate its limit, then flood at the next burst)
// limit() is min(L, max_lookups, fetch room): the fetcher's room is its capacity (free
// connections) less what it already holds, so no lookup starts whose peers it could not take.
//
// Without a budget figure (budget_pps == 0, e.g. a test environment) the limit is max_lookups.
//
// Threading: single-threaded (the pipeline's).
#pragma once

#include "dht/time.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>

namespace bitscrape::crawler {

using namespace std::chrono_literals;

struct LookupGovernorConfig {
  std::size_t max_lookups = 512;  // safety bound, whatever the budget says
  std::size_t min_lookups = 2;    // never fewer, even when saturated
  std::size_t initial_lookups = 8;
  double target_utilisation = 0.9;  // of the packet budget: headroom for replies and bursts
  double decrease = 0.85;           // multiplicative decrease when saturated (at least)
  double gain = 0.5;                // share of the measured headroom filled per interval
  double memory = 0.9;              // weight of the past in the cost measure, per interval
  dht::Duration interval = 500ms;   // control period
};

// The node's side, read from dht::Node::counters() and its budget.
struct BudgetSample {
  double budget_pps = 0;           // the outgoing packet budget; 0 = unknown
  std::uint64_t packets_out = 0;   // monotonic
  std::uint64_t budget_waits = 0;  // monotonic: queries held back for an empty budget
};

class LookupGovernor {
 public:
  explicit LookupGovernor(LookupGovernorConfig config);

  // At each pipeline tick, before lookups are started: `active` lookups are running now. True
  // when a control step is due: then call control() with the node's figures.
  bool tick(dht::TimePoint now, std::size_t active) noexcept;
  void control(dht::TimePoint now, const BudgetSample& s) noexcept;
  // After the tick started lookups: `active` now run; `bound` when keys were left queued
  // because of the limit (not because of the fetcher or the node).
  void started(std::size_t active, bool bound) noexcept;
  // A lookup ended after `queries` queries (dht::LookupResult::queried).
  void lookup_done(std::size_t queries) noexcept;

  // Lookups that may run at once now, given the fetcher's room (see the header comment).
  std::size_t limit(std::size_t fetch_room = std::numeric_limits<std::size_t>::max()) const noexcept;

  // For telemetry and tests.
  double target() const noexcept { return limit_; }       // L
  double used_pps() const noexcept { return used_pps_; }  // last interval
  double cost_pps() const noexcept { return cost_pps_; }  // smoothed; 0 until measured
  std::uint64_t decreases() const noexcept { return decreases_; }
  std::uint64_t increases() const noexcept { return increases_; }
  std::uint64_t waited_intervals() const noexcept { return waited_intervals_; }  // queries waited

 private:
  LookupGovernorConfig cfg_;
  double limit_;
  bool have_budget_ = false;
  bool have_baseline_ = false;  // control() ran once: the window's starting figures are known
  dht::TimePoint window_start_{};
  dht::TimePoint last_tick_{};
  BudgetSample window_sample_{};
  double active_area_ = 0;          // lookup-seconds over the window
  std::size_t last_active_ = 0;     // running after the previous tick
  std::uint64_t queries_done_ = 0;  // queries of lookups that ended in the window
  double query_sum_ = 0;            // decayed sums behind cost_pps_
  double area_sum_ = 0;
  bool bound_ = false;
  double used_pps_ = 0;
  double cost_pps_ = 0;
  std::uint64_t decreases_ = 0;
  std::uint64_t increases_ = 0;
  std::uint64_t waited_intervals_ = 0;
};

}  // namespace bitscrape::crawler
