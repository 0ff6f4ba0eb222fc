"""Request backpressure: a client that sends requests but never reads the
replies must not grow the daemon's memory (DESIGN.md, "Backpressure").

Past SBD_CONN_WRITE_QUEUE_MAX of queued replies the daemon stops reading that
connection's requests, so the client's send blocks; other connections are
served as usual, and once the client reads, every reply arrives, in order.
"""

import os
import socket
import threading
import time

import msgpack
import pytest

from conftest import Daemon, Rpc, finish_daemon, require_root, rss_kib

N_REQUESTS = 200000
RSS_SLACK_KIB = 16 * 1024


@pytest.fixture
def bp_daemon(request, workdir, monkeypatch):
    """The usual daemon; under ASan with its free-quarantine off, so RSS
    follows what the daemon holds, not the 256 MiB of recently freed memory
    ASan keeps poisoned."""
    require_root()
    opts = os.environ.get("ASAN_OPTIONS", "")
    monkeypatch.setenv("ASAN_OPTIONS", (opts + ":" if opts else "") + "quarantine_size_mb=0")
    d = Daemon(workdir).start()
    yield d
    finish_daemon(d, request)


def test_unread_replies_pause_requests_not_grow_memory(bp_daemon):
    d = bp_daemon
    with Rpc(d.socket) as other:
        other.ok("hello", {"client": "pytest"})
        base = rss_kib(d.pid)

        payload = b"".join(msgpack.packb([0, i, "hello", [{}]], use_bin_type=True)
                           for i in range(1, N_REQUESTS + 1))
        flood = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        flood.connect(d.socket)
        sent = threading.Event()
        send_error = []

        def sender():
            try:
                flood.sendall(payload)
            except OSError as e:
                send_error.append(e)
            sent.set()

        t = threading.Thread(target=sender, daemon=True)
        t.start()
        try:
            # While the flooding client does not read: memory stays bounded
            # and another connection is answered promptly.
            peak = base
            end = time.monotonic() + 3.0
            while time.monotonic() < end:
                peak = max(peak, rss_kib(d.pid))
                t0 = time.monotonic()
                other.ok("hello", {"client": "pytest"}, timeout=5)
                took = time.monotonic() - t0
                # Not a timing target: "answered, not stuck behind the
                # paused connection", with room for a slow guest.
                assert took < 5.0, f"hello on another connection took {took:.2f}s"
                time.sleep(0.05)
            peak = max(peak, rss_kib(d.pid))
            assert peak - base < RSS_SLACK_KIB, \
                f"skillboxd RSS grew from {base} KiB to {peak} KiB with unread replies"
            assert not sent.is_set(), \
                "the daemon read every request although its replies were not read"

            # Now read: every reply, in order, and the sender gets through.
            flood.settimeout(30)
            unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
            want = 1
            while want <= N_REQUESTS:
                data = flood.recv(1 << 20)
                assert data, f"connection closed after {want - 1} replies"
                unpacker.feed(data)
                for msg in unpacker:
                    assert msg[0] == 1 and msg[1] == want, \
                        f"reply {want} expected, got {msg[:2]!r}"
                    assert msg[2] is None, f"hello {want} failed: {msg[2]!r}"
                    assert msg[3]["server"] == "skillboxd"
                    want += 1
            assert sent.wait(10), "the sender is still blocked after every reply was read"
            assert not send_error, send_error
            assert rss_kib(d.pid) - base < RSS_SLACK_KIB
            other.ok("hello", {"client": "pytest"}, timeout=1)
        finally:
            flood.close()
            t.join(10)
