#include "dht/sampler.hpp"

#include <algorithm>

namespace bitscrape::dht {

namespace {
std::uint64_t reverse_bits(std::uint64_t v) noexcept {
  std::uint64_t r = 0;
  for (int i = 0; i < 64; ++i) {
    r = (r << 1) | (v & 1);
    v >>= 1;
  }
  return r;
}
}  // namespace

KeyspaceWalk::KeyspaceWalk(std::vector<KeyPrefix> prefixes) : prefixes_(std::move(prefixes)) {
  if (prefixes_.empty()) prefixes_.push_back(KeyPrefix{});
  for (auto& p : prefixes_) p.bits = std::clamp(p.bits, 0, 64);
}

Id160 KeyspaceWalk::target(const KeyPrefix& p, std::uint64_t i, Rng& rng) {
  Id160 t = rng.id();
  const int bits = std::clamp(p.bits, 0, 64);
  for (int b = 0; b < bits; ++b) t.set_bit(b, p.prefix.bit(b));
  const std::uint64_t r = reverse_bits(i);
  for (int b = 0; b < 64; ++b) t.set_bit(bits + b, ((r >> (63 - b)) & 1) != 0);
  return t;
}

Id160 KeyspaceWalk::next(Rng& rng) {
  const auto n = prefixes_.size();
  const auto& p = prefixes_[step_ % n];
  const auto i = step_ / n;
  ++step_;
  return target(p, i, rng);
}

bool SampleSchedule::may_sample(const Endpoint& ep, TimePoint now) const {
  const auto it = until_.find(ep);
  return it == until_.end() || now >= it->second;
}

bool SampleSchedule::record(const Endpoint& ep, TimePoint until, TimePoint now) {
  purge(now);
  bool evicted = false;
  if (until_.count(ep) == 0 && max_ > 0) {
    while (until_.size() >= max_ && !by_time_.empty()) {
      const Entry e = by_time_.top();
      by_time_.pop();
      const auto it = until_.find(e.ep);
      if (it != until_.end() && it->second == e.until) {
        until_.erase(it);
        evicted = true;
      }
    }
  }
  if (max_ == 0) return false;
  until_[ep] = until;
  by_time_.push(Entry{until, ep});
  // Lazily-deleted heap entries could pile up for a node re-recorded many times; rebuild
  // the heap when it gets much larger than the map.
  if (by_time_.size() > 2 * until_.size() + 64) {
    std::vector<Entry> live;
    live.reserve(until_.size());
    for (const auto& [e, t] : until_) live.push_back(Entry{t, e});
    by_time_ = decltype(by_time_)(std::greater<>{}, std::move(live));
  }
  return evicted;
}

void SampleSchedule::purge(TimePoint now) {
  while (!by_time_.empty() && by_time_.top().until <= now) {
    const Entry e = by_time_.top();
    by_time_.pop();
    const auto it = until_.find(e.ep);
    if (it != until_.end() && it->second == e.until) until_.erase(it);
  }
}

TimePoint SampleSchedule::next_expiry(TimePoint now) {
  purge(now);
  while (!by_time_.empty()) {
    const Entry& e = by_time_.top();
    const auto it = until_.find(e.ep);
    if (it != until_.end() && it->second == e.until) return e.until;
    by_time_.pop();  // superseded by a later record of the same node
  }
  return kNever;
}

}  // namespace bitscrape::dht
