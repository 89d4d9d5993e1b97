"""Clients that misbehave (garbage, oversized frames, wrong versions, unknown commands, no hello)
each get a clear error or close reason, and the engine behind the server keeps trading with an
intact journal."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import unix_connect
from websockets.exceptions import ConnectionClosed

from tests.support.api import answer, hello
from tests.support.engines import journal_rows
from tests.support.waiting import eventually
from tmt_tui.api import protocol
from tmt_tui.api.protocol import MAX_FRAME_BYTES
from tmt_tui.api.remote import RemoteEngineClient
from tmt_tui.api.server import ServerThread
from tmt_tui.domain.commands import SubmitOrder
from tmt_tui.domain.secret import Secret
from tmt_tui.engine.local_client import LocalEngineClient

BUY = {"command": "SubmitOrder", "account": "SIM-USD", "instrument": "EUR_USD", "units": 1000}


async def closed_with(ws: Any) -> tuple[int, str]:
    """Read until the server closes; its close code and reason."""
    with pytest.raises(ConnectionClosed) as caught:
        async with asyncio.timeout(15):
            while True:
                await ws.recv()
    assert caught.value.rcvd is not None, "closed without a close frame"
    return caught.value.rcvd.code, caught.value.rcvd.reason


async def assert_engine_trades_with_intact_journal(
    remote: RemoteEngineClient, journal: Path
) -> None:
    reply = await remote.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))
    assert reply.ok, reply
    assert journal_rows(journal, "pragma integrity_check") == [("ok",)]
    seqs = [seq for (seq,) in journal_rows(journal, "select seq from events order by seq")]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a gap in the journal"
    commands = journal_rows(journal, "select count(*) from events where kind = 'command'")
    assert commands == [(1,)], "only the good client's command reached the engine"


@pytest.mark.parametrize(
    ("first_frame", "reason"),
    [
        (protocol.command_frame(1, BUY), "bad hello: the first frame must be a hello"),
        ("{garbage", "bad hello: not valid JSON"),
        (b"\x00\x01binary", "bad hello: binary frames are not accepted: send JSON text"),
        ('{"type": "hello", "token": "x"}', "bad hello: protocol version None is not supported"),
        (json.dumps({"v": "é" * 200, "type": "hello"}), "bad hello: protocol version 'ééé"),
    ],
    ids=["command-first", "garbage", "binary", "no-version", "long-odd-version"],
)
async def test_a_connection_that_does_not_open_with_a_hello_is_closed_with_4003(
    raw, remote: RemoteEngineClient, journal: Path, first_frame: str | bytes, reason: str
) -> None:
    ws = await raw()

    await ws.send(first_frame)

    code, text = await closed_with(ws)
    assert code == 4003
    assert text.startswith(reason)
    await assert_engine_trades_with_intact_journal(remote, journal)


async def test_a_hello_of_another_version_is_told_which_one_this_server_speaks(raw) -> None:
    ws = await raw()

    await ws.send(json.dumps({"v": 2, "type": "hello", "token": "x"}))

    error = json.loads(await ws.recv())
    assert (error["type"], error["code"]) == ("error", "UNSUPPORTED_VERSION")
    assert "this server speaks 1" in error["message"]
    assert (await closed_with(ws))[0] == 4003


async def test_a_silent_connection_is_closed_after_the_hello_timeout(
    engine: LocalEngineClient, token: Secret
) -> None:
    thread = ServerThread(engine, token, hello_timeout_s=0.2)
    thread.start()
    try:
        async with unix_connect(str(thread.socket_path)) as ws:
            code, text = await closed_with(ws)
    finally:
        await asyncio.to_thread(thread.stop)

    assert (code, text) == (4003, "bad hello: none received in time")


async def test_no_token_in_the_hello_is_an_auth_failure(raw, server: ServerThread) -> None:
    ws = await raw()

    await ws.send(json.dumps({"v": 1, "type": "hello", "read_only": False}))

    code, text = await closed_with(ws)
    assert (code, text) == (4001, "token required (TMT_API_TOKEN or the api.token file)")
    assert server.auth_failures == 1


@pytest.mark.parametrize(
    ("frame", "code", "text"),
    [
        ("{garbage", "BAD_FRAME", "not valid JSON"),
        (b"\x89PNG", "BAD_FRAME", "binary frames are not accepted"),
        ("[1, 2, 3]", "BAD_FRAME", "a frame must be a JSON object"),
        ('{"v": 1, "id": 4, "type": "teleport"}', "BAD_FRAME", "unknown message type 'teleport'"),
        ('{"v": 1, "type": "command", "command": {}}', "BAD_FRAME", "a command needs an id"),
        ('{"v": 1, "id": 5, "type": "hello"}', "BAD_FRAME", "already authenticated"),
        ('{"v": 9, "id": 6, "type": "command"}', "UNSUPPORTED_VERSION", "this server speaks 1"),
        (
            protocol.command_frame(7, {"command": "Withdraw", "amount": 1e9}),
            "UNKNOWN_COMMAND",
            "unknown command 'Withdraw'",
        ),
        (
            protocol.command_frame(8, {**BUY, "units": "all of it"}),
            "BAD_COMMAND",
            "'units' has the wrong type",
        ),
    ],
    ids=[
        "garbage",
        "binary",
        "array",
        "unknown-type",
        "no-id",
        "second-hello",
        "version-9",
        "unknown-command",
        "mistyped",
    ],
)
async def test_a_bad_frame_after_the_hello_gets_an_error_and_the_connection_lives_on(
    raw,
    token: Secret,
    journal: Path,
    frame: str | bytes,
    code: str,
    text: str,
) -> None:
    ws = await raw()
    await hello(ws, token)

    await ws.send(frame)
    error = await answer(ws)
    await ws.send(protocol.command_frame(99, {**BUY, "units": 1}))
    reply = await answer(ws)

    assert (error["type"], error["code"]) == ("error", code)
    assert text in error["message"]
    if isinstance(frame, str) and '"id": ' in frame:
        assert error["id"] == json.loads(frame)["id"]
    assert reply["type"] == "reply" and reply["id"] == 99
    assert reply["reply"]["ok"], reply
    commands = journal_rows(journal, "select count(*) from events where kind = 'command'")
    assert commands == [(1,)]


async def test_an_oversized_frame_closes_that_connection_only(
    raw, token: Secret, remote: RemoteEngineClient, journal: Path, server: ServerThread
) -> None:
    ws = await raw(max_size=None)
    await hello(ws, token)

    await ws.send(protocol.command_frame(1, {**BUY, "pad": "x" * MAX_FRAME_BYTES}))

    code, _ = await closed_with(ws)
    assert code == 1009
    await eventually(lambda: server.clients == 1, "the server to let go of the closed one")
    await assert_engine_trades_with_intact_journal(remote, journal)


async def test_many_commands_at_once_are_all_answered(remote: RemoteEngineClient) -> None:
    orders = [SubmitOrder("SIM-USD", "EUR_USD", 1_000 if i % 2 else -1_000) for i in range(40)]

    replies = await asyncio.gather(*(remote.execute(o) for o in orders))

    assert [r.ok for r in replies] == [True] * 40  # under the 50/s order throttle
    assert len({r.order_id for r in replies}) == 40


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"units": 2**63}, "units must be at most"),
        ({"units": -(2**64)}, "units must be at most"),
        ({"type": "LIMIT", "units": 1000, "price": "1E+999999999"}, "price must be below"),
        ({"type": "LIMIT", "units": 1000, "price": "1E-999999999"}, "price has more than"),
        ({"units": 1000, "take_profit": "9E+99999"}, "take-profit must be below"),
        ({"units": 1000, "stop_loss": "-1.1"}, "stop-loss must be a positive number"),
        ({"units": 1000, "trailing_stop_distance": "1E+999999999"}, "trailing stop distance"),
        ({"units": 1000, "account": "A" * 10_000}, "account is longer than 64"),
        ({"units": 1000, "instrument": "EUR_USD\x00"}, "instrument holds control characters"),
    ],
    ids=[
        "units-2^63",
        "units-minus-2^64",
        "huge-price",
        "tiny-price",
        "huge-tp",
        "negative-sl",
        "huge-trailing",
        "long-account",
        "nul-instrument",
    ],
)
async def test_an_out_of_range_order_is_refused_at_the_edge_and_every_account_trades_on(
    raw, token: Secret, remote: RemoteEngineClient, journal: Path, fields: dict[str, Any], text: str
) -> None:
    # once, a size past SQLite's 64-bit integers failed a commit and stopped new orders on
    # every account, silently; a price of 1E+999999999 overflowed inside the engine
    ws = await raw()
    await hello(ws, token)

    await ws.send(protocol.command_frame(1, {**BUY, **fields}))
    error = await answer(ws)

    assert (error["type"], error["code"]) == ("error", "BAD_COMMAND")
    assert text in error["message"]
    await assert_engine_trades_with_intact_journal(remote, journal)
    other = await remote.execute(SubmitOrder("SIM-EUR", "EUR_USD", 1_000))
    assert other.ok, other
