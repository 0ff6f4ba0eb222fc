"""skillbox-proxy driven directly: the test plays the daemon.

The proxy is started as root with a SOCK_SEQPACKET control socket on fd 3
and drops to nobody. The test makes the listening socket itself (on the
host's 127.0.0.1, where the daemon would make it inside a job's network
namespace), hands it over with `add`, and talks HTTP to it. Upstream servers
(an HTTP server and a TCP echo server) run on the host's loopback. The proxy
runs in a private mount namespace with its own /etc/hosts, so names under a
wildcard entry can resolve to loopback and private addresses without DNS.
"""

import errno
import http.server
import os
import select
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.request

import pytest

MAGIC = 0x50584253
VERSION = 1
ADD, REMOVE, REPLY, DENIED = 1, 2, 3, 4
HDR = struct.Struct("=IHH16s")
ENTRIES_MAX, ENTRY_SIZE = 64, 264
REPLY_S = struct.Struct("=IHH16si128s")
DENIED_S = struct.Struct("=IHH16sHHI256s")
NOBODY = 65534
# The proxy's nameserver: a test DNS server on a loopback address of its own
# (all of 127/8 is local), so runs side by side never share port 53.
DNS_ADDR = f"127.{os.getpid() % 200 + 20}.{os.getpid() // 200 % 250 + 1}.53"
DNS_NAMES = {"loop.dns.test": "127.0.0.1", "ten.dns.test": "10.9.8.7",
             "gone.dns.test.corp.test": "10.9.8.6"}


def proxy_binary():
    path = os.environ.get("SKILLBOX_PROXY")
    if not path:
        pytest.skip("SKILLBOX_PROXY is not set (run the suite through `meson test --suite integration`)")
    if not os.access(path, os.X_OK):
        pytest.skip(f"SKILLBOX_PROXY={path} is not an executable")
    return path


def cstr(b):
    return b.split(b"\0", 1)[0].decode()


def add_record(job, entries):
    body = b"".join(e.encode().ljust(ENTRY_SIZE, b"\0") for e in entries)
    body = body.ljust(ENTRIES_MAX * ENTRY_SIZE, b"\0")
    return HDR.pack(MAGIC, VERSION, ADD, job.encode()) + struct.pack("=I", len(entries)) + body


def proxy_env():
    """The proxy's environment: a sanitizer build's leak check cannot run
    once the proxy has dropped to an unprivileged uid under seccomp (it
    reads /proc/PID/task at exit), and would turn every exit into status 1."""
    env = dict(os.environ)
    if "ASAN_OPTIONS" in env:
        env["ASAN_OPTIONS"] += ":detect_leaks=0"
    return env


class Proxy:
    def __init__(self, tmp):
        if os.geteuid() != 0:
            pytest.skip("needs root: the proxy drops from root to an unprivileged uid")
        binary = proxy_binary()
        hosts = os.path.join(tmp, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost\n"
                    "127.0.0.1 loop.wild.test\n"
                    "10.1.2.3 ten.wild.test\n")
        resolv = os.path.join(tmp, "resolv.conf")
        with open(resolv, "w") as f:
            f.write(f"nameserver {DNS_ADDR}\nsearch corp.test\noptions timeout:2 attempts:1\n")
        self.ctl, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.stderr = open(os.path.join(tmp, "proxy.err"), "w+")

        def to_fd3():
            os.dup2(child.fileno(), 3)

        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             'mount --bind "$0" /etc/hosts && mount --bind "$1" /etc/resolv.conf && '
             'exec "$2" --uid 65534 --gid 65534',
             hosts, resolv, binary],
            preexec_fn=to_fd3, pass_fds=(3, child.fileno()), stderr=self.stderr,
            env=proxy_env())
        child.close()
        self.pending = []

    def recv(self, want_type, timeout=10):
        for i, m in enumerate(self.pending):
            if m[0] == want_type:
                return self.pending.pop(i)[1]
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            r, _, _ = select.select([self.ctl], [], [], max(left, 0))
            assert r, f"no control message of type {want_type}; stderr: {self.err()}"
            data = self.ctl.recv(65536)
            assert data, f"control socket closed; stderr: {self.err()}"
            magic, version, mtype, _ = HDR.unpack_from(data)
            assert (magic, version) == (MAGIC, VERSION)
            if mtype == REPLY:
                _, _, _, job, error, msg = REPLY_S.unpack(data)
                item = {"job": cstr(job), "error": error, "message": cstr(msg)}
            else:
                _, _, _, job, port, _, count, host = DENIED_S.unpack(data)
                item = {"job": cstr(job), "host": cstr(host), "port": port, "count": count}
            if mtype == want_type:
                return item
            self.pending.append((mtype, item))

    def add(self, job, entries):
        """Adds a job with a fresh listener; returns its port."""
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(16)
        socket.send_fds(self.ctl, [add_record(job, entries)], [lsock.fileno()])
        port = lsock.getsockname()[1]
        lsock.close()
        reply = self.recv(REPLY)
        assert reply == {"job": job, "error": 0, "message": ""}, reply
        return port

    def err(self):
        self.stderr.seek(0)
        return self.stderr.read()

    def close(self):
        self.ctl.close()
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the proxy did not exit when its control socket closed")
        assert rc == 0, f"proxy exited {rc}: {self.err()}"


def _dns_answer(query):
    """An answer to one DNS query: A records from DNS_NAMES, NXDOMAIN otherwise."""
    i, labels = 12, []
    while query[i]:
        labels.append(query[i + 1:i + 1 + query[i]].decode().lower())
        i += 1 + query[i]
    qtype = struct.unpack(">H", query[i + 1:i + 3])[0]
    question = query[12:i + 5]
    addr = DNS_NAMES.get(".".join(labels))
    answers = b""
    if addr and qtype == 1:
        answers = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
    flags = 0x8180 | (0 if addr else 3)
    return (query[:2] + struct.pack(">HHHHH", flags, 1, 1 if answers else 0, 0, 0) +
            question + answers)


@pytest.fixture(scope="module")
def dns_server():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((DNS_ADDR, 53))
    except OSError as e:
        pytest.skip(f"cannot serve DNS on {DNS_ADDR}:53: {e}")
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            r, _, _ = select.select([sock], [], [], 0.2)
            if r:
                query, peer = sock.recvfrom(512)
                try:
                    sock.sendto(_dns_answer(query), peer)
                except (IndexError, struct.error):
                    pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield
    stop.set()
    t.join()
    sock.close()


@pytest.fixture
def proxy():
    with tempfile.TemporaryDirectory() as tmp:
        p = Proxy(tmp)
        yield p
        p.close()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = "\n".join([
            "path=" + self.path,
            "host=" + str(self.headers.get("Host")),
            "proxy-connection=" + str(self.headers.get("Proxy-Connection")),
            "x-drop=" + str(self.headers.get("X-Drop")),
            "x-keep=" + str(self.headers.get("X-Keep")),
        ]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def echo_server():
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    stop = threading.Event()

    def serve(conn):
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                conn.sendall(data)

    def loop():
        while not stop.is_set():
            r, _, _ = select.select([lsock], [], [], 0.2)
            if r:
                conn, _ = lsock.accept()
                threading.Thread(target=serve, args=(conn,), daemon=True).start()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    yield lsock.getsockname()[1]
    stop.set()
    t.join()
    lsock.close()


def request(port, data, timeout=10):
    """Sends data to the proxy and returns everything it answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def connect_tunnel(port, target, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            break
        head += chunk
    return s, head


def test_connect_to_an_exactly_listed_host_tunnels(proxy, echo_server):
    port = proxy.add("job1", [f"localhost:{echo_server}"])
    s, head = connect_tunnel(port, f"localhost:{echo_server}")
    with s:
        assert head.startswith(b"HTTP/1.1 200 "), head
        s.sendall(b"hello through the tunnel")
        got = b""
        while len(got) < 24:
            got += s.recv(64)
        assert got == b"hello through the tunnel"


def test_unlisted_host_gets_403_and_a_denied_report(proxy):
    port = proxy.add("job1", ["packages.example.org:443"])
    for n in (1, 2):
        out = request(port, b"CONNECT other.example.org:443 HTTP/1.1\r\n\r\n")
        assert out.startswith(b"HTTP/1.1 403 Forbidden\r\n"), out
        assert b"not in this job's allowlist" in out
        assert proxy.recv(DENIED) == {"job": "job1", "host": "other.example.org", "port": 443,
                                      "count": n}


def test_denied_reports_are_bounded_per_job(proxy):
    """16 distinct host:port pairs are counted by name; the rest together."""
    port = proxy.add("job1", ["packages.example.org"])
    for i in range(18):
        out = request(port, f"CONNECT h{i}.example.org:443 HTTP/1.1\r\n\r\n".encode())
        assert out.startswith(b"HTTP/1.1 403 "), out
    reports = [proxy.recv(DENIED) for _ in range(18)]
    assert [r["host"] for r in reports[:16]] == [f"h{i}.example.org" for i in range(16)]
    assert [(r["host"], r["port"], r["count"]) for r in reports[16:]] == [("*", 0, 1), ("*", 0, 2)]


def test_wildcard_entry_does_not_reach_loopback_or_private_addresses(proxy, echo_server):
    port = proxy.add("job1", ["*.wild.test", f"*.wild.test:{echo_server}"])
    for host, kind in (("loop.wild.test", "loopback"), ("ten.wild.test", "private")):
        out = request(port, f"CONNECT {host}:{echo_server} HTTP/1.1\r\n\r\n".encode())
        assert out.startswith(b"HTTP/1.1 403 Forbidden\r\n"), out
        assert f"resolves to a {kind} address".encode() in out, out
        assert proxy.recv(DENIED)["host"] == host


def test_names_resolved_over_dns_are_classified_too(proxy, dns_server, echo_server):
    """The resolver's UDP path works under the proxy's seccomp filter, and
    its answers are judged like /etc/hosts ones."""
    port = proxy.add("job1", ["*.dns.test", f"loop.dns.test:{echo_server}"])
    out = request(port, b"CONNECT ten.dns.test:443 HTTP/1.1\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 403 "), out
    assert b"ten.dns.test resolves to a private address" in out, out
    out = request(port, b"CONNECT nxdomain.dns.test:443 HTTP/1.1\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 502 "), out
    s, head = connect_tunnel(port, f"loop.dns.test:{echo_server}")
    s.close()
    assert head.startswith(b"HTTP/1.1 200 "), head


def test_the_hosts_search_domains_are_not_appended(proxy, dns_server):
    """gone.dns.test does not exist; the proxy must not go on to the host's
    search domain (gone.dns.test.corp.test), a name no entry allows."""
    port = proxy.add("job1", ["*.dns.test"])
    out = request(port, b"CONNECT gone.dns.test:443 HTTP/1.1\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 502 "), out
    assert b"cannot resolve" in out, out


def test_exact_entry_reaches_a_name_that_resolves_to_loopback(proxy, echo_server):
    port = proxy.add("job1", [f"loop.wild.test:{echo_server}"])
    s, head = connect_tunnel(port, f"loop.wild.test:{echo_server}")
    with s:
        assert head.startswith(b"HTTP/1.1 200 "), head


def test_wildcard_does_not_cover_the_apex(proxy):
    port = proxy.add("job1", ["*.example.org"])
    out = request(port, b"CONNECT example.org:443 HTTP/1.1\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 403 "), out


def test_absolute_form_get_is_forwarded_in_origin_form(proxy, http_server):
    port = proxy.add("job1", [f"localhost:{http_server}"])
    out = request(port, (f"GET http://localhost:{http_server}/some/path?q=1 HTTP/1.1\r\n"
                         "Host: wrong.example\r\nProxy-Connection: keep-alive\r\n"
                         "Connection: X-Drop\r\nX-Drop: 1\r\nX-Keep: yes\r\n\r\n").encode())
    assert out.startswith(b"HTTP/1.0 200 ") or out.startswith(b"HTTP/1.1 200 "), out
    body = out.split(b"\r\n\r\n", 1)[1].decode()
    assert "path=/some/path?q=1" in body
    assert f"host=localhost:{http_server}" in body
    assert "proxy-connection=None" in body
    assert "x-drop=None" in body
    assert "x-keep=yes" in body


def test_request_body_is_forwarded_with_its_head(proxy, http_server):
    port = proxy.add("job1", [f"localhost:{http_server}"])
    body = b"x" * 50000
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        # Part of the body in the same segment as the head, the rest later.
        s.sendall((f"POST http://localhost:{http_server}/upload HTTP/1.1\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body[:1000])
        s.sendall(body[1000:])
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    assert out.split(b"\r\n", 1)[0].endswith(b" 200 OK"), out[:100]
    assert out.split(b"\r\n\r\n", 1)[1] == body


def test_bytes_sent_with_the_connect_line_reach_the_host(proxy, echo_server):
    port = proxy.add("job1", [f"localhost:{echo_server}"])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"CONNECT localhost:{echo_server} HTTP/1.1\r\n\r\nearly bytes".encode())
        want = b"HTTP/1.1 200 Connection established\r\n\r\nearly bytes"
        got = b""
        while len(got) < len(want):
            chunk = s.recv(100)
            assert chunk, got
            got += chunk
        assert got == want


def test_curl_through_the_proxy(proxy, http_server):
    if not os.access("/usr/bin/curl", os.X_OK):
        pytest.skip("no /usr/bin/curl")
    port = proxy.add("job1", [f"localhost:{http_server}"])
    env = {"PATH": "/usr/bin:/bin", "NO_PROXY": "", "no_proxy": ""}
    for args, path in ((["-x"], "/forwarded"), (["-p", "-x"], "/tunneled")):
        out = subprocess.run(["/usr/bin/curl", "-sS", "--max-time", "20"] + args +
                             [f"http://127.0.0.1:{port}", f"http://localhost:{http_server}{path}"],
                             env=env, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert f"path={path}" in out.stdout
    out = subprocess.run(["/usr/bin/curl", "-sS", "--max-time", "20", "-p", "-x",
                          f"http://127.0.0.1:{port}", "https://not-listed.example/"],
                         env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode != 0 and "403" in out.stderr, out.stderr


def _tiny_wheel(path):
    """A minimal pure-python wheel: one module and its dist-info."""
    import zipfile
    files = {
        "tinypkg.py": "VALUE = 42\n",
        "tinypkg-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: tinypkg\nVersion: 0.1\n",
        "tinypkg-0.1.dist-info/WHEEL": ("Wheel-Version: 1.0\nGenerator: test\n"
                                        "Root-Is-Purelib: true\nTag: py3-none-any\n"),
    }
    record = "".join(f"{name},,\n" for name in files) + "tinypkg-0.1.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
        z.writestr("tinypkg-0.1.dist-info/RECORD", record)


def test_pip_downloads_from_an_index_through_the_proxy(proxy, tmp_path):
    index = tmp_path / "index"
    (index / "simple" / "tinypkg").mkdir(parents=True)
    _tiny_wheel(index / "tinypkg-0.1-py3-none-any.whl")
    (index / "simple" / "tinypkg" / "index.html").write_text(
        '<a href="/tinypkg-0.1-py3-none-any.whl">tinypkg-0.1-py3-none-any.whl</a>\n')
    handler = lambda *a, **kw: http.server.SimpleHTTPRequestHandler(*a, directory=str(index), **kw)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        http_port = srv.server_address[1]
        port = proxy.add("job1", [f"localhost:{http_port}"])
        out = subprocess.run(
            ["/usr/bin/python3", "-m", "pip", "download", "--no-deps", "--no-cache-dir",
             "--disable-pip-version-check", "--proxy", f"http://127.0.0.1:{port}",
             "--index-url", f"http://localhost:{http_port}/simple/",
             "--trusted-host", f"localhost:{http_port}", "-d", str(tmp_path / "dl"), "tinypkg"],
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NO_PROXY": "", "no_proxy": ""},
            capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        assert (tmp_path / "dl" / "tinypkg-0.1-py3-none-any.whl").exists()
    finally:
        srv.shutdown()
        srv.server_close()


def test_urllib_with_http_proxy_works(proxy, http_server):
    port = proxy.add("job1", [f"localhost:{http_server}"])
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": f"http://127.0.0.1:{port}"}))
    with opener.open(f"http://localhost:{http_server}/via-urllib", timeout=10) as r:
        assert r.status == 200
        assert b"path=/via-urllib" in r.read()


def test_malformed_request_gets_400(proxy):
    port = proxy.add("job1", ["localhost:1"])
    for bad in (b"NOT A REQUEST\r\n\r\n", b"GET /origin-form HTTP/1.1\r\n\r\n",
                b"CONNECT localhost HTTP/1.1\r\n\r\n", b"GET http://a\x01b/ HTTP/1.1\r\n\r\n"):
        out = request(port, bad)
        assert out.startswith(b"HTTP/1.1 400 "), (bad, out)


def test_one_jobs_connections_never_use_another_jobs_allowlist(proxy, echo_server):
    allowed = proxy.add("jobA", [f"localhost:{echo_server}"])
    other = proxy.add("jobB", ["example.org"])
    out = request(other, f"CONNECT localhost:{echo_server} HTTP/1.1\r\n\r\n".encode())
    assert out.startswith(b"HTTP/1.1 403 "), out
    assert proxy.recv(DENIED)["job"] == "jobB"
    s, head = connect_tunnel(allowed, f"localhost:{echo_server}")
    s.close()
    assert head.startswith(b"HTTP/1.1 200 "), head


def test_remove_closes_the_jobs_listener_and_tunnels(proxy, echo_server):
    port = proxy.add("job1", [f"localhost:{echo_server}"])
    s, head = connect_tunnel(port, f"localhost:{echo_server}")
    assert head.startswith(b"HTTP/1.1 200 ")
    proxy.ctl.send(HDR.pack(MAGIC, VERSION, REMOVE, b"job1"))
    assert proxy.recv(REPLY)["error"] == 0
    s.settimeout(10)
    assert s.recv(10) == b""   # the tunnel is closed
    s.close()
    with pytest.raises(OSError):
        request(port, b"CONNECT localhost:1 HTTP/1.1\r\n\r\n", timeout=3)
    proxy.ctl.send(HDR.pack(MAGIC, VERSION, REMOVE, b"job1"))
    assert proxy.recv(REPLY)["error"] == -errno.ENOENT


def test_control_records_are_checked(proxy):
    proxy.ctl.send(HDR.pack(MAGIC + 1, VERSION, REMOVE, b"job1"))
    assert proxy.recv(REPLY)["error"] == -errno.EBADMSG
    proxy.ctl.send(HDR.pack(MAGIC, VERSION + 1, REMOVE, b"job1"))
    assert proxy.recv(REPLY)["error"] == -errno.EPROTO
    proxy.ctl.send(add_record("job1", ["example.org"]))     # no fd
    assert proxy.recv(REPLY)["error"] == -errno.EBADF
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)   # not listening
    socket.send_fds(proxy.ctl, [add_record("job1", ["example.org"])], [lsock.fileno()])
    lsock.close()
    assert proxy.recv(REPLY)["error"] == -errno.ENOTSOCK
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen()
    socket.send_fds(proxy.ctl, [add_record("job1", ["bad host!"])], [lsock.fileno()])
    lsock.close()
    assert proxy.recv(REPLY)["error"] == -errno.EINVAL


def test_proxy_runs_unprivileged_and_filtered(proxy):
    proxy.add("job1", ["example.org"])   # the proxy is up and past its start
    status = {}
    with open(f"/proc/{proxy.proc.pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            status[k] = v.split()
    assert status["Uid"] == [str(NOBODY)] * 4
    assert status["Gid"] == [str(NOBODY)] * 4
    assert status["Groups"] == []
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[cap][0], 16) == 0, (cap, status[cap])
    assert status["NoNewPrivs"] == ["1"]
    assert status["Seccomp"] == ["2"]


def test_proxy_exits_when_the_daemon_goes(proxy):
    proxy.add("job1", ["example.org"])
    # close() in the fixture asserts a clean exit 0 once the socket closes.


def test_connections_per_job_are_bounded_and_other_jobs_still_served(proxy, echo_server):
    busy = proxy.add("jobA", [f"localhost:{echo_server}"])
    calm = proxy.add("jobB", [f"localhost:{echo_server}"])
    held = [socket.create_connection(("127.0.0.1", busy), timeout=10) for _ in range(64)]
    try:
        # The 65th is taken off the queue and closed at once, unanswered.
        with socket.create_connection(("127.0.0.1", busy), timeout=10) as s:
            s.sendall(f"CONNECT localhost:{echo_server} HTTP/1.1\r\n\r\n".encode())
            try:
                assert s.recv(100) == b""
            except ConnectionResetError:
                pass
        s, head = connect_tunnel(calm, f"localhost:{echo_server}")
        s.close()
        assert head.startswith(b"HTTP/1.1 200 "), head
    finally:
        for s in held:
            s.close()
    # Once they are gone, the job is served again.
    deadline = time.monotonic() + 10
    while True:
        try:
            s, head = connect_tunnel(busy, f"localhost:{echo_server}")
            s.close()
        except ConnectionResetError:   # refused while the proxy still counts them
            head = b""
        if head.startswith(b"HTTP/1.1 200 ") or time.monotonic() > deadline:
            break
    assert head.startswith(b"HTTP/1.1 200 "), head


def test_request_head_is_bounded(proxy):
    port = proxy.add("job1", ["example.org"])
    out = request(port, b"GET http://example.org/ HTTP/1.1\r\nX: " + b"a" * 20000)
    assert out.startswith(b"HTTP/1.1 431 "), out[:100]
