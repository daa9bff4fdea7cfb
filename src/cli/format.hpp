// Human-readable formatting for terminal output. Threading: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bitscrape::cli {

// 1536 -> "1.5 KiB"; below 1 KiB: "512 B".
std::string human_bytes(std::int64_t bytes);

// Text from the database (torrent names, host names) made safe to print on a terminal: control
// characters (C0, DEL, and the C1 range as UTF-8) become '?', so a hostile name cannot move the
// cursor, retitle the window or hide other lines.
std::string printable(std::string_view text);

}  // namespace bitscrape::cli
