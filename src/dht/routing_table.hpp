// RoutingTable: the Kademlia routing table of one address family (BEP-5, BEP-32).
//
// Buckets of k nodes; bucket i holds nodes sharing exactly i leading bits with our id,
// except the last, which holds everything sharing more. Only the last bucket (the one our
// own id falls in) is split, up to 160 buckets. Each bucket keeps a small replacement cache
// of nodes that did not fit; a node that fails `max_failures` queries in a row is bad and is
// swapped for the freshest replacement.
//
// Node states (BEP-5): good = has answered one of our queries and been heard from (query or
// response) within `good_for`; bad = failed max_failures queries in a row; questionable =
// anything else, including nodes that queried us but never answered us. Questionable nodes
// are pinged by the Node's maintenance; only good-or-questionable nodes that have answered
// us at least once are handed out in replies (see closest()).
//
// What gets in is the Node's policy (it filters ro=1 nodes per BEP-43, martians, BEP-42);
// the table only enforces its shape and the one-node-per-IP rule.
//
// Compact: a node is one 64-byte record; the table is a vector of buckets (≤ 160).
//
// Deviations: nodes that contact us, and nodes we learn of from replies (free slots only),
// are admitted before they answered a ping (they are questionable and not served to others
// until they do, like jech/dht's unconfirmed nodes); a changed endpoint for a known id
// is ignored unless the old entry is bad (libtorrent does the same, against hijacking).
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
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace bitscrape::dht {

struct RoutingNode {
  NodeId id;
  Endpoint endpoint;
  TimePoint last_seen{};      // last query or response from it
  TimePoint ping_after{};     // not pinged for maintenance again before this
  std::uint8_t failures = 0;  // consecutive timeouts
  bool responded = false;     // has ever answered one of our queries
};

enum class NodeState : std::uint8_t { Good, Questionable, Bad };

class RoutingTable {
 public:
  enum class AddResult : std::uint8_t {
    Updated,     // already in the table; timestamps refreshed
    Inserted,    // took a free slot (possibly after splitting)
    Replaced,    // took the slot of a bad node
    Cached,      // bucket full of non-bad nodes: kept in the replacement cache
    IpTaken,     // another node already uses this IP (one_node_per_ip)
    IdConflict,  // a live node with this id has another endpoint; ignored
    Self,        // our own id
    WrongFamily,
    Full,  // heard_about(): no free slot (nothing displaced, nothing cached)
  };

  RoutingTable(const NodeId& self, IpAddress::Family family, const RoutingConfig& cfg, TimePoint now);

  const NodeId& self() const noexcept { return self_; }
  IpAddress::Family family() const noexcept { return family_; }

  // We heard from the node directly: it queried us (responded = false) or answered one of
  // our queries (responded = true).
  AddResult heard_from(const NodeId& id, const Endpoint& ep, TimePoint now, bool responded);

  // A node we only heard about (a `nodes` entry in a reply). It may take a free slot
  // (splitting our own bucket if needed) but never displaces a node and never enters the
  // replacement cache; it stays questionable, and out of replies, until it answers a ping.
  // This is how the table fills beyond the nodes we happened to query.
  AddResult heard_about(const NodeId& id, const Endpoint& ep, TimePoint now);

  // One of our queries to this node timed out. Returns true when the node became bad and was
  // evicted (its slot taken by a replacement, or freed).
  bool failed(const NodeId& id, const Endpoint& ep, TimePoint now);

  // Removes the node (main bucket or replacement cache). True when found.
  bool remove(const NodeId& id, TimePoint now);

  NodeState state(const RoutingNode& n, TimePoint now) const noexcept;

  // Up to `count` nodes closest to `target`, closest first, appended to `out` (cleared first).
  // reply_only: only nodes that have answered us and are not bad (what we tell others).
  void closest(const Id160& target, std::size_t count, bool reply_only,
               std::vector<const RoutingNode*>& out) const;

  // A bucket not changed within bucket_refresh: its last_changed is set to now and a random
  // id inside its range is returned (the target of a refresh lookup). nullopt when none.
  std::optional<Id160> next_refresh_target(TimePoint now, Rng& rng);
  // Random id inside bucket i's range.
  Id160 random_id_in_bucket(std::size_t i, Rng& rng) const;

  // Up to `max` questionable nodes to ping: per bucket, the least recently seen one whose
  // ping_after has passed; each one's ping_after is set to now + min_gap.
  void nodes_to_ping(TimePoint now, Duration min_gap, std::size_t max, std::vector<RoutingNode>& out);

  // Forgets everything and re-files the current nodes under a new own id (BEP-42 id change).
  void rebuild(const NodeId& new_self, TimePoint now);

  const RoutingNode* find(const NodeId& id) const noexcept;

  std::size_t size() const noexcept;               // nodes in buckets
  std::size_t replacement_count() const noexcept;  // nodes in replacement caches
  std::size_t bucket_count() const noexcept { return buckets_.size(); }
  std::size_t bucket_index(const Id160& id) const noexcept;
  std::size_t bucket_size(std::size_t i) const noexcept { return buckets_[i].nodes.size(); }
  std::size_t bucket_replacements(std::size_t i) const noexcept { return buckets_[i].replacements.size(); }
  std::size_t splits() const noexcept { return splits_; }

  template <class F>
  void for_each(F&& f) const {
    for (const auto& b : buckets_)
      for (const auto& n : b.nodes) f(n);
  }

  // Empty when every structural invariant holds; otherwise a description of the first
  // violation. Used by tests and the simulator after every step they care about.
  std::string check_invariant() const;

 private:
  struct Bucket {
    std::vector<RoutingNode> nodes;
    std::vector<RoutingNode> replacements;  // oldest first
    TimePoint last_changed{};
  };

  RoutingNode* find_in(Bucket& b, const NodeId& id) noexcept;
  void add_replacement(Bucket& b, const RoutingNode& n);
  bool can_split(std::size_t bucket) const noexcept;
  void split_last();
  void erase_main(Bucket& b, std::size_t pos);
  AddResult insert(const RoutingNode& n, TimePoint now, bool may_displace);
  void place(Bucket& b, const RoutingNode& n, TimePoint now);
  bool promote_replacement(Bucket& b, TimePoint now);

  NodeId self_;
  IpAddress::Family family_;
  RoutingConfig cfg_;
  std::vector<Bucket> buckets_;
  std::unordered_set<IpAddress, IpAddressHash> ips_;  // IPs of nodes in buckets
  std::size_t splits_ = 0;
  // closest()'s scratch: candidates with the top 64 bits of their distance, sorted on integers.
  struct Ranked {
    std::uint64_t distance_hi;
    const RoutingNode* node;
  };
  mutable std::vector<Ranked> ranked_;
};

}  // namespace bitscrape::dht
