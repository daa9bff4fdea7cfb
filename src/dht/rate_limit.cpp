#include "dht/rate_limit.hpp"

#include <chrono>
#include <cmath>

namespace bitscrape::dht {

namespace {
double seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}
}  // namespace

void TokenBucket::refill(TimePoint now) noexcept {
  if (!started_) {
    started_ = true;
    last_ = now;
    return;
  }
  if (now <= last_) return;
  tokens_ = std::min(burst_, tokens_ + seconds(now - last_) * rate_);
  last_ = now;
}

TimePoint TokenBucket::next_available(TimePoint now) noexcept {
  refill(now);
  if (tokens_ >= 1.0 || rate_ <= 0) return tokens_ >= 1.0 ? now : kNever;
  const double wait = (1.0 - tokens_) / rate_;
  return now + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(wait)) + Duration(1);
}

DestinationPacer::DestinationPacer(std::uint32_t packets, Duration window, std::size_t slots)
    : packets_(std::clamp<std::uint32_t>(packets, 1, kMaxPackets)), window_(window), slots_(slots) {}

bool DestinationPacer::active(const Ring& r, TimePoint now) const noexcept {
  if (r.count == 0) return false;
  const auto newest = r.t[(r.head + r.count - 1) % kMaxPackets];
  return now - newest < window_;
}

std::size_t DestinationPacer::inactive_way(IpSlots<Ring>::Slot* set, TimePoint now) const noexcept {
  for (std::size_t i = 0; i < IpSlots<Ring>::kWays; ++i)
    if (!active(set[i].v, now)) return i;
  return IpSlots<Ring>::kWays;
}

DestinationPacer::Verdict DestinationPacer::check(const IpAddress& ip, TimePoint now) noexcept {
  if (Ring* r = slots_.find(ip)) {
    if (r->count < packets_ || now - r->t[r->head] >= window_) return Verdict::Ok;
    return Verdict::Paced;
  }
  // A new destination needs a way it may claim without forgetting an active one.
  return slots_.can_claim(ip, [&](auto* set) { return inactive_way(set, now); }) ? Verdict::Ok
                                                                                 : Verdict::Full;
}

DestinationPacer::Verdict DestinationPacer::try_send(const IpAddress& ip, TimePoint now) noexcept {
  bool evicted = false;
  Ring* r = slots_.slot(
      ip, [&](auto* set) { return inactive_way(set, now); }, evicted);
  if (r == nullptr) return Verdict::Full;
  if (r->count == packets_) {
    if (now - r->t[r->head] < window_) return Verdict::Paced;
    r->head = static_cast<std::uint8_t>((r->head + 1) % kMaxPackets);
    --r->count;
  }
  r->t[(r->head + r->count) % kMaxPackets] = now;
  ++r->count;
  return Verdict::Ok;
}

TimePoint DestinationPacer::next_allowed(const IpAddress& ip, TimePoint now) noexcept {
  Ring* r = slots_.find(ip);
  if (r == nullptr || r->count < packets_) return now;
  const auto at = r->t[r->head] + window_;
  return at > now ? at : now;
}

InboundLimiter::InboundLimiter(double rate, double burst, std::size_t slots, Duration block)
    : rate_(rate), burst_(std::max(1.0, burst)), block_(block), slots_(slots) {}

InboundLimiter::Verdict InboundLimiter::check(const IpAddress& ip, TimePoint now) noexcept {
  bool evicted = false;
  State* s = slots_.slot(
      ip,
      [](auto* set) -> std::size_t {
        std::size_t lru = 0;
        for (std::size_t i = 1; i < IpSlots<State>::kWays; ++i)
          if (set[i].v.last < set[lru].v.last) lru = i;
        return lru;
      },
      evicted);
  if (evicted) ++evictions_;
  if (!s->init) {
    s->init = true;
    s->tokens = burst_;
  } else if (now > s->last) {
    s->tokens = std::min(burst_, s->tokens + seconds(now - s->last) * rate_);
  }
  s->last = now;
  if (now < s->blocked_until) return Verdict::Blocked;
  if (s->tokens < 1.0) {
    if (block_ > Duration::zero()) {
      s->blocked_until = now + block_;
      s->tokens = burst_;  // the block is the penalty; afterwards it starts afresh
    }
    return Verdict::Limited;
  }
  s->tokens -= 1.0;
  return Verdict::Ok;
}

}  // namespace bitscrape::dht
