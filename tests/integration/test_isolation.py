"""The job cannot see host files, host processes or the network, cannot write
the system, and cannot leave a process behind."""

import json
import os
import re
import socket

import pytest

from conftest import pid_ns_problem, run_probe, wait_for_uid_procs


def probe_out(d, mode, *args, **kw):
    cp, r = run_probe(d, mode, *args, **kw)
    assert r["state"] in ("exited",), f"probe {mode} did not run: {r!r}"
    return r["exit_code"], r["stdout"].strip()


def test_identity_and_pid_namespace(daemon):
    code, out = probe_out(daemon, "ids")
    f = dict(kv.split("=", 1) for kv in out.split())
    uid = int(f["uid"])
    assert uid != 0 and daemon.uid_first <= uid <= daemon.uid_last, out
    assert int(f["euid"]) == uid and int(f["gid"]) != 0, out
    assert not pid_ns_problem(f["pid"], f["ppid"]), out
    assert f["proc_self"] == f["pid"], f"/proc is not the job's own: {out}"
    assert f["hostname"] == "skillbox", out


def test_cannot_see_host_processes(daemon):
    code, out = probe_out(daemon, "ls", "/proc")
    pids = sorted(int(x) for x in out.split() if x.isdigit())
    # The probe and maybe its shell, nothing of the host; a backend's init
    # (pid 1 beside the program) is hidden from the job like the host.
    assert pids and max(pids) < 20 and len(pids) <= 3, f"job sees pids {pids[:20]}"
    # The daemon's own pid number, if it shows at all, must not be the daemon.
    code, out = probe_out(daemon, "cat", f"/proc/{daemon.pid}/cmdline")
    assert b"skillboxd" not in out.encode(), out


def test_cannot_read_host_files(daemon, workdir):
    canaries = []
    for d in ("/tmp", "/root", workdir):
        if not os.path.isdir(d):
            continue
        p = os.path.join(d, f"sbcanary-{os.urandom(4).hex()}")
        with open(p, "w") as f:
            f.write("secret canary\n")
        canaries.append(p)
    try:
        for p in canaries:
            code, out = probe_out(daemon, "exists", p)
            assert out.startswith("no"), f"host file {p} visible in the job: {out}"
            code, out = probe_out(daemon, "cat", p)
            assert "secret" not in out, f"job read host file {p}"
        code, out = probe_out(daemon, "cat", "/etc/shadow")
        assert code == 1 and out == "ENOENT", f"/etc/shadow in the job: {out[:80]!r}"
        # The daemon's socket and state dir are not reachable from inside.
        for p in (daemon.socket, daemon.state_dir):
            code, out = probe_out(daemon, "exists", p)
            assert out.startswith("no"), f"{p} visible in the job"
    finally:
        for p in canaries:
            os.unlink(p)


def test_system_dirs_read_only_work_writable(daemon):
    cp = daemon.ctl("run", "--json", "--", "sh", "-c",
                    "touch /usr/sbx 2>/dev/null && echo usr-writable; "
                    "touch /etc/sbx 2>/dev/null && echo etc-writable; "
                    "touch / 2>/dev/null; "
                    "echo hi > /work/f && cat /work/f; echo t > /tmp/f && cat /tmp/f; "
                    "stat -c %u /work")
    r = json.loads(cp.stdout)
    lines = r["stdout"].split()
    assert "usr-writable" not in lines and "etc-writable" not in lines, r["stdout"]
    assert lines[:2] == ["hi", "t"], r
    assert int(lines[2]) == r["enforced"]["uid"], f"/work not owned by the job uid: {r!r}"


def test_no_network(daemon):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        code, out = probe_out(daemon, "connect", "127.0.0.1", port)
        # EPERM: the seccomp filter refuses AF_INET sockets without network.
        assert out in ("ECONNREFUSED", "EPERM"), f"connect to a host loopback listener: {out}"
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()
    code, out = probe_out(daemon, "connect", "1.1.1.1", 53)
    assert out in ("ENETUNREACH", "EPERM"), f"connect 1.1.1.1:53 from the job: {out}"
    cp = daemon.ctl("run", "--", "cat", "/proc/net/dev")
    ifaces = [l.split(":")[0].strip() for l in cp.stdout.decode().splitlines() if ":" in l]
    assert ifaces == ["lo"], f"interfaces in the job: {ifaces}"


def test_double_fork_does_not_outlive_job(daemon):
    cp, r = run_probe(daemon, "double-fork", "/work/marker", 1500)
    assert r["state"] == "exited" and r["exit_code"] == 0, r
    assert re.match(r"grandchild=\d+", r["stdout"]), r
    left = wait_for_uid_procs(daemon, present=False, timeout=1)
    assert not left, f"a double-forked process outlived the job: {left}"


def test_job_dir_removal_does_not_follow_planted_links(daemon, workdir):
    victim = os.path.join(workdir, "victim")
    os.makedirs(os.path.join(victim, "sub"))
    for p in ("keep", "sub/keep"):
        with open(os.path.join(victim, p), "w") as f:
            f.write("host data\n")
    cp = daemon.ctl("run", "--", "sh", "-c",
                    f"ln -s {victim} /work/link && mkdir -p /work/d/e && "
                    f"ln -s {victim}/sub /work/d/e/link && ln -s {victim}/keep /work/filelink && "
                    "echo planted")
    assert cp.returncode == 0 and cp.stdout == b"planted\n", cp
    daemon.assert_clean()
    for p in ("keep", "sub/keep"):
        assert os.path.exists(os.path.join(victim, p)), \
            f"removing the job dir followed a planted link and deleted {p}"


def test_sandbox_details(daemon):
    cp = daemon.ctl("run", "--json", "--", "sh", "-c",
                    "grep -E '^(CapEff|CapBnd|CapAmb|CapPrm|NoNewPrivs):' /proc/self/status; echo ---; "
                    "ls /dev; echo ---; "
                    "dd if=/dev/zero of=/tmp/fill bs=1M count=100 2>&1; echo ---; "
                    "ls /")
    r = json.loads(cp.stdout)
    status, dev, fill, root = r["stdout"].split("---\n")
    fields = dict(l.split(":\t") for l in status.strip().splitlines())
    for k in ("CapEff", "CapBnd", "CapAmb", "CapPrm"):
        assert int(fields[k], 16) == 0, f"{k} = {fields[k]} in the job"
    assert fields["NoNewPrivs"].strip() == "1", fields
    devs = dev.split()
    assert {"null", "zero", "urandom"} <= set(devs), devs
    assert not [x for x in devs if re.match(r"^(sd|vd|nvme|hd|xvd|mem|kmem|port)", x)], devs
    assert "No space left" in fill, f"/tmp is not size-limited: {fill!r}"
    assert r["state"] == "exited", r
