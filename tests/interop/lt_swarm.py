#!/usr/bin/python3
"""A swarm of real libtorrent DHT nodes and seeders on loopback, for interop tests.

Each node is one libtorrent session (Debian's python3-libtorrent 2.x) bound to its own
127.x.y.z address, with the DHT's loopback-unfriendly protections relaxed. Torrents of mixed
kinds (v1, v2-only, hybrid; single- and multi-file; unicode names) are generated on disk, seeded
by one node each and announced into the swarm's DHT. The ground truth goes to a JSON manifest.

Use as a module (Swarm) or from the command line:
  lt_swarm.py --nodes 20 --torrents 40 --net 127.0.1 --port 6881 --manifest m.json --duration 600
It prints "READY <bootstrap ip:port>" once every torrent is announced, then runs until the
duration ends or it is killed. The BEP-51 interval is left at libtorrent's default (21600 s).
Nothing here touches any address outside 127.0.0.0/8.
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

import libtorrent as lt

KINDS = ["v1-single", "v1-multi", "v2-single", "v2-multi", "hybrid-single", "hybrid-multi"]
WORDS = ["Ubuntu", "Debian", "Arch", "Concert", "Lecture", "Dataset", "Album", "Podcast", "Live",
         "Archive", "Collection", "Season", "Documentary", "Remaster", "Sampler", "Photos"]
UNICODE = ["日本語のファイル", "Ünïcödé Ça Marche", "Музыка", "😀 emoji pack", "中文资料", "ελληνικά"]


def banned(alert_text):
    return "BANNING PEER" in alert_text


class Node:
    def __init__(self, ip, port, bootstrap, extra_settings=None):
        self.ip, self.port = ip, port
        settings = {
            "listen_interfaces": "%s:%d" % (ip, port),
            "outgoing_interfaces": ip,
            "enable_dht": True,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "dht_bootstrap_nodes": bootstrap,
            "dht_restrict_routing_ips": False,
            "dht_restrict_search_ips": False,
            "dht_enforce_node_id": False,
            "dht_ignore_dark_internet": False,
            "dht_prefer_verified_node_ids": False,
            "allow_multiple_connections_per_ip": True,
            "alert_mask": lt.alert_category.dht_log | lt.alert_category.error | lt.alert_category.status
            | lt.alert_category.dht,
            "user_agent": "libtorrent-swarm/" + lt.__version__,
        }
        settings.update(extra_settings or {})
        self.session = lt.session(settings)
        self.handles = []
        self.bans = []

    def pump(self):
        for a in self.session.pop_alerts():
            text = a.message()
            if banned(text):
                self.bans.append(text)

    def endpoint(self):
        return "%s:%d" % (self.ip, self.port)

    def live_nodes(self, timeout=2.0):
        """Endpoints ("ip:port") in this node's DHT routing table."""
        state = lt.bdecode(lt.bencode(self.session.save_state()))
        ids = state[b"dht state"][b"node-id"]  # entries: 20-byte id + the interface address
        if not ids:
            return []
        self.session.dht_live_nodes(lt.sha1_hash(ids[0][:20]))
        deadline = time.time() + timeout
        while time.time() < deadline:
            for a in self.session.pop_alerts():
                if banned(a.message()):
                    self.bans.append(a.message())
                if isinstance(a, lt.dht_live_nodes_alert):
                    return ["%s:%d" % n["endpoint"] for n in a.nodes]
            time.sleep(0.05)
        return []


def make_torrent(root, index, kind, rng):
    """Writes a torrent's files under root and returns (torrent_info, manifest entry)."""
    unicode_name = index % 5 == 4
    base = rng.choice(UNICODE) if unicode_name else "%s.%s.%d" % (rng.choice(WORDS), rng.choice(WORDS), 2000 + index)
    name = "%s [%03d %s]" % (base, index, kind)
    multi = kind.endswith("multi")
    fs = lt.file_storage()
    files = []
    count = rng.randint(2, 6) if multi else 1
    for f in range(count):
        size = rng.randint(1, 90_000)
        rel = os.path.join(name, "part %d" % f, "file-%d.bin" % f) if multi else name
        full = os.path.join(root, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as fh:
            fh.write(rng.randbytes(size))
        fs.add_file(rel, size)
        files.append({"path": "part %d/file-%d.bin" % (f, f) if multi else name, "length": size})
    flags = {"v1": lt.create_torrent.v1_only, "v2": lt.create_torrent.v2_only, "hybrid": 0}[kind.split("-")[0]]
    ct = lt.create_torrent(fs, 16384, flags=flags)
    lt.set_piece_hashes(ct, root)
    data = lt.bencode(ct.generate())
    ti = lt.torrent_info(lt.bdecode(data))
    ih = ti.info_hashes()
    v1 = str(ih.v1) if ih.has_v1() else None
    v2 = str(ih.v2) if ih.has_v2() else None
    keys = [k for k in (v1, v2[:40] if v2 else None) if k]
    entry = {
        "kind": kind, "name": name, "infohash_v1": v1, "infohash_v2": v2, "dht_keys": keys,
        "total_bytes": sum(f["length"] for f in files), "piece_length": 16384,
        "file_count": len(files), "files": files,
    }
    return ti, entry, data


class Swarm:
    def __init__(self, nodes=10, torrents=20, net="127.0.1", port=6881, seed=1, workdir=None, settings=None):
        """`settings`: extra libtorrent settings for every node, e.g. uTP only:
        {"enable_incoming_tcp": False, "enable_outgoing_tcp": False}."""
        self.rng = random.Random(seed)
        self.workdir = workdir or tempfile.mkdtemp(prefix="lt-swarm-")
        self.own_workdir = workdir is None
        ips = ["%s.%d" % (net, i + 1) for i in range(nodes)]
        self.bootstrap = "%s:%d" % (ips[0], port)
        self.nodes = []
        for i, ip in enumerate(ips):
            peers = [self.bootstrap] + (["%s:%d" % (ips[i - 1], port)] if i > 0 else [])
            self.nodes.append(Node(ip, port, ",".join(peers), settings))
        for i, n in enumerate(self.nodes):  # a ring of known contacts so the DHT knits fast
            for j in (i - 1, i + 1, 0):
                m = self.nodes[j % nodes]
                if m is not n:
                    n.session.add_dht_node((m.ip, m.port))
        self.manifest = []
        for t in range(torrents):
            kind = KINDS[t % len(KINDS)]
            root = os.path.join(self.workdir, "t%03d" % t)
            ti, entry, data = make_torrent(root, t, kind, self.rng)
            node = self.nodes[t % nodes]
            entry["seeder"] = node.endpoint()
            with open(os.path.join(self.workdir, "t%03d.torrent" % t), "wb") as fh:
                fh.write(data)
            params = lt.add_torrent_params()
            params.ti = ti
            params.save_path = root
            params.flags |= lt.torrent_flags.seed_mode
            params.flags &= ~lt.torrent_flags.auto_managed
            params.flags &= ~lt.torrent_flags.paused
            node.handles.append(node.session.add_torrent(params))
            self.manifest.append(entry)

    def pump(self):
        for n in self.nodes:
            n.pump()

    def bans(self):
        return [b for n in self.nodes for b in n.bans]

    def dht_nodes(self):
        """Routing-table sizes per node."""
        out = []
        for n in self.nodes:
            st = n.session.status()
            out.append(st.dht_nodes)
        return out

    def announce_all(self):
        for n in self.nodes:
            for h in n.handles:
                h.force_dht_announce()

    def wait_ready(self, timeout=60):
        """Until every node has a few DHT contacts; then announce every torrent."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.pump()
            if min(self.dht_nodes()) >= min(3, len(self.nodes) - 1):
                break
            time.sleep(0.2)
        self.announce_all()
        time.sleep(2)
        self.announce_all()

    def write_manifest(self, path):
        with open(path, "w", encoding="utf-8") as fh:
            json.dump({"bootstrap": self.bootstrap, "nodes": [n.endpoint() for n in self.nodes],
                       "torrents": self.manifest}, fh, ensure_ascii=False, indent=1)

    def close(self):
        for n in self.nodes:
            del n.session
        if self.own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=10)
    ap.add_argument("--torrents", type=int, default=20)
    ap.add_argument("--net", default="127.0.1")
    ap.add_argument("--port", type=int, default=6881)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--duration", type=float, default=600, help="seconds before exiting by itself")
    ap.add_argument("--bans-file", help="written at exit: every 'BANNING PEER' libtorrent logged")
    args = ap.parse_args()

    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    swarm = Swarm(args.nodes, args.torrents, args.net, args.port, args.seed)
    try:
        swarm.wait_ready()
        swarm.write_manifest(args.manifest)
        print("READY %s" % swarm.bootstrap, flush=True)
        end = time.time() + args.duration
        last_announce = time.time()
        while not stop["now"] and time.time() < end:
            swarm.pump()
            if time.time() - last_announce > 30:
                swarm.announce_all()
                last_announce = time.time()
            time.sleep(0.2)
        swarm.pump()
        if args.bans_file:
            with open(args.bans_file, "w") as fh:
                fh.write("\n".join(swarm.bans()))
        print("DONE nodes=%s bans=%d" % (swarm.dht_nodes(), len(swarm.bans())), flush=True)
    finally:
        swarm.close()


if __name__ == "__main__":
    main()
