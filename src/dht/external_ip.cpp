#include "dht/external_ip.hpp"

#include <algorithm>

namespace bitscrape::dht {

std::optional<IpAddress> ExternalIpVoter::vote(const IpAddress& voter, const IpAddress& reported) {
  auto it = std::find_if(voters_.begin(), voters_.end(), [&](const auto& v) { return v.first == voter; });
  if (it != voters_.end()) {
    if (it->second == reported) return std::nullopt;  // nothing changed
    it->second = reported;
  } else {
    if (voters_.size() >= max_) voters_.pop_front();
    voters_.emplace_back(voter, reported);
  }
  // Tally (≤ max_voters entries, only when a vote changed).
  const IpAddress* best = nullptr;
  std::size_t best_n = 0;
  bool tie = false;
  for (const auto& entry : voters_) {
    const IpAddress& r = entry.second;
    const auto n = static_cast<std::size_t>(
        std::count_if(voters_.begin(), voters_.end(), [&](const auto& x) { return x.second == r; }));
    if (n > best_n) {
      best = &r;
      best_n = n;
      tie = false;
    } else if (n == best_n && best != nullptr && *best != r) {
      tie = true;
    }
  }
  if (best == nullptr || tie || best_n < needed_ || (current_ && *current_ == *best)) return std::nullopt;
  current_ = *best;
  return current_;
}

}  // namespace bitscrape::dht
