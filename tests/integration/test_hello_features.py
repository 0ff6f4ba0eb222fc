"""`hello` says what the host does for the optional features: whether a job
may have a terminal (`tty`), and which network modes a job gets as the mode
says (`network_modes`: allowlist only when the daemon found its egress
proxy; the posix backend, which confines no network, only host).
`skillboxctl doctor` prints the same from the daemon on its socket."""

import json
import os
import shutil

import pytest

from conftest import Daemon, ctl, finish_daemon, require_root, skillboxd_path

ALL_MODES = ["none", "allowlist", "host"]


def hello(d):
    with d.rpc() as c:
        return c.ok("hello", {"client": "test", "protocol": 1})


def installed_proxy():
    """The proxy the suite was given (SKILLBOX_PROXY) when it is an installed
    one, not the build tree's: the daemon also looks at its compiled-in
    path, so every copy of an installed daemon finds it."""
    proxy = os.environ.get("SKILLBOX_PROXY", "")
    built = os.path.dirname(skillboxd_path())
    if proxy and os.access(proxy, os.X_OK) and not proxy.startswith(built + os.sep):
        return proxy
    return None


def test_hello_says_tty_and_network_modes(daemon):
    h = hello(daemon)
    assert h["tty"] is True, h
    beside = os.path.join(os.path.dirname(skillboxd_path()), "proxy", "skillbox-proxy")
    if os.access(beside, os.X_OK) or installed_proxy():
        assert h["network_modes"] == ALL_MODES, h
    else:
        assert h["network_modes"] == ["none", "host"], h


class ProxylessDaemon(Daemon):
    """A copy of skillboxd (and its spawner) where no skillbox-proxy is beside it."""

    def argv(self):
        a = super().argv()
        a[0] = os.path.join(self.workdir, "bin", "skillboxd")
        return a


def test_no_allowlist_without_the_proxy(request, workdir):
    require_root()
    if installed_proxy():
        pytest.skip(f"the installed {installed_proxy()} is found by every copy of the daemon")
    built = os.path.dirname(skillboxd_path())
    bindir = os.path.join(workdir, "bin")
    os.mkdir(bindir)
    os.chmod(workdir, 0o755)
    for name in ("skillboxd", "skillbox-spawner"):
        shutil.copy2(os.path.join(built, name), os.path.join(bindir, name))
    d = ProxylessDaemon(workdir).start()
    try:
        h = hello(d)
        assert h["network_modes"] == ["none", "host"], h
        assert h["tty"] is True, h
    finally:
        finish_daemon(d, request)


def test_posix_backend_has_only_the_hosts_network(posix_daemon):
    h = hello(posix_daemon)
    assert h["network_modes"] == ["host"], h
    assert h["tty"] is True, h


def test_doctor_prints_what_the_daemon_says(daemon):
    h = hello(daemon)
    cp = ctl(daemon.socket, "doctor", "--json")
    report = json.loads(cp.stdout)
    by = {c["name"]: c for c in report["checks"]}
    assert by["daemon"]["status"] == "ok", by["daemon"]
    modes = " ".join(h["network_modes"])
    assert f"tty yes, network modes {modes}" in by["daemon"]["detail"], by["daemon"]
    assert report["daemon"]["tty"] is True
    assert report["daemon"]["network_modes"] == h["network_modes"]
    assert report["daemon"]["backend"] == "linux"
    text = ctl(daemon.socket, "doctor").stdout.decode()
    line = [l for l in text.splitlines() if l.startswith("daemon ")]
    assert len(line) == 1 and f"network modes {modes}" in line[0], text


def test_doctor_without_a_daemon_warns(workdir):
    require_root()
    cp = ctl(os.path.join(workdir, "none.sock"), "doctor", "--json")
    report = json.loads(cp.stdout)
    by = {c["name"]: c for c in report["checks"]}
    assert by["daemon"]["status"] == "warn", by["daemon"]
    assert "--socket" in by["daemon"]["fix"]
    assert report["daemon"] is None
