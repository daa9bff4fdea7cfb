#include "cli/database.hpp"

#include "app/config.hpp"
#include "cli/commands.hpp"
#include "storage/open_store.hpp"

#include <filesystem>

namespace bitscrape::cli {

std::string default_database() {
  return app::default_config().database.string();
}

std::unique_ptr<storage::Store> open_database_read_only(const std::string& target) {
  if (!storage::is_postgres_uri(target)) {
    std::error_code ec;
    if (!std::filesystem::exists(target, ec)) {
      throw CommandFailed(
          "no database at " + target + ": run `bitscrape crawl` first or pass --db PATH-OR-URI", 2);
    }
  }
  storage::SqliteOptions so;
  so.read_only = true;
  auto store = storage::open_store(target, so);
  if (!store)
    throw CommandFailed("cannot open " + storage::describe_target(target) + ": " + store.error().message, 2);
  return std::move(store.value());
}

}  // namespace bitscrape::cli
