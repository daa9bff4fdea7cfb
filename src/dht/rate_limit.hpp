// Rate limits for the DHT node: a global outgoing budget, per-destination pacing and
// per-source inbound flood limits.
//
//   TokenBucket       — `rate` tokens/s up to `burst`; the global outgoing packet budget.
//   DestinationPacer  — per destination IP, at most P packets in any window W (a ring of the
//                       last P send times: a send is allowed when the P-th latest is ≥ W old).
//                       libtorrent blocks IPs sending it more than ~5 packets/s.
//   InboundLimiter    — per source IP token bucket with a burst allowance; a source that
//                       exhausts it is ignored for a while (libtorrent's dos_blocker); floods
//                       are dropped before decoding. This, not pacing our answers, is how the
//                       node protects itself: replies to valid queries are never paced.
//
// Per-IP state lives in IpSlots, a fixed-size set-associative table (8 ways): O(1), no
// allocation after construction, bounded memory. The pacer never forgets a destination it
// sent to within the window: when every way of a set is still active it refuses the send
// (the caller counts drop_out_pacer_full) rather than risk exceeding the per-IP rate. The
// inbound limiter evicts its least recently active way instead (forgetting a flooder only
// gives it a fresh burst).
//
// Threading: not thread-safe; owned by the Node.
#pragma once

#include "common/endpoint.hpp"
#include "dht/time.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bitscrape::dht {

class TokenBucket {
 public:
  TokenBucket(double rate, double burst) : rate_(rate), burst_(std::max(1.0, burst)), tokens_(burst_) {}

  bool try_consume(TimePoint now) noexcept {
    refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }
  bool available(TimePoint now) noexcept {
    refill(now);
    return tokens_ >= 1.0;
  }
  // When one token will be available (now if it already is).
  TimePoint next_available(TimePoint now) noexcept;
  // New rate and burst from now on (tokens above the new burst are dropped).
  void set_rate(double rate, double burst) noexcept {
    rate_ = rate;
    burst_ = std::max(1.0, burst);
    tokens_ = std::min(tokens_, burst_);
  }
  double rate() const noexcept { return rate_; }
  double burst() const noexcept { return burst_; }

 private:
  void refill(TimePoint now) noexcept;
  double rate_;
  double burst_;
  double tokens_;
  TimePoint last_{};
  bool started_ = false;
};

// Fixed-capacity set-associative IP → V map. `slot` returns the existing entry or claims
// one, evicting the way `pick_victim` chooses (nullptr = refuse).
template <class V>
class IpSlots {
 public:
  static constexpr std::size_t kWays = 8;
  struct Slot {
    IpAddress ip;
    bool used = false;
    V v{};
  };

  explicit IpSlots(std::size_t capacity)
      : sets_(std::max<std::size_t>(1, (capacity + kWays - 1) / kWays)), slots_(sets_ * kWays) {}

  V* find(const IpAddress& ip) noexcept {
    Slot* set = set_of(ip);
    for (std::size_t i = 0; i < kWays; ++i)
      if (set[i].used && set[i].ip == ip) return &set[i].v;
    return nullptr;
  }

  // Existing entry, or a fresh one in a free way, or in the way `victim(span)` returns
  // (an index < kWays, or kWays to refuse). `evicted` reports whether a live entry was lost.
  template <class Victim>
  V* slot(const IpAddress& ip, Victim&& victim, bool& evicted) noexcept {
    evicted = false;
    Slot* set = set_of(ip);
    Slot* free = nullptr;
    for (std::size_t i = 0; i < kWays; ++i) {
      if (set[i].used && set[i].ip == ip) return &set[i].v;
      if (!set[i].used && free == nullptr) free = &set[i];
    }
    if (free == nullptr) {
      const std::size_t w = victim(set);
      if (w >= kWays) return nullptr;
      free = &set[w];
      evicted = true;
    }
    free->used = true;
    free->ip = ip;
    free->v = V{};
    return &free->v;
  }

  // Whether `slot(ip, victim, ...)` would succeed, without claiming anything.
  template <class Victim>
  bool can_claim(const IpAddress& ip, Victim&& victim) noexcept {
    Slot* set = set_of(ip);
    for (std::size_t i = 0; i < kWays; ++i)
      if (!set[i].used || set[i].ip == ip) return true;
    return victim(set) < kWays;
  }

  std::size_t capacity() const noexcept { return slots_.size(); }

 private:
  Slot* set_of(const IpAddress& ip) noexcept { return &slots_[(IpAddressHash{}(ip) % sets_) * kWays]; }
  std::size_t sets_;
  std::vector<Slot> slots_;
};

class DestinationPacer {
 public:
  static constexpr std::size_t kMaxPackets = 8;
  enum class Verdict : std::uint8_t { Ok, Paced, Full };

  DestinationPacer(std::uint32_t packets, Duration window, std::size_t slots);

  // Whether a packet may go to `ip` now; does not record anything.
  Verdict check(const IpAddress& ip, TimePoint now) noexcept;
  // check() and, when Ok, records the send.
  Verdict try_send(const IpAddress& ip, TimePoint now) noexcept;
  // Earliest time check() can return Ok for `ip` (now when it already does).
  TimePoint next_allowed(const IpAddress& ip, TimePoint now) noexcept;

  std::uint32_t packets() const noexcept { return packets_; }
  Duration window() const noexcept { return window_; }

 private:
  struct Ring {
    std::array<TimePoint, kMaxPackets> t{};
    std::uint8_t count = 0;
    std::uint8_t head = 0;  // index of the oldest entry
  };
  bool active(const Ring& r, TimePoint now) const noexcept;
  std::size_t inactive_way(IpSlots<Ring>::Slot* set, TimePoint now) const noexcept;
  std::uint32_t packets_;
  Duration window_;
  IpSlots<Ring> slots_;
};

class InboundLimiter {
 public:
  enum class Verdict : std::uint8_t {
    Ok,       // within its budget (one token consumed)
    Limited,  // over its budget: this packet is dropped, and the source is now blocked
    Blocked,  // blocked since an earlier flood: dropped unread until the block ends
  };
  // `rate` packets/s per source IP with a `burst` allowance; a source that exhausts its burst is
  // ignored for `block` (libtorrent's dos_blocker: dht_block_timeout, 5 min); zero never blocks.
  InboundLimiter(double rate, double burst, std::size_t slots, Duration block = Duration::zero());
  Verdict check(const IpAddress& ip, TimePoint now) noexcept;
  bool allow(const IpAddress& ip, TimePoint now) noexcept { return check(ip, now) == Verdict::Ok; }
  std::size_t evictions() const noexcept { return evictions_; }

 private:
  struct State {
    double tokens = 0;
    TimePoint last{};
    TimePoint blocked_until{};
    bool init = false;
  };
  double rate_;
  double burst_;
  Duration block_;
  IpSlots<State> slots_;
  std::size_t evictions_ = 0;
};

}  // namespace bitscrape::dht
