// Storage benchmark: ingest rate, bytes per torrent on disk, and search latency, for the SQLite
// store and for a reference built on magnetico's schema (its sqlite3 persistence: torrents +
// one row per file + an external-content FTS5 index of names) on the same corpus, same process.
//
// The corpus is synthetic but shaped like a DHT crawl: names built like real releases (titles
// drawn from a Zipf-distributed vocabulary, years, resolutions, codecs, release groups; movies,
// episodes, season packs, albums, software, books), file lists where most torrents have 1-20
// files and a tail has hundreds, sizes per category, 2% hybrid v1+v2 torrents, and — for the
// size study — real bencoded info dicts with random piece hashes (one SHA-1 per piece, ~1000-2000
// pieces per torrent, as clients choose piece sizes).
//
// Phases:
//   1. size study on --sample torrents (default 20,000): four SQLite databases — with/without
//      file lists x with/without raw info dicts — and the magnetico schema with/without files.
//      Bytes per torrent = database file size after the last connection closed (WAL
//      checkpointed) / torrents. A per-table breakdown (dbstat) of the full database follows.
//   2. scale run on --torrents torrents (default 1,000,000) with file lists and without info
//      dicts (1M info dicts would be ~30 GB): ingest rate through the StoreWriter (the crawler's
//      path: one thread submits, the writer groups commits), then --queries searches (default
//      1000) with a realistic query mix, p50/p95/p99 per sort order; the same queries against the
//      magnetico reference (page query only: magnetico counts separately).
//
// Run: build/bench/bench/bench_storage [--torrents N] [--sample N] [--queries N] [--dir PATH]
//                                      [--skip-reference] [--search-only] [--pg URI]
// --pg URI also ingests the scale corpus into that (empty) PostgreSQL database through the same
// StoreWriter, and runs the searches there too: ratios against SQLite in the same run.
// --search-only reruns the searches against the scale databases a previous run left in --dir
// (same --torrents). Environment knobs for experiments: BS_CACHE_KIB, BS_CKPT (SqliteOptions
// cache_kib, wal_autocheckpoint_pages), BS_BATCH (records per transaction, both schemas; default
// StoreWriter's max_batch); BS_SLOWEST=1 lists each case's slowest queries.
// Machines are shared and noisy: read the ratios against the reference; absolute numbers are
// context.
#include "bencode/encoder.hpp"
#include "common/hash.hpp"
#include "storage/search_text.hpp"
#include "storage/pg_store.hpp"
#include "storage/sqlite_store.hpp"
#include "storage/store_writer.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace bitscrape;
using namespace bitscrape::storage;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---------------------------------------------------------------- corpus

class Corpus {
 public:
  explicit Corpus(std::uint64_t seed) : rng_(seed) {
    static const char* common[] = {
        "the", "of", "and", "love", "night", "man", "world", "story", "last", "dark", "life", "king", "house",
        "girl", "day", "war", "dead", "time", "black", "blue", "red", "star", "city", "home", "end", "game",
        "little", "big", "secret", "lost", "return", "rise", "fall", "blood", "fire", "ice", "moon", "sun",
        "road", "river", "sea", "island", "ghost", "dream", "summer", "winter", "heart", "angel", "devil",
        "queen", "prince", "witch", "legend", "empire", "kingdom", "shadow", "light", "storm", "wild", "new"};
    for (const char* w : common) vocab_.emplace_back(w);
    static const char* onset[] = {"b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "j", "k", "l", "m", "n",
                                  "p", "pr", "r", "s", "sh", "st", "t", "th", "tr", "v", "w", "z"};
    static const char* nucleus[] = {"a", "e", "i", "o", "u", "ai", "ea", "ou", "y"};
    static const char* coda[] = {"", "", "n", "r", "s", "t", "l", "m", "nd", "rk", "x"};
    while (vocab_.size() < 60'000) {
      std::string w;
      const int syllables = 1 + static_cast<int>(rng_() % 3);
      for (int i = 0; i < syllables; ++i) {
        w += onset[rng_() % std::size(onset)];
        w += nucleus[rng_() % std::size(nucleus)];
        w += coda[rng_() % std::size(coda)];
      }
      vocab_.push_back(std::move(w));
    }
  }

  // Zipf(1)-distributed word: log-uniform rank.
  const std::string& word() {
    const double u = uniform();
    const auto rank = static_cast<std::size_t>(std::exp(u * std::log(static_cast<double>(vocab_.size()))));
    return vocab_[std::min(rank, vocab_.size()) - 1];
  }

  TorrentRecord torrent(int n, bool with_info_dict) {
    TorrentRecord t;
    const auto h = sha1("bench-torrent-" + std::to_string(n));
    InfoHash k;
    std::memcpy(k.bytes.data(), h.data(), 20);
    t.infohash_v1 = k;
    if (rng_() % 50 == 0) t.infohash_v2 = sha256("bench-v2-" + std::to_string(n));
    const int kind = static_cast<int>(rng_() % 100);
    if (kind < 40) {
      movie(t);
    } else if (kind < 60) {
      episode(t);
    } else if (kind < 70) {
      season(t);
    } else if (kind < 85) {
      album(t);
    } else if (kind < 90) {
      software(t);
    } else if (kind < 95) {
      books(t);
    } else {
      misc(t);
    }
    // The tail: a few torrents with hundreds of files.
    if (rng_() % 100 < 3) {
      const int extra = 100 + static_cast<int>(rng_() % 900);
      for (int i = 0; i < extra; ++i) {
        t.files.push_back({t.name + "/extras/" + word() + "_" + std::to_string(i) + ".jpg",
                           static_cast<std::int64_t>(50'000 + rng_() % 5'000'000)});
      }
    }
    if (t.files.size() == 1) {  // a single-file torrent is named like its one file
      t.name = t.files[0].path.substr(t.files[0].path.rfind('/') + 1);
      t.files[0].path = t.name;
    }
    t.total_size = 0;
    for (const auto& f : t.files) t.total_size += f.length;
    t.file_count = static_cast<std::uint32_t>(t.files.size());
    t.piece_length = 16384;
    while (t.total_size / t.piece_length > 2000 && t.piece_length < (16 << 20)) t.piece_length *= 2;
    t.is_private = rng_() % 100 == 0;
    // Fetched in about the order discovered, minutes to hours after discovery; ~1000 per hour.
    t.fetched_at = from_unix(1'650'000'000 + static_cast<std::int64_t>(n) * 4);
    t.discovered_at = t.fetched_at - std::chrono::seconds(60 + rng_() % (6 * 3600));
    if (with_info_dict) t.info_dict = info_dict(t);
    return t;
  }

  // A realistic query: mostly popular words, some pairs, word + year/resolution, prefixes, misses.
  std::string query() {
    const int kind = static_cast<int>(rng_() % 100);
    if (kind < 40) return word();
    if (kind < 70) return word() + " " + word();
    if (kind < 85) return word() + " " + (rng_() % 2 ? std::to_string(1970 + rng_() % 55) : std::string("1080p"));
    if (kind < 95) {
      const std::string& w = word();
      return w.substr(0, std::min<std::size_t>(w.size(), 3 + rng_() % 3));
    }
    return "zq" + std::to_string(rng_() % 100000);  // nothing matches
  }

 private:
  double uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }
  std::int64_t size_between(double lo, double hi) {  // log-uniform
    return static_cast<std::int64_t>(std::exp(std::log(lo) + uniform() * (std::log(hi) - std::log(lo))));
  }
  std::string title(int words) {
    std::string s;
    for (int i = 0; i < words; ++i) {
      std::string w = word();
      w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
      s += (i ? " " : "") + w;
    }
    return s;
  }
  std::string group() {
    static const char* groups[] = {"YIFY", "RARBG", "SPARKS", "FGT", "NTb", "ETHEL", "CMRG", "EVO", "TGx", "GalaxyRG",
                                   "PSA", "ION10", "MeGusta", "FLUX", "NOGRP"};
    return groups[rng_() % std::size(groups)];
  }
  std::string dotted(const std::string& s) {
    std::string out = s;
    std::replace(out.begin(), out.end(), ' ', '.');
    return out;
  }
  const char* res() {
    static const char* r[] = {"720p", "1080p", "1080p", "2160p", "480p"};
    return r[rng_() % std::size(r)];
  }
  const char* src() {
    static const char* s[] = {"BluRay", "WEB-DL", "WEBRip", "HDTV", "DVDRip"};
    return s[rng_() % std::size(s)];
  }
  const char* codec() {
    static const char* c[] = {"x264", "x265", "HEVC", "H264", "XviD"};
    return c[rng_() % std::size(c)];
  }

  void movie(TorrentRecord& t) {
    const std::string base = title(1 + static_cast<int>(rng_() % 4)) + " " + std::to_string(1950 + rng_() % 75);
    t.name = (rng_() % 2 ? dotted(base) : base) + "." + res() + "." + src() + "." + codec() + "-" + group();
    const std::int64_t main = size_between(7e8, 2e10);
    if (rng_() % 2) {
      t.files = {{t.name + ".mkv", main}};
      return;
    }
    t.files = {{t.name + "/" + t.name + ".mkv", main}, {t.name + "/" + t.name + ".nfo", 2000}};
    if (rng_() % 2) t.files.push_back({t.name + "/Sample/sample.mkv", size_between(1e7, 6e7)});
    const int subs = static_cast<int>(rng_() % 6);
    for (int i = 0; i < subs; ++i) t.files.push_back({t.name + "/Subs/" + std::to_string(i + 2) + "_English.srt", 80000});
  }
  void episode(TorrentRecord& t) {
    char se[16];
    std::snprintf(se, sizeof se, "S%02dE%02d", 1 + static_cast<int>(rng_() % 12), 1 + static_cast<int>(rng_() % 24));
    t.name = dotted(title(1 + static_cast<int>(rng_() % 3))) + "." + se + "." + res() + "." + src() + "." + codec() +
             "-" + group();
    t.files = {{t.name + ".mkv", size_between(2e8, 4e9)}};
    if (rng_() % 3 == 0) t.files = {{t.name + "/" + t.name + ".mkv", t.files[0].length}, {t.name + "/" + t.name + ".nfo", 1500}};
  }
  void season(TorrentRecord& t) {
    const std::string show = dotted(title(1 + static_cast<int>(rng_() % 3)));
    char s[8];
    std::snprintf(s, sizeof s, "S%02d", 1 + static_cast<int>(rng_() % 10));
    t.name = show + "." + s + "." + res() + "." + src() + "." + codec() + "-" + group();
    const int eps = 6 + static_cast<int>(rng_() % 19);
    for (int e = 1; e <= eps; ++e) {
      char f[16];
      std::snprintf(f, sizeof f, "%sE%02d", s, e);
      t.files.push_back({t.name + "/" + show + "." + f + "." + res() + ".mkv", size_between(2e8, 3e9)});
    }
  }
  void album(TorrentRecord& t) {
    const std::string artist = title(1 + static_cast<int>(rng_() % 3));
    const std::string album = title(1 + static_cast<int>(rng_() % 4));
    const bool flac = rng_() % 2;
    t.name = artist + " - " + album + " (" + std::to_string(1960 + rng_() % 65) + ") [" + (flac ? "FLAC" : "MP3 320") + "]";
    const int tracks = 6 + static_cast<int>(rng_() % 15);
    for (int i = 1; i <= tracks; ++i) {
      char num[8];
      std::snprintf(num, sizeof num, "%02d", i);
      t.files.push_back({t.name + "/" + num + " - " + title(1 + static_cast<int>(rng_() % 4)) + (flac ? ".flac" : ".mp3"),
                         flac ? size_between(1.5e7, 6e7) : size_between(5e6, 1.5e7)});
    }
    t.files.push_back({t.name + "/cover.jpg", 300000});
  }
  void software(TorrentRecord& t) {
    t.name = title(1 + static_cast<int>(rng_() % 2)) + " " + std::to_string(rng_() % 30) + "." + std::to_string(rng_() % 10) +
             (rng_() % 2 ? " x64" : " Linux amd64");
    if (rng_() % 2) {
      t.files = {{t.name + ".iso", size_between(5e7, 6e9)}};
    } else {
      t.files = {{t.name + "/setup.exe", size_between(1e7, 2e9)}, {t.name + "/readme.txt", 3000}, {t.name + "/crack/keygen.exe", 500000}};
    }
  }
  void books(TorrentRecord& t) {
    t.name = title(2 + static_cast<int>(rng_() % 4)) + " by " + title(2) + " (epub)";
    const int n = 1 + static_cast<int>(rng_() % 12);
    for (int i = 0; i < n; ++i) t.files.push_back({t.name + "/" + title(2 + static_cast<int>(rng_() % 3)) + ".epub", size_between(2e5, 2e7)});
  }
  void misc(TorrentRecord& t) {
    t.name = title(1 + static_cast<int>(rng_() % 5));
    const int n = 1 + static_cast<int>(rng_() % 20);
    for (int i = 0; i < n; ++i) t.files.push_back({t.name + "/" + word() + "/" + word() + "_" + std::to_string(i) + ".dat", size_between(1e4, 1e9)});
  }

  std::string info_dict(const TorrentRecord& t) {
    std::string out;
    bencode::Writer w(out);
    w.begin_dict();
    if (t.file_count > 1) {
      w.key("files").begin_list();
      for (const auto& f : t.files) {
        w.begin_dict().entry("length", f.length).key("path").begin_list();
        std::string_view p = f.path.substr(f.path.find('/') + 1);  // relative to the torrent root
        for (std::size_t slash; (slash = p.find('/')) != std::string_view::npos; p.remove_prefix(slash + 1)) {
          w.string(p.substr(0, slash));
        }
        w.string(p).end().end();
      }
      w.end();
    } else {
      w.entry("length", t.total_size);
    }
    w.entry("name", t.name).entry("piece length", t.piece_length);
    const std::int64_t pieces = (t.total_size + t.piece_length - 1) / t.piece_length;
    std::string hashes(static_cast<std::size_t>(pieces) * 20, '\0');
    for (std::size_t i = 0; i < hashes.size(); i += 8) {
      const std::uint64_t r = rng_();
      std::memcpy(hashes.data() + i, &r, std::min<std::size_t>(8, hashes.size() - i));
    }
    w.entry("pieces", hashes);
    if (t.is_private) w.entry("private", std::int64_t{1});
    w.end();
    return out;
  }

  std::mt19937_64 rng_;
  std::vector<std::string> vocab_;
};

std::vector<TorrentRecord> make_corpus(int n, bool with_info_dicts, std::uint64_t seed) {
  Corpus c(seed);
  std::vector<TorrentRecord> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back(c.torrent(i, with_info_dicts));
  return out;
}

// ---------------------------------------------------------------- ours

std::unique_ptr<Store> open_store(const std::string& path, bool keep_info) {
  SqliteOptions o;
  o.store.keep_info_dicts = keep_info;
  if (const char* e = std::getenv("BS_CACHE_KIB")) o.cache_kib = std::atoll(e);
  if (const char* e = std::getenv("BS_CKPT")) o.wal_autocheckpoint_pages = std::atoi(e);
  auto s = open_sqlite_store(path, o);
  if (!s) throw std::runtime_error(s.error().message);
  return std::move(s.value());
}

// Records per transaction, ours and the reference's: StoreWriter's default (what the crawler
// uses), or BS_BATCH.
std::size_t ingest_batch() {
  if (const char* e = std::getenv("BS_BATCH")) return static_cast<std::size_t>(std::atoll(e));
  return WriterOptions{}.max_batch;
}

double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }
double last_ingest_cpu = 0;  // process CPU seconds of the last ingest (both threads)

// Ingests through a StoreWriter; returns torrents per second (wall clock).
double ingest(Store& store, const std::vector<TorrentRecord>& corpus, bool with_files) {
  WriterOptions wo;
  wo.block_timeout = std::chrono::seconds(600);  // a benchmark must not drop
  wo.max_batch = ingest_batch();  // the writer's default unless BS_BATCH says otherwise
  // Producers hand records over by move, as the crawler does; copy outside the timed part.
  std::vector<TorrentRecord> records = corpus;
  if (!with_files) {
    for (auto& t : records) t.files.clear();
  }
  const double c0 = cpu_seconds();
  const auto t0 = Clock::now();
  {
    StoreWriter w(store, wo);
    for (auto& t : records) {
      if (w.submit(std::move(t)) == 0) throw std::runtime_error("writer dropped a torrent");
    }
    if (!w.flush(std::chrono::hours(2))) throw std::runtime_error("flush failed");
  }
  last_ingest_cpu = cpu_seconds() - c0;
  const double rate = static_cast<double>(corpus.size()) / seconds_since(t0);
  records.clear();
  return rate;
}

std::uintmax_t file_bytes(const std::string& path) {
  std::uintmax_t n = std::filesystem::file_size(path);
  for (const char* suffix : {"-wal", "-shm"}) {
    std::error_code ec;
    const auto extra = std::filesystem::file_size(path + suffix, ec);
    if (!ec) n += extra;
  }
  return n;
}

// ---------------------------------------------------------------- magnetico reference

class Magnetico {
 public:
  explicit Magnetico(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("open reference");
    exec("PRAGMA journal_mode=WAL; PRAGMA temp_store=1; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;"
         "PRAGMA cache_size=-65536;");
    // magneticod's schema after its migrations to user_version 3 (pkg/persistence/sqlite3.go).
    exec(R"(
      CREATE TABLE IF NOT EXISTS torrents (
        id INTEGER PRIMARY KEY, info_hash BLOB NOT NULL UNIQUE, name TEXT NOT NULL,
        total_size INTEGER NOT NULL CHECK(total_size > 0), discovered_on INTEGER NOT NULL CHECK(discovered_on > 0),
        updated_on INTEGER, n_seeders INTEGER, n_leechers INTEGER, modified_on INTEGER);
      CREATE TABLE IF NOT EXISTS files (
        id INTEGER PRIMARY KEY, torrent_id INTEGER REFERENCES torrents ON DELETE CASCADE ON UPDATE RESTRICT,
        size INTEGER NOT NULL, path TEXT NOT NULL, is_readme INTEGER, content TEXT);
      CREATE UNIQUE INDEX IF NOT EXISTS info_hash_index ON torrents (info_hash);
      CREATE UNIQUE INDEX IF NOT EXISTS readme_index ON files (torrent_id, is_readme);
      CREATE INDEX IF NOT EXISTS modified_on_index ON torrents (modified_on);
      CREATE VIRTUAL TABLE IF NOT EXISTS torrents_idx USING fts5(name, content='torrents', content_rowid='id',
        tokenize="porter unicode61 separators ' !""#$%&''()*+,-./:;<=>?@[\]^_`{|}~'");
      CREATE TRIGGER IF NOT EXISTS torrents_ai AFTER INSERT ON torrents BEGIN
        INSERT INTO torrents_idx(rowid, name) VALUES (new.id, new.name); END;
    )");
  }
  ~Magnetico() {
    for (auto* s : {ins_t_, ins_f_, query_}) sqlite3_finalize(s);
    sqlite3_close(db_);
  }

  double ingest(const std::vector<TorrentRecord>& corpus, bool with_files, std::size_t batch) {
    prepare(&ins_t_, "INSERT OR IGNORE INTO torrents (info_hash, name, total_size, discovered_on, modified_on) "
                     "VALUES (?, ?, ?, ?, ?)");
    prepare(&ins_f_, "INSERT INTO files (torrent_id, size, path) VALUES (?, ?, ?)");
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < corpus.size(); ++i) {
      if (i % batch == 0) exec(i ? "COMMIT; BEGIN" : "BEGIN");
      const auto& t = corpus[i];
      sqlite3_bind_blob(ins_t_, 1, t.infohash_v1->bytes.data(), 20, SQLITE_STATIC);
      sqlite3_bind_text(ins_t_, 2, t.name.data(), static_cast<int>(t.name.size()), SQLITE_STATIC);
      sqlite3_bind_int64(ins_t_, 3, std::max<std::int64_t>(t.total_size, 1));
      sqlite3_bind_int64(ins_t_, 4, to_unix(t.discovered_at));
      sqlite3_bind_int64(ins_t_, 5, to_unix(t.discovered_at));
      step(ins_t_);
      const auto id = sqlite3_last_insert_rowid(db_);
      if (!with_files) continue;
      for (const auto& f : t.files) {
        sqlite3_bind_int64(ins_f_, 1, id);
        sqlite3_bind_int64(ins_f_, 2, f.length);
        sqlite3_bind_text(ins_f_, 3, f.path.data(), static_cast<int>(f.path.size()), SQLITE_STATIC);
        step(ins_f_);
      }
    }
    exec("COMMIT");
    return static_cast<double>(corpus.size()) / seconds_since(t0);
  }

  // magneticod's QueryTorrents, ordered by relevance, first page of 50.
  void search(const std::string& match) {
    prepare(&query_, R"(
      SELECT id, info_hash, name, total_size, discovered_on,
             (SELECT COUNT(*) FROM files WHERE torrents.id = files.torrent_id) AS n_files, idx.rank
      FROM torrents INNER JOIN (SELECT rowid AS id, bm25(torrents_idx) AS rank FROM torrents_idx
                                WHERE torrents_idx MATCH ?) AS idx USING(id)
      WHERE modified_on <= ? ORDER BY idx.rank ASC, id ASC LIMIT 50)");
    sqlite3_bind_text(query_, 1, match.data(), static_cast<int>(match.size()), SQLITE_STATIC);
    sqlite3_bind_int64(query_, 2, 4'000'000'000);
    int rc;
    while ((rc = sqlite3_step(query_)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) throw std::runtime_error(std::string("reference query: ") + sqlite3_errmsg(db_));
    sqlite3_reset(query_);
  }

 private:
  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string e = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error("reference: " + e);
    }
  }
  void prepare(sqlite3_stmt** s, const char* sql) {
    if (*s) return;
    if (sqlite3_prepare_v2(db_, sql, -1, s, nullptr) != SQLITE_OK) throw std::runtime_error(sqlite3_errmsg(db_));
  }
  void step(sqlite3_stmt* s) {
    if (sqlite3_step(s) != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db_));
    sqlite3_reset(s);
  }
  sqlite3* db_ = nullptr;
  sqlite3_stmt* ins_t_ = nullptr;
  sqlite3_stmt* ins_f_ = nullptr;
  sqlite3_stmt* query_ = nullptr;
};

// ---------------------------------------------------------------- reporting

struct Latency {
  double p50 = 0, p95 = 0, p99 = 0, max = 0;
};
Latency percentiles(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double p) { return ms[std::min(ms.size() - 1, static_cast<std::size_t>(p * static_cast<double>(ms.size())))]; };
  return {at(0.50), at(0.95), at(0.99), ms.back()};
}

void table_breakdown(const std::string& path, double torrents) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* s = nullptr;
  // FTS5 shadow tables are folded into their virtual table; indexes listed under their own name.
  sqlite3_prepare_v2(db,
                     "SELECT CASE WHEN name LIKE 'torrents_fts%' THEN 'torrents_fts (index)' ELSE name END AS n, "
                     "sum(pgsize) FROM dbstat GROUP BY n ORDER BY 2 DESC",
                     -1, &s, nullptr);
  std::printf("    %-28s %12s %10s\n", "table / index", "bytes", "B/torrent");
  while (sqlite3_step(s) == SQLITE_ROW) {
    const double bytes = sqlite3_column_double(s, 1);
    std::printf("    %-28s %12.0f %10.1f\n", reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), bytes, bytes / torrents);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
}

struct Args {
  int torrents = 1'000'000;
  int sample = 20'000;
  int queries = 1000;
  std::string dir;
  bool reference = true;
  bool search_only = false;  // reuse the scale databases already in dir
  std::string pg;            // --pg URI: also run the scale ingest and searches on PostgreSQL
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("missing value for " + k);
      return argv[++i];
    };
    if (k == "--torrents") a.torrents = std::stoi(next());
    else if (k == "--sample") a.sample = std::stoi(next());
    else if (k == "--queries") a.queries = std::stoi(next());
    else if (k == "--dir") a.dir = next();
    else if (k == "--skip-reference") a.reference = false;
    else if (k == "--search-only") a.search_only = true;
    else if (k == "--pg") a.pg = next();
    else throw std::runtime_error("unknown flag " + k + " (see the comment at the top of bench_storage.cpp)");
  }
  if (a.dir.empty()) a.dir = (std::filesystem::temp_directory_path() / "bitscrape-bench-storage").string();
  return a;
}

int run(const Args& args) {
  if (!args.search_only) {
    std::filesystem::remove_all(args.dir);
    std::filesystem::create_directories(args.dir);
  }
  std::printf("bench_storage: SQLite %s, dir %s\n\n", sqlite3_libversion(), args.dir.c_str());

  // ---- phase 1: size study
  if (!args.search_only) {
    const auto t0 = Clock::now();
    const auto corpus = make_corpus(args.sample, true, 42);
    std::size_t files = 0, info = 0, hundreds = 0;
    for (const auto& t : corpus) {
      files += t.files.size();
      info += t.info_dict.size();
      hundreds += t.files.size() >= 100;
    }
    std::printf("size study: %d torrents, %.2f files/torrent (%.1f%% with >= 100 files), info dict %.0f B avg "
                "(generated in %.1f s)\n",
                args.sample, static_cast<double>(files) / args.sample, 100.0 * static_cast<double>(hundreds) / args.sample,
                static_cast<double>(info) / args.sample, seconds_since(t0));
    std::printf("  %-44s %12s %12s\n", "database", "B/torrent", "torrents/s");
    const double n = args.sample;
    std::string full_path;
    for (const bool with_files : {true, false}) {
      for (const bool with_info : {true, false}) {
        const std::string path = args.dir + "/size_" + (with_files ? "files" : "nofiles") + "_" +
                                 (with_info ? "info" : "noinfo") + ".db";
        double rate = 0;
        {
          auto s = open_store(path, with_info);
          rate = ingest(*s, corpus, with_files);
        }
        if (with_files && with_info) full_path = path;
        char label[96];
        std::snprintf(label, sizeof label, "bitscrape, %s file lists, %s info dicts", with_files ? "with" : "without",
                      with_info ? "with" : "without");
        std::printf("  %-44s %12.0f %12.0f\n", label, static_cast<double>(file_bytes(path)) / n, rate);
      }
    }
    if (args.reference) {
      for (const bool with_files : {true, false}) {
        const std::string path = args.dir + "/size_magnetico_" + (with_files ? "files" : "nofiles") + ".db";
        double rate = 0;
        {
          Magnetico m(path);
          rate = m.ingest(corpus, with_files, ingest_batch());
        }
        std::printf("  %-44s %12.0f %12.0f\n", with_files ? "magnetico schema, with files" : "magnetico schema, without files",
                    static_cast<double>(file_bytes(path)) / n, rate);
      }
    }
    std::printf("\n  where the bytes go (bitscrape, with file lists and info dicts):\n");
    table_breakdown(full_path, n);
    std::printf("\n");
  }

  // ---- phase 2: scale
  const std::string path = args.dir + "/scale.db";
  const std::string ref_path = args.dir + "/scale_magnetico.db";
  if (!args.search_only) {
  const auto t0 = Clock::now();
  const auto corpus = make_corpus(args.torrents, false, 7);
  std::size_t files = 0;
  for (const auto& t : corpus) files += t.files.size();
  std::printf("scale run: %d torrents, %zu files (generated in %.1f s)\n", args.torrents, files, seconds_since(t0));
  double ours_rate = 0, ref_rate = 0;
  {
    auto s = open_store(path, false);
    ours_rate = ingest(*s, corpus, true);
  }
  std::printf("  ingest with file lists, no info dicts: %.0f torrents/s (%.0f files/s; %.0f torrents per CPU-second), "
              "%.0f B/torrent on disk\n",
              ours_rate, ours_rate * static_cast<double>(files) / args.torrents, args.torrents / last_ingest_cpu,
              static_cast<double>(file_bytes(path)) / args.torrents);
  if (!args.pg.empty()) {
    // The same corpus through the same StoreWriter into PostgreSQL (an empty database).
    PgOptions po;
    po.store.keep_info_dicts = false;
    auto pg = open_pg_store(args.pg, po);
    if (!pg) throw std::runtime_error(pg.error().message);
    const double pg_rate = ingest(**pg, corpus, true);
    std::printf("  PostgreSQL ingest with file lists:      %.0f torrents/s (%.0f torrents per CPU-second of this "
                "process)  (ratio to SQLite %.2fx)\n",
                pg_rate, args.torrents / last_ingest_cpu, pg_rate / ours_rate);
  }
  if (args.reference) {
    Magnetico m(ref_path);
    ref_rate = m.ingest(corpus, true, ingest_batch());
    std::printf("  magnetico schema ingest with files:     %.0f torrents/s, %.0f B/torrent on disk  (ratio %.2fx)\n",
                ref_rate, static_cast<double>(file_bytes(ref_path)) / args.torrents, ours_rate / ref_rate);
  }
  }  // !search_only

  Corpus qgen(7);  // same vocabulary as the scale corpus
  std::vector<std::string> queries;
  for (int i = 0; i < args.queries; ++i) queries.push_back(qgen.query());
  SqliteOptions ro;
  ro.read_only = true;
  auto sqlite_reader = open_sqlite_store(path, ro);
  if (!sqlite_reader) throw std::runtime_error(sqlite_reader.error().message);
  std::vector<std::pair<std::string, std::unique_ptr<Store>>> readers;
  readers.emplace_back("SQLite", std::move(sqlite_reader.value()));
  if (!args.pg.empty()) {
    PgOptions po;
    po.read_only = true;
    auto pg = open_pg_store(args.pg, po);
    if (!pg) throw std::runtime_error(pg.error().message);
    readers.emplace_back("PostgreSQL", std::move(pg.value()));
  }
  for (auto& [backend, reader] : readers) {
  struct Case {
    const char* name;
    std::function<void(SearchQuery&)> shape;
  };
  const std::vector<Case> cases = {
      {"relevance", [](SearchQuery&) {}},
      {"size desc", [](SearchQuery& q) { q.sort = SortKey::Size; }},
      {"date desc", [](SearchQuery& q) { q.sort = SortKey::Discovered; }},
      {"relevance + size>=1GB", [](SearchQuery& q) { q.min_size = 1'000'000'000; }},
      {"page 3 (offset 100)", [](SearchQuery& q) { q.offset = 100; }},
  };
  std::printf("\n  %s search, %d queries (40%% one word, 30%% two, 15%% word+year/1080p, 10%% prefix, 5%% miss), "
              "limit 50, default window and count limit (%zu)\n",
              backend.c_str(), args.queries, SearchQuery{}.window);
  std::printf("  %-26s %9s %9s %9s %9s %12s\n", "case", "p50 ms", "p95 ms", "p99 ms", "max ms", "avg total");
  for (const auto& c : cases) {
    std::vector<double> ms;
    double totals = 0;
    for (const auto& text : queries) {
      SearchQuery q;
      q.text = text;
      c.shape(q);
      const auto q0 = Clock::now();
      auto r = reader->search(q);
      ms.push_back(seconds_since(q0) * 1000);
      if (!r) throw std::runtime_error(r.error().message);
      totals += static_cast<double>(r->total);
    }
    const auto l = percentiles(ms);
    std::printf("  %-26s %9.2f %9.2f %9.2f %9.2f %12.0f\n", c.name, l.p50, l.p95, l.p99, l.max, totals / args.queries);
    if (std::getenv("BS_SLOWEST")) {
      std::vector<std::pair<double, std::string>> slow;
      for (std::size_t i = 0; i < ms.size(); ++i) slow.emplace_back(ms[i], queries[i]);
      std::sort(slow.rbegin(), slow.rend());
      for (std::size_t i = 0; i < 12 && i < slow.size(); ++i) std::printf("      %7.2f ms  '%s'\n", slow[i].first, slow[i].second.c_str());
    }
  }
  {
    std::vector<double> ms;
    for (int i = 0; i < args.queries; ++i) {
      SearchQuery q;
      q.min_size = 1'000'000'000;
      q.offset = static_cast<std::size_t>(i % 20) * 50;
      const auto q0 = Clock::now();
      if (!reader->search(q)) throw std::runtime_error("browse failed");
      ms.push_back(seconds_since(q0) * 1000);
    }
    const auto l = percentiles(ms);
    std::printf("  %-26s %9.2f %9.2f %9.2f %9.2f\n", "browse (no text) size>=1GB", l.p50, l.p95, l.p99, l.max);
  }
  }  // readers
  if (args.reference) {
    Magnetico m(ref_path);
    std::vector<double> ms;
    for (const auto& text : queries) {
      const std::string match = fts5_match_expression(parse_search_text(text));
      if (match.empty()) continue;
      const auto q0 = Clock::now();
      m.search(match);
      ms.push_back(seconds_since(q0) * 1000);
    }
    const auto l = percentiles(ms);
    std::printf("  %-26s %9.2f %9.2f %9.2f %9.2f\n", "magnetico relevance (page)", l.p50, l.p95, l.p99, l.max);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows when redirected to a file
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_storage: %s\n", e.what());
    return 1;
  }
}
