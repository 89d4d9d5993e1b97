"""The control API end to end: a remote client gets what a local one gets, the server owns the
socket and its modes, a read-only client cannot trade, and the token stays out of sight."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import stat
from pathlib import Path

import pytest

from tests.support.api import make_settings
from tests.support.engines import INSTRUMENTS, journal_events, journal_rows
from tests.support.waiting import eventually
from tmt_tui.analytics.summary import AnalyticsReport
from tmt_tui.api.paths import Secret, default_socket_path, load_or_create_token, token_path
from tmt_tui.api.protocol import ApiError, AuthError
from tmt_tui.api.remote import RemoteEngineClient
from tmt_tui.api.server import ControlServer, ServerThread
from tmt_tui.cli.embedded import start_embedded
from tmt_tui.domain.client import Reply, Snapshot, Update
from tmt_tui.domain.commands import (
    CancelAll,
    ClosePosition,
    EngageKillSwitch,
    Origin,
    QueryAnalytics,
    QueryPreview,
    QueryTrades,
    ResetKillSwitch,
    SetReducing,
    StopEngine,
    SubmitOrder,
)
from tmt_tui.domain.history import TradeHistory
from tmt_tui.domain.preview import OrderPreview
from tmt_tui.engine.local_client import LocalEngineClient


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


async def test_submit_gets_the_same_reply_as_the_local_client(
    remote: RemoteEngineClient, engine: LocalEngineClient
) -> None:
    local = await engine.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))

    reply = await remote.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))

    assert isinstance(reply, Reply)
    assert (reply.ok, reply.code) == (local.ok, local.code) == (True, "OK")
    assert reply.message.startswith("filled +1,000 EUR_USD @ ")
    assert reply.order_id and reply.order_id != local.order_id
    assert reply.seq > local.seq


async def test_commands_from_the_api_are_journaled_with_the_api_origin(
    remote: RemoteEngineClient, journal: Path
) -> None:
    reply = await remote.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000, origin=Origin.AUTO))

    submitted = journal_events(journal, "order.submitted")
    assert [(e["order"]["id"], e["origin"]) for e in submitted] == [(reply.order_id, "api")]


async def test_the_cli_keeps_its_own_origin(server: ServerThread, token: Secret, journal) -> None:
    cli = RemoteEngineClient(server.socket_path, token=token, client_name="tmt cli")
    try:
        reply = await cli.execute(EngageKillSwitch(reason="tmt kill"))
    finally:
        await cli.close()

    assert reply.ok, reply
    assert [e["origin"] for e in journal_events(journal, "kill_switch.engaged")] == ["cli"]


async def test_every_command_kind_reaches_the_engine(remote: RemoteEngineClient) -> None:
    replies = [
        await remote.execute(SetReducing(on=True)),
        await remote.execute(SetReducing(on=False)),
        await remote.execute(CancelAll()),
        await remote.execute(EngageKillSwitch(reason="test")),
        await remote.execute(ResetKillSwitch()),
    ]

    assert [r.ok for r in replies] == [True] * 5, replies


async def test_subscribe_yields_a_snapshot_then_updates_with_quotes(
    remote: RemoteEngineClient,
) -> None:
    stream = remote.subscribe()
    first = await anext(stream)
    quoted: set[str] = set()
    seen_update = False
    while quoted != set(INSTRUMENTS):
        item = await asyncio.wait_for(anext(stream), 15)
        assert isinstance(item, Update)
        seen_update = True
        quoted |= {q.instrument for q in item.quotes}
    await stream.aclose()

    assert isinstance(first, Snapshot)
    assert {i.name for i in first.instruments} == set(INSTRUMENTS)
    assert {a.id for a in first.accounts} == {"SIM-USD", "SIM-EUR"}
    assert seen_update


async def test_an_order_shows_up_in_the_stream_after_its_snapshot(
    remote: RemoteEngineClient,
) -> None:
    stream = remote.subscribe()
    snapshot = await anext(stream)

    reply = await remote.execute(SubmitOrder("SIM-USD", "GBP_USD", 2_000))
    events = []
    while not any(e.data.get("order_id") == reply.order_id for e in events):
        item = await asyncio.wait_for(anext(stream), 15)
        events.extend(item.events)
    await stream.aclose()

    assert all(e.seq > snapshot.seq for e in events)
    assert [e.seq for e in events] == sorted(e.seq for e in events)


async def test_a_read_only_client_can_watch_but_not_trade(
    server: ServerThread, token: Secret, journal: Path
) -> None:
    viewer = RemoteEngineClient(server.socket_path, token=token, read_only=True)
    try:
        stream = viewer.subscribe()
        snapshot = await anext(stream)
        await stream.aclose()
        replies = [
            await viewer.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000)),
            await viewer.execute(CancelAll()),
            await viewer.execute(EngageKillSwitch()),
            await viewer.execute(SetReducing()),
        ]
    finally:
        await viewer.close()

    assert isinstance(snapshot, Snapshot)
    assert {(r.ok, r.code) for r in replies} == {(False, "READ_ONLY")}
    assert "read-only" in replies[0].message
    assert server.server.read_only_refusals == 4
    assert journal_rows(journal, "select count(*) from events where kind = 'command'") == [(0,)]


async def test_a_wrong_token_is_closed_with_4001_and_counted(
    server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    intruder = RemoteEngineClient(server.socket_path, token="not-the-token")

    with pytest.raises(AuthError) as caught:
        await intruder.connect()

    assert isinstance(caught.value, PermissionError)
    assert (caught.value.code, caught.value.message) == ("AUTH_FAILED", "token rejected")
    assert server.auth_failures == 1
    assert server.clients == 0
    assert "token rejected" in caplog.text


async def test_a_client_without_any_token_is_told_where_one_comes_from(
    server: ServerThread,
) -> None:
    with pytest.raises(AuthError, match="NO_TOKEN: no API token: set TMT_API_TOKEN"):
        await RemoteEngineClient(server.socket_path).connect()


async def test_the_client_finds_the_token_the_engine_created(
    engine: LocalEngineClient,
) -> None:
    thread = ServerThread(engine, load_or_create_token())
    thread.start()
    client = RemoteEngineClient()  # default socket, token from the state dir
    try:
        await client.connect()
        reply = await client.execute(CancelAll())
    finally:
        await client.close()
        await asyncio.to_thread(thread.stop)

    assert reply.ok
    assert mode(token_path()) == 0o600


async def test_socket_is_0600_in_a_0700_dir(server: ServerThread) -> None:
    path = server.socket_path

    assert path == default_socket_path()
    assert len(os.fsencode(path)) < 100
    assert stat.S_ISSOCK(os.lstat(path).st_mode)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700


async def test_a_second_server_on_a_live_socket_is_refused(
    server: ServerThread, engine: LocalEngineClient, token: Secret
) -> None:
    second = ServerThread(engine, token, server.socket_path)

    with pytest.raises(ApiError, match="ADDRESS_IN_USE: another engine is already serving"):
        second.start()

    assert stat.S_ISSOCK(os.lstat(server.socket_path).st_mode)  # the first keeps its socket


async def test_a_stale_socket_file_is_replaced(
    engine: LocalEngineClient, token: Secret, short_tmp: Path
) -> None:
    path = short_tmp / "stale.sock"
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(path))
    dead.close()  # the file stays, nobody listens: a crashed engine's leftover
    thread = ServerThread(engine, token, path)
    thread.start()
    client = RemoteEngineClient(path, token=token)
    try:
        reply = await client.execute(CancelAll())
    finally:
        await client.close()
        await asyncio.to_thread(thread.stop)

    assert reply.ok
    assert not path.exists()  # stop() removes its own socket


async def test_stop_closes_clients_and_the_engine_keeps_running(
    server: ServerThread, remote: RemoteEngineClient, engine: LocalEngineClient
) -> None:
    stream = remote.subscribe()
    await anext(stream)

    await asyncio.to_thread(server.stop)

    with pytest.raises(ConnectionError, match="SERVER_STOPPED"):
        while True:
            await asyncio.wait_for(anext(stream), 15)
    assert not remote.connected
    assert (await engine.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))).ok


async def test_subscribe_again_after_a_drop_reconnects(
    engine: LocalEngineClient, token: Secret
) -> None:
    first = ServerThread(engine, token)
    first.start()
    client = RemoteEngineClient(token=token)
    stream = client.subscribe()
    await anext(stream)
    await asyncio.to_thread(first.stop)
    with pytest.raises(ConnectionError):
        while True:
            await asyncio.wait_for(anext(stream), 15)
    with pytest.raises(ApiError, match="NOT_RUNNING"):
        await anext(client.subscribe())

    second = ServerThread(engine, token)
    second.start()
    try:
        again = client.subscribe()
        item = await anext(again)
        await again.aclose()
    finally:
        await client.close()
        await asyncio.to_thread(second.stop)

    assert isinstance(item, Snapshot)


async def test_a_command_in_flight_when_the_connection_drops_says_so(
    remote: RemoteEngineClient, server: ServerThread
) -> None:
    await asyncio.to_thread(server.stop)

    with pytest.raises(ConnectionError):
        await remote.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))


async def test_the_token_never_shows_in_logs_journal_or_reprs(
    engine: LocalEngineClient,
    token: Secret,
    journal: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    thread = ServerThread(engine, token)
    thread.start()
    client = RemoteEngineClient(token=token)
    wrong = RemoteEngineClient(token=token.reveal() + "x")
    try:
        await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))
        stream = client.subscribe()
        await anext(stream)
        await stream.aclose()
        with pytest.raises(AuthError) as caught:
            await wrong.connect()
    finally:
        await client.close()
        await asyncio.to_thread(thread.stop)
    await engine.close()  # flush and checkpoint the journal

    value = token.reveal()
    texts = [
        caplog.text,
        *(str(r.args) for r in caplog.records),
        repr(client),
        repr(wrong),
        repr(thread),
        repr(thread.server),
        repr(token),
        str(caught.value),
        repr(vars(thread.server)),
    ]
    assert caplog.records  # the server did log
    assert not [t for t in texts if value in t]
    files = [journal, *journal.parent.glob(journal.name + "*")]
    assert not [f for f in files if value.encode() in f.read_bytes()]


def test_a_remote_bind_needs_allow_remote_and_tls(engine: LocalEngineClient) -> None:
    token = Secret("t")

    with pytest.raises(ValueError, match="allow_remote"):
        ControlServer(engine, token, tcp_port=0, tcp_host="0.0.0.0")
    with pytest.raises(ValueError, match="without TLS"):
        ControlServer(engine, token, tcp_port=0, tcp_host="0.0.0.0", allow_remote=True)
    ControlServer(engine, token, tcp_port=0, tcp_host="127.0.0.1")  # loopback: fine


async def test_the_same_api_on_loopback_tcp(engine: LocalEngineClient, token: Secret) -> None:
    thread = ServerThread(engine, token, tcp_port=0)
    thread.start()
    address = thread.server.tcp_address
    assert address is not None and address[0] == "127.0.0.1"
    client = RemoteEngineClient(token=token, tcp=address)
    try:
        reply = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))
    finally:
        await client.close()
        await asyncio.to_thread(thread.stop)

    assert reply.ok, reply


async def test_commands_after_the_engine_stopped_are_refused_with_the_reason(
    remote: RemoteEngineClient, engine: LocalEngineClient
) -> None:
    await engine.close()

    reply = await remote.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))

    assert (reply.ok, reply.code) == (False, "ENGINE_STOPPED")


async def test_when_the_engine_stops_the_stream_ends_with_engine_stopped(
    journal: Path, token: Secret
) -> None:
    engine = start_embedded(make_settings(journal, ticks_per_second=200))
    thread = ServerThread(engine, token, push_interval_s=0.2)  # quotes pile up between pushes
    thread.start()
    client = RemoteEngineClient(token=token)
    try:
        stream = client.subscribe()
        await anext(stream)

        await engine.close()

        with pytest.raises(ApiError) as caught:
            async with asyncio.timeout(3):  # a hang guard: the end is due at the next push
                while True:
                    await anext(stream)
    finally:
        await client.close()
        await asyncio.to_thread(thread.stop)

    assert caught.value.code == "ENGINE_STOPPED"


async def test_a_consumer_that_falls_behind_restarts_from_a_fresh_snapshot(
    server: ServerThread, token: Secret, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tmt_tui.api.remote")
    client = RemoteEngineClient(server.socket_path, token=token, max_buffered=3)
    try:
        stream = client.subscribe()
        assert isinstance(await anext(stream), Snapshot)
        await eventually(lambda: "resubscribing" in caplog.text, "the client to fall behind")

        kinds = []
        while Snapshot not in kinds:
            kinds.append(type(await asyncio.wait_for(anext(stream), 15)))
        await stream.aclose()
    finally:
        await client.close()

    assert len(kinds) <= 4  # at most the 3 buffered updates, then the fresh snapshot


def test_the_server_described_by_the_config(engine: LocalEngineClient) -> None:
    thread = ServerThread.from_settings(engine.runner.settings, engine)  # [api] defaults

    assert thread.socket_path == default_socket_path()
    assert thread.server.tcp_port is None
    assert thread.server.token == load_or_create_token()
    assert mode(token_path()) == 0o600


async def test_a_read_only_client_may_ask_a_query_and_gets_its_typed_answer(
    server: ServerThread, token: Secret, engine: LocalEngineClient
) -> None:
    assert (await engine.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))).ok
    assert (await engine.execute(ClosePosition("SIM-USD", "EUR_USD"))).ok
    viewer = RemoteEngineClient(server.socket_path, token=token, read_only=True)
    try:
        reply = await viewer.execute(QueryTrades(instrument="EUR_USD"))
    finally:
        await viewer.close()

    assert reply.ok, reply
    assert isinstance(reply.payload, TradeHistory)
    (trade,) = reply.payload.trades
    assert (trade.units, trade.reason) == (1_000, "close")


async def test_a_preview_crosses_the_wire_typed_and_a_viewer_may_ask_for_one(
    server: ServerThread, token: Secret, engine: LocalEngineClient
) -> None:
    viewer = RemoteEngineClient(server.socket_path, token=token, read_only=True)
    try:
        reply = await viewer.execute(QueryPreview.of(SubmitOrder("SIM-USD", "EUR_USD", 1_000)))
    finally:
        await viewer.close()

    assert reply.ok, reply
    assert isinstance(reply.payload, OrderPreview) and reply.payload.ok
    assert reply.payload.notional > 0 and reply.payload.currency == "USD"


async def test_the_analytics_answer_crosses_the_wire_typed(
    server: ServerThread, token: Secret, engine: LocalEngineClient
) -> None:
    viewer = RemoteEngineClient(server.socket_path, token=token, read_only=True)
    try:
        reply = await viewer.execute(QueryAnalytics())
    finally:
        await viewer.close()

    assert reply.ok, reply
    assert isinstance(reply.payload, AnalyticsReport)


async def test_tmt_stop_stops_the_engine_after_replying(
    server: ServerThread, token: Secret, engine: LocalEngineClient, journal: Path
) -> None:
    viewer = RemoteEngineClient(server.socket_path, token=token, read_only=True)
    cli = RemoteEngineClient(server.socket_path, token=token, client_name="tmt cli")
    try:
        refused = await viewer.execute(StopEngine())

        reply = await cli.execute(StopEngine())
    finally:
        await viewer.close()
        await cli.close()

    assert (refused.ok, refused.code) == (False, "READ_ONLY")
    assert reply.ok, reply
    await eventually(lambda: not engine.runner.running, "the engine to stop")
    commands = [e["command"] for e in journal_events(journal, "command")]
    assert commands == ["StopEngine"]
