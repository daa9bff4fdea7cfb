#!/usr/bin/python3
"""Regenerates the metainfo test fixtures with libtorrent (a real third-party implementation).

Run with Debian's interpreter, which has python3-libtorrent (2.0.x):
    /usr/bin/python3 tests/metainfo/data/make_fixtures.py

For every case it lays out a few tiny files in a temporary directory, has libtorrent build and
hash the torrent (v1-only, v2-only or hybrid: libtorrent 2.0 makes hybrids unless told
otherwise), writes <case>.torrent here, then loads the file back through lt.torrent_info and
records what *libtorrent* says about it in fixtures.json: both info hashes, name, piece length,
piece count, the file list (pad flags included) and libtorrent's own magnet link. The C++ tests
compare our parser against those values, never against values we computed ourselves.

Piece data is kept small (16 KiB pieces, files of a few KiB) so the fixtures stay tiny.
Output is deterministic: no creation date, no creator string, fixed mtimes, fixed content.
"""

import json
import os
import sys
import tempfile

import libtorrent as lt

HERE = os.path.dirname(os.path.abspath(__file__))
PIECE = 16 * 1024  # the smallest piece size BEP-52 allows

CT = lt.create_torrent
V1 = CT.v1_only
V2 = CT.v2_only
HYBRID = 0


def content(seed, size):
    """Deterministic, non-repeating-ish bytes so piece hashes differ between files."""
    return bytes((i * 31 + seed * 7 + (i >> 8)) & 0xFF for i in range(size))


# name -> (root name, [(relative path, size)], flags, extras)
# A root with a single file of the same name and no directory is a single-file torrent.
CASES = {
    "v1_single": ("hello.txt", None, [("hello.txt", 1000)], V1, {}),
    "v1_multi": ("v1multi", "dir", [
        ("a.txt", 300),
        ("sub/b.bin", 20000),
        ("sub/deeper/c.dat", 10),
    ], V1, {}),
    # canonical_files makes libtorrent pad every file to a piece boundary (BEP-47 pad files,
    # attr "p", path .pad/<size>) even in a v1-only torrent.
    "v1_padded": ("v1padded", "dir", [
        ("a.txt", 300),
        ("sub/b.bin", 20000),
        ("z.txt", 5),
    ], V1 | CT.canonical_files, {}),
    "v1_private_source": ("private", "dir", [
        ("one.txt", 100),
        ("two.txt", 200),
    ], V1, {"private": True, "source": "BitScrape-Test"}),
    "v2_single": ("solo.bin", None, [("solo.bin", 40000)], V2, {}),
    "v2_multi": ("v2multi", "dir", [
        ("a.txt", 300),
        ("empty.dat", 0),
        ("sub/b.bin", 20000),
    ], V2, {}),
    "hybrid_single": ("hybrid.iso", None, [("hybrid.iso", 17000)], HYBRID, {}),
    # Hybrids carry v1 pad files so that both views share piece boundaries.
    "hybrid_multi": ("hybridmulti", "dir", [
        ("a.txt", 300),
        ("sub/b.bin", 20000),
        ("sub/c.dat", 16384),
    ], HYBRID, {"trackers": ["udp://tracker.example:6969/announce", "http://t2.example/ann"],
                "nodes": [("router.example", 6881)]}),
    "unicode_hybrid": ("日本語トレント 🎉", "dir", [
        ("音楽/曲 01.txt", 123),
        ("😀 emoji.bin", 4567),
        ("ファイル.txt", 89),
    ], HYBRID, {}),
}


def build(tmp, case, root, kind, files, flags, extras):
    base = os.path.join(tmp, case)
    os.makedirs(base)
    for i, (rel, size) in enumerate(files):
        full = os.path.join(base, root, rel) if kind == "dir" else os.path.join(base, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(content(i + 1, size))
        os.utime(full, (1700000000, 1700000000))

    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(base, root))
    ct = lt.create_torrent(fs, PIECE, flags=flags)
    if extras.get("private"):
        ct.set_priv(True)
    for tier, url in enumerate(extras.get("trackers", [])):
        ct.add_tracker(url, tier)
    for host, port in extras.get("nodes", []):
        ct.add_node(host, port)
    lt.set_piece_hashes(ct, base)
    entry = ct.generate()
    entry.pop(b"creation date", None)
    entry.pop(b"created by", None)
    if "source" in extras:
        # libtorrent has no setter for the common (non-BEP) `source` key; add it to the info dict
        # before encoding, so the info hash covers it (libtorrent recomputes it on load).
        entry[b"info"][b"source"] = extras["source"].encode()
    return lt.bencode(entry)


def describe(data):
    ti = lt.torrent_info(lt.bdecode(data))
    ih = ti.info_hashes()
    fs = ti.files()
    out_files = []
    for i in range(fs.num_files()):
        out_files.append({
            "path": fs.file_path(i),
            "size": fs.file_size(i),
            "pad": bool(fs.file_flags(i) & lt.file_storage.flag_pad_file),
        })
    return {
        "v1": str(ih.v1) if ih.has_v1() else None,
        "v2": str(ih.v2) if ih.has_v2() else None,
        "name": ti.name(),
        "piece_length": ti.piece_length(),
        "num_pieces": ti.num_pieces(),
        "total_size": ti.total_size(),  # libtorrent counts pad files (also implicit v2 ones)
        "private": ti.priv(),
        "info_size": len(ti.info_section()),
        "files": out_files,
        "magnet": lt.make_magnet_uri(ti),
    }


def main():
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case, (root, kind, files, flags, extras) in CASES.items():
            data = build(tmp, case, root, kind, files, flags, extras)
            with open(os.path.join(HERE, case + ".torrent"), "wb") as f:
                f.write(data)
            results[case] = describe(data)
    with open(os.path.join(HERE, "fixtures.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "libtorrent " + lt.__version__, "fixtures": results}, f,
                  ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %d fixtures with libtorrent %s" % (len(results), lt.__version__), file=sys.stderr)


if __name__ == "__main__":
    main()
