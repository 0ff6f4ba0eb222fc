"""Hardening layers of a linux job (issue 3, items 1-4): the seccomp
allowlist, Landlock, securebits and capabilities, descriptor/environment and
/proc hygiene, and the `enforced` record that reports them.

Which defence each test relies on (checked by disabling it and watching the
test fail):
  test_enforced_reports_layers      linux.c fill_common/enforced
  test_refused_syscalls             seccomp allowlist (seccomp.c)
  test_foreign_abi_kills            seccomp bad-arch action (x32 via libseccomp's
                                    nr check, i386 via the arch check)
  test_caps_empty_everywhere        caps.c (bounding, capset, securebits lock)
  test_landlock_blocks_proc_writes  Landlock /proc read-only rule (landlock.c)
  test_landlock_keeps_job_working   (regression: the rules are not too tight)
  test_environment_from_scratch     daemon's env building
  test_fds_and_cwd                  sb_child_stdio close_range, chdir /work
  test_proc_masked_and_read_only    mounts.c make_proc
  test_dev_and_sys_minimal          mounts.c make_dev; no /sys mount
"""

import os
import subprocess

import pytest

from conftest import kernel_landlock_abi, probe_path, run_probe


def probe(d, mode, *args):
    cp, r = run_probe(d, mode, *args)
    assert r["state"] == "exited", f"probe {mode} did not run: {r!r}"
    return r["exit_code"], r["stdout"]


def kv_lines(out):
    return dict(l.split("=", 1) for l in out.splitlines() if "=" in l)


def test_enforced_reports_layers(daemon):
    with daemon.rpc() as c:
        hello = c.ok("hello", {"client": "test_hardening"})
        job = c.exec(["true"])
        _, _, res = c.wait_exit(job)
    e = res["enforced"]
    assert res["state"] == "exited" and res["exit_code"] == 0, res
    assert e["seccomp"] is True and e["no_new_privs"] is True, e
    assert e["capabilities_dropped"] is True, e
    assert e.get("securebits") is True, e
    assert e.get("syscall_filter") == "@skillbox-service", e
    assert e["landlock"] == min(kernel_landlock_abi(), 7), e
    assert hello["host"]["landlock"] == e["landlock"], hello


REFUSED = [
    "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick",
    "open_tree", "move_mount", "mount_setattr", "unshare_user", "unshare_mnt",
    "unshare_net", "setns", "clone_newuser", "clone_newns", "io_uring_setup", "bpf",
    "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
    "ptrace_traceme", "process_vm_readv", "process_vm_writev", "kcmp",
    "name_to_handle_at", "open_by_handle_at", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct",
    "quotactl", "syslog", "settimeofday", "clock_settime", "clock_adjtime",
    "personality_linux32", "ioctl_tiocsti", "ioctl_tioclinux", "socket_packet",
    "socket_inet_raw", "socket_netlink", "socket_vsock", "socket_alg",
]


def test_refused_syscalls(daemon):
    code, out = probe(daemon, "hostile", "syscalls", *REFUSED, "clone3", "control_getpid",
                      "control_socket_unix")
    got = kv_lines(out)
    wrong = {n: got.get(n) for n in REFUSED if got.get(n) != "EPERM"}
    assert not wrong, f"refused calls that did not answer EPERM: {wrong}\n{out}"
    # TCP and UDP sockets: allowed, for the job's own loopback (its netns).
    code, out = probe(daemon, "hostile", "syscalls", "socket_inet", "socket_inet6")
    assert kv_lines(out) == {"socket_inet": "ok", "socket_inet6": "ok"}, out
    # clone3: ENOSYS, so that libc falls back to clone (whose flags we see).
    assert got.get("clone3") == "ENOSYS", out
    # The filter does not break what every job needs.
    assert got.get("control_getpid") == "ok" and got.get("control_socket_unix") == "ok", out


@pytest.mark.parametrize("abi", ["x32", "i386"])
def test_foreign_abi_kills(daemon, abi):
    # Outside the sandbox first: a kernel without that ABI (x32 is rarely
    # built; some VMs refuse int 0x80 with SIGSEGV) answers on its own.
    host = subprocess.run([probe_path(), "hostile", abi], capture_output=True, timeout=10)
    if host.returncode < 0 and host.returncode != -31:
        pytest.skip(f"{abi}: the host kernel itself kills it with signal {-host.returncode}")
    cp, r = run_probe(daemon, "hostile", abi)
    # The probe is the job's program: the whole job dies of SIGSYS.
    assert r["state"] == "signaled" and r["signal"] == 31, \
        f"{abi} system call was not killed: {r['state']} {r.get('signal')} {r['stdout']!r}"


def test_caps_empty_everywhere(daemon):
    code, out = probe(daemon, "caps")
    lines = {l.split()[0]: dict(kv.split("=", 1) for kv in l.split()[1:])
             for l in out.splitlines() if l.startswith(("main", "thread"))}
    assert set(lines) == {"main", "thread"}, out
    for who, f in lines.items():
        for s in ("inh", "prm", "eff", "bnd", "amb"):
            assert int(f[s], 16) == 0, f"{who}: cap set {s} = {f[s]}\n{out}"
        assert f["nnp"] == "1", out
        assert f["seccomp"] == "2", out        # filter mode
        # NOROOT|NO_SETUID_FIXUP|NO_CAP_AMBIENT_RAISE and their locks, KEEP_CAPS locked off.
        assert int(f["securebits"], 16) == 0xef, out
    # A program the job executes (through the shell) has nothing either,
    # and a setuid-root binary runs without root (nosuid, no_new_privs, NOROOT).
    cp = daemon.ctl("run", "--", "sh", "-c",
                    "grep -E '^(Cap|NoNewPrivs)' /proc/self/status; "
                    "ls -ln /usr/bin/su | cut -d' ' -f1,3; "
                    "/usr/bin/su -c true root </dev/null; echo su=$?")
    out = cp.stdout.decode()
    for l in out.splitlines():
        if l.startswith("Cap"):
            assert int(l.split()[1], 16) == 0, out
    assert "NoNewPrivs:\t1" in out, out
    if "-rws" in out:
        assert "su=0" not in out, f"setuid su succeeded in the job: {out}"


def test_landlock_blocks_proc_writes(daemon):
    if kernel_landlock_abi() < 1:
        pytest.skip("the kernel has no Landlock")
    # /proc/self/* is writable by its owner as far as the mounts go; Landlock
    # gives /proc read rights only.
    code, out = probe(daemon, "hostile", "openw", "/proc/self/comm", "/proc/self/oom_score_adj",
                      "/proc/self/attr/current")
    got = kv_lines(out)
    assert got.get("/proc/self/comm") == "EACCES", out
    assert got.get("/proc/self/oom_score_adj") == "EACCES", out


def test_landlock_keeps_job_working(daemon):
    # What a job legitimately does: /work, /tmp (exec from there: the probe
    # itself), /dev/shm, devices, O_TRUNC of /dev/null, rename, fifo, socket.
    script = (
        "set -e; cd /work; echo a > f; mv f g; mkdir d; mv g d/h; ln -s d/h l; cat l; "
        "mkfifo p; rm p; echo x > /dev/null; head -c 4 /dev/urandom | wc -c; "
        "echo s > /dev/shm/s; cat /dev/shm/s; cp /bin/true /tmp/t; /tmp/t; "
        "ls / > /dev/null; ls /etc > /dev/null; cat /proc/self/status > /dev/null; "
        "rm -r d l; echo done")
    cp = daemon.ctl("run", "--", "sh", "-c", script)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert cp.stdout.decode().split() == ["a", "4", "s", "done"], cp.stdout


def test_environment_from_scratch(workdir):
    from conftest import Daemon
    os.environ["SB_DAEMON_CANARY"] = "leak"
    try:
        d = Daemon(workdir).start()
    finally:
        del os.environ["SB_DAEMON_CANARY"]
    try:
        cp = d.ctl("run", "--env", "MINE=1", "--", "env")
        assert cp.returncode == 0, cp
        keys = sorted(l.split("=", 1)[0] for l in cp.stdout.decode().splitlines())
        assert keys == ["HOME", "LANG", "MINE", "PATH", "TMPDIR", "USER"] or \
            set(keys) <= {"HOME", "LANG", "MINE", "PATH", "TMPDIR", "USER", "PWD", "SHLVL", "_"}, keys
        assert b"SB_DAEMON_CANARY" not in cp.stdout, cp.stdout
    finally:
        d.stop()


def test_fds_and_cwd(daemon):
    code, out = probe(daemon, "ls", "/proc/self/fd")
    fds = sorted(int(x) for x in out.split() if x.isdigit())
    # 0, 1, 2 and the directory the probe's readdir opened.
    assert fds[:3] == [0, 1, 2] and len(fds) <= 4, fds
    cp = daemon.ctl("run", "--", "sh", "-c", "pwd; readlink /proc/self/cwd")
    assert cp.stdout.decode().split() == ["/work", "/work"], cp.stdout


MASKED = ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/kallsyms",
          "/proc/sched_debug", "/proc/latency_stats"]
READ_ONLY = ["/proc/sys/kernel/hostname", "/proc/sysrq-trigger", "/proc/sys/vm/drop_caches"]


def test_proc_masked_and_read_only(daemon):
    code, out = probe(daemon, "hostile", "read", *MASKED)
    got = kv_lines(out)
    for p in MASKED:
        if not os.path.exists(p):
            continue
        v = got.get(p, "")
        # /dev/null bound over it (nodev there: EACCES on open), or empty.
        assert v in ("EACCES", "ok:", "ENOENT"), f"{p} readable in the job: {v!r}"
    for p in ("/proc/acpi", "/proc/scsi", "/proc/pressure"):
        if os.path.isdir(p):
            code, out = probe(daemon, "ls", p)
            assert out.strip() == "", f"{p} not masked: {out!r}"
    code, out = probe(daemon, "hostile", "openw", *READ_ONLY)
    got = kv_lines(out)
    for p in READ_ONLY:
        if os.path.exists(p):
            assert got.get(p) in ("EROFS", "EACCES"), f"{p} writable in the job: {got.get(p)}"
    cp = daemon.ctl("run", "--", "cat", "/proc/self/mountinfo")
    mi = cp.stdout.decode()
    for mp in ("/proc/sys", "/proc/irq", "/proc/bus", "/proc/fs"):
        if os.path.exists(mp):
            lines = [l for l in mi.splitlines() if l.split()[4] == mp]
            assert lines and " ro," in " " + lines[-1].split()[5] + ",", f"{mp} not ro: {lines}"


def test_dev_and_sys_minimal(daemon):
    code, out = probe(daemon, "ls", "/dev")
    names = set(out.split())
    assert names <= {"null", "zero", "full", "random", "urandom", "tty", "fd", "stdin",
                     "stdout", "stderr", "shm", "pts", "ptmx"}, names
    assert {"null", "zero", "full", "random", "urandom", "pts", "ptmx"} <= names, names
    # Of /sys only the job's own cgroup tree at /sys/fs/cgroup (test_etc.py).
    cp = daemon.ctl("run", "--", "sh", "-c", "ls -A /sys; ls -A /sys/fs")
    assert cp.returncode == 0, cp
    assert cp.stdout.decode().split() == ["fs", "cgroup"], cp.stdout
    # The nodes are the host's devices (made in the sandbox's /dev), and
    # /dev itself takes no new entry.
    cp = daemon.ctl("run", "--", "sh", "-c",
                    "stat -c '%n %F %t:%T %a' /dev/null /dev/zero /dev/full /dev/random "
                    "/dev/urandom /dev/tty; head -c 3 /dev/zero | od -An -tx1; "
                    "echo x > /dev/null && echo null-ok; echo x > /dev/full || echo full-ENOSPC; "
                    "touch /dev/new 2>/dev/null && echo DEV-WRITABLE; true")
    assert cp.returncode == 0, cp
    out = cp.stdout.decode()
    for line in ("/dev/null character special file 1:3 666", "/dev/zero character special file 1:5 666",
                 "/dev/full character special file 1:7 666", "/dev/random character special file 1:8 666",
                 "/dev/urandom character special file 1:9 666", "/dev/tty character special file 5:0 666",
                 " 00 00 00", "null-ok", "full-ENOSPC"):
        assert line in out.splitlines(), (line, out)
    assert "DEV-WRITABLE" not in out, out
