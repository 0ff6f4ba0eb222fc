"""Hostile jobs, network: the host's loopback listener, the daemon's socket
by path and by abstract name, a host abstract socket, raw and packet sockets.

Defences: the job's own network namespace (only its own lo), the mount
namespace (the socket path is not there), seccomp (socket families other than
AF_UNIX and AF_INET/6 stream and datagram), Landlock abstract-socket scoping
as a second line."""

from conftest import probe_bytes  # noqa: F401 (keeps the probe dependency explicit)


def test_host_loopback_listener_unreachable(hostile):
    r = hostile.script(f"$P connect 127.0.0.1 {hostile.tcp_port}; $P connect ::1 {hostile.tcp_port}")
    lines = r["stdout"].split()
    assert len(lines) == 2 and "ok" not in lines, f"connect to the host listener: {lines}"
    # hostile's host check asserts the listener never saw a connection.


def test_daemon_socket_unreachable(hostile):
    d = hostile.d
    r = hostile.script(f"$P exists {d.socket}; $P hostile unix {d.socket}; "
                       f"$P hostile abstract {d.socket}; $P hostile unix /run/skillbox/skillboxd.sock")
    lines = r["stdout"].splitlines()
    assert lines[0].startswith("no"), f"daemon socket visible: {lines}"
    assert lines[1] in ("ENOENT", "EACCES", "EPERM"), lines
    assert lines[2] in ("ECONNREFUSED", "EPERM", "EACCES"), lines
    assert lines[3] != "ok", lines


def test_host_abstract_socket_unreachable(hostile):
    r = hostile.run("abstract", hostile.abstract_name)
    assert r["stdout"].strip() in ("ECONNREFUSED", "EPERM", "EACCES"), r["stdout"]


def test_raw_and_packet_sockets_refused(hostile):
    r = hostile.run("syscalls", "socket_packet", "socket_inet_raw", "socket_netlink",
                    "socket_vsock", "socket_inet", "socket_inet6")
    # TCP and UDP reach only the job's own loopback (its netns): allowed.
    assert r["kv"].pop("socket_inet") == "ok" and r["kv"].pop("socket_inet6") == "ok", r
    for k, v in r["kv"].items():
        assert v == "EPERM", f"{k}: {v}"
