#!/usr/bin/python3
"""The manual pages cover what the programs accept.

- every key `skillboxd --print-config` prints appears as "Key=" in
  skillboxd.conf.5.scd (so a new key without documentation fails here);
- every long option in `skillboxd --help` appears in skillboxd.8.scd;
- every long option and every command in `skillboxctl --help` and
  `skillboxctl help` appears in skillboxctl.1.scd.
Environment: SKILLBOXD, SKILLBOXCTL (built binaries), MAN_SOURCE_DIR.
"""
import os
import re
import subprocess
import sys


def run(argv):
    cp = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                        stdin=subprocess.DEVNULL)
    if cp.returncode != 0:
        sys.exit(f"FAIL: {' '.join(argv)} exited {cp.returncode}:\n{cp.stdout}{cp.stderr}")
    return cp.stdout


def page(name):
    with open(os.path.join(os.environ["MAN_SOURCE_DIR"], name)) as f:
        return f.read()


def long_options(text):
    return sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text)))


def main():
    daemon, ctl = os.environ["SKILLBOXD"], os.environ["SKILLBOXCTL"]
    missing = []

    conf = page("skillboxd.conf.5.scd")
    printed = run([daemon, "--print-config"])
    keys = sorted(set(re.findall(r"^\s*([A-Za-z][A-Za-z0-9]*)\s*=", printed, re.M)))
    sections = sorted(set(re.findall(r"^\s*\[([A-Za-z]+)", printed, re.M)))
    if len(keys) < 10 or not sections:
        sys.exit(f"FAIL: --print-config printed too little to check:\n{printed}")
    for k in keys:
        if f"*{k}=*" not in conf:
            missing.append(f"skillboxd.conf.5.scd: key {k}= (from --print-config)")
    for s in sections:
        if f"[{s}" not in conf:
            missing.append(f"skillboxd.conf.5.scd: section [{s}]")

    d8 = page("skillboxd.8.scd")
    dopts = long_options(run([daemon, "--help"]))
    for o in dopts:
        if f"*{o}*" not in d8:
            missing.append(f"skillboxd.8.scd: option {o} (from skillboxd --help)")

    c1 = page("skillboxctl.1.scd")
    chelp = run([ctl, "--help"]) + run([ctl, "help"])
    copts = long_options(chelp)
    for o in copts:
        if f"*{o}*" not in c1:
            missing.append(f"skillboxctl.1.scd: option {o} (from skillboxctl --help)")
    m = re.search(r"^Commands:\n(.*?)(?:\n\n|\Z)", chelp, re.S | re.M)
    commands = sorted(set(re.findall(r"^  ([a-z][a-z-]*)\b", m.group(1), re.M))) if m else []
    if not commands:
        missing.append("skillboxctl --help: no Commands: section to check")
    for c in commands:
        if f"*{c}*" not in c1:
            missing.append(f"skillboxctl.1.scd: command {c} (from skillboxctl --help)")

    print(f"checked {len(keys)} config keys, {len(dopts)} skillboxd options, "
          f"{len(copts)} skillboxctl options, {len(commands)} commands")
    if missing:
        print("FAIL: not documented:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 1
    print("ok: the man pages cover every key, option and command")
    return 0


if __name__ == "__main__":
    sys.exit(main())
