#!/usr/bin/python3
"""Browser test against a live crawl: the dashboard of `bitscrape crawl --web` watched in real
Chromium (playwright-core, tests/web/check_live.mjs) while the crawler discovers and fetches
torrents from a libtorrent testnet on 127.0.15.x. Counters must rise on screen. Screenshots go to
--screenshots. Then /api/nodes must list the libtorrent nodes' client version (their KRPC `v` is
"LT" + major + minor, shown as "LT <major>.<minor>"). Binds only 127.0.15.0/24; stops everything
it starts.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lt_swarm  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def check_client_versions(base, within=30):
    """The live census lists the swarm's libtorrent nodes under an "LT x.y" label."""
    deadline = time.monotonic() + within
    versions = None
    while time.monotonic() < deadline:
        with urllib.request.urlopen(base + "api/nodes", timeout=10) as r:
            live = json.load(r)["live"]
        versions = live["client_versions"] if live else None
        if versions and any(v["version"].startswith("LT ") and v["nodes"] > 0 for v in versions):
            print(f"ok - client versions: {versions}")
            return 0
        time.sleep(1)
    print(f"not ok - no libtorrent entry in live.client_versions: {versions}")
    return 1


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
        if r.returncode != 0:
            return r.returncode
        return check_client_versions("http://127.0.15.200:18080/")
    finally:
        if crawl is not None:
            crawl.terminate()
            crawl.wait(30)
        swarm.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
