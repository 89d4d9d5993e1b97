"""A reader that stops reading is closed with 4002 "too slow"; nobody else notices."""

from __future__ import annotations

import asyncio
from pathlib import Path

from websockets.asyncio.client import unix_connect
from websockets.exceptions import ConnectionClosed

from tests.support.api import hello, make_settings
from tests.support.waiting import eventually
from tmt_tui.api import protocol
from tmt_tui.api.remote import RemoteEngineClient
from tmt_tui.api.server import ServerThread
from tmt_tui.cli.embedded import start_embedded
from tmt_tui.domain.client import Update
from tmt_tui.domain.commands import SubmitOrder
from tmt_tui.domain.secret import Secret


async def test_a_stalled_reader_is_closed_with_4002_while_a_normal_one_keeps_receiving(
    journal: Path, token: Secret
) -> None:
    engine = start_embedded(make_settings(journal, ticks_per_second=500))  # 1,500 quotes/s
    # unpaced, so the stalled reader's buffers fill in a second rather than ten
    thread = ServerThread(engine, token, max_lag_s=0.5, push_interval_s=0)
    thread.start()
    normal = RemoteEngineClient(token=token)
    received = [0]

    async def consume() -> None:
        async for item in normal.subscribe():
            if isinstance(item, Update) and item.quotes:
                received[0] += 1

    consumer = asyncio.create_task(consume())
    # max_queue=1: the library itself stops reading the socket after one unread frame
    slow = await unix_connect(str(thread.socket_path), max_queue=1, compression=None)
    try:
        await hello(slow, token)
        await slow.send(protocol.subscribe_frame(1))

        await eventually(lambda: thread.server.slow_disconnects == 1, "the stalled reader dropped")
        before = received[0]
        await eventually(lambda: received[0] > before + 20, "more updates for the normal reader")
        normal_still_streaming = not consumer.done()
        with_slow_gone = await engine.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))
        try:
            async with asyncio.timeout(15):
                while True:
                    await slow.recv()  # drain what was sent before the close frame
        except ConnectionClosed as closed:
            rcvd = closed.rcvd
    finally:
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
        await normal.close()
        await asyncio.to_thread(thread.stop)
        await engine.close()

    assert rcvd is not None
    assert (rcvd.code, rcvd.reason) == (4002, "too slow: the reader fell behind")
    assert normal_still_streaming
    assert with_slow_gone.ok, with_slow_gone
    assert thread.server.slow_disconnects == 1  # only the stalled one


async def test_stop_does_not_hang_on_a_reader_that_cannot_take_its_close_frame(
    journal: Path, token: Secret
) -> None:
    engine = start_embedded(make_settings(journal, ticks_per_second=500))
    thread = ServerThread(engine, token, max_lag_s=60, close_timeout_s=0.3, push_interval_s=0)
    thread.start()
    stuck = await unix_connect(str(thread.socket_path), max_queue=1, compression=None)
    try:
        await hello(stuck, token)
        await stuck.send(protocol.subscribe_frame(1))
        servers = thread.server._servers
        await eventually(
            lambda: any(
                c.transport.get_write_buffer_size() > 0 for s in servers for c in s.all_connections
            ),
            "the server's send buffer for the stuck reader to fill",
        )

        async with asyncio.timeout(15):  # a hang guard, not a measurement
            await asyncio.to_thread(thread.stop)
    finally:
        stuck.transport.abort()
        await engine.close()

    assert not thread.socket_path.exists()
