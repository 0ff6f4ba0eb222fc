"""The asyncio client against a real daemon."""

import asyncio

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
