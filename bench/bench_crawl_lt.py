#!/usr/bin/python3
"""Crawler benchmark on a testnet of real libtorrent nodes: time from start to 100% verified
metadata, the crawler's CPU time and peak RSS.

The testnet is the one of the end-to-end test (tests/interop/test_crawl.py): 20 libtorrent 2.x
nodes (python3-libtorrent) on 127.0.16.x seeding 40 torrents of every kind, BEP-51 interval at
libtorrent's default. The crawler is `bitscrape crawl` (use a Release build), started fresh;
the time to 50/90/100% of torrents stored is read from its database while it runs.

  bench/bench_crawl_lt.py --bitscrape build/release/bitscrape [--runs 3]
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "interop"))
import lt_swarm  # noqa: E402
import store_view  # noqa: E402


def stored(binary, db, keys):
    have = store_view.stored_keys(binary, db)
    return sum(1 for ks in keys if set(ks) & have)

def one_run(binary, swarm, work, i):
    db = os.path.join(work, "run%d.db" % i)
    keys = [t["dht_keys"] for t in swarm.manifest]
    start = time.time()
    p = subprocess.Popen([binary, "crawl", "--allow-private-addresses", "--bootstrap", swarm.bootstrap,
                          "--listen", "127.0.16.200:%d" % (7000 + i), "--db", db, "--web", "off"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marks = {}
    while time.time() - start < 300:
        swarm.pump()
        n = stored(binary, db, keys)
        for pct in (50, 90, 100):
            if pct not in marks and n * 100 >= pct * len(keys):
                marks[pct] = time.time() - start
        if 100 in marks:
            break
        time.sleep(0.2)
    p.send_signal(signal.SIGTERM)
    _, status, ru = os.wait4(p.pid, 0)
    return marks, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bitscrape", required=True)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bs-bench-crawl-")
    swarm = lt_swarm.Swarm(nodes=20, torrents=40, net="127.0.16", port=6881, seed=13, workdir=os.path.join(work, "lt"))
    try:
        swarm.wait_ready()
        rows = []
        for i in range(args.runs):
            marks, cpu, rss = one_run(args.bitscrape, swarm, work, i)
            rows.append((marks, cpu, rss))
            print("run %d: 50%% %.1f s, 90%% %.1f s, 100%% %.1f s; crawler CPU %.2f s, peak RSS %.1f MiB" %
                  (i + 1, marks.get(50, -1), marks.get(90, -1), marks.get(100, -1), cpu, rss), flush=True)
        med = lambda xs: statistics.median(xs)  # noqa: E731
        print("median: 50%% %.1f s, 90%% %.1f s, 100%% %.1f s; CPU %.2f s; peak RSS %.1f MiB" % (
            med([r[0].get(50, 1e9) for r in rows]), med([r[0].get(90, 1e9) for r in rows]),
            med([r[0].get(100, 1e9) for r in rows]), med([r[1] for r in rows]), med([r[2] for r in rows])))
        print("libtorrent bans: %d" % len(swarm.bans()))
    finally:
        swarm.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
