// Time for the sans-I/O DHT core.
//
// The core never reads a clock: every entry point takes `now`. We use steady_clock's
// time_point as the type so a real adapter passes steady_clock::now() unchanged, while the
// simulator passes TimePoint{} + virtual offset (the epoch is meaningless; only differences
// matter). Nothing in dht/ calls Clock::now().
//
// Threading: plain types.
#pragma once

#include <chrono>

namespace bitscrape::dht {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

// "Never": the largest representable time point, used as "no deadline".
inline constexpr TimePoint kNever = TimePoint::max();

}  // namespace bitscrape::dht
