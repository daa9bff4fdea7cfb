// The PostgreSQL schema as an ordered list of migrations. Never edit a released migration: add
// the next one. docs/storage.md explains each choice; the layout follows SQLite's v2.
#include "storage/pg_store.hpp"

namespace bitscrape::storage {

namespace {

constexpr std::string_view kV1 = R"sql(
CREATE TABLE nodes (
  ip        bytea   NOT NULL,             -- 4 or 16 bytes, network order
  port      integer NOT NULL,
  id        bytea   NOT NULL,             -- 20 bytes
  last_seen bigint  NOT NULL,             -- unix seconds
  good      boolean NOT NULL,
  PRIMARY KEY (ip, port)
);
CREATE INDEX nodes_good ON nodes (last_seen DESC, ip, port) WHERE good;

-- One row per DHT key (v1 or truncated v2). torrent_id names the torrent stored under it:
-- the key -> torrent lookup and the uniqueness check of stored torrents.
CREATE TABLE infohashes (
  ih           bytea    NOT NULL PRIMARY KEY,  -- 20 bytes
  first_seen   bigint   NOT NULL,
  last_seen    bigint   NOT NULL,
  sources      smallint NOT NULL,              -- Source bitmask
  peers        bigint   NOT NULL,
  attempts     bigint   NOT NULL,
  last_attempt bigint,
  state        smallint NOT NULL,              -- 0 pending, 1 fetched, 2 failed
  priority     integer  NOT NULL,
  torrent_id   bigint
);
CREATE INDEX infohashes_pending ON infohashes (priority DESC, attempts, last_seen DESC, ih) WHERE state = 0;
CREATE INDEX infohashes_unfetched ON infohashes (last_seen DESC, ih) WHERE state <> 1;

-- ids come from torrents_id_seq, taken by the writer for a whole batch at once; a higher id
-- is a newer torrent (search windows are "the newest N matches").
CREATE SEQUENCE torrents_id_seq;
CREATE TABLE torrents (
  id            bigint   NOT NULL PRIMARY KEY,
  ih_v1         bytea,                     -- 20 bytes or NULL
  ih_v2         bytea,                     -- 32 bytes or NULL
  name          bytea    NOT NULL,         -- the bytes given (UTF-8 from the crawler)
  total_size    bigint   NOT NULL,
  piece_length  bigint   NOT NULL,
  file_count    bigint   NOT NULL,
  flags         integer  NOT NULL,         -- 1 private, 2 file list implied (one file = name)
  discovered_at bigint   NOT NULL,
  fetched_at    bigint   NOT NULL,
  -- Search document: name tokens at positions 1.. weight A (repeats kept, for relevance),
  -- then the distinct path terms, weight D. Built by the writer (pg_store.cpp).
  doc           tsvector NOT NULL,
  CHECK (ih_v1 IS NOT NULL OR ih_v2 IS NOT NULL)
);
ALTER SEQUENCE torrents_id_seq OWNED BY torrents.id;
CREATE INDEX torrents_discovered ON torrents (discovered_at, id);
CREATE INDEX torrents_size ON torrents (total_size, id);
CREATE INDEX torrents_doc ON torrents USING gin (doc);

CREATE TABLE file_lists (
  torrent_id bigint NOT NULL PRIMARY KEY REFERENCES torrents (id) ON DELETE CASCADE,
  data       bytea  NOT NULL               -- codec.hpp file list blob
);
CREATE TABLE info_dicts (
  torrent_id bigint NOT NULL PRIMARY KEY REFERENCES torrents (id) ON DELETE CASCADE,
  data       bytea  NOT NULL               -- one zstd frame
);
-- Both blobs are compressed already: keep TOAST from trying again.
ALTER TABLE file_lists ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE info_dicts ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE peers (
  ih        bytea   NOT NULL REFERENCES infohashes (ih) ON DELETE CASCADE,
  ip        bytea   NOT NULL,
  port      integer NOT NULL,
  last_seen bigint  NOT NULL,
  PRIMARY KEY (ih, ip, port)
);

CREATE TABLE counter_names (
  id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name bytea  NOT NULL UNIQUE
);
CREATE TABLE counter_samples (
  name_id bigint NOT NULL REFERENCES counter_names (id),
  at      bigint NOT NULL,
  value   bigint NOT NULL,
  PRIMARY KEY (name_id, at)
);

-- Exact counts for stats(): count(*) over millions of rows takes seconds. Statement-level
-- triggers with transition tables: one totals update per statement of a batch.
CREATE TABLE totals (
  id integer PRIMARY KEY CHECK (id = 0),
  nodes bigint NOT NULL, infohashes bigint NOT NULL, pending bigint NOT NULL,
  failed bigint NOT NULL, torrents bigint NOT NULL, files bigint NOT NULL, peers bigint NOT NULL
);
INSERT INTO totals VALUES (0, 0, 0, 0, 0, 0, 0, 0);

CREATE FUNCTION bitscrape_nodes_ai() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  SELECT count(*) INTO n FROM new_rows;
  IF n <> 0 THEN UPDATE totals SET nodes = nodes + n WHERE id = 0; END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER nodes_ai AFTER INSERT ON nodes REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bitscrape_nodes_ai();
CREATE FUNCTION bitscrape_nodes_ad() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  SELECT count(*) INTO n FROM old_rows;
  IF n <> 0 THEN UPDATE totals SET nodes = nodes - n WHERE id = 0; END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER nodes_ad AFTER DELETE ON nodes REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bitscrape_nodes_ad();

CREATE FUNCTION bitscrape_infohashes_ai() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint; p bigint; f bigint;
BEGIN
  SELECT count(*), count(*) FILTER (WHERE state = 0), count(*) FILTER (WHERE state = 2)
    INTO n, p, f FROM new_rows;
  IF n <> 0 THEN
    UPDATE totals SET infohashes = infohashes + n, pending = pending + p, failed = failed + f WHERE id = 0;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER infohashes_ai AFTER INSERT ON infohashes REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bitscrape_infohashes_ai();
CREATE FUNCTION bitscrape_infohashes_ad() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint; p bigint; f bigint;
BEGIN
  SELECT count(*), count(*) FILTER (WHERE state = 0), count(*) FILTER (WHERE state = 2)
    INTO n, p, f FROM old_rows;
  IF n <> 0 THEN
    UPDATE totals SET infohashes = infohashes - n, pending = pending - p, failed = failed - f WHERE id = 0;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER infohashes_ad AFTER DELETE ON infohashes REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bitscrape_infohashes_ad();
CREATE FUNCTION bitscrape_infohashes_au() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE p bigint; f bigint;
BEGIN
  SELECT coalesce(sum((n.state = 0)::int - (o.state = 0)::int), 0),
         coalesce(sum((n.state = 2)::int - (o.state = 2)::int), 0)
    INTO p, f FROM new_rows n JOIN old_rows o ON o.ih = n.ih WHERE n.state <> o.state;
  IF p <> 0 OR f <> 0 THEN UPDATE totals SET pending = pending + p, failed = failed + f WHERE id = 0; END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER infohashes_au AFTER UPDATE ON infohashes REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bitscrape_infohashes_au();

CREATE FUNCTION bitscrape_torrents_ai() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint; f bigint;
BEGIN
  SELECT count(*), coalesce(sum(file_count), 0) INTO n, f FROM new_rows;
  IF n <> 0 THEN UPDATE totals SET torrents = torrents + n, files = files + f WHERE id = 0; END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER torrents_ai AFTER INSERT ON torrents REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bitscrape_torrents_ai();
CREATE FUNCTION bitscrape_torrents_ad() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint; f bigint;
BEGIN
  SELECT count(*), coalesce(sum(file_count), 0) INTO n, f FROM old_rows;
  IF n <> 0 THEN UPDATE totals SET torrents = torrents - n, files = files - f WHERE id = 0; END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER torrents_ad AFTER DELETE ON torrents REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bitscrape_torrents_ad();

CREATE FUNCTION bitscrape_peers_ai() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  SELECT count(*) INTO n FROM new_rows;
  IF n <> 0 THEN UPDATE totals SET peers = peers + n WHERE id = 0; END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER peers_ai AFTER INSERT ON peers REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bitscrape_peers_ai();
CREATE FUNCTION bitscrape_peers_ad() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  SELECT count(*) INTO n FROM old_rows;
  IF n <> 0 THEN UPDATE totals SET peers = peers - n WHERE id = 0; END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER peers_ad AFTER DELETE ON peers REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bitscrape_peers_ad();
)sql";

// v2: many crawlers, one database (store.hpp). instances: one row per crawl, its heartbeat
// tells whether it is alive. leases: who may fetch a key, until when; a row is kept after the
// fetch (the torrent, once committed, refuses every later claim) and deleted once expired, so
// the table holds about an hour of claimed work. No foreign key to instances: a lease of a
// forgotten instance is simply not held.
constexpr std::string_view kV2 = R"sql(
CREATE TABLE instances (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  node_id          bytea   NOT NULL,      -- 20 bytes
  listen           text    NOT NULL,
  host             text    NOT NULL,
  started          bigint  NOT NULL,
  heartbeat        bigint  NOT NULL,      -- the latest heartbeat (unix seconds)
  stopped          bigint,                -- a clean stop
  infohashes       bigint  NOT NULL DEFAULT 0,
  torrents         bigint  NOT NULL DEFAULT 0,
  infohashes_per_s float8  NOT NULL DEFAULT 0,
  torrents_per_s   float8  NOT NULL DEFAULT 0,
  packets_per_s    float8  NOT NULL DEFAULT 0
);
CREATE INDEX instances_heartbeat ON instances (heartbeat);

CREATE TABLE leases (
  ih    bytea  NOT NULL PRIMARY KEY,      -- 20 bytes: a DHT key
  owner bigint NOT NULL,                  -- instances.id
  until bigint NOT NULL                   -- unix seconds
);
CREATE INDEX leases_until ON leases (until);
CREATE INDEX leases_owner ON leases (owner);
)sql";

constexpr Migration kMigrations[] = {
    {1, "initial schema", kV1},
    {2, "crawler instances and leases", kV2},
};

}  // namespace

std::span<const Migration> pg_migrations() noexcept {
  return kMigrations;
}

}  // namespace bitscrape::storage
