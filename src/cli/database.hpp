// Opening the crawler's database read-only for the commands that only look at it (search, stats,
// export, serve), with the same messages everywhere. Threading: start-up only.
#pragma once

#include "storage/store.hpp"

#include <memory>
#include <string>

namespace bitscrape::cli {

// The default database path (the crawler's: $XDG_DATA_HOME/bitscrape/bitscrape.db).
std::string default_database();
// Opens `target` read-only — a SQLite file path, or a postgresql:// (postgres://) URI — and
// throws CommandFailed (exit 2) saying what to do when it cannot.
std::unique_ptr<storage::Store> open_database_read_only(const std::string& target);

}  // namespace bitscrape::cli
