// Turning request parameters (query strings, JSON bodies) into typed queries, with every bad
// value an error value carrying the HTTP status and a sentence for the client — never an
// exception, never SQL: the typed queries go to the Store, which binds parameters and
// sanitises full-text input itself (storage/search_text.hpp).
//
// Threading: pure functions.
#pragma once

#include "common/id160.hpp"
#include "common/result.hpp"
#include "storage/store.hpp"

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

namespace bitscrape::web {

struct ApiError {
  int status = 400;
  std::string message;
};
template <class T>
using ApiResult = Result<T, ApiError>;

inline Unexpected<ApiError> api_error(int status, std::string message) {
  return Unexpected<ApiError>{ApiError{status, std::move(message)}};
}

// Query parameters as cpp-httplib parses them (decoded; a name may repeat).
using Params = std::multimap<std::string, std::string>;

// 400 when a parameter is not in `allowed` or appears more than once.
ApiResult<void> check_params(const Params& params, std::initializer_list<std::string_view> allowed);
// The value of `name`, or nullptr.
const std::string* param(const Params& params, std::string_view name);

// A decimal integer in [min, max]; 400 naming `name` otherwise.
ApiResult<std::int64_t> parse_int(std::string_view name, std::string_view value, std::int64_t min,
                                  std::int64_t max);
// A finite decimal number in [min, max].
ApiResult<double> parse_number(std::string_view name, std::string_view value, double min, double max);
// Unix seconds ("1714564800"), a date ("2024-05-01": its first second, or with `end_of_day`
// its last) or a UTC date-time ("2024-05-01T12:00:00Z", seconds optional).
ApiResult<storage::UnixTime> parse_time(std::string_view name, std::string_view value, bool end_of_day);
// A torrent key: 40 hex digits (v1 or truncated v2) or 64 (a v2 infohash, truncated).
ApiResult<InfoHash> parse_key(std::string_view value);
// "1", "true", "0", "false".
ApiResult<bool> parse_bool(std::string_view name, std::string_view value);

// GET /api/torrents: q, min_size, max_size, min_files, max_files, from, to, sort, order,
// limit, offset (docs/api.md).
ApiResult<storage::SearchQuery> parse_search(const Params& params);
// GET /api/series: name, from, to, points, agg. `now` is the default `to`; `from` defaults to
// one hour before `to`.
ApiResult<storage::SeriesQuery> parse_series(const Params& params, storage::UnixTime now);

}  // namespace bitscrape::web
