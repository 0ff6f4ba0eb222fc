"""skillboxctl --mount SRC:DST with SRC a single file (issue 12, item 2's
last sentence): the CLI passes the file by descriptor and the job sees it
at DST, read-only with :ro; anything but a directory or a regular file is
refused before a request is sent.

Defence: client/skillboxctl.c (open_mount_source)."""

import os
import tempfile


def test_a_single_file_mounts_through_skillboxctl(daemon, workdir):
    d = tempfile.mkdtemp(prefix="mf-", dir=str(workdir))
    os.chmod(d, 0o755)
    src = os.path.join(d, "settings.json")
    with open(src, "w") as f:
        f.write('{"k": 1}\n')
    os.chmod(src, 0o644)
    cp = daemon.ctl("run", "--mount", f"{src}:/mnt/cfg/settings.json:ro", "--", "sh", "-c",
                    "cat /mnt/cfg/settings.json; test -f /mnt/cfg/settings.json && echo FILE; "
                    "echo x >> /mnt/cfg/settings.json 2>/dev/null && echo WROTE; true")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == b'{"k": 1}\nFILE\n', cp.stdout
    with open(src) as f:
        assert f.read() == '{"k": 1}\n'


def test_a_mount_source_that_is_neither_is_refused(daemon):
    cp = daemon.ctl("run", "--mount", "/dev/null:/mnt/null", "--", "true")
    assert cp.returncode == 125 and b"neither a directory nor a regular file" in cp.stderr, cp
