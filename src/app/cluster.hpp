// Cluster: one crawl's membership among the crawlers sharing a database (storage/store.hpp,
// "many crawlers, one database"). Instances coordinate only through the database:
//
//   - join() registers the crawl in the instances table; heartbeat() every kHeartbeatEvery
//     reports what it stored and its rates. An instance is live while it has not stopped and
//     its last heartbeat is within kAliveWindow: a crawl killed with SIGKILL drops out after
//     that, and its leases with it.
//   - claim() / claim_pending() lease infohash work (Store::claim, Store::claim_pending): a
//     key leased to a live instance, or stored, is refused to every other, so no two crawlers
//     fetch the same key.
//   - share(): this instance's part of the keyspace for BEP-51 sampling, from its rank among
//     the live instances (keyspace_share()), so N crawlers do not sample the same nodes N
//     times. heartbeat() tells when the live set changed and the share with it.
//
// On SQLite (one crawler per file) the same calls keep an instances table of one live row;
// its share is the whole keyspace.
//
// Threading: not thread-safe; the crawl's event loop owns it. Every call is one database
// round trip on the store it was given (a read-write connection of its own).
#pragma once

#include "dht/config.hpp"
#include "storage/store.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bitscrape::app {

inline constexpr std::chrono::seconds kHeartbeatEvery{5};
inline constexpr std::chrono::seconds kAliveWindow = storage::kInstanceAliveWindow;  // six missed beats

// Part `index` of `count` equal parts of the keyspace, as prefixes of the same length (the
// sampler serves its prefixes round-robin, so equal lengths keep the walk even): 8-bit cells
// for up to 32 instances, 12-bit cells beyond (each part within one cell of the others). One
// part (count ≤ 1): the whole keyspace (no prefix).
std::vector<dht::KeyPrefix> keyspace_share(std::size_t index, std::size_t count);

class Cluster {
 public:
  // `store` must outlive the cluster; `lease`: how long a claim holds a key.
  Cluster(storage::Store& store, std::chrono::seconds lease);

  // Registers this crawl. Error: the database's message.
  storage::Status join(const storage::InstanceInfo& info);
  std::int64_t id() const noexcept { return id_; }

  // Records a heartbeat and reads the live instances. Returns this instance's new keyspace
  // share when the live set changed since the last call (the first call always returns it).
  // nullopt also when the database could not be reached (the share is kept: a database
  // outage must not make every crawler sample everything).
  std::optional<std::vector<dht::KeyPrefix>> heartbeat(const storage::Heartbeat& hb);
  // A clean stop: the last heartbeat, marked stopped, so its leases and share go back now.
  void leave(storage::Heartbeat hb);

  // The live instances' ids as of the last heartbeat (ours included), ascending.
  const std::vector<std::int64_t>& live() const noexcept { return live_; }

  // Store::claim / claim_pending with this instance's lease from `now`. A database error
  // grants nothing (the keys stay Pending in the database for later).
  std::vector<bool> claim(std::span<const InfoHash> keys, storage::UnixTime now);
  std::vector<storage::InfohashRecord> claim_pending(const storage::PendingQuery& q, storage::UnixTime now);

  // Database errors met by claims and heartbeats (for the crawl's counters).
  std::uint64_t errors() const noexcept { return errors_; }

 private:
  storage::Lease lease_at(storage::UnixTime now) const;

  storage::Store& store_;
  std::chrono::seconds lease_;
  std::int64_t id_ = 0;
  std::vector<std::int64_t> live_;
  bool shared_once_ = false;
  std::uint64_t errors_ = 0;
};

}  // namespace bitscrape::app
