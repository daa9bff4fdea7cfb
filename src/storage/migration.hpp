// A schema migration step, shared by the SQL backends (SQLite, PostgreSQL): each backend keeps
// an ordered list v1..vN, applies every step in its own transaction and records it in its
// schema_version table. Never edit a released step: add the next one.
//
// Threading: plain value type.
#pragma once

#include <string_view>

namespace bitscrape::storage {

struct Migration {
  int version = 0;        // 1, 2, 3, ... in order, no gaps
  std::string_view name;  // recorded in schema_version
  std::string_view sql;   // one or more statements
};

}  // namespace bitscrape::storage
