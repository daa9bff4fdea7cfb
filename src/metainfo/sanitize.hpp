// Sanitising untrusted torrent names and path components for display and storage.
//
// Info dicts come from strangers; their names and paths end up in a database, a web page and a
// terminal. Sanitising makes every component safe to show and to use as a storage key: valid
// UTF-8, one path level, no control characters, nothing that climbs out of the torrent's root.
// The raw info dict bytes are never touched (the infohash covers them); only derived strings
// are cleaned.
//
// Rules for one component (sanitize_component), applied in this order:
//   1. invalid UTF-8 is repaired with U+FFFD (common repair_utf8);
//   2. path separators '/' and '\' inside a component become '_';
//   3. control characters (C0, DEL, C1, U+2028/U+2029 line/paragraph separators) become '_';
//   4. bidirectional formatting characters (U+061C, U+200E, U+200F, U+202A..U+202E,
//      U+2066..U+2069) are removed: they can make "gpj.exe" display as "exe.jpg" (libtorrent
//      drops the same set, minus the isolates it predates);
//   5. a component that is then empty, "." or ".." is dropped (the caller skips it).
// Free text (sanitize_text, for `source`) gets rules 1, 3 and 4 and keeps '/'.
//
// Deviation: names are not made Windows-safe (':' '*' '?' '"' '<' '>' '|', reserved device
// names, trailing dots/spaces are kept) — nothing here writes files; such a consumer must
// apply its own platform rules.
//
// Threading: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace bitscrape::metainfo {

// One path component, cleaned per the rules above. An empty result means "drop it".
std::string sanitize_component(std::string_view raw);

// Free text for display (no path semantics): valid UTF-8, no control or bidi-override
// characters. May return an empty string.
std::string sanitize_text(std::string_view raw);

// True when `s` obeys the component rules: non-empty, not "." or "..", valid UTF-8, and free
// of '/', '\', NUL and the control and bidi characters above. Used by tests and the fuzzer
// to check invariants.
bool is_clean_component(std::string_view s);

}  // namespace bitscrape::metainfo
