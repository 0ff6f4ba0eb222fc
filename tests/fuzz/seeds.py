#!/usr/bin/python3
"""Write the hand-made seeds of corpus/request and corpus/config.

    tests/fuzz/seeds.py [CORPUS_DIR]     (default: tests/fuzz/corpus)

The seeds are small, valid inputs for every method and every config key, plus
a few refusals that reach the checks behind the type checks. The corpus in the
tree is these seeds merged with what short fuzzing runs added (run.sh -merge);
re-running this script only rewrites the seed-* files.
"""
import os
import sys

import msgpack

# The order of SBP_METHODS in protocol/sbp.h: fuzz_request's first byte,
# when it is below 0x80.
METHODS = ["hello", "exec", "wait", "kill", "list", "inspect", "stdin_write",
           "stdin_close", "stats", "profiles", "resize", "job_connect", "sandbox_create",
           "sandbox_destroy", "sandbox_list", "work_fd"]


def request(method, params):
    return bytes([METHODS.index(method)]) + msgpack.packb(params, use_bin_type=True)


def named(name, params):
    """A method given by name (any bytes): fuzz_request's first byte is then
    0x80 + the name's length - 1."""
    return bytes([0x80 | (len(name) - 1)]) + name + msgpack.packb(params, use_bin_type=True)


def raw_str(method, params):
    """Params whose bytes values go as str, whatever they hold (not UTF-8)."""
    return bytes([METHODS.index(method)]) + msgpack.packb(params, use_bin_type=False)


REQUESTS = {
    "exec-utf8": request("exec", {"argv": ["echo", "\u00e9t\u00e9 \u20ac \U0001f600"],
                                  "env": {"N\u00c4ME": "\U0010ffff"}}),
    "exec-not-utf8": raw_str("exec", {b"argv": [b"echo", b"\xff\xfe"]}),
    "exec-env-overlong": raw_str("exec", {b"argv": [b"env"], b"env": {b"A": b"\xc0\xaf"}}),
    "hello-surrogate": raw_str("hello", {b"client": b"\xed\xa0\x80"}),
    "named-exec": named(b"exec", {"argv": ["true"]}),
    "named-unknown": named(b"\xff\xfe\x1b[2J\x00x", {}),
    "hello": request("hello", {"client": "skillboxctl", "protocol": 1}),
    "hello-empty": request("hello", {}),
    "exec-min": request("exec", {"argv": ["true"]}),
    "exec-all": request("exec", {
        "argv": ["sh", "-c", "echo hi"], "env": {"A": "1", "LANG": "C"},
        "profile": "strict", "memory_max": 64 << 20, "tasks_max": 16,
        "cpu_percent": 50, "timeout_ms": 5000, "detach": True, "stdin": True,
        "output_max": 1 << 20, "workdir_fd": 0,
        "mounts": [{"fd": 1, "target": "/skill", "read_only": True},
                   {"fd": 2, "target": "/data/in"}]}),
    "exec-mounts-overlap": request("exec", {
        "argv": ["true"], "mounts": [{"fd": 0, "target": "/data"},
                                     {"fd": 1, "target": "/data/x"}]}),
    "exec-mount-dotdot": request("exec", {
        "argv": ["true"], "mounts": [{"fd": 0, "target": "/mnt/../etc"}]}),
    "exec-env-dup": request("exec", {"argv": ["true"], "env": {"A": "1", "A ": "2"}}),
    "exec-unknown-field": request("exec", {"argv": ["true"], "uid": 0}),
    "wait": request("wait", {"job": "j-1a2b3c"}),
    "kill": request("kill", {"job": "j-1a2b3c"}),
    "inspect": request("inspect", {"job": "j-1a2b3c"}),
    "stdin_write": request("stdin_write", {"job": "j-1a2b3c", "data": b"line\n"}),
    "stdin_write-empty": request("stdin_write", {"job": "j-1a2b3c", "data": b""}),
    "stdin_close": request("stdin_close", {"job": "j-1a2b3c"}),
    "list": request("list", {}),
    "stats": request("stats", {}),
    "profiles": request("profiles", {}),
    "job-bad-id": request("wait", {"job": "J/../x"}),
    "exec-tty": request("exec", {"argv": ["sh"], "tty": True, "rows": 50, "cols": 132}),
    "exec-size-no-tty": request("exec", {"argv": ["sh"], "rows": 50}),
    "resize": request("resize", {"job": "j-1a2b3c", "rows": 40, "cols": 120}),
    "resize-zero": request("resize", {"job": "j-1a2b3c", "rows": 0, "cols": 120}),
    "job-connect": request("job_connect", {"job": "j-1a2b3c", "port": 8000}),
    "sandbox-create": request("sandbox_create", {"profile": "default", "memory_max": 1 << 28}),
    "sandbox-destroy": request("sandbox_destroy", {"sandbox": "sbx-0123456789ab"}),
    "sandbox-list": request("sandbox_list", {}),
    "work-fd": request("work_fd", {"job": "j-1a2b3c"}),
    "exec-keep-work": request("exec", {"argv": ["true"], "keep_work": True}),
    "exec-in-sandbox": request("exec", {"argv": ["true"], "sandbox": "sbx-0123456789ab"}),
    "exec-publish": request("exec", {"argv": ["python3", "-m", "http.server"],
                                     "publish": [8000, 8001]}),
    "exec-publish-again": request("exec", {"argv": ["true"], "publish": [8000, 8000]}),
}

CONFIGS = {
    "min-daemon": "[Daemon]\nMaxJobs=8\n",
    "access": "[Access]\nAdmins=root @wheel\nClients=alice bob$ @skillbox\nClients=carol\n",
    "profile-new": "[Profile fast]\nMemoryMax=1G\nRuntimeMaxSec=1min 30s\nCPUQuota=200%\n",
    "profile-default": (
        "[Profile default]\nMemoryMax=infinity\nTasksMax=infinity\nCPUQuota=\n"
        "RuntimeMaxSec=infinity\nPrivateNetwork=no\nTmpSize=4K\nOutputMax=infinity\n"
        "OutputTruncate=yes\nSystemCallFilter=@debug @keyring\nRequire=\n"
        "AllowedUsers=alice @team\n"),
    "times": (
        "[Daemon]\nRetainSec=1h 2min 3s 4ms 5us\n[Profile t]\nRuntimeMaxSec=2 weeks\n"
        "[Profile u]\nRuntimeMaxSec=1usec\n"),
    "sizes": "[Profile s]\nMemoryMax=3T\nTmpSize=1048576B\nOutputMax=512K\n",
    "daemon-all": (
        "[Daemon]\nSocket=/tmp/s.sock\nSocketGroup=\nSocketMode=0600\nStateDirectory=/srv/sb\n"
        "Backend=posix\nCgroupName=sb.test\nUidRange=100000-100999\nMaxConnections=1\n"
        "MaxConnectionsPerUser=1000000\nMaxJobs=1\nMaxJobsPerUser=1\nRetainSec=0\n"
        "MaxRetainedJobs=5\nPreparedSandboxes=64\nLogLevel=debug\n"),
    "errors": (
        "Key=outside\n[Nope]\nX=1\n[Daemon]\nSocketMode=0400\nUidRange=5-1\n"
        "[Profile bad name]\n[Profile a]\nMemoryMax=1K\nReadOnlyPaths=/usr\n"
        "SystemCallFilter=~@debug\nRequire=magic\n[Profile a]\n  [Access]\nnot a pair\n"),
    "syntax": "; comment\n# comment\n[Daemon\nLogLevel = warning ; inline\n\n[Access]\nAdmins=\n",
    "long-line": "[Daemon]\nSocket=/" + "x" * 5000 + "\n",
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    with open(os.path.join(os.path.dirname(os.path.dirname(here)), "config",
                           "skillboxd.conf"), encoding="utf-8") as f:
        CONFIGS["example"] = f.read()
    for target, seeds, binary in (("request", REQUESTS, True), ("config", CONFIGS, False)):
        os.makedirs(os.path.join(root, target), exist_ok=True)
        for name, data in seeds.items():
            path = os.path.join(root, target, "seed-" + name)
            with open(path, "wb") as f:
                f.write(data if binary else data.encode())


if __name__ == "__main__":
    main()
