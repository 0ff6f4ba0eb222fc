"""skillboxctl run and its stdin: a pipe or a file is passed to the job; a
closed stdin or /dev/null is not (the job gets the daemon's /dev/null and the
run saves the stdin pipe and the stdin_close round trip), and the job reads
EOF at once either way. Also: a linux job is inside its cgroup before it runs
(the child attaches itself on cgroup v1)."""
import os
import subprocess

from conftest import skillboxctl_path

FD0 = 'readlink /proc/self/fd/0; cat; echo end'


def test_devnull_stdin_is_not_sent(daemon):
    cp = daemon.ctl("run", "--", "sh", "-c", FD0, stdin=subprocess.DEVNULL)
    assert cp.returncode == 0, cp
    assert cp.stdout == b"/dev/null\nend\n", cp


def test_closed_stdin_is_not_sent(daemon):
    argv = [skillboxctl_path(), "--socket", daemon.socket, "run", "--", "sh", "-c", FD0]
    cp = subprocess.run(argv, capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
                        preexec_fn=lambda: os.close(0))
    assert cp.returncode == 0, cp
    assert cp.stdout == b"/dev/null\nend\n", cp


def test_piped_stdin_still_reaches_the_job(daemon):
    cp = daemon.ctl("run", "--", "sh", "-c", FD0, input=b"x\n")
    assert cp.returncode == 0, cp
    out = cp.stdout.decode()
    assert out.startswith("pipe:[") and out.endswith("\nx\nend\n"), cp


def test_file_stdin_still_reaches_the_job(daemon, tmp_path):
    p = tmp_path / "in.txt"
    p.write_bytes(b"from a file\n")
    with open(p, "rb") as f:
        cp = daemon.ctl("run", "--", "cat", stdin=f)
    assert cp.returncode == 0, cp
    assert cp.stdout == b"from a file\n", cp


def test_job_runs_inside_its_cgroup(daemon):
    # Every v1 hierarchy (or the v2 one) shows the job cgroup as the root of
    # the job's cgroup namespace: the child was in it before it unshared.
    cp = daemon.ctl("run", "--", "cat", "/proc/self/cgroup")
    assert cp.returncode == 0, cp
    lines = [ln for ln in cp.stdout.decode().splitlines() if ln]
    wanted = [ln for ln in lines
              if any(c in ln.split(":")[1].split(",") for c in ("memory", "pids", "freezer"))
              or ln.startswith("0::")]
    assert wanted, cp.stdout
    for ln in wanted:
        assert ln.split(":", 2)[2] == "/", lines
