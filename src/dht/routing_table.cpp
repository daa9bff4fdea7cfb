#include "dht/routing_table.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <sstream>
#include <unordered_map>

namespace bitscrape::dht {

namespace {
constexpr std::size_t kMaxBuckets = 160;

// The first 64 bits of the XOR distance as an integer: orders candidates by distance except
// on a 64-bit tie (then the full ids decide).
std::uint64_t distance_hi(const Id160& a, const Id160& target) noexcept {
  std::uint64_t x = 0, y = 0;
  std::memcpy(&x, a.bytes.data(), 8);
  std::memcpy(&y, target.bytes.data(), 8);
  x ^= y;
  if constexpr (std::endian::native == std::endian::little) x = __builtin_bswap64(x);
  return x;
}
}  // namespace

RoutingTable::RoutingTable(const NodeId& self, IpAddress::Family family, const RoutingConfig& cfg,
                           TimePoint now)
    : self_(self), family_(family), cfg_(cfg) {
  if (cfg_.bucket_size == 0) cfg_.bucket_size = 1;
  buckets_.emplace_back();
  buckets_.back().last_changed = now;
}

std::size_t RoutingTable::bucket_index(const Id160& id) const noexcept {
  const auto cpb = static_cast<std::size_t>(self_.common_prefix_bits(id));
  return std::min(cpb, buckets_.size() - 1);
}

NodeState RoutingTable::state(const RoutingNode& n, TimePoint now) const noexcept {
  if (n.failures >= cfg_.max_failures) return NodeState::Bad;
  if (n.responded && n.failures == 0 && now - n.last_seen < cfg_.good_for) return NodeState::Good;
  return NodeState::Questionable;
}

RoutingNode* RoutingTable::find_in(Bucket& b, const NodeId& id) noexcept {
  for (auto& n : b.nodes)
    if (n.id == id) return &n;
  return nullptr;
}

const RoutingNode* RoutingTable::find(const NodeId& id) const noexcept {
  const auto& b = buckets_[bucket_index(id)];
  for (const auto& n : b.nodes)
    if (n.id == id) return &n;
  return nullptr;
}

std::size_t RoutingTable::size() const noexcept {
  std::size_t s = 0;
  for (const auto& b : buckets_) s += b.nodes.size();
  return s;
}

std::size_t RoutingTable::replacement_count() const noexcept {
  std::size_t s = 0;
  for (const auto& b : buckets_) s += b.replacements.size();
  return s;
}

bool RoutingTable::can_split(std::size_t bucket) const noexcept {
  return bucket + 1 == buckets_.size() && buckets_.size() < kMaxBuckets;
}

void RoutingTable::place(Bucket& b, const RoutingNode& n, TimePoint now) {
  b.nodes.push_back(n);
  if (cfg_.one_node_per_ip) ips_.insert(n.endpoint.ip);
  b.last_changed = now;
}

void RoutingTable::erase_main(Bucket& b, std::size_t pos) {
  if (cfg_.one_node_per_ip) ips_.erase(b.nodes[pos].endpoint.ip);
  b.nodes.erase(b.nodes.begin() + static_cast<std::ptrdiff_t>(pos));
}

void RoutingTable::add_replacement(Bucket& b, const RoutingNode& n) {
  if (cfg_.replacement_cache_size == 0) return;
  auto it = std::find_if(b.replacements.begin(), b.replacements.end(),
                         [&](const RoutingNode& r) { return r.id == n.id; });
  RoutingNode rec = n;
  if (it != b.replacements.end()) {
    rec.responded = rec.responded || it->responded;
    b.replacements.erase(it);
  } else if (b.replacements.size() >= cfg_.replacement_cache_size) {
    // Prefer keeping nodes that have answered us: drop the oldest unconfirmed one first.
    auto victim = std::find_if(b.replacements.begin(), b.replacements.end(),
                               [](const RoutingNode& r) { return !r.responded; });
    if (victim == b.replacements.end()) victim = b.replacements.begin();
    b.replacements.erase(victim);
  }
  b.replacements.push_back(rec);
}

bool RoutingTable::promote_replacement(Bucket& b, TimePoint now) {
  // Freshest first, preferring nodes that have answered us.
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t i = b.replacements.size(); i-- > 0;) {
      const auto& r = b.replacements[i];
      if (pass == 0 && !r.responded) continue;
      if (cfg_.one_node_per_ip && ips_.count(r.endpoint.ip) != 0) continue;
      const RoutingNode rec = r;
      b.replacements.erase(b.replacements.begin() + static_cast<std::ptrdiff_t>(i));
      place(b, rec, now);
      return true;
    }
  }
  return false;
}

void RoutingTable::split_last() {
  const std::size_t n = buckets_.size();  // the new bucket's index
  buckets_.emplace_back();
  Bucket& old_b = buckets_[n - 1];
  Bucket& new_b = buckets_[n];
  new_b.last_changed = old_b.last_changed;
  const auto moves = [&](const RoutingNode& x) {
    return static_cast<std::size_t>(self_.common_prefix_bits(x.id)) >= n;
  };
  for (auto* list : {&old_b.nodes, &old_b.replacements}) {
    auto& dst = list == &old_b.nodes ? new_b.nodes : new_b.replacements;
    auto it =
        std::stable_partition(list->begin(), list->end(), [&](const RoutingNode& x) { return !moves(x); });
    dst.insert(dst.end(), it, list->end());
    list->erase(it, list->end());
  }
  ++splits_;
}

RoutingTable::AddResult RoutingTable::insert(const RoutingNode& rec, TimePoint now, bool may_displace) {
  for (;;) {
    const std::size_t idx = bucket_index(rec.id);
    Bucket& b = buckets_[idx];
    if (b.nodes.size() < cfg_.bucket_size) {
      place(b, rec, now);
      return AddResult::Inserted;
    }
    for (std::size_t i = 0; may_displace && i < b.nodes.size(); ++i) {
      if (b.nodes[i].failures >= cfg_.max_failures) {
        erase_main(b, i);
        place(b, rec, now);
        return AddResult::Replaced;
      }
    }
    if (!can_split(idx)) {
      if (!may_displace) return AddResult::Full;
      add_replacement(b, rec);
      return AddResult::Cached;
    }
    split_last();
    // Splitting may have emptied slots that waiting replacements can take.
    for (std::size_t i = buckets_.size() - 2; i < buckets_.size(); ++i) {
      Bucket& s = buckets_[i];
      while (s.nodes.size() < cfg_.bucket_size && promote_replacement(s, now)) {
      }
    }
  }
}

RoutingTable::AddResult RoutingTable::heard_from(const NodeId& id, const Endpoint& ep, TimePoint now,
                                                 bool responded) {
  if (id == self_) return AddResult::Self;
  if (ep.ip.family() != family_) return AddResult::WrongFamily;
  Bucket& b = buckets_[bucket_index(id)];
  if (RoutingNode* n = find_in(b, id)) {
    if (n->endpoint != ep) {
      if (n->failures < cfg_.max_failures) return AddResult::IdConflict;
      if (cfg_.one_node_per_ip && n->endpoint.ip != ep.ip) {
        if (ips_.count(ep.ip) != 0) return AddResult::IpTaken;
        ips_.erase(n->endpoint.ip);
        ips_.insert(ep.ip);
      }
      n->endpoint = ep;
    }
    n->last_seen = now;
    if (responded) {
      n->responded = true;
      n->failures = 0;
      b.last_changed = now;
    }
    return AddResult::Updated;
  }
  RoutingNode rec;
  rec.id = id;
  rec.endpoint = ep;
  rec.last_seen = now;
  rec.responded = responded;
  // A node waiting in the replacement cache: take it out, it is re-filed below.
  auto rit = std::find_if(b.replacements.begin(), b.replacements.end(),
                          [&](const RoutingNode& r) { return r.id == id; });
  if (rit != b.replacements.end()) {
    rec.responded = rec.responded || rit->responded;
    b.replacements.erase(rit);
  }
  if (cfg_.one_node_per_ip && ips_.count(ep.ip) != 0) return AddResult::IpTaken;
  return insert(rec, now, true);
}

RoutingTable::AddResult RoutingTable::heard_about(const NodeId& id, const Endpoint& ep, TimePoint now) {
  if (id == self_) return AddResult::Self;
  if (ep.ip.family() != family_) return AddResult::WrongFamily;
  Bucket& b = buckets_[bucket_index(id)];
  if (find_in(b, id) != nullptr) return AddResult::Updated;  // nothing learned: keep what we know
  if (cfg_.one_node_per_ip && ips_.count(ep.ip) != 0) return AddResult::IpTaken;
  RoutingNode rec;
  rec.id = id;
  rec.endpoint = ep;
  rec.last_seen = now;
  return insert(rec, now, false);
}

bool RoutingTable::failed(const NodeId& id, const Endpoint& ep, TimePoint now) {
  Bucket& b = buckets_[bucket_index(id)];
  for (std::size_t i = 0; i < b.nodes.size(); ++i) {
    auto& n = b.nodes[i];
    if (n.id != id) continue;
    if (n.endpoint != ep) return false;
    if (n.failures < 255) ++n.failures;
    if (n.failures >= cfg_.max_failures && !b.replacements.empty()) {
      erase_main(b, i);
      // The bad node's slot goes to a replacement, if one fits; the bad node is gone.
      (void)promote_replacement(b, now);
      return true;
    }
    return false;
  }
  auto rit = std::find_if(b.replacements.begin(), b.replacements.end(),
                          [&](const RoutingNode& r) { return r.id == id && r.endpoint == ep; });
  if (rit != b.replacements.end()) b.replacements.erase(rit);
  return false;
}

bool RoutingTable::remove(const NodeId& id, TimePoint now) {
  Bucket& b = buckets_[bucket_index(id)];
  for (std::size_t i = 0; i < b.nodes.size(); ++i) {
    if (b.nodes[i].id == id) {
      erase_main(b, i);
      (void)promote_replacement(b, now);
      return true;
    }
  }
  auto rit = std::find_if(b.replacements.begin(), b.replacements.end(),
                          [&](const RoutingNode& r) { return r.id == id; });
  if (rit == b.replacements.end()) return false;
  b.replacements.erase(rit);
  return true;
}

void RoutingTable::closest(const Id160& target, std::size_t count, bool reply_only,
                           std::vector<const RoutingNode*>& out) const {
  out.clear();
  if (count == 0) return;
  const auto eligible = [&](const RoutingNode& n) {
    return n.failures < cfg_.max_failures && (!reply_only || n.responded);
  };
  ranked_.clear();
  const auto add = [&](const Bucket& b) {
    for (const auto& n : b.nodes)
      if (eligible(n)) ranked_.push_back({distance_hi(n.id, target), &n});
  };
  // Buckets in increasing distance from `target`, one group at a time: the target's own
  // bucket i; then every bucket after i (all at distance with top bit i); then i-1, i-2, ...
  const std::size_t i = bucket_index(target);
  add(buckets_[i]);
  if (ranked_.size() < count) {
    for (std::size_t j = i + 1; j < buckets_.size(); ++j) add(buckets_[j]);
  }
  for (std::size_t j = i; j-- > 0 && ranked_.size() < count;) add(buckets_[j]);
  const auto n = std::min(count, ranked_.size());
  const auto nearer = [&](const Ranked& a, const Ranked& b) {
    if (a.distance_hi != b.distance_hi) return a.distance_hi < b.distance_hi;
    return closer_to(target, a.node->id, b.node->id);
  };
  // Usually one bucket's worth: a plain sort (insertion sort at this size) beats a heap.
  if (ranked_.size() <= 2 * count) {
    std::sort(ranked_.begin(), ranked_.end(), nearer);
  } else {
    std::partial_sort(ranked_.begin(), ranked_.begin() + static_cast<std::ptrdiff_t>(n), ranked_.end(),
                      nearer);
  }
  for (std::size_t k = 0; k < n; ++k) out.push_back(ranked_[k].node);
}

Id160 RoutingTable::random_id_in_bucket(std::size_t i, Rng& rng) const {
  Id160 id = rng.id();
  const int bits = static_cast<int>(std::min(i, kMaxBuckets - 1));
  for (int b = 0; b < bits; ++b) id.set_bit(b, self_.bit(b));
  if (i + 1 < buckets_.size()) id.set_bit(bits, !self_.bit(bits));
  return id;
}

std::optional<Id160> RoutingTable::next_refresh_target(TimePoint now, Rng& rng) {
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    if (now - buckets_[i].last_changed >= cfg_.bucket_refresh) {
      buckets_[i].last_changed = now;
      return random_id_in_bucket(i, rng);
    }
  }
  return std::nullopt;
}

void RoutingTable::nodes_to_ping(TimePoint now, Duration min_gap, std::size_t max,
                                 std::vector<RoutingNode>& out) {
  for (auto& b : buckets_) {
    if (out.size() >= max) return;
    RoutingNode* pick = nullptr;
    for (auto& n : b.nodes) {
      if (now < n.ping_after || state(n, now) != NodeState::Questionable) continue;
      if (pick == nullptr || n.last_seen < pick->last_seen) pick = &n;
    }
    if (pick != nullptr) {
      pick->ping_after = now + min_gap;
      out.push_back(*pick);
    }
  }
}

void RoutingTable::rebuild(const NodeId& new_self, TimePoint now) {
  std::vector<RoutingNode> main;
  std::vector<RoutingNode> spare;
  for (auto& b : buckets_) {
    main.insert(main.end(), b.nodes.begin(), b.nodes.end());
    spare.insert(spare.end(), b.replacements.begin(), b.replacements.end());
  }
  self_ = new_self;
  buckets_.clear();
  buckets_.emplace_back();
  buckets_.back().last_changed = now;
  ips_.clear();
  for (auto* list : {&main, &spare}) {
    for (const auto& n : *list) {
      if (n.id == self_) continue;
      if (cfg_.one_node_per_ip && ips_.count(n.endpoint.ip) != 0) continue;
      if (find(n.id) != nullptr) continue;
      (void)insert(n, now, true);
    }
  }
}

std::string RoutingTable::check_invariant() const {
  std::ostringstream err;
  if (buckets_.empty() || buckets_.size() > kMaxBuckets) {
    err << "bucket count " << buckets_.size();
    return err.str();
  }
  std::unordered_map<IpAddress, int, IpAddressHash> ip_count;
  std::unordered_set<Id160, Id160Hash> ids;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    const auto& b = buckets_[i];
    if (b.nodes.size() > cfg_.bucket_size) {
      err << "bucket " << i << " holds " << b.nodes.size() << " > k";
      return err.str();
    }
    if (b.replacements.size() > cfg_.replacement_cache_size) {
      err << "bucket " << i << " replacement cache holds " << b.replacements.size();
      return err.str();
    }
    for (const auto* list : {&b.nodes, &b.replacements}) {
      for (const auto& n : *list) {
        if (n.id == self_) return "own id in the table";
        if (n.endpoint.ip.family() != family_) return "node of the wrong family";
        const auto cpb = static_cast<std::size_t>(self_.common_prefix_bits(n.id));
        const bool last = i + 1 == buckets_.size();
        if ((last && cpb < i) || (!last && cpb != i)) {
          err << "node " << n.id.hex() << " (prefix " << cpb << ") filed in bucket " << i;
          return err.str();
        }
        if (list == &b.nodes) {
          if (!ids.insert(n.id).second) return "duplicate id " + n.id.hex();
          ++ip_count[n.endpoint.ip];
        }
      }
    }
  }
  if (cfg_.one_node_per_ip) {
    for (const auto& [ip, c] : ip_count) {
      if (c > 1) return "two nodes share IP " + ip.to_string();
      if (ips_.count(ip) == 0) return "IP index misses " + ip.to_string();
    }
    if (ips_.size() != ip_count.size()) return "IP index holds stale entries";
  }
  return {};
}

}  // namespace bitscrape::dht
