// An in-memory Store for tests (and for the crawler's tests that need a Store to inject).
//
// Behaves like the SQLite store on every observable point the typed suite checks — merge
// rules, limits, orderings and tie-breaks, pagination, hybrid keys — except relevance: it
// scores name matches above file-path matches and shorter documents above longer ones, as
// bm25 does, but not with bm25's exact numbers; and it tokenises as search_text.hpp does
// (ASCII-exact, no Unicode case folding or diacritic removal).
//
// Threading: as every Store — any thread, calls serialised by an internal mutex.
#pragma once

#include "storage/store.hpp"

#include <memory>

namespace bitscrape::storage {

std::unique_ptr<Store> make_memory_store(const StoreOptions& options = {});

}  // namespace bitscrape::storage
