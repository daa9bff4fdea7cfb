"""A stranger's KRPC client: queries a DHT node from its own loopback address, messages
encoded and decoded with libtorrent's bencode (python3-libtorrent), not ours.

    c = Client("127.0.37.2", ("127.0.37.1", 6881), random.Random(1))
    reply = c.ask(b"t1", b"ping", {})
"""
import socket
import time

import libtorrent as lt


def node_id(rng):
    return bytes(rng.getrandbits(8) for _ in range(20))


class Client:
    def __init__(self, ip, to, rng):
        self.to = to
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, 0))
        self.sock.settimeout(3)
        self.addr = self.sock.getsockname()
        self.id = node_id(rng)

    def send(self, tid, method, args):
        a = {b"id": self.id}
        a.update(args)
        self.sock.sendto(lt.bencode({b"t": tid, b"y": b"q", b"q": method, b"a": a}), self.to)

    def answer(self, tid):
        """The reply with transaction id `tid` (the node's own queries to us, e.g. its
        verification ping, are skipped), or None after the timeout."""
        deadline = time.time() + 3
        while time.time() < deadline:
            try:
                data, _ = self.sock.recvfrom(2048)
            except socket.timeout:
                return None
            msg = lt.bdecode(data)
            if not isinstance(msg, dict) or msg.get(b"y") == b"q" or msg.get(b"t") != tid:
                continue
            return msg
        return None

    def ask(self, tid, method, args):
        self.send(tid, method, args)
        return self.answer(tid)

    def announce(self, tid, info_hash, port):
        """get_peers for a token, then announce_peer for `port`; True when both were answered."""
        got = self.ask(tid + b"g", b"get_peers", {b"info_hash": info_hash})
        token = got.get(b"r", {}).get(b"token") if isinstance(got, dict) else None
        if not token:
            return False
        ann = self.ask(tid + b"a", b"announce_peer", {b"info_hash": info_hash, b"port": port, b"token": token})
        return isinstance(ann, dict) and ann.get(b"y") == b"r"
