#!/usr/bin/python3
"""libtorrent reference for bench_fetch: metadata of M magnet links from loopback seeders.

  bench_fetch_lt.py MANIFEST [--limit M] [--timeout S]

MANIFEST is the file `bench_fetch seed` writes ("infohash,ip:port,size" per line). One
libtorrent session (python3-libtorrent, Debian's 2.0.x) with DHT, LSD, UPnP and NAT-PMP off adds
one magnet URI per line with the manifest's seeder as its only peer (add_torrent_params.peers),
and the time until every torrent has its metadata (metadata_received_alert) is measured from the
first add. Each torrent is removed as soon as its metadata arrives (we only want metadata).

The session is tuned so that libtorrent, too, is limited by the seeders rather than by its own
defaults: no active-torrent limits, connections_limit and connection_speed raised, torrents
not auto-managed. Prints one line of key=value figures like `bench_fetch fetch`.
"""
import argparse
import resource
import sys
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)
import libtorrent as lt  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--connections", type=int, default=4000)
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    jobs = []
    with open(args.manifest) as f:
        for line in f:
            ih, ep, _size = line.strip().split(",")
            ip, port = ep.rsplit(":", 1)
            jobs.append((ih, ip, int(port)))
            if args.limit and len(jobs) >= args.limit:
                break

    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "connections_limit": args.connections,
        "connection_speed": 2000,
        "torrent_connect_boost": 255,
        "active_downloads": -1,
        "active_seeds": -1,
        "active_checking": -1,
        "active_limit": -1,
        "allow_multiple_connections_per_ip": True,
        "alert_queue_size": 1 << 20,
        "alert_mask": lt.alert_category.status | lt.alert_category.error,
    }
    ses = lt.session(settings)
    metric = {m.name: m.value_index for m in lt.session_stats_metrics()}
    idx_peers = metric.get("peer.num_peers_connected")
    idx_half = metric.get("peer.num_peers_half_open")

    pending = set(ih for ih, _, _ in jobs)
    flags_off = lt.torrent_flags.auto_managed | lt.torrent_flags.paused
    t0 = time.monotonic()
    for ih, ip, port in jobs:
        p = lt.parse_magnet_uri("magnet:?xt=urn:btih:" + ih)
        p.save_path = "/tmp/bench_fetch_lt_unused"
        p.peers = [(ip, port)]
        p.flags &= ~flags_off
        ses.async_add_torrent(p)

    peak_peers = 0
    errors = 0
    last_stats = 0.0
    deadline = t0 + args.timeout
    last = t0
    while pending and time.monotonic() < deadline:
        ses.wait_for_alert(100)
        now = time.monotonic()
        if now - last_stats > 0.05:
            ses.post_session_stats()
            last_stats = now
        for a in ses.pop_alerts():
            if isinstance(a, lt.metadata_received_alert):
                h = a.handle
                key = str(h.info_hash())
                if key in pending:
                    pending.discard(key)
                    last = time.monotonic()
                ses.remove_torrent(h)
            elif isinstance(a, lt.session_stats_alert) and idx_peers is not None:
                v = a.values  # python bindings: a dict keyed by metric name
                c = v.get("peer.num_peers_connected", 0) + v.get("peer.num_peers_half_open", 0)
                peak_peers = max(peak_peers, c)
            elif isinstance(a, (lt.add_torrent_alert,)):
                if a.error.value():
                    errors += 1
    secs = last - t0
    ok = len(jobs) - len(pending)
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("libtorrent: torrents=%d ok=%d failed=%d seconds=%.3f metadata_per_s=%.1f peak_connections=%d "
          "peak_rss_kib=%d add_errors=%d timed_out=%s version=%s"
          % (len(jobs), ok, len(pending), secs, ok / secs if secs > 0 else 0, peak_peers, hwm, errors,
             bool(pending), lt.__version__))
    sys.stdout.flush()
    return 0 if not pending else 2


if __name__ == "__main__":
    sys.exit(main())
