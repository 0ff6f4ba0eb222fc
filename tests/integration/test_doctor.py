"""`skillboxctl doctor`: one line per host check, JSON, exit status, and the
same checks logged by skillboxd at start; the daemon's configuration file read
as the daemon reads it (its errors, and the state dir and uid range it
names)."""

import json
import os

from conftest import ctl, require_root

HOST_CHECKS = ["namespaces", "cgroup", "mount-api", "seccomp", "landlock", "uid-range",
               "state-dir"]
NAMES = ["config"] + HOST_CHECKS + ["daemon"]


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
    for n in HOST_CHECKS:
        assert f"host check: {n}: " in log, log


def write_conf(workdir, text):
    path = os.path.join(workdir, "skillboxd.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def checks(cp):
    report = json.loads(cp.stdout)
    return report, {c["name"]: c for c in report["checks"]}


def test_doctor_names_a_bad_key(workdir):
    state = os.path.join(workdir, "state")
    os.mkdir(state, 0o700)
    conf = write_conf(workdir, f"[Daemon]\nStateDirectory={state}\nUidRange=470000-470999\n"
                               "MaxJobz=3\n[Profile p]\nMemoryMax=lots\n")
    cp = doctor("--json", "--config", conf)
    assert cp.returncode == 1, cp
    report, by = checks(cp)
    assert report["config"]["path"] == conf, report
    errors = report["config"]["errors"]
    assert len(errors) == 2, errors
    assert "MaxJobz" in errors[0] and f"{conf}:4" in errors[0], errors
    assert "MemoryMax" in errors[1], errors
    assert by["config"]["status"] == "fail", by["config"]
    assert "MaxJobz" in by["config"]["detail"] and "MemoryMax" in by["config"]["detail"]
    assert "--check-config" in by["config"]["fix"], by["config"]
    # What did parse is still used: the state dir and uid range of the file.
    assert report["config"]["state_dir"] == state, report
    assert report["config"]["uid_range"] == [470000, 470999], report
    text = doctor("--config", conf).stdout.decode()
    line = [l for l in text.splitlines() if l.startswith("config")]
    assert line and " fail " in line[0] and "MaxJobz" in line[0], text


def test_doctor_flags_the_configured_state_dir(workdir):
    require_root()
    state = os.path.join(workdir, "state")
    os.mkdir(state)
    os.chmod(state, 0o777)
    conf = write_conf(workdir, f"[Daemon]\nStateDirectory={state}\nUidRange=470000-470999\n")
    cp = doctor("--json", "--config", conf)
    assert cp.returncode == 1, cp
    report, by = checks(cp)
    assert by["config"]["status"] == "ok", by["config"]
    assert report["config"]["state_dir"] == state, report
    assert by["state-dir"]["status"] == "fail", by["state-dir"]
    assert state in by["state-dir"]["detail"] and "0777" in by["state-dir"]["detail"]
    assert "chmod 0700" in by["state-dir"]["fix"], by["state-dir"]

    # Group-writable is refused by the daemon too.
    os.chmod(state, 0o770)
    _, by = checks(doctor("--json", "--config", conf))
    assert by["state-dir"]["status"] == "fail", by["state-dir"]

    # A symbolic link to a good directory: the daemon opens it O_NOFOLLOW.
    os.chmod(state, 0o700)
    link = os.path.join(workdir, "link")
    os.symlink(state, link)
    conf = write_conf(workdir, f"[Daemon]\nStateDirectory={link}\nUidRange=470000-470999\n")
    _, by = checks(doctor("--json", "--config", conf))
    assert by["state-dir"]["status"] == "fail", by["state-dir"]
    assert "symbolic link" in by["state-dir"]["detail"], by["state-dir"]

    # A jobs/ directory inside that others can write.
    conf = write_conf(workdir, f"[Daemon]\nStateDirectory={state}\nUidRange=470000-470999\n")
    os.mkdir(os.path.join(state, "jobs"))
    os.chmod(os.path.join(state, "jobs"), 0o777)
    _, by = checks(doctor("--json", "--config", conf))
    assert by["state-dir"]["status"] == "fail" and "jobs" in by["state-dir"]["fix"], by


def test_doctor_passes_a_good_config(workdir):
    require_root()
    state = os.path.join(workdir, "state")
    os.mkdir(state, 0o700)
    conf = write_conf(workdir, f"[Daemon]\nStateDirectory={state}\nUidRange=470000-470999\n")
    cp = doctor("--json", "--config", conf)
    report, by = checks(cp)
    assert report["config"] == {"path": conf, "errors": [], "state_dir": state,
                                "uid_range": [470000, 470999]}, report
    for n in ("config", "uid-range", "state-dir"):
        assert by[n]["status"] == "ok", by[n]
    assert state in by["state-dir"]["detail"], by["state-dir"]
    assert "470000-470999" in by["uid-range"]["detail"], by["uid-range"]
    # The command line overrides the file, as skillboxd's options do.
    report, _ = checks(doctor("--json", "--config", conf, "--uid-range", "480000-480009"))
    assert report["config"]["uid_range"] == [480000, 480009], report


def test_doctor_missing_config_file(workdir):
    missing = os.path.join(workdir, "none.conf")
    cp = doctor("--json", "--config", missing)
    assert cp.returncode == 1, cp
    _, by = checks(cp)
    assert by["config"]["status"] == "fail" and missing in by["config"]["detail"], by
