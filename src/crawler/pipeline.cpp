#include "crawler/pipeline.hpp"

#include "crawler/torrent_record.hpp"
#include "metainfo/info_dict.hpp"

#include <algorithm>

namespace bitscrape::crawler {

namespace {
constexpr std::chrono::milliseconds kIdleTick{250};

storage::Source to_source(dht::InfohashSource s) {
  switch (s) {
    case dht::InfohashSource::GetPeersQuery: return storage::Source::GetPeers;
    case dht::InfohashSource::AnnouncePeerQuery: return storage::Source::AnnouncePeer;
    case dht::InfohashSource::Sample: return storage::Source::Sample;
  }
  return storage::Source::Sample;
}
}  // namespace

namespace {
LookupGovernorConfig governor_config(const PipelineConfig& c) {
  auto g = c.governor;
  g.max_lookups = c.max_lookups;
  return g;
}
}  // namespace

Pipeline::Pipeline(PipelineEnv& env, PipelineConfig config)
    : env_(env), config_(config), known_(config.known_capacity), governor_(governor_config(config)) {}

int Pipeline::source_priority(storage::Source s) noexcept {
  // An announce means a peer is downloading or seeding it right now, and gives us that peer;
  // a get_peers query means someone wants it; a sample only says some node stores it.
  switch (s) {
    case storage::Source::AnnouncePeer: return 30;
    case storage::Source::GetPeers: return 20;
    case storage::Source::Lookup: return 15;
    case storage::Source::Sample: return 10;
  }
  return 0;
}

void Pipeline::on_infohash_seen(const InfoHash& ih, dht::InfohashSource src, const Endpoint& from) {
  ++counters_.infohash_events;
  if (src == dht::InfohashSource::Sample && !config_.sampling) return;
  std::optional<Endpoint> peer;
  // For an announce, `from` carries the announced peer (the node's address with its port).
  if (src == dht::InfohashSource::AnnouncePeerQuery) peer = from;
  seen(ih, to_source(src), peer);
}

void Pipeline::on_sample(const dht::SampleEvent& ev) {
  // The node stores what it samples (reported just before, key by key): its get_peers answer
  // is the cheapest way to the key's peers.
  for (const auto ih : ev.samples) {
    auto it = entries_.find(ih);
    if (it != entries_.end() && !it->second.looked_up && !it->second.holder)
      it->second.holder = krpc::CompactNode{ev.id, ev.from};
  }
}

void Pipeline::seen(const InfoHash& ih, storage::Source src, std::optional<Endpoint> peer) {
  const auto state = known_.get(ih);
  if (state != KnownSet::State::Unknown || entries_.count(ih) != 0) {
    ++counters_.known_duplicates;
    // The database learns each new kind of source once (at most four writes per key), not
    // every repeat sighting.
    const auto bit = static_cast<std::uint8_t>(src);
    const bool new_kind = known_.add_sources(ih, bit) != 0;
    auto it = entries_.find(ih);
    const int priority = it == entries_.end() ? source_priority(src) : it->second.priority;
    if (new_kind) env_.record(storage::InfohashSighting{ih, env_.wall_now(), src, 0, priority});
    if (state == KnownSet::State::Fetched || it == entries_.end()) return;  // done, or let go: DB has it
    Entry& e = it->second;
    // A new kind of source, or another announcer: worth more.
    const int bonus = (e.sources & bit) == 0 ? source_priority(src) / 2 : 1;
    e.sources |= bit;
    if (peer) {
      add_announced_peer(ih, e, *peer);
      // Already fetching: hand the new announcer to the fetch engine as one more candidate.
      if (e.fetching && config_.fetching) env_.fetch(ih, std::span<const Endpoint>(&*peer, 1), e.priority);
    }
    bump(ih, e, e.priority + bonus);
    return;
  }
  ++counters_.infohashes_new;
  if (known_.set(ih, KnownSet::State::Seen)) {
    known_.add_sources(ih, static_cast<std::uint8_t>(src));
  } else {
    ++counters_.known_set_full;
  }
  const auto now = env_.wall_now();
  env_.record(storage::InfohashSighting{ih, now, src, 0, source_priority(src)});
  env_.discovered(ih);
  if (entries_.size() >= config_.max_lookup_queue) {
    ++counters_.lookup_queue_drops;  // stays Pending in the database; refill() brings it back
    return;
  }
  Entry& e = entries_[ih];
  e.priority = source_priority(src);
  e.seq = seq_++;
  e.sources = static_cast<std::uint8_t>(src);
  e.first_seen = now;
  if (peer) add_announced_peer(ih, e, *peer);
  unchecked_.push_back(ih);
}

bool Pipeline::add_peer(Entry& e, const Endpoint& p) {
  if (!config_.allow_private_addresses && p.ip.is_martian()) return false;
  if (p.port == 0 || e.peers.size() >= config_.peers_per_infohash) return false;
  if (std::find(e.peers.begin(), e.peers.end(), p) != e.peers.end()) return false;
  e.peers.push_back(p);
  return true;
}

void Pipeline::add_announced_peer(const InfoHash& ih, Entry& e, const Endpoint& p) {
  if (add_peer(e, p)) env_.record(storage::PeerRecord{ih, p, env_.wall_now()});
}

void Pipeline::enqueue(const InfoHash& ih, Entry& e) { queue_.insert({{-e.priority, e.seq}, ih}); }

void Pipeline::bump(const InfoHash& ih, Entry& e, int priority) {
  priority = std::min(priority, 1000);
  if (priority == e.priority) return;
  const bool queued = queue_.erase({{-e.priority, e.seq}, ih}) > 0;
  e.priority = priority;
  if (queued) enqueue(ih, e);
}

void Pipeline::forget(const InfoHash& ih) {
  auto it = entries_.find(ih);
  if (it == entries_.end()) return;
  queue_.erase({{-it->second.priority, it->second.seq}, ih});
  if (it->second.lookup != dht::kNoLookup) active_.erase(it->second.lookup);
  entries_.erase(it);
}

void Pipeline::refill(std::span<const storage::InfohashRecord> pending) {
  for (const auto& r : pending) {
    if (entries_.size() >= config_.max_lookup_queue) break;
    if (r.state != storage::FetchState::Pending || entries_.count(r.infohash) != 0) continue;
    if (known_.get(r.infohash) == KnownSet::State::Fetched) continue;
    known_.set(r.infohash, KnownSet::State::Seen);
    known_.add_sources(r.infohash, r.sources);
    Entry& e = entries_[r.infohash];
    e.priority = std::max(r.priority, 1);
    e.seq = seq_++;
    e.sources = r.sources;
    e.rounds = r.fetch_attempts;
    e.first_seen = r.first_seen;
    e.claimed = env_.wall_now();  // the runtime claimed these keys to refill us
    ++counters_.refilled;
    enqueue(r.infohash, e);  // the database says Pending: no need to check it again
  }
}

bool Pipeline::wants_refill() const noexcept {
  return config_.fetching && queue_.size() + unchecked_.size() < config_.refill_below &&
         entries_.size() < config_.max_lookup_queue / 2;
}

void Pipeline::on_peers_found(dht::LookupId id, const InfoHash& ih, std::span<const Endpoint> peers) {
  const auto a = active_.find(id);
  if (a == active_.end() || a->second != ih) return;
  auto it = entries_.find(ih);
  if (it == entries_.end()) return;
  counters_.peers_found += peers.size();
  const auto now = env_.wall_now();
  for (const auto& p : peers) {
    if (add_peer(it->second, p)) env_.record(storage::PeerRecord{ih, p, now});
  }
}

void Pipeline::on_lookup_done(const dht::LookupResult& r) {
  const auto a = active_.find(r.id);
  if (a == active_.end()) return;
  const InfoHash ih = a->second;
  active_.erase(a);
  governor_.lookup_done(r.queried);
  auto it = entries_.find(ih);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  e.lookup = dht::kNoLookup;
  if (e.peers.empty()) {
    ++counters_.lookups_no_peers;
    // An attempt that found nobody to ask: the database backs it off and refill() retries.
    env_.record(storage::FetchOutcome{ih, env_.wall_now(), false});
    forget(ih);
    return;
  }
  start_fetch(ih, e);
}

void Pipeline::start_fetch(const InfoHash& ih, Entry& e) {
  const int priority = e.priority + static_cast<int>(std::min<std::size_t>(e.peers.size(), 50));
  if (!env_.fetch(ih, e.peers, priority)) {
    ++counters_.fetch_queue_drops;
    forget(ih);  // stays Pending in the database
    return;
  }
  ++counters_.fetches_queued;
  e.fetching = true;
}

void Pipeline::on_fetch_outcome(crawler::FetchOutcome outcome) {
  const InfoHash ih = outcome.infohash;
  auto it = entries_.find(ih);
  const std::uint32_t rounds = it == entries_.end() ? 0 : it->second.rounds;
  const auto first_seen = it == entries_.end() ? env_.wall_now() : it->second.first_seen;
  const auto now = env_.wall_now();
  if (outcome.success && known_.get(ih) == KnownSet::State::Fetched) {
    // The other key of a hybrid was fetched first: the torrent is stored already.
    ++counters_.duplicate_fetches;
    forget(ih);
    return;
  }
  if (outcome.success) {
    auto parsed = metainfo::parse_verified(outcome.success->info, ih);
    if (parsed) {
      const auto& t = parsed.value();
      auto rec = to_record(t, std::move(outcome.success->info), first_seen, now);
      for (const auto& key : t.dht_keys()) {
        known_.set(key, KnownSet::State::Fetched);
        if (key != ih) forget(key);  // the other half of a hybrid is done too
      }
      env_.record(std::move(rec));
      ++counters_.torrents_fetched;
      forget(ih);
      return;
    }
    ++counters_.invalid_metadata;  // the hash matched, so no peer will give us anything else
    env_.record(storage::FetchOutcome{ih, now, true});
    forget(ih);
    return;
  }
  ++counters_.fetch_failures;
  const bool all_liars = !outcome.attempts.empty() &&
                         std::all_of(outcome.attempts.begin(), outcome.attempts.end(),
                                     [](const FetchAttempt& a) { return a.liar; });
  if (it != entries_.end() && !it->second.looked_up) {
    // Only the announcers were tried (or none: all known liars): look for more peers before
    // counting a failed round. A liar announcing a key says nothing about the torrent's seeders.
    it->second.fetching = false;
    it->second.peers.clear();
    enqueue(ih, it->second);
    return;
  }
  // Every peer a lookup found lied: a poisoned key, not worth more rounds.
  const bool give_up = all_liars || rounds + 1 >= config_.max_fetch_rounds;
  env_.record(storage::FetchOutcome{ih, now, give_up});
  forget(ih);
}

dht::TimePoint Pipeline::tick(dht::TimePoint now) {
  const auto wall = env_.wall_now();
  // 1. New keys: claim them, dropping the ones stored already or another crawler's (one
  // database call per batch). A refused key is let go, not marked fetched: when another
  // crawler's lease on it lapses, refill() may bring it back.
  if (!unchecked_.empty()) {
    const std::size_t n = std::min(unchecked_.size(), config_.db_check_batch);
    const std::span<const InfoHash> batch(unchecked_.data(), n);
    const auto granted = env_.claim(batch);
    for (std::size_t i = 0; i < n; ++i) {
      const InfoHash& ih = batch[i];
      auto it = entries_.find(ih);
      if (it == entries_.end()) continue;
      if (i >= granted.size() || !granted[i]) {
        ++counters_.claims_refused;
        forget(ih);
        continue;
      }
      it->second.claimed = wall;
      if (!it->second.peers.empty() && config_.fetching) {
        start_fetch(ih, it->second);  // announced: we already know a peer, skip the lookup
        if (entries_.count(ih) != 0 && !it->second.fetching) enqueue(ih, it->second);
      } else {
        enqueue(ih, it->second);
      }
    }
    unchecked_.erase(unchecked_.begin(), unchecked_.begin() + static_cast<std::ptrdiff_t>(n));
  }
  // 2. How many lookups: as many as the budget carries and the fetch engine can take (lookups
  // running + its backlog within its capacity).
  if (governor_.tick(now, active_.size())) governor_.control(now, env_.budget());
  const std::size_t backlog = env_.fetch_backlog();
  const std::size_t capacity = env_.fetch_capacity();
  const std::size_t room = capacity > backlog ? capacity - backlog : 0;
  const std::size_t limit = governor_.limit(room);
  counters_.lookup_limit = limit;
  counters_.lookup_limit_cuts = governor_.decreases();
  counters_.lookup_limit_rises = governor_.increases();
  // 3. Leases: keys in flight keep theirs; the keys about to be looked up are claimed again
  // when theirs is half gone (they may have waited in the queue for long).
  if (wall >= next_renewal_) {
    next_renewal_ = wall + config_.lease / 4;
    renew_in_flight(wall);
  }
  if (config_.fetching) renew_queue_head(wall, limit);
  // 4. Lookups for the best queued keys.
  bool refused = false;
  while (config_.fetching && !queue_.empty() && active_.size() < limit &&
         env_.fetch_backlog() < config_.max_fetch_backlog) {
    const auto top = *queue_.begin();
    const InfoHash ih = top.second;
    Entry& e = entries_.at(ih);
    if (lease_due(e, wall)) break;  // beyond what renew_queue_head() claimed: the next tick
    const auto holders = e.holder ? std::span<const krpc::CompactNode>(&*e.holder, 1)
                                  : std::span<const krpc::CompactNode>();
    const auto id = env_.start_get_peers(ih, now, holders);
    if (id == dht::kNoLookup) {
      ++counters_.lookups_refused;
      refused = true;
      break;
    }
    queue_.erase(queue_.begin());
    ++counters_.lookups_started;
    e.lookup = id;
    e.looked_up = true;
    active_.emplace(id, ih);
  }
  // The governor's own limit held keys back (not the fetcher, the node or a pause).
  const bool bound = config_.fetching && !refused && !queue_.empty() && active_.size() >= governor_.limit() &&
                     backlog < config_.max_fetch_backlog && governor_.limit() <= room;
  governor_.started(active_.size(), bound);
  const bool more = !unchecked_.empty();
  return more ? now : now + kIdleTick;
}

bool Pipeline::lease_due(const Entry& e, storage::UnixTime now) const noexcept {
  return now >= e.claimed + config_.lease / 2;
}

std::size_t Pipeline::renew(std::vector<InfoHash> keys) {
  std::size_t kept = 0;
  const auto now = env_.wall_now();
  for (std::size_t at = 0; at < keys.size(); at += storage::kMaxIsFetchedBatch) {
    const std::span<const InfoHash> chunk(keys.data() + at, std::min(keys.size() - at, storage::kMaxIsFetchedBatch));
    const auto granted = env_.claim(chunk);
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      if (i < granted.size() && granted[i]) {
        ++kept;
        ++counters_.leases_renewed;
        if (auto it = entries_.find(chunk[i]); it != entries_.end()) it->second.claimed = now;
      } else {
        // Stored meanwhile, or taken over by a crawler that thought us gone: let it go (a
        // fetch in flight still ends, and anything it stores is verified and merged).
        ++counters_.leases_lost;
        forget(chunk[i]);
      }
    }
  }
  return kept;
}

void Pipeline::renew_in_flight(storage::UnixTime now) {
  std::vector<InfoHash> due;
  for (const auto& [ih, e] : entries_) {
    if ((e.lookup != dht::kNoLookup || e.fetching) && lease_due(e, now)) due.push_back(ih);
  }
  if (!due.empty()) renew(std::move(due));
}

void Pipeline::renew_queue_head(storage::UnixTime now, std::size_t limit) {
  const std::size_t room = limit > active_.size() ? limit - active_.size() : 0;
  std::vector<InfoHash> due;
  std::size_t seen = 0;
  for (auto it = queue_.begin(); it != queue_.end() && seen < room; ++it, ++seen) {
    if (lease_due(entries_.at(it->second), now)) due.push_back(it->second);
  }
  if (!due.empty()) renew(std::move(due));
}

}  // namespace bitscrape::crawler
