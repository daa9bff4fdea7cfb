// TransactionTable: our outstanding queries, keyed by a random 4-byte transaction id and
// matched against the endpoint the query went to (BEP-5: "random transaction IDs matched
// with the endpoint"). A response whose tid is unknown, or arrives from another endpoint,
// matches nothing and is dropped by the Node.
//
// Bounded: at most `capacity` entries; add() refuses beyond that. Timeouts are found in O(1)
// per expiry through a FIFO of (deadline, tid, serial): deadlines are pushed in increasing
// order because the timeout is one constant; a FIFO entry whose transaction was already
// answered (or whose tid has since been reused — hence the serial) is skipped.
//
// Threading: not thread-safe; owned by the Node.
#pragma once

#include "common/endpoint.hpp"
#include "common/id160.hpp"
#include "dht/random.hpp"
#include "dht/time.hpp"
#include "krpc/message.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bitscrape::dht {

// Why a query was sent; decides what its answer (or timeout) feeds.
enum class Purpose : std::uint8_t {
  Lookup,     // a step of a lookup or sampler walk (owner = lookup id)
  Bootstrap,  // find_node(self) to a bootstrap endpoint whose id we do not know (owner = lookup id)
  Ping,       // routing-table upkeep
  Announce,   // announce_peer at the end of a get_peers lookup (owner = lookup id)
};

struct Transaction {
  Endpoint to;
  NodeId node_id;               // the node we expect to answer (when id_known)
  bool id_known = false;
  krpc::Method method = krpc::Method::Ping;
  Purpose purpose = Purpose::Ping;
  std::uint32_t owner = 0;      // lookup id for Lookup/Bootstrap/Announce
  std::uint8_t family_slot = 0; // which of the lookup's searches (0 = v4, 1 = v6)
  std::uint8_t retries_left = 0;
  Id160 target;                 // find_node/get_peers/sample_infohashes target (for retries)
  TimePoint sent{};
  TimePoint deadline{};
  std::uint64_t serial = 0;     // set by the table
};

class TransactionTable {
 public:
  static constexpr std::size_t kTidSize = 4;
  using Tid = std::uint32_t;

  explicit TransactionTable(std::size_t capacity) : capacity_(capacity) { map_.reserve(capacity); }

  // Registers `t` under a fresh random tid; nullopt when the table is full.
  std::optional<Tid> add(Transaction t, Rng& rng);
  // The response/error for tid `wire_tid` from `from`: removes and returns the transaction,
  // or nullopt when nothing matches (unknown tid, wrong length, or another endpoint).
  std::optional<Transaction> take(std::string_view wire_tid, const Endpoint& from);
  // Moves every transaction whose deadline is ≤ now into `out` (appended).
  void expire(TimePoint now, std::vector<Transaction>& out);
  // Drops a transaction without answering it (e.g. its send failed).
  void cancel(Tid tid);

  TimePoint next_deadline() const noexcept;
  std::size_t size() const noexcept { return map_.size(); }
  bool full() const noexcept { return map_.size() >= capacity_; }
  std::size_t capacity() const noexcept { return capacity_; }

  static void write_tid(Tid tid, char* out) noexcept;  // kTidSize bytes
  static std::optional<Tid> read_tid(std::string_view wire) noexcept;

 private:
  struct Pending {
    TimePoint deadline;
    Tid tid;
    std::uint64_t serial;
  };
  std::size_t capacity_;
  std::unordered_map<Tid, Transaction> map_;
  std::deque<Pending> fifo_;
  std::uint64_t next_serial_ = 1;
};

}  // namespace bitscrape::dht
