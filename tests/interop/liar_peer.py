#!/usr/bin/python3
"""A scripted peer that lies: it speaks BEP-3/10/9 correctly but serves corrupt metadata
(one byte of the first piece flipped), for the fetcher's liar tests. Loopback only.

    liar = LiarPeer("127.0.10.99", 7999, info_bytes); liar.start(); ...; liar.stop()

`info_bytes` is one info dict (served for whatever infohash the peer asks for) or a dict
{20-byte DHT key: info dict} (a liar for many torrents; unknown keys are hung up on).
"""
import socket
import struct
import threading

import libtorrent as lt


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


class LiarPeer:
    def __init__(self, ip, port, info_bytes, mode="corrupt"):
        self.ip, self.port, self.info, self.mode = ip, port, info_bytes, mode
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind((ip, port))
        self.srv.listen(16)
        self.connections = 0
        self.stopped = False

    def endpoint(self):
        return "%s:%d" % (self.ip, self.port)

    def start(self):
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def stop(self):
        self.stopped = True
        self.srv.close()

    def _accept_loop(self):
        while not self.stopped:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _send_ext(self, conn, ext_id, payload):
        conn.sendall(struct.pack(">IBB", len(payload) + 2, 20, ext_id) + payload)

    def _serve(self, conn):
        try:
            conn.settimeout(10)
            hs = _recv_exact(conn, 68)
            info = self.info if isinstance(self.info, bytes) else self.info.get(hs[28:48])
            if info is None:
                return
            reserved = bytearray(8)
            reserved[5] |= 0x10
            conn.sendall(b"\x13BitTorrent protocol" + bytes(reserved) + hs[28:48] + b"-LI0001-liarliarliar")
            size = len(info) * (2 if self.mode == "size" else 1)
            self._send_ext(conn, 0, lt.bencode({"m": {"ut_metadata": 3}, "metadata_size": size, "v": "Liar 1.0"}))
            their_id = None
            while True:
                (length,) = struct.unpack(">I", _recv_exact(conn, 4))
                if length == 0:
                    continue
                body = _recv_exact(conn, length)
                if body[0] != 20:
                    continue
                if body[1] == 0:
                    their_id = lt.bdecode(body[2:])[b"m"][b"ut_metadata"]
                    continue
                msg = lt.bdecode(body[2:])
                if msg.get(b"msg_type") != 0 or their_id is None:
                    continue
                piece = msg[b"piece"]
                data = bytearray(info[piece * 16384:(piece + 1) * 16384])
                if piece == 0 and data:
                    data[len(data) // 2] ^= 0xFF
                header = lt.bencode({"msg_type": 1, "piece": piece, "total_size": len(info)})
                self._send_ext(conn, their_id, header + bytes(data))
        except (OSError, ConnectionError, KeyError, TypeError):
            pass
        finally:
            conn.close()
