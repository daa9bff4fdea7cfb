#include "storage/sqlite_store.hpp"

#include "storage/codec.hpp"
#include "storage/search_text.hpp"
#include "storage/store_rules.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>

namespace bitscrape::storage {
namespace {

#define BS_TRY(expr)                                                   \
  do {                                                                 \
    if (auto bs_status_ = (expr); !bs_status_) {                       \
      return Unexpected<Error>{bs_status_.error()};                    \
    }                                                                  \
  } while (false)

constexpr std::int64_t kFlagPrivate = 1;
constexpr std::int64_t kFlagImpliedFile = 2;  // no file_lists row: one file named like the torrent
constexpr std::size_t kStatementCacheMax = 256;

std::string_view as_view(const void* p, int n) {
  return p ? std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string_view{};
}

std::string_view bytes_of(const InfoHash& h) { return h.view(); }
std::string_view bytes_of(const Sha256Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// A cached prepared statement, borrowed for one use: reset and unbound when it goes away.
// `borrowed` counts the statements out of the cache (the cache never evicts while any is).
class Stmt {
 public:
  Stmt(sqlite3_stmt* s, int& borrowed) : s_(s), borrowed_(&borrowed) { ++*borrowed_; }
  ~Stmt() {
    if (s_) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
      --*borrowed_;
    }
  }
  Stmt(Stmt&& o) noexcept : s_(std::exchange(o.s_, nullptr)), borrowed_(o.borrowed_) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& operator=(Stmt&&) = delete;

  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind_blob(int i, std::string_view b) {
    sqlite3_bind_blob(s_, i, b.data(), static_cast<int>(b.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& bind_text(int i, std::string_view t) {
    sqlite3_bind_text(s_, i, t.data(), static_cast<int>(t.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& bind_real(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  int step() { return sqlite3_step(s_); }
  // Ready to run again with new bindings (the destructor does this too).
  void reset() { sqlite3_reset(s_); }

  std::int64_t integer(int c) const { return sqlite3_column_int64(s_, c); }
  bool is_null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::string_view blob(int c) const {
    const void* p = sqlite3_column_blob(s_, c);
    return as_view(p, sqlite3_column_bytes(s_, c));
  }
  std::string_view text(int c) const {
    const unsigned char* p = sqlite3_column_text(s_, c);
    return as_view(p, sqlite3_column_bytes(s_, c));
  }
  double real(int c) const { return sqlite3_column_double(s_, c); }

 private:
  sqlite3_stmt* s_;
  int* borrowed_;
};

class Db {
 public:
  Db(sqlite3* db, std::string path, std::chrono::milliseconds busy)
      : db_(db), path_(std::move(path)), busy_(busy) {}
  ~Db() {
    for (auto& [sql, s] : cache_) sqlite3_finalize(s);
    sqlite3_close_v2(db_);
  }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* raw() const { return db_; }

  // Maps an SQLite result code to an Error that says what to do.
  Error error(int rc, std::string_view what) const {
    const int primary = rc & 0xFF;
    std::string detail = std::string(what) + ": " + sqlite3_errmsg(db_) + " (" + path_ + ")";
    switch (primary) {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return Error{ErrorCode::Locked,
                     "database is locked by another bitscrape process? '" + path_ + "' stayed locked for " +
                         std::to_string(busy_.count()) +
                         " ms. Only one process may write a database at a time: stop the other bitscrape "
                         "(or whatever has the file open), point this one at another database file, or raise "
                         "the storage busy timeout. [" +
                         std::string(what) + "]"};
      case SQLITE_FULL: return Error{ErrorCode::Full, "disk or database full: " + detail};
      case SQLITE_IOERR:
      case SQLITE_CANTOPEN:
      case SQLITE_PERM:
      case SQLITE_AUTH: return Error{ErrorCode::Io, detail};
      case SQLITE_CORRUPT:
      case SQLITE_NOTADB: return Error{ErrorCode::Corrupt, "not a bitscrape database or damaged: " + detail};
      case SQLITE_READONLY: return Error{ErrorCode::ReadOnly, detail};
      default: return Error{ErrorCode::Internal, detail};
    }
  }

  StoreResult<Stmt> prepare(const std::string& sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return Stmt(it->second, borrowed_);
    if (cache_.size() >= kStatementCacheMax && borrowed_ == 0) {
      // Only dynamic search SQL grows the cache; dropping it all is simple and rare.
      for (auto& [k, s] : cache_) sqlite3_finalize(s);
      cache_.clear();
    }
    sqlite3_stmt* s = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s,
                                      nullptr);
    if (rc != SQLITE_OK) return Unexpected<Error>{error(rc, "prepare")};
    cache_.emplace(sql, s);
    return Stmt(s, borrowed_);
  }

  // Runs statements without results (DDL, PRAGMA, BEGIN/COMMIT).
  Status exec(const std::string& sql, std::string_view what) {
    char* msg = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg);
    sqlite3_free(msg);
    if (rc != SQLITE_OK) return Unexpected<Error>{error(rc, what)};
    return {};
  }

  // Steps a statement expected to finish without rows.
  Status done(Stmt& s, std::string_view what) {
    const int rc = s.step();
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return Unexpected<Error>{error(rc, what)};
    return {};
  }

  std::int64_t changes() const { return sqlite3_changes64(db_); }
  std::int64_t last_rowid() const { return sqlite3_last_insert_rowid(db_); }

 private:
  sqlite3* db_;
  std::string path_;
  std::chrono::milliseconds busy_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  int borrowed_ = 0;
};

// A row step: true on a row, false when done; an Error otherwise.
StoreResult<bool> next_row(Db& db, Stmt& s, std::string_view what) {
  const int rc = s.step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Unexpected<Error>{db.error(rc, what)};
}

constexpr const char* kTorrentColumns =
    "t.id, t.ih_v1, t.ih_v2, t.name, t.total_size, t.piece_length, t.file_count, t.flags, t.discovered_at, "
    "t.fetched_at";

TorrentRecord torrent_from_row(const Stmt& s) {
  TorrentRecord t;
  t.id = s.integer(0);
  if (!s.is_null(1)) t.infohash_v1 = InfoHash::from_bytes(s.blob(1));
  if (!s.is_null(2) && s.blob(2).size() == 32) {
    Sha256Digest d;
    std::memcpy(d.data(), s.blob(2).data(), 32);
    t.infohash_v2 = d;
  }
  t.name = std::string(s.text(3));
  t.total_size = s.integer(4);
  t.piece_length = s.integer(5);
  t.file_count = static_cast<std::uint32_t>(s.integer(6));
  t.is_private = (s.integer(7) & kFlagPrivate) != 0;
  t.discovered_at = from_unix(s.integer(8));
  t.fetched_at = from_unix(s.integer(9));
  return t;
}

constexpr const char* kInstanceColumns =
    "id, node_id, listen, host, started, heartbeat, stopped, infohashes, torrents, infohashes_per_s, "
    "torrents_per_s, packets_per_s";
constexpr const char* kInfohashColumns =
    "ih, first_seen, last_seen, sources, peers, attempts, last_attempt, state, priority";

InfohashRecord infohash_from_row(const Stmt& s) {
  InfohashRecord r;
  if (auto k = InfoHash::from_bytes(s.blob(0))) r.infohash = *k;
  r.first_seen = from_unix(s.integer(1));
  r.last_seen = from_unix(s.integer(2));
  r.sources = static_cast<SourceMask>(s.integer(3));
  r.peers = static_cast<std::uint32_t>(s.integer(4));
  r.fetch_attempts = static_cast<std::uint32_t>(s.integer(5));
  if (!s.is_null(6)) r.last_attempt = from_unix(s.integer(6));
  r.state = static_cast<FetchState>(s.integer(7));
  r.priority = static_cast<std::int32_t>(s.integer(8));
  return r;
}

Endpoint endpoint_from(std::string_view ip, std::int64_t port) {
  Endpoint e;
  if (auto a = IpAddress::from_bytes(ip)) e.ip = *a;
  e.port = static_cast<std::uint16_t>(port);
  return e;
}

class SqliteStore final : public Store {
 public:
  SqliteStore(std::unique_ptr<Db> db, const SqliteOptions& o)
      : db_(std::move(db)), opt_(o), zstd_(o.zstd_level) {}

  ~SqliteStore() override {
    if (!opt_.read_only) (void)db_->exec("PRAGMA optimize", "optimize");
  }

  void prepare(WriteBatch& batch) const override { detail::encode_batch(batch, opt_.store, opt_.zstd_level); }

  StoreResult<WriteReport> write(const WriteBatch& batch) override {
    if (opt_.read_only) return fail(ErrorCode::ReadOnly, "this store was opened read-only");
    std::lock_guard lock(mu_);
    std::vector<EncodedTorrent> own;
    const auto encoded = detail::encoded_torrents(batch, opt_.store, zstd_, own);
    BS_TRY(db_->exec("BEGIN IMMEDIATE", "begin write transaction"));
    WriteReport report;
    auto applied = apply(batch, encoded, report);
    fts_pending_.clear();  // its views point into `batch`
    if (!applied) {
      (void)db_->exec("ROLLBACK", "rollback");
      counter_ids_.clear();  // ids inserted by the rolled-back transaction are gone
      return Unexpected<Error>{applied.error()};
    }
    if (auto c = db_->exec("COMMIT", "commit"); !c) {
      (void)db_->exec("ROLLBACK", "rollback");
      counter_ids_.clear();
      return Unexpected<Error>{c.error()};
    }
    return report;
  }

  StoreResult<PruneReport> prune(const PruneLimits& limits) override {
    if (opt_.read_only) return fail(ErrorCode::ReadOnly, "this store was opened read-only");
    std::lock_guard lock(mu_);
    BS_TRY(db_->exec("BEGIN IMMEDIATE", "begin prune transaction"));
    PruneReport report;
    auto run = [&]() -> Status {
      if (limits.max_nodes > 0) {
        auto s = db_->prepare(
            "DELETE FROM nodes WHERE (ip, port) IN (SELECT ip, port FROM nodes "
            "ORDER BY last_seen DESC, ip, port LIMIT -1 OFFSET ?1)");
        if (!s) return Unexpected<Error>{s.error()};
        s->bind(1, static_cast<std::int64_t>(limits.max_nodes));
        BS_TRY(db_->done(*s, "prune nodes"));
        report.nodes = static_cast<std::uint64_t>(db_->changes());
      }
      if (limits.max_infohashes_without_metadata > 0) {
        auto s = db_->prepare(
            "DELETE FROM infohashes WHERE ih IN (SELECT ih FROM infohashes WHERE state <> 1 "
            "ORDER BY last_seen DESC, ih LIMIT -1 OFFSET ?1)");
        if (!s) return Unexpected<Error>{s.error()};
        s->bind(1, static_cast<std::int64_t>(limits.max_infohashes_without_metadata));
        BS_TRY(db_->done(*s, "prune infohashes"));
        report.infohashes = static_cast<std::uint64_t>(db_->changes());
      }
      if (limits.counters_before) {
        auto s = db_->prepare("DELETE FROM counter_samples WHERE at < ?1");
        if (!s) return Unexpected<Error>{s.error()};
        s->bind(1, to_unix(*limits.counters_before));
        BS_TRY(db_->done(*s, "prune counters"));
        report.counter_samples = static_cast<std::uint64_t>(db_->changes());
      }
      return {};
    };
    if (auto st = run(); !st) {
      (void)db_->exec("ROLLBACK", "rollback");
      return Unexpected<Error>{st.error()};
    }
    BS_TRY(db_->exec("COMMIT", "commit prune"));
    return report;
  }

  StoreResult<std::vector<NodeRecord>> good_nodes(std::size_t limit) override {
    if (limit > kMaxNodesLimit) return fail(ErrorCode::InvalidArgument, "node limit over 100000");
    std::lock_guard lock(mu_);
    auto s = db_->prepare(
        "SELECT ip, port, id, last_seen FROM nodes WHERE good = 1 ORDER BY last_seen DESC, ip, port LIMIT ?1");
    if (!s) return Unexpected<Error>{s.error()};
    s->bind(1, static_cast<std::int64_t>(limit));
    std::vector<NodeRecord> out;
    for (;;) {
      auto row = next_row(*db_, *s, "read nodes");
      if (!row) return Unexpected<Error>{row.error()};
      if (!*row) break;
      NodeRecord n;
      n.endpoint = endpoint_from(s->blob(0), s->integer(1));
      if (auto id = NodeId::from_bytes(s->blob(2))) n.id = *id;
      n.last_seen = from_unix(s->integer(3));
      n.good = true;
      out.push_back(n);
    }
    return out;
  }

  StoreResult<std::vector<InfohashRecord>> pending_fetch(const PendingQuery& q) override {
    if (q.limit > kMaxPendingLimit) return fail(ErrorCode::InvalidArgument, "pending limit over 100000");
    std::lock_guard lock(mu_);
    std::string sql = std::string("SELECT ") + kInfohashColumns + " FROM infohashes WHERE state = 0";
    if (q.attempted_before) sql += " AND (last_attempt IS NULL OR last_attempt <= ?2)";
    sql += " ORDER BY priority DESC, attempts, last_seen DESC, ih LIMIT ?1";
    auto s = db_->prepare(sql);
    if (!s) return Unexpected<Error>{s.error()};
    s->bind(1, static_cast<std::int64_t>(q.limit));
    if (q.attempted_before) s->bind(2, to_unix(*q.attempted_before));
    std::vector<InfohashRecord> out;
    for (;;) {
      auto row = next_row(*db_, *s, "read pending infohashes");
      if (!row) return Unexpected<Error>{row.error()};
      if (!*row) break;
      out.push_back(infohash_from_row(*s));
    }
    return out;
  }

  StoreResult<std::vector<bool>> is_fetched(std::span<const InfoHash> keys) override {
    if (keys.size() > kMaxIsFetchedBatch) return fail(ErrorCode::InvalidArgument, "is_fetched batch over 10000");
    std::lock_guard lock(mu_);
    std::vector<bool> out;
    out.reserve(keys.size());
    for (const auto& k : keys) {
      auto id = find_torrent_id(k);
      if (!id) return Unexpected<Error>{id.error()};
      out.push_back(id->has_value());
    }
    return out;
  }

  StoreResult<std::optional<InfohashRecord>> infohash(const InfoHash& key) override {
    std::lock_guard lock(mu_);
    auto s = db_->prepare(std::string("SELECT ") + kInfohashColumns + " FROM infohashes WHERE ih = ?1");
    if (!s) return Unexpected<Error>{s.error()};
    s->bind_blob(1, bytes_of(key));
    auto row = next_row(*db_, *s, "read infohash");
    if (!row) return Unexpected<Error>{row.error()};
    if (!*row) return std::optional<InfohashRecord>{};
    return std::optional<InfohashRecord>{infohash_from_row(*s)};
  }

  StoreResult<std::optional<TorrentRecord>> torrent(const InfoHash& key) override {
    std::lock_guard lock(mu_);
    auto id = find_torrent_id(key);
    if (!id) return Unexpected<Error>{id.error()};
    if (!id->has_value()) return std::optional<TorrentRecord>{};
    auto t = load_torrent(**id, ExportOptions{true, false});
    if (!t) return Unexpected<Error>{t.error()};
    return std::optional<TorrentRecord>{std::move(t.value())};
  }

  StoreResult<std::optional<std::string>> raw_info_dict(const InfoHash& key) override {
    std::lock_guard lock(mu_);
    auto id = find_torrent_id(key);
    if (!id) return Unexpected<Error>{id.error()};
    if (!id->has_value()) return std::optional<std::string>{};
    return load_info_dict(**id);
  }

  StoreResult<std::vector<PeerRecord>> peers(const InfoHash& key, std::size_t limit) override {
    std::lock_guard lock(mu_);
    auto s = db_->prepare("SELECT ip, port, last_seen FROM peers WHERE ih = ?1 ORDER BY last_seen DESC, ip, port LIMIT ?2");
    if (!s) return Unexpected<Error>{s.error()};
    s->bind_blob(1, bytes_of(key)).bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT32_MAX)));
    std::vector<PeerRecord> out;
    for (;;) {
      auto row = next_row(*db_, *s, "read peers");
      if (!row) return Unexpected<Error>{row.error()};
      if (!*row) break;
      out.push_back(PeerRecord{key, endpoint_from(s->blob(0), s->integer(1)), from_unix(s->integer(2))});
    }
    return out;
  }

  StoreResult<SearchPage> search(const SearchQuery& q) override {
    BS_TRY(detail::check_search(q));
    const std::string match = fts5_match_expression(parse_search_text(q.text));
    const bool text = !match.empty();

    // Filters: parameters ?2.. in a fixed order; the SQL text only varies by which are present,
    // so the statement cache holds a bounded set of shapes.
    std::string where;
    std::vector<std::int64_t> args;
    auto filter = [&](bool present, const char* cond, std::int64_t v) {
      if (!present) return;
      where += where.empty() && !text ? " WHERE " : " AND ";
      where += cond;
      where += std::to_string(args.size() + 2);
      args.push_back(v);
    };
    filter(q.min_size.has_value(), "t.total_size >= ?", q.min_size.value_or(0));
    filter(q.max_size.has_value(), "t.total_size <= ?", q.max_size.value_or(0));
    filter(q.min_files.has_value(), "t.file_count >= ?", q.min_files.value_or(0));
    filter(q.max_files.has_value(), "t.file_count <= ?", q.max_files.value_or(0));
    filter(q.discovered_from.has_value(), "t.discovered_at >= ?", q.discovered_from ? to_unix(*q.discovered_from) : 0);
    filter(q.discovered_to.has_value(), "t.discovered_at <= ?", q.discovered_to ? to_unix(*q.discovered_to) : 0);
    const int arg = static_cast<int>(args.size()) + 2;  // the next free parameter
    auto p = [](int n) {
      std::string r = "?";
      r += std::to_string(n);
      return r;
    };

    SortKey sort = q.sort;
    bool desc = q.descending;
    if (sort == SortKey::Relevance && !text) {
      sort = SortKey::Discovered;
      desc = true;
    }
    // CROSS JOIN pins the FTS table as the outer loop (SQLite's documented way to fix the join
    // order): the matches drive, newest first, and the filters are checked per match.
    const std::string from = text ? " FROM torrents_fts CROSS JOIN torrents t ON t.id = torrents_fts.rowid"
                                    " WHERE torrents_fts MATCH ?1"
                                  : " FROM torrents t";
    auto bind_all = [&](Stmt& s) {
      if (text) s.bind_text(1, match);
      for (std::size_t i = 0; i < args.size(); ++i) s.bind(static_cast<int>(i) + 2, args[i]);
    };
    auto count_matches = [&](std::size_t cap) -> StoreResult<std::uint64_t> {
      // Counting needs no join when there is text and no filter.
      const std::string count_from =
          text && where.empty() ? " FROM torrents_fts WHERE torrents_fts MATCH ?1" : from + where;
      auto s = db_->prepare("SELECT count(*) FROM (SELECT 1" + count_from + " LIMIT " + p(arg) + ")");
      if (!s) return Unexpected<Error>{s.error()};
      bind_all(*s);
      s->bind(arg, static_cast<std::int64_t>(cap));
      auto row = next_row(*db_, *s, "count search results");
      if (!row) return Unexpected<Error>{row.error()};
      return static_cast<std::uint64_t>(s->integer(0));
    };

    std::lock_guard lock(mu_);
    SearchPage page;
    std::vector<std::int64_t> ids;  // the page, in order
    if (text || sort == SortKey::Name) {
      // Windowed (see SearchQuery): read the newest window+1 candidates with their sort key in
      // one pass, order them here, then load the page's rows. The extra candidate tells whether
      // the window cut; when it did not, the candidates are also the count.
      std::string key;
      switch (sort) {
        case SortKey::Relevance: key = "bitscrape_hits(torrents_fts), length(CAST(t.name AS BLOB))"; break;
        case SortKey::Size: key = "t.total_size, 0"; break;
        case SortKey::Discovered: key = "t.discovered_at, 0"; break;
        case SortKey::Name: key = "0, 0, t.name"; break;
      }
      const std::string sql = "SELECT t.id, " + key + from + where +
                              (text ? " ORDER BY torrents_fts.rowid DESC" : " ORDER BY t.id DESC") + " LIMIT " +
                              p(arg);
      std::vector<detail::SearchCandidate> cands;
      {
        auto s = db_->prepare(sql);
        if (!s) return Unexpected<Error>{s.error()};
        bind_all(*s);
        s->bind(arg, static_cast<std::int64_t>(q.window) + 1);
        for (;;) {
          auto row = next_row(*db_, *s, "search");
          if (!row) return Unexpected<Error>{row.error()};
          if (!*row) break;
          detail::SearchCandidate c{s->integer(0), 0, {}};
          if (sort == SortKey::Relevance) {
            c.number = search_relevance(s->real(1), static_cast<std::size_t>(s->integer(2)));
          } else if (sort == SortKey::Name) {
            c.name = std::string(s->text(3));
          } else {
            c.number = static_cast<double>(s->integer(1));
          }
          cands.push_back(std::move(c));
        }
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
      auto s = db_->prepare(std::string("SELECT t.id") + from + where + " ORDER BY " + column + dir + ", t.id" + dir +
                            " LIMIT " + p(arg) + " OFFSET " + p(arg + 1));
      if (!s) return Unexpected<Error>{s.error()};
      bind_all(*s);
      s->bind(arg, static_cast<std::int64_t>(q.limit)).bind(arg + 1, static_cast<std::int64_t>(q.offset));
      for (;;) {
        auto row = next_row(*db_, *s, "search");
        if (!row) return Unexpected<Error>{row.error()};
        if (!*row) break;
        ids.push_back(s->integer(0));
      }
    }
    auto s = db_->prepare(std::string("SELECT ") + kTorrentColumns + " FROM torrents t WHERE t.id = ?1");
    if (!s) return Unexpected<Error>{s.error()};
    for (const auto id : ids) {
      s->bind(1, id);
      auto row = next_row(*db_, *s, "load search result");
      if (!row) return Unexpected<Error>{row.error()};
      if (*row) {
        page.items.push_back(detail::summary_of(torrent_from_row(*s)));
      }
      s->reset();
    }
    return page;
  }

  StoreResult<std::uint64_t> for_each_torrent(const ExportOptions& options, const TorrentVisitor& visit) override {
    std::int64_t after = 0;
    return detail::stream_chunks<TorrentRecord>(
        [&](std::vector<TorrentRecord>& chunk) -> Status {
          std::lock_guard lock(mu_);
          std::vector<std::int64_t> ids;
          {
            auto s = db_->prepare("SELECT id FROM torrents WHERE id > ?1 ORDER BY id LIMIT ?2");
            if (!s) return Unexpected<Error>{s.error()};
            s->bind(1, after).bind(2, static_cast<std::int64_t>(detail::kExportChunk));
            for (;;) {
              auto row = next_row(*db_, *s, "export torrents");
              if (!row) return Unexpected<Error>{row.error()};
              if (!*row) break;
              ids.push_back(s->integer(0));
            }
          }
          for (const auto id : ids) {
            auto t = load_torrent(id, options);
            if (!t) return Unexpected<Error>{t.error()};
            chunk.push_back(std::move(t.value()));
          }
          if (!chunk.empty()) after = chunk.back().id;
          return {};
        },
        visit);
  }

  StoreResult<std::uint64_t> for_each_without_metadata(const InfohashVisitor& visit) override {
    std::string after;  // empty blob sorts before every key
    return detail::stream_chunks<InfohashRecord>(
        [&](std::vector<InfohashRecord>& chunk) -> Status {
          std::lock_guard lock(mu_);
          auto s = db_->prepare(std::string("SELECT ") + kInfohashColumns +
                                " FROM infohashes WHERE ih > ?1 AND state <> 1 ORDER BY ih LIMIT ?2");
          if (!s) return Unexpected<Error>{s.error()};
          s->bind_blob(1, after).bind(2, static_cast<std::int64_t>(detail::kExportChunk));
          for (;;) {
            auto row = next_row(*db_, *s, "export infohashes");
            if (!row) return Unexpected<Error>{row.error()};
            if (!*row) break;
            chunk.push_back(infohash_from_row(*s));
          }
          if (!chunk.empty()) after = std::string(chunk.back().infohash.view());
          return {};
        },
        visit);
  }

  StoreResult<std::uint64_t> for_each_node(const NodeVisitor& visit) override {
    std::string after_ip;  // the empty blob sorts before every address
    std::int64_t after_port = -1;
    return detail::stream_chunks<NodeRecord>(
        [&](std::vector<NodeRecord>& chunk) -> Status {
          std::lock_guard lock(mu_);
          auto s = db_->prepare(
              "SELECT ip, port, id, last_seen, good FROM nodes WHERE (ip, port) > (?1, ?2) ORDER BY ip, port LIMIT ?3");
          if (!s) return Unexpected<Error>{s.error()};
          s->bind_blob(1, after_ip).bind(2, after_port).bind(3, static_cast<std::int64_t>(detail::kExportChunk));
          for (;;) {
            auto row = next_row(*db_, *s, "export nodes");
            if (!row) return Unexpected<Error>{row.error()};
            if (!*row) break;
            NodeRecord n;
            n.endpoint = endpoint_from(s->blob(0), s->integer(1));
            if (auto id = NodeId::from_bytes(s->blob(2))) n.id = *id;
            n.last_seen = from_unix(s->integer(3));
            n.good = s->integer(4) != 0;
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
          auto s = db_->prepare(
              "SELECT c.at, n.name, c.value FROM counter_samples c JOIN counter_names n ON n.id = c.name_id "
              "WHERE c.at IN (SELECT DISTINCT at FROM counter_samples WHERE at > ?1 ORDER BY at LIMIT ?2) "
              "ORDER BY c.at, n.name");
          if (!s) return Unexpected<Error>{s.error()};
          s->bind(1, after).bind(2, static_cast<std::int64_t>(detail::kExportChunk / 4));
          for (;;) {
            auto row = next_row(*db_, *s, "export counters");
            if (!row) return Unexpected<Error>{row.error()};
            if (!*row) break;
            const auto at = from_unix(s->integer(0));
            if (chunk.empty() || chunk.back().at != at) chunk.push_back(CounterSample{at, {}});
            chunk.back().values.emplace_back(std::string(s->text(1)), s->integer(2));
          }
          if (!chunk.empty()) after = to_unix(chunk.back().at);
          return {};
        },
        visit);
  }

  StoreResult<StoreStats> stats() override {
    std::lock_guard lock(mu_);
    auto s = db_->prepare("SELECT nodes, infohashes, torrents, files, peers, pending, failed FROM totals WHERE id = 0");
    if (!s) return Unexpected<Error>{s.error()};
    auto row = next_row(*db_, *s, "read totals");
    if (!row) return Unexpected<Error>{row.error()};
    if (!*row) return fail(ErrorCode::Corrupt, "the totals row is missing");
    StoreStats st;
    st.nodes = static_cast<std::uint64_t>(s->integer(0));
    st.infohashes = static_cast<std::uint64_t>(s->integer(1));
    st.torrents = static_cast<std::uint64_t>(s->integer(2));
    st.files = static_cast<std::uint64_t>(s->integer(3));
    st.peers = static_cast<std::uint64_t>(s->integer(4));
    st.pending = static_cast<std::uint64_t>(s->integer(5));
    st.failed = static_cast<std::uint64_t>(s->integer(6));
    return st;
  }

  StoreResult<std::vector<SeriesPoint>> counter_series(const SeriesQuery& q) override {
    BS_TRY(detail::check_series(q));
    const detail::Buckets b = detail::buckets_of(q);
    const char* agg = q.aggregate == Aggregate::Mean  ? "avg(value)"
                      : q.aggregate == Aggregate::Max ? "max(value)"
                                                      : "value, max(at)";  // bare column: the latest row's
    std::lock_guard lock(mu_);
    auto s = db_->prepare(std::string("SELECT (at - ?2) / ?3 AS bucket, ") + agg +
                          " FROM counter_samples WHERE name_id = (SELECT id FROM counter_names WHERE name = ?1)"
                          " AND at BETWEEN ?2 AND ?4 GROUP BY bucket ORDER BY bucket");
    if (!s) return Unexpected<Error>{s.error()};
    s->bind_text(1, q.name).bind(2, b.from).bind(3, b.width).bind(4, to_unix(q.to));
    std::vector<SeriesPoint> out;
    for (;;) {
      auto row = next_row(*db_, *s, "read counter series");
      if (!row) return Unexpected<Error>{row.error()};
      if (!*row) break;
      out.push_back({from_unix(b.from + s->integer(0) * b.width), s->real(1)});
    }
    return out;
  }

  StoreResult<std::vector<std::string>> counter_names() override {
    std::lock_guard lock(mu_);
    auto s = db_->prepare("SELECT name FROM counter_names ORDER BY name");
    if (!s) return Unexpected<Error>{s.error()};
    std::vector<std::string> out;
    for (;;) {
      auto row = next_row(*db_, *s, "read counter names");
      if (!row) return Unexpected<Error>{row.error()};
      if (!*row) break;
      out.emplace_back(s->text(0));
    }
    return out;
  }

  StoreResult<std::int64_t> register_instance(const InstanceInfo& info) override {
    if (opt_.read_only) return fail(ErrorCode::ReadOnly, "this store was opened read-only");
    std::lock_guard lock(mu_);
    auto forget = db_->prepare("DELETE FROM instances WHERE heartbeat < ?1");
    if (!forget) return Unexpected<Error>{forget.error()};
    forget->bind(1, to_unix(info.started - kForgetInstancesAfter));
    BS_TRY(db_->done(*forget, "forget old instances"));
    auto s = db_->prepare(
        "INSERT INTO instances (node_id, listen, host, started, heartbeat) VALUES (?1, ?2, ?3, ?4, ?4)");
    if (!s) return Unexpected<Error>{s.error()};
    s->bind_blob(1, info.node_id.view()).bind_text(2, info.listen).bind_text(3, info.host);
    s->bind(4, to_unix(info.started));
    BS_TRY(db_->done(*s, "register instance"));
    return db_->last_rowid();
  }

  Status heartbeat(std::int64_t id, const Heartbeat& hb) override {
    if (opt_.read_only) return fail(ErrorCode::ReadOnly, "this store was opened read-only");
    std::lock_guard lock(mu_);
    auto s = db_->prepare(
        "UPDATE instances SET heartbeat = ?2, infohashes = ?3, torrents = ?4, infohashes_per_s = ?5, "
        "torrents_per_s = ?6, packets_per_s = ?7, stopped = CASE WHEN ?8 THEN ?2 END WHERE id = ?1");
    if (!s) return Unexpected<Error>{s.error()};
    s->bind(1, id).bind(2, to_unix(hb.at)).bind(3, static_cast<std::int64_t>(hb.infohashes));
    s->bind(4, static_cast<std::int64_t>(hb.torrents)).bind_real(5, hb.infohashes_per_s);
    s->bind_real(6, hb.torrents_per_s).bind_real(7, hb.packets_per_s).bind(8, hb.stopped ? 1 : 0);
    BS_TRY(db_->done(*s, "record heartbeat"));
    if (db_->changes() == 0) return fail(ErrorCode::InvalidArgument, "no instance " + std::to_string(id));
    return {};
  }

  StoreResult<std::vector<InstanceRecord>> instances(const InstanceQuery& q) override {
    if (q.limit > kMaxInstancesLimit) return fail(ErrorCode::InvalidArgument, "instance limit over 1000");
    std::lock_guard lock(mu_);
    std::string sql = std::string("SELECT * FROM (SELECT ") + kInstanceColumns + " FROM instances";
    if (q.alive_since) sql += " WHERE stopped IS NULL AND heartbeat >= ?2";
    sql += " ORDER BY id DESC LIMIT ?1) ORDER BY id";
    auto s = db_->prepare(sql);
    if (!s) return Unexpected<Error>{s.error()};
    s->bind(1, static_cast<std::int64_t>(q.limit));
    if (q.alive_since) s->bind(2, to_unix(*q.alive_since));
    std::vector<InstanceRecord> out;
    for (;;) {
      auto row = next_row(*db_, *s, "read instances");
      if (!row) return Unexpected<Error>{row.error()};
      if (!*row) break;
      InstanceRecord r;
      r.id = s->integer(0);
      if (auto id = NodeId::from_bytes(s->blob(1))) r.info.node_id = *id;
      r.info.listen = std::string(s->text(2));
      r.info.host = std::string(s->text(3));
      r.info.started = from_unix(s->integer(4));
      r.last.at = from_unix(s->integer(5));
      r.last.stopped = !s->is_null(6);
      r.last.infohashes = static_cast<std::uint64_t>(s->integer(7));
      r.last.torrents = static_cast<std::uint64_t>(s->integer(8));
      r.last.infohashes_per_s = s->real(9);
      r.last.torrents_per_s = s->real(10);
      r.last.packets_per_s = s->real(11);
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  // --- reads (lock held) ---

  // The torrent stored under a DHT key (v1 or truncated v2): one lookup in infohashes.
  StoreResult<std::optional<std::int64_t>> find_torrent_id(const InfoHash& key) {
    auto s = db_->prepare("SELECT torrent_id FROM infohashes WHERE ih = ?1 AND torrent_id IS NOT NULL");
    if (!s) return Unexpected<Error>{s.error()};
    s->bind_blob(1, bytes_of(key));
    auto row = next_row(*db_, *s, "find torrent");
    if (!row) return Unexpected<Error>{row.error()};
    if (*row) return std::optional<std::int64_t>{s->integer(0)};
    return std::optional<std::int64_t>{};
  }

  StoreResult<TorrentRecord> load_torrent(std::int64_t id, const ExportOptions& options) {
    TorrentRecord t;
    std::int64_t flags = 0;
    {
      auto s = db_->prepare(std::string("SELECT ") + kTorrentColumns + " FROM torrents t WHERE t.id = ?1");
      if (!s) return Unexpected<Error>{s.error()};
      s->bind(1, id);
      auto row = next_row(*db_, *s, "read torrent");
      if (!row) return Unexpected<Error>{row.error()};
      if (!*row) return fail(ErrorCode::Internal, "torrent vanished while reading it");
      t = torrent_from_row(*s);
      flags = s->integer(7);
    }
    if (options.with_files) {
      if (flags & kFlagImpliedFile) {
        t.files.push_back(FileRecord{t.name, t.total_size});
      } else {
        auto s = db_->prepare("SELECT data FROM file_lists WHERE torrent_id = ?1");
        if (!s) return Unexpected<Error>{s.error()};
        s->bind(1, id);
        auto row = next_row(*db_, *s, "read file list");
        if (!row) return Unexpected<Error>{row.error()};
        if (*row) {
          auto files = decode_file_list(s->blob(0), opt_.store.max_files_per_torrent);
          if (!files) return Unexpected<Error>{files.error()};
          t.files = std::move(files.value());
        }
      }
    }
    if (options.with_info_dict) {
      auto d = load_info_dict(id);
      if (!d) return Unexpected<Error>{d.error()};
      if (d->has_value()) t.info_dict = std::move(**d);
    }
    return t;
  }

  StoreResult<std::optional<std::string>> load_info_dict(std::int64_t id) {
    auto s = db_->prepare("SELECT data FROM info_dicts WHERE torrent_id = ?1");
    if (!s) return Unexpected<Error>{s.error()};
    s->bind(1, id);
    auto row = next_row(*db_, *s, "read info dict");
    if (!row) return Unexpected<Error>{row.error()};
    if (!*row) return std::optional<std::string>{};
    auto d = zstd_decompress(s->blob(0), opt_.store.max_info_dict_bytes);
    if (!d) return Unexpected<Error>{d.error()};
    return std::optional<std::string>{std::move(d.value())};
  }

  // --- writes (lock held, inside a transaction) ---


  Status apply(const WriteBatch& batch, std::span<const EncodedTorrent> encoded, WriteReport& report) {
    fts_pending_.clear();
    for (const auto& n : batch.nodes) BS_TRY(apply_node(n));
    for (const auto& s : batch.sightings) BS_TRY(apply_sighting(s));
    for (const auto& o : batch.fetch_outcomes) BS_TRY(apply_outcome(o));
    for (std::size_t i = 0; i < batch.torrents.size(); ++i) BS_TRY(apply_torrent(batch.torrents[i], encoded[i], report));
    BS_TRY(apply_peers(batch.peers, report));
    for (const auto& c : batch.counters) BS_TRY(apply_counters(c, report));
    // Index last. Once FTS5 has pending terms in a transaction, every later statement that
    // opens a statement savepoint (any with a trigger or an upsert) makes FTS5 flush them to
    // a new on-disk segment; interleaved with the other inserts that was one tiny segment per
    // torrent, and merging them cost more than everything else together. Last, the batch's
    // terms reach disk once, at commit.
    for (const auto& f : fts_pending_) {
      auto s = db_->prepare("INSERT INTO torrents_fts (rowid, name, paths) VALUES (?1, ?2, ?3)");
      if (!s) return Unexpected<Error>{s.error()};
      s->bind(1, f.id).bind_text(2, f.name).bind_text(3, f.paths);
      BS_TRY(db_->done(*s, "index torrent"));
    }
    return {};
  }

  Status apply_node(const NodeRecord& n) {
    auto s = db_->prepare(
        "INSERT INTO nodes (ip, port, id, last_seen, good) VALUES (?1, ?2, ?3, ?4, ?5) "
        "ON CONFLICT (ip, port) DO UPDATE SET "
        "id = CASE WHEN excluded.last_seen >= last_seen THEN excluded.id ELSE id END, "
        "good = CASE WHEN excluded.last_seen >= last_seen THEN excluded.good ELSE good END, "
        "last_seen = max(last_seen, excluded.last_seen)");
    if (!s) return Unexpected<Error>{s.error()};
    s->bind_blob(1, n.endpoint.ip.bytes())
        .bind(2, n.endpoint.port)
        .bind_blob(3, n.id.view())
        .bind(4, to_unix(n.last_seen))
        .bind(5, n.good ? 1 : 0);
    return db_->done(*s, "upsert node");
  }

  Status apply_sighting(const InfohashSighting& x) {
    auto s = db_->prepare(
        "INSERT INTO infohashes (ih, first_seen, last_seen, sources, peers, attempts, last_attempt, state, priority) "
        "VALUES (?1, ?2, ?2, ?3, ?4, 0, NULL, 0, ?5) "
        "ON CONFLICT (ih) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), "
        "last_seen = max(last_seen, excluded.last_seen), sources = sources | excluded.sources, "
        "peers = max(peers, excluded.peers), priority = max(priority, excluded.priority)");
    if (!s) return Unexpected<Error>{s.error()};
    s->bind_blob(1, bytes_of(x.infohash))
        .bind(2, to_unix(x.at))
        .bind(3, mask_of(x.source))
        .bind(4, x.peers)
        .bind(5, x.priority);
    return db_->done(*s, "record sighting");
  }

  Status apply_outcome(const FetchOutcome& o) {
    auto s = db_->prepare(
        "INSERT INTO infohashes (ih, first_seen, last_seen, sources, peers, attempts, last_attempt, state, priority) "
        "VALUES (?1, ?2, ?2, 0, 0, 1, ?2, ?3, 0) "
        "ON CONFLICT (ih) DO UPDATE SET attempts = attempts + 1, last_attempt = excluded.last_attempt, "
        "state = CASE WHEN state = 1 THEN 1 WHEN excluded.state = 2 THEN 2 ELSE state END");
    if (!s) return Unexpected<Error>{s.error()};
    s->bind_blob(1, bytes_of(o.infohash)).bind(2, to_unix(o.at)).bind(3, o.permanent_failure ? 2 : 0);
    return db_->done(*s, "record fetch outcome");
  }

  Status apply_torrent(const TorrentRecord& t, const EncodedTorrent& encoded, WriteReport& report) {
    const auto keep = detail::check_torrent(t, opt_.store);
    if (!keep) {
      ++report.rejected;
      return {};
    }
    const std::span<const FileRecord> files(t.files.data(), *keep);
    const auto v1 = t.infohash_v1;
    const auto v2t = t.infohash_v2_truncated();
    // The keys are unique through infohashes (one row per DHT key, holding its torrent's id):
    // a torrent stored under either key makes this one a duplicate.
    std::optional<std::int64_t> by_v1, by_v2;
    if (v1) {
      auto r = find_torrent_id(*v1);
      if (!r) return Unexpected<Error>{r.error()};
      by_v1 = *r;
    }
    if (v2t) {
      auto r = find_torrent_id(*v2t);
      if (!r) return Unexpected<Error>{r.error()};
      by_v2 = *r;
    }
    if (by_v1 || by_v2) {
      ++report.torrents_duplicate;
      return merge_keys(t, by_v1 ? *by_v1 : *by_v2, by_v1.has_value(), by_v2.has_value());
    }
    const bool implied = detail::implied_file(t, files);
    const std::int64_t flags = (t.is_private ? kFlagPrivate : 0) | (implied ? kFlagImpliedFile : 0);
    {
      auto s = db_->prepare(
          "INSERT INTO torrents (ih_v1, ih_v2, name, total_size, piece_length, file_count, flags, discovered_at, "
          "fetched_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
      if (!s) return Unexpected<Error>{s.error()};
      if (v1) s->bind_blob(1, bytes_of(*v1)); else s->bind_null(1);
      if (t.infohash_v2) s->bind_blob(2, bytes_of(*t.infohash_v2)); else s->bind_null(2);
      s->bind_text(3, t.name)
          .bind(4, t.total_size)
          .bind(5, t.piece_length)
          .bind(6, t.file_count)
          .bind(7, flags)
          .bind(8, to_unix(t.discovered_at))
          .bind(9, to_unix(t.fetched_at));
      BS_TRY(db_->done(*s, "insert torrent"));
    }
    const std::int64_t id = db_->last_rowid();
    ++report.torrents_added;
    BS_TRY(insert_torrent_parts(id, t, encoded));
    for (const auto& key : {v1, v2t}) {
      if (!key) continue;
      auto s = db_->prepare(
          "INSERT INTO infohashes (ih, first_seen, last_seen, sources, peers, attempts, last_attempt, state, "
          "priority, torrent_id) VALUES (?1, ?2, ?2, 0, 0, 0, NULL, 1, 0, ?3) ON CONFLICT (ih) DO UPDATE SET "
          "first_seen = min(first_seen, excluded.first_seen), state = 1, torrent_id = excluded.torrent_id");
      if (!s) return Unexpected<Error>{s.error()};
      s->bind_blob(1, bytes_of(*key)).bind(2, to_unix(t.discovered_at)).bind(3, id);
      BS_TRY(db_->done(*s, "mark infohash fetched"));
    }
    return {};
  }

  // A key joins stored torrent `id`: its infohashes row says fetched and points at it.
  Status mark_fetched(const InfoHash& key, std::int64_t id) {
    auto s = db_->prepare(
        "INSERT INTO infohashes (ih, first_seen, last_seen, sources, peers, attempts, last_attempt, state, "
        "priority, torrent_id) SELECT ?1, discovered_at, discovered_at, 0, 0, 0, NULL, 1, 0, id FROM torrents "
        "WHERE id = ?2 ON CONFLICT (ih) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), "
        "state = 1, torrent_id = excluded.torrent_id");
    if (!s) return Unexpected<Error>{s.error()};
    s->bind_blob(1, bytes_of(key)).bind(2, id);
    return db_->done(*s, "mark infohash fetched");
  }

  Status insert_torrent_parts(std::int64_t id, const TorrentRecord& t, const EncodedTorrent& encoded) {
    if (!encoded.file_list.empty()) {
      auto s = db_->prepare("INSERT INTO file_lists (torrent_id, data) VALUES (?1, ?2)");
      if (!s) return Unexpected<Error>{s.error()};
      s->bind(1, id).bind_blob(2, encoded.file_list);
      BS_TRY(db_->done(*s, "insert file list"));
    }
    if (!encoded.info_dict.empty()) {
      auto s = db_->prepare("INSERT INTO info_dicts (torrent_id, data) VALUES (?1, ?2)");
      if (!s) return Unexpected<Error>{s.error()};
      s->bind(1, id).bind_blob(2, encoded.info_dict);
      BS_TRY(db_->done(*s, "insert info dict"));
    }
    fts_pending_.push_back(FtsRow{id, t.name, encoded.path_terms});  // indexed at the end of apply()
    return {};
  }

  // A torrent already stored (`stored`) under one of t's keys: the first stored copy wins and
  // gains the keys of t it lacks, unless another torrent holds them (store.hpp).
  Status merge_keys(const TorrentRecord& t, std::int64_t stored, bool v1_held, bool v2_held) {
    if (t.infohash_v2 && !v2_held) {
      auto s = db_->prepare("UPDATE torrents SET ih_v2 = ?2 WHERE id = ?1 AND ih_v2 IS NULL");
      if (!s) return Unexpected<Error>{s.error()};
      s->bind(1, stored).bind_blob(2, bytes_of(*t.infohash_v2));
      BS_TRY(db_->done(*s, "merge v2 key"));
      if (db_->changes() == 1) BS_TRY(mark_fetched(*t.infohash_v2_truncated(), stored));
    }
    if (t.infohash_v1 && !v1_held) {
      auto s = db_->prepare("UPDATE torrents SET ih_v1 = ?2 WHERE id = ?1 AND ih_v1 IS NULL");
      if (!s) return Unexpected<Error>{s.error()};
      s->bind(1, stored).bind_blob(2, bytes_of(*t.infohash_v1));
      BS_TRY(db_->done(*s, "merge v1 key"));
      if (db_->changes() == 1) BS_TRY(mark_fetched(*t.infohash_v1, stored));
    }
    return {};
  }

  Status apply_peers(const std::vector<PeerRecord>& peers, WriteReport& report) {
    if (peers.empty()) return {};
    std::set<InfoHash> touched;
    for (const auto& p : peers) {
      {
        auto s = db_->prepare(
            "INSERT INTO infohashes (ih, first_seen, last_seen, sources, peers, attempts, last_attempt, state, "
            "priority) VALUES (?1, ?2, ?2, 0, 0, 0, NULL, 0, 0) ON CONFLICT DO NOTHING");
        if (!s) return Unexpected<Error>{s.error()};
        s->bind_blob(1, bytes_of(p.infohash)).bind(2, to_unix(p.last_seen));
        BS_TRY(db_->done(*s, "add infohash of peer"));
      }
      auto s = db_->prepare(
          "INSERT INTO peers (ih, ip, port, last_seen) VALUES (?1, ?2, ?3, ?4) "
          "ON CONFLICT (ih, ip, port) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)");
      if (!s) return Unexpected<Error>{s.error()};
      s->bind_blob(1, bytes_of(p.infohash))
          .bind_blob(2, p.endpoint.ip.bytes())
          .bind(3, p.endpoint.port)
          .bind(4, to_unix(p.last_seen));
      BS_TRY(db_->done(*s, "record peer"));
      touched.insert(p.infohash);
    }
    const auto max = static_cast<std::int64_t>(opt_.store.max_peers_per_infohash);
    for (const auto& key : touched) {
      std::int64_t count = 0;
      {
        auto s = db_->prepare("SELECT count(*) FROM peers WHERE ih = ?1");
        if (!s) return Unexpected<Error>{s.error()};
        s->bind_blob(1, bytes_of(key));
        auto row = next_row(*db_, *s, "count peers");
        if (!row) return Unexpected<Error>{row.error()};
        count = s->integer(0);
      }
      if (count <= max) continue;
      auto s = db_->prepare(
          "DELETE FROM peers WHERE ih = ?1 AND (ip, port) IN (SELECT ip, port FROM peers WHERE ih = ?1 "
          "ORDER BY last_seen DESC, ip, port LIMIT -1 OFFSET ?2)");
      if (!s) return Unexpected<Error>{s.error()};
      s->bind_blob(1, bytes_of(key)).bind(2, max);
      BS_TRY(db_->done(*s, "bound peers"));
      report.peers_evicted += static_cast<std::size_t>(db_->changes());
    }
    return {};
  }

  Status apply_counters(const CounterSample& c, WriteReport& report) {
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
      auto s = db_->prepare(
          "INSERT INTO counter_samples (name_id, at, value) VALUES (?1, ?2, ?3) "
          "ON CONFLICT (name_id, at) DO UPDATE SET value = excluded.value");
      if (!s) return Unexpected<Error>{s.error()};
      s->bind(1, **id).bind(2, to_unix(c.at)).bind(3, value);
      BS_TRY(db_->done(*s, "record counter"));
    }
    return {};
  }

  // The id of a counter name, created if there is room; nullopt past max_counter_names.
  StoreResult<std::optional<std::int64_t>> counter_id(const std::string& name) {
    if (counter_ids_.empty()) {
      auto s = db_->prepare("SELECT id, name FROM counter_names");
      if (!s) return Unexpected<Error>{s.error()};
      for (;;) {
        auto row = next_row(*db_, *s, "read counter names");
        if (!row) return Unexpected<Error>{row.error()};
        if (!*row) break;
        counter_ids_.emplace(std::string(s->text(1)), s->integer(0));
      }
    }
    if (auto it = counter_ids_.find(name); it != counter_ids_.end()) return std::optional<std::int64_t>{it->second};
    if (counter_ids_.size() >= opt_.store.max_counter_names) return std::optional<std::int64_t>{};
    auto s = db_->prepare("INSERT INTO counter_names (name) VALUES (?1)");
    if (!s) return Unexpected<Error>{s.error()};
    s->bind_text(1, name);
    BS_TRY(db_->done(*s, "add counter name"));
    const std::int64_t id = db_->last_rowid();
    counter_ids_.emplace(name, id);
    return std::optional<std::int64_t>{id};
  }

  struct FtsRow {
    std::int64_t id;
    std::string_view name;   // point into the batch being applied
    std::string_view paths;
  };

  std::mutex mu_;
  std::unique_ptr<Db> db_;
  SqliteOptions opt_;
  ZstdCompressor zstd_;
  std::vector<FtsRow> fts_pending_;  // rows of the batch in apply(), indexed last
  std::map<std::string, std::int64_t> counter_ids_;  // cache; cleared on rollback
};

// --- the FTS5 rank function ---

// bitscrape_hits(torrents_fts): 10 per query token occurrence in the name column, 1 per one in
// the paths column — the numerator of search_relevance() (store.hpp). Reads only the current
// row's position lists, so its cost does not grow with the number of matches.
void fts5_hits(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* out, int, sqlite3_value**) {
  int n = 0;
  if (const int rc = api->xInstCount(fts, &n); rc != SQLITE_OK) {
    sqlite3_result_error_code(out, rc);
    return;
  }
  double hits = 0;
  for (int i = 0; i < n; ++i) {
    int phrase = 0, column = 0, offset = 0;
    if (api->xInst(fts, i, &phrase, &column, &offset) == SQLITE_OK) hits += column == 0 ? 10.0 : 1.0;
  }
  sqlite3_result_double(out, hits);
}

Status register_rank(Db& db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db.raw(), "SELECT fts5(?1)", -1, &s, nullptr) == SQLITE_OK) {
    sqlite3_bind_pointer(s, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
    (void)sqlite3_step(s);
  }
  sqlite3_finalize(s);
  if (!api || api->iVersion < 2 ||
      api->xCreateFunction(api, "bitscrape_hits", nullptr, &fts5_hits, nullptr) != SQLITE_OK) {
    return fail(ErrorCode::Internal, "this SQLite has no FTS5 (bitscrape needs SQLite 3.20+ built with FTS5)");
  }
  return {};
}

// --- opening and migrating ---

StoreResult<int> schema_version(Db& db) {
  auto exists = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
  if (!exists) return Unexpected<Error>{exists.error()};
  auto row = next_row(db, *exists, "read schema");
  if (!row) return Unexpected<Error>{row.error()};
  if (exists->integer(0) == 0) return 0;
  auto s = db.prepare("SELECT coalesce(max(version), 0) FROM schema_version");
  if (!s) return Unexpected<Error>{s.error()};
  row = next_row(db, *s, "read schema version");
  if (!row) return Unexpected<Error>{row.error()};
  return static_cast<int>(s->integer(0));
}

Status migrate(Db& db, std::span<const Migration> ms) {
  BS_TRY(db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "applied_at INTEGER NOT NULL)",
                 "create schema_version"));
  const int known = static_cast<int>(ms.size());
  for (const auto& m : ms) {
    BS_TRY(db.exec("BEGIN IMMEDIATE", "begin migration"));
    // Read the version inside the transaction: another process may have migrated meanwhile.
    auto current = schema_version(db);
    if (!current) {
      (void)db.exec("ROLLBACK", "rollback");
      return Unexpected<Error>{current.error()};
    }
    if (*current > known) {
      (void)db.exec("ROLLBACK", "rollback");
      return Unexpected<Error>{detail::schema_too_new(*current, known)};
    }
    if (*current >= m.version) {
      BS_TRY(db.exec("COMMIT", "commit"));
      continue;
    }
    auto applied = db.exec(std::string(m.sql), "migration");
    if (applied) {
      auto s = db.prepare("INSERT INTO schema_version (version, name, applied_at) VALUES (?1, ?2, ?3)");
      if (!s) {
        applied = Unexpected<Error>{s.error()};
      } else {
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        s->bind(1, m.version).bind_text(2, m.name).bind(3, now);
        applied = db.done(*s, "record migration");
      }
    }
    if (applied) applied = db.exec("COMMIT", "commit migration");
    if (!applied) {
      (void)db.exec("ROLLBACK", "rollback");
      if (applied.error().code == ErrorCode::Locked) return Unexpected<Error>{applied.error()};
      return fail(ErrorCode::Migration, "schema migration v" + std::to_string(m.version) + " (" +
                                            std::string(m.name) + ") failed and was rolled back, the database " +
                                            "stays at v" + std::to_string(m.version - 1) + ": " +
                                            applied.error().message);
    }
  }
  auto current = schema_version(db);
  if (!current) return Unexpected<Error>{current.error()};
  if (*current > known) return Unexpected<Error>{detail::schema_too_new(*current, known)};
  return {};
}

}  // namespace

StoreResult<std::unique_ptr<Store>> open_sqlite_store(const std::string& path, const SqliteOptions& options) {
  return open_sqlite_store(path, options, sqlite_migrations());
}

StoreResult<std::unique_ptr<Store>> open_sqlite_store(const std::string& path, const SqliteOptions& options,
                                                      std::span<const Migration> migrations) {
  BS_TRY(detail::check_migration_list(migrations));
  // SQLite keeps global memory statistics behind a global mutex taken on every allocation;
  // we never read them. Only possible before SQLite initialises (a no-op error afterwards).
  static std::once_flag configured;
  std::call_once(configured, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  sqlite3* raw = nullptr;
  const int flags = (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                    SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  auto db = std::make_unique<Db>(raw, path, options.busy_timeout);
  if (rc != SQLITE_OK) {
    Error e = db->error(rc, "open database");
    if (!raw) e = Error{ErrorCode::Internal, "out of memory opening " + path};
    return Unexpected<Error>{e};
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, static_cast<int>(options.busy_timeout.count()));

  // The first read tells a non-database file apart ("file is not a database").
  BS_TRY(db->exec("SELECT count(*) FROM sqlite_master", "read database header"));
  std::string pragmas = "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA secure_delete = OFF; "
                        "PRAGMA cache_size = -" + std::to_string(options.cache_kib) + ";";
  if (!options.read_only) {
    pragmas += "PRAGMA journal_mode = WAL; PRAGMA journal_size_limit = 67108864; PRAGMA wal_autocheckpoint = " +
               std::to_string(options.wal_autocheckpoint_pages) + ";";
    pragmas += options.durability == Durability::Full ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;";
  }
  BS_TRY(db->exec(pragmas, "configure database"));
  BS_TRY(register_rank(*db));

  if (options.read_only) {
    auto v = schema_version(*db);
    if (!v) return Unexpected<Error>{v.error()};
    const int known = static_cast<int>(migrations.size());
    if (*v > known) return Unexpected<Error>{detail::schema_too_new(*v, known)};
    if (*v < known) {
      return fail(ErrorCode::Migration, "database schema v" + std::to_string(*v) + " needs migrating to v" +
                                            std::to_string(known) + "; open it read-write once (" + path + ")");
    }
  } else {
    BS_TRY(migrate(*db, migrations));
  }
  std::unique_ptr<Store> store = std::make_unique<SqliteStore>(std::move(db), options);
  return store;
}

}  // namespace bitscrape::storage
