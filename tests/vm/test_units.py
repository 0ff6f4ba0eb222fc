"""The shipped units, in a guest with systemd as PID 1 and cgroup v2.

Run by tests/vm/guest.sh inside the guest that tests/vm/run.sh boots, after
`meson install` put skillbox where a distribution package would. The tests
run in file order: the first one takes the README's path for an admin
(sysusers, tmpfiles, enable the socket, a user in the skillbox group runs a
job), the later ones use the service it left running.
"""
import json
import os
import signal
import subprocess
import time

import pytest

SOCKET = "/run/skillbox/skillboxd.sock"
USER = "alice"
MIB = 1024 * 1024

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/run/systemd/system") or os.getpid() == 1,
    reason="needs systemd as PID 1 (the guest of tests/vm/run.sh)")


def sh(cmd, check=False, timeout=120):
    cp = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout)
    if check and cp.returncode != 0:
        pytest.fail(f"{cmd}: exit {cp.returncode}\n{cp.stdout}{cp.stderr}\n{journal()}")
    return cp


def journal(n=40):
    return sh(f"journalctl -u skillboxd.service -u skillboxd.socket --no-pager -n {n}").stdout


def show(prop, unit="skillboxd.service"):
    return sh(f"systemctl show -P {prop} {unit}").stdout.strip()


def as_user(args, timeout=120):
    """skillboxctl as the unprivileged admin-added user."""
    return sh("runuser -u %s -- skillboxctl %s" % (USER, args), timeout=timeout)


def run_json(args, timeout=120):
    cp = as_user("run --json " + args, timeout=timeout)
    try:
        return json.loads(cp.stdout.split("\n", 1)[0]) if cp.stdout.startswith("{") else \
            json.loads(cp.stdout)
    except ValueError:
        pytest.fail(f"no JSON from skillboxctl: exit {cp.returncode}\n{cp.stdout}{cp.stderr}\n"
                    f"{journal()}")


def result_of(cp):
    for line in cp.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    pytest.fail(f"no result record: {cp.stdout}{cp.stderr}\n{journal()}")


def uid_procs(first, last=None):
    """Processes with a uid (real, effective, saved or fs) in [first, last]."""
    last = first if last is None else last
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/status") as f:
                    for line in f:
                        if line.startswith("Uid:"):
                            if any(first <= int(u) <= last for u in line.split()[1:]):
                                out.append(int(d))
                            break
            except OSError:
                pass
    return out


def job_uid_procs():
    """Processes of the default job uid range (60000-60999): the jobs and
    the prepared sandboxes, which a stopped daemon has none of."""
    return uid_procs(60000, 60999)


def detached(argv):
    """Start a detached job as the user; (job id, its uid)."""
    cp = as_user("run --detach -- " + argv)
    job = cp.stdout.strip()
    assert cp.returncode == 0 and job, (cp.stdout, cp.stderr, journal())
    info = json.loads(as_user(f"inspect {job}").stdout)
    return job, info["enforced"]["uid"]


def prepared_procs():
    """Processes of the running daemon's prepared sandboxes (its children's
    process trees other than the spawner, in job cgroups it has not given
    to any job yet)."""
    cg = show("ControlGroup")
    out = []
    base = f"/sys/fs/cgroup{cg}/skillbox"
    for e in os.listdir(base) if os.path.isdir(base) else []:
        cp = sh(f"runuser -u {USER} -- skillboxctl inspect {e}")
        if cp.returncode == 0:
            continue        # a job
        try:
            with open(os.path.join(base, e, "cgroup.procs")) as f:
                out += [int(p) for p in f.read().split()]
        except OSError:
            pass
    return out


def wait_for(fn, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}\n{journal()}")


def test_admin_path_from_the_readme():
    sh("systemd-sysusers", check=True)
    sh("systemd-tmpfiles --create", check=True)
    sh("systemctl enable --now skillboxd.socket", check=True)
    # Socket activation: nothing runs until the first client connects.
    assert show("ActiveState") == "inactive", journal()
    assert show("ActiveState", "skillboxd.socket") == "active"
    sh(f"useradd -m {USER}", check=True)
    sh(f"usermod -aG skillbox {USER}", check=True)
    cp = as_user("run -- sh -c 'echo hello; id -u'")
    assert cp.returncode == 0, (cp.stdout, cp.stderr, journal())
    lines = cp.stdout.split()
    assert lines[0] == "hello" and 60000 <= int(lines[1]) <= 60999, cp.stdout
    assert show("ActiveState") == "active"


def test_notify_readiness_status_and_delegation():
    assert show("Type") == "notify"
    assert show("StatusText").startswith("Serving") or "running job" in show("StatusText"), \
        show("StatusText")
    cg = show("ControlGroup")
    pid = int(show("MainPID"))
    with open(f"/proc/{pid}/cgroup") as f:
        own = f.read().strip()
    # The daemon lives in a leaf beside its jobs' subtree, inside the unit.
    assert own == f"0::{cg}/skillbox.daemon", own
    assert os.path.isdir(f"/sys/fs/cgroup{cg}/skillbox")
    with open(f"/sys/fs/cgroup{cg}/skillbox/cgroup.subtree_control") as f:
        assert {"memory", "pids", "cpu"} <= set(f.read().split())


def test_watchdog_is_fed():
    assert show("WatchdogUSec") == "30s"
    first = int(show("WatchdogTimestampMonotonic"))
    assert first > 0, "the daemon never sent WATCHDOG=1"
    wait_for(lambda: int(show("WatchdogTimestampMonotonic")) > first, 25, "a second watchdog ping")


def test_limits_under_cgroup_v2():
    r = run_json("--memory 64M -- sh -c 'echo ok'")
    assert r["state"] == "exited" and r["enforced"]["cgroup"] == "v2", r
    assert r["memory_peak"] > 0, r
    # OOM seen from memory.events; the service survives it (OOMPolicy=continue).
    pid = show("MainPID")
    r = run_json("--memory 32M -- python3 -c 'b = bytearray(256 << 20); print(len(b))'")
    assert r["state"] == "oom", r
    assert show("MainPID") == pid and show("ActiveState") == "active", journal()
    # pids.max
    r = run_json("--tasks 8 -- sh -c 'for i in $(seq 20); do sleep 5 & done; wait'",
                 timeout=60)
    assert r["exit_code"] != 0 or r["state"] != "exited", r
    assert r["tasks_peak"] is None or r["tasks_peak"] <= 8, r
    # cpu.max: half a CPU for a busy loop of 2 s of wall time.
    r = run_json("--cpu 50 --timeout 2s -- sh -c 'while :; do :; done'", timeout=60)
    assert r["state"] == "timeout", r
    used = r["cpu_user_ms"] + r["cpu_sys_ms"]
    assert used < 0.8 * r["wall_ms"], r


def test_kill_ends_the_whole_cgroup():
    job, uid = detached("sh -c 'sleep 300 & sleep 300 & exec sleep 300'")
    wait_for(lambda: len(uid_procs(uid)) >= 3, 10, "the job's processes")
    cp = as_user(f"kill {job}")
    assert cp.returncode == 0, cp.stderr
    wait_for(lambda: not uid_procs(uid), 10, "the job's processes to end")
    cp = as_user(f"inspect {job}")
    assert '"killed"' in cp.stdout, cp.stdout


def test_reload_keeps_serving_and_refuses_a_bad_config():
    pid = show("MainPID")
    os.makedirs("/etc/skillbox", exist_ok=True)
    with open("/etc/skillbox/skillboxd.conf", "w") as f:
        f.write("[Profile default]\nMemoryMax=48M\n")
    sh("systemctl reload skillboxd.service", check=True)
    r = wait_for(lambda: (lambda r: r if r["enforced"].get("memory_max") == 48 * MIB else None)(
        run_json("-- true")), 10, "the reloaded profile")
    assert r["state"] == "exited"
    with open("/etc/skillbox/skillboxd.conf", "w") as f:
        f.write("[Profile default]\nMemoryMax=lots\n")
    sh("systemctl reload skillboxd.service", check=True)
    time.sleep(1)
    assert show("MainPID") == pid and show("ActiveState") == "active", journal()
    r = run_json("-- true")
    assert r["enforced"].get("memory_max") == 48 * MIB, r
    os.unlink("/etc/skillbox/skillboxd.conf")
    sh("systemctl reload skillboxd.service", check=True)


def test_stop_drains_running_jobs():
    waiter = subprocess.Popen(["runuser", "-u", USER, "--", "skillboxctl", "run", "--json", "--",
                               "sleep", "300"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    wait_for(lambda: "running job" in show("StatusText") and
             not show("StatusText").startswith("Serving: 0"), 10, "the job")
    sh("systemctl stop skillboxd.service", check=True)
    out, err = waiter.communicate(timeout=60)
    r = json.loads(out.splitlines()[0])
    # Drained: the client got the job's end, killed by the shutdown.
    assert r["state"] == "killed", (out, err)
    assert not job_uid_procs()
    assert show("ActiveState") == "inactive"
    assert show("ActiveState", "skillboxd.socket") == "active"


def test_restart_with_a_detached_job_running():
    # The socket starts the service again on the next connection.
    job, uid = detached("sleep 300")
    wait_for(lambda: uid_procs(uid), 10, "the detached job")
    old = show("MainPID")
    sh("systemctl restart skillboxd.service", check=True)
    # Documented (skillboxd(8)): a restart ends every job, detached ones
    # too, and results do not outlive the daemon.
    assert not [p for p in uid_procs(uid) if p not in prepared_procs()], uid_procs(uid)
    cp = as_user(f"inspect {job}")
    assert cp.returncode != 0 and "NotFound" in cp.stderr + cp.stdout, (cp.stdout, cp.stderr)
    assert show("MainPID") != old
    cp = as_user("run -- echo after-restart")
    assert cp.stdout == "after-restart\n", (cp.stdout, cp.stderr, journal())


def test_a_crashed_daemon_is_restarted_and_reaps():
    job, uid = detached("sh -c 'sleep 300 & exec sleep 300'")
    wait_for(lambda: len(uid_procs(uid)) >= 2, 10, "the job")
    pids = uid_procs(uid)
    old = int(show("MainPID"))
    os.kill(old, signal.SIGKILL)
    # Restart=on-failure; KillMode=mixed kills what was left in the unit.
    wait_for(lambda: show("MainPID") not in ("0", str(old)) and show("ActiveState") == "active",
             30, "the restart")
    wait_for(lambda: not [p for p in pids if os.path.exists(f"/proc/{p}")], 10,
             "the dead instance's jobs to go")
    cp = as_user("run -- echo back")
    assert cp.stdout == "back\n", (cp.stdout, cp.stderr, journal())
