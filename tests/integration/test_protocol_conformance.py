"""MessagePack-RPC conformance, as stock clients see it (PROTOCOL.md,
"Transport" and "Protocol errors").

- A client's notifications are never answered, whatever their method or
  params; the connection goes on (pynvim opens every session with one).
- Every response carries a msgid the client sent: a frame whose msgid cannot
  be read gets no answer, and a frame that is not msgpack-rpc closes the
  connection (ProtocolError, answered when its msgid could be read).
- A msgid reused while its request is in flight is InvalidArgument; the
  first request still gets its own answer.
- argv and env entries that are not UTF-8 travel as bin and reach the job as
  those exact bytes; list and inspect send them back as bin, so any client
  with a strict unpacker still reads the whole list.
- signal is set only for state signaled.
- An integral float64 is taken for a uint field (msgpack-lite sends integers
  from 2^31 up that way).
- pynvim's stock msgpack_rpc.socket_session() drives the daemon unmodified.
"""
import array
import os
import socket
import time

import msgpack
import pytest

from conftest import ConnectionClosed

def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def read_frames(r, timeout):
    """Every frame that arrives within timeout seconds; stops at EOF."""
    frames = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            frames.append(r.read_message(max(0.001, end - time.monotonic())))
        except socket.timeout:
            break
        except ConnectionClosed:
            frames.append("EOF")
            break
    return frames


def responses(frames):
    return [f for f in frames if f != "EOF" and f[0] == 1]


def sleeper(r, seconds="1"):
    return r.exec(["sleep", seconds])


# ---------------------------------------------------------------- notifications

def test_notification_during_wait_is_not_answered(daemon):
    """A wait with msgid 0 in flight; a notification arrives; nothing answers
    the notification, the wait gets its own result, and the connection goes on."""
    with daemon.rpc() as r:
        job = sleeper(r)
        r.send([0, 0, "wait", [{"job": job}]])
        r.send([2, "hello", [{}]])
        r.send([2, b"nvim_set_client_info", ["pynvim", {}, "remote", {}, {}]])
        r.send([2, "no_such_method", [1, 2, 3]])
        frames = []
        end = time.monotonic() + 20
        while not responses(frames) and time.monotonic() < end:
            frames += read_frames(r, 0.5)
        assert "EOF" not in frames, frames
        answers = responses(frames)
        assert len(answers) == 1, answers
        msgid, err, res = answers[0][1:]
        assert msgid == 0 and err is None, answers
        assert res["job"] == job and res["state"] == "exited", res
        assert r.ok("hello", {})["server"] == "skillboxd"


def test_response_from_client_is_ignored(daemon):
    """The daemon sends no requests: a response from the client answers
    nothing, gets no answer, and does not end the connection."""
    with daemon.rpc() as r:
        r.send([1, 5, None, None])
        r.send([1, 6, {"code": "x", "message": "y"}, None])
        assert r.ok("hello", {})["server"] == "skillboxd"
        assert 5 not in r.responses and 6 not in r.responses


# ---------------------------------------------------------------- protocol errors

@pytest.mark.parametrize("frame", [
    pack([0, "1", "hello", [{}]]),          # msgid a str
    pack([0, -1, "hello", [{}]]),           # msgid negative
    pack([0, 2 ** 32, "hello", [{}]]),      # msgid over uint32
    pack([0, 1, "hello"]),                  # a request of 3
    pack([0]),                              # no msgid at all
    pack({"msgid": 1}),                     # not an array
    pack([7, 1, "hello", [{}]]),            # unknown type
    b"\xc1\x00",                            # not MessagePack
], ids=["str", "negative", "over-u32", "short", "bare", "map", "type", "garbage"])
def test_unreadable_msgid_gets_no_answer(daemon, frame):
    with daemon.rpc() as r:
        r.send_raw(frame)
        assert read_frames(r, 5) == ["EOF"]


def test_protocol_error_is_answered_then_closes(daemon):
    """A broken request whose msgid could be read: one ProtocolError with
    that msgid, then the connection closes (the first one too)."""
    with daemon.rpc() as r:
        r.send([0, 41, 12345, [{}]])                # method neither str nor bin
        frames = read_frames(r, 5)
        assert frames[-1] == "EOF", frames
        assert len(frames) == 2 and frames[0][:2] == [1, 41], frames
        assert frames[0][2]["code"] == "ProtocolError", frames


def test_positional_params_are_invalid_argument(daemon):
    """params is an array, as msgpack-rpc wants, but not [map]: the method
    refuses it and the connection goes on."""
    with daemon.rpc() as r:
        r.send([0, 3, "wait", ["0123456789ab"]])
        err, _ = r.response(3)
        assert err["code"] == "InvalidArgument" and "params" in err["message"], err
        assert r.ok("hello", {})["server"] == "skillboxd"


def test_more_fds_than_a_request_takes_keeps_the_connection(daemon):
    """Well-framed, so InvalidArgument, not ProtocolError."""
    fds = [os.open("/", os.O_PATH | os.O_DIRECTORY) for _ in range(17)]
    try:
        with daemon.rpc() as r:
            r.msgid += 1
            r.sock.sendmsg([pack([0, r.msgid, "hello", [{}]])],
                           [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
            err, _ = r.response(r.msgid)
            assert err["code"] == "InvalidArgument" and "more than 16" in err["message"], err
            assert r.ok("hello", {})["server"] == "skillboxd"
    finally:
        for fd in fds:
            os.close(fd)


# ---------------------------------------------------------------- msgids

def test_msgid_reused_in_flight(daemon):
    with daemon.rpc() as r:
        job = sleeper(r)
        r.send([0, 7, "wait", [{"job": job}]])
        r.send([0, 7, "hello", [{}]])
        frames = []
        end = time.monotonic() + 20
        while len(responses(frames)) < 2 and time.monotonic() < end:
            frames += read_frames(r, 0.5)
        first, second = responses(frames)
        assert first[1] == 7 and first[2]["code"] == "InvalidArgument", first
        assert "in flight" in first[2]["message"], first
        assert second[1] == 7 and second[2] is None and second[3]["job"] == job, second
        # answered: the msgid is free again
        r.send([0, 7, "hello", [{}]])
        err, res = r.response(7)
        assert err is None and res["server"] == "skillboxd"


# ---------------------------------------------------------------- bytes as bin

def test_non_utf8_argv_as_bin_reaches_the_job(daemon):
    """A file name with byte 0xff, passed as bin, is created by the job under
    exactly that name; list and inspect (read with raw=False, as strict
    clients do) return it as bin and every other entry as str."""
    name = b"f\xffx"
    with daemon.rpc() as r:
        job = r.exec(["sh", "-c", 'touch "/tmp/$1" && ls /tmp', "sh", name],
                     env={"K": b"v\xfe"})
        out, _, res = r.wait_exit(job)
        assert res["state"] == "exited" and res["exit_code"] == 0, res
        assert name + b"\n" in out, out
        info = r.ok("inspect", {"job": job})
        assert info["argv"] == ["sh", "-c", 'touch "/tmp/$1" && ls /tmp', "sh", name]
        listed = r.ok("list", {})
        assert [j["argv"][-1] for j in listed if j["job"] == job] == [name]


def test_non_utf8_str_is_invalid_argument(daemon):
    with daemon.rpc() as r:
        r.msgid += 1
        # a str with byte 0xff: built by hand, as msgpack-python refuses to
        r.send_raw(b"\x94\x00" + bytes([r.msgid]) + pack("exec")
                   + b"\x91\x81" + pack("argv") + b"\x91\xa2f\xff")
        err, _ = r.response(r.msgid)
        assert err["code"] == "InvalidArgument", err
        assert "field argv: entry is not UTF-8" in err["message"], err


def test_skillboxctl_passes_non_utf8_argv(daemon):
    cp = daemon.ctl("run", "--", "sh", "-c", 'printf "%s" "$1" | od -An -tx1', "sh",
                    b"a\xffb".decode("utf-8", "surrogateescape"))
    assert cp.returncode == 0, cp
    assert b"61 ff 62" in cp.stdout, cp


# ---------------------------------------------------------------- signal

def test_signal_only_when_signaled(daemon):
    with daemon.rpc() as r:
        job = sleeper(r, "30")
        killed = r.ok("kill", {"job": job})
        assert killed["state"] == "killed" and killed["signal"] is None, killed
        assert killed["exit_code"] is None, killed
        _, _, res = r.wait_exit(job)
        assert res["signal"] is None, res
        assert r.ok("wait", {"job": job})["signal"] is None

        job = r.exec(["sleep", "30"], timeout_ms=300)
        _, _, res = r.wait_exit(job)
        assert res["state"] == "timeout" and res["signal"] is None, res

        job = r.exec(["sh", "-c", "kill -TERM $$"])
        _, _, res = r.wait_exit(job)
        assert res["state"] == "signaled" and res["signal"] == 15, res
        assert res["exit_code"] is None, res


# ---------------------------------------------------------------- JavaScript integers

def test_integral_float64_for_uint(daemon):
    with daemon.rpc() as r:
        job = r.exec(["true"], memory_max=float(2 ** 28), timeout_ms=30000.0)
        _, _, res = r.wait_exit(job)
        assert res["state"] == "exited", res
        assert res["enforced"]["memory_max"] == 2 ** 28, res["enforced"]
        for bad in (1.5, -1.0, float(2 ** 53 + 2)):
            err, _ = r.call("exec", {"argv": ["true"], "memory_max": bad})
            assert err["code"] == "InvalidArgument", err
            assert "field memory_max: expected uint" in err["message"], err


# ---------------------------------------------------------------- pynvim

def next_notification(session, timeout=30):
    """pynvim's next_message() blocks; a stuck daemon fails the test instead."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        msg = session.next_message()
        if msg is None:
            pytest.fail("pynvim session ended (EOF)")
        if msg[0] == "notification":
            return msg[1], msg[2]
    pytest.fail("no notification from skillboxd")


def test_pynvim_socket_session(daemon):
    """pynvim's stock socket_session(): it opens with a notification
    (nvim_set_client_info), then hello, exec of a job that prints, its
    notifications through the session API, wait, kill, list."""
    rpc = pytest.importorskip(
        "pynvim.msgpack_rpc", reason="python3-pynvim is not installed (scripts/deps.sh installs it)")
    session = rpc.socket_session(daemon.socket)
    try:
        hello = session.request("hello", {"client": "pynvim"})
        assert hello["server"] == "skillboxd" and hello["protocol"] == 1, hello

        job = session.request("exec", {"argv": ["sh", "-c", "echo hello from the job"]})["job"]
        res = session.request("wait", {"job": job})
        assert res["state"] == "exited" and res["exit_code"] == 0, res
        out, exit_seen = b"", False
        while not exit_seen:
            method, args = next_notification(session)
            assert isinstance(args, list) and len(args) == 1, args
            if method == "job_output" and args[0]["job"] == job:
                out += args[0]["data"]
            elif method == "job_exit" and args[0]["job"] == job:
                exit_seen = True
                assert args[0]["result"]["state"] == "exited"
        assert out == b"hello from the job\n"

        long_job = session.request("exec", {"argv": ["sleep", "30"]})["job"]
        killed = session.request("kill", {"job": long_job})
        assert killed["state"] == "killed" and killed["signal"] is None, killed
        listed = session.request("list", {})
        assert {job, long_job} <= {j["job"] for j in listed}, listed
    finally:
        session.close()


# ---------------------------------------------------------------- over the connection cap

REFUSED_MAX = 16    # SBD_CONNS_REFUSED_MAX


def admitted(d, timeout=5.0):
    """A connection within the cap: a client's close is seen by the daemon a
    moment after it returns (the daemon's own start-up check included)."""
    end = time.monotonic() + timeout
    while True:
        c = d.rpc()
        try:
            err, res = c.call("hello", {})
        except ConnectionClosed:
            err, res = {"code": "closed"}, None
        if err is None:
            return c
        c.close()
        assert err["code"] in ("ResourceExhausted", "closed"), err
        assert time.monotonic() < end, f"no connection admitted: {err!r}"
        time.sleep(0.05)


def test_over_the_connection_cap_first_request_answered(request, workdir):
    """Over MaxConnections= the peer's first request gets ResourceExhausted
    with its own msgid (never an unsolicited msgid 0), then the connection
    closes. Refused connections waiting for their first request count in no
    cap, and only a bounded number wait: past it, closed unanswered."""
    from conftest import Daemon, finish_daemon
    d = Daemon(workdir, extra_args=["--max-connections", "2"]).start()
    request.addfinalizer(lambda: finish_daemon(d, request))
    held = [admitted(d) for _ in range(2)]
    extra = d.rpc()
    try:
        extra.send([0, 9, "hello", [{}]])
        frames = read_frames(extra, 5)
        assert len(frames) == 2 and frames[-1] == "EOF", frames
        assert frames[0][:2] == [1, 9], frames
        assert frames[0][2]["code"] == "ResourceExhausted", frames
        assert "too many connections" in frames[0][2]["message"], frames
    finally:
        extra.close()

    idle = [d.rpc() for _ in range(REFUSED_MAX)]
    try:
        time.sleep(0.5)     # all accepted and waiting
        beyond = d.rpc()
        try:
            assert read_frames(beyond, 5) == ["EOF"]
        finally:
            beyond.close()
        # the waiting ones hold no place under the cap
        held.pop().close()
        admitted(d).close()
    finally:
        for c in idle + held:
            c.close()


INFLIGHT_MAX = 4096     # SBD_CONN_INFLIGHT_MAX


def test_requests_in_flight_are_bounded(daemon):
    """Each wait on a running job holds a waiter: one connection holds at
    most INFLIGHT_MAX such requests, the next is ResourceExhausted at once,
    and every one held is answered when the job ends."""
    with daemon.rpc(timeout=30) as r:
        job = sleeper(r, "60")
        first = r.msgid + 1
        burst = b"".join(pack([0, first + i, "wait", [{"job": job}]])
                         for i in range(INFLIGHT_MAX + 1))
        r.msgid = first + INFLIGHT_MAX
        r.send_raw(burst)
        err, _ = r.response(first + INFLIGHT_MAX)
        assert err["code"] == "ResourceExhausted" and "in flight" in err["message"], err
        assert not [m for m in r.responses if m != first + INFLIGHT_MAX]
        # at its cap the connection takes no other request either
        err, _ = r.call("hello", {})
        assert err["code"] == "ResourceExhausted", err
        with daemon.rpc() as other:
            other.ok("kill", {"job": job})
        for i in range(INFLIGHT_MAX):
            err, res = r.response(first + i)
            assert err is None and res["state"] == "killed", (err, res)
