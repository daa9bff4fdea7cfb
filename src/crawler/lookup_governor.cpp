#include "crawler/lookup_governor.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace bitscrape::crawler {

namespace {
double seconds(dht::Duration d) noexcept {
  return std::chrono::duration<double>(d).count();
}
}  // namespace

LookupGovernor::LookupGovernor(LookupGovernorConfig config)
    : cfg_(config),
      limit_(
          static_cast<double>(std::clamp(config.initial_lookups, std::max<std::size_t>(config.min_lookups, 1),
                                         std::max<std::size_t>(config.max_lookups, 1)))) {
  cfg_.min_lookups = std::max<std::size_t>(cfg_.min_lookups, 1);
  cfg_.max_lookups = std::max(cfg_.max_lookups, cfg_.min_lookups);
}

bool LookupGovernor::tick(dht::TimePoint now, std::size_t active) noexcept {
  if (!have_baseline_) return true;
  if (now > last_tick_) {
    // Lookups running between two ticks: from what ran after the last one to what runs now.
    active_area_ += 0.5 * static_cast<double>(last_active_ + active) * seconds(now - last_tick_);
    last_tick_ = now;
  }
  last_active_ = active;
  return now - window_start_ >= cfg_.interval;
}

void LookupGovernor::control(dht::TimePoint now, const BudgetSample& s) noexcept {
  have_budget_ = s.budget_pps > 0;
  const BudgetSample start = window_sample_;
  const double window = seconds(now - window_start_);
  const bool first = !have_baseline_;
  have_baseline_ = true;
  window_start_ = now;
  last_tick_ = now;
  window_sample_ = s;
  const double area = active_area_;
  const std::uint64_t queries = queries_done_;
  const bool bound = bound_;
  active_area_ = 0;
  queries_done_ = 0;
  bound_ = false;
  if (first || window <= 0 || !have_budget_) return;

  used_pps_ = s.packets_out >= start.packets_out
                  ? static_cast<double>(s.packets_out - start.packets_out) / window
                  : 0;
  if (s.budget_waits > start.budget_waits) ++waited_intervals_;
  // Queries of ended lookups over lookup-seconds run, both decayed alike: a ratio of sums, so an
  // interval in which no lookup ended counts (as lookup-seconds spent) instead of being skipped.
  query_sum_ = cfg_.memory * query_sum_ + static_cast<double>(queries);
  area_sum_ = cfg_.memory * area_sum_ + area;
  if (query_sum_ > 0 && area_sum_ > 0) cost_pps_ = query_sum_ / area_sum_;
  const double target = cfg_.target_utilisation * s.budget_pps;
  const double lo = static_cast<double>(cfg_.min_lookups);
  const double hi = static_cast<double>(cfg_.max_lookups);
  // Saturated is the average over the interval, not a wait: the node counts a wait per attempt
  // and bursts the token bucket absorbs (a batch of lookups starting, a sampler step) make
  // thousands of them at 40% of the budget (a 1,000-node testnet crawl: 114,000 in 20 s at
  // 400-800 packets/s), which cut the limit to the floor while most of the budget went unused.
  if (used_pps_ > target) {
    // Cut from what ran, not from the limit: long lookups keep running for many intervals after
    // the cut, and cutting the limit again each interval would collapse it to the floor.
    const double over = used_pps_ > 0 ? target / used_pps_ : 1;
    limit_ = std::max(lo, std::min(limit_, area / window) * std::min(cfg_.decrease, over));
    ++decreases_;
    return;
  }
  if (!bound) return;  // the limit did not hold anything back: no evidence more would help
  double step = cost_pps_ > 0 ? cfg_.gain * (target - used_pps_) / cost_pps_ : limit_;
  step = std::clamp(step, 1.0, std::max(1.0, limit_));
  const double before = limit_;
  limit_ = std::min(hi, limit_ + step);
  if (limit_ > before) ++increases_;
}

void LookupGovernor::started(std::size_t active, bool bound) noexcept {
  last_active_ = active;
  bound_ = bound_ || bound;
}

void LookupGovernor::lookup_done(std::size_t queries) noexcept {
  queries_done_ += queries;
}

std::size_t LookupGovernor::limit(std::size_t fetch_room) const noexcept {
  const std::size_t l = have_budget_ ? std::clamp(static_cast<std::size_t>(std::floor(limit_)),
                                                  cfg_.min_lookups, cfg_.max_lookups)
                                     : cfg_.max_lookups;
  return std::min(l, fetch_room);
}

}  // namespace bitscrape::crawler
