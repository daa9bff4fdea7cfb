#include "dht/peer_store.hpp"

#include <algorithm>

namespace bitscrape::dht {

PeerStore::PeerStore(const StoreConfig& cfg) : cfg_(cfg) {
  sample_.reserve(cfg_.max_samples);
}

PeerStore::AnnounceResult PeerStore::announce(const InfoHash& ih, const Endpoint& peer, bool seed, TimePoint now) {
  auto it = index_.find(ih);
  if (it == index_.end()) {
    if (torrents_.size() >= cfg_.max_infohashes || cfg_.max_peers_per_infohash == 0) return AnnounceResult::StoreFull;
    it = index_.emplace(ih, static_cast<std::uint32_t>(torrents_.size())).first;
    torrents_.push_back(Torrent{ih, {}, nullptr});
  }
  auto& t = torrents_[it->second];
  auto& peers = t.peers;
  const TimePoint expires = now + cfg_.peer_ttl;
  for (auto& p : peers) {
    if (p.endpoint == peer) {
      p.expires = expires;
      if (p.seed != seed) t.scrape.reset();
      p.seed = seed;
      return AnnounceResult::Updated;
    }
  }
  t.scrape.reset();
  const Peer p{peer, expires, seed};
  if (peers.size() >= cfg_.max_peers_per_infohash) {
    auto oldest = std::min_element(peers.begin(), peers.end(),
                                   [](const Peer& a, const Peer& b) { return a.expires < b.expires; });
    *oldest = p;
    return AnnounceResult::ReplacedOldest;
  }
  peers.push_back(p);
  ++peer_count_;
  return AnnounceResult::Added;
}

std::size_t PeerStore::peers_of(const InfoHash& ih) const {
  const auto it = index_.find(ih);
  return it == index_.end() ? 0 : torrents_[it->second].peers.size();
}

std::size_t PeerStore::get_peers(const InfoHash& ih, IpAddress::Family family, bool noseed, std::size_t max, Rng& rng,
                                 std::vector<Endpoint>& out) const {
  out.clear();
  const auto it = index_.find(ih);
  if (it == index_.end() || max == 0) return 0;
  // Reservoir sampling: a uniform subset of `max` without a second pass or extra memory.
  std::size_t seen = 0;
  for (const auto& p : torrents_[it->second].peers) {
    if (p.endpoint.ip.family() != family || (noseed && p.seed)) continue;
    if (out.size() < max) {
      out.push_back(p.endpoint);
    } else {
      const auto j = rng.below(seen + 1);
      if (j < max) out[j] = p.endpoint;
    }
    ++seen;
  }
  return out.size();
}

const PeerStore::Scrape* PeerStore::scrape(const InfoHash& ih) {
  const auto it = index_.find(ih);
  if (it == index_.end()) return nullptr;
  auto& t = torrents_[it->second];
  if (!t.scrape) {
    t.scrape = std::make_unique<Scrape>();
    for (const auto& p : t.peers) (p.seed ? t.scrape->seeds : t.scrape->peers).insert(p.endpoint.ip);
  }
  return t.scrape.get();
}

void PeerStore::erase_torrent(std::size_t i) {
  index_.erase(torrents_[i].ih);
  if (i + 1 != torrents_.size()) {
    torrents_[i] = std::move(torrents_.back());
    index_[torrents_[i].ih] = static_cast<std::uint32_t>(i);
  }
  torrents_.pop_back();
}

std::size_t PeerStore::expire(TimePoint now) {
  std::size_t removed = 0;
  for (std::size_t i = torrents_.size(); i-- > 0;) {
    auto& peers = torrents_[i].peers;
    const auto end = std::remove_if(peers.begin(), peers.end(), [&](const Peer& p) { return p.expires <= now; });
    if (end != peers.end()) torrents_[i].scrape.reset();
    removed += static_cast<std::size_t>(peers.end() - end);
    peers.erase(end, peers.end());
    if (peers.empty()) erase_torrent(i);
  }
  peer_count_ -= removed;
  return removed;
}

void PeerStore::draw_sample(Rng& rng) {
  sample_.clear();
  const std::size_t n = torrents_.size();
  const std::size_t m = std::min(cfg_.max_samples, n);
  if (m == n) {
    for (const auto& t : torrents_) sample_.push_back(t.ih);
  } else {
    // Floyd's algorithm: m distinct indices out of n, O(m^2) with m ≤ max_samples.
    for (std::size_t j = n - m; j < n; ++j) {
      const auto t = static_cast<std::size_t>(rng.below(j + 1));
      const auto& cand = torrents_[t].ih;
      const bool taken = std::find(sample_.begin(), sample_.end(), cand) != sample_.end();
      sample_.push_back(taken ? torrents_[j].ih : cand);
    }
  }
}

std::span<const InfoHash> PeerStore::sample(TimePoint now, Rng& rng) {
  const bool fresh = sample_valid_ && now < sample_expires_ && sample_.size() >= cfg_.max_samples;
  if (!cfg_.fixed_sample || !fresh) {
    draw_sample(rng);
    sample_valid_ = true;
    sample_expires_ = now + cfg_.sample_interval;
  }
  return sample_;
}

}  // namespace bitscrape::dht
