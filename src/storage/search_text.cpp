#include "storage/search_text.hpp"

#include "common/utf8.hpp"

#include <algorithm>
#include <unordered_set>

namespace bitscrape::storage {

namespace {

bool is_token_byte(unsigned char c) noexcept {
  return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

char fold(unsigned char c) noexcept {
  return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

// Cuts `s` to at most `n` bytes without splitting a UTF-8 sequence.
void cut_at_char_boundary(std::string& s, std::size_t n) {
  if (s.size() <= n) return;
  std::size_t end = n;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  s.resize(end);
}

template <class F>
void for_each_token(std::string_view text, F&& f) {
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !is_token_byte(static_cast<unsigned char>(text[i]))) ++i;
    const std::size_t start = i;
    while (i < text.size() && is_token_byte(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start && !f(text.substr(start, i - start))) return;
  }
}

std::string folded(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (const char c : token) out.push_back(fold(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

ParsedSearch parse_search_text(std::string_view text, const SearchTextLimits& limits) {
  std::string input = repair_utf8(text);
  cut_at_char_boundary(input, limits.max_input_bytes);
  ParsedSearch out;
  for_each_token(input, [&](std::string_view token) {
    if (out.tokens.size() >= limits.max_tokens) return false;
    std::string t = folded(token);
    cut_at_char_boundary(t, limits.max_token_bytes);
    if (!t.empty()) out.tokens.push_back(std::move(t));
    return true;
  });
  if (!out.tokens.empty()) {
    const bool ends_with_separator = !is_token_byte(static_cast<unsigned char>(input.back()));
    // A token cut by max_tokens is not the last thing typed; only prefix-match the real end.
    std::size_t total = 0;
    for_each_token(input, [&](std::string_view) { return ++total, true; });
    out.last_is_prefix = !ends_with_separator && total == out.tokens.size() &&
                         out.tokens.back().size() >= limits.min_prefix_bytes;
  }
  return out;
}

std::string fts5_match_expression(const ParsedSearch& parsed) {
  std::string out;
  for (std::size_t i = 0; i < parsed.tokens.size(); ++i) {
    if (i > 0) out.push_back(' ');
    out.push_back('"');
    out += parsed.tokens[i];  // only token bytes: never '"'
    out.push_back('"');
  }
  if (parsed.last_is_prefix && !out.empty()) out.push_back('*');
  return out;
}

std::vector<std::string> document_tokens(std::string_view text) {
  std::vector<std::string> out;
  for_each_token(text, [&](std::string_view token) {
    out.push_back(folded(token));
    return true;
  });
  return out;
}

std::string distinct_path_terms(std::string_view name, std::span<const FileRecord> files, std::size_t max_bytes) {
  // Folded tokens are views into `folded_all`, which never reallocates (reserved up front).
  std::size_t total = name.size();
  for (const auto& f : files) total += f.path.size();
  std::string folded_all;
  folded_all.reserve(total);
  for (const char c : name) folded_all.push_back(fold(static_cast<unsigned char>(c)));
  const std::size_t name_end = folded_all.size();
  for (const auto& f : files) {
    for (const char c : f.path) folded_all.push_back(fold(static_cast<unsigned char>(c)));
  }
  std::unordered_set<std::string_view> seen;
  seen.reserve(64);
  for_each_token(std::string_view(folded_all).substr(0, name_end), [&](std::string_view t) {
    seen.insert(t);
    return true;
  });
  std::string out;
  std::size_t pos = name_end;
  std::string_view prev;
  for (const auto& f : files) {
    const std::string_view path = std::string_view(folded_all).substr(pos, f.path.size());
    pos += f.path.size();
    // Whole tokens inside the prefix this path shares with the previous one were seen there:
    // start at the token holding the first differing byte.
    std::size_t start = 0;
    const std::size_t limit = std::min(prev.size(), path.size());
    while (start < limit && prev[start] == path[start]) ++start;
    if (start == path.size() && start == prev.size()) continue;  // the same path again
    while (start > 0 && is_token_byte(static_cast<unsigned char>(path[start - 1]))) --start;
    prev = path;
    bool full = false;
    for_each_token(path.substr(start), [&](std::string_view t) {
      if (std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) return true;
      if (!seen.insert(t).second) return true;
      if (out.size() + t.size() + 1 > max_bytes) {
        full = true;
        return false;
      }
      if (!out.empty()) out.push_back(' ');
      out += t;
      return true;
    });
    if (full) break;
  }
  return out;
}

}  // namespace bitscrape::storage
