// PeerStore: the peers announced to us (BEP-5 announce_peer), served back in get_peers
// `values`, summarised as BEP-33 scrape bloom filters, and sampled for BEP-51.
//
// Bounded: at most max_infohashes torrents and max_peers_per_infohash peers each; a full
// torrent replaces its soonest-expiring peer, a full store refuses new torrents (the caller
// counts both). Peers expire peer_ttl after their last announce; expire() sweeps them.
//
// Torrents live in a dense vector (plus an id→index map) so a uniform random BEP-51 sample is
// O(samples). BEP-33 filters (krpc::ScrapeBloom) are built on the first scrape of a torrent and
// cached until its peer set changes, so repeated scrapes cost no hashing.
//
// BEP-51 sample (fixed_sample, the default): like libtorrent, the sample is computed once and
// served until `sample_interval` passes — unless it holds fewer than max_samples keys, in which
// case it is recomputed on every request (so a small store is always fully visible). With
// fixed_sample off, every request draws a fresh sample.
//
// Deviations: get_peers `values` only carries peers of the requester's address family (what
// libtorrent does; BEP-32 leaves it open). BEP-33 filters cover peers of both families.
//
// Threading: not thread-safe; owned by the Node.
#pragma once

#include "common/endpoint.hpp"
#include "common/id160.hpp"
#include "dht/config.hpp"
#include "dht/random.hpp"
#include "dht/time.hpp"
#include "krpc/bep33.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

namespace bitscrape::dht {

class PeerStore {
 public:
  struct Peer {
    Endpoint endpoint;
    TimePoint expires{};
    bool seed = false;
  };

  enum class AnnounceResult : std::uint8_t { Added, Updated, ReplacedOldest, StoreFull };

  explicit PeerStore(const StoreConfig& cfg);

  AnnounceResult announce(const InfoHash& ih, const Endpoint& peer, bool seed, TimePoint now);

  // Up to `max` peers of `family` for ih appended to `out` (cleared first), a uniformly random
  // subset when there are more. noseed (BEP-33) leaves seeds out. Returns the count.
  std::size_t get_peers(const InfoHash& ih, IpAddress::Family family, bool noseed, std::size_t max, Rng& rng,
                        std::vector<Endpoint>& out) const;

  struct Scrape {
    krpc::ScrapeBloom seeds;  // BEP-33 BFsd
    krpc::ScrapeBloom peers;  // BEP-33 BFpe
  };
  // BEP-33 filters of ih (both families); nullptr when ih is unknown. Valid until the next
  // non-const call.
  const Scrape* scrape(const InfoHash& ih);

  // Removes expired peers and then-empty torrents; returns the number of peers removed.
  std::size_t expire(TimePoint now);

  // BEP-51: the current sample (see the header comment for when it is recomputed).
  std::span<const InfoHash> sample(TimePoint now, Rng& rng);

  bool contains(const InfoHash& ih) const { return index_.count(ih) != 0; }
  std::size_t size() const noexcept { return torrents_.size(); }  // BEP-51 `num`
  std::size_t peer_count() const noexcept { return peer_count_; }
  std::size_t peers_of(const InfoHash& ih) const;

  template <class F>
  void for_each_infohash(F&& f) const {
    for (const auto& t : torrents_) f(t.ih);
  }

 private:
  struct Torrent {
    InfoHash ih;
    std::vector<Peer> peers;
    std::unique_ptr<Scrape> scrape;  // cache; reset whenever `peers` changes
  };

  void draw_sample(Rng& rng);
  void erase_torrent(std::size_t i);

  StoreConfig cfg_;
  std::vector<Torrent> torrents_;
  std::unordered_map<InfoHash, std::uint32_t, Id160Hash> index_;
  std::size_t peer_count_ = 0;
  std::vector<InfoHash> sample_;
  TimePoint sample_expires_{};
  bool sample_valid_ = false;
};

}  // namespace bitscrape::dht
