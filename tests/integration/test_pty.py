"""Every job has a terminal device of its own to open: /dev/pts is a private
devpts instance and /dev/ptmx points into it, so pty.openpty() works (tools
that need a tty drive one), while the host's ptys and other jobs' stay out of
sight. Linux backend."""
import json
import os

from conftest import parse_json_output

# Inside the job: open a pty, check both ends and its owner, send a line
# through it, list /dev/pts.
OPEN_PTY = r"""
import json, os, pty, stat
m, s = pty.openpty()
name = os.ttyname(s)
st = os.stat(name)
os.write(m, b"through\n")
line = os.read(s, 100)
print(json.dumps({
    "isatty": os.isatty(s), "name": name, "gid": st.st_gid, "mygid": os.getgid(),
    "uid": st.st_uid, "myuid": os.getuid(), "mode": oct(st.st_mode & 0o777),
    "line": line.decode(), "pts": sorted(os.listdir("/dev/pts")),
    "ptmx": os.readlink("/dev/ptmx"),
}))
"""


def run_json(d, code):
    r = parse_json_output(d.ctl("run", "--json", "--", "python3", "-c", code))
    assert r["state"] == "exited" and r["exit_code"] == 0, r
    return json.loads(r["stdout"])


def test_a_job_opens_a_pty_of_its_own_devpts(daemon):
    # A host pty open meanwhile: in a shared instance it would be listed
    # and the job's would get another number.
    hm, hs = os.openpty()
    try:
        out = run_json(daemon, OPEN_PTY)
    finally:
        os.close(hs)
        os.close(hm)
    assert out["isatty"], out
    assert out["ptmx"] == "pts/ptmx", out
    # The instance is the job's: its first pty is number 0 and nothing of
    # the host's is listed.
    assert out["name"] == "/dev/pts/0", out
    assert out["pts"] == ["0", "ptmx"], out
    # The slave belongs to the job (its uid and its group, mode 0620).
    assert out["uid"] == out["myuid"] and out["gid"] == out["mygid"], out
    assert out["mode"] == "0o620", out
    # A line discipline is at work: the line typed on the master is read
    # on the slave (canonical mode).
    assert out["line"] == "through\n", out


# Inside the job: open ptys until refused.
PTY_BOMB = r"""
import errno, json, os
held = []
try:
    while len(held) < 1000:
        held.append(os.openpty())
    print(json.dumps({"opened": len(held), "error": None}))
except OSError as e:
    print(json.dumps({"opened": len(held), "error": errno.errorcode[e.errno]}))
"""


def test_a_job_holds_a_bounded_number_of_ptys(daemon):
    # The kernel's pty pool is shared by all jobs: one job takes at most 64.
    out = run_json(daemon, PTY_BOMB)
    assert out == {"opened": 64, "error": "ENOSPC"}, out
