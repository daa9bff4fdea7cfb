#!/usr/bin/python3
"""Benchmark: 1, 2, 3 ... `bitscrape crawl` instances sharing one PostgreSQL database.

For each instance count it starts a fresh `bitscrape testnet` (same seed: the same network
every time), a fresh database in a private PostgreSQL cluster (tests/support/pg_cluster.sh),
then N crawlers at once, each on its own port, and reports:

  - time to 50 / 90 / 100 % of the torrents stored with verified metadata (polled every --poll s);
  - packets the crawlers sent into the testnet (all of them together), per torrent stored;
  - each instance's closing line ("Y torrents stored"), whose sum must equal the distinct
    torrents stored, and the CPU seconds of each crawler;
  - verification of the export against the manifest (mismatches fail the run).

The speed-up of N instances over one is the ratio of their t100 in this one script run. On a
2-core machine the testnet itself takes a core: note where CPU bounds it (the report prints
CPU seconds of the testnet and of the crawlers against wall time).

Example (BENCHMARKS.md, "Many crawlers, one PostgreSQL"):
  bench/cluster_bench.py --bitscrape build/release/bitscrape --nodes 5000 --torrents 50000 \\
      --instances 1,2,3 --json cluster_bench.json

Binds only 127.0.0.0/8 and a unix socket; stops everything it starts; bounded by --limit.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import testnet_bench as tb  # noqa: E402

PG_CLUSTER = os.path.join(HERE, "..", "tests", "support", "pg_cluster.sh")
CLOSING = re.compile(r"stopped after \d+ s: (\d+) new infohashes, (\d+) torrents stored")


def pg_start(work):
    state = os.path.join(work, "pg.state")
    subprocess.run([PG_CLUSTER, "start", state], check=True, timeout=180)
    with open(state) as f:
        _, uri = f.read().split()
    return state, uri


def pg_database(uri, name):
    """A fresh database `name` in the cluster of `uri`; its URI."""
    subprocess.run(["psql", uri, "-v", "ON_ERROR_STOP=1", "-qc", "CREATE DATABASE %s" % name], check=True,
                   timeout=60, capture_output=True)
    base, _, query = uri.partition("?")
    base = base.rsplit("/", 1)[0]
    return base + "/" + name + ("?" + query if query else "")


def run_instances(args, n, pg_uri, net, port):
    work = tempfile.mkdtemp(prefix="bs-cluster-bench-")
    res = {"instances": n, "nodes": args.nodes, "torrents": args.torrents}
    testnet = None
    crawls = []
    try:
        testnet, manifest = tb.start_testnet(args, args.nodes, args.torrents, net, port, work, res)
        if testnet is None:
            return res
        db = pg_database(pg_uri, "scale%d_%d" % (n, os.getpid()))
        logs = []
        for i in range(n):
            cmd = [args.bitscrape, "crawl", "--allow-private-addresses", "--bootstrap", "%s.1:%d" % (net, port),
                   "--db", db, "--listen", "127.0.0.1:%d" % tb.free_udp_port(), "--web", "off",
                   "--duration", str(int(args.limit + 120))] + args.crawl_arg
            cmd += ["--stats-json", os.path.join(work, "stats%d.json" % i)]
            log = os.path.join(work, "crawl%d.log" % i)
            logs.append(log)
            crawls.append(subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT))
        t0 = time.time()
        marks = {}
        stored = 0
        while time.time() - t0 < args.limit and all(c.poll() is None for c in crawls):
            time.sleep(args.poll)
            got = tb.stored_torrents(args.bitscrape, db)
            if got is None:
                continue
            stored = got
            for m in (0.5, 0.9, 1.0):
                if stored >= m * args.torrents and m not in marks:
                    marks[m] = round(time.time() - t0, 1)
            print("[%d instances] %7.1f s: %d stored" % (n, time.time() - t0, stored), flush=True)
            if stored >= args.torrents:
                break
        res["crawl_seconds"] = round(time.time() - t0, 1)
        for m, name in ((0.5, "t50_s"), (0.9, "t90_s"), (1.0, "t100_s")):
            res[name] = marks.get(m)
        res["stored"] = stored
        res["crawler_cpu_s"] = [tb.proc_figures(c.pid)[0] for c in crawls]
        res["testnet_cpu_s"] = tb.proc_figures(testnet.pid)[0]
        for c in crawls:
            tb.stop(c, signal.SIGINT, 120)
        tb.stop(testnet, signal.SIGTERM, 60)
        into, _ = tb.external_packets(os.path.join(work, "testnet.err"))
        if into is not None and stored:
            res["packets_to_testnet"] = into
            res["packets_per_torrent"] = round(into / stored, 1)
        per = []
        for log in logs:
            m = CLOSING.findall(open(log, errors="replace").read())
            per.append(int(m[-1][1]) if m else None)
        res["stored_per_instance"] = per
        # Where each instance's packets went, from its counters at exit.
        wanted = ("dht_packets_out", "dht_lookups_started", "dht_sample_replies", "dht_sampler_outside_keyspace",
                  "pipeline_claims_refused", "pipeline_lookups_started", "pipeline_lookups_no_peers",
                  "fetch_connections_started")
        res["counters"] = []
        for i in range(n):
            try:
                st = json.load(open(os.path.join(work, "stats%d.json" % i)))
            except (OSError, ValueError):
                st = {}
            res["counters"].append({k: st.get(k) for k in wanted})
        res["sum_matches"] = None not in per and sum(per) == stored
        good, bad, strangers = tb.verify(args.bitscrape, db, manifest)
        res["verified"], res["mismatched"], res["strangers"] = good, bad, strangers
        return res
    finally:
        for c in crawls:
            tb.stop(c, signal.SIGKILL, 10)
        tb.stop(testnet, signal.SIGKILL, 10)
        if args.keep:
            res["workdir"] = work
        else:
            shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bitscrape", required=True)
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--torrents", type=int, default=50000)
    ap.add_argument("--instances", default="1,2,3", help="instance counts to run, in order")
    ap.add_argument("--sample-interval", type=int, default=60)
    ap.add_argument("--limit", type=float, default=1800, help="seconds of crawling per instance count")
    ap.add_argument("--poll", type=float, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--port", type=int, default=46881)
    ap.add_argument("--crawl-arg", action="append", default=[], help="extra argument for every `bitscrape crawl`")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.bitscrape = os.path.abspath(args.bitscrape)

    work = tempfile.mkdtemp(prefix="bs-cluster-pg-")
    state, uri = pg_start(work)
    results = []
    try:
        for i, n in enumerate(int(x) for x in args.instances.split(",")):
            net = "127.0.%d" % (140 + 25 * i)  # 5,000 nodes take 20 /24s
            res = run_instances(args, n, uri, net, args.port)
            results.append(res)
            print(json.dumps(res, indent=1), flush=True)
    finally:
        subprocess.run([PG_CLUSTER, "stop", state], timeout=120)
        shutil.rmtree(work, ignore_errors=True)

    base = next((r.get("t100_s") for r in results if r["instances"] == 1), None)
    print("\n%-9s %8s %8s %8s %9s %10s %12s %10s %s" % ("instances", "t50 s", "t90 s", "t100 s", "speed-up",
                                                       "pkts/torr", "verified", "sum=total", "per instance"))
    for r in results:
        speed = round(base / r["t100_s"], 2) if base and r.get("t100_s") else None
        r["speedup_vs_1"] = speed
        print("%-9s %8s %8s %8s %9s %10s %12s %10s %s" % (
            r["instances"], r.get("t50_s"), r.get("t90_s"), r.get("t100_s"), speed, r.get("packets_per_torrent"),
            "%s/%s" % (r.get("verified"), r["torrents"]), r.get("sum_matches"), r.get("stored_per_instance")))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    ok = all("error" not in r and not r.get("mismatched") and r.get("sum_matches") for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
