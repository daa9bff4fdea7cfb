#!/usr/bin/python3
"""Benchmark: `bitscrape crawl` against `bitscrape testnet` at scale.

For each NODES:TORRENTS configuration (default 1000:10000 and 5000:50000) it starts a testnet on
its own 127.0.N range, waits for READY, crawls it with a fresh database and reports:

  - testnet: generate / bootstrap / announce time, torrents visible in a first BEP-51 sample,
    CPU seconds and peak RSS (VmHWM) at READY and at the end;
  - crawler: time to 50 / 90 / 100 % of the torrents stored with verified metadata (polled from
    the database every --poll seconds), CPU seconds, peak RSS, packets it sent into the testnet
    (counted by the testnet: datagrams from addresses it does not run) and packets per torrent;
  - verification: at the end `bitscrape export --format jsonl` is compared with the manifest
    (name, sizes, piece length, files, hashes) — figures are only reported for correct data.

BEP-51 sizing: with libtorrent's interval (21600 s) a node shows one fixed sample of 20 keys for
six hours. At 5,000 nodes / 50,000 torrents a node holds ~100 keys, so only ~85 % of torrents are
in some node's first sample and the rest cannot be sampled within a benchmark. The default here is
therefore --sample-interval 60 (libtorrent's dht_sample_infohashes_interval set to 60), as in the
end-to-end test; pass --sample-interval 21600 to measure the libtorrent default (100 % is then not
reachable and the report says how far it got).

Example (the figures in BENCHMARKS.md come from this, Release build):
  bench/testnet_bench.py --bitscrape build/release/bitscrape --configs 1000:10000,5000:50000 \\
      --limit 2400 --json testnet_bench.json

Machines are shared and noisy: the figures are for context, with the command that made them.
Binds only 127.0.0.0/8; stops everything it starts; each run is bounded by --limit.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "interop"))
import store_view  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_figures(pid):
    """(cpu seconds, peak RSS MiB) of a running process, from /proc."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
        hwm = 0
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) / 1024.0
        return cpu, hwm
    except (OSError, IndexError, ValueError):
        return None, None


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def stored_torrents(binary, db):
    if "://" not in db and not os.path.exists(db):  # a SQLite file not created yet
        return 0
    st = store_view.stats(binary, db)
    return None if st is None else st["torrents"]

def verify(binary, db, manifest):
    r = subprocess.run([binary, "export", "--format", "jsonl", "--db", db], capture_output=True, text=True,
                       timeout=600)
    keymap = {}
    for i, t in enumerate(manifest["torrents"]):
        for k in t["dht_keys"]:
            keymap[k] = i
    good = bad = strangers = 0
    for line in r.stdout.splitlines():
        g = json.loads(line)
        idx = None
        for k in ("infohash_v1", "infohash_v2", "infohash"):
            v = g.get(k)
            if v and v[:40] in keymap:
                idx = keymap[v[:40]]
                break
        if idx is None:
            strangers += 1
            continue
        t = manifest["torrents"][idx]
        same = all(g.get(f) == t.get(f) for f in ("name", "total_bytes", "piece_length", "file_count",
                                                    "infohash_v1", "infohash_v2"))
        same = same and sorted((f["path"], f["length"]) for f in g.get("files") or []) == \
            sorted((f["path"], f["length"]) for f in t["files"])
        good += 1 if same else 0
        bad += 0 if same else 1
    return good, bad, strangers


def stop(proc, sig, wait):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_testnet(args, nodes, torrents, net, port, work, res):
    """Starts `bitscrape testnet` and waits for READY: (process, manifest), figures into `res`.
    (None, None) with res["error"] when it never got ready. Its stderr goes to work/testnet.err."""
    manifest_path = os.path.join(work, "m.json")
    err_path = os.path.join(work, "testnet.err")
    t_start = time.time()
    testnet = subprocess.Popen(
        [args.bitscrape, "testnet", "--nodes", str(nodes), "--torrents", str(torrents), "--net", net,
         "--port", str(port), "--seed", str(args.seed), "--sample-interval", str(args.sample_interval),
         "--manifest", manifest_path, "--status-interval", "0", "--duration", str(args.limit + 900)],
        stdout=subprocess.PIPE, stderr=open(err_path, "w"), text=True, bufsize=1)
    ready = False
    while time.time() - t_start < 900:
        line = testnet.stdout.readline()
        if not line and testnet.poll() is not None:
            break
        if line.strip() == "READY":
            ready = True
            break
    if not ready:
        res["error"] = "testnet never printed READY: " + open(err_path).read()[-2000:]
        stop(testnet, signal.SIGKILL, 10)
        return None, None
    res["testnet_ready_s"] = round(time.time() - t_start, 1)
    cpu, hwm = proc_figures(testnet.pid)
    res["testnet_cpu_at_ready_s"], res["testnet_rss_at_ready_mib"] = cpu, round(hwm, 1)
    manifest = json.load(open(manifest_path, encoding="utf-8"))
    st = manifest["stats"]
    for k in ("generate_seconds", "bootstrap_seconds", "announce_seconds"):
        res["testnet_" + k] = round(st[k], 2)
    res["keys"] = int(st["keys"])
    res["sample_visible_first_interval"] = int(st["sample_visible_first_interval"])
    print("[%d:%d] testnet ready in %.1f s (generate %.1f s, bootstrap %.1f s, announce %.1f s), %.0f MiB, "
          "%d/%d torrents in a first sample" % (nodes, torrents, res["testnet_ready_s"], st["generate_seconds"],
                                                st["bootstrap_seconds"], st["announce_seconds"], hwm,
                                                res["sample_visible_first_interval"], torrents), flush=True)
    return testnet, manifest


def external_packets(err_path):
    """(packets from outside the testnet, packets it sent out) from its last status line."""
    m = re.findall(r"external in (\d+) out (\d+)", open(err_path, errors="replace").read())
    return (int(m[-1][0]), int(m[-1][1])) if m else (None, None)


def run_config(args, nodes, torrents, net, port):
    work = tempfile.mkdtemp(prefix="bs-testnet-bench-")
    db = os.path.join(work, "crawl.db")
    res = {"nodes": nodes, "torrents": torrents, "net": net, "sample_interval": args.sample_interval}
    testnet = crawl = None
    err_path = os.path.join(work, "testnet.err")
    try:
        testnet, manifest = start_testnet(args, nodes, torrents, net, port, work, res)
        if testnet is None:
            return res

        cmd = [args.bitscrape, "crawl", "--allow-private-addresses", "--bootstrap", "%s.1:%d" % (net, port),
               "--db", db, "--listen", "127.0.0.1:%d" % free_udp_port(), "--web", "off",
               "--duration", str(int(args.limit + 120))] + args.crawl_arg
        res["crawl_command"] = " ".join(cmd)
        crawl = subprocess.Popen(cmd, stdout=open(os.path.join(work, "crawl.log"), "w"), stderr=subprocess.STDOUT)
        t0 = time.time()
        marks = {}
        stored = 0
        while time.time() - t0 < args.limit and crawl.poll() is None:
            time.sleep(args.poll)
            n = stored_torrents(args.bitscrape, db)
            if n is None:
                continue
            stored = n
            for m in (0.5, 0.9, 1.0):
                if stored >= m * torrents and m not in marks:
                    marks[m] = round(time.time() - t0, 1)
            print("[%d:%d] %7.1f s: %d stored" % (nodes, torrents, time.time() - t0, stored), flush=True)
            if stored >= torrents:
                break
        res["crawl_seconds"] = round(time.time() - t0, 1)
        for m, name in ((0.5, "t50_s"), (0.9, "t90_s"), (1.0, "t100_s")):
            res[name] = marks.get(m)
        res["stored"] = stored
        cpu, hwm = proc_figures(crawl.pid)
        res["crawler_cpu_s"], res["crawler_rss_peak_mib"] = cpu, round(hwm or 0, 1)
        cpu, hwm = proc_figures(testnet.pid)
        res["testnet_cpu_s"], res["testnet_rss_peak_mib"] = cpu, round(hwm or 0, 1)
        stop(crawl, signal.SIGINT, 120)
        stop(testnet, signal.SIGTERM, 60)
        # The testnet's last status line counts what came from outside it (the crawler).
        into, out = external_packets(err_path)
        if into is not None:
            res["crawler_packets_to_testnet"] = into
            res["testnet_packets_to_crawler"] = out
            if stored:
                res["crawler_packets_per_torrent"] = round(into / stored, 1)
        good, bad, strangers = verify(args.bitscrape, db, manifest)
        res["verified"], res["mismatched"], res["strangers"] = good, bad, strangers
        return res
    finally:
        stop(crawl, signal.SIGKILL, 10)
        stop(testnet, signal.SIGKILL, 10)
        if args.keep:
            res["workdir"] = work
        else:
            shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bitscrape", required=True)
    ap.add_argument("--configs", default="1000:10000,5000:50000", help="NODES:TORRENTS,...")
    ap.add_argument("--sample-interval", type=int, default=60)
    ap.add_argument("--limit", type=float, default=2400, help="seconds of crawling per configuration")
    ap.add_argument("--poll", type=float, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--port", type=int, default=36881)
    ap.add_argument("--crawl-arg", action="append", default=[], help="extra argument for `bitscrape crawl`")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.bitscrape = os.path.abspath(args.bitscrape)

    results = []
    for i, cfg in enumerate(args.configs.split(",")):
        nodes, torrents = (int(x) for x in cfg.split(":"))
        net = "127.0.%d" % (60 + 30 * i)  # 127.0.60-79, 127.0.90-109, ...: 5,000 nodes take 20 /24s
        res = run_config(args, nodes, torrents, net, args.port)
        results.append(res)
        print(json.dumps(res, indent=1), flush=True)

    print("\n%-12s %8s %8s %8s %8s %10s %10s %9s %9s %9s %9s" %
          ("nodes:torr", "ready s", "t50 s", "t90 s", "t100 s", "pkts/torr", "verified", "crawl cpu",
           "crawl MiB", "tn cpu", "tn MiB"))
    for r in results:
        print("%-12s %8s %8s %8s %8s %10s %10s %9s %9s %9s %9s" % (
            "%d:%d" % (r["nodes"], r["torrents"]), r.get("testnet_ready_s"), r.get("t50_s"), r.get("t90_s"),
            r.get("t100_s"), r.get("crawler_packets_per_torrent"), "%s/%s" % (r.get("verified"), r["torrents"]),
            r.get("crawler_cpu_s"), r.get("crawler_rss_peak_mib"), r.get("testnet_cpu_s"),
            r.get("testnet_rss_peak_mib")))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0 if all("error" not in r and not r.get("mismatched") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
