#!/usr/bin/python3
"""Browser test against a live crawl: the dashboard of `bitscrape crawl --web` watched in real
Chromium (playwright-core, tests/web/check_live.mjs) while the crawler discovers and fetches
torrents from a libtorrent testnet on 127.0.15.x. Counters must rise on screen. Screenshots go to
--screenshots. Binds only 127.0.15.0/24; stops everything it starts.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lt_swarm  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bitscrape", required=True)
    ap.add_argument("--screenshots", default=None)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bs-web-live-")
    swarm = lt_swarm.Swarm(nodes=6, torrents=12, net="127.0.15", port=6881, seed=15,
                           workdir=os.path.join(work, "lt"))
    crawl = None
    try:
        swarm.wait_ready()
        crawl = subprocess.Popen(
            [args.bitscrape, "crawl", "--allow-private-addresses", "--bootstrap", swarm.bootstrap,
             "--listen", "127.0.15.200:6881", "--db", os.path.join(work, "c.db"),
             "--web", "127.0.15.200:18080", "--duration", "120"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cmd = ["node", os.path.join(HERE, "..", "web", "check_live.mjs"), "--url", "http://127.0.15.200:18080/",
               "--expect-live", "--within", "60", "--rise", "live.infohashes_total,store.torrents"]
        if args.screenshots:
            cmd += ["--screenshots", args.screenshots]
        r = subprocess.run(cmd, cwd=os.path.join(HERE, "..", "web"), timeout=150)
        return r.returncode
    finally:
        if crawl is not None:
            crawl.terminate()
            crawl.wait(30)
        swarm.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
