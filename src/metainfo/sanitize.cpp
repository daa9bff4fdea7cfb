#include "metainfo/sanitize.hpp"

#include "common/utf8.hpp"

#include <cstdint>

namespace bitscrape::metainfo {
namespace {

enum class Action { Keep, Replace, Drop };

// Decodes the code point starting at s[i] of a string already known to be valid UTF-8 and
// returns its length in bytes.
std::size_t decode_at(std::string_view s, std::size_t i, char32_t& cp) noexcept {
  const auto b = [&](std::size_t k) { return static_cast<char32_t>(static_cast<std::uint8_t>(s[i + k])); };
  const char32_t c = b(0);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  if (c < 0xE0) {
    cp = ((c & 0x1F) << 6) | (b(1) & 0x3F);
    return 2;
  }
  if (c < 0xF0) {
    cp = ((c & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    return 3;
  }
  cp = ((c & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  return 4;
}

bool is_control(char32_t cp) noexcept {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

bool is_bidi_format(char32_t cp) noexcept {
  return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

Action classify(char32_t cp, bool path) noexcept {
  if (is_bidi_format(cp)) return Action::Drop;
  if (is_control(cp)) return Action::Replace;
  if (path && (cp == '/' || cp == '\\')) return Action::Replace;
  return Action::Keep;
}

std::string clean(std::string_view raw, bool path) {
  // Repair first so that the loop below only ever sees well-formed sequences.
  std::string repaired;
  if (!is_valid_utf8(raw)) {
    repaired = repair_utf8(raw);
    raw = repaired;
  }
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size();) {
    char32_t cp = 0;
    const std::size_t n = decode_at(raw, i, cp);
    switch (classify(cp, path)) {
      case Action::Keep:
        out.append(raw.substr(i, n));
        break;
      case Action::Replace:
        out.push_back('_');
        break;
      case Action::Drop:
        break;
    }
    i += n;
  }
  return out;
}

}  // namespace

std::string sanitize_component(std::string_view raw) {
  std::string out = clean(raw, /*path=*/true);
  if (out == "." || out == "..") out.clear();
  return out;
}

std::string sanitize_text(std::string_view raw) {
  return clean(raw, /*path=*/false);
}

bool is_clean_component(std::string_view s) {
  if (s.empty() || s == "." || s == ".." || !is_valid_utf8(s)) return false;
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    i += decode_at(s, i, cp);
    if (classify(cp, /*path=*/true) != Action::Keep) return false;
  }
  return true;
}

}  // namespace bitscrape::metainfo
