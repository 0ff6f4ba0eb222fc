"""The shipped units in a guest with systemd as PID 1 and cgroup v2."""
import subprocess


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, **kw)


def test_admin_path():
    for cmd in ["systemd-sysusers", "systemd-tmpfiles --create",
                "systemctl enable --now skillboxd.socket",
                "useradd -m alice", "usermod -aG skillbox alice"]:
        cp = sh(cmd)
        assert cp.returncode == 0, (cmd, cp.stdout, cp.stderr)
    cp = sh("runuser -u alice -- skillboxctl run -- sh -c 'echo hello; id -u'", timeout=120)
    print(sh("journalctl -u skillboxd --no-pager | tail -30").stdout)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert cp.stdout.startswith("hello\n")
