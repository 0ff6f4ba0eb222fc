"""Persistent sandboxes through the Python clients: `sandbox()` as a
context manager whose `run()` executes inside, blocking and asyncio."""

import asyncio

import pytest

import skillbox


def test_sandbox_context_manager_runs_inside(daemon):
    with skillbox.Client(daemon.socket) as c:
        with c.sandbox(memory="256M") as sb:
            assert isinstance(sb, skillbox.Sandbox) and sb.id.startswith("sbx-")
            r = sb.run(["sh", "-c", "echo kept > /work/f; echo made"])
            assert (r.state, r.exit_code, r.stdout) == ("exited", 0, b"made\n")
            r = sb.run(["cat", "/work/f"])
            assert r.stdout == b"kept\n"
            assert c.inspect(r.job).sandbox == sb.id
            r = sb.run(["sleep", "100"], timeout=0.3)
            assert r.state == "timeout"
            info = sb.info()
            assert info["execs"] == 3 and info["enforced"]["memory_max"] == 256 << 20
            assert sb.id in {s["sandbox"] for s in c.sandboxes()}
        # Gone on exit.
        assert sb.id not in {s["sandbox"] for s in c.sandboxes()}
        with pytest.raises(skillbox.NotFound):
            c.start(["true"], sandbox=sb.id)


def test_async_sandbox_context_manager(daemon):
    async def main():
        async with skillbox.AsyncClient(daemon.socket) as c:
            async with c.sandbox() as sb:
                assert isinstance(sb, skillbox.AsyncSandbox)
                r = await sb.run(["sh", "-c", "echo 1 > /tmp/n"])
                assert r.exit_code == 0
                results = await asyncio.gather(*[sb.run(["cat", "/tmp/n"]) for _ in range(3)])
                assert [r.stdout for r in results] == [b"1\n"] * 3
                sid = sb.id
            assert sid not in {s["sandbox"] for s in await c.sandboxes()}
            # Awaited instead: destroyed by hand.
            sb = await c.sandbox()
            assert (await sb.run(["true"])).exit_code == 0
            await sb.destroy()
    asyncio.run(asyncio.wait_for(main(), 60))
