// Turning what a person typed into a search box into a safe FTS5 query.
//
// FTS5 has a query language (AND/OR/NOT/NEAR, "phrases", column:filters, ^, *, parentheses)
// and a malformed expression is an SQL error. User text must never reach it raw: any string —
// quotes, operators, unbalanced parentheses, `NEAR`, `*`, `-`, control bytes, invalid UTF-8,
// nothing at all — has to become a query that runs. So we never pass operators through:
//
//   1. invalid UTF-8 is repaired (U+FFFD), input beyond max_input_bytes is cut;
//   2. the text is split into tokens: maximal runs of ASCII letters and digits and non-ASCII
//      characters; every other ASCII byte (space, punctuation, quotes, operators) separates.
//      ASCII letters are lower-cased (FTS5's unicode61 folds case itself; we do it so that
//      `AND`/`NEAR` are plainly words);
//   3. each token becomes a double-quoted FTS5 string (tokens contain no '"', so no escaping
//      is needed), joined by spaces, which FTS5 reads as an implicit AND of all of them;
//   4. the last token gets `*` (prefix match, search-as-you-type) unless the text ends with a
//      separator — the person finished that word — or it is shorter than min_prefix_bytes
//      (a one- or two-letter prefix matches most of the index and is slow).
//
// A non-ASCII token may still hold characters unicode61 treats as separators (an em dash):
// inside quotes FTS5 reads it as a phrase, or as an empty string that matches nothing —
// never an error. The table must use detail=full for such phrases (see docs/storage.md).
//
// Threading: pure functions.
#pragma once

#include "storage/records.hpp"

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bitscrape::storage {

struct SearchTextLimits {
  std::size_t max_input_bytes = 512;
  std::size_t max_tokens = 16;        // further tokens are ignored
  std::size_t max_token_bytes = 64;   // longer tokens are cut at a character boundary
  // A shorter last token is matched exactly. The FTS5 table has prefix indexes for 3 to 6
  // characters: such a prefix is one index lookup, not a merge of every term it starts.
  std::size_t min_prefix_bytes = 3;
};

struct ParsedSearch {
  std::vector<std::string> tokens;
  bool last_is_prefix = false;

  bool empty() const noexcept { return tokens.empty(); }
  bool operator==(const ParsedSearch&) const = default;
};

// Steps 1, 2 and 4 above.
ParsedSearch parse_search_text(std::string_view text, const SearchTextLimits& limits = {});

// Step 3: the FTS5 MATCH expression, e.g. `"ubuntu" "22" "04"*`; empty for no tokens.
std::string fts5_match_expression(const ParsedSearch& parsed);

// Tokens of a stored document (torrent name or file path) under the same rules, without
// limits: what the in-memory store indexes to behave like FTS5's unicode61 on ASCII text.
std::vector<std::string> document_tokens(std::string_view text);

// What a torrent's file paths contribute to the index: every distinct path token that is not
// already a token of the name and not all digits, in first-seen order, space-separated, at
// most max_bytes. Paths repeat themselves (the torrent name is usually every path's
// directory; episodes differ in one token), so this indexes several times fewer tokens than
// the raw paths while matching the same torrents — a query token matches if it is in the
// name or in any path — with two deliberate exceptions: bare numbers in paths (track, part and
// image numbers: half of all distinct path terms in a crawl-like corpus, useless as search
// terms) are not indexed, and a torrent with hundreds of files has only its first max_bytes
// of distinct terms indexed. Names are always indexed in full. bm25 sees each path term once.
std::string distinct_path_terms(std::string_view name, std::span<const FileRecord> files, std::size_t max_bytes);

}  // namespace bitscrape::storage
