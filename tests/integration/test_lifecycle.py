"""Connections, shutdown and restart: a closed connection kills its jobs,
SIGTERM drains, a SIGKILLed daemon's leftovers are reaped by the next one,
and bad input is refused without hurting other clients."""

import os
import signal
import socket
import time

import msgpack
import pytest

from conftest import (ConnectionClosed, Daemon, deadline_poll,
                      require_root, wait_for_uid_procs)


def test_connection_close_kills_job(daemon):
    c = daemon.rpc()
    job = c.exec(["sh", "-c", "sleep 30 & exec sleep 30"])
    procs = wait_for_uid_procs(daemon, present=True, timeout=5)
    assert procs, "the job's processes never appeared"
    c.close()
    left = wait_for_uid_procs(daemon, present=False, timeout=2)
    assert not left, f"job still running 2 s after its connection closed: {left}"
    with daemon.rpc() as c2:
        r = c2.ok("wait", {"job": job}, timeout=5)
        assert r["state"] == "killed", r
        lst = c2.ok("list")
        assert any(j.get("job") == job and j.get("state") == "killed" for j in lst), lst


def test_detached_job_survives_connection_close(daemon):
    c = daemon.rpc()
    job = c.exec(["sh", "-c", "sleep 0.5; exit 7"], detach=True)
    c.close()
    with daemon.rpc() as c2:
        r = c2.ok("wait", {"job": job}, timeout=10)
        assert r["state"] == "exited" and r["exit_code"] == 7, r
        i = c2.ok("inspect", {"job": job})
        assert i.get("detached") is True, i


def test_sigterm_drains(request, workdir):
    require_root()
    d = Daemon(workdir).start()
    try:
        owner = d.rpc()
        job = owner.exec(["sleep", "30"])
        assert wait_for_uid_procs(d, present=True, timeout=5)
        waiter = d.rpc()
        wid = waiter.request("wait", {"job": job})
        waiter.pump(0.1)
        assert wid not in waiter.responses, "wait answered before the job ended"
        d.signal(signal.SIGTERM)
        err, r = waiter.response(wid, timeout=15)
        assert err is None and r["state"] == "killed", (err, r)
        out, errout, r2 = owner.wait_exit(job, timeout=15)
        assert r2["state"] == "killed", r2
        rc = d.wait_exit(15)
        assert rc == 0, f"skillboxd exited {rc} after SIGTERM:\n{d.log()}"
        assert not os.path.exists(d.socket) or not _connectable(d.socket), \
            "socket still accepts after shutdown"
        owner.close()
        waiter.close()
        d.assert_clean()
    finally:
        d.stop()
        d.force_cleanup()


def test_sigterm_refuses_new_jobs_while_draining(workdir):
    require_root()
    d = Daemon(workdir).start()
    try:
        owner = d.rpc()
        # A job that ignores SIGTERM keeps the daemon draining for its grace period.
        job = owner.exec(["sh", "-c", "trap '' TERM; sleep 30"])
        assert wait_for_uid_procs(d, present=True, timeout=5)
        d.signal(signal.SIGTERM)
        time.sleep(0.1)
        if d.proc.poll() is None:
            try:
                err, res = owner.call("exec", {"argv": ["true"]}, timeout=5)
                assert err and err.get("code") == "Unavailable", (err, res)
            except (ConnectionClosed, BrokenPipeError, ConnectionResetError):
                pass             # already drained and closing: also a refusal
        out, errout, r = owner.wait_exit(job, timeout=30)
        assert r["state"] == "killed", r
        assert d.wait_exit(30) == 0, d.log()
        d.assert_clean()
    finally:
        d.stop()
        d.force_cleanup()


def _connectable(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def test_restart_after_sigkill_leaves_nothing(workdir):
    require_root()
    d1 = Daemon(workdir).start()
    d2 = None
    try:
        c = d1.rpc()
        job = c.exec(["sh", "-c", "sleep 60 & sleep 60 & exec sleep 60"], detach=True)
        procs = wait_for_uid_procs(d1, present=True, timeout=5)
        assert len(procs) >= 3 or deadline_poll(
            lambda: len(d1.job_procs()) >= 3, 5)
        assert os.path.isdir(d1.job_cgroup("pids", job)), "job cgroup not where the layout says"
        d1.sigkill()
        c.close()
        # The old job is still there: the kernel does not clean up after a daemon.
        d2 = Daemon(workdir, like=d1)
        d2.own_paths = d1.own_paths
        d2.start()
        assert d2.own_paths == d1.own_paths
        d2.assert_clean(timeout=5)
        # And the new daemon works.
        with d2.rpc() as c2:
            j2 = c2.exec(["echo", "again"])
            out, err, r = c2.wait_exit(j2)
            assert out == b"again\n" and r["state"] == "exited", r
        assert d2.stop() == 0, d2.log()
        d2.assert_clean()
    finally:
        if d1.proc.poll() is None:
            d1.sigkill()
        if d2 is not None:
            d2.stop()
            d2.force_cleanup()
        d1.force_cleanup()


def _expect_protocol_error_or_close(c, timeout=3):
    """The daemon answers garbage with a ProtocolError response or closes."""
    try:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            msg = c.read_message(end - time.monotonic())
            if msg[0] == 1:
                assert msg[2] and msg[2].get("code") == "ProtocolError", msg
                return "error"
    except ConnectionClosed:
        return "closed"
    pytest.fail("garbage got neither a ProtocolError nor a close")


def _hello_works(d):
    with d.rpc() as c:
        res = c.ok("hello", {"client": "after-garbage"})
        assert res["server"] == "skillboxd"


def test_garbage_gets_protocol_error(daemon):
    bystander = daemon.rpc()
    bjob = bystander.exec(["sh", "-c", "sleep 1; echo still-here"])

    # Bytes that are not MessagePack at all (0xc1 is never used).
    with daemon.rpc() as c:
        c.send_raw(b"\xc1" * 64 + b"GET / HTTP/1.0\r\n\r\n")
        _expect_protocol_error_or_close(c)
    _hello_works(daemon)

    # Valid MessagePack, but not an envelope.
    with daemon.rpc() as c:
        c.send(["not", "an", "envelope"])
        _expect_protocol_error_or_close(c)
    with daemon.rpc() as c:
        c.send("just a string")
        _expect_protocol_error_or_close(c)

    # A request with params of the wrong type is answered with its msgid.
    with daemon.rpc() as c:
        c.send([0, 77, "hello", "params-not-an-array"])
        try:
            msg = c.read_message(3)
            assert msg[0] == 1 and msg[1] == 77, msg
            assert msg[2] and msg[2].get("code") in ("ProtocolError", "InvalidArgument"), msg
        except ConnectionClosed:
            pass
    with daemon.rpc() as c:
        err, _ = c.call("no_such_method", {})
        assert err and err.get("code") in ("InvalidArgument", "NotFound", "Unsupported",
                                           "ProtocolError"), err
        # An unknown method is not a reason to drop a well-behaved connection.
        assert c.ok("hello", {})["server"] == "skillboxd"

    _hello_works(daemon)
    out, err, r = bystander.wait_exit(bjob, timeout=10)
    assert out == b"still-here\n" and r["state"] == "exited", r
    bystander.close()


def test_unknown_method_name_is_not_echoed_raw(daemon):
    # The method name is the peer's bytes: not UTF-8 here, with a NUL and a
    # terminal escape. The answer names it, but as printable ASCII in a
    # valid str (an unpacker that decodes str as UTF-8 reads it), and the
    # connection stays usable.
    name = b"\xff\xfe\x1b[2J\x00x"
    with daemon.rpc() as c:
        c.send_raw(b"\x94\x00\x07" + bytes([0xa0 | len(name)]) + name + b"\x91\x80")
        msg = c.read_message(5)
        assert msg[0] == 1 and msg[1] == 7, msg
        err = msg[2]
        assert err["code"] == "InvalidArgument", err
        assert err["message"].startswith("unknown method "), err
        assert all(0x20 <= ord(ch) < 0x7f for ch in err["message"]), err
        assert c.ok("hello", {})["server"] == "skillboxd"


def test_argv_not_utf8_refused(daemon):
    # str is UTF-8 on the wire. A job's argv goes back as str to every admin's
    # `list`: bytes that are not UTF-8 there would make another client's
    # unpacker fail, so the request that carries them is refused.
    with daemon.rpc() as c:
        c.send_raw(b"\x94\x00\x05\xa4exec\x91"
                   b"\x82\xa4argv\x92\xa5sleep\xa3\xff\xfe\xfd\xa6detach\xc3")
        msg = c.read_message(5)
        assert msg[0] == 1 and msg[1] == 5, msg
        assert msg[2]["code"] == "InvalidArgument", msg
        assert msg[2]["message"] == "field argv: entry is not UTF-8", msg
    with daemon.rpc() as c:
        assert c.ok("list") == []
        job = c.exec(["echo", "\u00e9t\u00e9 \U0001f600"])
        err, res = c.call("wait", {"job": job})
        assert err is None and res["state"] == "exited", (err, res)
        assert c.ok("inspect", {"job": job})["argv"] == ["echo", "\u00e9t\u00e9 \U0001f600"]


def test_oversized_message_refused(daemon):
    with daemon.rpc() as c:
        big = msgpack.packb([0, 1, "hello", [{"client": "x" * (5 << 20)}]], use_bin_type=True)
        try:
            c.send_raw(big)
        except (BrokenPipeError, ConnectionResetError):
            pass
        else:
            _expect_protocol_error_or_close(c, timeout=5)
    # A header that announces a huge bin must be refused without waiting for it.
    with daemon.rpc() as c:
        c.send_raw(b"\x94\x00\x02\xa5hello\x91\x81\xa6client\xc6\x7f\xff\xff\xff")
        _expect_protocol_error_or_close(c, timeout=5)
    _hello_works(daemon)
    with daemon.rpc() as c:
        s = c.ok("stats")
        assert s["memory_rss"] < 200 << 20, f"daemon RSS {s['memory_rss']} after a huge message"


def test_many_connections_do_not_block_others(daemon):
    idle = [daemon.rpc() for _ in range(20)]
    try:
        _hello_works(daemon)
    finally:
        for c in idle:
            c.close()
