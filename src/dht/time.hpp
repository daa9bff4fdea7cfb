// Time for the sans-I/O DHT core: the project's core time types (common/time.hpp). Nothing in
// dht/ calls Clock::now(); the simulator passes TimePoint{} + a virtual offset.
//
// Threading: plain types.
#pragma once

#include "common/time.hpp"

namespace bitscrape::dht {

using bitscrape::Clock;
using bitscrape::Duration;
using bitscrape::kNever;
using bitscrape::TimePoint;

}  // namespace bitscrape::dht
