// Time for the sans-I/O protocol core (dht, peerwire, crawler decisions).
//
// The core never reads a clock: every entry point takes `now`. The type is steady_clock's
// time_point so that adapters pass steady_clock::now() (and asio's steady_timer waits on the
// same clock) while the simulator and tests pass TimePoint{} + a virtual offset — the epoch is
// meaningless, only differences matter.
//
// Threading: plain types.
#pragma once

#include <chrono>

namespace bitscrape {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

// "Never": the largest time point, for "no deadline" / "nothing to do".
inline constexpr TimePoint kNever = TimePoint::max();

}  // namespace bitscrape
