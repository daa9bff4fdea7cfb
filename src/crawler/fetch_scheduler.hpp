// FetchScheduler: decides which (infohash, peer) metadata fetch to start next. Sans-I/O.
//
// Holds a bounded priority queue of infohashes with their candidate peers. For each infohash it
// tries up to max_attempts peers (at most parallel_per_infohash at once), never the same peer
// twice, never a peer remembered as a liar, and stops at the first verified result. The caller
// (an adapter owning a net::MetadataPool) asks next() for work while its pool has room and
// reports every connection's result to on_result(), which returns the infohash's final outcome
// once it is decided: success, or failure with the reason from every peer tried. An infohash
// left with nobody to ask and nothing in flight (its candidates all tried or known liars) is
// decided too, as a failure with the attempts it made (none when only liars were offered);
// take_decided() hands those over, so no infohash ever waits for an outcome that cannot come.
//
// Priority: higher first; ties go to the infohash queued first. Adding candidates to a queued
// infohash merges them (up to max_candidates) and raises its priority if the new one is higher.
//
// Threading: single-threaded (the event loop).
#pragma once

#include "common/telemetry.hpp"
#include "common/endpoint.hpp"
#include "common/id160.hpp"
#include "peerwire/fetcher.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace bitscrape::crawler {

struct FetchSchedulerConfig {
  std::size_t max_attempts = 5;             // peers tried per infohash before giving up
  std::size_t parallel_per_infohash = 2;    // connections for one infohash at once
  std::size_t max_candidates = 20;          // peers remembered per infohash
  std::size_t max_queued = 100000;          // infohashes waiting or in flight
  std::size_t max_bad_peers = 65536;        // liars remembered (oldest forgotten first)
  std::size_t scan_limit = 256;             // queue entries next() inspects per call
};

struct FetchAttempt {
  Endpoint peer;
  bool ok = false;
  peerwire::FailReason reason = peerwire::FailReason::ConnectFailed;  // when !ok
  std::string detail;
  bool liar = false;
};

struct FetchOutcome {
  InfoHash infohash;
  std::optional<peerwire::FetchSuccess> success;  // set when a peer delivered verified metadata
  std::vector<FetchAttempt> attempts;             // every peer tried, in order of completion
};

#define BITSCRAPE_FETCH_SCHEDULER_COUNTERS(X)                                                     \
  X(queued, counter)                                                                           \
  X(dropped_queue_full, counter)                                                               \
  X(skipped_bad_peer, counter)                                                                 \
  X(succeeded, counter)                                                                        \
  X(exhausted, counter) /* every candidate tried (or max_attempts reached) without success */  \
  X(liars, counter)

struct FetchSchedulerCounters {
  BITSCRAPE_FETCH_SCHEDULER_COUNTERS(BITSCRAPE_COUNTER_FIELD)
  template <class F>
  void for_each(F&& f) const {
    BITSCRAPE_FETCH_SCHEDULER_COUNTERS(BITSCRAPE_COUNTER_VISIT)
  }
};

class FetchScheduler {
 public:
  struct Job {
    InfoHash infohash;
    Endpoint peer;
  };

  explicit FetchScheduler(FetchSchedulerConfig config = {}) : config_(config) {}

  // Queues `ih` (or merges into its entry) with candidate `peers`, known liars left out. False
  // when the queue is full. A new infohash offered only liars is decided at once (take_decided()).
  bool add(const InfoHash& ih, std::span<const Endpoint> peers, int priority = 0);
  // The next fetch to start: the best-priority infohash with an untried, non-liar candidate for
  // which can_start(peer) holds (the pool's caps). nullopt when nothing can start now.
  std::optional<Job> next(const std::function<bool(const Endpoint&)>& can_start);
  // A fetch started by next() ended. Returns the outcome when `ih` is decided.
  std::optional<FetchOutcome> on_result(const InfoHash& ih, const Endpoint& peer, peerwire::FetchResult result);
  // Failures decided by add() or next() (nobody left to ask), oldest first; the caller reports
  // them as it reports on_result()'s outcomes.
  std::vector<FetchOutcome> take_decided() { return std::exchange(decided_, {}); }

  bool contains(const InfoHash& ih) const { return entries_.count(ih) != 0; }
  bool is_bad_peer(const Endpoint& peer) const { return bad_.count(peer) != 0; }
  std::size_t size() const noexcept { return entries_.size(); }
  std::size_t in_flight() const noexcept { return in_flight_; }
  const FetchSchedulerCounters& counters() const noexcept { return counters_; }

 private:
  struct Entry {
    int priority = 0;
    std::uint64_t seq = 0;
    std::vector<Endpoint> candidates;  // untried
    std::vector<Endpoint> tried;       // started (in flight or done)
    std::size_t in_flight = 0;
    std::vector<FetchAttempt> attempts;
  };
  using Key = std::pair<int, std::uint64_t>;  // (-priority, seq): ordered best first
  struct KeyLess {
    bool operator()(const std::pair<Key, InfoHash>& a, const std::pair<Key, InfoHash>& b) const {
      return a.first < b.first;
    }
  };

  bool exhausted(const Entry& e) const {
    return e.in_flight == 0 && (e.candidates.empty() || e.tried.size() >= config_.max_attempts);
  }
  // Drops known liars from e's candidates (counted).
  void drop_liars(Entry& e);
  // Removes a decided entry and returns its outcome.
  FetchOutcome decide(std::unordered_map<InfoHash, Entry, Id160Hash>::iterator it,
                      std::optional<peerwire::FetchSuccess> success);
  bool runnable(const Entry& e) const {
    return !e.candidates.empty() && e.in_flight < config_.parallel_per_infohash &&
           e.tried.size() < config_.max_attempts;
  }
  void update_ready(const InfoHash& ih, Entry& e);
  void remember_liar(const Endpoint& peer);

  FetchSchedulerConfig config_;
  std::unordered_map<InfoHash, Entry, Id160Hash> entries_;
  std::set<std::pair<Key, InfoHash>, KeyLess> ready_;  // entries that can start another fetch
  std::unordered_set<Endpoint, EndpointHash> bad_;
  std::vector<Endpoint> bad_order_;  // ring of liars, oldest overwritten first
  std::size_t bad_next_ = 0;
  std::vector<FetchOutcome> decided_;  // see take_decided()
  std::uint64_t seq_ = 0;
  std::size_t in_flight_ = 0;
  FetchSchedulerCounters counters_;
};

}  // namespace bitscrape::crawler
