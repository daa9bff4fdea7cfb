// The SQLite Store: the embedded default database (one file plus its -wal and -shm).
//
// Schema (v3; docs/storage.md has the full DDL and the reasons): infohashes as 20/32-byte
// BLOBs, each DHT key one infohashes row that also names the torrent stored under it, times
// and sizes as integers, names stored once (the FTS5 index is contentless), file lists
// front-coded + zstd in one blob per torrent (none at all for a single file named like the
// torrent), raw info dicts zstd-compressed in their own table (optional), exact row counts
// kept by triggers in a one-row `totals` table so stats() never scans; v3 adds the
// `instances` table (one crawler at a time here: claims are Store's defaults).
//
// Durability: WAL journal. With Durability::Normal (synchronous=NORMAL, the default) a commit
// is in the WAL before write() returns, so it survives the process being killed at any point
// (kill -9, crash, OOM); a power loss or OS crash may lose the last commits (never corrupts).
// Durability::Full (synchronous=FULL) fsyncs the WAL on every commit and survives power loss,
// at a large cost in commit latency.
//
// Concurrency: one writer at a time per database file (SQLite's rule); any number of readers,
// in this or other processes, read a consistent snapshot while the writer commits. When
// another process holds the write lock past busy_timeout, writes fail with ErrorCode::Locked
// and a message saying what to do.
//
// Migrations: an ordered list, v1..vN, each applied in its own transaction and recorded in
// the schema_version table. Opening a database written by a newer schema fails with
// SchemaTooNew instead of guessing.
//
// Threading: as every Store — any thread, calls serialised by an internal mutex; open one
// store per thread to read in parallel.
#pragma once

#include "storage/migration.hpp"
#include "storage/store.hpp"

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace bitscrape::storage {

// The built-in migrations, v1 first.
std::span<const Migration> sqlite_migrations() noexcept;

enum class Durability : std::uint8_t {
  Normal,  // synchronous=NORMAL: survives process kill, not power loss
  Full,    // synchronous=FULL: survives power loss
};

struct SqliteOptions {
  StoreOptions store;
  Durability durability = Durability::Normal;
  // How long a write waits for another connection's lock before failing with Locked.
  std::chrono::milliseconds busy_timeout{5000};
  bool read_only = false;  // no writes, no migrations (the schema must be current)
  int zstd_level = 3;      // info dicts and file lists
  std::int64_t cache_kib = 64 * 1024;  // page cache of this connection
  // Checkpoint the WAL into the database after this many pages (SQLite's default is 1000).
  int wal_autocheckpoint_pages = 1000;
};

// Opens (creating if needed) the database at `path` and brings its schema up to date.
StoreResult<std::unique_ptr<Store>> open_sqlite_store(const std::string& path, const SqliteOptions& options = {});
// The same with an explicit migration list (tests use it to exercise the mechanism).
StoreResult<std::unique_ptr<Store>> open_sqlite_store(const std::string& path, const SqliteOptions& options,
                                                      std::span<const Migration> migrations);

}  // namespace bitscrape::storage
