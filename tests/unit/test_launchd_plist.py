#!/usr/bin/python3
"""The LaunchDaemon plist (launchd/), parsed back as launchd reads it: a
daemon started by its socket, the socket under the name skillboxd asks
launchd for (daemon/service_launchd.c), at the configured path.

usage: test_launchd_plist.py PLIST SERVICE_LAUNCHD_C SOCKET_PATH"""
import plistlib
import re
import sys


def main(plist_path, service_src, socket_path):
    with open(plist_path, "rb") as f:
        p = plistlib.load(f)
    errors = []

    def check(ok, what):
        if not ok:
            errors.append(what)

    check(p.get("Label") == "org.skillbox.skillboxd", "Label")
    args = p.get("ProgramArguments", [])
    check(len(args) >= 1 and args[0].startswith("/") and args[0].endswith("/skillboxd"),
          f"ProgramArguments[0] is an absolute path to skillboxd: {args}")
    check("Program" not in p or p["Program"] == args[0], "Program agrees")

    with open(service_src) as f:
        m = re.search(r'#define LAUNCHD_SOCKET_NAME "([^"]+)"', f.read())
    check(m is not None, "service_launchd.c defines LAUNCHD_SOCKET_NAME")
    sockets = p.get("Sockets", {})
    name = m.group(1) if m else None
    check(list(sockets) == [name], f"Sockets holds exactly {name!r}: {list(sockets)}")
    s = sockets.get(name, {})
    if isinstance(s, list):   # launchd also takes an array of sockets
        check(len(s) == 1, "one socket")
        s = s[0] if s else {}
    check(s.get("SockPathName") == socket_path,
          f"SockPathName {s.get('SockPathName')!r} is {socket_path!r}")
    check(s.get("SockType", "stream") == "stream", "a stream socket")
    check(s.get("SockPathMode") == 0o666, "mode 0666: skillboxd checks every peer itself")
    check("SockNodeName" not in s and "SockServiceName" not in s, "no TCP listener")

    # Started on demand; never started again after a clean exit (a drain).
    check(p.get("RunAtLoad", False) is False, "not RunAtLoad")
    check(p.get("KeepAlive") != True, "KeepAlive is not unconditional")
    check(isinstance(p.get("ExitTimeOut"), int) and p["ExitTimeOut"] >= 10,
          "ExitTimeOut leaves the drain its time")
    check("UserName" not in p, "runs as root (a uid per job)")

    for e in errors:
        print(f"{plist_path}: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
