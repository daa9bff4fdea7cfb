#!/usr/bin/python3
"""Interop: a crawl of real libtorrent seeders with a liar announced for every torrent.

20 libtorrent 2.x nodes (python3-libtorrent) on 127.0.38.x seed 40 torrents of every kind (v1,
v2-only, hybrid; single/multi-file). A scripted liar (liar_peer.py) on its own address serves
each torrent's info dict with one byte flipped, and announces every key of every torrent to our
node (KRPC get_peers + announce_peer from the liar's address), so keys are first heard of from
the liar, mostly after the liar has already been caught on another key.

A fresh `bitscrape crawl` must, within bounded time:
  - store every torrent, correctly (name, size, file count, both keys of a hybrid), once;
  - leave no torrent key pending: every key is stored or recorded failed (a key whose only known
    peer was a liar already caught used to wait for a fetch outcome that never came);
  - actually meet the liar (it served connections), and never be blocked by libtorrent.
Binds only 127.0.38.0/24; stops everything it starts.
"""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import libtorrent as lt  # noqa: E402
import lt_swarm  # noqa: E402
import store_view  # noqa: E402
from checks import check, summary  # noqa: E402
from krpc_client import Client  # noqa: E402
from liar_peer import LiarPeer  # noqa: E402

NET = "127.0.38"
OURS = (NET + ".200", 6881)
LIAR_IP, LIAR_PORT = NET + ".250", 7038


def liar_infos(swarm):
    """{20-byte DHT key: info dict} for every key of every torrent the swarm seeds."""
    infos = {}
    for t, entry in enumerate(swarm.manifest):
        with open(os.path.join(swarm.workdir, "t%03d.torrent" % t), "rb") as fh:
            info = lt.bencode(lt.bdecode(fh.read())[b"info"])
        for k in entry["dht_keys"]:
            infos[bytes.fromhex(k)] = info
    return infos


def announce_for_liar(client, swarm):
    """The liar announces every key to our node; returns how many announces were accepted."""
    done = 0
    for t, entry in enumerate(swarm.manifest):
        for i, k in enumerate(entry["dht_keys"]):
            done += client.announce(b"%d.%d" % (t, i), bytes.fromhex(k), LIAR_PORT)
            time.sleep(0.05)  # a client announcing many torrents, not a flood
    return done


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bitscrape", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the work directory (database, logs)")
    ap.add_argument("--limit", type=float, default=150, help="seconds the crawl may take")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bs-interop-liar-")
    swarm = lt_swarm.Swarm(nodes=20, torrents=40, net=NET, port=6881, seed=38, workdir=os.path.join(work, "lt"))
    liar = LiarPeer(LIAR_IP, LIAR_PORT, liar_infos(swarm)).start()
    announcer = Client(LIAR_IP, OURS, random.Random(38))
    crawl = None
    try:
        swarm.wait_ready()
        # Announce again once the swarm's DHT has knit, so each seeder's announce lands on the
        # nodes closest to its keys (as it does on the real DHT): the first announces went to
        # whoever the 3-contact tables held, and a lookup converging on the true closest nodes
        # would not find them for libtorrent's 15-minute reannounce interval.
        for _ in range(10):
            swarm.pump()
            time.sleep(0.5)
        swarm.announce_all()
        time.sleep(3)
        db = os.path.join(work, "crawl.db")
        log = open(os.path.join(work, "crawl.log"), "w")
        crawl = subprocess.Popen(
            [args.bitscrape, "crawl", "--allow-private-addresses", "--bootstrap", swarm.bootstrap,
             "--listen", "%s:%d" % OURS, "--db", db, "--web", "off", "--duration", str(int(args.limit + 30))],
            stdout=log, stderr=subprocess.STDOUT)
        want = {k for t in swarm.manifest for k in t["dht_keys"]}
        start = time.time()
        time.sleep(1)
        announced = announce_for_liar(announcer, swarm)
        settled = False
        while time.time() - start < args.limit and crawl.poll() is None:
            swarm.pump()
            done = store_view.stored_keys(args.bitscrape, db) | store_view.failed_keys(args.bitscrape, db)
            if want <= done:
                settled = True
                break
            time.sleep(2)
        took = time.time() - start
        crawl.send_signal(signal.SIGTERM)
        crawl.wait(timeout=60)
        crawl = None
        log.close()
        with open(os.path.join(work, "crawl.log")) as fh:
            out = fh.read()
        print(out[-1500:])

        rows = store_view.export_rows(args.bitscrape, db)
        stored = store_view.stored_keys(args.bitscrape, db)
        pending = store_view.pending_keys(args.bitscrape, db) & want
        print("settled in %.0f s: %d/%d keys stored, %d pending, liar served %d connections" %
              (took, len(want & stored), len(want), len(pending), liar.connections))
        check(settled, "every torrent key stored or recorded failed within %.0f s" % args.limit)
        if pending:
            for r in store_view.export_rows(args.bitscrape, db, all_rows=True):
                if r["infohash"] in pending:
                    print("pending:", r["infohash"], r.get("state"), r.get("fetch_attempts"), r.get("sources"),
                          "peers", r.get("peers"))
        check(not pending, "no torrent key left pending (%s)" % sorted(pending)[:4])
        check(want <= stored, "every torrent stored (%d/%d keys)" % (len(want & stored), len(want)))
        wrong, _ = store_view.wrongly_stored(args.bitscrape, db, swarm.manifest)
        check(not wrong, "every torrent stored once, correctly, under all its keys (%d wrong: %s)" %
              (len(wrong), wrong[:3]))
        check(len(rows) == len(swarm.manifest), "nothing else stored (%d rows)" % len(rows))
        check(announced == len(want), "our node took the liar's announces (%d/%d)" % (announced, len(want)))
        check(liar.connections >= 1, "the liar was asked (%d connections)" % liar.connections)
        check(not swarm.bans(), "no libtorrent node blocked us (%s)" % swarm.bans()[:3])
    finally:
        if crawl is not None:
            crawl.kill()
            crawl.wait()
        liar.stop()
        swarm.close()
        if args.keep:
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
