// A corpus of realistic KRPC datagrams (every BEP-5/32/33/43/51 query and response shape, and
// an error) for decode benchmarks. Deterministic for a given seed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

std::vector<std::string> make_krpc_corpus(std::uint32_t seed = 42);

}  // namespace bench
