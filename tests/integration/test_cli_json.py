"""skillboxctl --json when a request is refused: stdout holds one JSON record
{"error": {"code", "message"}} (a script parsing stdout always gets a value),
the human text stays on stderr, and the exit status stays 125."""
import json
import os

from conftest import ctl, parse_json_output

GIB = 1024 ** 3


def error_record(cp):
    assert cp.returncode == 125, cp
    assert cp.stdout.count(b"\n") == 1, cp
    rec = parse_json_output(cp)
    assert list(rec) == ["error"], rec
    assert sorted(rec["error"]) == ["code", "message"], rec
    assert rec["error"]["message"] and rec["error"]["message"] in cp.stderr.decode(), cp
    return rec["error"]


def test_run_over_the_profile_limit(daemon):
    # The default profile gives 512M; asking for more is the daemon's refusal.
    cp = daemon.ctl("run", "--json", "--memory", "2G", "--", "true")
    err = error_record(cp)
    assert err["code"] == "PermissionDenied", err
    assert "memory_max" in err["message"], err
    assert not err["message"].startswith("PermissionDenied"), err


def test_run_unknown_profile(daemon):
    err = error_record(daemon.ctl("run", "--json", "--profile", "nope", "--", "true"))
    assert err["code"] == "NotFound", err


def test_wait_unknown_job(daemon):
    err = error_record(daemon.ctl("wait", "--json", "j-0000000000"))
    assert err["code"] in ("NotFound", "InvalidArgument"), err


def test_inspect_unknown_job(daemon):
    # inspect always prints JSON, so its refusal is a record too.
    err = error_record(daemon.ctl("inspect", "j-0000000000"))
    assert err["code"] in ("NotFound", "InvalidArgument"), err


def test_no_daemon(workdir):
    sock = os.path.join(workdir, "none.sock")
    for args in (["run", "--json", "--", "true"], ["ps", "--json"], ["stats", "--json"],
                 ["profiles", "--json"], ["wait", "--json", "j-1"], ["inspect", "j-1"]):
        err = error_record(ctl(sock, *args))
        assert err["code"] == "ConnectionFailed", (args, err)
        assert sock in err["message"], err


def test_without_json_stdout_stays_empty(daemon):
    cp = daemon.ctl("run", "--memory", "2G", "--", "true")
    assert cp.returncode == 125 and cp.stdout == b"", cp
    assert b"PermissionDenied" in cp.stderr, cp


def test_office_profile(daemon):
    """The shipped office profile: listed with its limits, and a job under it
    runs with them."""
    cp = daemon.ctl("profiles", "--json")
    assert cp.returncode == 0, cp
    by = {p["name"]: p for p in json.loads(cp.stdout)}
    office = by["office"]
    assert office["memory_max"] == GIB, office
    assert office["tasks_max"] == 256, office
    assert office["timeout_ms"] == 120000, office
    assert office["tmp_size"] == 512 * 1024 ** 2, office
    assert office["work_size_max"] == GIB, office
    assert office["network"] == by["default"]["network"], office

    cp = daemon.ctl("run", "--json", "--profile", "office", "--", "true")
    res = parse_json_output(cp)
    assert cp.returncode == 0, cp
    e = res["enforced"]
    assert e["memory_max"] == GIB and e["tasks_max"] == 256, e
    assert e["timeout_ms"] == 120000 and e["work_size_max"] == GIB, e
