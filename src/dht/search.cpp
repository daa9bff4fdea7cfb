#include "dht/search.hpp"

#include <algorithm>

namespace bitscrape::dht {

Search::Search(const Id160& target, std::size_t k, std::size_t alpha, std::size_t max_candidates, bool one_per_ip)
    : target_(target),
      k_(std::max<std::size_t>(1, k)),
      alpha_(std::max<std::size_t>(1, alpha)),
      max_candidates_(std::max(max_candidates, k_)),
      one_per_ip_(one_per_ip) {
  candidates_.reserve(max_candidates_ + 1);
}

bool Search::add(const NodeId& id, const Endpoint& ep) {
  for (const auto& c : candidates_) {
    if (c.id == id || c.endpoint == ep || (one_per_ip_ && c.endpoint.ip == ep.ip)) return false;
  }
  const auto pos = std::lower_bound(candidates_.begin(), candidates_.end(), id,
                                    [&](const Candidate& c, const NodeId& x) { return closer_to(target_, c.id, x); });
  if (candidates_.size() >= max_candidates_ && pos == candidates_.end()) return false;
  candidates_.insert(pos, Candidate{id, ep, State::Fresh, {}});
  if (candidates_.size() > max_candidates_) {
    if (candidates_.back().state == State::InFlight) --in_flight_;
    candidates_.pop_back();
  }
  return true;
}

Search::Candidate* Search::find(const Endpoint& ep) noexcept {
  for (auto& c : candidates_)
    if (c.endpoint == ep) return &c;
  return nullptr;
}

Search::Candidate* Search::on_response(const NodeId& id, const Endpoint& ep) {
  Candidate* c = find(ep);
  if (c == nullptr) return nullptr;
  if (c->state == State::InFlight) {
    --in_flight_;
    ++queried_;
  }
  if (c->id != id) {
    // It answered with another id than the one we were told: the old entry was a lie or
    // stale. Re-file the endpoint under the id it really has.
    candidates_.erase(candidates_.begin() + (c - candidates_.data()));
    if (!add(id, ep)) return nullptr;
    c = find(ep);
    if (c == nullptr || c->id != id) return nullptr;
  }
  c->state = State::Responded;
  return c;
}

void Search::on_failure(const Endpoint& ep) {
  Candidate* c = find(ep);
  if (c == nullptr) return;
  if (c->state == State::InFlight) {
    --in_flight_;
    ++queried_;
  }
  if (c->state != State::Responded) c->state = State::Failed;
}

bool Search::done() const noexcept {
  std::size_t live = 0;
  for (const auto& c : candidates_) {
    if (live >= k_) break;
    if (c.state == State::Failed) continue;
    ++live;
    if (c.state != State::Responded) return false;
  }
  return true;
}

}  // namespace bitscrape::dht
