#include "app/cluster.hpp"

#include <algorithm>

namespace bitscrape::app {

std::vector<dht::KeyPrefix> keyspace_share(std::size_t index, std::size_t count) {
  if (count <= 1) return {};
  const int bits = count <= 32 ? 8 : 12;
  const std::size_t cells = std::size_t{1} << bits;
  index %= count;
  std::size_t first = index * cells / count;
  std::size_t last = (index + 1) * cells / count;
  if (last <= first) last = (first % cells) + 1;  // more instances than cells: share one
  std::vector<dht::KeyPrefix> out;
  out.reserve(last - first);
  for (std::size_t c = first; c < last; ++c) {
    dht::KeyPrefix p;
    p.bits = bits;
    const auto shifted = static_cast<std::uint32_t>(c) << (16 - bits);  // the cell's top 16 bits
    p.prefix.bytes[0] = static_cast<std::uint8_t>(shifted >> 8);
    p.prefix.bytes[1] = static_cast<std::uint8_t>(shifted & 0xff);
    out.push_back(p);
  }
  return out;
}

Cluster::Cluster(storage::Store& store, std::chrono::seconds lease) : store_(store), lease_(lease) {}

storage::Status Cluster::join(const storage::InstanceInfo& info) {
  auto r = store_.register_instance(info);
  if (!r) return Unexpected<storage::Error>{r.error()};
  id_ = r.value();
  live_ = {id_};
  return {};
}

std::optional<std::vector<dht::KeyPrefix>> Cluster::heartbeat(const storage::Heartbeat& hb) {
  if (!store_.heartbeat(id_, hb)) {
    ++errors_;
    return std::nullopt;
  }
  storage::InstanceQuery q;
  q.limit = storage::kMaxInstancesLimit;
  q.alive_since = hb.at - kAliveWindow;
  auto r = store_.instances(q);
  if (!r) {
    ++errors_;
    return std::nullopt;
  }
  std::vector<std::int64_t> live;
  for (const auto& x : r.value()) live.push_back(x.id);
  if (std::find(live.begin(), live.end(), id_) == live.end()) live.push_back(id_);  // we are alive
  std::sort(live.begin(), live.end());
  if (shared_once_ && live == live_) return std::nullopt;
  shared_once_ = true;
  live_ = std::move(live);
  const auto rank = static_cast<std::size_t>(std::find(live_.begin(), live_.end(), id_) - live_.begin());
  return keyspace_share(rank, live_.size());
}

void Cluster::leave(storage::Heartbeat hb) {
  hb.stopped = true;
  if (!store_.heartbeat(id_, hb)) ++errors_;
}

storage::Lease Cluster::lease_at(storage::UnixTime now) const {
  storage::Lease l;
  l.instance = id_;
  l.now = now;
  l.until = now + lease_;
  l.alive_since = now - kAliveWindow;
  return l;
}

std::vector<bool> Cluster::claim(std::span<const InfoHash> keys, storage::UnixTime now) {
  auto r = store_.claim(keys, lease_at(now));
  if (!r) {
    ++errors_;
    return std::vector<bool>(keys.size(), false);
  }
  return std::move(r.value());
}

std::vector<storage::InfohashRecord> Cluster::claim_pending(const storage::PendingQuery& q, storage::UnixTime now) {
  auto r = store_.claim_pending(q, lease_at(now));
  if (!r) {
    ++errors_;
    return {};
  }
  return std::move(r.value());
}

}  // namespace bitscrape::app
