"""What a database holds, as `bitscrape export` and `bitscrape stats --json` show it.

The interop tests and benchmarks read results through the CLI, never the schema: the same
checks hold for every backend (SQLite, PostgreSQL) and survive schema changes. Every function
returns an empty result (or None) while the database does not exist yet.
"""

import json
import subprocess


def _run(bitscrape, args, timeout=120):
    r = subprocess.run([bitscrape] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def export_rows(bitscrape, db, all_rows=False):
    """The JSONL export as a list of dicts (torrents; with all_rows, also keys without metadata)."""
    code, out = _run(bitscrape, ["export", "--format", "jsonl", "--db", db] + (["--all"] if all_rows else []))
    if code != 0:
        return []
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def torrent_keys(row):
    """The DHT keys a torrent row is stored under: its v1 hash and its truncated v2 hash."""
    keys = {row["infohash"]}
    if row.get("infohash_v1"):
        keys.add(row["infohash_v1"])
    if row.get("infohash_v2"):
        keys.add(row["infohash_v2"][:40])
    return keys


def stored_keys(bitscrape, db):
    """Every DHT key under which a verified torrent is stored."""
    keys = set()
    for row in export_rows(bitscrape, db):
        keys |= torrent_keys(row)
    return keys


def pending_keys(bitscrape, db):
    """Keys without metadata that a later run may still fetch (not given up on)."""
    return {r["infohash"] for r in export_rows(bitscrape, db, all_rows=True)
            if r.get("name") is None and r.get("state") == "pending"}


def failed_keys(bitscrape, db):
    """Keys without metadata that were given up on."""
    return {r["infohash"] for r in export_rows(bitscrape, db, all_rows=True)
            if r.get("name") is None and r.get("state") == "failed"}


def key_sources(bitscrape, db):
    """Every DHT key the database knows -> the set of ways it was heard of ("sample", "get_peers",
    "announce_peer"). A stored hybrid lists the union of its two keys' sources under both keys."""
    keys = {}
    for row in export_rows(bitscrape, db, all_rows=True):
        for k in (torrent_keys(row) if row.get("name") is not None else {row["infohash"]}):
            keys.setdefault(k, set()).update(row.get("sources") or [])
    return keys


def stats(bitscrape, db):
    """`bitscrape stats --json` as a dict, or None when the database cannot be read."""
    code, out = _run(bitscrape, ["stats", "--json", "--db", db], timeout=60)
    if code != 0:
        return None
    return json.loads(out)


def wrongly_stored(bitscrape, db, manifest):
    """(names of the manifest's torrents not stored exactly once, correctly and under all their
    keys; the number of torrent rows): the same check for every backend and crawl test."""
    rows = export_rows(bitscrape, db)
    by_key = {}
    for r in rows:
        for k in torrent_keys(r):
            by_key.setdefault(k, []).append(r)
    wrong = []
    for t in manifest:
        got = by_key.get(t["dht_keys"][0], [])
        if len(got) != 1 or got[0]["name"] != t["name"] or got[0]["total_bytes"] != t["total_bytes"] \
                or got[0]["file_count"] != t["file_count"] \
                or any(len(by_key.get(k, [])) != 1 or by_key[k][0] is not got[0] for k in t["dht_keys"]):
            wrong.append(t["name"])
    return wrong, len(rows)

