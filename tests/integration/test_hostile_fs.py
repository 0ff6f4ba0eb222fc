"""Hostile jobs, files: reading or writing outside the sandbox, magic links in
/proc, leaked descriptors and cwd, kernel tunables in /proc and /sys, devices,
and cleanup that must not follow links a job planted.

Defences: the mount namespace and pivot_root into a root that holds only
read-only system binds (mounts.c), the job uid without capabilities (caps.c,
child.c), pid 1 being non-dumpable after the uid switch, /proc masking and
read-only /proc/sys (mounts.c), the minimal /dev (mounts.c), Landlock
(landlock.c) for writes outside /work and /tmp on otherwise writable mounts,
and the job-dir removal that never follows a link (leftovers.c/linux.c)."""

import os

import pytest

from conftest import kernel_landlock_abi

NOT_THERE = ("ENOENT", "EACCES", "EPERM")
REFUSED_WRITE = ("EROFS", "EACCES", "EPERM")


def test_host_canaries_invisible(hostile):
    paths = hostile.canaries + [hostile.canary_dir + "/inner", "/root", "/var/tmp"]
    r = hostile.run("read", *paths)
    for p in paths[:3]:
        assert r["kv"][p] in NOT_THERE, f"job opened host file {p}: {r['kv'][p]}"
    assert hostile.secret not in r["stdout"], "the canary's secret reached the job"


def test_writes_to_system_dirs_fail(hostile):
    paths = ["/usr/sbx-w", "/etc/sbx-w", "/sbx-w", "/usr/bin/sbx-w", "/proc/sbx-w"]
    r = hostile.run("create", *paths)
    for p in paths:
        assert r["kv"][p] in REFUSED_WRITE + ("ENOENT",), f"job created {p}: {r['kv'][p]}"
    for p in paths[:3]:
        assert r["kv"][p] in REFUSED_WRITE, f"{p}: {r['kv'][p]}"
    r = hostile.run("openw", "/etc/passwd", "/usr/bin/sh", "/bin/sh")
    for p, v in r["kv"].items():
        assert v in REFUSED_WRITE + ("ETXTBSY",), f"job opened {p} for writing: {v}"
    r = hostile.run("mkdir", "/usr/sbx-d", "/etc/sbx-d", "/sbx-d")
    for p, v in r["kv"].items():
        assert v in REFUSED_WRITE, f"job made directory {p}: {v}"


def test_writable_only_work_and_tmp(hostile):
    # /work and /tmp are writable. A job may write its own /proc/self files
    # (comm, oom_score_adj) as far as the kernel's permission checks go; only
    # Landlock (/proc read-only in the ruleset) refuses them.
    r = hostile.run("create", "/work/ok", "/tmp/ok")
    assert r["kv"] == {"/work/ok": "ok", "/tmp/ok": "ok"}, r["kv"]
    if not kernel_landlock_abi():
        pytest.skip("this kernel has no Landlock: a job may write its own /proc/self files "
                    "(the kernel's own permission checks allow it)")
    r = hostile.run("openw", "/proc/self/comm", "/proc/self/oom_score_adj", "/proc/self/attr/current")
    for p, v in r["kv"].items():
        assert v in ("EACCES", "EPERM", "EROFS", "ENOENT", "EINVAL"), \
            f"job opened {p} for writing: {v}"
    assert r["kv"]["/proc/self/comm"] == "EACCES", r["kv"]


def test_magic_links_reach_nothing(hostile):
    host_paths = [hostile.canaries[0], hostile.d.socket, hostile.d.state_dir]
    r = hostile.run("magic", *host_paths)
    kv = r["kv"]
    assert kv["readlink:/proc/self/cwd"] == "/work", kv
    assert kv["readlink:/proc/self/root"] == "/", kv
    # pid 1 (the init, a copy of the daemon) is not dumpable: its exe (the
    # daemon binary), root, cwd and fds are closed to the job.
    for k in ("readlink:/proc/1/exe", "readlink:/proc/1/root", "readlink:/proc/1/cwd",
              "openrw:/proc/1/exe", "openro:/proc/1/exe"):
        assert kv[k] in ("EACCES", "EPERM", "ENOENT"), f"{k} = {kv[k]}"
    assert kv.get("ls:/proc/1/fd") in ("EACCES", "EPERM") or \
        not [k for k, v in kv.items() if k.startswith("open:/proc/1/fd/") and v == "ok"], kv
    # The job's own exe cannot be rewritten while it runs.
    assert kv["openrw:/proc/self/exe"] in ("ETXTBSY", "EACCES", "EPERM", "EROFS"), kv
    for k, v in kv.items():
        if k.startswith("via:"):
            assert v != "ok", f"{k}: a host path reached through a magic link"


def test_only_stdio_open_and_cwd_work(hostile):
    r = hostile.run("fds")
    fds = sorted(int(l.split()[0].split("=")[1]) for l in r["stdout"].splitlines()
                 if l.startswith("fd="))
    assert fds == [0, 1, 2], f"descriptors open in the job: {r['stdout']}"
    assert r["kv"]["cwd"] == "/work", r["kv"]
    # The same seen by an ordinary program.
    r = hostile.script("ls /proc/self/fd | sort -n | tr '\\n' ' '; echo; pwd")
    lines = r["stdout"].splitlines()
    assert set(lines[0].split()) <= {"0", "1", "2", "3"} and len(lines[0].split()) <= 4, lines
    assert lines[1] == "/work", lines


def test_kernel_tunables_refused(hostile):
    tunables = ["/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe",
                "/proc/sys/kernel/hostname", "/proc/sys/vm/drop_caches",
                "/proc/sys/kernel/panic", "/proc/sysrq-trigger"]
    r = hostile.run("openw", *tunables)
    for p in tunables:
        assert r["kv"][p] in REFUSED_WRITE + ("ENOENT",), f"{p} opened for writing: {r['kv'][p]}"
    r = hostile.run("read", "/proc/kcore", "/proc/kmsg")
    for p, v in r["kv"].items():
        assert not v.startswith("ok"), f"{p} readable in the job"
    # /sys: absent, or read-only.
    r = hostile.run("create", "/sys/sbx-w", "/sys/kernel/sbx-w", "/sys/fs/cgroup/sbx-w")
    for p, v in r["kv"].items():
        assert v in REFUSED_WRITE + ("ENOENT",), f"{p}: {v}"
    r = hostile.run("openw", "/sys/kernel/uevent_helper", "/sys/power/state")
    for p, v in r["kv"].items():
        assert v in REFUSED_WRITE + ("ENOENT",), f"{p}: {v}"


def test_devices_minimal(hostile):
    r = hostile.run("devices")
    devs = {k[4:]: v for k, v in r["kv"].items() if k.startswith("dev:")}
    chr_ok = {"null": "1:3", "zero": "1:5", "full": "1:7", "random": "1:8", "urandom": "1:9",
              "tty": "5:0"}
    for name, v in devs.items():
        kind = v.split()[0]
        if kind == "chr":
            assert name in chr_ok and v.split()[1] == chr_ok[name], f"/dev/{name}: {v}"
        else:
            assert kind in ("lnk", "dir"), f"/dev/{name} is {v}"
    assert {"null", "zero", "full", "random", "urandom"} <= set(devs), devs
    for k in ("mknod:/tmp/mem", "mknod:/work/sda", "mknod:/dev/kmsg"):
        assert r["kv"][k] in ("EPERM", "EACCES", "EROFS"), f"{k}: {r['kv'][k]}"
    r = hostile.run("read", "/dev/mem", "/dev/kmsg", "/dev/sda", "/dev/vda", "/dev/port")
    for p, v in r["kv"].items():
        assert v == "ENOENT", f"{p}: {v}"


def test_cleanup_does_not_follow_planted_links(hostile):
    c0, c1 = hostile.canaries
    cdir = hostile.canary_dir
    script = (
        f"ln -s {c0} /work/l0; ln -s {c1} /tmp/l1; ln -s {cdir} /work/ldir; "
        f"ln -s /proc/1/root{c0} /work/lproc; ln -s / /work/lroot; "
        "mkdir -p /work/d/e/f && ln -s {cdir}/inner /work/d/e/f/deep; "
        "echo x > /work/f && ln /work/f /work/hard; ln /etc/passwd /work/pw 2>/dev/null; "
        "mkfifo /work/fifo; chmod 000 /work/d/e; chmod 000 /work/d; "
        "ln -s /work/ldir /work/chain; echo planted").replace("{cdir}", cdir)
    r = hostile.script(script)
    assert r["state"] == "exited" and "planted" in r["stdout"], r
    hostile.d.assert_clean()
    assert not hostile.problems(), hostile.problems()
