#!/usr/bin/python3
"""`meson install --destdir` staging: every file lands where it should.

Usage: check_install.py BUILDDIR SBIN_SKILLBOXD EXPECTED_PATH...
Stages the build into a temporary DESTDIR, then checks each expected path
(absolute install paths, as meson computed them), that the units' ExecStart
names the installed daemon, that the library exports only sb_* symbols, and
that a program compiles and runs against the staged header, pkg-config file
and library.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    builddir, sbin_daemon, expected = sys.argv[1], sys.argv[2], sys.argv[3:]
    meson = shutil.which("meson")
    if not meson:
        print("SKIP: meson is not on PATH")
        return 77
    problems = []
    with tempfile.TemporaryDirectory(prefix="sbinstall-") as dest:
        cp = subprocess.run([meson, "install", "-C", builddir, "--destdir", dest,
                             "--no-rebuild", "--quiet"], capture_output=True, text=True)
        if cp.returncode != 0:
            print(cp.stdout + cp.stderr)
            print("FAIL: meson install failed", file=sys.stderr)
            return 1
        staged = lambda p: os.path.join(dest, p.lstrip("/"))
        for p in expected:
            if not os.path.exists(staged(p)):
                problems.append(f"missing {p}")
        for exe in (sbin_daemon,):
            if os.path.exists(staged(exe)) and not os.access(staged(exe), os.X_OK):
                problems.append(f"{exe} is not executable")
        for unit in [p for p in expected if p.endswith(".service")]:
            if os.path.exists(staged(unit)):
                with open(staged(unit)) as f:
                    text = f.read()
                if f"ExecStart={sbin_daemon}\n" not in text:
                    problems.append(f"{unit}: ExecStart is not {sbin_daemon}")
                if "@" in "".join(l for l in text.splitlines() if not l.startswith("#")):
                    problems.append(f"{unit}: unsubstituted @...@ left")

        libs = [p for p in expected if p.endswith("libskillbox.so.0")]
        pcs = [p for p in expected if p.endswith("skillbox.pc")]
        if libs and os.path.exists(staged(libs[0])):
            nm = subprocess.run(["nm", "-D", "--defined-only", staged(libs[0])],
                                capture_output=True, text=True)
            syms = [l.split()[-1] for l in nm.stdout.splitlines() if len(l.split()) == 3]
            bad = [s for s in syms if not s.startswith("sb_") and s != "SKILLBOX_0"]
            if nm.returncode == 0 and bad:
                problems.append(f"libskillbox exports non-sb_ symbols: {bad[:10]}")
        cc = shutil.which("cc")
        if cc and pcs and os.path.exists(staged(pcs[0])) and shutil.which("pkg-config"):
            pcdir = os.path.dirname(staged(pcs[0]))
            env = dict(os.environ, PKG_CONFIG_PATH=pcdir, PKG_CONFIG_SYSROOT_DIR=dest)
            flags = subprocess.run(["pkg-config", "--cflags", "--libs", "skillbox"],
                                   capture_output=True, text=True, env=env)
            if flags.returncode != 0:
                problems.append(f"pkg-config skillbox: {flags.stderr.strip()}")
            else:
                src = os.path.join(dest, "t.c")
                with open(src, "w") as f:
                    f.write('#include <skillbox.h>\n#include <stdio.h>\n'
                            'int main(void) { printf("%s %s\\n", sb_version(), '
                            'sb_default_socket()); return 0; }\n')
                exe = os.path.join(dest, "t")
                extra = os.environ.get("TEST_CFLAGS", "").split()
                c = subprocess.run([cc, src, "-o", exe] + extra + flags.stdout.split(),
                                   capture_output=True, text=True)
                if c.returncode != 0:
                    problems.append(f"compiling against the staged install: {c.stderr.strip()}")
                else:
                    r = subprocess.run([exe], capture_output=True, text=True,
                                       env=dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(
                                           staged(libs[0])) if libs else ""))
                    if r.returncode != 0 or not r.stdout.strip():
                        problems.append(f"program linked to the staged library: exit "
                                        f"{r.returncode} {r.stderr.strip()}")
        listing = sorted(os.path.relpath(p, dest)
                         for p in glob.glob(os.path.join(dest, "**"), recursive=True)
                         if os.path.isfile(p) and not p.startswith(os.path.join(dest, "t")))
    print("staged files:\n  " + "\n  ".join(listing))
    if problems:
        print("FAIL:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"ok: {len(expected)} expected files installed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
