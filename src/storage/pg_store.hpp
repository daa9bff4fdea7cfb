// The PostgreSQL Store: the backend for collecting at scale (a database server that several
// crawlers and readers share), through libpq. Same contract and the same API results as the
// SQLite store (store.hpp); tests/storage runs one typed suite against both.
//
// Schema (v2; pg_schema.cpp has the DDL, docs/storage.md the reasons): the SQLite v2 layout in
// PostgreSQL types — infohashes, names and counter names as bytea (a Store takes any bytes;
// PostgreSQL text would refuse invalid UTF-8 and NUL), times and sizes as bigint, each DHT key
// one infohashes row naming the torrent stored under it, file lists front-coded + zstd, raw
// info dicts zstd-compressed in their own table. Full-text search: a tsvector per torrent
// (torrents.doc) under a GIN index, built here from the same tokens the other backends index
// (search_text.hpp) so that matching is identical — PostgreSQL's own parser splits
// "ubuntu-22.04" differently. Exact counts for stats() are kept in a one-row `totals` table by
// statement-level triggers (one update per statement, not per row).
//
// Writes: write() is one transaction; each kind of record in a batch is one multi-row
// statement (INSERT ... SELECT FROM unnest(arrays) ... ON CONFLICT), with the rows merged and
// sorted by key first — PostgreSQL refuses to upsert one row twice in a statement, and a fixed
// key order keeps two writers from deadlocking.
//
// Many crawlers (store.hpp): v2 adds `instances` (heartbeats) and `leases` (who fetches a
// key, until when). claim() is one INSERT ... ON CONFLICT DO UPDATE over the keys in byte
// order; claim_pending() selects pending rows FOR UPDATE SKIP LOCKED and leases them in the
// same statement. Times are the callers' clocks: the crawler hosts must keep them in sync
// (NTP); leases and liveness have margins of tens of seconds.
//
// Durability: Durability::Normal sets synchronous_commit = off for this session: a commit
// survives bitscrape being killed (the server has it) and a server crash loses at most the
// last ~0.6 s of commits, never corrupts; Durability::Full keeps synchronous_commit on.
//
// Errors: a connection that cannot be made says where and what to fix; a connection lost
// mid-way is an Io error (transient: the StoreWriter retries) and the next call reconnects.
//
// Threading: as every Store — any thread, calls serialised by an internal mutex (one libpq
// connection per store); open one store per thread to read in parallel.
#pragma once

#include "storage/migration.hpp"
#include "storage/sqlite_store.hpp"  // Durability
#include "storage/store.hpp"

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace bitscrape::storage {

// The built-in PostgreSQL migrations, v1 first.
std::span<const Migration> pg_migrations() noexcept;

struct PgOptions {
  StoreOptions store;
  Durability durability = Durability::Normal;
  bool read_only = false;  // no writes, no migrations (the schema must be current)
  int zstd_level = 3;      // info dicts and file lists
  std::chrono::seconds connect_timeout{10};
};

// True for a libpq connection URI: "postgresql://..." or "postgres://...".
bool is_postgres_uri(std::string_view target) noexcept;
// `uri` with any password replaced by "***", for messages and logs.
std::string redact_uri(std::string_view uri);

// Connects to the database at `uri` (a libpq connection URI) and brings its schema up to date.
StoreResult<std::unique_ptr<Store>> open_pg_store(const std::string& uri, const PgOptions& options = {});
// The same with an explicit migration list (tests use it to exercise the mechanism).
StoreResult<std::unique_ptr<Store>> open_pg_store(const std::string& uri, const PgOptions& options,
                                                  std::span<const Migration> migrations);

}  // namespace bitscrape::storage
