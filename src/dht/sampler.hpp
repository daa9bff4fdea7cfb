// BEP-51 sampler building blocks: where to walk (KeyspaceWalk) and whom we may ask again
// (SampleSchedule). The Node drives them: each walk is a lookup toward a target that asks
// sample_infohashes of every node it visits whose interval has passed (find_node otherwise).
//
// KeyspaceWalk: target i of prefix P is P's bits, then the 64-bit bit-reversal of i (the van
// der Corput sequence), then random bits. The first 2^d targets hit each of the 2^d
// sub-ranges of P exactly once, in an order that jumps across the keyspace rather than
// sweeping it: consecutive walks land far apart, so no region of the DHT sees a burst of
// crawler traffic, and coverage is even at every point of the walk. Several prefixes are
// served round-robin.
//
// SampleSchedule: per-node "not before" times from each reply's `interval` (BEP-51), so a
// node is never asked for samples again before it said it would have new ones. Bounded: when
// full, the entry that expires soonest is forgotten first (counted by the Node); expired
// entries are purged as time passes.
//
// Threading: not thread-safe; owned by the Node.
#pragma once

#include "common/endpoint.hpp"
#include "common/id160.hpp"
#include "dht/config.hpp"
#include "dht/random.hpp"
#include "dht/time.hpp"

#include <cstddef>
#include <cstdint>
#include <queue>
#include <unordered_map>
#include <vector>

namespace bitscrape::dht {

class KeyspaceWalk {
 public:
  // Empty `prefixes` = the whole keyspace. Prefix lengths are clamped to 0..64.
  explicit KeyspaceWalk(std::vector<KeyPrefix> prefixes);

  Id160 next(Rng& rng);
  std::uint64_t steps() const noexcept { return step_; }
  // The prefixes walked (clamped; the whole keyspace is one prefix of 0 bits).
  const std::vector<KeyPrefix>& prefixes() const noexcept { return prefixes_; }

  // Target number i inside prefix p (see the header comment).
  static Id160 target(const KeyPrefix& p, std::uint64_t i, Rng& rng);

 private:
  std::vector<KeyPrefix> prefixes_;
  std::uint64_t step_ = 0;
};

class SampleSchedule {
 public:
  explicit SampleSchedule(std::size_t max_nodes) : max_(max_nodes) {}

  bool may_sample(const Endpoint& ep, TimePoint now) const;
  // Not before `until`. Returns true when a still-active entry had to be forgotten for room.
  bool record(const Endpoint& ep, TimePoint until, TimePoint now);
  // Forgets entries that have expired.
  void purge(TimePoint now);
  // When the earliest remembered node may be sampled again (kNever when none is remembered).
  TimePoint next_expiry(TimePoint now);
  std::size_t size() const noexcept { return until_.size(); }

 private:
  struct Entry {
    TimePoint until;
    Endpoint ep;
    bool operator>(const Entry& o) const noexcept { return until > o.until; }
  };
  std::size_t max_;
  std::unordered_map<Endpoint, TimePoint, EndpointHash> until_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> by_time_;
};

}  // namespace bitscrape::dht
