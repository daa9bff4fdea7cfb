// Hex encoding helpers. Threading: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bitscrape {

// Lower-case hex of arbitrary bytes.
std::string to_hex(std::string_view bytes);
// Decodes an even-length hex string (either case); nullopt on any other character or odd length.
std::optional<std::string> from_hex(std::string_view hex);

}  // namespace bitscrape
