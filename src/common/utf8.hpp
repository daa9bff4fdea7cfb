// UTF-8 validation and repair for untrusted text (torrent names, client versions).
// Threading: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace bitscrape {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;
// `s` with every ill-formed sequence replaced by U+FFFD (one per maximal invalid subpart).
std::string repair_utf8(std::string_view s);

}  // namespace bitscrape
