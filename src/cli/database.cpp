#include "cli/database.hpp"

#include "app/config.hpp"
#include "cli/commands.hpp"
#include "storage/sqlite_store.hpp"

#include <filesystem>

namespace bitscrape::cli {

std::string default_database() { return app::default_config().database.string(); }

std::unique_ptr<storage::Store> open_database_read_only(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw CommandFailed("no database at " + path + ": run `bitscrape crawl` first or pass --db PATH", 2);
  }
  storage::SqliteOptions so;
  so.read_only = true;
  auto store = storage::open_sqlite_store(path, so);
  if (!store) throw CommandFailed("cannot open " + path + ": " + store.error().message, 2);
  return std::move(store.value());
}

}  // namespace bitscrape::cli
