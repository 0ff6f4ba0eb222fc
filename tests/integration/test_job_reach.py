"""What a job can reach beyond its own processes: the kernel's per-uid
keyrings (never granted), its init and the spawner's memory figures (hidden),
and its init's limits and priority (out of the job's reach)."""

import os
import subprocess

import pytest

from conftest import Daemon, finish_daemon, parse_json_output, require_root, skillboxd_path

KEYRING_CONF = "[Daemon]\n[Profile default]\n[Profile keys]\nSystemCallFilter=@keyring\n"
DEBUG_CONF = "[Daemon]\n[Profile default]\n[Profile dbg]\nSystemCallFilter=@debug\n"


@pytest.fixture
def conf_daemon_debug(request, workdir):
    """A daemon whose profile "dbg" adds @debug (ptrace) to the filter: the
    widest a profile can make it."""
    require_root()
    path = os.path.join(workdir, "dbg.conf")
    with open(path, "w") as f:
        f.write(DEBUG_CONF)
    d = Daemon(workdir, extra_args=["--config", path]).start()
    yield d
    finish_daemon(d, request)


def test_keyring_group_is_refused_with_its_reason(workdir):
    # The kernel keeps the user keyring of a uid for as long as the host
    # runs: a key one job adds would be read by the next job given the same
    # uid. So no profile may grant the keyring calls.
    path = os.path.join(workdir, "k.conf")
    with open(path, "w") as f:
        f.write(KEYRING_CONF)
    cp = subprocess.run([skillboxd_path(), "--config", path, "--check-config"],
                        capture_output=True, timeout=30)
    err = cp.stderr.decode()
    assert cp.returncode != 0, f"@keyring accepted:\n{err}"
    assert "k.conf:4: SystemCallFilter: @keyring is not offered" in err, err
    assert "per uid" in err, err


def test_keyring_calls_refused_even_with_debug(conf_daemon_debug):
    d = conf_daemon_debug
    script = (
        'import ctypes, platform\n'
        'nr = {"x86_64": (248, 250), "aarch64": (217, 219)}[platform.machine()]\n'
        'libc = ctypes.CDLL(None, use_errno=True)\n'
        'r = libc.syscall(nr[0], b"user", b"sb", b"x", 1, -4)\n'
        'print("add_key", r, ctypes.get_errno())\n'
        'r = libc.syscall(nr[1], 0, -4, 0)\n'
        'print("keyctl", r, ctypes.get_errno())\n')
    cp = d.ctl("run", "--json", "--profile", "dbg", "--", "python3", "-c", script)
    r = parse_json_output(cp)
    assert r["state"] == "exited", r
    assert r["stdout"] == "add_key -1 1\nkeyctl -1 1\n", r
