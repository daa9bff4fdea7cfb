// Human-readable formatting for terminal output. Threading: pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace bitscrape::cli {

// 1536 -> "1.5 KiB"; below 1 KiB: "512 B".
std::string human_bytes(std::int64_t bytes);

}  // namespace bitscrape::cli
