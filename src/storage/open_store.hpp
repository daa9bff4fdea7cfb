// Opening a database by what the user typed: a libpq URI (postgresql://... or postgres://...)
// selects the PostgreSQL store, anything else is the path of a SQLite file. The one place that
// tells the backends apart, so every command that takes --db accepts both.
//
// Threading: start-up code; the stores it returns follow store.hpp.
#pragma once

#include "storage/pg_store.hpp"
#include "storage/sqlite_store.hpp"

#include <memory>
#include <string>

namespace bitscrape::storage {

// Opens `target`. PostgreSQL takes store, durability, read_only and zstd_level from `options`
// (the rest are SQLite's own).
StoreResult<std::unique_ptr<Store>> open_store(const std::string& target, const SqliteOptions& options = {});

// `target` fit for a message: the path, or the URI without its password.
std::string describe_target(const std::string& target);

}  // namespace bitscrape::storage
