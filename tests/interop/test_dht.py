#!/usr/bin/python3
"""Interop: our DHT node (`bitscrape crawl`'s node on its UDP adapter) among real ones.

10 libtorrent 2.x nodes (python3-libtorrent) on 127.0.11.x seed 12 torrents; 5 webtorrent
`bittorrent-dht` nodes on 127.0.12.x announce their own random infohashes. Our node bootstraps
from one libtorrent node and must:
  - get into libtorrent's routing tables (dht_live_nodes lists it),
  - answer their queries (libtorrent and webtorrent lookups and announces pass through it: the
    infohashes they ask for / announce reach our database with the matching source),
  - sample the libtorrent nodes (BEP-51: keys arrive with the "sample" source),
  - find the peers libtorrent announces (get_peers lookups return the seeders),
  - never be blocked (no libtorrent "BANNING PEER" log line).
Binds only 127.0.11.0/24 and 127.0.12.0/24; stops everything it starts.
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
import store_view  # noqa: E402
from checks import check, summary  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OURS = "127.0.11.200:6881"
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bitscrape", required=True)
    ap.add_argument("--seconds", type=float, default=75)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bs-interop-dht-")
    swarm = lt_swarm.Swarm(nodes=10, torrents=12, net="127.0.11", port=6881, seed=11,
                           workdir=os.path.join(work, "lt"))
    wt = crawl = None
    try:
        swarm.wait_ready()
        db = os.path.join(work, "crawl.db")
        peers_csv = os.path.join(work, "peers.csv")
        crawl = subprocess.Popen(
            [args.bitscrape, "crawl", "--allow-private-addresses", "--bootstrap", swarm.bootstrap,
             "--listen", OURS, "--db", db, "--web", "off", "--duration", str(int(args.seconds)),
             "--peers-csv", peers_csv],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(3)
        wt_manifest = os.path.join(work, "wt.json")
        wt = subprocess.Popen(
            ["node", os.path.join(HERE, "wt_swarm.mjs"), "--nodes", "5", "--net", "127.0.12", "--port", "6881",
             "--bootstrap", OURS, "--bootstrap", swarm.bootstrap, "--manifest", wt_manifest,
             "--duration", str(int(args.seconds))],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=HERE)

        in_tables = []
        deadline = time.time() + args.seconds - 5
        while time.time() < deadline:
            swarm.pump()
            in_tables = [n.endpoint() for n in swarm.nodes if OURS in n.live_nodes()]
            if len(in_tables) >= 8 and time.time() > deadline - args.seconds / 2:
                break
            time.sleep(2)
        check(len(in_tables) >= 8, "our node is in %d/10 libtorrent routing tables" % len(in_tables))

        out, _ = crawl.communicate(timeout=args.seconds + 60)
        crawl = None
        print(out[-2000:])
        if " torrents stored" not in out:
            check(False, "the crawler ran (it stopped early: see its output above)")
            return 1
        wt.send_signal(signal.SIGTERM)
        wt.communicate(timeout=20)
        wt = None
        swarm.pump()

        rows = store_view.key_sources(args.bitscrape, db)
        seeded = {k for t in swarm.manifest for k in t["dht_keys"]}
        sampled = {k for k, src in rows.items() if "sample" in src}
        check(seeded <= set(rows), "every libtorrent-seeded key discovered (%d/%d)" % (len(seeded & set(rows)), len(seeded)))
        check(len(sampled & seeded) >= len(seeded) // 2,
              "BEP-51 sampling of libtorrent nodes found %d/%d seeded keys" % (len(sampled & seeded), len(seeded)))
        wt_keys = {e["infohash"] for e in json.load(open(wt_manifest))["infohashes"]}
        heard = {k for k in wt_keys if k in rows and rows[k] & {"get_peers", "announce_peer"}}
        check(heard == wt_keys, "webtorrent lookups/announces reached us for %d/%d keys" % (len(heard), len(wt_keys)))
        announced = {k for k in wt_keys if k in rows and "announce_peer" in rows[k]}
        check(len(announced) >= 1, "webtorrent announced through us (%d keys)" % len(announced))
        lt_queries = {k for k, src in rows.items() if "get_peers" in src and k not in wt_keys}
        check(len(lt_queries) >= 1, "libtorrent get_peers queries answered (%d keys)" % len(lt_queries))

        found = set()
        with open(peers_csv) as fh:
            next(fh)
            for line in fh:
                ih, ip, port = line.strip().split(",")
                found.add((ih, "%s:%s" % (ip, port)))
        want = {(k, t["seeder"]) for t in swarm.manifest for k in t["dht_keys"]}
        # A hybrid is stored once: when its metadata arrives through one key before the other key's
        # lookup ran, that lookup is skipped (the pipeline forgets the stored torrent's other key).
        # Such a key counts when its torrent's seeder was found under the other key and the key is
        # recorded as fetched; every other key needs its own seeder row.
        fetched = store_view.stored_keys(args.bitscrape, db)
        covered = set(want & found)
        for t in swarm.manifest:
            if any((k, t["seeder"]) in found for k in t["dht_keys"]):
                covered |= {(k, t["seeder"]) for k in t["dht_keys"] if k in fetched}
        check(want <= covered, "get_peers found the seeder of every seeded key (%d/%d; %d by its hybrid twin)" %
              (len(covered & want), len(want), len(covered - found)))
        bans = swarm.bans()
        check(not bans, "no libtorrent node blocked us (%s)" % bans[:2])
        check(" torrents stored" in out, "crawl stopped cleanly")
    finally:
        for p in (crawl, wt):
            if p is not None:
                p.kill()
                p.wait()
        swarm.close()
        shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
