#!/usr/bin/python3
"""Interop: a stranger's client talking to a running `bitscrape crawl`, as the DHT would.

Messages are encoded and decoded with libtorrent's bencode (python3-libtorrent), not ours.
From one address, back to back within a second: ping, find_node, get_peers, announce_peer with
the token; then get_peers from a second address must return the announced peer. Then the
errors a node must give: a forged token (203), an unknown method (204), a malformed info_hash
(203); sample_infohashes with its BEP-51 fields. Then a third address floods a few thousand
garbage datagrams: it is ignored (counted), and the first client's next ping is still answered.
Every query must get its answer: replies are never paced or dropped for our own budget.
Binds only 127.0.37.0/24; stops what it starts.
"""
import argparse
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import libtorrent as lt  # noqa: E402
from checks import check, summary  # noqa: E402
from krpc_client import Client, node_id  # noqa: E402

NET = "127.0.37"
OURS = (NET + ".1", 6881)


def ok(msg):
    return msg is not None and msg.get(b"y") == b"r" and isinstance(msg.get(b"r"), dict)


def error_code(msg):
    if msg is None or msg.get(b"y") != b"e":
        return None
    e = msg.get(b"e")
    return e[0] if isinstance(e, list) and e else None


def compact(ip, port):
    return socket.inet_aton(ip) + struct.pack(">H", port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bitscrape", required=True)
    args = ap.parse_args()
    rng = random.Random(37)
    work = tempfile.mkdtemp(prefix="bs-interop-stranger-")
    conf = os.path.join(work, "crawl.toml")
    with open(conf, "w") as fh:
        fh.write("[dht]\nbootstrap = []\n")
    stats = os.path.join(work, "stats.json")
    crawl = subprocess.Popen(
        [args.bitscrape, "crawl", "--config", conf, "--db", os.path.join(work, "c.db"), "--listen", "%s:%d" % OURS,
         "--allow-private-addresses", "--web", "off", "--duration", "60", "--stats-json", stats],
        stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        deadline = time.time() + 20
        while "listening on" not in line and time.time() < deadline:
            line = crawl.stderr.readline()
            if not line and crawl.poll() is not None:
                break
        check("listening on" in line, "the crawler listens (%s)" % line.strip())

        a = Client(NET + ".2", OURS, rng)
        b = Client(NET + ".3", OURS, rng)
        ih = node_id(rng)

        # One client's burst, back to back: every answer must come.
        t0 = time.time()
        a.send(b"p1", b"ping", {})
        a.send(b"f1", b"find_node", {b"target": node_id(rng)})
        a.send(b"g1", b"get_peers", {b"info_hash": ih})
        ping, find, peers = a.answer(b"p1"), a.answer(b"f1"), a.answer(b"g1")
        check(ok(ping) and len(ping[b"r"].get(b"id", b"")) == 20, "ping answered with a 20-byte id")
        check(ok(find) and b"nodes" in find[b"r"], "find_node answered with nodes")
        check(ok(peers) and isinstance(peers[b"r"].get(b"token"), bytes), "get_peers answered with a token")
        token = peers[b"r"][b"token"] if ok(peers) else b""
        ann = a.ask(b"a1", b"announce_peer", {b"info_hash": ih, b"port": 6881, b"token": token})
        check(ok(ann), "announce_peer with the token answered (%r)" % (ann,))
        check(time.time() - t0 < 1.0, "the four answers came within a second (%.2f s)" % (time.time() - t0))

        got = b.ask(b"g2", b"get_peers", {b"info_hash": ih})
        values = got[b"r"].get(b"values", []) if ok(got) else []
        check(compact(a.addr[0], 6881) in values,
              "get_peers from a second address returns the announced peer (%d values)" % len(values))

        forged = a.ask(b"a2", b"announce_peer", {b"info_hash": ih, b"port": 6881, b"token": b"forged"})
        check(error_code(forged) == 203, "a forged token is error 203 (%r)" % (forged,))
        si = a.ask(b"s1", b"sample_infohashes", {b"target": node_id(rng)})
        r = si[b"r"] if ok(si) else {}
        check(isinstance(r.get(b"interval"), int) and isinstance(r.get(b"num"), int) and
              isinstance(r.get(b"samples"), bytes) and len(r.get(b"samples", b"x")) % 20 == 0 and
              b"nodes" in r, "sample_infohashes has interval, num, samples and nodes (%r)" %
              sorted(k.decode() for k in r))
        check(ih in [r.get(b"samples", b"")[i:i + 20] for i in range(0, len(r.get(b"samples", b"")), 20)],
              "the announced infohash is among the samples")
        unknown = a.ask(b"u1", b"no_such_method", {})
        check(error_code(unknown) == 204, "an unknown method is error 204 (%r)" % (unknown,))
        bad = a.ask(b"m1", b"get_peers", {b"info_hash": b"short"})
        check(error_code(bad) == 203, "a malformed info_hash is error 203 (%r)" % (bad,))

        # A flood of garbage from a third address: ignored, and nobody else suffers.
        flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        flood.bind((NET + ".4", 0))
        for i in range(3000):
            flood.sendto(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200))), OURS)
        flood.close()
        time.sleep(0.2)
        after = a.ask(b"p2", b"ping", {})
        check(ok(after), "after 3000 garbage datagrams from another address, a ping is answered")
        c = Client(NET + ".4", OURS, rng)  # the flooder's address, now asking properly
        check(c.ask(b"p3", b"ping", {}) is None, "the flooding address is ignored for a while")
    finally:
        crawl.terminate()
        try:
            crawl.wait(timeout=30)
        except subprocess.TimeoutExpired:
            crawl.kill()
    try:
        with open(stats) as fh:
            counters = json.load(fh)
        check(counters.get("dht_inbound_blocks", 0) >= 1 and counters.get("dht_drop_inbound_blocked", 0) > 2500,
              "the flood is counted (inbound_blocks %s, drop_inbound_blocked %s)" %
              (counters.get("dht_inbound_blocks"), counters.get("dht_drop_inbound_blocked")))
        check(counters.get("dht_drop_out_paced", 1) == 0 and counters.get("dht_drop_out_budget", 1) == 0,
              "no answer was dropped for pacing or budget")
    except (OSError, ValueError) as e:
        check(False, "--stats-json readable (%s)" % e)
    shutil.rmtree(work, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
