"""The blocking client against a real daemon."""

import os
import time

import pytest

import skillbox
from skillbox import Mount

MIB = 1024 * 1024


@pytest.fixture
def client(daemon):
    with skillbox.Client(daemon.socket) as c:
        yield c


def test_run_returns_output_exit_code_and_accounting(client):
    r = client.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert r.state == "exited"
    assert r.exit_code == 3 and r.signal is None
    assert r.stdout == b"out\n" and r.stderr == b"err\n"
    assert r.stdout_bytes == 4 and r.stderr_bytes == 4
    assert not r.ok
    assert r.wall_ms >= 0 and r.memory_peak >= 0
    assert set(r.accounting) >= {"wall_ms", "cpu_user_ms", "cpu_sys_ms", "memory_peak"}
    assert r.enforced.get("backend") in ("linux", "posix")
    assert r.denied == []
    assert client.run(["true"]).ok


def test_env_and_non_utf8_output(client):
    r = client.run(["sh", "-c", 'printf "%s\\377" "$GREETING"'], env={"GREETING": "hi"})
    assert r.stdout == b"hi\xff"


def test_timeout_ends_the_job_in_state_timeout(client):
    r = client.run(["sleep", "30"], timeout=0.3)
    assert r.state == "timeout"
    assert r.exit_code is None
    assert r.enforced["timeout_ms"] == 300


def test_memory_limit_ends_the_job_oom(client):
    if client.hello()["host"].get("cgroup") == "none":
        pytest.skip("no cgroup memory limit on this host")
    # A shell variable doubling until it cannot fit in 32 MiB.
    r = client.run(["sh", "-c", 'a=x; while :; do a="$a$a"; done'], memory="32M", timeout=30)
    assert r.state == "oom", r
    assert r.enforced["memory_max"] == 32 * MIB


def test_stdin_bytes_and_file(client, tmp_path):
    r = client.run(["sh", "-c", "wc -c"], stdin=b"x" * 700000)
    assert r.stdout.strip() == b"700000"
    p = tmp_path / "in"
    p.write_bytes(b"from a file\n")
    with open(p, "rb") as f:
        assert client.run(["cat"], stdin=f).stdout == b"from a file\n"


def test_interactive_stdin_streams_in_order(client):
    job = client.start(["sh", "-c", 'while read l; do echo "got $l"; echo "e$l" >&2; done'],
                       stdin=True)
    chunks = iter(job)
    for i in range(3):
        job.write_stdin(f"{i}\n")
        seen = b""
        for stream, data in chunks:
            seen += data if stream == "stdout" else b""
            if seen.endswith(b"\n"):
                break
        assert seen == f"got {i}\n".encode()
    job.close_stdin()
    r = job.wait()
    assert r.state == "exited" and r.exit_code == 0
    assert r.stdout == b"got 0\ngot 1\ngot 2\n"
    assert r.stderr == b"e0\ne1\ne2\n"


def test_stream_order_per_stream(client):
    job = client.start(["sh", "-c", "for i in 1 2 3 4 5; do echo o$i; echo e$i >&2; done"])
    out, err = [], []
    for stream, data in job:
        (out if stream == "stdout" else err).append(data)
    assert b"".join(out) == b"o1\no2\no3\no4\no5\n"
    assert b"".join(err) == b"e1\ne2\ne3\ne4\ne5\n"
    assert job.done and job.wait().exit_code == 0


def test_kill_a_running_job(client):
    job = client.start(["sh", "-c", "echo ready; exec sleep 60"])
    first = next(iter(job))
    assert first == ("stdout", b"ready\n")
    killed = job.kill()
    assert killed.state == "killed"
    r = job.wait(timeout=10)
    assert r.state == "killed" and r.stdout == b"ready\n"
    assert r.signal is None  # signal is set only for state signaled


def test_wait_timeout_raises(client):
    job = client.start(["sleep", "5"])
    with pytest.raises(TimeoutError):
        job.wait(timeout=0.05)
    job.kill()


def test_list_inspect_wait_by_id(client, daemon):
    job = client.start(["sh", "-c", "exec sleep 60"])
    info = client.inspect(job.id)
    assert info.job == job.id and info.state == "running"
    assert info.argv == ["sh", "-c", "exec sleep 60"]
    assert info.profile == "default" and info.owner_uid == os.getuid()
    assert job.id in [i.job for i in client.list()]
    # Another connection waits for it by id; this one kills it.
    with skillbox.Client(daemon.socket) as other:
        client.kill(job.id)
        assert other.wait(job.id).state == "killed"
    stats = client.stats()
    assert stats["jobs_started"] >= 1
    assert any(p["name"] == "default" for p in client.profiles())


def test_error_types(client):
    with pytest.raises(skillbox.NotFound) as e:
        client.run(["true"], profile="no-such-profile")
    assert e.value.code == "NotFound" and "no-such-profile" in e.value.message
    assert isinstance(e.value, skillbox.Error)
    with pytest.raises(skillbox.NotFound):
        client.inspect("000000000000")
    with pytest.raises(skillbox.InvalidArgument):
        client.inspect("NOT A JOB")
    limit = next(p for p in client.profiles() if p["name"] == "default")["memory_max"]
    if limit:
        with pytest.raises(skillbox.PermissionDenied):
            client.run(["true"], memory=limit + MIB)
    # The connection is still usable after refused requests.
    assert client.run(["true"]).ok


def test_connect_failure_is_disconnected(tmp_path):
    with pytest.raises(skillbox.Disconnected):
        skillbox.Client(str(tmp_path / "nothing.sock"))


def test_workdir_by_path_and_by_open_fd(client, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    os.chmod(tmp_path, 0o755)
    (work / "in.txt").write_text("hello\n")
    r = client.run(["sh", "-c", "cat /work/in.txt; echo made > /work/out.txt"], workdir=work)
    assert r.ok, r
    assert r.stdout == b"hello\n"
    assert (work / "out.txt").read_text() == "made\n"
    # Files the job made belong to the client, whatever the backend did.
    assert os.stat(work / "out.txt").st_uid == os.getuid()
    fd = os.open(work, os.O_RDONLY | os.O_DIRECTORY)
    try:
        r = client.run(["cat", "/work/out.txt"], workdir=fd)
        assert r.stdout == b"made\n"
        os.fstat(fd)  # the caller's fd is still the caller's
    finally:
        os.close(fd)


def test_read_only_mount(client, tmp_path):
    skill = tmp_path / "skill"
    skill.mkdir()
    os.chmod(tmp_path, 0o755)
    (skill / "run.sh").write_text("echo from skill\n")
    r = client.run(["sh", "-c", "sh /skill/run.sh; touch /skill/x 2>/dev/null || echo ro"],
                   mounts=[Mount(skill, "/skill", read_only=True)])
    if r.state == "failed" or r.enforced.get("backend") == "posix":
        pytest.skip(f"mounts not available here: {r.error}")
    assert r.stdout == b"from skill\nro\n"
    assert not (skill / "x").exists()


def test_output_before_exec_reply_is_kept(client):
    # Many quick jobs: some print and exit before their exec reply is read.
    for _ in range(20):
        r = client.run(["echo", "quick"])
        assert r.stdout == b"quick\n" and r.state == "exited"


def test_bytes_argv_is_sent_as_bin(client):
    # Not UTF-8: goes as bin, and the job gets exactly these bytes.
    r = client.run([b"printf", b"%s", b"\xff\xfe-name"])
    assert r.stdout == b"\xff\xfe-name"


def test_no_job_left_after_close(daemon):
    c = skillbox.Client(daemon.socket)
    job = c.start(["sleep", "60"])
    c.close()
    with skillbox.Client(daemon.socket) as other:
        deadline = time.monotonic() + 10
        while other.inspect(job.id).state == "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert other.inspect(job.id).state == "killed"


def test_wait_by_id_timeout_leaves_the_client_usable(client):
    job = client.start(["sleep", "30"])
    with pytest.raises(TimeoutError):
        client.wait(job.id, timeout=0.05)
    # The late answer to the abandoned wait does not stand in for these.
    assert client.kill(job.id).state == "killed"
    assert client.inspect(job.id).state == "killed"
    assert job.wait(timeout=10).state == "killed"
    assert client._responses == {}


def test_tty_job_has_a_terminal_and_follows_resize(client):
    if client.hello()["host"].get("backend") == "posix":
        pytest.skip("the posix backend has no terminals")
    r = client.run(["stty", "size"], tty=True, size=(30, 90))
    assert r.ok and r.stdout == b"30 90\r\n", r
    code = ("import os, signal, time\n"
            "seen = []\n"
            "signal.signal(signal.SIGWINCH, lambda *_: seen.append(os.write(\n"
            "    1, b'size %d %d' % tuple(os.get_terminal_size(0)))))\n"
            "os.write(1, b'ready')\n"
            "while not seen:\n"
            "    time.sleep(0.05)\n")
    job = client.start(["python3", "-c", code], tty=True)
    for stream, data in job:
        assert stream == "stdout"
        if b"ready" in data:
            break
    job.resize(40, 100)
    r = job.wait(timeout=30)
    assert r.ok and b"size 100 40" in r.stdout, r
    with pytest.raises(ValueError):
        client.start(["true"], size=(10, 10))
    with pytest.raises(ValueError):
        job.resize(0, 10)


SERVE = r"""
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"job " + self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 8000), H)
print("listening", flush=True)
srv.serve_forever()
"""


# A published port: Job.connect gives a socket to the job's own loopback
# server (a Client of its own for it: the job's output is queued on the
# one that started it).
def test_connect_to_a_published_port(client, daemon):
    if client.hello()["host"].get("backend") != "linux":
        pytest.skip("publishing needs the linux backend (a network namespace)")
    job = client.start(["python3", "-c", SERVE], publish=[8000])
    for _, data in job:
        assert data == b"listening\n"
        break
    with skillbox.Client(daemon.socket) as other:
        with other.connect(job.id, 8000) as s:
            s.sendall(b"GET /hi HTTP/1.0\r\n\r\n")
            reply = b""
            while chunk := s.recv(4096):
                reply += chunk
        assert reply.startswith(b"HTTP/1.0 200") and reply.endswith(b"job /hi"), reply
        with pytest.raises(skillbox.PermissionDenied):
            other.connect(job.id, 8001)
    job.kill()


def test_a_detached_jobs_work_comes_back_by_fd(client):
    job = client.start(["sh", "-c", "mkdir /work/d && echo kept > /work/d/f"], detach=True,
                       keep_work=True)
    assert job.wait().ok
    fd = client.work_fd(job.id)
    try:
        assert os.listdir(fd) == ["d"]
        f = os.open("d/f", os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
        try:
            assert os.read(f, 100) == b"kept\n"
        finally:
            os.close(f)
        assert os.fstat(fd).st_uid == os.getuid()
    finally:
        os.close(fd)


def test_refused_syscalls_are_in_denied(client):
    r = client.run(["python3", "-c",
                    "import ctypes; ctypes.CDLL(None).mount(b'n', b'/tmp', b'tmpfs', 0, None)"])
    assert r.ok
    assert [(d["kind"], d["what"], d["count"]) for d in r.denied] == [("syscall", "mount", 1)]


def test_hello_says_tty_and_network_modes(client):
    h = client.hello()
    assert h["tty"] is True, h
    assert h["network_modes"][0] == "none" and h["network_modes"][-1] == "host", h
    assert set(h["network_modes"]) <= {"none", "allowlist", "host"}, h
