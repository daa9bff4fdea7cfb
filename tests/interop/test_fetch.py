#!/usr/bin/python3
"""Interop: `bitscrape fetch` / `fetch-batch` against real peers that no one here wrote.

- libtorrent 2.x seeders (python3-libtorrent), each on its own 127.0.10.x: v1-only, v2-only and
  hybrid torrents, single- and multi-file, unicode names. Every torrent is fetched through each
  DHT key it has (a hybrid through both) and the result compared with libtorrent's ground truth.
- transmission-daemon (v1) seeding one torrent, fetched over TCP; and another with uTP on,
  fetched with `--transports utp` (libutp, an independent uTP implementation).
- A scripted liar serving corrupt metadata beside an honest peer: the result is the honest
  metadata and the liar is reported as one.
Binds only 127.0.10.0/24; stops everything it starts.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
import libtorrent as lt  # noqa: E402
import lt_swarm  # noqa: E402
from checks import summary  # noqa: E402
from liar_peer import LiarPeer  # noqa: E402


def check(cond, what):
    return checks.check(cond, what, quiet=True)  # one line per torrent field would drown the log


def run(binary, *args, timeout=60):
    r = subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def compare(got, want, label):
    check(got.get("ok") is True, "%s: fetch ok (%s)" % (label, got.get("attempts")))
    if not got.get("ok"):
        return
    check(got["name"] == want["name"], "%s: name %r == %r" % (label, got["name"], want["name"]))
    check(got["total_bytes"] == want["total_bytes"], "%s: total_bytes" % label)
    check(got["piece_length"] == want["piece_length"], "%s: piece_length" % label)
    check(got["file_count"] == want["file_count"], "%s: file_count" % label)
    check(sorted((f["path"], f["length"]) for f in got["files"]) ==
          sorted((f["path"], f["length"]) for f in want["files"]), "%s: files" % label)
    check(got["infohash_v1"] == want["infohash_v1"], "%s: infohash_v1" % label)
    check(got["infohash_v2"] == want["infohash_v2"], "%s: infohash_v2" % label)


def test_libtorrent(binary, workdir):
    swarm = lt_swarm.Swarm(nodes=3, torrents=12, net="127.0.10", port=6900, seed=7,
                           workdir=os.path.join(workdir, "lt"))
    try:
        time.sleep(1.5)
        kinds = set()
        for t in swarm.manifest:
            for key in t["dht_keys"]:
                code, out, err = run(binary, "fetch", key, "--peer", t["seeder"], "--json", "--timeout", "15")
                got = json.loads(out) if out.strip() else {}
                compare(got, t, "libtorrent %s via %s" % (t["kind"], key[:8]))
                check(code == 0, "exit code 0 for %s (%s)" % (t["kind"], err.strip()))
                kinds.add(t["kind"])
        check(len(kinds) == 6, "all six kinds covered")

        # .torrent output parses in libtorrent and has the same info hashes
        t = swarm.manifest[4]  # hybrid
        path = os.path.join(workdir, "out.torrent")
        code, out, err = run(binary, "fetch", t["dht_keys"][0], "--peer", t["seeder"], "-o", path)
        check(code == 0 and "wrote" in out, "fetch -o writes the .torrent")
        ti = lt.torrent_info(path)
        check(str(ti.info_hashes().v1) == t["infohash_v1"], ".torrent v1 hash matches")
        check(str(ti.info_hashes().v2) == t["infohash_v2"], ".torrent v2 hash matches")

        # fetch-batch: every row of the seed CSV format, in input order
        rows = ["infohash,peer_ip,peer_port"]
        for t in swarm.manifest:
            ip, port = t["seeder"].split(":")
            rows.append("%s,%s,%s" % (t["dht_keys"][0], ip, port))
        rows.append("%s,127.0.10.250,6999" % ("ab" * 20))  # nobody there
        csv_in = os.path.join(workdir, "peers.csv")
        with open(csv_in, "w") as fh:
            fh.write("\n".join(rows) + "\n")
        code, out, err = run(binary, "fetch-batch", csv_in, "--timeout", "10", timeout=120)
        lines = out.strip().split("\n")
        check(code == 0, "fetch-batch exit 0 (%s)" % err.strip())
        check(lines[0] == "infohash,name,file_count,total_bytes,piece_length,peer_ip,peer_port,metadata_ok",
              "fetch-batch header")
        check(len(lines) == len(rows), "fetch-batch one row per infohash")
        ok_rows = [l for l in lines[1:] if l.endswith(",True")]
        check(len(ok_rows) == len(swarm.manifest), "fetch-batch: every seeded torrent ok (%d)" % len(ok_rows))
        check(lines[-1].endswith(",False") and lines[-1].startswith("ab" * 20), "fetch-batch: dead peer row False")
        check(not [b for b in swarm.bans()], "libtorrent never banned us")
    finally:
        swarm.close()


def test_liar(binary, workdir):
    swarm = lt_swarm.Swarm(nodes=1, torrents=2, net="127.0.10", port=6950, seed=3,
                           workdir=os.path.join(workdir, "liar"))
    try:
        t = swarm.manifest[1]  # v1-multi
        info = lt.bencode(lt.bdecode(open(os.path.join(swarm.workdir, "t001.torrent"), "rb").read())[b"info"])
        liar = LiarPeer("127.0.10.99", 6951, info).start()
        time.sleep(0.5)
        code, out, err = run(binary, "fetch", t["dht_keys"][0], "--peer", liar.endpoint(),
                             "--peer", t["seeder"], "--json", "--timeout", "10")
        got = json.loads(out)
        compare(got, t, "liar+honest")
        attempts = {a["peer"]: a for a in got.get("attempts", [])}
        lie = attempts.get(liar.endpoint(), {})
        check(lie.get("reason") == "hash-mismatch" and lie.get("liar") is True,
              "liar reported with hash-mismatch (%s)" % lie)
        check(attempts.get(t["seeder"], {}).get("ok") is True, "honest peer delivered")

        code, out, err = run(binary, "fetch", t["dht_keys"][0], "--peer", liar.endpoint(), "--timeout", "10")
        check(code == 1, "only a liar: exit 1")
        check("hash-mismatch" in err and liar.endpoint() in err, "error names the liar and the reason: %r" % err)
        code, out, err = run(binary, "fetch", t["dht_keys"][0], "--peer", "127.0.10.98:1", "--timeout", "5")
        check(code == 1 and "connect-failed" in err, "refused peer reported: %r" % err)
        liar.stop()
    finally:
        swarm.close()


def test_transmission(binary, workdir, utp=False):
    """transmission-daemon seeding one v1 torrent; with `utp`, fetched over uTP only (libutp)."""
    ip, port, rpc_port = ("127.0.10.61", 6962, 6963) if utp else ("127.0.10.60", 6960, 6961)
    if not shutil.which("transmission-daemon"):
        check(False, "transmission-daemon installed")
        return
    root = os.path.join(workdir, "tr-utp" if utp else "tr")
    os.makedirs(os.path.join(root, "data"))
    rng = lt_swarm.random.Random(5)
    ti, entry, data = lt_swarm.make_torrent(os.path.join(root, "data"), 1, "v1-multi", rng)
    tfile = os.path.join(root, "t.torrent")
    with open(tfile, "wb") as fh:
        fh.write(data)
    settings = {
        "dht-enabled": False, "lpd-enabled": False, "pex-enabled": False, "utp-enabled": utp,
        "port-forwarding-enabled": False, "bind-address-ipv4": ip, "bind-address-ipv6": "::1",
        "peer-port": port, "rpc-bind-address": ip, "rpc-port": rpc_port, "rpc-authentication-required": False,
        "rpc-whitelist-enabled": False, "rpc-host-whitelist-enabled": False, "download-dir": os.path.join(root, "data"),
        "encryption": 1, "message-level": 1,
    }
    conf = os.path.join(root, "conf")
    os.makedirs(conf)
    with open(os.path.join(conf, "settings.json"), "w") as fh:
        json.dump(settings, fh)
    daemon = subprocess.Popen(["transmission-daemon", "-f", "-g", conf], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        rpc = "%s:%d" % (ip, rpc_port)
        for _ in range(50):
            if subprocess.run(["transmission-remote", rpc, "-l"], capture_output=True).returncode == 0:
                break
            time.sleep(0.2)
        subprocess.run(["transmission-remote", rpc, "-a", tfile, "-w", os.path.join(root, "data")],
                       capture_output=True, check=True)
        key = entry["dht_keys"][0]
        deadline = time.time() + 30
        got = {}
        while time.time() < deadline:
            code, out, err = run(binary, "fetch", key, "--peer", "%s:%d" % (ip, port), "--json", "--timeout", "5",
                                 "--transports", "utp" if utp else "tcp")
            got = json.loads(out) if out.strip() else {}
            if got.get("ok"):
                break
            time.sleep(1)
        compare(got, entry, "transmission v1" + (" over uTP" if utp else ""))
        check("Transmission" in got.get("client", ""), "client is Transmission (%r)" % got.get("client"))
    finally:
        daemon.terminate()
        daemon.wait(10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bitscrape", required=True)
    args = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="bs-interop-fetch-")
    try:
        for test in (test_libtorrent, test_liar, test_transmission):
            print("==", test.__name__, flush=True)
            test(args.bitscrape, workdir)
        print("== test_transmission (uTP only)", flush=True)
        test_transmission(args.bitscrape, workdir, utp=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
