"""The client's side of the wire against a scripted peer on a socketpair-like
Unix socket: orderings and errors a real daemon produces only by timing."""

import array
import asyncio
import os
import socket
import threading

import msgpack
import pytest

import skillbox

RESULT = {"job": "abc123", "state": "exited", "exit_code": 0, "signal": None, "wall_ms": 5,
          "cpu_user_ms": 1, "cpu_sys_ms": 2, "memory_peak": 4096, "tasks_peak": 1,
          "stdout_bytes": 6, "stderr_bytes": 0, "output_truncated": False, "error": None,
          "enforced": {"backend": "linux"}}


class FakeDaemon:
    """Accepts one connection and answers each request with script(msgid,
    method, params, fds) -> list of messages to send back."""

    def __init__(self, tmp_path, script, greeting=b""):
        self.greeting = greeting
        self.path = str(tmp_path / "fake.sock")
        self.script = script
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        self.srv.listen(1)
        self.requests = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.srv.accept()
        unpacker = msgpack.Unpacker(raw=False)
        with conn:
            # Sent before any request is read, as a daemon with a full
            # write queue does.
            conn.sendall(self.greeting)
            while True:
                data, anc, _, _ = conn.recvmsg(1 << 16, socket.CMSG_SPACE(16 * 4))
                if not data:
                    return
                fds = []
                for level, kind, payload in anc:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                        a = array.array("i")
                        a.frombytes(payload[:len(payload) - len(payload) % a.itemsize])
                        fds += list(a)
                unpacker.feed(data)
                for msg in unpacker:
                    _, msgid, method, params = msg
                    infos = [os.fstat(fd) for fd in fds]
                    for fd in fds:
                        os.close(fd)
                    self.requests.append((method, params[0], infos))
                    fds = []
                    for out in self.script(msgid, method, params[0]):
                        conn.sendall(msgpack.packb(out, use_bin_type=True))

    def close(self):
        self.srv.close()


def exec_answers_late(msgid, method, params):
    """Everything about the job arrives before the exec reply."""
    if method != "exec":
        return [[1, msgid, None, None]]
    return [[2, "job_output", [{"job": "abc123", "stream": "stdout", "data": b"early\n"}]],
            [2, "job_exit", [{"job": "abc123", "result": RESULT}]],
            [1, msgid, None, {"job": "abc123"}]]


def test_output_and_exit_before_the_exec_reply_are_kept(tmp_path):
    fake = FakeDaemon(tmp_path, exec_answers_late)
    with skillbox.Client(fake.path) as c:
        r = c.start(["echo", "early"]).wait(timeout=5)
    assert r.state == "exited" and r.stdout == b"early\n" and r.memory_peak == 4096
    assert r.cpu_ms == 3
    fake.close()


def test_async_output_before_the_exec_reply_is_kept(tmp_path):
    fake = FakeDaemon(tmp_path, exec_answers_late)

    async def main():
        async with skillbox.AsyncClient(fake.path) as c:
            job = await c.start(["echo", "early"])
            chunks = [chunk async for chunk in job]
            assert chunks == [("stdout", b"early\n")]
            assert (await job.wait()).stdout == b"early\n"
    asyncio.run(asyncio.wait_for(main(), 10))
    fake.close()


@pytest.mark.parametrize("code,cls", [
    ("InvalidArgument", skillbox.InvalidArgument), ("PermissionDenied", skillbox.PermissionDenied),
    ("NotFound", skillbox.NotFound), ("ResourceExhausted", skillbox.ResourceExhausted),
    ("Unavailable", skillbox.Unavailable), ("Unsupported", skillbox.Unsupported),
    ("ProtocolError", skillbox.ProtocolError), ("Internal", skillbox.Internal),
    ("SomethingNew", skillbox.Error)])
def test_each_error_code_has_its_exception(tmp_path, code, cls):
    fake = FakeDaemon(tmp_path, lambda msgid, m, p: [[1, msgid, {"code": code, "message": "why"}, None]])
    with skillbox.Client(fake.path) as c:
        with pytest.raises(cls) as e:
            c.stats()
    assert type(e.value) is cls
    assert e.value.code == code and e.value.message == "why"
    fake.close()


def test_exec_params_map_every_option(tmp_path):
    fake = FakeDaemon(tmp_path, lambda msgid, m, p: [[1, msgid, None, {"job": "j1"}]])
    d1, d2 = tmp_path / "d1", tmp_path / "d2"
    d1.mkdir()
    d2.mkdir()
    class OpenDir:  # anything with fileno(), as an open directory is
        def __init__(self, path):
            self.fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)

        def fileno(self):
            return self.fd
    f2 = OpenDir(d2)
    with skillbox.Client(fake.path) as c:
        c.start([b"prog\xff", "arg"], profile="p", memory="1M", tasks=5, cpu=50, timeout=1.5,
                env={"A": "b", b"K": b"\xfe"}, stdin=True, workdir=d1,
                mounts=[skillbox.Mount(f2, "/data", read_only=True), (str(d1), "/mnt/x")],
                detach=True, output_max=1000, work_size_max="2M", work_inodes_max=9)
    os.fstat(f2.fd)  # still the caller's to close
    os.close(f2.fd)
    method, params, fds = fake.requests[0]
    assert method == "exec"
    assert params == {
        "argv": [b"prog\xff", "arg"], "profile": "p", "memory_max": 1 << 20, "tasks_max": 5,
        "cpu_percent": 50, "timeout_ms": 1500, "env": {"A": "b", b"K": b"\xfe"}, "stdin": True,
        "workdir_fd": 0, "detach": True, "output_max": 1000, "work_size_max": 2 << 20,
        "work_inodes_max": 9,
        "mounts": [{"fd": 1, "target": "/data", "read_only": True},
                   {"fd": 2, "target": "/mnt/x", "read_only": False}]}
    ino = [os.stat(d1).st_ino, os.stat(d2).st_ino, os.stat(d1).st_ino]
    assert [st.st_ino for st in fds] == ino
    fake.close()


def test_response_to_an_unknown_msgid_is_a_protocol_error(tmp_path):
    fake = FakeDaemon(tmp_path, lambda msgid, m, p: [[1, msgid + 7, None, {}]])
    with skillbox.Client(fake.path) as c:
        with pytest.raises(skillbox.ProtocolError):
            c.stats()
        with pytest.raises(skillbox.Disconnected):
            c.stats()
    fake.close()


def test_a_large_request_is_sent_while_the_daemon_sends_too(tmp_path):
    # 8 MiB of output queued towards the client before the daemon reads a
    # request: a client that only writes while sending its 1 MiB request
    # and the daemon that only writes until that is read wait for each
    # other forever.
    chunk = msgpack.packb([2, "job_output", [{"job": "j1", "stream": "stdout",
                                               "data": b"o" * 65536}]], use_bin_type=True)
    fake = FakeDaemon(tmp_path, lambda msgid, m, p: [[1, msgid, None, None]],
                      greeting=chunk * 128)
    done = []

    def client():
        with skillbox.Client(fake.path) as c:
            c.write_stdin("j1", b"i" * (1 << 20))
            done.append(True)
    t = threading.Thread(target=client, daemon=True)
    t.start()
    t.join(20)
    assert done == [True], "the client and the daemon are stuck writing to each other"
    assert fake.requests[0][0] == "stdin_write"
    assert len(fake.requests[0][1]["data"]) == 1 << 20
    fake.close()
