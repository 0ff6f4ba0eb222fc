"""Network allowlist where the job shares the host's loopback: the posix
backend, run here, takes the path the macOS one takes (backends/egress_host.c).
The backend listens for the job's proxy on 127.0.0.1 at a port of the job's
own, the job's HTTP_PROXY and friends name that port, and tools that honour
them reach exactly the allowlist. Nothing else confines a posix job's
network, and the reports say so; on macOS Seatbelt adds the confinement.
"""

import os

from conftest import Daemon, finish_daemon, parse_json_output, require_root
from test_config import write
from test_egress import INDEX_HOST, index, require_proxy  # noqa: F401 (fixture)

PROXY_KEYS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


def posix_egress_daemon(request, workdir, index):
    require_root()
    require_proxy()
    conf = f"[Profile pkg]\nNetwork=allowlist\nAllowedHosts={INDEX_HOST}:{index.port}\n"
    path = write(os.path.join(workdir, "egress.conf"), conf)
    d = Daemon(workdir, backend="posix", extra_args=["--config", path]).start()
    request.addfinalizer(lambda: finish_daemon(d, request))
    return d


def run_json(d, *argv):
    cp = d.ctl("run", "--json", "--timeout", "60s", "--profile", "pkg", "--", *argv, timeout=120)
    return parse_json_output(cp)


def proxy_port(env):
    urls = {env[k] for k in PROXY_KEYS}
    assert len(urls) == 1, env
    url = urls.pop()
    assert url.startswith("http://127.0.0.1:"), url
    return int(url.rsplit(":", 1)[1])


def test_posix_allowlist_job_reaches_the_index_through_its_proxy(request, workdir, index):
    d = posix_egress_daemon(request, workdir, index)
    url = f"{index.url}/hello.txt"
    # The environment, then the listed host through the proxy, then an
    # unlisted one: the proxy's refusal (403) shows the request went there.
    script = (f"env; curl -sS {url}; "
              f"curl -sS -o /dev/null -w 'curl=%{{http_code}}\\n' http://{INDEX_HOST}:1/")
    r = run_json(d, "sh", "-c", script)
    assert r["state"] == "exited" and r["exit_code"] == 0, r
    lines = r["stdout"].splitlines()
    env = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("curl="))
    port = proxy_port(env)
    # A port of the job's own on the host's loopback, not the fixed one a
    # Linux job has in its own namespace.
    assert port != 3128, env
    assert env["NO_PROXY"] == env["no_proxy"] == "localhost,127.0.0.1,::1", env
    assert "hello through the proxy" in lines, r
    assert "curl=403" in lines, r
    denied = {x["what"] for x in r.get("denied") or []}
    assert f"{INDEX_HOST}:1" in denied, r.get("denied")
    # Honest: nothing stops a direct connection on posix.
    assert not r["enforced"].get("network"), r["enforced"]
    assert r["enforced"]["guarantees"]["network"] == "absent", r["enforced"]


def test_posix_allowlist_jobs_get_ports_of_their_own(request, workdir, index):
    d = posix_egress_daemon(request, workdir, index)
    with d.rpc() as c:
        # The first job holds its listener (it waits on its stdin) while
        # the second one runs.
        first = c.exec(["sh", "-c", "env; cat >/dev/null"], profile="pkg", stdin=True)
        second = c.exec(["env"], profile="pkg")
        outs = [c.wait_exit(second, timeout=60)]
        c.send_stdin(first, b"")
        outs.append(c.wait_exit(first, timeout=60))
    ports = []
    for out, _, res in outs:
        assert res["state"] == "exited" and res["exit_code"] == 0, res
        env = dict(line.split("=", 1) for line in out.decode().splitlines() if "=" in line)
        ports.append(proxy_port(env))
    assert ports[0] != ports[1], ports


def test_posix_hello_does_not_claim_allowlist(request, workdir, index):
    d = posix_egress_daemon(request, workdir, index)
    with d.rpc(timeout=10) as c:
        err, res = c.call("hello", {})
    assert err is None, err
    assert "allowlist" not in res["network_modes"], res
