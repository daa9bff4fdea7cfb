// The SQLite schema as an ordered list of migrations. Never edit a released migration: add
// the next one. docs/storage.md explains each choice.
#include "storage/sqlite_store.hpp"

namespace bitscrape::storage {

namespace {

constexpr std::string_view kV1 = R"sql(
CREATE TABLE nodes (
  ip        BLOB    NOT NULL,             -- 4 or 16 bytes, network order
  port      INTEGER NOT NULL,
  id        BLOB    NOT NULL,             -- 20 bytes
  last_seen INTEGER NOT NULL,             -- unix seconds
  good      INTEGER NOT NULL,
  PRIMARY KEY (ip, port)
) WITHOUT ROWID;
CREATE INDEX nodes_good ON nodes (last_seen DESC) WHERE good = 1;

CREATE TABLE infohashes (
  ih           BLOB    NOT NULL PRIMARY KEY,  -- 20 bytes: v1 or truncated v2
  first_seen   INTEGER NOT NULL,
  last_seen    INTEGER NOT NULL,
  sources      INTEGER NOT NULL,              -- Source bitmask
  peers        INTEGER NOT NULL,
  attempts     INTEGER NOT NULL,
  last_attempt INTEGER,
  state        INTEGER NOT NULL,              -- 0 pending, 1 fetched, 2 failed
  priority     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX infohashes_pending ON infohashes (priority DESC, attempts, last_seen DESC) WHERE state = 0;
CREATE INDEX infohashes_unfetched ON infohashes (last_seen) WHERE state <> 1;

CREATE TABLE torrents (
  id            INTEGER PRIMARY KEY,
  ih_v1         BLOB,                     -- 20 bytes or NULL
  ih_v2         BLOB,                     -- 32 bytes or NULL
  name          TEXT    NOT NULL,
  total_size    INTEGER NOT NULL,
  piece_length  INTEGER NOT NULL,
  file_count    INTEGER NOT NULL,
  flags         INTEGER NOT NULL,         -- 1 private, 2 file list implied (one file = name)
  discovered_at INTEGER NOT NULL,
  fetched_at    INTEGER NOT NULL,
  CHECK (ih_v1 IS NOT NULL OR ih_v2 IS NOT NULL)
);
CREATE UNIQUE INDEX torrents_v1 ON torrents (ih_v1) WHERE ih_v1 IS NOT NULL;
CREATE UNIQUE INDEX torrents_v2 ON torrents (substr(ih_v2, 1, 20)) WHERE ih_v2 IS NOT NULL;
CREATE INDEX torrents_discovered ON torrents (discovered_at);
CREATE INDEX torrents_size ON torrents (total_size);

CREATE TABLE file_lists (
  torrent_id INTEGER PRIMARY KEY REFERENCES torrents (id) ON DELETE CASCADE,
  data       BLOB NOT NULL                -- codec.hpp file list blob
);
CREATE TABLE info_dicts (
  torrent_id INTEGER PRIMARY KEY REFERENCES torrents (id) ON DELETE CASCADE,
  data       BLOB NOT NULL                -- one zstd frame
);

-- Contentless: names live once, in torrents; paths (distinct terms) only in the index.
-- The sanitiser prefix-matches a last token of 3+ bytes (search_text.hpp). Without a prefix
-- index FTS5 answers "1080p"* by merging the whole doclist of every term it starts into one
-- buffer, however few results are wanted; the prefix indexes make 3..6-character prefixes one
-- lookup each (longer prefixes start few, rarer terms).
-- columnsize=0: nothing reads column sizes (relevance is computed without them, store.hpp).
-- hashsize: FTS5 buffers new terms in memory and writes a level-0 segment whenever the buffer
-- exceeds this (default 1 MiB); 16 MiB means fewer, larger segments and less merging
-- (+20% ingest at 300,000 torrents), for up to 16 MiB of memory in the writing connection.
CREATE VIRTUAL TABLE torrents_fts USING fts5 (
  name, paths, content = '', columnsize = 0, prefix = '3 4 5 6',
  tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO torrents_fts (torrents_fts, rank) VALUES ('hashsize', 16777216);

CREATE TABLE peers (
  ih        BLOB    NOT NULL REFERENCES infohashes (ih) ON DELETE CASCADE,
  ip        BLOB    NOT NULL,
  port      INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  PRIMARY KEY (ih, ip, port)
) WITHOUT ROWID;

CREATE TABLE counter_names (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE counter_samples (
  name_id INTEGER NOT NULL REFERENCES counter_names (id),
  at      INTEGER NOT NULL,
  value   INTEGER NOT NULL,
  PRIMARY KEY (name_id, at)
) WITHOUT ROWID;

-- Exact counts for stats(), kept by triggers: count(*) over millions of rows takes seconds.
CREATE TABLE totals (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  nodes INTEGER NOT NULL, infohashes INTEGER NOT NULL, pending INTEGER NOT NULL,
  failed INTEGER NOT NULL, torrents INTEGER NOT NULL, files INTEGER NOT NULL, peers INTEGER NOT NULL
);
INSERT INTO totals VALUES (0, 0, 0, 0, 0, 0, 0, 0);
CREATE TRIGGER nodes_ai AFTER INSERT ON nodes BEGIN
  UPDATE totals SET nodes = nodes + 1 WHERE id = 0;
END;
CREATE TRIGGER nodes_ad AFTER DELETE ON nodes BEGIN
  UPDATE totals SET nodes = nodes - 1 WHERE id = 0;
END;
CREATE TRIGGER infohashes_ai AFTER INSERT ON infohashes BEGIN
  UPDATE totals SET infohashes = infohashes + 1, pending = pending + (new.state = 0),
                    failed = failed + (new.state = 2) WHERE id = 0;
END;
CREATE TRIGGER infohashes_ad AFTER DELETE ON infohashes BEGIN
  UPDATE totals SET infohashes = infohashes - 1, pending = pending - (old.state = 0),
                    failed = failed - (old.state = 2) WHERE id = 0;
END;
CREATE TRIGGER infohashes_au AFTER UPDATE OF state ON infohashes WHEN old.state <> new.state BEGIN
  UPDATE totals SET pending = pending + (new.state = 0) - (old.state = 0),
                    failed = failed + (new.state = 2) - (old.state = 2) WHERE id = 0;
END;
CREATE TRIGGER torrents_ai AFTER INSERT ON torrents BEGIN
  UPDATE totals SET torrents = torrents + 1, files = files + new.file_count WHERE id = 0;
END;
CREATE TRIGGER torrents_ad AFTER DELETE ON torrents BEGIN
  UPDATE totals SET torrents = torrents - 1, files = files - old.file_count WHERE id = 0;
END;
CREATE TRIGGER peers_ai AFTER INSERT ON peers BEGIN
  UPDATE totals SET peers = peers + 1 WHERE id = 0;
END;
CREATE TRIGGER peers_ad AFTER DELETE ON peers BEGIN
  UPDATE totals SET peers = peers - 1 WHERE id = 0;
END;
)sql";

// v2: the keys of a torrent live in one B-tree, not three. infohashes already has a row per
// DHT key, keyed by it, and every key of a stored torrent has one (state 1, never pruned);
// giving that row the torrent's id makes it the key -> torrent lookup and the uniqueness
// check, and the unique indexes on torrents (ih_v1, truncated ih_v2) go. Each was a
// random-key B-tree touched once per stored torrent: at 1,000,000 torrents dropping them
// raised ingest by a sixth (BENCHMARKS.md). ih_v1/ih_v2 stay in torrents: they are the record.
// And FTS5 automerge 4 -> 8: a level merges when it holds 8 segments instead of 4, so each
// term is rewritten by merges about half as often (log8 vs log4 levels); queries read up to
// twice as many segments per level, which measured no slower at 1M (+7% ingest).
constexpr std::string_view kV2 = R"sql(
INSERT INTO torrents_fts (torrents_fts, rank) VALUES ('automerge', 8);
ALTER TABLE infohashes ADD COLUMN torrent_id INTEGER;  -- the torrent stored under this key
UPDATE infohashes SET torrent_id = (SELECT id FROM torrents WHERE ih_v1 = infohashes.ih)
  WHERE state = 1;
UPDATE infohashes SET torrent_id = (SELECT id FROM torrents WHERE substr(ih_v2, 1, 20) = infohashes.ih
                                                              AND ih_v2 IS NOT NULL)
  WHERE state = 1 AND torrent_id IS NULL;
DROP INDEX torrents_v1;
DROP INDEX torrents_v2;
)sql";

// v3: the crawler instances writing to this database (store.hpp). SQLite has one at a time
// (the file lock) but keeps the same table as PostgreSQL, so `stats` and the web UI list it
// the same way. AUTOINCREMENT: ids never come back after old rows are forgotten.
constexpr std::string_view kV3 = R"sql(
CREATE TABLE instances (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  node_id          BLOB    NOT NULL,      -- 20 bytes
  listen           TEXT    NOT NULL,
  host             TEXT    NOT NULL,
  started          INTEGER NOT NULL,
  heartbeat        INTEGER NOT NULL,      -- the latest heartbeat (unix seconds)
  stopped          INTEGER,               -- a clean stop
  infohashes       INTEGER NOT NULL DEFAULT 0,
  torrents         INTEGER NOT NULL DEFAULT 0,
  infohashes_per_s REAL    NOT NULL DEFAULT 0,
  torrents_per_s   REAL    NOT NULL DEFAULT 0,
  packets_per_s    REAL    NOT NULL DEFAULT 0
);
CREATE INDEX instances_heartbeat ON instances (heartbeat);
)sql";

constexpr Migration kMigrations[] = {
    {1, "initial schema", kV1},
    {2, "torrent keys in infohashes", kV2},
    {3, "crawler instances", kV3},
};

}  // namespace

std::span<const Migration> sqlite_migrations() noexcept { return kMigrations; }

}  // namespace bitscrape::storage
