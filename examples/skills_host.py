#!/usr/bin/env python3
"""Run a skill's script in a skillbox sandbox and collect what it produced.

    examples/skills_host.py [options] SKILL_DIR [ARG...]

The skill folder is mounted read-only at /skill, the --input directory (if
any) read-only at /input, and a fresh working directory on the host at /work
(the job's home and working directory). The entry script is --entry, else the
first of run, run.sh, run.py, main.py in the folder: .py runs with python3,
.sh with sh, anything else is executed as is. After the job, the files it left
in /work are listed, copied to --output if given, and the result is printed
(or, with --json, printed as one JSON object). The exit status is the job's
exit code, 124 on a timeout, 125 when the job could not run.

Run from the source tree without installing: PYTHONPATH=client/python.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
from typing import Any, Dict, List

import skillbox

ENTRIES = ("run", "run.sh", "run.py", "main.py")


def entry_argv(skill_dir: str, entry: str, args: List[str]) -> List[str]:
    """The job's argv for the skill's entry script, as seen inside the sandbox."""
    if not os.path.isfile(os.path.join(skill_dir, entry)):
        raise SystemExit(f"skills_host: {skill_dir} has no {entry}")
    inside = "/skill/" + entry
    if entry.endswith(".py"):
        return ["python3", inside] + args
    if entry.endswith(".sh"):
        return ["sh", inside] + args
    return [inside] + args


def find_entry(skill_dir: str) -> str:
    for name in ENTRIES:
        if os.path.isfile(os.path.join(skill_dir, name)):
            return name
    raise SystemExit(f"skills_host: no entry script ({', '.join(ENTRIES)}) in {skill_dir}")


def collect(work: str, output: str) -> List[str]:
    """Relative paths of the regular files under work (copied to output if
    given); symlinks the job made are listed, never followed."""
    found = []
    for root, dirs, files in os.walk(work):
        for name in files:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, work)
            found.append(rel)
            if output and not os.path.islink(path):
                dest = os.path.join(output, rel)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copyfile(path, dest, follow_symlinks=False)
    return sorted(found)


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("skill", help="the skill folder, mounted read-only at /skill")
    ap.add_argument("args", nargs="*", help="arguments for the entry script")
    ap.add_argument("--entry", help="the script to run, relative to the skill folder")
    ap.add_argument("--input", help="a directory mounted read-only at /input")
    ap.add_argument("--output", help="copy the files the skill left in /work here")
    ap.add_argument("--socket", help="skillboxd's socket (default $SKILLBOX_SOCKET or the system one)")
    ap.add_argument("--profile", help="the daemon profile to run under")
    ap.add_argument("--memory", help="memory limit, e.g. 256M")
    ap.add_argument("--timeout", type=float, help="wall clock timeout in seconds")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    opts = ap.parse_args(argv)

    skill = os.path.abspath(opts.skill)
    argv_job = entry_argv(skill, opts.entry or find_entry(skill), opts.args)
    mounts = [skillbox.Mount(skill, "/skill", read_only=True)]
    if opts.input:
        mounts.append(skillbox.Mount(os.path.abspath(opts.input), "/input", read_only=True))

    work = tempfile.mkdtemp(prefix="skill-work-")
    try:
        with skillbox.Client(opts.socket) as client:
            try:
                r = client.run(argv_job, profile=opts.profile, memory=opts.memory,
                               timeout=opts.timeout, workdir=work, mounts=mounts)
            except skillbox.Error as e:
                print(f"skills_host: the daemon refused the job: {e}", file=sys.stderr)
                return 125
        outputs = collect(work, opts.output)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    report: Dict[str, Any] = {
        "job": r.job, "state": r.state, "exit_code": r.exit_code, "signal": r.signal,
        "error": r.error, "accounting": r.accounting, "outputs": outputs,
        "stdout": r.stdout.decode(errors="replace"), "stderr": r.stderr.decode(errors="replace"),
    }
    if opts.json:
        print(json.dumps(report, indent=2))
    else:
        sys.stdout.write(report["stdout"])
        sys.stderr.write(report["stderr"])
        print(f"--- job {r.job}: {r.state}"
              + (f", exit code {r.exit_code}" if r.exit_code is not None else "")
              + (f" ({r.error})" if r.error else "")
              + f"; {r.wall_ms} ms wall, {r.cpu_ms} ms CPU, peak memory {r.memory_peak} bytes")
        for rel in outputs:
            print(f"output: {rel}" + (f" -> {os.path.join(opts.output, rel)}" if opts.output else ""))
    if r.state == "exited":
        return r.exit_code or 0
    return 124 if r.state == "timeout" else 125


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
