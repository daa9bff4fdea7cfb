#!/usr/bin/python3
"""End to end: `bitscrape crawl` on a testnet of real clients, then SIGKILL and resume.

20 libtorrent 2.x nodes (python3-libtorrent) on 127.0.13.x seed 40 torrents of every kind
(v1, v2-only, hybrid; single/multi-file; unicode names), BEP-51 interval left at libtorrent's
21600 s; 5 webtorrent `bittorrent-dht` nodes on 127.0.14.x announce their own infohashes.

Phase 1: a fresh crawl runs until a share of the torrents is stored, then is killed with SIGKILL.
Phase 2: the crawl restarts with NO bootstrap routers and must:
  - bootstrap from the nodes the first run persisted,
  - queue again what was discovered but not fetched, and fetch nothing twice,
  - end with every libtorrent torrent stored with correct metadata (name, sizes, piece length,
    file list, hashes; a hybrid once, under both keys), checked through `bitscrape export`,
  - have recorded the webtorrent infohashes (export --all lists them without metadata),
  - never be banned by a libtorrent node.
Binds only 127.0.13.0/24 and 127.0.14.0/24; stops everything it starts; bounded in time.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lt_swarm  # noqa: E402
from checks import check, summary  # noqa: E402
import store_view  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OURS = "127.0.13.200:6881"
def crawl(binary, db, work, extra, name):
    log = open(os.path.join(work, name + ".log"), "w")
    cmd = [binary, "crawl", "--allow-private-addresses", "--listen", OURS, "--db", db, "--web", "off",
           "--stats-json", os.path.join(work, name + ".stats.json")] + extra
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bitscrape", required=True)
    ap.add_argument("--timeout", type=float, default=240, help="seconds allowed for the resumed run")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bs-interop-crawl-")
    swarm = lt_swarm.Swarm(nodes=20, torrents=40, net="127.0.13", port=6881, seed=13,
                           workdir=os.path.join(work, "lt"))
    procs = []
    try:
        swarm.wait_ready()
        wt_manifest = os.path.join(work, "wt.json")
        wt = subprocess.Popen(
            ["node", os.path.join(HERE, "wt_swarm.mjs"), "--nodes", "5", "--net", "127.0.14", "--port", "6881",
             "--bootstrap", swarm.bootstrap, "--manifest", wt_manifest, "--duration", str(int(args.timeout + 200))],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=HERE)
        procs.append(wt)
        db = os.path.join(work, "crawl.db")
        all_keys = {k for t in swarm.manifest for k in t["dht_keys"]}
        primary = {t["dht_keys"][0] for t in swarm.manifest}

        # Phase 1: a deliberately slow crawl (one connection, a small packet budget), killed once
        # some torrents are stored and the first node persist (15 s) happened.
        p1, log1 = crawl(args.bitscrape, db, work, ["--bootstrap", swarm.bootstrap, "--max-connections", "1",
                                                     "--packet-budget", "15"], "run1")
        procs.append(p1)
        start = time.time()
        while time.time() - start < 120:
            swarm.pump()
            done = {t["dht_keys"][0] for t in swarm.manifest if set(t["dht_keys"]) & store_view.stored_keys(args.bitscrape, db)}
            if len(done) >= 1 and time.time() - start > 17:
                break
            time.sleep(0.5)
        p1.send_signal(signal.SIGKILL)
        p1.wait()
        log1.close()
        at_kill = store_view.stored_keys(args.bitscrape, db)
        first_run = [t for t in swarm.manifest if set(t["dht_keys"]) & at_kill]
        print("killed after %.0f s with %d/%d torrents stored" % (time.time() - start, len(first_run), len(primary)))
        check(1 <= len(first_run) < len(primary), "the first run stored some torrents, not all, before SIGKILL (%d)" %
              len(first_run))
        persisted_nodes = (store_view.stats(args.bitscrape, db) or {}).get("nodes", 0)
        pending_at_kill = store_view.pending_keys(args.bitscrape, db)
        check(persisted_nodes > 0, "nodes persisted before the kill (%d)" % persisted_nodes)

        # Phase 2: resume with no routers at all.
        conf = os.path.join(work, "resume.toml")
        with open(conf, "w") as fh:
            fh.write("[dht]\nbootstrap = []\n")
        p2, log2 = crawl(args.bitscrape, db, work, ["--config", conf], "run2")
        procs.append(p2)
        start = time.time()
        while time.time() - start < args.timeout:
            swarm.pump()
            if all(set(t["dht_keys"]) & store_view.stored_keys(args.bitscrape, db) for t in swarm.manifest):
                break
            time.sleep(1)
        elapsed = time.time() - start
        time.sleep(3)  # let webtorrent re-announces reach us too
        p2.send_signal(signal.SIGTERM)
        p2.wait(60)
        log2.close()
        out2 = open(os.path.join(work, "run2.log")).read()
        stats2 = json.load(open(os.path.join(work, "run2.stats.json")))
        print("resumed run: all stored after %.0f s" % elapsed)
        check(p2.returncode == 0, "the resumed crawl exits 0 on SIGTERM")
        check("bootstrapping from 0 routers and %d known nodes" % min(persisted_nodes, 200) in out2,
              "the resumed crawl bootstraps from the persisted nodes only")
        check(stats2.get("pipeline_torrents_fetched") == len(primary) - len(first_run),
              "nothing fetched twice: the second run fetched %s = %d - %d torrents" %
              (stats2.get("pipeline_torrents_fetched"), len(primary), len(first_run)))
        resumed = pending_at_kill & all_keys
        if resumed:
            check(stats2.get("pipeline_refilled", 0) >= 1, "pending keys were queued again (%d refilled)" %
                  stats2.get("pipeline_refilled", 0))

        # Every torrent, with correct metadata, through the export contract.
        out = subprocess.run([args.bitscrape, "export", "--format", "jsonl", "--all", "--db", db],
                             capture_output=True, text=True, check=True).stdout
        rows = [json.loads(l) for l in out.splitlines()]
        with_meta = {r["infohash"]: r for r in rows if r["name"] is not None}
        check(len(with_meta) == len(primary), "one record per torrent (%d == %d; hybrids once)" %
              (len(with_meta), len(primary)))
        bad = []
        for t in swarm.manifest:
            r = with_meta.get(t["dht_keys"][0])
            ok = (r is not None and r["name"] == t["name"] and r["total_bytes"] == t["total_bytes"] and
                  r["piece_length"] == t["piece_length"] and r["file_count"] == t["file_count"] and
                  r["infohash_v1"] == t["infohash_v1"] and r["infohash_v2"] == t["infohash_v2"] and
                  sorted((f["path"], f["length"]) for f in r["files"]) ==
                  sorted((f["path"], f["length"]) for f in t["files"]))
            if not ok:
                bad.append(t["name"])
        check(not bad, "every torrent stored with correct metadata (%d wrong: %s)" % (len(bad), bad[:3]))
        wt_keys = {e["infohash"] for e in json.load(open(wt_manifest))["infohashes"]}
        listed = {r["infohash"] for r in rows}
        check(wt_keys <= listed, "the webtorrent-announced infohashes are reported (%d/%d)" %
              (len(wt_keys & listed), len(wt_keys)))
        swarm.pump()
        check(not swarm.bans(), "no libtorrent node blocked us")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        swarm.close()
        shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
