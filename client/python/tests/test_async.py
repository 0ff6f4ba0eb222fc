"""The asyncio client against a real daemon."""

import asyncio
import os

import pytest

import skillbox


def arun(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_concurrent_jobs_on_one_connection(daemon):
    async def main():
        async with skillbox.AsyncClient(daemon.socket) as c:
            # Each sleeps a little and prints its number; all run at once.
            jobs = [c.run(["sh", "-c", f"sleep 0.2; echo job{i}; exit {i}"]) for i in range(6)]
            results = await asyncio.gather(*jobs)
            for i, r in enumerate(results):
                assert r.state == "exited" and r.exit_code == i
                assert r.stdout == f"job{i}\n".encode()
            assert len({r.job for r in results}) == 6
    arun(main())


def test_jobs_really_overlap(daemon):
    # Two jobs that can only finish together: each waits for the other's
    # line on its stdin, which the test relays.
    async def main():
        async with skillbox.AsyncClient(daemon.socket) as c:
            script = 'echo "hi from $0"; read other; echo "saw $other"'
            a = await c.start(["sh", "-c", script, "a"], stdin=True)
            b = await c.start(["sh", "-c", script, "b"], stdin=True)

            async def relay(src, dst):
                async for stream, data in src:
                    if stream == "stdout" and data.startswith(b"hi"):
                        await dst.write_stdin(data)
                        await dst.close_stdin()
                        break
            await asyncio.gather(relay(a, b), relay(b, a))
            ra, rb = await asyncio.gather(a.wait(), b.wait())
            assert ra.stdout == b"hi from a\nsaw hi from b\n"
            assert rb.stdout == b"hi from b\nsaw hi from a\n"
    arun(main())


def test_async_stream_kill_and_errors(daemon):
    async def main():
        async with skillbox.AsyncClient(daemon.socket) as c:
            job = await c.start(["sh", "-c", "echo one; echo two >&2; exec sleep 60"])
            seen = []
            async for stream, data in job:
                seen.append((stream, data))
                if len(seen) == 2:
                    break
            assert sorted(seen) == [("stderr", b"two\n"), ("stdout", b"one\n")]
            with pytest.raises(asyncio.TimeoutError):
                await job.wait(timeout=0.05)
            info = await job.inspect()
            assert info.state == "running"
            assert job.id in [i.job for i in await c.list()]
            assert (await job.kill()).state == "killed"
            assert (await job.wait()).state == "killed"
            with pytest.raises(skillbox.NotFound):
                await c.run(["true"], profile="no-such-profile")
            r = await c.run(["cat"], stdin=b"piped")
            assert r.stdout == b"piped"
            assert (await c.stats())["jobs_started"] >= 2
            assert (await c.hello())["server"] == "skillboxd"
    arun(main())


def test_async_workdir(daemon, tmp_path):
    work = tmp_path / "w"
    work.mkdir()
    tmp_path.chmod(0o755)

    async def main():
        async with skillbox.AsyncClient(daemon.socket) as c:
            r = await c.run(["sh", "-c", "echo x > /work/f"], workdir=str(work))
            assert r.ok, r
    arun(main())
    assert (work / "f").read_text() == "x\n"


def test_daemon_shutdown_ends_jobs_then_disconnects(daemon):
    async def main():
        async with skillbox.AsyncClient(daemon.socket) as c:
            job = await c.start(["sleep", "60"])
            daemon.stop()
            # The daemon sends the owner its killed job's exit before it exits.
            assert (await job.wait()).state == "killed"
            with pytest.raises(skillbox.Disconnected):
                await c.run(["true"])
    arun(main())


SERVE = r"""
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"job " + self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 8000), H)
print("listening", flush=True)
srv.serve_forever()
"""


# job_connect's socket rides on its response as SCM_RIGHTS: the asyncio
# client must read it with the bytes (loop.sock_recv would drop it).
def test_async_connect_to_a_published_port(daemon):
    async def main():
        async with skillbox.AsyncClient(daemon.socket) as c, \
                skillbox.AsyncClient(daemon.socket) as other:
            if (await c.hello())["host"].get("backend") != "linux":
                pytest.skip("publishing needs the linux backend (a network namespace)")
            job = await c.start(["python3", "-c", SERVE], publish=[8000])
            async for _, data in job:
                assert data == b"listening\n"
                break
            for path in ("/a", "/b"):
                sock = await other.connect(job.id, 8000)
                reader, writer = await asyncio.open_connection(sock=sock)
                writer.write(f"GET {path} HTTP/1.0\r\n\r\n".encode())
                reply = await reader.read()
                writer.close()
                assert reply.startswith(b"HTTP/1.0 200"), reply
                assert reply.endswith(b"job " + path.encode()), reply
            with pytest.raises(skillbox.PermissionDenied):
                await job.connect(8001)
            assert (await job.kill()).state == "killed"
    arun(main())


def test_async_keep_work_and_work_fd(daemon):
    async def main():
        async with skillbox.AsyncClient(daemon.socket) as c:
            r = await c.run(["sh", "-c", "mkdir /work/d && echo kept > /work/d/f"],
                            keep_work=True)
            assert r.ok, r
            fd = await c.work_fd(r.job)
            try:
                assert os.listdir(fd) == ["d"]
                f = os.open("d/f", os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
                try:
                    assert os.read(f, 100) == b"kept\n"
                finally:
                    os.close(f)
                assert os.fstat(fd).st_uid == os.getuid()
            finally:
                os.close(fd)
            # Started: the job's own handle; a job without keep_work has none.
            job = await c.start(["true"])
            assert (await job.wait()).ok
            with pytest.raises(skillbox.NotFound):
                await c.work_fd(job.id)
            assert (await c.run(["true"])).ok   # the connection goes on
    arun(main())


def test_async_network_params_reach_the_daemon(daemon):
    # The default profile's network is none: a request may only narrow it,
    # so asking for more is refused — which shows the params were sent.
    async def main():
        async with skillbox.AsyncClient(daemon.socket) as c:
            with pytest.raises(skillbox.PermissionDenied, match="network host exceeds"):
                await c.run(["true"], network="host")
            with pytest.raises(skillbox.PermissionDenied):
                await c.start(["true"], allow_hosts=["a.example.org"])
            assert (await c.run(["true"], network="none")).ok
    arun(main())
