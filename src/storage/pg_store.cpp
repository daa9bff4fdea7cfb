#include "storage/pg_store.hpp"

#include "common/utf8.hpp"
#include "storage/codec.hpp"
#include "storage/search_text.hpp"
#include "storage/store_rules.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

namespace bitscrape::storage {
namespace {

#define BS_TRY(expr)                                \
  do {                                              \
    if (auto bs_status_ = (expr); !bs_status_) {    \
      return Unexpected<Error>{bs_status_.error()}; \
    }                                               \
  } while (false)

constexpr std::int64_t kFlagPrivate = 1;
constexpr std::int64_t kFlagImpliedFile = 2;  // no file_lists row: one file named like the torrent
// A lexeme of the search document is cut to this many bytes (PostgreSQL's limit is 2047;
// query tokens are at most 64 bytes, so a cut never changes what matches).
constexpr std::size_t kMaxLexemeBytes = 255;
// tsvector keeps at most 256 positions per lexeme; relevance counts at most this many
// occurrences of one name token (SQLite and memory count all: a name repeating one word
// 256+ times is the only difference).
constexpr std::size_t kMaxPositionsPerLexeme = 255;
// Serialises concurrent migrators (pg_advisory_xact_lock key: "bitscrap" as ASCII).
constexpr std::int64_t kMigrationLock = 0x6269747363726170;

// Type OIDs of the array parameters we send (pg_type.h is a server header).
constexpr Oid kBoolArray = 1000;
constexpr Oid kByteaArray = 1001;
constexpr Oid kInt8Array = 1016;
constexpr Oid kTextArray = 1009;
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;
constexpr Oid kFloat8Oid = 701;

// "$n" (built by appending: GCC 12 warns falsely about "$" + std::string).
std::string placeholder(int n) {
  std::string r = "$";
  r += std::to_string(n);
  return r;
}

std::string_view bytes_of(const InfoHash& h) {
  return h.view();
}
std::string_view bytes_of(const Sha256Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// A one-dimensional array parameter in PostgreSQL's binary array format: no escaping, any
// bytes, NULL elements. Element oid: bytea, int8, text or bool.
class ArrayParam {
 public:
  explicit ArrayParam(Oid element) : element_(element) {}
  void add(std::string_view bytes) {
    put_be(body_, bytes.size(), 4);
    body_.append(bytes);
    ++n_;
  }
  void add(std::int64_t v) {
    put_be(body_, 8, 4);
    put_be(body_, static_cast<std::uint64_t>(v), 8);
    ++n_;
  }
  void add(bool v) {
    put_be(body_, 1, 4);
    body_.push_back(v ? 1 : 0);
    ++n_;
  }
  void add_null() {
    put_be(body_, 0xFFFFFFFFu, 4);
    has_null_ = true;
    ++n_;
  }
  std::size_t size() const { return n_; }
  std::string encode() const {
    std::string out;
    out.reserve(20 + body_.size());
    put_be(out, 1, 4);  // dimensions
    put_be(out, has_null_ ? 1 : 0, 4);
    put_be(out, element_, 4);
    put_be(out, n_, 4);  // length of the dimension
    put_be(out, 1, 4);   // lower bound
    out += body_;
    return out;
  }

 private:
  Oid element_;
  std::string body_;
  std::size_t n_ = 0;
  bool has_null_ = false;
};

Oid array_oid(Oid element) {
  switch (element) {
    case kBoolOid:
      return kBoolArray;
    case kByteaOid:
      return kByteaArray;
    case kInt8Oid:
      return kInt8Array;
    default:
      return kTextArray;
  }
}

// Parameters of one statement: text (integers) or binary (bytea, arrays).
class Params {
 public:
  Params& integer(std::int64_t v) { return push(std::to_string(v), kInt8Oid, 0); }
  Params& bytes(std::string_view b) { return push(std::string(b), kByteaOid, 1); }
  Params& text(std::string_view t) { return push(std::string(t), kTextOid, 0); }
  Params& real(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", std::isfinite(v) ? v : 0.0);
    return push(buf, kFloat8Oid, 0);
  }
  Params& null(Oid type) {
    values_.emplace_back();
    types_.push_back(type);
    formats_.push_back(0);
    nulls_.push_back(true);
    return *this;
  }
  Params& array(const ArrayParam& a, Oid element) { return push(a.encode(), array_oid(element), 1); }

  int size() const { return static_cast<int>(values_.size()); }
  // Pointers valid while this object lives and is not changed.
  void views(std::vector<const char*>& v, std::vector<int>& len) const {
    v.clear();
    len.clear();
    for (std::size_t i = 0; i < values_.size(); ++i) {
      v.push_back(nulls_[i] ? nullptr : values_[i].data());
      len.push_back(static_cast<int>(values_[i].size()));
    }
  }
  const Oid* types() const { return types_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  Params& push(std::string v, Oid type, int format) {
    values_.push_back(std::move(v));
    types_.push_back(type);
    formats_.push_back(format);
    nulls_.push_back(false);
    return *this;
  }
  std::vector<std::string> values_;
  std::vector<Oid> types_;
  std::vector<int> formats_;
  std::vector<bool> nulls_;
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A result set in text format (bytea as "\x" hex, PostgreSQL's default output).
class Rows {
 public:
  explicit Rows(PGresult* r) : r_(r) {}
  ~Rows() { PQclear(r_); }
  Rows(Rows&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  Rows& operator=(Rows&&) = delete;

  int size() const { return PQntuples(r_); }
  bool is_null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  std::string_view text(int row, int col) const {
    return {PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col))};
  }
  std::int64_t integer(int row, int col) const {
    const std::string_view t = text(row, col);
    std::int64_t v = 0;
    bool neg = false;
    std::size_t i = 0;
    if (!t.empty() && t[0] == '-') neg = true, i = 1;
    for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i) v = v * 10 + (t[i] - '0');
    return neg ? -v : v;
  }
  double real(int row, int col) const { return std::strtod(PQgetvalue(r_, row, col), nullptr); }
  bool boolean(int row, int col) const { return text(row, col) == "t"; }
  std::string bytes(int row, int col) const {
    const std::string_view t = text(row, col);
    std::string out;
    if (t.size() < 2 || t[0] != '\\' || t[1] != 'x') return out;
    out.reserve((t.size() - 2) / 2);
    for (std::size_t i = 2; i + 1 < t.size(); i += 2) {
      const int hi = hex_value(t[i]), lo = hex_value(t[i + 1]);
      if (hi < 0 || lo < 0) break;
      out.push_back(static_cast<char>(hi << 4 | lo));
    }
    return out;
  }
  std::uint64_t affected() const {
    const char* n = PQcmdTuples(r_);
    return n && *n ? std::strtoull(n, nullptr, 10) : 0;
  }

 private:
  PGresult* r_;
};

std::string first_line(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  if (auto nl = s.find('\n'); nl != std::string_view::npos) s = s.substr(0, nl);
  return std::string(s);
}

// The error of a failed connection attempt, saying where and what to fix.
Error connect_error(PGconn* c, std::string_view uri) {
  std::string host = c && PQhost(c) ? PQhost(c) : "";
  const std::string port = c && PQport(c) ? PQport(c) : "";
  std::string msg = c ? first_line(PQerrorMessage(c)) : "out of memory";
  // libpq: 'connection to server at "127.0.0.1", port 5432 failed: Connection refused'.
  if (auto f = msg.find("failed: "); f != std::string::npos) msg = msg.substr(f + 8);
  if (!msg.empty() && msg[0] >= 'A' && msg[0] <= 'Z' && !(msg.size() > 1 && msg[1] >= 'A' && msg[1] <= 'Z')) {
    msg[0] = static_cast<char>(msg[0] - 'A' + 'a');
  }
  std::string where =
      host.empty() ? redact_uri(uri) : (host[0] == '/' ? host + " (port " + port + ")" : host + ":" + port);
  std::string hint = "check --db";
  if (msg.find("refused") != std::string::npos || msg.find("No such file") != std::string::npos ||
      msg.find("no such file") != std::string::npos || msg.find("timeout") != std::string::npos) {
    hint = "is PostgreSQL running? check --db";
  } else if (msg.find("authentication") != std::string::npos || msg.find("password") != std::string::npos) {
    hint = "check the user and password in --db (or ~/.pgpass)";
  } else if (msg.find("does not exist") != std::string::npos) {
    hint = "create it (createdb) or check the database name in --db";
  }
  return Error{ErrorCode::Io, "cannot connect to " + where + ": " + msg + " \u2014 " + hint};
}

class Conn {
 public:
  Conn(PGconn* c, std::string uri) : c_(c), uri_(std::move(uri)) {}
  ~Conn() { PQfinish(c_); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // After a lost connection, reconnect before the next statement (a transient Io error
  // otherwise: the caller retries later).
  Status ensure() {
    if (PQstatus(c_) == CONNECTION_OK) return {};
    PQreset(c_);
    if (PQstatus(c_) != CONNECTION_OK) return Unexpected<Error>{connect_error(c_, uri_)};
    return setup_session_();
  }
  void on_reconnect(std::function<Status()> f) { setup_session_ = std::move(f); }

  Error error(PGresult* r, std::string_view what) const {
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const std::string sqlstate = state ? state : "";
    const std::string msg = first_line(r ? PQresultErrorMessage(r) : PQerrorMessage(c_));
    const std::string detail =
        std::string(what) + ": " + (msg.empty() ? first_line(PQerrorMessage(c_)) : msg);
    if (PQstatus(c_) != CONNECTION_OK || sqlstate.starts_with("08")) {
      return Error{ErrorCode::Io, "lost the connection to PostgreSQL (" + redact_uri(uri_) + "): " + detail +
                                      " \u2014 is the server still running?"};
    }
    if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "57014") {
      return Error{ErrorCode::Locked, "PostgreSQL: another transaction conflicted (" + detail + "); retry"};
    }
    if (sqlstate == "53100") return Error{ErrorCode::Full, "PostgreSQL server disk full: " + detail};
    if (sqlstate.starts_with("53")) return Error{ErrorCode::Io, "PostgreSQL out of resources: " + detail};
    if (sqlstate == "25006") return Error{ErrorCode::ReadOnly, detail};
    if (sqlstate == "42501") {
      return Error{ErrorCode::Io,
                   "PostgreSQL refused: " + detail + " \u2014 grant the --db user rights on the database"};
    }
    if (sqlstate.starts_with("XX")) return Error{ErrorCode::Corrupt, "PostgreSQL reports damage: " + detail};
    return Error{ErrorCode::Internal, detail};
  }

  StoreResult<Rows> run(const std::string& sql, const Params& p, std::string_view what) {
    BS_TRY(ensure());
    std::vector<const char*> v;
    std::vector<int> len;
    p.views(v, len);
    PGresult* r = PQexecParams(c_, sql.c_str(), p.size(), p.types(), v.data(), len.data(), p.formats(), 0);
    const auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      Error e = error(r, what);
      PQclear(r);
      return Unexpected<Error>{e};
    }
    return Rows(r);
  }
  StoreResult<Rows> run(const std::string& sql, std::string_view what) { return run(sql, Params{}, what); }

  // Statements without parameters (DDL, several separated by ';').
  Status exec(const std::string& sql, std::string_view what) {
    BS_TRY(ensure());
    PGresult* r = PQexec(c_, sql.c_str());
    const auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      Error e = error(r, what);
      PQclear(r);
      return Unexpected<Error>{e};
    }
    PQclear(r);
    return {};
  }
  // Ends a failed transaction; nothing to do when the connection is gone (the server rolls
  // back a transaction whose session ended).
  void rollback() {
    if (PQstatus(c_) != CONNECTION_OK) return;
    PGresult* r = PQexec(c_, "ROLLBACK");
    PQclear(r);
  }

 private:
  PGconn* c_;
  std::string uri_;
  std::function<Status()> setup_session_ = [] { return Status{}; };
};

// --- search documents ---

// A token as indexed: valid UTF-8 (tsvector is text), at most kMaxLexemeBytes.
std::string index_token(std::string_view token) {
  std::string t = is_valid_utf8(token) ? std::string(token) : repair_utf8(token);
  if (t.size() > kMaxLexemeBytes) {
    std::size_t end = kMaxLexemeBytes;
    while (end > 0 && (static_cast<unsigned char>(t[end]) & 0xC0) == 0x80) --end;
    t.resize(end);
  }
  return t;
}

// The tsvector input of a torrent: its name tokens at positions 1.. with weight A, then its
// distinct path terms with weight D. Tokens hold only letters, digits and non-ASCII
// characters (search_text.hpp): never a quote or backslash, so quoting needs no escapes.
std::string search_document(std::string_view name, std::string_view path_terms) {
  std::string out;
  std::map<std::string, std::size_t> uses;  // positions per name lexeme
  std::size_t pos = 0;
  for (const auto& tok : document_tokens(name)) {
    std::string t = index_token(tok);
    if (t.empty() || ++uses[t] > kMaxPositionsPerLexeme) continue;
    if (!out.empty()) out.push_back(' ');
    out += '\'' + t + "':" + std::to_string(++pos) + 'A';
  }
  for (const auto& tok : document_tokens(path_terms)) {
    std::string t = index_token(tok);
    if (t.empty() || uses.count(t)) continue;  // a path term equal to a name token (after cutting)
    uses[t] = 0;
    if (!out.empty()) out.push_back(' ');
    out += '\'' + t + "':" + std::to_string(++pos);
  }
  return out;
}

// The tsquery of a parsed search: every token, AND, the last as a prefix when asked.
std::string search_query(const ParsedSearch& parsed) {
  std::string out;
  for (std::size_t i = 0; i < parsed.tokens.size(); ++i) {
    if (i > 0) out += " & ";
    out += '\'' + index_token(parsed.tokens[i]) + '\'';
  }
  if (parsed.last_is_prefix && !out.empty()) out += ":*";
  return out;
}

constexpr const char* kTorrentColumns =
    "t.id, t.ih_v1, t.ih_v2, t.name, t.total_size, t.piece_length, t.file_count, t.flags, t.discovered_at, "
    "t.fetched_at";

TorrentRecord torrent_from_row(const Rows& r, int i) {
  TorrentRecord t;
  t.id = r.integer(i, 0);
  if (!r.is_null(i, 1)) t.infohash_v1 = InfoHash::from_bytes(r.bytes(i, 1));
  if (!r.is_null(i, 2)) {
    const std::string b = r.bytes(i, 2);
    if (b.size() == 32) {
      Sha256Digest d;
      std::memcpy(d.data(), b.data(), 32);
      t.infohash_v2 = d;
    }
  }
  t.name = r.bytes(i, 3);
  t.total_size = r.integer(i, 4);
  t.piece_length = r.integer(i, 5);
  t.file_count = static_cast<std::uint32_t>(r.integer(i, 6));
  t.is_private = (r.integer(i, 7) & kFlagPrivate) != 0;
  t.discovered_at = from_unix(r.integer(i, 8));
  t.fetched_at = from_unix(r.integer(i, 9));
  return t;
}

constexpr const char* kInstanceColumns =
    "id, node_id, listen, host, started, heartbeat, stopped, infohashes, torrents, infohashes_per_s, "
    "torrents_per_s, packets_per_s";

// When an existing lease (`leases`) passes to the claimer (`excluded`): it is the claimer's
// own, it expired, or its holder is not live (stopped, or no heartbeat since $5). $4: now.
constexpr const char* kLeaseUpsert =
    " ON CONFLICT (ih) DO UPDATE SET owner = excluded.owner, until = excluded.until"
    " WHERE leases.owner = excluded.owner OR leases.until < $4 OR NOT EXISTS (SELECT 1 FROM instances x"
    " WHERE x.id = leases.owner AND x.stopped IS NULL AND x.heartbeat >= $5)"
    " RETURNING ih";

constexpr const char* kInfohashColumns =
    "ih, first_seen, last_seen, sources, peers, attempts, last_attempt, state, priority";

InfohashRecord infohash_from_row(const Rows& r, int i) {
  InfohashRecord h;
  if (auto k = InfoHash::from_bytes(r.bytes(i, 0))) h.infohash = *k;
  h.first_seen = from_unix(r.integer(i, 1));
  h.last_seen = from_unix(r.integer(i, 2));
  h.sources = static_cast<SourceMask>(r.integer(i, 3));
  h.peers = static_cast<std::uint32_t>(r.integer(i, 4));
  h.fetch_attempts = static_cast<std::uint32_t>(r.integer(i, 5));
  if (!r.is_null(i, 6)) h.last_attempt = from_unix(r.integer(i, 6));
  h.state = static_cast<FetchState>(r.integer(i, 7));
  h.priority = static_cast<std::int32_t>(r.integer(i, 8));
  return h;
}

Endpoint endpoint_from(std::string_view ip, std::int64_t port) {
  Endpoint e;
  if (auto a = IpAddress::from_bytes(ip)) e.ip = *a;
  e.port = static_cast<std::uint16_t>(port);
  return e;
}

using EndpointKey = std::pair<std::string, std::uint16_t>;  // (ip bytes, port): the table's order
EndpointKey key_of(const Endpoint& e) {
  return {std::string(e.ip.bytes()), e.port};
}

class PgStore final : public Store {
 public:
  PgStore(std::unique_ptr<Conn> c, const PgOptions& o) : db_(std::move(c)), opt_(o), zstd_(o.zstd_level) {}

  void prepare(WriteBatch& batch) const override { detail::encode_batch(batch, opt_.store, opt_.zstd_level); }

  StoreResult<WriteReport> write(const WriteBatch& batch) override {
    if (opt_.read_only) return fail(ErrorCode::ReadOnly, "this store was opened read-only");
    std::lock_guard lock(mu_);
    std::vector<EncodedTorrent> own;
    const auto encoded = detail::encoded_torrents(batch, opt_.store, zstd_, own);
    BS_TRY(db_->exec("BEGIN", "begin write transaction"));
    WriteReport report;
    auto applied = apply(batch, encoded, report);
    if (applied) applied = db_->exec("COMMIT", "commit");
    if (!applied) {
      db_->rollback();
      counter_ids_.clear();  // names inserted by the rolled-back transaction are gone
      return Unexpected<Error>{applied.error()};
    }
    return report;
  }

  StoreResult<PruneReport> prune(const PruneLimits& limits) override {
    if (opt_.read_only) return fail(ErrorCode::ReadOnly, "this store was opened read-only");
    std::lock_guard lock(mu_);
    BS_TRY(db_->exec("BEGIN", "begin prune transaction"));
    PruneReport report;
    auto run = [&]() -> Status {
      if (limits.max_nodes > 0) {
        auto r = db_->run(
            "DELETE FROM nodes WHERE (ip, port) IN (SELECT ip, port FROM nodes "
            "ORDER BY last_seen DESC, ip, port OFFSET $1)",
            Params{}.integer(static_cast<std::int64_t>(limits.max_nodes)), "prune nodes");
        if (!r) return Unexpected<Error>{r.error()};
        report.nodes = r->affected();
      }
      if (limits.max_infohashes_without_metadata > 0) {
        auto r = db_->run(
            "DELETE FROM infohashes WHERE ih IN (SELECT ih FROM infohashes WHERE state <> 1 "
            "ORDER BY last_seen DESC, ih OFFSET $1)",
            Params{}.integer(static_cast<std::int64_t>(limits.max_infohashes_without_metadata)),
            "prune infohashes");
        if (!r) return Unexpected<Error>{r.error()};
        report.infohashes = r->affected();
      }
      if (limits.counters_before) {
        auto r = db_->run("DELETE FROM counter_samples WHERE at < $1",
                          Params{}.integer(to_unix(*limits.counters_before)), "prune counters");
        if (!r) return Unexpected<Error>{r.error()};
        report.counter_samples = r->affected();
      }
      return {};
    };
    auto st = run();
    if (st) st = db_->exec("COMMIT", "commit prune");
    if (!st) {
      db_->rollback();
      return Unexpected<Error>{st.error()};
    }
    return report;
  }

  StoreResult<std::vector<NodeRecord>> good_nodes(std::size_t limit) override {
    if (limit > kMaxNodesLimit) return fail(ErrorCode::InvalidArgument, "node limit over 100000");
    std::lock_guard lock(mu_);
    auto r = db_->run(
        "SELECT ip, port, id, last_seen FROM nodes WHERE good ORDER BY last_seen DESC, ip, port LIMIT $1",
        Params{}.integer(static_cast<std::int64_t>(limit)), "read nodes");
    if (!r) return Unexpected<Error>{r.error()};
    std::vector<NodeRecord> out;
    for (int i = 0; i < r->size(); ++i) {
      NodeRecord n;
      n.endpoint = endpoint_from(r->bytes(i, 0), r->integer(i, 1));
      if (auto id = NodeId::from_bytes(r->bytes(i, 2))) n.id = *id;
      n.last_seen = from_unix(r->integer(i, 3));
      n.good = true;
      out.push_back(n);
    }
    return out;
  }

  StoreResult<std::vector<InfohashRecord>> pending_fetch(const PendingQuery& q) override {
    if (q.limit > kMaxPendingLimit) return fail(ErrorCode::InvalidArgument, "pending limit over 100000");
    std::lock_guard lock(mu_);
    std::string sql = std::string("SELECT ") + kInfohashColumns + " FROM infohashes WHERE state = 0";
    Params p;
    p.integer(static_cast<std::int64_t>(q.limit));
    if (q.attempted_before) {
      sql += " AND (last_attempt IS NULL OR last_attempt <= $2)";
      p.integer(to_unix(*q.attempted_before));
    }
    sql += " ORDER BY priority DESC, attempts, last_seen DESC, ih LIMIT $1";
    auto r = db_->run(sql, p, "read pending infohashes");
    if (!r) return Unexpected<Error>{r.error()};
    std::vector<InfohashRecord> out;
    for (int i = 0; i < r->size(); ++i) out.push_back(infohash_from_row(*r, i));
    return out;
  }

  StoreResult<std::vector<bool>> is_fetched(std::span<const InfoHash> keys) override {
    if (keys.size() > kMaxIsFetchedBatch)
      return fail(ErrorCode::InvalidArgument, "is_fetched batch over 10000");
    std::lock_guard lock(mu_);
    auto held = held_keys(keys);
    if (!held) return Unexpected<Error>{held.error()};
    std::vector<bool> out;
    out.reserve(keys.size());
    for (const auto& k : keys) out.push_back(held->count(k) != 0);
    return out;
  }

  StoreResult<std::optional<InfohashRecord>> infohash(const InfoHash& key) override {
    std::lock_guard lock(mu_);
    auto r = db_->run(std::string("SELECT ") + kInfohashColumns + " FROM infohashes WHERE ih = $1",
                      Params{}.bytes(bytes_of(key)), "read infohash");
    if (!r) return Unexpected<Error>{r.error()};
    if (r->size() == 0) return std::optional<InfohashRecord>{};
    return std::optional<InfohashRecord>{infohash_from_row(*r, 0)};
  }

  StoreResult<std::optional<TorrentRecord>> torrent(const InfoHash& key) override {
    std::lock_guard lock(mu_);
    auto id = find_torrent_id(key);
    if (!id) return Unexpected<Error>{id.error()};
    if (!id->has_value()) return std::optional<TorrentRecord>{};
    auto ts = load_torrents("t.id = $1", Params{}.integer(**id), ExportOptions{true, false});
    if (!ts) return Unexpected<Error>{ts.error()};
    if (ts->empty()) return std::optional<TorrentRecord>{};
    return std::optional<TorrentRecord>{std::move(ts->front())};
  }

  StoreResult<std::optional<std::string>> raw_info_dict(const InfoHash& key) override {
    std::lock_guard lock(mu_);
    auto r = db_->run(
        "SELECT d.data FROM infohashes i JOIN info_dicts d ON d.torrent_id = i.torrent_id WHERE i.ih = $1",
        Params{}.bytes(bytes_of(key)), "read info dict");
    if (!r) return Unexpected<Error>{r.error()};
    if (r->size() == 0) return std::optional<std::string>{};
    auto d = zstd_decompress(r->bytes(0, 0), opt_.store.max_info_dict_bytes);
    if (!d) return Unexpected<Error>{d.error()};
    return std::optional<std::string>{std::move(d.value())};
  }

  StoreResult<std::vector<PeerRecord>> peers(const InfoHash& key, std::size_t limit) override {
    std::lock_guard lock(mu_);
    auto r = db_->run(
        "SELECT ip, port, last_seen FROM peers WHERE ih = $1 ORDER BY last_seen DESC, ip, port LIMIT $2",
        Params{}
            .bytes(bytes_of(key))
            .integer(static_cast<std::int64_t>(std::min<std::size_t>(limit, INT32_MAX))),
        "read peers");
    if (!r) return Unexpected<Error>{r.error()};
    std::vector<PeerRecord> out;
    for (int i = 0; i < r->size(); ++i) {
      out.push_back(
          PeerRecord{key, endpoint_from(r->bytes(i, 0), r->integer(i, 1)), from_unix(r->integer(i, 2))});
    }
    return out;
  }

  StoreResult<SearchPage> search(const SearchQuery& q) override {
    BS_TRY(detail::check_search(q));
    const ParsedSearch parsed = parse_search_text(q.text);
    const bool text = !parsed.empty();

    // Conditions and parameters: $1 the tsquery (when there is text), then the filters in a
    // fixed order.
    Params params;
    std::string where;
    auto cond = [&](const std::string& c) { where += (where.empty() ? " WHERE " : " AND ") + c; };
    auto next = [&] { return placeholder(params.size() + 1); };
    if (text) {
      cond("t.doc @@ " + next() + "::tsquery");
      params.text(search_query(parsed));
    }
    auto filter = [&](bool present, const char* column, const char* op, std::int64_t v) {
      if (!present) return;
      cond(std::string(column) + op + next());
      params.integer(v);
    };
    filter(q.min_size.has_value(), "t.total_size", " >= ", q.min_size.value_or(0));
    filter(q.max_size.has_value(), "t.total_size", " <= ", q.max_size.value_or(0));
    filter(q.min_files.has_value(), "t.file_count", " >= ", q.min_files.value_or(0));
    filter(q.max_files.has_value(), "t.file_count", " <= ", q.max_files.value_or(0));
    filter(q.discovered_from.has_value(), "t.discovered_at",
           " >= ", q.discovered_from ? to_unix(*q.discovered_from) : 0);
    filter(q.discovered_to.has_value(), "t.discovered_at",
           " <= ", q.discovered_to ? to_unix(*q.discovered_to) : 0);

    SortKey sort = q.sort;
    bool desc = q.descending;
    if (sort == SortKey::Relevance && !text) {
      sort = SortKey::Discovered;
      desc = true;
    }
    auto count_matches = [&](std::size_t cap) -> StoreResult<std::uint64_t> {
      Params p = params;
      const std::string lim = placeholder(p.size() + 1);
      p.integer(static_cast<std::int64_t>(cap));
      auto r = db_->run("SELECT count(*) FROM (SELECT 1 FROM torrents t" + where + " LIMIT " + lim + ") x", p,
                        "count search results");
      if (!r) return Unexpected<Error>{r.error()};
      return static_cast<std::uint64_t>(r->integer(0, 0));
    };

    std::lock_guard lock(mu_);
    SearchPage page;
    std::vector<std::int64_t> ids;  // the page, in order
    if (text || sort == SortKey::Name) {
      // Windowed (see SearchQuery): the newest window+1 candidates with their sort key, ordered
      // here; the extra one tells whether the window cut.
      std::string key;
      Params p = params;
      switch (sort) {
        case SortKey::Relevance: {
          // search_relevance()'s hits, counted by the server from each candidate's tsvector (10
          // per weight-A position of a matching lexeme, 1 per other position or position-less
          // lexeme; each query token counts on its own), so only a number per candidate comes
          // back instead of its whole document.
          ArrayParam toks(kTextOid), prefix(kBoolOid);
          for (std::size_t k = 0; k < parsed.tokens.size(); ++k) {
            toks.add(std::string_view(index_token(parsed.tokens[k])));
            prefix.add(parsed.last_is_prefix && k + 1 == parsed.tokens.size());
          }
          const std::string a = placeholder(p.size() + 1), b = placeholder(p.size() + 2);
          p.array(toks, kTextOid).array(prefix, kBoolOid);
          key = "(SELECT coalesce(sum(CASE WHEN coalesce(cardinality(u.weights), 0) = 0 THEN 1 ELSE "
                "(SELECT sum(CASE WHEN w = 'A' THEN 10 ELSE 1 END) FROM unnest(u.weights) w) END), 0) "
                "FROM unnest(t.doc) u JOIN unnest(" + a + "::text[], " + b + "::bool[]) q(tok, pre) "
                "ON CASE WHEN q.pre THEN starts_with(u.lexeme, q.tok) ELSE u.lexeme = q.tok END), length(t.name)";
          break;
        }
        case SortKey::Size:
          key = "t.total_size";
          break;
        case SortKey::Discovered:
          key = "t.discovered_at";
          break;
        case SortKey::Name:
          key = "t.name";
          break;
      }
      const std::string lim = placeholder(p.size() + 1);
      p.integer(static_cast<std::int64_t>(q.window) + 1);
      auto r =
          db_->run("SELECT t.id, " + key + " FROM torrents t" + where + " ORDER BY t.id DESC LIMIT " + lim, p,
                   "search");
      if (!r) return Unexpected<Error>{r.error()};
      std::vector<detail::SearchCandidate> cands;
      cands.reserve(static_cast<std::size_t>(r->size()));
      for (int i = 0; i < r->size(); ++i) {
        detail::SearchCandidate c{r->integer(i, 0), 0, {}};
        if (sort == SortKey::Relevance) {
          c.number = search_relevance(static_cast<double>(r->integer(i, 1)),
                                      static_cast<std::size_t>(r->integer(i, 2)));
        } else if (sort == SortKey::Name) {
          c.name = r->bytes(i, 1);
        } else {
          c.number = static_cast<double>(r->integer(i, 1));
        }
        cands.push_back(std::move(c));
      }
      auto ordered = detail::order_window(cands, q, sort, desc, page, count_matches);
      if (!ordered) return Unexpected<Error>{ordered.error()};
      ids = std::move(ordered.value());
    } else {
      // Size or Discovered without text: an index gives the order; count separately.
      auto c = count_matches(q.count_limit + 1);
      if (!c) return Unexpected<Error>{c.error()};
      page.total = std::min<std::uint64_t>(*c, q.count_limit);
      page.total_exact = *c <= q.count_limit;
      if (q.limit == 0) return page;
      const char* column = sort == SortKey::Size ? "t.total_size" : "t.discovered_at";
      const char* dir = desc ? " DESC" : "";
      Params p = params;
      const std::string lim = placeholder(p.size() + 1);
      const std::string off = placeholder(p.size() + 2);
      p.integer(static_cast<std::int64_t>(q.limit)).integer(static_cast<std::int64_t>(q.offset));
      auto r = db_->run(std::string("SELECT t.id FROM torrents t") + where + " ORDER BY " + column + dir +
                            ", t.id" + dir + " LIMIT " + lim + " OFFSET " + off,
                        p, "search");
      if (!r) return Unexpected<Error>{r.error()};
      for (int i = 0; i < r->size(); ++i) ids.push_back(r->integer(i, 0));
    }
    if (ids.empty()) return page;
    ArrayParam id_array(kInt8Oid);
    for (const auto id : ids) id_array.add(id);
    auto r = db_->run(std::string("SELECT ") + kTorrentColumns + " FROM torrents t WHERE t.id = ANY($1)",
                      Params{}.array(id_array, kInt8Oid), "load search results");
    if (!r) return Unexpected<Error>{r.error()};
    std::unordered_map<std::int64_t, TorrentRecord> rows;
    for (int i = 0; i < r->size(); ++i) {
      TorrentRecord t = torrent_from_row(*r, i);
      rows.emplace(t.id, std::move(t));
    }
    for (const auto id : ids) {
      auto it = rows.find(id);
      if (it == rows.end()) continue;
      page.items.push_back(detail::summary_of(it->second));
    }
    return page;
  }

  StoreResult<std::uint64_t> for_each_torrent(const ExportOptions& options,
                                              const TorrentVisitor& visit) override {
    std::int64_t after = 0;
    return detail::stream_chunks<TorrentRecord>(
        [&](std::vector<TorrentRecord>& chunk) -> Status {
          std::lock_guard lock(mu_);
          auto ts = load_torrents("t.id > $1 ORDER BY t.id LIMIT " + std::to_string(detail::kExportChunk),
                                  Params{}.integer(after), options);
          if (!ts) return Unexpected<Error>{ts.error()};
          chunk = std::move(ts.value());
          if (!chunk.empty()) after = chunk.back().id;
          return {};
        },
        visit);
  }

  StoreResult<std::uint64_t> for_each_without_metadata(const InfohashVisitor& visit) override {
    std::string after;  // the empty bytea sorts before every key
    return detail::stream_chunks<InfohashRecord>(
        [&](std::vector<InfohashRecord>& chunk) -> Status {
          std::lock_guard lock(mu_);
          auto r = db_->run(std::string("SELECT ") + kInfohashColumns +
                                " FROM infohashes WHERE ih > $1 AND state <> 1 ORDER BY ih LIMIT $2",
                            Params{}.bytes(after).integer(static_cast<std::int64_t>(detail::kExportChunk)),
                            "export infohashes");
          if (!r) return Unexpected<Error>{r.error()};
          for (int i = 0; i < r->size(); ++i) chunk.push_back(infohash_from_row(*r, i));
          if (!chunk.empty()) after = std::string(chunk.back().infohash.view());
          return {};
        },
        visit);
  }

  StoreResult<std::uint64_t> for_each_node(const NodeVisitor& visit) override {
    std::string after_ip;  // the empty bytea sorts before every address
    std::int64_t after_port = -1;
    return detail::stream_chunks<NodeRecord>(
        [&](std::vector<NodeRecord>& chunk) -> Status {
          std::lock_guard lock(mu_);
          auto r = db_->run(
              "SELECT ip, port, id, last_seen, good FROM nodes WHERE (ip, port) > ($1, $2) ORDER BY ip, port "
              "LIMIT $3",
              Params{}
                  .bytes(after_ip)
                  .integer(after_port)
                  .integer(static_cast<std::int64_t>(detail::kExportChunk)),
              "export nodes");
          if (!r) return Unexpected<Error>{r.error()};
          for (int i = 0; i < r->size(); ++i) {
            NodeRecord n;
            n.endpoint = endpoint_from(r->bytes(i, 0), r->integer(i, 1));
            if (auto id = NodeId::from_bytes(r->bytes(i, 2))) n.id = *id;
            n.last_seen = from_unix(r->integer(i, 3));
            n.good = r->boolean(i, 4);
            chunk.push_back(n);
          }
          if (!chunk.empty()) {
            after_ip = std::string(chunk.back().endpoint.ip.bytes());
            after_port = chunk.back().endpoint.port;
          }
          return {};
        },
        visit);
  }

  StoreResult<std::uint64_t> for_each_counter_sample(const CounterVisitor& visit) override {
    std::int64_t after = INT64_MIN;
    return detail::stream_chunks<CounterSample>(
        [&](std::vector<CounterSample>& chunk) -> Status {  // a few instants, each with all its samples
          std::lock_guard lock(mu_);
          auto r = db_->run(
              "SELECT c.at, n.name, c.value FROM counter_samples c JOIN counter_names n ON n.id = c.name_id "
              "WHERE c.at IN (SELECT DISTINCT at FROM counter_samples WHERE at > $1 ORDER BY at LIMIT $2) "
              "ORDER BY c.at, n.name",
              Params{}.integer(after).integer(static_cast<std::int64_t>(detail::kExportChunk / 4)),
              "export counters");
          if (!r) return Unexpected<Error>{r.error()};
          for (int i = 0; i < r->size(); ++i) {
            const auto at = from_unix(r->integer(i, 0));
            if (chunk.empty() || chunk.back().at != at) chunk.push_back(CounterSample{at, {}});
            chunk.back().values.emplace_back(r->bytes(i, 1), r->integer(i, 2));
          }
          if (!chunk.empty()) after = to_unix(chunk.back().at);
          return {};
        },
        visit);
  }

  StoreResult<StoreStats> stats() override {
    std::lock_guard lock(mu_);
    auto r =
        db_->run("SELECT nodes, infohashes, torrents, files, peers, pending, failed FROM totals WHERE id = 0",
                 "read totals");
    if (!r) return Unexpected<Error>{r.error()};
    if (r->size() == 0) return fail(ErrorCode::Corrupt, "the totals row is missing");
    StoreStats st;
    st.nodes = static_cast<std::uint64_t>(r->integer(0, 0));
    st.infohashes = static_cast<std::uint64_t>(r->integer(0, 1));
    st.torrents = static_cast<std::uint64_t>(r->integer(0, 2));
    st.files = static_cast<std::uint64_t>(r->integer(0, 3));
    st.peers = static_cast<std::uint64_t>(r->integer(0, 4));
    st.pending = static_cast<std::uint64_t>(r->integer(0, 5));
    st.failed = static_cast<std::uint64_t>(r->integer(0, 6));
    return st;
  }

  StoreResult<std::vector<SeriesPoint>> counter_series(const SeriesQuery& q) override {
    BS_TRY(detail::check_series(q));
    const detail::Buckets b = detail::buckets_of(q);
    std::string sql;
    const std::string from_where =
        " FROM counter_samples WHERE name_id = (SELECT id FROM counter_names WHERE name = $1)"
        " AND at BETWEEN $2 AND $4";
    if (q.aggregate == Aggregate::Last) {
      sql = "SELECT DISTINCT ON (bucket) (at - $2) / $3 AS bucket, value::float8" + from_where +
            " ORDER BY bucket, at DESC";
    } else {
      sql = std::string("SELECT (at - $2) / $3 AS bucket, ") +
            (q.aggregate == Aggregate::Mean ? "avg(value)::float8" : "max(value)::float8") + from_where +
            " GROUP BY bucket ORDER BY bucket";
    }
    std::lock_guard lock(mu_);
    auto r = db_->run(sql, Params{}.bytes(q.name).integer(b.from).integer(b.width).integer(to_unix(q.to)),
                      "read counter series");
    if (!r) return Unexpected<Error>{r.error()};
    std::vector<SeriesPoint> out;
    for (int i = 0; i < r->size(); ++i)
      out.push_back({from_unix(b.from + r->integer(i, 0) * b.width), r->real(i, 1)});
    return out;
  }

  StoreResult<std::vector<std::string>> counter_names() override {
    std::lock_guard lock(mu_);
    auto r = db_->run("SELECT name FROM counter_names ORDER BY name", "read counter names");
    if (!r) return Unexpected<Error>{r.error()};
    std::vector<std::string> out;
    for (int i = 0; i < r->size(); ++i) out.push_back(r->bytes(i, 0));
    return out;
  }

  StoreResult<std::int64_t> register_instance(const InstanceInfo& info) override {
    if (opt_.read_only) return fail(ErrorCode::ReadOnly, "this store was opened read-only");
    std::lock_guard lock(mu_);
    auto old = db_->run("DELETE FROM instances WHERE heartbeat < $1",
                        Params{}.integer(to_unix(info.started - kForgetInstancesAfter)), "forget old instances");
    if (!old) return Unexpected<Error>{old.error()};
    auto r = db_->run(
        "INSERT INTO instances (node_id, listen, host, started, heartbeat) VALUES ($1, $2, $3, $4, $4) "
        "RETURNING id",
        Params{}.bytes(info.node_id.view()).text(info.listen).text(info.host).integer(to_unix(info.started)),
        "register instance");
    if (!r) return Unexpected<Error>{r.error()};
    return r->integer(0, 0);
  }

  Status heartbeat(std::int64_t id, const Heartbeat& hb) override {
    if (opt_.read_only) return fail(ErrorCode::ReadOnly, "this store was opened read-only");
    std::lock_guard lock(mu_);
    auto r = db_->run(
        "UPDATE instances SET heartbeat = $2, infohashes = $3, torrents = $4, infohashes_per_s = $5, "
        "torrents_per_s = $6, packets_per_s = $7, stopped = CASE WHEN $8 <> 0 THEN $2 END WHERE id = $1",
        Params{}
            .integer(id)
            .integer(to_unix(hb.at))
            .integer(static_cast<std::int64_t>(hb.infohashes))
            .integer(static_cast<std::int64_t>(hb.torrents))
            .real(hb.infohashes_per_s)
            .real(hb.torrents_per_s)
            .real(hb.packets_per_s)
            .integer(hb.stopped ? 1 : 0),
        "record heartbeat");
    if (!r) return Unexpected<Error>{r.error()};
    if (r->affected() == 0) return fail(ErrorCode::InvalidArgument, "no instance " + std::to_string(id));
    // Expired leases hold nothing: drop them, whoever held them (this keeps the table at about
    // one lease period of work; every instance does it, an index range each time).
    auto gone = db_->run("DELETE FROM leases WHERE until < $1", Params{}.integer(to_unix(hb.at)),
                         "drop expired leases");
    if (!gone) return Unexpected<Error>{gone.error()};
    return {};
  }

  StoreResult<std::vector<InstanceRecord>> instances(const InstanceQuery& q) override {
    if (q.limit > kMaxInstancesLimit) return fail(ErrorCode::InvalidArgument, "instance limit over 1000");
    std::lock_guard lock(mu_);
    std::string sql = std::string("SELECT * FROM (SELECT ") + kInstanceColumns + " FROM instances";
    Params p;
    p.integer(static_cast<std::int64_t>(q.limit));
    if (q.alive_since) {
      sql += " WHERE stopped IS NULL AND heartbeat >= $2";
      p.integer(to_unix(*q.alive_since));
    }
    sql += " ORDER BY id DESC LIMIT $1) s ORDER BY id";
    auto r = db_->run(sql, p, "read instances");
    if (!r) return Unexpected<Error>{r.error()};
    std::vector<InstanceRecord> out;
    for (int i = 0; i < r->size(); ++i) {
      InstanceRecord x;
      x.id = r->integer(i, 0);
      if (auto id = NodeId::from_bytes(r->bytes(i, 1))) x.info.node_id = *id;
      x.info.listen = std::string(r->text(i, 2));
      x.info.host = std::string(r->text(i, 3));
      x.info.started = from_unix(r->integer(i, 4));
      x.last.at = from_unix(r->integer(i, 5));
      x.last.stopped = !r->is_null(i, 6);
      x.last.infohashes = static_cast<std::uint64_t>(r->integer(i, 7));
      x.last.torrents = static_cast<std::uint64_t>(r->integer(i, 8));
      x.last.infohashes_per_s = r->real(i, 9);
      x.last.torrents_per_s = r->real(i, 10);
      x.last.packets_per_s = r->real(i, 11);
      out.push_back(std::move(x));
    }
    return out;
  }

  // One statement: a lease for every key without a stored torrent whose current lease (if
  // any) may pass to us. Keys in byte order, so two claimers lock rows in the same order.
  StoreResult<std::vector<bool>> claim(std::span<const InfoHash> keys, const Lease& lease) override {
    if (keys.size() > kMaxIsFetchedBatch) return fail(ErrorCode::InvalidArgument, "claim batch over 10000");
    if (opt_.read_only) return fail(ErrorCode::ReadOnly, "this store was opened read-only");
    std::vector<bool> out(keys.size(), false);
    if (keys.empty()) return out;
    const std::set<InfoHash> sorted(keys.begin(), keys.end());
    ArrayParam a(kByteaOid);
    for (const auto& k : sorted) a.add(bytes_of(k));
    std::lock_guard lock(mu_);
    auto r = db_->run(
        std::string("INSERT INTO leases (ih, owner, until) SELECT k, $2, $3 FROM unnest($1::bytea[]) AS k "
                    "WHERE NOT EXISTS (SELECT 1 FROM infohashes i WHERE i.ih = k AND i.torrent_id IS NOT NULL) "
                    "ORDER BY k") +
            kLeaseUpsert,
        Params{}
            .array(a, kByteaOid)
            .integer(lease.instance)
            .integer(to_unix(lease.until))
            .integer(to_unix(lease.now))
            .integer(to_unix(lease.alive_since)),
        "claim infohashes");
    if (!r) return Unexpected<Error>{r.error()};
    std::set<InfoHash> granted;
    for (int i = 0; i < r->size(); ++i) {
      if (auto k = InfoHash::from_bytes(r->bytes(i, 0))) granted.insert(*k);
    }
    for (std::size_t i = 0; i < keys.size(); ++i) out[i] = granted.count(keys[i]) != 0;
    return out;
  }

  // pending_fetch() and the claim in one statement. FOR UPDATE SKIP LOCKED: a pending row
  // that another claimer (or a writer) has locked is passed over, not waited for, so
  // concurrent refills take different keys.
  StoreResult<std::vector<InfohashRecord>> claim_pending(const PendingQuery& q, const Lease& lease) override {
    if (q.limit > kMaxPendingLimit) return fail(ErrorCode::InvalidArgument, "pending limit over 100000");
    if (opt_.read_only) return fail(ErrorCode::ReadOnly, "this store was opened read-only");
    std::string sql =
        "WITH c AS (SELECT i.ih FROM infohashes i WHERE i.state = 0"
        " AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.ih = i.ih AND l.owner <> $2 AND l.until >= $4"
        " AND EXISTS (SELECT 1 FROM instances x WHERE x.id = l.owner AND x.stopped IS NULL"
        " AND x.heartbeat >= $5))";
    Params p;
    p.integer(static_cast<std::int64_t>(q.limit))
        .integer(lease.instance)
        .integer(to_unix(lease.until))
        .integer(to_unix(lease.now))
        .integer(to_unix(lease.alive_since));
    if (q.attempted_before) {
      sql += " AND (i.last_attempt IS NULL OR i.last_attempt <= $6)";
      p.integer(to_unix(*q.attempted_before));
    }
    sql += " ORDER BY i.priority DESC, i.attempts, i.last_seen DESC, i.ih LIMIT $1 FOR UPDATE OF i SKIP LOCKED),"
           " granted AS (INSERT INTO leases (ih, owner, until) SELECT ih, $2, $3 FROM c ORDER BY ih";
    sql += kLeaseUpsert;
    sql += std::string(") SELECT ") + kInfohashColumns +
           " FROM infohashes WHERE ih IN (SELECT ih FROM granted)"
           " ORDER BY priority DESC, attempts, last_seen DESC, ih";
    std::lock_guard lock(mu_);
    auto r = db_->run(sql, p, "claim pending infohashes");
    if (!r) return Unexpected<Error>{r.error()};
    std::vector<InfohashRecord> out;
    for (int i = 0; i < r->size(); ++i) out.push_back(infohash_from_row(*r, i));
    return out;
  }

 private:
  // --- reads (lock held) ---

  StoreResult<std::optional<std::int64_t>> find_torrent_id(const InfoHash& key) {
    auto r = db_->run("SELECT torrent_id FROM infohashes WHERE ih = $1 AND torrent_id IS NOT NULL",
                      Params{}.bytes(bytes_of(key)), "find torrent");
    if (!r) return Unexpected<Error>{r.error()};
    if (r->size() == 0) return std::optional<std::int64_t>{};
    return std::optional<std::int64_t>{r->integer(0, 0)};
  }

  // Which of `keys` have a torrent stored under them, and its id.
  StoreResult<std::map<InfoHash, std::int64_t>> held_keys(std::span<const InfoHash> keys) {
    std::map<InfoHash, std::int64_t> out;
    if (keys.empty()) return out;
    ArrayParam a(kByteaOid);
    for (const auto& k : keys) a.add(bytes_of(k));
    auto r = db_->run("SELECT ih, torrent_id FROM infohashes WHERE ih = ANY($1) AND torrent_id IS NOT NULL",
                      Params{}.array(a, kByteaOid), "find torrents");
    if (!r) return Unexpected<Error>{r.error()};
    for (int i = 0; i < r->size(); ++i) {
      if (auto k = InfoHash::from_bytes(r->bytes(i, 0))) out.emplace(*k, r->integer(i, 1));
    }
    return out;
  }

  // Torrents (with what `options` asks for) matching `tail` ("<condition> [ORDER BY ...]").
  StoreResult<std::vector<TorrentRecord>> load_torrents(const std::string& tail, const Params& p,
                                                        const ExportOptions& options) {
    std::string sql = std::string("SELECT ") + kTorrentColumns;
    sql += options.with_files ? ", f.data" : ", NULL";
    sql += options.with_info_dict ? ", d.data" : ", NULL";
    sql += " FROM torrents t";
    if (options.with_files) sql += " LEFT JOIN file_lists f ON f.torrent_id = t.id";
    if (options.with_info_dict) sql += " LEFT JOIN info_dicts d ON d.torrent_id = t.id";
    sql += " WHERE " + tail;
    auto r = db_->run(sql, p, "read torrents");
    if (!r) return Unexpected<Error>{r.error()};
    std::vector<TorrentRecord> out;
    out.reserve(static_cast<std::size_t>(r->size()));
    for (int i = 0; i < r->size(); ++i) {
      TorrentRecord t = torrent_from_row(*r, i);
      const std::int64_t flags = r->integer(i, 7);
      if (options.with_files) {
        if (flags & kFlagImpliedFile) {
          t.files.push_back(FileRecord{t.name, t.total_size});
        } else if (!r->is_null(i, 10)) {
          auto files = decode_file_list(r->bytes(i, 10), opt_.store.max_files_per_torrent);
          if (!files) return Unexpected<Error>{files.error()};
          t.files = std::move(files.value());
        }
      }
      if (options.with_info_dict && !r->is_null(i, 11)) {
        auto d = zstd_decompress(r->bytes(i, 11), opt_.store.max_info_dict_bytes);
        if (!d) return Unexpected<Error>{d.error()};
        t.info_dict = std::move(d.value());
      }
      out.push_back(std::move(t));
    }
    return out;
  }

  // --- writes (lock held, inside a transaction) ---


  Status apply(const WriteBatch& batch, std::span<const EncodedTorrent> encoded, WriteReport& report) {
    BS_TRY(lock_torrent_keys(batch.torrents));
    BS_TRY(apply_nodes(batch.nodes));
    BS_TRY(apply_sightings(batch.sightings));
    BS_TRY(apply_outcomes(batch.fetch_outcomes));
    BS_TRY(apply_torrents(batch.torrents, encoded, report));
    BS_TRY(apply_peers(batch.peers, report));
    BS_TRY(apply_counters(batch.counters, report));
    return {};
  }

  // Several crawlers may store one torrent at once: the two keys of a hybrid leased to two of
  // them, or one key after a lease passed on. apply_torrents() looks the keys up before it
  // inserts, and two transactions would each miss the other's uncommitted row and store the
  // torrent twice. So a writer first takes a transaction-scoped advisory lock per key (its
  // first 8 bytes; a collision only serialises two writers): the second waits for the first
  // to commit, and its lookup — a new statement, a new snapshot under READ COMMITTED — finds
  // the torrent and merges into it. Taken before any row lock, in key order, by every
  // writer: no lock cycle.
  Status lock_torrent_keys(const std::vector<TorrentRecord>& torrents) {
    if (torrents.empty()) return {};
    std::set<std::int64_t> locks;
    for (const auto& t : torrents) {
      for (const auto& k : {t.infohash_v1, t.infohash_v2_truncated()}) {
        if (!k) continue;
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | k->bytes[i];
        locks.insert(static_cast<std::int64_t>(v));
      }
    }
    ArrayParam a(kInt8Oid);
    for (const auto v : locks) a.add(v);  // ascending: unnest() yields them in this order
    auto r = db_->run("SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k",
                      Params{}.array(a, kInt8Oid), "lock torrent keys");
    if (!r) return Unexpected<Error>{r.error()};
    return {};
  }

  Status apply_nodes(const std::vector<NodeRecord>& nodes) {
    if (nodes.empty()) return {};
    // The batch's view of each endpoint, merged in order as the upsert would merge it.
    std::map<EndpointKey, NodeRecord> merged;
    for (const auto& n : nodes) {
      auto [it, fresh] = merged.emplace(key_of(n.endpoint), n);
      if (fresh) continue;
      NodeRecord& m = it->second;
      if (n.last_seen >= m.last_seen) {
        m.id = n.id;
        m.good = n.good;
        m.last_seen = n.last_seen;
      }
    }
    ArrayParam ip(kByteaOid), port(kInt8Oid), id(kByteaOid), seen(kInt8Oid), good(kBoolOid);
    for (const auto& [k, n] : merged) {
      ip.add(n.endpoint.ip.bytes());
      port.add(static_cast<std::int64_t>(n.endpoint.port));
      id.add(n.id.view());
      seen.add(to_unix(n.last_seen));
      good.add(n.good);
    }
    auto r = db_->run(
        "INSERT INTO nodes (ip, port, id, last_seen, good) SELECT * FROM unnest($1, $2::int8[], $3, $4, $5) "
        "ON CONFLICT (ip, port) DO UPDATE SET "
        "id = CASE WHEN excluded.last_seen >= nodes.last_seen THEN excluded.id ELSE nodes.id END, "
        "good = CASE WHEN excluded.last_seen >= nodes.last_seen THEN excluded.good ELSE nodes.good END, "
        "last_seen = greatest(nodes.last_seen, excluded.last_seen)",
        Params{}
            .array(ip, kByteaOid)
            .array(port, kInt8Oid)
            .array(id, kByteaOid)
            .array(seen, kInt8Oid)
            .array(good, kBoolOid),
        "upsert nodes");
    if (!r) return Unexpected<Error>{r.error()};
    return {};
  }

  Status apply_sightings(const std::vector<InfohashSighting>& sightings) {
    if (sightings.empty()) return {};
    std::map<InfoHash, InfohashRecord> merged;
    for (const auto& s : sightings) {
      auto it = merged.find(s.infohash);
      if (it == merged.end()) {
        merged.emplace(s.infohash, detail::from_sighting(s));
      } else {
        detail::merge_sighting(it->second, s);
      }
    }
    ArrayParam ih(kByteaOid), first(kInt8Oid), last(kInt8Oid), src(kInt8Oid), peers(kInt8Oid), prio(kInt8Oid);
    for (const auto& [k, h] : merged) {
      ih.add(bytes_of(k));
      first.add(to_unix(h.first_seen));
      last.add(to_unix(h.last_seen));
      src.add(static_cast<std::int64_t>(h.sources));
      peers.add(static_cast<std::int64_t>(h.peers));
      prio.add(static_cast<std::int64_t>(h.priority));
    }
    auto r = db_->run(
        "INSERT INTO infohashes (ih, first_seen, last_seen, sources, peers, attempts, last_attempt, state, "
        "priority) "
        "SELECT ih, f, l, s, p, 0, NULL, 0, pr FROM unnest($1, $2, $3, $4, $5, $6) AS u(ih, f, l, s, p, pr) "
        "ON CONFLICT (ih) DO UPDATE SET first_seen = least(infohashes.first_seen, excluded.first_seen), "
        "last_seen = greatest(infohashes.last_seen, excluded.last_seen), "
        "sources = infohashes.sources | excluded.sources, peers = greatest(infohashes.peers, "
        "excluded.peers), "
        "priority = greatest(infohashes.priority, excluded.priority)",
        Params{}
            .array(ih, kByteaOid)
            .array(first, kInt8Oid)
            .array(last, kInt8Oid)
            .array(src, kInt8Oid)
            .array(peers, kInt8Oid)
            .array(prio, kInt8Oid),
        "record sightings");
    if (!r) return Unexpected<Error>{r.error()};
    return {};
  }

  Status apply_outcomes(const std::vector<FetchOutcome>& outcomes) {
    if (outcomes.empty()) return {};
    // Per key, in batch order: n attempts, the first time (a new key's first_seen), the last
    // (last_attempt), and whether any was permanent.
    struct Merged {
      std::int64_t first, last, n = 0;
      bool failed = false;
    };
    std::map<InfoHash, Merged> merged;
    for (const auto& o : outcomes) {
      auto [it, fresh] = merged.emplace(o.infohash, Merged{to_unix(o.at), to_unix(o.at)});
      it->second.last = to_unix(o.at);
      it->second.n += 1;
      it->second.failed = it->second.failed || o.permanent_failure;
    }
    ArrayParam ih(kByteaOid), first(kInt8Oid), last(kInt8Oid), n(kInt8Oid), state(kInt8Oid);
    for (const auto& [k, m] : merged) {
      ih.add(bytes_of(k));
      first.add(m.first);
      last.add(m.last);
      n.add(m.n);
      state.add(static_cast<std::int64_t>(m.failed ? 2 : 0));
    }
    auto r = db_->run(
        "INSERT INTO infohashes (ih, first_seen, last_seen, sources, peers, attempts, last_attempt, state, "
        "priority) "
        "SELECT ih, f, f, 0, 0, n, l, s, 0 FROM unnest($1, $2, $3, $4, $5) AS u(ih, f, l, n, s) "
        "ON CONFLICT (ih) DO UPDATE SET attempts = infohashes.attempts + excluded.attempts, "
        "last_attempt = excluded.last_attempt, state = CASE WHEN infohashes.state = 1 THEN 1 "
        "WHEN excluded.state = 2 THEN 2 ELSE infohashes.state END",
        Params{}
            .array(ih, kByteaOid)
            .array(first, kInt8Oid)
            .array(last, kInt8Oid)
            .array(n, kInt8Oid)
            .array(state, kInt8Oid),
        "record fetch outcomes");
    if (!r) return Unexpected<Error>{r.error()};
    return {};
  }

  // A torrent of this batch that is new: inserted at the end, and may still gain keys from
  // later duplicates in the batch.
  struct NewTorrent {
    const TorrentRecord* t;
    const EncodedTorrent* e;
    std::size_t keep;  // files kept
    std::optional<InfoHash> v1;
    std::optional<Sha256Digest> v2;
  };

  Status apply_torrents(const std::vector<TorrentRecord>& torrents, std::span<const EncodedTorrent> encoded,
                        WriteReport& report) {
    if (torrents.empty()) return {};
    std::vector<InfoHash> keys;
    for (const auto& t : torrents) {
      if (t.infohash_v1) keys.push_back(*t.infohash_v1);
      if (auto k = t.infohash_v2_truncated()) keys.push_back(*k);
    }
    // key -> torrent id, for the database and then also for this batch (new ids are negative
    // until the sequence gives them out: -1 - index into `fresh`).
    auto held_r = held_keys(keys);
    if (!held_r) return Unexpected<Error>{held_r.error()};
    std::map<InfoHash, std::int64_t> held = std::move(held_r.value());
    std::vector<NewTorrent> fresh;
    // Keys to mark fetched: key -> (first_seen candidate, torrent id or pending index).
    std::map<InfoHash, std::pair<std::int64_t, std::int64_t>> marks;
    auto mark = [&](const InfoHash& k, std::int64_t at, std::int64_t id) {
      auto [it, added] = marks.emplace(k, std::pair{at, id});
      if (!added) it->second = {std::min(it->second.first, at), id};
      held[k] = id;
    };
    for (std::size_t i = 0; i < torrents.size(); ++i) {
      const TorrentRecord& t = torrents[i];
      const auto keep = detail::check_torrent(t, opt_.store);
      if (!keep) {
        ++report.rejected;
        continue;
      }
      const auto v1 = t.infohash_v1;
      const auto v2t = t.infohash_v2_truncated();
      std::optional<std::int64_t> by_v1, by_v2;
      if (v1) {
        if (auto it = held.find(*v1); it != held.end()) by_v1 = it->second;
      }
      if (v2t) {
        if (auto it = held.find(*v2t); it != held.end()) by_v2 = it->second;
      }
      if (by_v1 || by_v2) {
        // The first stored copy wins and gains the keys of t it lacks, unless another torrent
        // holds them (store.hpp).
        ++report.torrents_duplicate;
        const std::int64_t stored = by_v1 ? *by_v1 : *by_v2;
        if (t.infohash_v2 && !by_v2)
          BS_TRY(merge_key(stored, false, bytes_of(*t.infohash_v2), *v2t, fresh, mark));
        if (v1 && !by_v1) BS_TRY(merge_key(stored, true, bytes_of(*v1), *v1, fresh, mark));
        continue;
      }
      const std::int64_t pending = -1 - static_cast<std::int64_t>(fresh.size());
      fresh.push_back(NewTorrent{&t, &encoded[i], *keep, v1, t.infohash_v2});
      ++report.torrents_added;
      for (const auto& k : {v1, v2t}) {
        if (k) mark(*k, to_unix(t.discovered_at), pending);
      }
    }
    std::vector<std::int64_t> ids;
    if (!fresh.empty()) {
      auto r = db_->run("SELECT nextval('torrents_id_seq') FROM generate_series(1, $1)",
                        Params{}.integer(static_cast<std::int64_t>(fresh.size())), "allocate torrent ids");
      if (!r) return Unexpected<Error>{r.error()};
      for (int i = 0; i < r->size(); ++i) ids.push_back(r->integer(i, 0));
      std::sort(ids.begin(), ids.end());  // batch order is id order: newer is higher
      if (ids.size() != fresh.size()) return fail(ErrorCode::Internal, "the id sequence gave too few ids");
      BS_TRY(insert_torrents(fresh, ids));
    }
    if (marks.empty()) return {};
    ArrayParam ih(kByteaOid), at(kInt8Oid), tid(kInt8Oid);
    for (const auto& [k, m] : marks) {
      const std::int64_t id = m.second < 0 ? ids[static_cast<std::size_t>(-1 - m.second)] : m.second;
      ih.add(bytes_of(k));
      at.add(m.first);
      tid.add(id);
    }
    auto r = db_->run(
        "INSERT INTO infohashes (ih, first_seen, last_seen, sources, peers, attempts, last_attempt, state, "
        "priority, "
        "torrent_id) SELECT ih, a, a, 0, 0, 0, NULL, 1, 0, id FROM unnest($1, $2, $3) AS u(ih, a, id) "
        "ON CONFLICT (ih) DO UPDATE SET first_seen = least(infohashes.first_seen, excluded.first_seen), "
        "state = 1, "
        "torrent_id = excluded.torrent_id",
        Params{}.array(ih, kByteaOid).array(at, kInt8Oid).array(tid, kInt8Oid), "mark infohashes fetched");
    if (!r) return Unexpected<Error>{r.error()};
    return {};
  }

  // Gives stored torrent `stored` (a database id, or a pending one of this batch) the key
  // `raw` (v1: 20 bytes; else the 32-byte v2) if it has none of that kind yet.
  template <class Mark>
  Status merge_key(std::int64_t stored, bool v1, std::string_view raw, const InfoHash& key,
                   std::vector<NewTorrent>& fresh, Mark& mark) {
    if (stored < 0) {
      NewTorrent& n = fresh[static_cast<std::size_t>(-1 - stored)];
      if (v1 && !n.v1) {
        n.v1 = key;
      } else if (!v1 && !n.v2) {
        Sha256Digest d;
        std::memcpy(d.data(), raw.data(), 32);
        n.v2 = d;
      } else {
        return {};
      }
      mark(key, to_unix(n.t->discovered_at), stored);
      return {};
    }
    const std::string sql =
        v1 ? "UPDATE torrents SET ih_v1 = $2 WHERE id = $1 AND ih_v1 IS NULL RETURNING discovered_at"
           : "UPDATE torrents SET ih_v2 = $2 WHERE id = $1 AND ih_v2 IS NULL RETURNING discovered_at";
    auto r = db_->run(sql, Params{}.integer(stored).bytes(raw), "merge torrent key");
    if (!r) return Unexpected<Error>{r.error()};
    if (r->size() == 1) mark(key, r->integer(0, 0), stored);
    return {};
  }

  Status insert_torrents(const std::vector<NewTorrent>& fresh, const std::vector<std::int64_t>& ids) {
    ArrayParam id(kInt8Oid), v1(kByteaOid), v2(kByteaOid), name(kByteaOid), size(kInt8Oid), piece(kInt8Oid),
        count(kInt8Oid), flags(kInt8Oid), disc(kInt8Oid), fetched(kInt8Oid), doc(kTextOid);
    ArrayParam fl_id(kInt8Oid), fl_data(kByteaOid), id_id(kInt8Oid), id_data(kByteaOid);
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      const NewTorrent& n = fresh[i];
      const TorrentRecord& t = *n.t;
      const std::span<const FileRecord> files(t.files.data(), n.keep);
      const bool implied = detail::implied_file(t, files);
      id.add(ids[i]);
      if (n.v1)
        v1.add(bytes_of(*n.v1));
      else
        v1.add_null();
      if (n.v2)
        v2.add(bytes_of(*n.v2));
      else
        v2.add_null();
      name.add(std::string_view(t.name));
      size.add(t.total_size);
      piece.add(t.piece_length);
      count.add(static_cast<std::int64_t>(t.file_count));
      flags.add((t.is_private ? kFlagPrivate : 0) | (implied ? kFlagImpliedFile : 0));
      disc.add(to_unix(t.discovered_at));
      fetched.add(to_unix(t.fetched_at));
      doc.add(std::string_view(search_document(t.name, n.e->path_terms)));
      if (!n.e->file_list.empty()) {
        fl_id.add(ids[i]);
        fl_data.add(std::string_view(n.e->file_list));
      }
      if (!n.e->info_dict.empty()) {
        id_id.add(ids[i]);
        id_data.add(std::string_view(n.e->info_dict));
      }
    }
    auto r = db_->run(
        "INSERT INTO torrents (id, ih_v1, ih_v2, name, total_size, piece_length, file_count, flags, "
        "discovered_at, "
        "fetched_at, doc) SELECT id, v1, v2, n, s, p, c, f, d, fe, doc::tsvector FROM "
        "unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) AS u(id, v1, v2, n, s, p, c, f, d, fe, doc)",
        Params{}
            .array(id, kInt8Oid)
            .array(v1, kByteaOid)
            .array(v2, kByteaOid)
            .array(name, kByteaOid)
            .array(size, kInt8Oid)
            .array(piece, kInt8Oid)
            .array(count, kInt8Oid)
            .array(flags, kInt8Oid)
            .array(disc, kInt8Oid)
            .array(fetched, kInt8Oid)
            .array(doc, kTextOid),
        "insert torrents");
    if (!r) return Unexpected<Error>{r.error()};
    if (fl_id.size() > 0) {
      auto f = db_->run("INSERT INTO file_lists (torrent_id, data) SELECT * FROM unnest($1, $2)",
                        Params{}.array(fl_id, kInt8Oid).array(fl_data, kByteaOid), "insert file lists");
      if (!f) return Unexpected<Error>{f.error()};
    }
    if (id_id.size() > 0) {
      auto d = db_->run("INSERT INTO info_dicts (torrent_id, data) SELECT * FROM unnest($1, $2)",
                        Params{}.array(id_id, kInt8Oid).array(id_data, kByteaOid), "insert info dicts");
      if (!d) return Unexpected<Error>{d.error()};
    }
    return {};
  }

  Status apply_peers(const std::vector<PeerRecord>& peers, WriteReport& report) {
    if (peers.empty()) return {};
    // Keys first met here start with the first peer's time; each (key, endpoint) once, latest.
    std::map<InfoHash, std::int64_t> keys;
    std::map<std::pair<InfoHash, EndpointKey>, std::int64_t> merged;
    for (const auto& p : peers) {
      keys.emplace(p.infohash, to_unix(p.last_seen));
      auto [it, fresh] = merged.emplace(std::pair{p.infohash, key_of(p.endpoint)}, to_unix(p.last_seen));
      if (!fresh) it->second = std::max(it->second, to_unix(p.last_seen));
    }
    {
      ArrayParam ih(kByteaOid), at(kInt8Oid);
      for (const auto& [k, t] : keys) {
        ih.add(bytes_of(k));
        at.add(t);
      }
      auto r = db_->run(
          "INSERT INTO infohashes (ih, first_seen, last_seen, sources, peers, attempts, last_attempt, state, "
          "priority) "
          "SELECT ih, a, a, 0, 0, 0, NULL, 0, 0 FROM unnest($1, $2) AS u(ih, a) ON CONFLICT DO NOTHING",
          Params{}.array(ih, kByteaOid).array(at, kInt8Oid), "add infohashes of peers");
      if (!r) return Unexpected<Error>{r.error()};
    }
    {
      ArrayParam ih(kByteaOid), ip(kByteaOid), port(kInt8Oid), seen(kInt8Oid);
      for (const auto& [k, t] : merged) {
        ih.add(bytes_of(k.first));
        ip.add(std::string_view(k.second.first));
        port.add(static_cast<std::int64_t>(k.second.second));
        seen.add(t);
      }
      auto r = db_->run(
          "INSERT INTO peers (ih, ip, port, last_seen) SELECT * FROM unnest($1, $2, $3::int8[], $4) "
          "ON CONFLICT (ih, ip, port) DO UPDATE SET last_seen = greatest(peers.last_seen, "
          "excluded.last_seen)",
          Params{}.array(ih, kByteaOid).array(ip, kByteaOid).array(port, kInt8Oid).array(seen, kInt8Oid),
          "record peers");
      if (!r) return Unexpected<Error>{r.error()};
    }
    ArrayParam touched(kByteaOid);
    for (const auto& [k, t] : keys) touched.add(bytes_of(k));
    auto r = db_->run(
        "DELETE FROM peers p USING (SELECT ih, ip, port FROM (SELECT ih, ip, port, row_number() OVER "
        "(PARTITION BY ih ORDER BY last_seen DESC, ip, port) AS rn FROM peers WHERE ih = ANY($1)) x "
        "WHERE rn > $2) d WHERE p.ih = d.ih AND p.ip = d.ip AND p.port = d.port",
        Params{}
            .array(touched, kByteaOid)
            .integer(static_cast<std::int64_t>(opt_.store.max_peers_per_infohash)),
        "bound peers");
    if (!r) return Unexpected<Error>{r.error()};
    report.peers_evicted += static_cast<std::size_t>(r->affected());
    return {};
  }

  Status apply_counters(const std::vector<CounterSample>& samples, WriteReport& report) {
    if (samples.empty()) return {};
    std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> merged;  // (name id, at) -> last value
    for (const auto& c : samples) {
      for (const auto& [name, value] : c.values) {
        if (!detail::valid_counter_name(name)) {
          ++report.rejected;
          continue;
        }
        auto id = counter_id(name);
        if (!id) return Unexpected<Error>{id.error()};
        if (!id->has_value()) {
          ++report.rejected;
          continue;
        }
        merged[{**id, to_unix(c.at)}] = value;
      }
    }
    if (merged.empty()) return {};
    ArrayParam nid(kInt8Oid), at(kInt8Oid), val(kInt8Oid);
    for (const auto& [k, v] : merged) {
      nid.add(k.first);
      at.add(k.second);
      val.add(v);
    }
    auto r = db_->run(
        "INSERT INTO counter_samples (name_id, at, value) SELECT * FROM unnest($1, $2, $3) "
        "ON CONFLICT (name_id, at) DO UPDATE SET value = excluded.value",
        Params{}.array(nid, kInt8Oid).array(at, kInt8Oid).array(val, kInt8Oid), "record counters");
    if (!r) return Unexpected<Error>{r.error()};
    return {};
  }

  // The id of a counter name, created if there is room; nullopt past max_counter_names.
  StoreResult<std::optional<std::int64_t>> counter_id(const std::string& name) {
    if (counter_ids_.empty()) {
      auto r = db_->run("SELECT id, name FROM counter_names", "read counter names");
      if (!r) return Unexpected<Error>{r.error()};
      for (int i = 0; i < r->size(); ++i) counter_ids_.emplace(r->bytes(i, 1), r->integer(i, 0));
    }
    if (auto it = counter_ids_.find(name); it != counter_ids_.end())
      return std::optional<std::int64_t>{it->second};
    if (counter_ids_.size() >= opt_.store.max_counter_names) return std::optional<std::int64_t>{};
    // Another writer may have added the name since we read them: the upsert returns its id.
    auto r = db_->run(
        "INSERT INTO counter_names (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = excluded.name "
        "RETURNING id",
        Params{}.bytes(name), "add counter name");
    if (!r) return Unexpected<Error>{r.error()};
    const std::int64_t id = r->integer(0, 0);
    counter_ids_.emplace(name, id);
    return std::optional<std::int64_t>{id};
  }

  std::mutex mu_;
  std::unique_ptr<Conn> db_;
  PgOptions opt_;
  ZstdCompressor zstd_;
  std::map<std::string, std::int64_t> counter_ids_;  // cache; cleared on rollback
};

// --- opening and migrating ---

StoreResult<int> schema_version(Conn& db) {
  auto exists = db.run("SELECT to_regclass('schema_version') IS NOT NULL", "read schema");
  if (!exists) return Unexpected<Error>{exists.error()};
  if (!exists->boolean(0, 0)) return 0;
  auto r = db.run("SELECT coalesce(max(version), 0) FROM schema_version", "read schema version");
  if (!r) return Unexpected<Error>{r.error()};
  return static_cast<int>(r->integer(0, 0));
}

Status migrate(Conn& db, std::span<const Migration> ms) {
  const int known = static_cast<int>(ms.size());
  for (const auto& m : ms) {
    BS_TRY(db.exec("BEGIN", "begin migration"));
    auto step = [&]() -> StoreResult<bool> {
      // One migrator at a time; read the version after the lock (another may have migrated).
      auto l =
          db.run("SELECT pg_advisory_xact_lock($1)", Params{}.integer(kMigrationLock), "lock for migration");
      if (!l) return Unexpected<Error>{l.error()};
      BS_TRY(db.exec(
          "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, name text NOT NULL, "
          "applied_at bigint NOT NULL)",
          "create schema_version"));
      auto current = schema_version(db);
      if (!current) return Unexpected<Error>{current.error()};
      if (*current > known) return Unexpected<Error>{detail::schema_too_new(*current, known)};
      if (*current >= m.version) return false;
      if (auto st = db.exec(std::string(m.sql), "migration"); !st) {
        return fail(ErrorCode::Migration, "schema migration v" + std::to_string(m.version) + " (" +
                                              std::string(m.name) +
                                              ") failed and was rolled back, the database " + "stays at v" +
                                              std::to_string(m.version - 1) + ": " + st.error().message);
      }
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      auto rec = db.run("INSERT INTO schema_version (version, name, applied_at) VALUES ($1::int8, $2, $3)",
                        Params{}.integer(m.version).text(m.name).integer(now), "record migration");
      if (!rec) return Unexpected<Error>{rec.error()};
      return true;
    };
    auto done = step();
    Status st;
    if (!done) st = Unexpected<Error>{done.error()};
    if (st) st = db.exec("COMMIT", "commit migration");
    if (!st) {
      db.rollback();
      return st;
    }
  }
  auto current = schema_version(db);
  if (!current) return Unexpected<Error>{current.error()};
  if (*current > known) return Unexpected<Error>{detail::schema_too_new(*current, known)};
  return {};
}

}  // namespace

bool is_postgres_uri(std::string_view target) noexcept {
  return target.starts_with("postgresql://") || target.starts_with("postgres://");
}

std::string redact_uri(std::string_view uri) {
  // scheme://user:password@host...: hide the password.
  const auto scheme = uri.find("://");
  if (scheme == std::string_view::npos) return std::string(uri);
  const auto auth_end = uri.find_first_of("/?", scheme + 3);
  const std::string_view authority =
      uri.substr(scheme + 3, auth_end == std::string_view::npos ? uri.npos : auth_end - scheme - 3);
  const auto at = authority.rfind('@');
  std::string out(uri);
  if (at != std::string_view::npos) {
    const auto colon = authority.substr(0, at).find(':');
    if (colon != std::string_view::npos) {
      out = std::string(uri.substr(0, scheme + 3 + colon + 1)) + "***" +
            std::string(uri.substr(scheme + 3 + at));
    }
  }
  // password=... in the query string
  if (auto p = out.find("password="); p != std::string::npos) {
    const auto end = out.find('&', p);
    out = out.substr(0, p + 9) + "***" + (end == std::string::npos ? "" : out.substr(end));
  }
  return out;
}

StoreResult<std::unique_ptr<Store>> open_pg_store(const std::string& uri, const PgOptions& options) {
  return open_pg_store(uri, options, pg_migrations());
}

StoreResult<std::unique_ptr<Store>> open_pg_store(const std::string& uri, const PgOptions& options,
                                                  std::span<const Migration> migrations) {
  BS_TRY(detail::check_migration_list(migrations));
  if (!is_postgres_uri(uri)) {
    return fail(ErrorCode::InvalidArgument,
                "not a PostgreSQL URI (postgresql://user@host:port/dbname): " + uri);
  }
  // connect_timeout and the application name ride along as connection parameters; a URI
  // that sets them wins (libpq takes the last of repeated keywords, so they come first).
  const std::string timeout = std::to_string(std::max<std::int64_t>(1, options.connect_timeout.count()));
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), "bitscrape", uri.c_str(), nullptr};
  PGconn* raw = PQconnectdbParams(keys, values, 1);
  if (!raw || PQstatus(raw) != CONNECTION_OK) {
    Error e = connect_error(raw, uri);
    PQfinish(raw);
    return Unexpected<Error>{e};
  }
  auto db = std::make_unique<Conn>(raw, uri);
  Conn* c = db.get();
  auto session = [c, options]() -> Status {
    std::string sql =
        "SET client_min_messages = warning; SET bytea_output = 'hex'; SET client_encoding = 'UTF8';";
    sql += options.durability == Durability::Full ? "SET synchronous_commit = on;"
                                                  : "SET synchronous_commit = off;";
    if (options.read_only) sql += "SET default_transaction_read_only = on;";
    return c->exec(sql, "configure session");
  };
  BS_TRY(session());
  db->on_reconnect(session);
  if (options.read_only) {
    auto v = schema_version(*db);
    if (!v) return Unexpected<Error>{v.error()};
    const int known = static_cast<int>(migrations.size());
    if (*v > known) return Unexpected<Error>{detail::schema_too_new(*v, known)};
    if (*v == 0) {
      return fail(
          ErrorCode::Migration,
          "no bitscrape data in this database yet: run `bitscrape crawl --db URI` or `bitscrape migrate "
          "--from FILE --to URI` first");
    }
    if (*v < known) {
      return fail(ErrorCode::Migration, "database schema v" + std::to_string(*v) + " needs migrating to v" +
                                            std::to_string(known) + "; open it read-write once (" +
                                            redact_uri(uri) + ")");
    }
  } else {
    BS_TRY(migrate(*db, migrations));
  }
  std::unique_ptr<Store> store = std::make_unique<PgStore>(std::move(db), options);
  return store;
}

}  // namespace bitscrape::storage
