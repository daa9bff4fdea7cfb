// Search: the state of one iterative Kademlia lookup toward a target, over one address family.
//
// Candidates are kept sorted by XOR distance to the target (at most max_candidates; the
// farthest fall off). The "window" is the k closest candidates that have not failed. The
// lookup asks the closest not-yet-queried candidates of the window, at most α at a time, and
// is done when every node in the window has answered (BEP-5 / Kademlia termination: nothing
// closer is left to ask). Queries that time out mark their node failed, which widens the
// window by one. A response from a node that fell out of the window still contributes the
// nodes it returns.
//
// The Search owns no I/O: the Node walks the window (for_each_to_query), sends what it can
// (pacing may hold some back) and reports answers and failures.
//
// Threading: not thread-safe; owned by a Node's lookup.
#pragma once

#include "common/endpoint.hpp"
#include "common/id160.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bitscrape::dht {

class Search {
 public:
  enum class State : std::uint8_t { Fresh, InFlight, Responded, Failed };
  struct Candidate {
    NodeId id;
    Endpoint endpoint;
    State state = State::Fresh;
    std::string token;  // get_peers write token, for announce_peer
  };

  Search(const Id160& target, std::size_t k, std::size_t alpha, std::size_t max_candidates, bool one_per_ip);

  const Id160& target() const noexcept { return target_; }

  // A node to consider (from the routing table or a `nodes` reply). Ignored when already
  // known (same id, or same IP with one_per_ip), or farther than every kept candidate of a
  // full list. Returns true when added.
  bool add(const NodeId& id, const Endpoint& ep);

  // Calls f(Candidate&) for each Fresh candidate inside the window, closest first, while
  // fewer than α queries are in flight; f returns true when it sent a query (the candidate
  // becomes InFlight). Stops at the end of the window.
  template <class F>
  void for_each_to_query(F&& f) {
    std::size_t live = 0;
    for (auto& c : candidates_) {
      if (in_flight_ >= alpha_ || live >= k_) return;
      if (c.state == State::Failed) continue;
      ++live;
      if (c.state == State::Fresh && f(c)) {
        c.state = State::InFlight;
        ++in_flight_;
      }
    }
  }

  // The node answered; returns the candidate (nullptr if it is no longer in the list).
  Candidate* on_response(const NodeId& id, const Endpoint& ep);
  // The query to `ep` failed (timed out or was refused).
  void on_failure(const Endpoint& ep);

  // True when the k closest non-failed candidates have all answered (or none is left).
  bool done() const noexcept;
  std::size_t in_flight() const noexcept { return in_flight_; }
  std::size_t queried() const noexcept { return queried_; }

  // The (up to) k closest candidates that answered, closest first.
  template <class F>
  void for_each_result(F&& f) const {
    std::size_t n = 0;
    for (const auto& c : candidates_) {
      if (n >= k_) return;
      if (c.state == State::Responded) {
        f(c);
        ++n;
      }
    }
  }

  const std::vector<Candidate>& candidates() const noexcept { return candidates_; }

 private:
  Candidate* find(const Endpoint& ep) noexcept;

  Id160 target_;
  std::size_t k_;
  std::size_t alpha_;
  std::size_t max_candidates_;
  bool one_per_ip_;
  std::vector<Candidate> candidates_;  // sorted by distance to target_
  std::size_t in_flight_ = 0;
  std::size_t queried_ = 0;
};

}  // namespace bitscrape::dht
