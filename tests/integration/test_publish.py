"""Publishing a port: exec `publish: [port]`, then job_connect {job, port}
answers with a stream socket (SCM_RIGHTS) connected to the job's own
127.0.0.1:port, so a host-side client reaches a server running in the job
while the job itself still has no route out."""

import os
import socket

import msgpack
import pytest

from conftest import Daemon, deadline_poll, finish_daemon, require_root
from test_config import write

SERVE = r"""
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"served from the job at " + self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", 8000), H).serve_forever()
"""


@pytest.fixture
def pub_daemon(request, workdir):
    require_root()
    path = write(os.path.join(workdir, "pub.conf"), "[Profile hostnet]\nNetwork=host\n")
    d = Daemon(workdir, extra_args=["--config", path]).start()
    yield d
    finish_daemon(d, request)


def job_connect(path, job, port):
    """(error, result, fds) of one job_connect on a connection of its own."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    try:
        s.sendall(msgpack.packb([0, 1, "job_connect", [{"job": job, "port": port}]]))
        unpacker = msgpack.Unpacker(raw=False)
        fds = []
        while True:
            data, got, _, _ = socket.recv_fds(s, 65536, 4)
            fds += got
            assert data, "the daemon closed the connection"
            unpacker.feed(data)
            for msg in unpacker:
                assert msg[0] == 1 and msg[1] == 1, msg
                return msg[2], msg[3], fds
    finally:
        s.close()


def http_get(fd, path):
    with socket.socket(fileno=fd) as c:
        c.settimeout(30)
        c.sendall(f"GET {path} HTTP/1.0\r\nHost: job\r\n\r\n".encode())
        out = b""
        while True:
            b = c.recv(65536)
            if not b:
                return out
            out += b


def test_published_port_answers_the_host(pub_daemon):
    d = pub_daemon
    with d.rpc() as c:
        err, res = c.call("exec", {"argv": ["python3", "-c", SERVE], "detach": True,
                                   "publish": [8000, 9000]})
        assert err is None, err
        job = res["job"]

        def connected():
            err, res, fds = job_connect(d.socket, job, 8000)
            if err is not None:
                # Until the server listens, the job's loopback refuses.
                assert err["code"] == "Unavailable" and "ECONNREFUSED" in err["message"], err
                return None
            assert res == {"fd": 0} and len(fds) == 1, (res, fds)
            return fds[0]
        fd = deadline_poll(connected, 60.0, interval=0.1)
        assert fd, f"the job's server never answered:\n{d.log()}"
        reply = http_get(fd, "/hello")
        assert reply.startswith(b"HTTP/1.0 200"), reply
        assert reply.endswith(b"served from the job at /hello"), reply
        # Once more: every call is a fresh connection.
        err, res, fds = job_connect(d.socket, job, 8000)
        assert err is None and len(fds) == 1, err
        assert http_get(fds[0], "/again").endswith(b"at /again")

        # Only published ports; nothing listens on 9000 (published).
        err, _, fds = job_connect(d.socket, job, 8001)
        assert err["code"] == "PermissionDenied" and not fds, err
        assert "port 8001 is not published" in err["message"], err
        err, _, fds = job_connect(d.socket, job, 9000)
        assert err["code"] == "Unavailable" and "ECONNREFUSED" in err["message"], err
        err, _, _ = job_connect(d.socket, "nosuchjob", 8000)
        assert err["code"] == "NotFound", err

        err, res = c.call("kill", {"job": job})
        assert err is None, err
        err, _, fds = job_connect(d.socket, job, 8000)
        assert err is not None and not fds, err


def test_publish_is_checked(pub_daemon):
    d = pub_daemon
    with d.rpc() as c:
        for bad in ([0], [65536], [80, 80], list(range(1, 10)), ["80"]):
            err, _ = c.call("exec", {"argv": ["true"], "publish": bad})
            assert err and err["code"] == "InvalidArgument", (bad, err)
        # The host's network has no loopback of the job's own to publish.
        err, _ = c.call("exec", {"argv": ["true"], "profile": "hostnet", "publish": [80]})
        assert err and err["code"] == "InvalidArgument", err
        assert "network host" in err["message"], err


SERVE_TWICE = SERVE.replace(
    'http.server.ThreadingHTTPServer(("127.0.0.1", 8000), H).serve_forever()',
    'srv = http.server.HTTPServer(("127.0.0.1", 8000), H)\n'
    'print("listening", flush=True)\n'
    'srv.handle_request()\nsrv.handle_request()\n')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# skillboxctl run --publish HOSTPORT:JOBPORT: the user's own listener on the
# host's loopback; each connection reaches the job's server through a fresh
# job_connect.
def test_cli_publish_forwards_connections(pub_daemon):
    import subprocess
    import urllib.request
    from conftest import skillboxctl_path
    d = pub_daemon
    port = free_port()
    proc = subprocess.Popen([skillboxctl_path(), "--socket", d.socket, "run", "--publish",
                             f"{port}:8000", "--", "python3", "-c", SERVE_TWICE],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"listening\n", proc.stderr.read()
        for path in ("/one", "/two"):
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30).read()
            assert body == f"served from the job at {path}".encode(), body
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # The forwarder ended with the CLI: nothing listens on the port now.
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_cli_publish_refuses_bad_specs(pub_daemon):
    d = pub_daemon
    for bad in ("0:80", "80:", "x", "1:70000"):
        cp = d.ctl("run", "--publish", bad, "--", "true")
        assert cp.returncode != 0 and b"--publish" in cp.stderr, (bad, cp.stderr)
    cp = d.ctl("run", "--detach", "--publish", "8000", "--", "true")
    assert cp.returncode != 0 and b"not with --detach" in cp.stderr, cp.stderr
    # A host port in use fails the run before a job starts.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        cp = d.ctl("run", "--publish", f"{s.getsockname()[1]}:8000", "--", "true")
    assert cp.returncode != 0 and b"listen on 127.0.0.1" in cp.stderr, cp.stderr
    assert b"in use" in cp.stderr, cp.stderr
