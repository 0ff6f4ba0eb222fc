"""The package installs with pip from Debian's setuptools alone, into a venv
that takes msgpack from Debian (--system-site-packages), and is then
imported from the venv, not from the tree."""

import os
import subprocess

import pytest

from conftest import HERE

PACKAGE = os.path.normpath(os.path.join(HERE, ".."))


def test_pip_install_into_a_venv(tmp_path):
    python = "/usr/bin/python3"
    if subprocess.run([python, "-c", "import ensurepip, venv"], capture_output=True).returncode:
        pytest.skip("Debian's python3-venv is not installed")
    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_INDEX_URL")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    # A copy: pip builds in the source folder and must not litter the tree.
    src = tmp_path / "src"
    subprocess.run(["cp", "-r", PACKAGE, str(src)], check=True)
    subprocess.run(["rm", "-rf", str(src / "tests")], check=True)
    cp = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-index",
                         "--no-build-isolation", str(src)],
                        capture_output=True, env=env, timeout=300)
    assert cp.returncode == 0, cp.stdout.decode() + cp.stderr.decode()
    cp = subprocess.run([str(venv / "bin" / "python"), "-c",
                         "import skillbox, msgpack; print(skillbox.__file__); "
                         "print(skillbox.Client.__doc__ is not None)"],
                        capture_output=True, env=env, cwd=str(tmp_path), timeout=60)
    assert cp.returncode == 0, cp.stderr.decode()
    where, documented = cp.stdout.decode().split()
    assert where.startswith(str(venv)), where
    assert documented == "True"
    assert os.path.exists(os.path.join(os.path.dirname(where), "py.typed"))
