#!/usr/bin/python3
"""systemd-analyze verify on the generated skillboxd units.

Usage: verify_units.py SKILLBOXD UNIT...
The units are copied into a temporary directory with ExecStart= pointing at
SKILLBOXD (the built daemon), since verify requires the binary to exist and
the install path usually does not yet. Exits 77 (skip) without
systemd-analyze. Any diagnostic about our units fails the test, warnings
included.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    daemon, units = sys.argv[1], sys.argv[2:]
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("SKIP: systemd-analyze is not installed")
        return 77
    with tempfile.TemporaryDirectory(prefix="sbunits-") as tmp:
        paths = []
        for u in units:
            with open(u) as f:
                text = f.read()
            text = re.sub(r"^ExecStart=\S+", "ExecStart=" + daemon, text, flags=re.M)
            p = os.path.join(tmp, os.path.basename(u))
            with open(p, "w") as f:
                f.write(text)
            paths.append(p)
        cp = subprocess.run([analyze, "verify", "--man=no"] + paths,
                            capture_output=True, text=True,
                            env=dict(os.environ, SYSTEMD_LOG_LEVEL="notice"))
        out = (cp.stdout + cp.stderr).strip()
        print(f"systemd-analyze verify: exit {cp.returncode}")
        if out:
            print(out)
        ours = [l for l in out.splitlines()
                if any(os.path.basename(p) in l for p in paths)]
        if cp.returncode != 0 or ours:
            print("FAIL: diagnostics about the skillboxd units", file=sys.stderr)
            return 1
    print("ok: skillboxd.service and skillboxd.socket verify cleanly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
