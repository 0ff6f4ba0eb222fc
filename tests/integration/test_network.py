"""Network modes (none, allowlist, host): what a profile allows, what a
request may ask for (only narrower: host > allowlist > none, and its
allowlist within the profile's), and how the configuration reads them."""

import os

import pytest

from conftest import Daemon, finish_daemon, parse_json_output, require_root
from test_config import skillboxd, write
# users: the test accounts (a module fixture); as_user runs calls as one.
from test_access import ALICE, BOB, DAVE, n, as_user, code, ok, users  # noqa: F401

CONFIG = """\
[Profile pkg]
Network=allowlist
AllowedHosts=localhost:8123 *.example.org
[Profile legacy]
PrivateNetwork=no
[Profile hoststrict]
Network=host
Require=namespaces seccomp network
"""




@pytest.fixture
def net_daemon(request, workdir):
    require_root()
    path = write(os.path.join(workdir, "skillboxd.conf"), CONFIG)
    d = Daemon(workdir, extra_args=["--config", path]).start()
    yield d
    finish_daemon(d, request)


def test_config_reads_and_prints_network_keys(workdir):
    path = write(os.path.join(workdir, "n.conf"), CONFIG)
    cp = skillboxd("--config", path, "--print-config")
    assert cp.returncode == 0, cp.stderr
    pkg = cp.stdout.split("[Profile pkg]")[1].split("[Profile")[0]
    assert "\nNetwork=allowlist\n" in pkg
    assert "\nAllowedHosts=localhost:8123 *.example.org\n" in pkg
    # PrivateNetwork= stays an alias: no = the host's network.
    legacy = cp.stdout.split("[Profile legacy]")[1]
    assert "\nNetwork=host\n" in legacy
    # The default stays none, with no entries.
    default = cp.stdout.split("[Profile default]")[1].split("[Profile")[0]
    assert "\nNetwork=none\n" in default
    assert "\nAllowedHosts=\n" in default


def test_check_config_refuses_bad_entries(workdir):
    path = write(os.path.join(workdir, "bad.conf"),
                 "[Profile x]\nNetwork=open\nAllowedHosts=ok.org http://a.org\n"
                 "[Profile y]\nAllowedHosts=[::1\n")
    cp = skillboxd("--config", path, "--check-config")
    assert cp.returncode != 0
    assert 'Network: not none, allowlist or host "open"' in cp.stderr
    assert '"http://a.org"' in cp.stderr
    assert '"[::1"' in cp.stderr


def test_request_cannot_widen_the_network(net_daemon):
    d = net_daemon
    with d.rpc() as c:
        # host from the default (none) profile, and from an allowlist one.
        err, _ = c.call("exec", {"argv": ["true"], "network": "host"})
        assert err["code"] == "PermissionDenied", err
        assert "network host exceeds the profile's none" in err["message"]
        err, _ = c.call("exec", {"argv": ["true"], "network": "allowlist"})
        assert err["code"] == "PermissionDenied", err
        err, _ = c.call("exec", {"argv": ["true"], "profile": "pkg", "network": "host"})
        assert err["code"] == "PermissionDenied", err
        # Entries imply allowlist: from a none profile that is wider too.
        err, _ = c.call("exec", {"argv": ["true"], "allow_hosts": ["a.example.org"]})
        assert err["code"] == "PermissionDenied", err
        # An entry the profile does not cover.
        for entry in ("pypi.org", "localhost:8124", "localhost", "example.org"):
            err, _ = c.call("exec", {"argv": ["true"], "profile": "pkg",
                                     "allow_hosts": [entry]})
            assert err["code"] == "PermissionDenied", (entry, err)
            assert f"allow_hosts {entry} is not within" in err["message"]
        # Malformed: a mode that does not exist, entries with another mode,
        # an entry that is no entry.
        err, _ = c.call("exec", {"argv": ["true"], "network": "open"})
        assert err["code"] == "InvalidArgument", err
        err, _ = c.call("exec", {"argv": ["true"], "network": "none",
                                 "allow_hosts": ["a.example.org"]})
        assert err["code"] == "InvalidArgument", err
        err, _ = c.call("exec", {"argv": ["true"], "profile": "pkg",
                                 "allow_hosts": ["a b"]})
        assert err["code"] == "InvalidArgument", err
        err, _ = c.call("exec", {"argv": ["true"], "profile": "pkg",
                                 "allow_hosts": ["x.org"] * 65})
        assert err["code"] == "InvalidArgument", err


def test_cli_network_flags(net_daemon):
    d = net_daemon
    cp = d.ctl("run", "--network", "host", "--", "true")
    assert cp.returncode == 125
    assert b"network host exceeds the profile's none" in cp.stderr
    cp = d.ctl("run", "--profile", "pkg", "--allow-host", "a.example.org",
               "--allow-host", "pypi.org", "--", "true")
    assert cp.returncode == 125
    assert b"allow_hosts pypi.org is not within" in cp.stderr
    cp = d.ctl("run", "--network", "wide", "--", "true")
    assert cp.returncode != 0
    assert b"--network: 'wide' is not none, allowlist or host" in cp.stderr
    # Narrowing is accepted: the default's none asked for explicitly runs.
    cp = d.ctl("run", "--network", "none", "--", "true")
    assert cp.returncode == 0, cp.stderr
    # profiles shows each mode.
    cp = d.ctl("profiles", "--json")
    assert cp.returncode == 0, cp.stderr
    assert b'"name": "pkg"' in cp.stdout and b'"network": "allowlist"' in cp.stdout


LOOPBACK_HTTP = r"""
import http.server, socket, threading, urllib.request

class V6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from " + self.server.server_address[0].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

for cls, host, url in ((http.server.ThreadingHTTPServer, "127.0.0.1", "http://127.0.0.1:%d/"),
                       (V6, "::1", "http://[::1]:%d/")):
    srv = cls((host, 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    print(urllib.request.urlopen(url % srv.server_address[1], timeout=30).read().decode())
    srv.shutdown()
"""


# The job's own loopback (network none): a server and a client on
# 127.0.0.1 and ::1 inside one job (seccomp allows inet stream and datagram
# sockets; Landlock leaves TCP to the network namespace).
def test_loopback_http_server_and_client_in_one_job(net_daemon):
    cp = net_daemon.ctl("run", "--timeout", "60s", "--", "python3", "-c", LOOPBACK_HTTP,
                        timeout=120)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.decode().split("\n")[:2] == ["hello from 127.0.0.1", "hello from ::1"]


NON_LOCAL = r"""
import errno, socket
try:
    socket.create_connection(("192.0.2.1", 80), timeout=60)
    print("connect ok")
except OSError as e:
    print("connect", errno.errorcode.get(e.errno, e.errno))
try:
    socket.getaddrinfo("pypi.org", 443)
    print("dns ok")
except socket.gaierror as e:
    print("dns failed")
"""


# Nothing but loopback in a none job: a connection elsewhere fails at once
# with ENETUNREACH (no route in the job's namespace, no packet leaves it),
# and a name lookup fails instead of hanging. The subprocess timeout is
# generous: the point is that it ends, not how fast.
def test_non_local_fails_at_once(net_daemon):
    cp = net_daemon.ctl("run", "--timeout", "60s", "--", "python3", "-c", NON_LOCAL,
                        timeout=600)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.decode().splitlines() == ["connect ENETUNREACH", "dns failed"]


# ---- network host ----

HOST_FAMILIES = r"""
import os, socket
print(os.readlink("/proc/self/ns/net"))
for name, fam, typ in (("AF_VSOCK", socket.AF_VSOCK, socket.SOCK_STREAM),
                       ("AF_PACKET", socket.AF_PACKET, socket.SOCK_RAW),
                       ("AF_NETLINK", socket.AF_NETLINK, socket.SOCK_RAW),
                       ("raw inet", socket.AF_INET, socket.SOCK_RAW)):
    try:
        socket.socket(fam, typ).close()
        print(name, "created")
    except PermissionError:
        print(name, "refused")
# The host's loopback, straight (no proxy, no environment for one).
s = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])), timeout=30)
print("host loopback", s.recv(100).decode())
"""


# host: the job is in the host's network namespace (an admin's job, from a
# profile that grants it), reaches the host's loopback directly, and still
# cannot create sockets of other families (netlink included: glibc's
# getaddrinfo assumes both address families without it).
def test_host_network_job(net_daemon):
    import socket
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def answer():
        c, _ = srv.accept()
        c.sendall(b"hello")
        c.close()
    import threading
    t = threading.Thread(target=answer, daemon=True)
    t.start()
    cp = net_daemon.ctl("run", "--json", "--profile", "legacy", "--env", f"PORT={port}", "--",
                        "python3", "-c", HOST_FAMILIES, timeout=120)
    srv.close()
    r = parse_json_output(cp)
    assert r["state"] == "exited" and r["exit_code"] == 0, r
    lines = r["stdout"].splitlines()
    assert lines[0] == os.readlink("/proc/self/ns/net"), lines
    assert lines[1:5] == ["AF_VSOCK refused", "AF_PACKET refused", "AF_NETLINK refused",
                          "raw inet refused"], lines
    assert lines[5] == "host loopback hello", lines
    assert r["enforced"]["network"] == "host", r["enforced"]
    assert "net" not in r["enforced"]["namespaces"], r["enforced"]
    assert "PROXY" not in r["stdout"]
    # Narrowed to none from the same profile: a namespace of its own again.
    cp = net_daemon.ctl("run", "--json", "--profile", "legacy", "--network", "none", "--",
                        "readlink", "/proc/self/ns/net")
    r = parse_json_output(cp)
    assert r["exit_code"] == 0 and r["enforced"]["network"] == "none", r
    assert r["stdout"].strip() != os.readlink("/proc/self/ns/net"), r
    assert "net" in r["enforced"]["namespaces"], r["enforced"]


# host is for admins: a client gets it only from a profile whose
# AllowedUsers= names it, never from one open to every client.
def test_host_network_is_for_admins(request, workdir):
    request.getfixturevalue("users")
    os.chmod(workdir, 0o755)
    path = write(os.path.join(workdir, "acl.conf"), f"""
[Daemon]
SocketGroup={n("sock")}
SocketMode=0660
[Access]
Admins=root {DAVE}
Clients=@{n("cli")}
[Profile default]
[Profile hostopen]
Network=host
[Profile hostbob]
Network=host
AllowedUsers={BOB}
""")
    d = Daemon(workdir, extra_args=["--config", path]).start()
    request.addfinalizer(lambda: finish_daemon(d, request))
    true = {"argv": ["true"]}
    (denied,) = as_user(d, ALICE, [("exec", dict(true, profile="hostopen"))])
    assert code(denied) == "PermissionDenied", denied
    assert "only admins may use it" in denied[0]["message"], denied
    # Narrowed to none, the same profile is open to every client.
    (allowed,) = as_user(d, ALICE, [("exec", dict(true, profile="hostopen", network="none"))])
    assert ok(allowed)["job"]
    (allowed,) = as_user(d, BOB, [("exec", dict(true, profile="hostbob"))])
    assert ok(allowed)["job"]
    (allowed,) = as_user(d, DAVE, [("exec", dict(true, profile="hostopen"))])
    assert ok(allowed)["job"]


# Require=namespaces asks a profile that grants the host's network for
# every namespace but the network one: such a job runs, and so does the
# same profile narrowed to none (with all of them).
def test_host_network_with_required_namespaces(net_daemon):
    for extra, net in (((), "host"), (("--network", "none"), "none")):
        cp = net_daemon.ctl("run", "--json", "--profile", "hoststrict", *extra, "--", "true")
        r = parse_json_output(cp)
        assert r.get("state") == "exited" and r["exit_code"] == 0, r
        assert r["enforced"]["network"] == net, r["enforced"]
