"""skillboxctl and a job's terminal escapes: on a terminal the job's output
shows its controls instead of obeying them (clipboard writes, screen
clears); --raw passes them; a pipe gets the bytes as they are."""

import os
import pty
import select
import subprocess

from conftest import skillboxctl_path

# OSC 52 (clipboard write), a screen clear, a title change with BEL, a C1
# CSI as UTF-8, a stray byte, then plain text that must arrive untouched.
NASTY = (b"\x1b]52;c;aGFja2Vk\x07" b"\x1b[2J\x1b[H" b"\x1b]0;owned\x07"
         b"\xc2\x9b" b"31m" b"\xff" b"caf\xc3\xa9\tok\n")
PRINTF = "printf '\\033]52;c;aGFja2Vk\\007\\033[2J\\033[H\\033]0;owned\\007\\302\\2333" \
         "1m\\377caf\\303\\251\\tok\\n'"


def _run_on_pty(daemon, *args, stderr_too=False):
    """skillboxctl with stdout (and stderr) on a pty; returns what the
    terminal received and the exit status."""
    master, slave = pty.openpty()
    try:
        # Raw mode on the slave: no \n -> \r\n translation to undo.
        subprocess.run(["stty", "raw", "-echo"], stdin=slave, check=True)
        p = subprocess.Popen([skillboxctl_path(), "--socket", daemon.socket, *args],
                             stdin=subprocess.DEVNULL, stdout=slave,
                             stderr=slave if stderr_too else subprocess.PIPE)
        os.close(slave)
        slave = -1
        got = b""
        while True:
            r, _, _ = select.select([master], [], [], 30)
            if not r:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:     # EIO: every slave end closed
                break
            if not chunk:
                break
            got += chunk
        return got, p.wait(timeout=30)
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


def test_terminal_sees_controls_as_text(daemon):
    got, rc = _run_on_pty(daemon, "run", "--", "sh", "-c", PRINTF)
    assert rc == 0, got
    assert b"\x1b" not in got and b"\x07" not in got and b"\xc2\x9b" not in got, got
    assert got == (b"^[]52;c;aGFja2Vk^G^[[2J^[[H^[]0;owned^G\\u009b31m\\xff"
                   b"caf\xc3\xa9\tok\n"), got


def test_terminal_stderr_filtered_too(daemon):
    got, rc = _run_on_pty(daemon, "run", "--", "sh", "-c", PRINTF + " >&2", stderr_too=True)
    assert rc == 0, got
    assert b"\x1b" not in got and b"^[]52;c;" in got, got


def test_raw_passes_controls_to_the_terminal(daemon):
    got, rc = _run_on_pty(daemon, "run", "--raw", "--", "sh", "-c", PRINTF)
    assert rc == 0, got
    assert got == NASTY, got


def test_pipe_gets_bytes_as_they_are(daemon):
    cp = daemon.ctl("run", "--", "sh", "-c", PRINTF)
    assert cp.returncode == 0, cp
    assert cp.stdout == NASTY, cp.stdout
    cp = daemon.ctl("run", "--", "sh", "-c", PRINTF + " >&2")
    assert cp.stderr == NASTY, cp.stderr


def test_ps_shows_a_command_s_controls_as_text(daemon):
    # Any client picks its job's argv; an admin's `ps` must not obey it.
    with daemon.rpc() as c:
        job = c.exec(["sh", "-c", "sleep 30", "\x1b]52;c;aGk=\x07\x1b[2J", "a\nb"])
        cp = daemon.ctl("ps")
        c.ok("kill", {"job": job})
        c.wait_exit(job)
    assert cp.returncode == 0, cp
    row = [ln for ln in cp.stdout.split(b"\n") if ln.startswith(job.encode())]
    assert len(row) == 1, cp.stdout
    assert b"\x1b" not in cp.stdout and b"\x07" not in cp.stdout, cp.stdout
    assert b"^[]52;c;aGk=^G^[[2J a b" in row[0], row
