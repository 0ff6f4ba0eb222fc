"""A real /etc: what common tools read from the host's /etc (CA certificates,
fonts configuration, os-release, mime.types, services, protocols) is bound
read-only into every job when the host has it; the job's own passwd, group
and hosts stay generated."""
import json
import os
import shutil

import pytest


def run_json(daemon, *argv, opts=()):
    cp = daemon.ctl("run", "--json", *opts, "--", *argv)
    assert cp.returncode == 0, cp.stderr
    res = json.loads(cp.stdout)
    return res


def run_py(daemon, code):
    res = run_json(daemon, "/usr/bin/python3", "-c", code)
    assert res["exit_code"] == 0, res
    return res["stdout"]


needs_python = pytest.mark.skipif(not os.path.exists("/usr/bin/python3"),
                                  reason="the job runs the host's /usr/bin/python3")


@needs_python
def test_ca_certificates_loaded_by_default_context(daemon):
    import ssl
    if ssl.create_default_context().cert_store_stats()["x509_ca"] == 0:
        pytest.skip("the host itself has no CA certificates in OpenSSL's default paths")
    out = run_py(daemon, "import ssl; print(ssl.create_default_context().cert_store_stats()['x509_ca'])")
    assert int(out) > 0


def test_fonts_configuration_readable(daemon):
    if not os.path.exists("/etc/fonts/fonts.conf"):
        pytest.skip("the host has no fontconfig configuration (/etc/fonts/fonts.conf)")
    res = run_json(daemon, "head", "-c", "5", "/etc/fonts/fonts.conf")
    assert res["exit_code"] == 0, res
    assert res["stdout"] == "<?xml"
    if shutil.which("fc-match") and os.path.exists("/usr/bin/fc-match"):
        res = run_json(daemon, "/usr/bin/fc-match", "sans")
        assert res["exit_code"] == 0, res
        assert "Fontconfig error" not in res["stderr"], res["stderr"]


def test_os_release_readable(daemon):
    if not os.path.exists("/etc/os-release"):
        pytest.skip("the host has no /etc/os-release")
    with open("/etc/os-release") as f:
        host = f.read()
    res = run_json(daemon, "cat", "/etc/os-release")
    assert res["exit_code"] == 0, res
    assert res["stdout"] == host


@needs_python
def test_mimetypes_guess_docx(daemon):
    if not os.path.exists("/etc/mime.types"):
        pytest.skip("the host has no /etc/mime.types")
    out = run_py(daemon, "import mimetypes; print(mimetypes.guess_type('a.docx')[0])")
    assert out.strip() == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@needs_python
def test_services_and_protocols_resolve(daemon):
    if not (os.path.exists("/etc/services") and os.path.exists("/etc/protocols")):
        pytest.skip("the host has no /etc/services or /etc/protocols")
    out = run_py(daemon, "import socket; print(socket.getservbyname('https', 'tcp'), "
                         "socket.getprotobyname('tcp'))")
    assert out.split() == ["443", "6"]


def test_host_etc_binds_read_only_noexec(daemon):
    if not os.path.isdir("/etc/ssl"):
        pytest.skip("the host has no /etc/ssl")
    res = run_json(daemon, "sh", "-c", "grep ' /etc/ssl ' /proc/self/mountinfo; "
                                       "touch /etc/ssl/x 2>&1; echo rc=$?")
    assert res["exit_code"] == 0, res
    line = res["stdout"].splitlines()[0]
    opts = line.split()[5].split(",")
    for o in ("ro", "nosuid", "nodev", "noexec"):
        assert o in opts, line
    assert "rc=0" not in res["stdout"]


def test_hosts_is_the_jobs_own(daemon):
    res = run_json(daemon, "cat", "/etc/hosts")
    assert res["exit_code"] == 0, res
    names = {w for line in res["stdout"].splitlines() for w in line.split()[1:]}
    assert names == {"localhost", "skillbox"}


def _cgroup_v2_host():
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def test_job_reads_its_memory_limit_and_cannot_write_it(daemon):
    """Runtimes (Node, the JVM, Go) size their heaps by the cgroup limit they
    find under /sys/fs/cgroup: the job's own must be there, read-only."""
    limit = 96 * 1024 * 1024
    f = "/sys/fs/cgroup/memory.max" if _cgroup_v2_host() else \
        "/sys/fs/cgroup/memory/memory.limit_in_bytes"
    res = run_json(daemon, "sh", "-c", f"cat {f}; echo 1 > {f} 2>/dev/null; echo rc=$?; "
                                       f"cat {f}; ls /sys",
                   opts=("--memory", "96M"))
    assert res["exit_code"] == 0, res
    lines = res["stdout"].split()
    assert lines[0] == str(limit), res
    assert lines[1] != "rc=0" and lines[2] == str(limit), res
    # Nothing of /sys but the cgroup tree.
    assert lines[3:] == ["fs"], res


def test_job_cgroup_is_its_own_not_its_parents(daemon):
    """The tree shown is the job's cgroup alone: no sibling job cgroups and
    no parent's files (a job cgroup has no child cgroups of its own)."""
    d = "/sys/fs/cgroup" if _cgroup_v2_host() else "/sys/fs/cgroup/memory"
    res = run_json(daemon, "sh", "-c", f"find {d} -mindepth 1 -type d | wc -l; "
                                       f"grep -c . {d}/cgroup.procs")
    assert res["exit_code"] == 0, res
    dirs, procs = res["stdout"].split()
    assert dirs == "0", res
    assert int(procs) >= 1, res


def test_every_host_bind_has_its_flags_and_the_root_stays_exec(daemon):
    """Per mount, in the job's own mount table: the configuration binds
    (/etc, /sys/fs/cgroup) are ro nosuid nodev noexec, the program binds
    (/usr, /bin & co.) ro nosuid nodev and exec, the root ro nosuid nodev
    and exec (its links lead into /usr)."""
    res = run_json(daemon, "cat", "/proc/self/mountinfo")
    assert res["exit_code"] == 0, res
    opts = {}
    for line in res["stdout"].splitlines():
        f = line.split()
        opts[f[4]] = set(f[5].split(","))
    base = {"ro", "nosuid", "nodev"}
    assert base <= opts["/"] and "noexec" not in opts["/"], opts["/"]
    assert base <= opts["/usr"] and "noexec" not in opts["/usr"], opts["/usr"]
    etc = [m for m in opts if m.startswith("/etc/")]
    cg = [m for m in opts if m == "/sys/fs/cgroup" or m.startswith("/sys/fs/cgroup/")]
    assert etc and cg, sorted(opts)
    for m in etc + cg:
        assert base | {"noexec"} <= opts[m], (m, opts[m])
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if top in opts:
            assert base <= opts[top] and "noexec" not in opts[top], (top, opts[top])
