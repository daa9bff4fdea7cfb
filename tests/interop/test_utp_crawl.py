#!/usr/bin/python3
"""Interop: a crawl of libtorrent seeders that speak uTP only, beside a liar.

20 libtorrent 2.x nodes (python3-libtorrent) on 127.0.39.x with `enable_incoming_tcp` and
`enable_outgoing_tcp` off seed 40 torrents of every kind (v1, v2-only, hybrid; single/multi-file):
their metadata can only be had over uTP (BEP-29) on their DHT port. A scripted liar
(liar_peer.py, TCP) serves each torrent's info dict with one byte flipped and announces every key
of every torrent to our node.

A fresh `bitscrape crawl` (default fetch.transports: uTP first, then TCP) must, within bounded
time:
  - store every torrent, correctly (name, size, file count, both keys of a hybrid), once — so
    every one came over uTP from libtorrent, verified against its infohash;
  - never store the liar's corrupt metadata (nothing else stored; each row matches the manifest);
  - actually meet the liar, connect over uTP (the crawl's fetch counters), and never be blocked.
Binds only 127.0.39.0/24; stops everything it starts.
"""
import argparse
import os
import random
import shutil
import signal
import socket
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

NET = "127.0.39"
OURS = (NET + ".200", 6881)
LIAR_IP, LIAR_PORT = NET + ".250", 7039


def stats_counter(text, name):
    """A counter's value from `--stats-json` output (searched as JSON, at any depth)."""
    import json

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                if k == name and isinstance(x, (int, float)):
                    return x
                r = walk(x)
                if r is not None:
                    return r
        elif isinstance(v, list):
            for x in v:
                r = walk(x)
                if r is not None:
                    return r
        return None
    return walk(json.loads(text))


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
    work = tempfile.mkdtemp(prefix="bs-interop-utp-")
    swarm = lt_swarm.Swarm(nodes=20, torrents=40, net=NET, port=6881, seed=39, workdir=os.path.join(work, "lt"),
                           settings={"enable_incoming_tcp": False, "enable_outgoing_tcp": False})
    liar = LiarPeer(LIAR_IP, LIAR_PORT, liar_infos(swarm)).start()
    announcer = Client(LIAR_IP, OURS, random.Random(39))
    crawl = None
    try:
        swarm.wait_ready()
        # The premise: libtorrent took the settings and answers no peer over TCP (it still accepts
        # and closes at once), else this test proves nothing. Each seeder gets a BEP-3 handshake
        # for a torrent it seeds and must not answer it.
        tcp_open = 0
        for t, entry in enumerate(swarm.manifest[:len(swarm.nodes)]):
            ip, port = entry["seeder"].split(":")
            key = bytes.fromhex(entry["dht_keys"][0])
            probe = socket.socket()
            probe.settimeout(3)
            try:
                probe.connect((ip, int(port)))
                probe.sendall(b"\x13BitTorrent protocol" + bytes(8) + key + b"-PR0001-probeprobe12")
                if len(probe.recv(68)) > 0:
                    tcp_open += 1
            except OSError:
                pass
            finally:
                probe.close()
        check(tcp_open == 0, "no libtorrent seeder answers a handshake over TCP (%d do)" % tcp_open)
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
             "--listen", "%s:%d" % OURS, "--db", db, "--web", "off", "--duration", str(int(args.limit + 30)),
             "--stats-json", os.path.join(work, "stats.json")],
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
        # The seeders refuse TCP: what was stored came over uTP; the counters say so too.
        with open(os.path.join(work, "stats.json")) as fh:
            stats_text = fh.read()
        utp_connected = stats_counter(stats_text, "fetch_utp_connected")
        print("crawl counters: fetch_utp_started=%s fetch_utp_connected=%s fetch_tcp_started=%s fetch_fallbacks=%s"
              % (stats_counter(stats_text, "fetch_utp_started"), utp_connected,
                 stats_counter(stats_text, "fetch_tcp_started"), stats_counter(stats_text, "fetch_fallbacks")))
        check(utp_connected is not None and utp_connected >= len(swarm.manifest),
              "at least one uTP connection per torrent (%s)" % utp_connected)
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
