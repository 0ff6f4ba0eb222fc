"""examples/skills_host.py end to end: a skill folder, inputs, outputs."""

import json
import os
import subprocess
import sys

from conftest import SOURCE_ROOT

EXAMPLE = os.path.join(SOURCE_ROOT, "examples", "skills_host.py")

SKILL = '''\
import os, sys
names = sorted(os.listdir("/input"))
total = sum(len(open(os.path.join("/input", n)).read().split()) for n in names)
os.makedirs("/work/report", exist_ok=True)
with open("/work/report/words.txt", "w") as f:
    f.write(f"{total}\\n")
try:
    open("/skill/tamper", "w")
except OSError:
    print("skill folder is read-only")
print("args:", " ".join(sys.argv[1:]))
print("counted", len(names), "files")
'''


def run_example(daemon, *args):
    env = dict(os.environ, PYTHONPATH=os.path.join(SOURCE_ROOT, "client", "python"))
    return subprocess.run([sys.executable, EXAMPLE, "--socket", daemon.socket, *args],
                          capture_output=True, timeout=120, env=env)


def test_skills_host_runs_a_skill_with_inputs_and_collects_outputs(daemon, tmp_path):
    os.chmod(tmp_path, 0o755)
    skill, inp, out = tmp_path / "skill", tmp_path / "in", tmp_path / "out"
    skill.mkdir()
    inp.mkdir()
    (skill / "run.py").write_text(SKILL)
    (inp / "a.txt").write_text("one two three\n")
    (inp / "b.txt").write_text("four five\n")
    cp = run_example(daemon, "--json", "--input", str(inp), "--output", str(out),
                     "--memory", "256M", "--timeout", "60", str(skill), "x", "y")
    assert cp.returncode == 0, cp.stderr.decode() + cp.stdout.decode()
    report = json.loads(cp.stdout)
    assert report["state"] == "exited" and report["exit_code"] == 0
    assert report["stdout"] == "skill folder is read-only\nargs: x y\ncounted 2 files\n"
    assert report["outputs"] == ["report/words.txt"]
    assert (out / "report" / "words.txt").read_text() == "5\n"
    assert not (skill / "tamper").exists()


def test_skills_host_reports_a_failing_skill(daemon, tmp_path):
    os.chmod(tmp_path, 0o755)
    skill = tmp_path / "skill"
    skill.mkdir()
    (skill / "run.sh").write_text("echo broken >&2; exit 7\n")
    cp = run_example(daemon, str(skill))
    assert cp.returncode == 7
    assert b"broken" in cp.stderr
    assert b": exited, exit code 7" in cp.stdout
