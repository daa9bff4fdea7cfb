#!/usr/bin/python3
"""Writes real info dicts made by libtorrent (python3-libtorrent) for the bencode benchmark.

Usage: make_corpus.py OUTDIR
Each file OUTDIR/<name>.info holds one bencoded info dict exactly as libtorrent generates it:
v1 single-file, v1 multi-file (many files), v2-only and hybrid. Piece hashes are set
directly (no file data is hashed), so this runs in a second.
"""
import hashlib
import os
import shutil
import sys
import tempfile

import libtorrent as lt


def make(fs, piece_length, flags, root=None):
    ct = lt.create_torrent(fs, piece_length, flags=flags)
    if root is None:
        # v1 only: set piece hashes directly, no data to hash.
        for i in range(ct.num_pieces()):
            ct.set_hash(i, hashlib.sha1(b"p%d" % i).digest())
    else:
        # v2 merkle trees need real data (the bindings have no set_hash2).
        lt.set_piece_hashes(ct, root)
    return lt.bencode(ct.generate())


def write_files(root, files):
    for path, size in files:
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(hashlib.sha256(path.encode()).digest() * (size // 32) + b"x" * (size % 32))


def info_of(torrent_bytes):
    d = lt.bdecode(torrent_bytes)
    return lt.bencode(d[b"info"])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cases = {}

    fs = lt.file_storage()
    fs.add_file("Some.Linux.Distribution-24.04-desktop-amd64.iso", 4_700_000_000)
    cases["v1_single"] = (fs, 1 << 22, lt.create_torrent.v1_only)

    fs = lt.file_storage()
    for i in range(300):
        fs.add_file("Album Collection/Disc %02d/%03d - Track name number %d.flac" % (i // 20, i, i), 30_000_000 + i * 7919)
    cases["v1_multi"] = (fs, 1 << 21, lt.create_torrent.v1_only)

    tmp = tempfile.mkdtemp()
    v2_files = [("Dataset v2/shard-%04d.parquet" % i, 300_000 + i * 1013) for i in range(40)]
    hybrid_files = [("Hybrid Pack/ディレクトリ/file-%02d.bin" % i, 200_000 + i * 4099) for i in range(60)]
    write_files(tmp, v2_files + hybrid_files)
    fs = lt.file_storage()
    for path, size in v2_files:
        fs.add_file(path, size)
    cases["v2_only"] = (fs, 1 << 14, lt.create_torrent.v2_only, tmp)
    fs = lt.file_storage()
    for path, size in hybrid_files:
        fs.add_file(path, size)
    cases["hybrid"] = (fs, 1 << 14, 0, tmp)
    cases["v1_single"] += (None,)
    cases["v1_multi"] += (None,)

    for name, (fs, pl, flags, root) in cases.items():
        torrent = make(fs, pl, flags, root)
        with open(os.path.join(out, name + ".info"), "wb") as f:
            f.write(info_of(torrent))
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
