#include "crawler/fetch_scheduler.hpp"

#include <algorithm>

namespace bitscrape::crawler {

void FetchScheduler::update_ready(const InfoHash& ih, Entry& e) {
  const std::pair<Key, InfoHash> k{{-e.priority, e.seq}, ih};
  if (runnable(e)) {
    ready_.insert(k);
  } else {
    ready_.erase(k);
  }
}

void FetchScheduler::drop_liars(Entry& e) {
  const auto before = e.candidates.size();
  std::erase_if(e.candidates, [this](const Endpoint& p) { return bad_.count(p) != 0; });
  counters_.skipped_bad_peer += before - e.candidates.size();
}

FetchOutcome FetchScheduler::decide(std::unordered_map<InfoHash, Entry, Id160Hash>::iterator it,
                                    std::optional<peerwire::FetchSuccess> success) {
  Entry& e = it->second;
  // Other connections for this infohash may still be running; their results arrive for an
  // unknown infohash and are ignored.
  in_flight_ -= e.in_flight;
  FetchOutcome out{it->first, std::move(success), std::move(e.attempts)};
  ready_.erase({{-e.priority, e.seq}, it->first});
  entries_.erase(it);
  if (out.success) {
    ++counters_.succeeded;
  } else {
    ++counters_.exhausted;
  }
  return out;
}

bool FetchScheduler::add(const InfoHash& ih, std::span<const Endpoint> peers, int priority) {
  auto it = entries_.find(ih);
  if (it == entries_.end()) {
    if (entries_.size() >= config_.max_queued) {
      ++counters_.dropped_queue_full;
      return false;
    }
    it = entries_.emplace(ih, Entry{}).first;
    it->second.priority = priority;
    it->second.seq = seq_++;
    ++counters_.queued;
  }
  Entry& e = it->second;
  ready_.erase({{-e.priority, e.seq}, ih});
  e.priority = std::max(e.priority, priority);
  for (const auto& p : peers) {
    if (e.candidates.size() >= config_.max_candidates) break;
    if (std::find(e.candidates.begin(), e.candidates.end(), p) != e.candidates.end()) continue;
    if (std::find(e.tried.begin(), e.tried.end(), p) != e.tried.end()) continue;
    if (bad_.count(p) != 0) {
      ++counters_.skipped_bad_peer;
      continue;
    }
    e.candidates.push_back(p);
  }
  if (exhausted(e)) {
    decided_.push_back(decide(it, std::nullopt));
    return true;
  }
  update_ready(ih, e);
  return true;
}

std::optional<FetchScheduler::Job> FetchScheduler::next(const std::function<bool(const Endpoint&)>& can_start) {
  std::size_t scanned = 0;
  for (auto it = ready_.begin(); it != ready_.end() && scanned < config_.scan_limit; ++scanned) {
    const InfoHash ih = it->second;
    Entry& e = entries_.at(ih);
    // Liars are skipped (and forgotten as candidates) wherever they appear; an entry left with
    // nobody to ask is decided.
    drop_liars(e);
    if (exhausted(e)) {
      ++it;
      decided_.push_back(decide(entries_.find(ih), std::nullopt));
      continue;
    }
    const auto pick = std::find_if(e.candidates.begin(), e.candidates.end(), can_start);
    if (pick == e.candidates.end()) {
      ++it;
      if (!runnable(e)) update_ready(ih, e);
      continue;
    }
    const Endpoint peer = *pick;
    e.candidates.erase(pick);
    e.tried.push_back(peer);
    ++e.in_flight;
    ++in_flight_;
    update_ready(ih, e);
    return Job{ih, peer};
  }
  return std::nullopt;
}

void FetchScheduler::remember_liar(const Endpoint& peer) {
  if (config_.max_bad_peers == 0 || !bad_.insert(peer).second) return;
  ++counters_.liars;
  if (bad_order_.size() < config_.max_bad_peers) {
    bad_order_.push_back(peer);
    return;
  }
  bad_.erase(bad_order_[bad_next_]);
  bad_order_[bad_next_] = peer;
  bad_next_ = (bad_next_ + 1) % bad_order_.size();
}

std::optional<FetchOutcome> FetchScheduler::on_result(const InfoHash& ih, const Endpoint& peer,
                                                      peerwire::FetchResult result) {
  auto it = entries_.find(ih);
  if (it == entries_.end()) return std::nullopt;
  Entry& e = it->second;
  if (e.in_flight > 0) {
    --e.in_flight;
    --in_flight_;
  }
  FetchAttempt attempt;
  attempt.peer = peer;
  std::optional<peerwire::FetchSuccess> success;
  if (auto* ok = std::get_if<peerwire::FetchSuccess>(&result)) {
    attempt.ok = true;
    success = std::move(*ok);
  } else {
    auto& f = std::get<peerwire::FetchFailure>(result);
    attempt.reason = f.reason;
    attempt.detail = std::move(f.detail);
    attempt.liar = f.liar;
    if (f.liar) remember_liar(peer);
  }
  e.attempts.push_back(std::move(attempt));
  drop_liars(e);  // this peer, or another, may have been found out meanwhile
  if (!success && !exhausted(e)) {
    update_ready(ih, e);
    return std::nullopt;
  }
  return decide(it, std::move(success));
}

}  // namespace bitscrape::crawler
