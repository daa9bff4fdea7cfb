#include "web/params.hpp"

#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>

namespace bitscrape::web {
namespace {

std::string shown(std::string_view value) {
  // Echo at most a little of what the client sent, never control bytes.
  std::string s;
  for (char c : value.substr(0, 40)) s += (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) ? '?' : c;
  if (value.size() > 40) s += "...";
  return s;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int two(std::string_view s, std::size_t at) {
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

}  // namespace

ApiResult<void> check_params(const Params& params, std::initializer_list<std::string_view> allowed) {
  for (auto it = params.begin(); it != params.end(); it = params.upper_bound(it->first)) {
    bool known = it->first == "token";  // the access token may always ride along
    for (auto a : allowed) known = known || it->first == a;
    if (!known) return api_error(400, "unknown parameter '" + shown(it->first) + "'");
    if (params.count(it->first) > 1)
      return api_error(400, "parameter '" + shown(it->first) + "' given more than once");
  }
  return {};
}

const std::string* param(const Params& params, std::string_view name) {
  const auto it = params.find(std::string(name));
  return it == params.end() ? nullptr : &it->second;
}

ApiResult<std::int64_t> parse_int(std::string_view name, std::string_view value, std::int64_t min,
                                  std::int64_t max) {
  std::int64_t v = 0;
  const auto* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, v);
  if (value.empty() || ec != std::errc{} || ptr != end) {
    return api_error(400, std::string(name) + " must be an integer, got '" + shown(value) + "'");
  }
  if (v < min || v > max) {
    return api_error(
        400, std::string(name) + " must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return v;
}

ApiResult<double> parse_number(std::string_view name, std::string_view value, double min, double max) {
  double v = 0;
  const auto* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, v);
  if (value.empty() || ec != std::errc{} || ptr != end || !std::isfinite(v)) {
    return api_error(400, std::string(name) + " must be a number, got '" + shown(value) + "'");
  }
  if (v < min || v > max) return api_error(400, std::string(name) + " is out of range");
  return v;
}

ApiResult<storage::UnixTime> parse_time(std::string_view name, std::string_view value, bool end_of_day) {
  using namespace std::chrono;
  const auto bad = [&] {
    return api_error(400, std::string(name) +
                              " must be unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z, got '" +
                              shown(value) + "'");
  };
  if (all_digits(value)) {
    auto v = parse_int(name, value, 0, 253402300799);  // up to 9999-12-31
    if (!v) return Unexpected{v.error()};
    return storage::from_unix(*v);
  }
  // YYYY-MM-DD[THH:MM[:SS]Z]
  if (value.size() != 10 && value.size() != 17 && value.size() != 20) return bad();
  const auto digits_at = [&](std::initializer_list<std::size_t> at) {
    for (auto i : at) {
      if (value[i] < '0' || value[i] > '9') return false;
    }
    return true;
  };
  if (!digits_at({0, 1, 2, 3, 5, 6, 8, 9}) || value[4] != '-' || value[7] != '-') return bad();
  const year_month_day ymd{year{two(value, 0) * 100 + two(value, 2)},
                           month{static_cast<unsigned>(two(value, 5))},
                           day{static_cast<unsigned>(two(value, 8))}};
  if (!ymd.ok()) return bad();
  sys_seconds t = sys_days{ymd};
  if (value.size() == 10) {
    if (end_of_day) t += hours{24} - seconds{1};
    return t;
  }
  if (value[10] != 'T' || !digits_at({11, 12, 14, 15}) || value[13] != ':' || value.back() != 'Z')
    return bad();
  int sec = 0;
  if (value.size() == 20) {
    if (value[16] != ':' || !digits_at({17, 18})) return bad();
    sec = two(value, 17);
  }
  const int h = two(value, 11), m = two(value, 14);
  if (h > 23 || m > 59 || sec > 59) return bad();
  return t + hours{h} + minutes{m} + seconds{sec};
}

ApiResult<InfoHash> parse_key(std::string_view value) {
  if (value.size() == 64) {
    for (char c : value.substr(40)) {
      if (!std::isxdigit(static_cast<unsigned char>(c)))
        return api_error(400, "infohash must be 40 or 64 hex digits");
    }
    value = value.substr(0, 40);
  }
  if (auto k = InfoHash::from_hex(value)) return *k;
  return api_error(400, "infohash must be 40 or 64 hex digits");
}

ApiResult<bool> parse_bool(std::string_view name, std::string_view value) {
  if (value == "1" || value == "true") return true;
  if (value == "0" || value == "false") return false;
  return api_error(400, std::string(name) + " must be true or false");
}

ApiResult<storage::SearchQuery> parse_search(const Params& params) {
  if (auto ok = check_params(params, {"q", "min_size", "max_size", "min_files", "max_files", "from", "to",
                                      "sort", "order", "limit", "offset"});
      !ok) {
    return Unexpected{ok.error()};
  }
  storage::SearchQuery q;
  constexpr auto kMax64 = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMax32 = std::numeric_limits<std::uint32_t>::max();
  if (const auto* v = param(params, "q")) {
    if (v->size() > 1024) return api_error(400, "q is longer than 1024 bytes");
    q.text = *v;
  }
  if (const auto* v = param(params, "min_size")) {
    auto r = parse_int("min_size", *v, 0, kMax64);
    if (!r) return Unexpected{r.error()};
    q.min_size = *r;
  }
  if (const auto* v = param(params, "max_size")) {
    auto r = parse_int("max_size", *v, 0, kMax64);
    if (!r) return Unexpected{r.error()};
    q.max_size = *r;
  }
  if (const auto* v = param(params, "min_files")) {
    auto r = parse_int("min_files", *v, 0, kMax32);
    if (!r) return Unexpected{r.error()};
    q.min_files = static_cast<std::uint32_t>(*r);
  }
  if (const auto* v = param(params, "max_files")) {
    auto r = parse_int("max_files", *v, 0, kMax32);
    if (!r) return Unexpected{r.error()};
    q.max_files = static_cast<std::uint32_t>(*r);
  }
  if (const auto* v = param(params, "from")) {
    auto r = parse_time("from", *v, false);
    if (!r) return Unexpected{r.error()};
    q.discovered_from = *r;
  }
  if (const auto* v = param(params, "to")) {
    auto r = parse_time("to", *v, true);
    if (!r) return Unexpected{r.error()};
    q.discovered_to = *r;
  }
  if (q.min_size && q.max_size && *q.min_size > *q.max_size)
    return api_error(400, "min_size is above max_size");
  if (q.min_files && q.max_files && *q.min_files > *q.max_files)
    return api_error(400, "min_files is above max_files");
  if (q.discovered_from && q.discovered_to && *q.discovered_from > *q.discovered_to) {
    return api_error(400, "from is after to");
  }
  if (const auto* v = param(params, "sort")) {
    if (*v == "relevance")
      q.sort = storage::SortKey::Relevance;
    else if (*v == "size")
      q.sort = storage::SortKey::Size;
    else if (*v == "discovered")
      q.sort = storage::SortKey::Discovered;
    else if (*v == "name")
      q.sort = storage::SortKey::Name;
    else
      return api_error(400, "sort must be relevance, size, discovered or name");
  }
  if (const auto* v = param(params, "order")) {
    if (*v == "asc")
      q.descending = false;
    else if (*v == "desc")
      q.descending = true;
    else
      return api_error(400, "order must be asc or desc");
  }
  if (const auto* v = param(params, "limit")) {
    auto r = parse_int("limit", *v, 1, static_cast<std::int64_t>(storage::kMaxSearchLimit));
    if (!r) return Unexpected{r.error()};
    q.limit = static_cast<std::size_t>(*r);
  }
  if (const auto* v = param(params, "offset")) {
    auto r = parse_int("offset", *v, 0, static_cast<std::int64_t>(storage::kMaxSearchOffset));
    if (!r) return Unexpected{r.error()};
    q.offset = static_cast<std::size_t>(*r);
  }
  return q;
}

ApiResult<storage::SeriesQuery> parse_series(const Params& params, storage::UnixTime now) {
  if (auto ok = check_params(params, {"name", "from", "to", "points", "agg"}); !ok)
    return Unexpected{ok.error()};
  storage::SeriesQuery q;
  const auto* name = param(params, "name");
  if (!name || name->empty()) return api_error(400, "name is required");
  if (name->size() > 64) return api_error(400, "name is longer than 64 bytes");
  q.name = *name;
  q.to = now;
  if (const auto* v = param(params, "to")) {
    auto r = parse_time("to", *v, true);
    if (!r) return Unexpected{r.error()};
    q.to = *r;
  }
  q.from = q.to - std::chrono::hours{1};
  if (const auto* v = param(params, "from")) {
    auto r = parse_time("from", *v, false);
    if (!r) return Unexpected{r.error()};
    q.from = *r;
  }
  if (q.from > q.to) return api_error(400, "from is after to");
  if (const auto* v = param(params, "points")) {
    auto r = parse_int("points", *v, 1, static_cast<std::int64_t>(storage::kMaxSeriesPoints));
    if (!r) return Unexpected{r.error()};
    q.points = static_cast<std::size_t>(*r);
  }
  if (const auto* v = param(params, "agg")) {
    if (*v == "last")
      q.aggregate = storage::Aggregate::Last;
    else if (*v == "mean")
      q.aggregate = storage::Aggregate::Mean;
    else if (*v == "max")
      q.aggregate = storage::Aggregate::Max;
    else
      return api_error(400, "agg must be last, mean or max");
  }
  return q;
}

}  // namespace bitscrape::web
