#include "storage/open_store.hpp"

namespace bitscrape::storage {

StoreResult<std::unique_ptr<Store>> open_store(const std::string& target, const SqliteOptions& options) {
  if (!is_postgres_uri(target)) return open_sqlite_store(target, options);
  PgOptions po;
  po.store = options.store;
  po.durability = options.durability;
  po.read_only = options.read_only;
  po.zstd_level = options.zstd_level;
  return open_pg_store(target, po);
}

std::string describe_target(const std::string& target) {
  return is_postgres_uri(target) ? redact_uri(target) : target;
}

}  // namespace bitscrape::storage
