"""What the sandbox refused a job, in its result's `denied` (issue 12, item 6):
the system calls its seccomp filter refused, by name and the argument that
decided, each still answered with the errno it always had; nothing for a job
refused nothing; skillboxctl's one summary line on stderr.

Defence: backends/linux/denied_syscalls.c (the filter's listener, read by
the daemon), daemon/job_denied.c (into the result)."""

import json
import os

from conftest import (Daemon, deadline_poll, finish_daemon, probe_bytes, probe_path, require_root,
                      run_probe)

# probe `hostile syscalls` names -> what `denied` calls them.
CALLS = {
    "socket_netlink": "socket(AF_NETLINK)",
    "socket_vsock": "socket(AF_VSOCK)",
    "socket_packet": "socket(AF_PACKET)",
    "socket_inet_raw": "socket(AF_INET,SOCK_RAW)",
    "mount": "mount",
    "ptrace_traceme": "ptrace",
    "clone_newuser": "clone(CLONE_NEWUSER)",
    "ioctl_tiocsti": "ioctl(TIOCSTI)",
    "ioctl_tiocsetd": "ioctl(TIOCSETD)",
}


def syscalls_job(d, *names, opts=()):
    cp, r = run_probe(d, "hostile", "syscalls", *names, opts=opts)
    assert r["state"] == "exited" and r["exit_code"] == 0, (r, cp.stderr)
    kv = dict(line.split("=", 1) for line in r["stdout"].splitlines() if "=" in line)
    return r, kv


def denied_of(r):
    return {(e["kind"], e["what"]): e["count"] for e in r.get("denied") or []}


def check_refusals_listed(d):
    r, kv = syscalls_job(d, *CALLS, "control_getpid")
    # The job sees exactly the errno it saw before the refusals were reported.
    assert {n: kv.get(n) for n in CALLS} == {n: "EPERM" for n in CALLS}, kv
    assert kv.get("control_getpid") == "ok", kv
    assert denied_of(r) == {("syscall", w): 1 for w in CALLS.values()}, r.get("denied")


def test_refused_syscalls_are_listed_by_name_and_argument(daemon):
    check_refusals_listed(daemon)


def test_refused_syscalls_are_listed_without_prepared_sandboxes(workdir):
    """The other start path: the child built for the request, not ahead."""
    require_root()
    d = Daemon(workdir, extra_args=["--prepared", "0"]).start()
    try:
        check_refusals_listed(d)
    finally:
        finish_daemon(d)


def test_a_job_refused_nothing_has_no_denied(daemon):
    r, kv = syscalls_job(daemon, "control_getpid", "control_socket_unix")
    assert kv == {"control_getpid": "ok", "control_socket_unix": "ok"}, kv
    assert not r.get("denied"), r.get("denied")


def test_the_same_call_is_counted(daemon):
    with open(probe_path(), "rb") as f:
        cp = daemon.ctl("run", "--json", "--", "sh", "-c",
                        "cat >/tmp/p && chmod +x /tmp/p && for i in 1 2 3; do "
                        "/tmp/p hostile syscalls mount socket_netlink; done", stdin=f)
    assert cp.returncode == 0, cp
    r = json.loads(cp.stdout)
    assert r["stdout"].count("mount=EPERM") == 3, r["stdout"]
    assert denied_of(r) == {("syscall", "mount"): 3, ("syscall", "socket(AF_NETLINK)"): 3}, r


def test_entries_are_bounded_and_every_call_still_answered(daemon):
    from test_hostile_syscalls import REFUSED
    names = sorted(n for n, e in REFUSED.items() if e == "EPERM")
    r, kv = syscalls_job(daemon, *names)
    assert {n: kv.get(n) for n in names} == {n: "EPERM" for n in names}, kv
    denied = r.get("denied") or []
    assert len(denied) == 16, denied
    assert all(e["kind"] == "syscall" and e["count"] >= 1 for e in denied), denied


def test_skillboxctl_prints_one_summary_line(daemon):
    cp, _ = run_probe(daemon, "hostile", "syscalls", "socket_netlink", "mount", json_out=False)
    assert cp.returncode == 0, cp
    lines = [ln for ln in cp.stderr.decode().splitlines() if "denied:" in ln]
    assert len(lines) == 1, cp.stderr
    assert "syscall socket(AF_NETLINK) (x1)" in lines[0] and "syscall mount (x1)" in lines[0], \
        lines[0]
    cp, _ = run_probe(daemon, "hostile", "syscalls", "control_getpid", json_out=False)
    assert cp.returncode == 0 and b"denied" not in cp.stderr, cp.stderr


def test_a_job_is_never_left_waiting_once_the_daemon_is_gone(workdir):
    """The daemon holds the only copy of the job's seccomp listener: when it
    dies the kernel answers the refusals itself (ENOSYS), so the job goes
    on instead of waiting for an answer forever."""
    require_root()
    d1 = Daemon(workdir).start()
    d2 = None
    try:
        c = d1.rpc()
        script = ("cat >/tmp/p && chmod +x /tmp/p && /tmp/p hostile syscalls mount >/tmp/before"
                  " && while [ ! -e /tmp/go ]; do sleep 0.05; done;"
                  " /tmp/p hostile syscalls mount >/tmp/after; exec sleep 60")
        job = c.exec(["sh", "-c", script], stdin=True, detach=True)
        c.send_stdin(job, probe_bytes())
        # The job's init (sb-init) stays for the whole job; its root is the job's.
        assert deadline_poll(lambda: any(w.startswith("sb-init ")
                                         for w in d1.job_procs().values()), 20), d1.log()
        pid = next(p for p, w in d1.job_procs().items() if w.startswith("sb-init "))
        root = f"/proc/{pid}/root/tmp"
        assert deadline_poll(lambda: os.path.exists(f"{root}/before"), 20), d1.log()
        assert deadline_poll(lambda: open(f"{root}/before").read().strip() == "mount=EPERM", 20)
        d1.sigkill()
        c.close()
        with open(f"{root}/go", "w"):
            pass
        assert deadline_poll(lambda: os.path.exists(f"{root}/after") and
                             open(f"{root}/after").read().strip(), 20), \
            "a refused call waits for the dead daemon"
        assert open(f"{root}/after").read().strip() == "mount=ENOSYS"
        d2 = Daemon(workdir, like=d1)
        d2.own_paths = d1.own_paths
        d2.start()
        d2.assert_clean(timeout=10)
        assert d2.stop() == 0, d2.log()
    finally:
        if d1.proc.poll() is None:
            d1.sigkill()
        if d2 is not None and d2.proc.poll() is None:
            d2.stop()
        for d in (d1, d2):
            if d is not None:
                d.force_cleanup()


def test_a_job_spinning_on_refused_calls_gets_every_one_answered(daemon):
    """Past the daemon's rate bound for answering (2000 a second) a job's
    refused calls wait instead of loading the daemon; none is lost or
    answered otherwise."""
    script = ("import ctypes\n"
              "libc = ctypes.CDLL(None, use_errno=True)\n"
              "got = set()\n"
              "for _ in range(2500):\n"
              "    ctypes.set_errno(0)\n"
              "    got.add((libc.mount(b'none', b'/tmp', b'tmpfs', 0, None), ctypes.get_errno()))\n"
              "print(sorted(got))\n")
    cp = daemon.ctl("run", "--json", "--", "python3", "-c", script, timeout=120)
    assert cp.returncode == 0, cp
    r = json.loads(cp.stdout)
    assert r["stdout"].strip() == "[(-1, 1)]", r      # EPERM every time
    assert denied_of(r) == {("syscall", "mount"): 2500}, r.get("denied")
