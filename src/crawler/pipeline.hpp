// Pipeline: the crawler's decisions, sans-I/O. It turns what the DHT node learns into metadata
// fetches and records to store:
//
//   infohash seen (BEP-51 sample, get_peers / announce_peer query we received)
//     -> first time this run? record a sighting; already fetched (memory or database)? stop
//     -> lookup queue (priority: announced > asked for > sampled, raised by repeat sightings)
//     -> get_peers through the node: a sampled key is asked of the node whose sample showed it
//        (it stores the key's peers), a full lookup only when that node gives none; peers
//        collected (bounded). How many run at once follows the packet budget and what lookups
//        cost, and the fetcher's free room (LookupGovernor), under a safety bound
//     -> fetch queue (FetchService; priority grows with the peer count)
//     -> verified metadata parsed -> TorrentRecord (+ files) stored; a hybrid once, both keys
//        marked fetched; failures recorded as attempts (the database decides retries).
//
// Resume: the runtime feeds refill() with Pending keys from the database (never-attempted or
// backed-off ones) whenever the lookup queue runs low.
//
// Every in-memory set is bounded (PipelineConfig); what does not fit stays Pending in the
// database and comes back through refill(). The pipeline is a dht::Observer but never calls the
// node from a callback: lookups start in tick().
//
// Threading: single-threaded (the event loop). Time: dht::TimePoint for scheduling, the
// environment's wall clock for records.
#pragma once

#include "common/telemetry.hpp"
#include "common/endpoint.hpp"
#include "common/id160.hpp"
#include "crawler/fetch_scheduler.hpp"
#include "crawler/known_set.hpp"
#include "crawler/lookup_governor.hpp"
#include "dht/node.hpp"
#include "storage/records.hpp"
#include "storage/store_writer.hpp"

#include <cstdint>
#include <limits>
#include <set>
#include <span>
#include <unordered_map>
#include <vector>

namespace bitscrape::crawler {

// What the pipeline drives. The runtime implements it over the dht::Node, the FetchService and
// the StoreWriter; tests implement it with fakes.
class PipelineEnv {
 public:
  virtual ~PipelineEnv() = default;
  // Starts a get_peers lookup, asking `holders` (nodes known to store the key) first;
  // dht::kNoLookup when the node refuses (too many lookups).
  virtual dht::LookupId start_get_peers(const InfoHash& ih, dht::TimePoint now,
                                        std::span<const krpc::CompactNode> holders) = 0;
  // Queues a metadata fetch; false when the fetch queue is full.
  virtual bool fetch(const InfoHash& ih, std::span<const Endpoint> peers, int priority) = 0;
  // Infohashes queued or in flight in the fetch engine.
  virtual std::size_t fetch_backlog() const = 0;
  // Infohashes the fetch engine can work on at once (its connections); lookups stop while
  // lookups running + fetch_backlog() reach it. Unbounded by default.
  virtual std::size_t fetch_capacity() const { return std::numeric_limits<std::size_t>::max(); }
  // The node's outgoing budget and packet counters, for the LookupGovernor. The default (no
  // budget known) leaves the number of lookups at PipelineConfig::max_lookups.
  virtual BudgetSample budget() const { return {}; }
  // For each key: may this crawler work on it? False when its torrent is stored already, or
  // when another crawler sharing the database holds it (storage::Store::claim); true leases
  // the key to us for PipelineConfig::lease. Claiming a key again renews its lease.
  virtual std::vector<bool> claim(std::span<const InfoHash> keys) = 0;
  virtual void record(storage::StoreWriter::Record r) = 0;
  // A key seen for the first time this run (for live displays); optional.
  virtual void discovered(const InfoHash& /*ih*/) {}
  virtual storage::UnixTime wall_now() const = 0;
};

struct PipelineConfig {
  std::size_t max_lookups = 512;           // safety bound on concurrent get_peers lookups
  LookupGovernorConfig governor;           // how many run (its max_lookups is the one above)
  std::size_t max_lookup_queue = 200'000;  // infohashes waiting for a lookup
  std::size_t max_fetch_backlog = 20'000;  // don't start lookups while this many wait to fetch
  std::size_t peers_per_infohash = 20;
  std::size_t known_capacity = 1u << 22;   // KnownSet entries (from the memory budget)
  std::size_t max_fetch_rounds = 3;        // failed rounds before an infohash is given up
  std::size_t refill_below = 1000;         // ask for database refills under this queue depth
  std::size_t db_check_batch = 256;        // keys checked against the database per tick
  // How long a claim holds a key (the runtime leases for this long). A key is claimed again
  // before a lookup or while in flight once half of it has passed, so a crawler never works on
  // a key whose lease may have passed to another.
  std::chrono::seconds lease{600};
  bool allow_private_addresses = false;    // accept martian peer addresses (testnets)
  bool sampling = true;                    // pause/resume switches (web UI controls)
  bool fetching = true;
};

#define BITSCRAPE_PIPELINE_COUNTERS(X)                                                           \
  X(infohash_events, counter)    /* every sighting the node reported */                         \
  X(infohashes_new, counter)     /* first sighting this run */                                  \
  X(known_duplicates, counter)   /* sightings of keys already known this run */                 \
  X(claims_refused, counter)     /* new this run but stored already, or another crawler's */    \
  X(leases_renewed, counter)     /* keys claimed again before their lease ran out */            \
  X(leases_lost, counter)        /* renewals refused: another crawler took the key over */      \
  X(lookup_queue_drops, counter) /* queue full: left Pending in the database */                 \
  X(lookups_started, counter)                                                                   \
  X(lookups_refused, counter)    /* the node had no room; retried later */                      \
  X(lookup_limit, gauge)         /* lookups that may run at once (LookupGovernor) */            \
  X(lookup_limit_cuts, counter)  /* the budget was saturated: fewer lookups */                  \
  X(lookup_limit_rises, counter) /* headroom while the limit held keys back: more */            \
  X(lookups_no_peers, counter)                                                                  \
  X(peers_found, counter)                                                                       \
  X(fetches_queued, counter)                                                                    \
  X(fetch_queue_drops, counter)                                                                 \
  X(torrents_fetched, counter)   /* verified metadata stored */                                 \
  X(duplicate_fetches, counter)  /* both keys of a hybrid fetched at once: stored once */       \
  X(fetch_failures, counter)     /* an infohash's round ended without metadata */               \
  X(invalid_metadata, counter)   /* matched the key but not a valid info dict */                \
  X(refilled, counter)           /* keys resumed from the database */                           \
  X(known_set_full, counter)

struct PipelineCounters {
  BITSCRAPE_PIPELINE_COUNTERS(BITSCRAPE_COUNTER_FIELD)
  template <class F>
  void for_each(F&& f) const {
    BITSCRAPE_PIPELINE_COUNTERS(BITSCRAPE_COUNTER_VISIT)
  }
};

class Pipeline : public dht::Observer {
 public:
  Pipeline(PipelineEnv& env, PipelineConfig config);

  // dht::Observer
  void on_infohash_seen(const InfoHash& ih, dht::InfohashSource src, const Endpoint& from) override;
  void on_sample(const dht::SampleEvent& ev) override;
  void on_peers_found(dht::LookupId id, const InfoHash& ih, std::span<const Endpoint> peers) override;
  void on_lookup_done(const dht::LookupResult& r) override;

  // A fetch the pipeline queued has an outcome.
  void on_fetch_outcome(crawler::FetchOutcome outcome);
  // Pending keys from the database (resume / refill), with their recorded attempts.
  void refill(std::span<const storage::InfohashRecord> pending);
  // Wants refill() when the lookup queue is low (the runtime asks the database).
  bool wants_refill() const noexcept;

  // Starts lookups and database checks; returns when it next wants to run.
  dht::TimePoint tick(dht::TimePoint now);

  void set_sampling(bool on) noexcept { config_.sampling = on; }
  void set_fetching(bool on) noexcept { config_.fetching = on; }
  bool sampling() const noexcept { return config_.sampling; }
  bool fetching() const noexcept { return config_.fetching; }

  const PipelineCounters& counters() const noexcept { return counters_; }
  std::size_t lookup_queue() const noexcept { return queue_.size(); }
  std::size_t lookups_active() const noexcept { return active_.size(); }
  // How many lookups may run at once now (the governor's limit, bounded by the fetcher's room).
  std::size_t lookup_limit() const noexcept { return counters_.lookup_limit; }
  const LookupGovernor& governor() const noexcept { return governor_; }
  std::size_t unchecked() const noexcept { return unchecked_.size(); }
  const KnownSet& known() const noexcept { return known_; }

 private:
  struct Entry {
    int priority = 0;
    std::uint64_t seq = 0;
    std::uint8_t sources = 0;  // storage::Source bits seen this run
    std::uint32_t rounds = 0;  // fetch rounds already failed (from the database or this run)
    storage::UnixTime first_seen{};
    std::vector<Endpoint> peers;  // announcers, then lookup results
    dht::LookupId lookup = dht::kNoLookup;
    bool fetching = false;
    bool looked_up = false;  // a get_peers lookup ran (announced keys may skip it at first)
    std::optional<krpc::CompactNode> holder;  // the node whose BEP-51 sample showed the key
    storage::UnixTime claimed{};              // when our lease on it was last granted
  };
  using QueueKey = std::pair<std::pair<int, std::uint64_t>, InfoHash>;  // ((-priority, seq), ih)

  void seen(const InfoHash& ih, storage::Source src, std::optional<Endpoint> peer);
  void enqueue(const InfoHash& ih, Entry& e);
  void bump(const InfoHash& ih, Entry& e, int priority);
  bool add_peer(Entry& e, const Endpoint& p);  // false when refused (martian, bound, duplicate)
  void add_announced_peer(const InfoHash& ih, Entry& e, const Endpoint& p);
  void start_fetch(const InfoHash& ih, Entry& e);
  void forget(const InfoHash& ih);
  bool lease_due(const Entry& e, storage::UnixTime now) const noexcept;
  // Claims `keys` again; forgets those refused (counted lost). Returns how many were kept.
  std::size_t renew(std::vector<InfoHash> keys);
  void renew_in_flight(storage::UnixTime now);
  void renew_queue_head(storage::UnixTime now, std::size_t limit);  // `limit`: lookups allowed
  static int source_priority(storage::Source s) noexcept;

  PipelineEnv& env_;
  PipelineConfig config_;
  KnownSet known_;
  LookupGovernor governor_;
  std::unordered_map<InfoHash, Entry, Id160Hash> entries_;  // queued, checking, looking up, fetching
  std::vector<InfoHash> unchecked_;                         // new keys awaiting the database check
  std::set<QueueKey> queue_;                                // checked, waiting for a lookup
  std::unordered_map<dht::LookupId, InfoHash> active_;      // lookups in flight
  std::uint64_t seq_ = 0;
  storage::UnixTime next_renewal_{};  // in-flight leases are looked at then
  PipelineCounters counters_;
};

}  // namespace bitscrape::crawler
