"""The Python client's tests drive a real skillboxd: the integration suite's
Daemon fixture (tests/integration/conftest.py), loaded under another module
name, on a private socket, cgroup and uid range. meson sets SKILLBOXD."""

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
# Import the package from the tree (meson sets PYTHONPATH too).
sys.path.insert(0, os.path.normpath(os.path.join(HERE, "..")))


def _load_integration():
    path = os.path.join(SOURCE_ROOT, "tests", "integration", "conftest.py")
    spec = importlib.util.spec_from_file_location("skillbox_integration", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["skillbox_integration"] = mod
    spec.loader.exec_module(mod)
    return mod


integration = _load_integration()

# The fixtures and the report hook the daemon fixture's teardown reads.
daemon = integration.daemon
workdir = integration.workdir
pytest_runtest_makereport = integration.pytest_runtest_makereport
