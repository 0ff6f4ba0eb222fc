"""`skillboxctl doctor`: one line per host check, JSON, exit status, and the
same checks logged by skillboxd at start."""

import json
import os

from conftest import ctl, require_root

NAMES = ["namespaces", "cgroup", "mount-api", "seccomp", "landlock", "uid-range", "state-dir"]


def doctor(*args):
    return ctl("/nonexistent", "doctor", *args, socket_flag=False)


def test_doctor_reports_every_check(workdir):
    require_root()
    state = os.path.join(workdir, "state")
    os.mkdir(state, 0o700)
    cp = doctor("--json", "--state-dir", state, "--uid-range", "470000-470999")
    report = json.loads(cp.stdout)
    names = [c["name"] for c in report["checks"]]
    assert names == NAMES, names
    for c in report["checks"]:
        assert c["status"] in ("ok", "warn", "fail"), c
        assert c["detail"], c
        assert (c["fix"] is None) == (c["status"] == "ok"), c
    assert report["ok"] == all(c["status"] != "fail" for c in report["checks"])
    assert cp.returncode == (0 if report["ok"] else 1), cp
    # This host runs the linux backend's default profile (the suite needs it).
    by = {c["name"]: c for c in report["checks"]}
    assert by["namespaces"]["status"] == "ok", by["namespaces"]
    assert by["cgroup"]["status"] in ("ok", "warn"), by["cgroup"]
    assert by["state-dir"]["status"] == "ok", by["state-dir"]

    text = doctor("--state-dir", state, "--uid-range", "470000-470999")
    lines = text.stdout.decode().splitlines()
    assert [l.split()[0] for l in lines] == NAMES, lines
    assert text.returncode == cp.returncode


def test_doctor_fails_with_a_fix(workdir):
    require_root()
    bad = os.path.join(workdir, "open")
    os.mkdir(bad)
    os.chmod(bad, 0o777)
    # uid 1.. holds system accounts; a world-writable state dir.
    cp = doctor("--json", "--state-dir", bad, "--uid-range", "1-1000")
    assert cp.returncode == 1, cp
    by = {c["name"]: c for c in json.loads(cp.stdout)["checks"]}
    assert by["uid-range"]["status"] == "fail" and "--uid-range" in by["uid-range"]["fix"]
    assert by["state-dir"]["status"] == "fail" and "chmod 0700" in by["state-dir"]["fix"]
    text = doctor("--state-dir", bad, "--uid-range", "1-1000").stdout.decode()
    assert any(l.startswith("uid-range") and "; fix: " in l for l in text.splitlines()), text


def test_doctor_bad_option():
    cp = doctor("--uid-range", "5-1")
    assert cp.returncode == 125 and b"--uid-range" in cp.stderr, cp
    cp = doctor("--bogus")
    assert cp.returncode == 125, cp


def test_daemon_logs_host_checks(daemon):
    log = daemon.log()
    for n in NAMES:
        assert f"host check: {n}: " in log, log
