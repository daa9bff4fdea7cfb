// A deterministic simulated link between two utp::Connections: a virtual clock, a seeded RNG
// (raw mt19937_64 output only, so every standard library gives the same run), loss,
// duplication, jitter (which reorders) and an optional bottleneck that queues packets at a
// fixed rate (what LEDBAT reacts to). Side B may see the clock shifted, so the two ends'
// microsecond timestamps differ and wrap, as real clocks do.
#pragma once

#include "utp/connection.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <tuple>

namespace bitscrape::utp::test {

using namespace std::chrono_literals;

struct LinkParams {
  double loss = 0;       // per datagram, each direction
  double duplicate = 0;  // per datagram
  Duration delay = 10ms;
  Duration jitter = 0ms;  // uniform [0, jitter) added per datagram
  double bottleneck_bytes_per_s = 0;  // 0 = unlimited; else a FIFO queue at this rate (A -> B only)
  Duration b_clock_offset = 0s;
  std::uint64_t seed = 1;
};

class Link {
 public:
  explicit Link(LinkParams p) : p_(p), rng_(p.seed) {}

  TimePoint now() const { return now_; }
  TimePoint now_b() const { return now_ + p_.b_clock_offset; }

  // Sends what `from` has queued towards the other side.
  void flush(Connection& from, bool from_a) {
    for (auto& d : from.take_datagrams(from_a ? now() : now_b())) send(std::move(d), from_a);
  }

  void send(std::string d, bool from_a) {
    ++sent_;
    if (chance(p_.loss)) {
      ++lost_;
      return;
    }
    const int copies = chance(p_.duplicate) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      TimePoint at = now_ + p_.delay + jitter();
      if (from_a && p_.bottleneck_bytes_per_s > 0) {
        const auto tx = std::chrono::duration_cast<Duration>(
            std::chrono::duration<double>(static_cast<double>(d.size()) / p_.bottleneck_bytes_per_s));
        bottleneck_free_ = std::max(bottleneck_free_, now_) + tx;
        max_queue_ = std::max(max_queue_, bottleneck_free_ - now_);
        at = bottleneck_free_ + p_.delay + jitter();
      }
      queue_.emplace(std::make_pair(at, order_++), std::make_pair(!from_a, d));
    }
  }

  // Current queueing delay at the bottleneck.
  Duration queue_delay() const { return bottleneck_free_ > now_ ? bottleneck_free_ - now_ : Duration{}; }
  Duration max_queue() const { return max_queue_; }

  // Runs until `done()` or `limit` of virtual time. Each step delivers the earliest datagram
  // or fires the earliest wake-up, then lets both ends send.
  template <class Done>
  bool run(Connection& a, std::optional<Connection>& b, const std::function<void()>& app, Done done,
           Duration limit, const std::function<void(const Packet&)>& on_syn) {
    const TimePoint end = now_ + limit;
    while (!done()) {
      TimePoint wake = a.next_wake();
      if (b && b->next_wake() != kNever) wake = std::min(wake, b->next_wake() - p_.b_clock_offset);
      const TimePoint next_packet = queue_.empty() ? kNever : queue_.begin()->first.first;
      const TimePoint t = std::min(wake, next_packet);
      if (t == kNever || t > end) return false;
      now_ = std::max(now_, t);
      if (next_packet <= wake) {
        auto node = queue_.extract(queue_.begin());
        const auto [to_a, bytes] = node.mapped();
        auto pk = decode(bytes);
        if (pk) {
          if (to_a) {
            a.on_packet(*pk, now());
          } else if (b) {
            b->on_packet(*pk, now_b());
          } else if (pk->header.type == Type::Syn) {
            on_syn(*pk);
          }
        }
      } else {
        a.tick(now());
        if (b) b->tick(now_b());
      }
      app();
      flush(a, true);
      if (b) flush(*b, false);
    }
    return true;
  }

  std::uint64_t sent() const { return sent_; }
  std::uint64_t lost() const { return lost_; }

 private:
  bool chance(double p) { return p > 0 && static_cast<double>(rng_() >> 11) * 0x1.0p-53 < p; }
  Duration jitter() {
    if (p_.jitter.count() <= 0) return Duration{};
    return Duration(static_cast<Duration::rep>(rng_() % static_cast<std::uint64_t>(p_.jitter.count())));
  }

  LinkParams p_;
  std::mt19937_64 rng_;
  TimePoint now_{std::chrono::seconds(1000)};
  TimePoint bottleneck_free_{};
  Duration max_queue_{};
  std::map<std::pair<TimePoint, std::uint64_t>, std::pair<bool, std::string>> queue_;  // -> (to_a, bytes)
  std::uint64_t order_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t lost_ = 0;
};

}  // namespace bitscrape::utp::test
