"""Hostile jobs, the kernel's attack surface: the refused syscall table (mount
API, namespaces, clone flags, io_uring, bpf, keys, ptrace, ...), the x32 and
i386 ABIs, and terminal injection. Each refused call is issued by the probe in
a forked child; the errno it got is compared with the issue's table.

Defence: the seccomp allowlist (backends/linux/seccomp.c). Several rows are
also refused by missing capabilities; the rows that only seccomp refuses for a
non-root job (unshare of a user namespace, clone3, io_uring, keyctl, kcmp,
personality, process_vm_*, perf, userfaultfd, netlink/vsock/inet sockets, x32)
are what turns this file red without the filter."""

import signal

import pytest

# name -> the answer the issue specifies: EPERM for every refused call,
# ENOSYS for clone3 (so libc falls back to clone, whose flags the filter sees).
REFUSED = {n: "EPERM" for n in (
    "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick",
    "open_tree", "move_mount", "mount_setattr",
    "unshare_user", "unshare_mnt", "unshare_net", "setns", "clone_newuser", "clone_newns",
    "io_uring_setup", "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key",
    "request_key", "ptrace_traceme", "ptrace_attach_1", "process_vm_readv",
    "process_vm_writev", "kcmp", "name_to_handle_at", "open_by_handle_at", "kexec_load",
    "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot", "swapon",
    "swapoff", "acct", "quotactl", "syslog", "settimeofday", "clock_settime", "clock_adjtime",
    "personality_linux32", "ioctl_tiocsti", "ioctl_tioclinux",
    "socket_packet", "socket_inet_raw", "socket_netlink", "socket_vsock", "socket_alg",
    "unshare_user_then_mount")}
REFUSED["clone3"] = "ENOSYS"


def test_refused_syscall_table(hostile):
    r = hostile.run("syscalls")
    assert r["state"] == "exited" and r["exit_code"] == 0, r
    kv = r["kv"]
    # The harness itself works: allowed calls succeed.
    assert kv.get("control_getpid") == "ok" and kv.get("control_socket_unix") == "ok", kv
    wrong = {n: (kv.get(n), want) for n, want in REFUSED.items() if kv.get(n) != want}
    assert not wrong, "syscalls not refused as specified (got, want):\n  " + \
        "\n  ".join(f"{n}: {g} (want {w})" for n, (g, w) in sorted(wrong.items()))


def test_foreign_abi_in_table_is_killed(hostile):
    r = hostile.run("syscalls", "x32_getpid", "i386_getpid")
    kv = r["kv"]
    assert kv.get("x32_getpid") == "SIGSYS", f"x32 call not killed: {kv}"
    # Without ia32 emulation the kernel faults int 0x80 before any filter runs.
    assert kv.get("i386_getpid") in ("SIGSYS", "SIGSEGV"), f"i386 call answered: {kv}"


def test_x32_call_ends_job_signaled_sigsys(hostile):
    r = hostile.run("x32")
    assert r["state"] == "signaled" and r.get("signal") in (signal.SIGSYS, "SIGSYS"), \
        f"an x32 system call did not kill the job with SIGSYS: {r!r}"
    assert "x32=" not in r["stdout"], r["stdout"]


def test_user_namespace_then_mount_fails(hostile):
    # The classic escape path: a fresh user namespace gives full capabilities
    # over a fresh mount namespace. Refused at unshare (seccomp).
    r = hostile.run("syscalls", "unshare_user", "clone_newuser", "unshare_user_then_mount")
    kv = r["kv"]
    for n in ("unshare_user", "clone_newuser", "unshare_user_then_mount"):
        assert kv.get(n) == "EPERM", f"{n}: {kv.get(n)}"


def test_terminal_injection_refused(hostile):
    # stdin is a pipe, so the kernel alone would answer ENOTTY; the filter
    # answers EPERM for TIOCSTI/TIOCLINUX on any descriptor; TIOCSETD too
    # (a line discipline's module loaded on demand into the host's kernel).
    r = hostile.run("syscalls", "ioctl_tiocsti", "ioctl_tioclinux", "ioctl_tiocsetd")
    assert r["kv"] == {"ioctl_tiocsti": "EPERM", "ioctl_tioclinux": "EPERM",
                       "ioctl_tiocsetd": "EPERM"}, r["kv"]
    # No controlling terminal to inject into either.
    r = hostile.run("openw", "/dev/tty")
    assert r["kv"]["/dev/tty"] in ("ENXIO", "ENOENT", "EACCES"), r["kv"]
