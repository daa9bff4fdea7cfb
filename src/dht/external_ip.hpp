// ExternalIpVoter: learns our external address from the BEP-42 `ip` field of responses.
//
// Each responding IP gets one vote (its latest report); the address reported by at least
// `votes_needed` distinct voters, and by more of them than any other address, wins. A single
// node (or a few) cannot move us. Bounded: the oldest voter is forgotten beyond max_voters.
//
// Threading: not thread-safe; owned by the Node.
#pragma once

#include "common/endpoint.hpp"

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

namespace bitscrape::dht {

class ExternalIpVoter {
 public:
  ExternalIpVoter(std::size_t votes_needed, std::size_t max_voters)
      : needed_(votes_needed == 0 ? 1 : votes_needed), max_(max_voters == 0 ? 1 : max_voters) {}

  // Returns the new external address when this vote changed the winner.
  std::optional<IpAddress> vote(const IpAddress& voter, const IpAddress& reported);
  const std::optional<IpAddress>& current() const noexcept { return current_; }

 private:
  std::size_t needed_;
  std::size_t max_;
  std::deque<std::pair<IpAddress, IpAddress>> voters_;  // (voter, reported), oldest first
  std::optional<IpAddress> current_;
};

}  // namespace bitscrape::dht
