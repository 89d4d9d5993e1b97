"""LoopThread, the one 'event loop on a thread of its own' (engine runner, control API server,
local v20 server): start() hands back a started service or the error that stopped it, stop()
ends it once and for all."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tmt_tui.loop_thread import LoopThread


def test_start_returns_once_main_says_it_is_ready() -> None:
    steps: list[str] = []
    thread = LoopThread("test-loop")

    async def main(t: LoopThread) -> None:
        await asyncio.sleep(0.05)  # a service taking a moment to come up
        steps.append("up")
        t.ready()
        await t.until_stopped()
        steps.append("stopped")

    thread.start(main)
    try:
        assert steps == ["up"]  # not a moment before ready(), and main is still running
        assert not thread.join(0)
        ran = threading.Event()
        assert thread.call_soon(ran.set)
        assert ran.wait(5)
        assert thread.run(asyncio.sleep(0, "on the loop")) == "on the loop"
    finally:
        thread.stop()
    assert steps == ["up", "stopped"]


def test_start_re_raises_what_main_raised_before_it_was_ready() -> None:
    thread = LoopThread("test-loop")

    async def main(t: LoopThread) -> None:
        raise OSError("address already in use")

    with pytest.raises(OSError, match="address already in use"):
        thread.start(main)
    assert thread.join(0)  # no half-started service left behind
    assert not thread.call_soon(lambda: None)


def test_stop_joins_the_thread_and_is_idempotent() -> None:
    thread = LoopThread("test-loop")
    names: list[str] = []

    async def main(t: LoopThread) -> None:
        names.append(threading.current_thread().name)
        t.ready()
        await t.until_stopped()

    thread.start(main)
    thread.stop()

    assert names == ["test-loop"]
    assert thread.join(0)  # stop() returned only once the thread had ended
    thread.stop()  # a second stop is harmless
    assert thread.join(0)


def test_stop_before_start_is_harmless() -> None:
    thread = LoopThread("test-loop")

    thread.stop()

    assert thread.join(0)


def test_call_soon_after_stop_returns_false() -> None:
    thread = LoopThread("test-loop")

    async def main(t: LoopThread) -> None:
        t.ready()
        await t.until_stopped()

    thread.start(main)
    thread.stop()

    assert thread.call_soon(lambda: None) is False
