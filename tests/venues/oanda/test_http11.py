"""The h11 keep-alive pool under the OANDA client: framing, reuse, and the error mapping the
order path depends on (not sent = resend; maybe sent = look up first)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.support.oanda import TOKEN, make_order
from tmt_tui.venues.oanda.client import Filled, OandaClient, OandaUnavailable, Token
from tmt_tui.venues.oanda.http11 import HttpPool, NotSent, RequestTimeout, SentUnknown
from tmt_tui.venues.oanda_sim.server import V20ServerThread

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))
    return head


@pytest.fixture
async def raw() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Start a hand-written HTTP server on loopback: ``url = await raw(handler)``."""
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> str:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for server in servers:
        server.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_requests_reuse_one_keep_alive_connection(
    client: OandaClient, server: V20ServerThread
) -> None:
    for _ in range(20):
        await client.summary()

    assert server.call(lambda s: s.connections) == 1


async def test_a_server_that_closes_idle_connections_costs_no_order_and_no_double(
    server: V20ServerThread,
) -> None:
    server.call(lambda s: setattr(s.faults, "close_keepalive", True))
    async with OandaClient(
        account_id=server.account_id,
        token=Token(TOKEN),
        rest_url=server.url,
        backoff=0.001,
        max_connects_per_s=1000,  # a new connection per request here; pacing is tested apart
    ) as client:
        outcomes = [await client.submit(make_order(1000 if i % 2 else -1000)) for i in range(10)]

    assert all(isinstance(o, Filled) for o in outcomes)
    assert server.call(lambda s: len(s.ledger.orders)) == 10
    assert server.call(lambda s: s.connections) >= 10


async def test_a_refused_connection_is_not_sent() -> None:
    pool = HttpPool(f"http://127.0.0.1:{_free_port()}", {"Authorization": f"Bearer {TOKEN}"})

    with pytest.raises(NotSent) as raised:
        await pool.request("GET", "/v3/accounts")

    assert TOKEN not in str(raised.value) and TOKEN not in repr(pool)


async def test_an_order_refused_at_connect_is_resent_once_the_server_takes_it(
    client: OandaClient, server: V20ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = client._http  # the test stands in for a refusing network
    connect = pool._connect
    refusals = iter([True])

    async def flaky() -> object:
        if next(refusals, False):
            raise NotSent("connect to 127.0.0.1: ConnectionRefusedError")
        return await connect()

    monkeypatch.setattr(pool, "_connect", flaky)

    outcome = await client.submit(make_order(1000))

    assert isinstance(outcome, Filled)
    assert client.retries == 1
    assert server.call(lambda s: len(s.ledger.orders)) == 1


async def test_nothing_listening_leaves_the_order_unsent_and_says_so() -> None:
    async with OandaClient(
        account_id="101-001-0000001-001",
        token=Token(TOKEN),
        rest_url=f"http://127.0.0.1:{_free_port()}",
        max_retries=2,
        backoff=0.001,
    ) as client:
        with pytest.raises(OandaUnavailable) as raised:
            await client.submit(make_order(1000))

    assert "NotSent" in str(raised.value) and TOKEN not in str(raised.value)


async def test_chunked_and_content_length_bodies_are_read_whole(
    raw: Callable[[Handler], Awaitable[str]],
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'3\r\n{"a\r\n5\r\n": 1}\r\n0\r\n\r\n'
        )
        await _read_request(reader)
        writer.write(b'HTTP/1.1 201 Created\r\nContent-Length: 8\r\nRetry-After: 2\r\n\r\n{"b": 2}')
        await writer.drain()
        await reader.read()

    pool = HttpPool(await raw(handler), {})
    first = await pool.request("GET", "/x")
    second = await pool.request("POST", "/y", body=b"{}")
    await pool.aclose()

    assert (first.status, first.json()) == (200, {"a": 1})
    assert (second.status, second.json(), second.headers["retry-after"]) == (201, {"b": 2}, "2")
    assert pool.connects == 1


async def test_a_connection_dropped_mid_response_may_have_been_sent(
    raw: Callable[[Handler], Awaitable[str]],
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b'HTTP/1.1 201 Created\r\nContent-Length: 100\r\n\r\n{"half')
        await writer.drain()
        writer.close()

    pool = HttpPool(await raw(handler), {"Authorization": f"Bearer {TOKEN}"})

    with pytest.raises(SentUnknown) as raised:
        await pool.request("POST", "/orders", body=b"{}")

    assert not isinstance(raised.value, NotSent)
    assert TOKEN not in str(raised.value)


async def test_no_answer_within_the_timeout_may_have_been_sent_and_drops_the_connection(
    raw: Callable[[Handler], Awaitable[str]],
) -> None:
    answered = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        if not answered.is_set():
            answered.set()
            await reader.read()  # the first request never gets an answer
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()

    pool = HttpPool(await raw(handler), {}, timeout=0.2)

    with pytest.raises(RequestTimeout):
        await pool.request("POST", "/orders", body=b"{}")
    later = await pool.request("GET", "/orders")

    assert later.status == 200 and pool.connects == 2


async def test_concurrent_requests_share_a_bounded_number_of_connections(
    client: OandaClient, server: V20ServerThread
) -> None:
    await asyncio.gather(*(client.summary() for _ in range(30)))

    assert 1 <= server.call(lambda s: s.connections) <= 4


def test_https_urls_get_tls_with_the_host_name() -> None:
    pool = HttpPool("https://api-fxpractice.oanda.com", {})

    assert (pool.scheme, pool.port) == ("https", 443)
    assert pool._ssl is not None and pool._ssl.check_hostname
