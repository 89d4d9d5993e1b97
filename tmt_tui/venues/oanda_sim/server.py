"""A local v20-compatible server: OANDA's REST and streaming API in front of the sim market.

A minimal HTTP/1.1 server on ``asyncio.start_server`` (keep-alive, chunked streams), so tests
and ``tmt oanda-sim`` need no web framework. It speaks enough of v20 that OANDA's own ``v20``
package parses it, and it can misbehave on purpose (``Faults``) so the adapter's recovery paths
get exercised on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote

from tmt_tui.domain.quotes import Quote
from tmt_tui.loop_thread import LoopThread
from tmt_tui.venues.oanda_sim import orders, views
from tmt_tui.venues.oanda_sim.candles import CandleTape, candles_answer
from tmt_tui.venues.oanda_sim.ledger import V20Ledger
from tmt_tui.venues.oanda_sim.wire import Json, instrument_json, price_json, rfc3339
from tmt_tui.venues.sim.market import SimMarket

log = logging.getLogger(__name__)
T = TypeVar("T")

_REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 429: "Too Many Requests", 500: "Internal Server Error",
            503: "Service Unavailable"}  # fmt: skip
_UNAUTHORIZED = {"errorMessage": "Insufficient authorization to perform request."}
_CANDLES = re.compile(r"/v3/instruments/([^/]+)/candles")


@dataclass
class Faults:
    """Ways the server misbehaves on purpose; mutate only through ``V20ServerThread.call``."""

    drop_streams_after: float | None = None  # close every stream this many seconds in
    delay: float = 0.0  # seconds added before every REST response
    fail_next: int = 0  # the next K authorised requests answer ``fail_status``
    fail_status: int = 429
    swallow_orders: int = 0  # the next K orders (or replaces) are booked but never answered
    close_keepalive: bool = False  # close each REST connection after answering, unannounced
    raw_stream_lines: list[bytes] = field(default_factory=list)  # sent once after a snapshot
    split_lines: bool = False  # write each stream line in two chunks
    cut_replies: int = 0  # the next K REST answers stop half-way, the socket cut (after booking)
    streams_down: bool = False  # stream requests answer 503 (``cut_streams`` ends live ones)
    skip_txns: int = 0  # the next K transactions never reach the open transaction streams


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class _Response:
    status: int
    body: Json | None = None
    stream: AsyncIterator[bytes] | None = None
    hold: bool = False  # never answer (the swallowed-order fault)


class V20Server:
    """The routes, the paper account and the market ticker; see ``serve``."""

    def __init__(
        self,
        *,
        account_id: str,
        token: str,
        faults: Faults | None = None,
        instruments: tuple[str, ...] = (),
        tick_interval: float = 0.25,
        heartbeat_interval: float = 5.0,
        seed: int = 7,
        hedging: bool = False,
    ) -> None:
        self.account_id = account_id
        self._auth = f"Bearer {token}"
        self.faults = faults or Faults()
        self._held: dict[str, asyncio.Event] = {}  # paths whose requests wait (see ``hold``)
        self.market = SimMarket(instruments, seed=seed)
        self.ledger = V20Ledger(account_id, self.market.instruments(), hedging=hedging)
        self.tick_interval = tick_interval
        self.heartbeat_interval = heartbeat_interval
        self.requests = 0
        self.connections = 0  # accepted connections (tests check keep-alive reuse)
        self._price_subs: set[tuple[frozenset[str], asyncio.Queue[Quote]]] = set()
        self._txn_subs: set[asyncio.Queue[Json]] = set()
        self._streaming: set[asyncio.StreamWriter] = set()  # live stream connections
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.ledger.listeners.append(self._publish_txn)
        for inst in self.market.instruments():
            self.ledger.on_quote(self.market.quote(inst.name))
        #: Every price published, after a made-up past: what the candles endpoint reads.
        self.candle_tape = CandleTape(
            seed,
            time.time(),
            {i.name: float(self.market.quote(i.name).mid) for i in self.market.instruments()},
        )
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., Awaitable[_Response]]]] = [
            ("GET", re.compile(r"/v3/accounts"), self._accounts),
            ("GET", re.compile(r"/v3/accounts/([^/]+)"), self._account),
            ("GET", re.compile(r"/v3/accounts/([^/]+)/summary"), self._summary),
            ("GET", re.compile(r"/v3/accounts/([^/]+)/instruments"), self._instruments),
            ("GET", re.compile(r"/v3/accounts/([^/]+)/pricing"), self._pricing),
            ("GET", re.compile(r"/v3/accounts/([^/]+)/pricing/stream"), self._pricing_stream),
            ("POST", re.compile(r"/v3/accounts/([^/]+)/orders"), self._create_order),
            ("GET", re.compile(r"/v3/accounts/([^/]+)/(?:orders|pendingOrders)"), self._orders),
            ("GET", re.compile(r"/v3/accounts/([^/]+)/orders/([^/]+)"), self._order),
            ("PUT", re.compile(r"/v3/accounts/([^/]+)/orders/([^/]+)/cancel"), self._cancel),
            ("PUT", re.compile(r"/v3/accounts/([^/]+)/orders/([^/]+)"), self._replace),
            ("GET", re.compile(r"/v3/accounts/([^/]+)/(?:openTrades|trades)"), self._trades),
            ("GET", re.compile(r"/v3/accounts/([^/]+)/trades/([^/]+)"), self._trade),
            ("PUT", re.compile(r"/v3/accounts/([^/]+)/trades/([^/]+)/orders"), self._trade_orders),
            ("PUT", re.compile(r"/v3/accounts/([^/]+)/trades/([^/]+)/close"), self._close_trade),
            (
                "GET",
                re.compile(r"/v3/accounts/([^/]+)/(?:positions|openPositions)"),
                self._positions,
            ),
            ("PUT", re.compile(r"/v3/accounts/([^/]+)/positions/([^/]+)/close"), self._close_pos),
            ("GET", re.compile(r"/v3/accounts/([^/]+)/transactions/sinceid"), self._since),
            ("GET", re.compile(r"/v3/accounts/([^/]+)/transactions/stream"), self._txn_stream),
            ("GET", re.compile(r"/v3/accounts/([^/]+)/transactions/(\d+)"), self._transaction),
        ]

    # lifecycle ------------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._connection, host, port)
        self._spawn(self._tick())

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _tick(self) -> None:
        names = [i.name for i in self.market.instruments()]
        turn = 0
        while True:
            await asyncio.sleep(self.tick_interval)
            quote = self.market.step(names[turn % len(names)])
            turn += 1
            self._publish_quote(quote)

    def _publish_quote(self, quote: Quote) -> None:
        self.ledger.on_quote(quote)
        self.candle_tape.record(quote)
        for wanted, queue in self._price_subs:
            if quote.instrument in wanted:
                queue.put_nowait(quote)

    # test hooks (on the server's loop: ``V20ServerThread.call(lambda s: s.set_price(...))``)

    def set_price(self, instrument: str, bid: str | Decimal, ask: str | Decimal) -> Quote:
        """Quote ``instrument`` at bid/ask now: the ledger sees it (TP/SL/trailing triggers) and
        so do price streams. The market ticker moves on from its own price at its next tick,
        so tests that need the price to hold use a long ``tick_interval``."""
        quote = Quote(instrument, Decimal(bid), Decimal(ask), time.time())
        self._publish_quote(quote)
        return quote

    def outside_market_order(self, instrument: str, units: int) -> Json:
        """A market order as if placed in OANDA's web UI: no client extensions. Its
        transactions reach the transaction stream like any other; returns the 201 body."""
        body = {"type": "MARKET", "instrument": instrument, "units": str(units)}
        return self._outside(body)

    def outside_limit_order(self, instrument: str, units: int, price: str | Decimal) -> Json:
        """A GTC limit order as if placed in OANDA's web UI (no client extensions)."""
        body = {"type": "LIMIT", "instrument": instrument, "units": str(units),
                "price": str(price), "timeInForce": "GTC"}  # fmt: skip
        return self._outside(body)

    def _outside(self, order: Json) -> Json:
        status, payload = orders.create_order(self.ledger, {"order": order})
        if status != 201:
            raise ValueError(f"outside order refused: {payload.get('errorCode')}")
        return payload

    def cut_streams(self) -> int:
        """Cut every live stream now, with no terminating chunk; returns how many were cut."""
        live = list(self._streaming)
        for writer in live:
            writer.transport.abort()
        return len(live)

    def _publish_txn(self, txn: Json) -> None:
        if self.faults.skip_txns > 0 and self._txn_subs:
            self.faults.skip_txns -= 1  # lost on the wire: only a heartbeat's last id tells
            return
        for queue in self._txn_subs:
            queue.put_nowait(txn)

    # HTTP -----------------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self.connections += 1
        try:
            while True:
                request = await self._read(reader)
                if request is None:
                    break
                response = await self._handle(request)
                if response.hold:
                    await asyncio.Event().wait()  # the client must give up on us
                if response.stream is not None:
                    self._streaming.add(writer)
                    try:
                        await self._write_stream(writer, response.stream)
                    finally:
                        self._streaming.discard(writer)
                    break
                if self.faults.cut_replies > 0:
                    self.faults.cut_replies -= 1
                    wire = self._encode(response)
                    writer.write(wire[: len(wire) // 2])  # booked, but the answer never whole
                    await writer.drain()
                    writer.transport.abort()
                    break
                writer.write(self._encode(response))
                await writer.drain()
                if (
                    request.headers.get("connection", "").lower() == "close"
                    or self.faults.close_keepalive
                ):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # server shutdown: end quietly (the stream protocol reports cancelled tasks)
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read(self, reader: asyncio.StreamReader) -> _Request | None:
        line = await reader.readline()
        if not line.strip():
            return None
        method, target, _version = line.decode("latin-1").split()
        headers: dict[str, str] = {}
        while (raw := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        path, _, query = target.partition("?")
        return _Request(method, unquote(path), parse_qs(query), headers, body)

    def _encode(self, response: _Response) -> bytes:
        self.requests += 1
        payload = json.dumps(response.body or {}).encode()
        head = (
            f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Error')}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            f"RequestID: {self.requests}\r\nConnection: keep-alive\r\n"
        )
        if response.status == 429:
            head += "Retry-After: 0\r\n"
        return head.encode() + b"\r\n" + payload

    async def _write_stream(
        self, writer: asyncio.StreamWriter, lines: AsyncIterator[bytes]
    ) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        drop = self.faults.drop_streams_after
        deadline = None if drop is None else time.monotonic() + drop
        async for line in lines:
            parts = (
                [line[: len(line) // 2], line[len(line) // 2 :]]
                if self.faults.split_lines
                else [line]
            )
            for part in parts:
                writer.write(b"%x\r\n%s\r\n" % (len(part), part))
                await writer.drain()
            if deadline is not None and time.monotonic() >= deadline:
                writer.transport.abort()  # a dropped stream: no terminating chunk
                return
        writer.write(b"0\r\n\r\n")

    async def _handle(self, request: _Request) -> _Response:
        if request.headers.get("authorization") != self._auth:
            return _Response(401, _UNAUTHORIZED)
        faults = self.faults
        if faults.fail_next > 0:
            faults.fail_next -= 1
            message = "Rate limit exceeded" if faults.fail_status == 429 else "Server error"
            return _Response(faults.fail_status, {"errorMessage": message})
        candles = _CANDLES.fullmatch(request.path)
        if candles is not None and request.method == "GET":  # no account in its path
            return self._candles(candles.group(1), request)
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match is None or method != request.method:
                continue
            args = match.groups()
            if args and args[0] != self.account_id:
                return _Response(
                    404, {"errorCode": "NO_SUCH_ACCOUNT", "errorMessage": "Account not found"}
                )
            if faults.delay:
                await asyncio.sleep(faults.delay)
            held = self._held.get(request.path)
            if held is not None:
                await held.wait()
            return await handler(request, *args[1:])
        return _Response(404, {"errorMessage": f"No route for {request.method} {request.path}"})

    def hold(self, path: str) -> None:
        """Requests to exactly ``path`` wait until ``release``: a venue stalled on one read, so
        a test can hold the engine mid-way (a fixed delay races a busy machine)."""
        self._held.setdefault(path, asyncio.Event())

    def release(self) -> None:
        """Answer every held request, and hold no more."""
        for event in self._held.values():
            event.set()
        self._held.clear()

    # routes ---------------------------------------------------------------------------------

    def _candles(self, name: str, request: _Request) -> _Response:
        instrument = self.ledger.instruments.get(name)
        if instrument is None:
            return _Response(400, {"errorMessage": "Invalid value specified for 'instrument'"})
        return _Response(*candles_answer(self.candle_tape, instrument, request.query, time.time()))

    def _last(self) -> str:
        return self.ledger.last_id

    def _names(self, request: _Request) -> list[str]:
        raw = ",".join(request.query.get("instruments", []))
        return [n for n in raw.split(",") if n]

    async def _accounts(self, request: _Request) -> _Response:
        return _Response(200, {"accounts": [{"id": self.account_id, "tags": []}]})

    async def _account(self, request: _Request) -> _Response:
        return _Response(
            200, {"account": views.details(self.ledger), "lastTransactionID": self._last()}
        )

    async def _summary(self, request: _Request) -> _Response:
        return _Response(
            200, {"account": views.summary(self.ledger), "lastTransactionID": self._last()}
        )

    async def _instruments(self, request: _Request) -> _Response:
        wanted = set(self._names(request))
        body = [
            instrument_json(i)
            for i in self.ledger.instruments.values()
            if not wanted or i.name in wanted
        ]
        return _Response(200, {"instruments": body, "lastTransactionID": self._last()})

    def _unknown(self, names: list[str]) -> _Response | None:
        if not names:
            return _Response(400, {"errorMessage": "Invalid value specified for 'instruments'"})
        bad = [n for n in names if n not in self.ledger.instruments]
        if bad:
            return _Response(
                400, {"errorMessage": f"Invalid value specified for 'instruments': {bad[0]}"}
            )
        return None

    async def _pricing(self, request: _Request) -> _Response:
        names = self._names(request)
        problem = self._unknown(names)
        if problem is not None:
            return problem
        prices = [price_json(self.ledger.quotes[n], self.ledger.instruments[n]) for n in names]
        return _Response(200, {"prices": prices, "time": rfc3339(time.time())})

    async def _pricing_stream(self, request: _Request) -> _Response:
        if self.faults.streams_down:
            return _Response(503, {"errorMessage": "Service unavailable"})
        names = self._names(request)
        problem = self._unknown(names)
        if problem is not None:
            return problem
        snapshot = request.query.get("snapshot", ["true"])[0].lower() != "false"
        return _Response(200, stream=self._prices(frozenset(names), snapshot))

    async def _prices(self, names: frozenset[str], snapshot: bool) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[Quote] = asyncio.Queue()
        sub = (names, queue)
        self._price_subs.add(sub)
        try:
            if snapshot:
                for name in sorted(names):
                    yield self._line(
                        price_json(self.ledger.quotes[name], self.ledger.instruments[name])
                    )
            for raw in self.faults.raw_stream_lines:
                yield raw if raw.endswith(b"\n") else raw + b"\n"
            while True:
                try:
                    quote = await asyncio.wait_for(queue.get(), self.heartbeat_interval)
                except TimeoutError:
                    yield self._line({"type": "HEARTBEAT", "time": rfc3339(time.time())})
                    continue
                yield self._line(price_json(quote, self.ledger.instruments[quote.instrument]))
        finally:
            self._price_subs.discard(sub)

    async def _txn_stream(self, request: _Request) -> _Response:
        if self.faults.streams_down:
            return _Response(503, {"errorMessage": "Service unavailable"})
        return _Response(200, stream=self._transactions())

    async def _transactions(self) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[Json] = asyncio.Queue()
        self._txn_subs.add(queue)
        try:
            while True:
                try:
                    txn = await asyncio.wait_for(queue.get(), self.heartbeat_interval)
                except TimeoutError:
                    beat = {"type": "HEARTBEAT", "lastTransactionID": self._last(),
                            "time": rfc3339(time.time())}  # fmt: skip
                    yield self._line(beat)
                    continue
                yield self._line(txn)
        finally:
            self._txn_subs.discard(queue)

    @staticmethod
    def _line(obj: Json) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode() + b"\n"

    async def _create_order(self, request: _Request) -> _Response:
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            return _Response(400, {"errorMessage": "The request was missing required data"})
        status, payload = orders.create_order(self.ledger, body)
        if status == 201 and self.faults.swallow_orders > 0:
            self.faults.swallow_orders -= 1
            return _Response(status, payload, hold=True)
        return _Response(status, payload)

    async def _orders(self, request: _Request) -> _Response:
        state = request.query.get("state", ["PENDING"])[0]
        listed = [
            o
            for o in reversed(self.ledger.orders.values())
            if state == "ALL" or o["state"] == state
        ]
        return _Response(200, {"orders": listed, "lastTransactionID": self._last()})

    async def _order(self, request: _Request, spec: str) -> _Response:
        oid = self.ledger.resolve(spec)
        if oid is None:
            return _Response(
                404,
                {
                    "errorCode": "NO_SUCH_ORDER",
                    "errorMessage": "The Order specified does not exist",
                },
            )
        return _Response(200, {"order": self.ledger.orders[oid], "lastTransactionID": self._last()})

    async def _cancel(self, request: _Request, spec: str) -> _Response:
        status, payload = orders.cancel_order(self.ledger, spec)
        return _Response(status, payload)

    async def _replace(self, request: _Request, spec: str) -> _Response:
        body = self._body(request)
        if body is None:
            return _Response(400, {"errorMessage": "The request was missing required data"})
        status, payload = orders.replace_order(self.ledger, spec, body)
        if status == 201 and self.faults.swallow_orders > 0:
            self.faults.swallow_orders -= 1
            return _Response(status, payload, hold=True)
        return _Response(status, payload)

    async def _trade(self, request: _Request, spec: str) -> _Response:
        tid = self.ledger.resolve_trade(spec)
        trades = {t["id"]: t for t in views.open_trades(self.ledger)}
        if tid is None or tid not in trades:
            return _Response(
                404, {"errorCode": "NO_SUCH_TRADE", "errorMessage": "The Trade does not exist"}
            )
        return _Response(200, {"trade": trades[tid], "lastTransactionID": self._last()})

    async def _trade_orders(self, request: _Request, spec: str) -> _Response:
        return _Response(*orders.set_trade_orders(self.ledger, spec, self._body(request)))

    async def _close_trade(self, request: _Request, spec: str) -> _Response:
        return _Response(*orders.close_trade(self.ledger, spec, self._body(request) or {}))

    async def _close_pos(self, request: _Request, instrument: str) -> _Response:
        return _Response(*orders.close_position(self.ledger, instrument, self._body(request) or {}))

    async def _positions(self, request: _Request) -> _Response:
        return _Response(
            200, {"positions": views.positions(self.ledger), "lastTransactionID": self._last()}
        )

    @staticmethod
    def _body(request: _Request) -> Any:
        """The JSON request body; None when empty or not JSON."""
        try:
            return json.loads(request.body or b"null")
        except ValueError:
            return None

    async def _trades(self, request: _Request) -> _Response:
        return _Response(
            200, {"trades": views.open_trades(self.ledger), "lastTransactionID": self._last()}
        )

    async def _since(self, request: _Request) -> _Response:
        try:
            since = int(request.query.get("id", [""])[0])
        except ValueError:
            return _Response(400, {"errorMessage": "Invalid value specified for 'id'"})
        txns = [t for t in self.ledger.transactions if int(t["id"]) > since]
        return _Response(200, {"transactions": txns, "lastTransactionID": self._last()})

    async def _transaction(self, request: _Request, tid: str) -> _Response:
        index = int(tid) - 1
        if not 0 <= index < len(self.ledger.transactions):
            return _Response(
                404, {"errorCode": "NO_SUCH_TRANSACTION", "errorMessage": "Transaction not found"}
            )
        return _Response(
            200, {"transaction": self.ledger.transactions[index], "lastTransactionID": self._last()}
        )


async def serve(
    host: str,
    port: int,
    *,
    account_id: str,
    token: str,
    faults: Faults | None = None,
    **options: Any,
) -> V20Server:
    """Start a v20-compatible server on ``host:port`` (0 picks a free port); close() stops it."""
    server = V20Server(account_id=account_id, token=token, faults=faults, **options)
    await server.start(host, port)
    return server


class V20ServerThread:
    """A ``V20Server`` on its own event loop thread, for tests and benches (a context manager)."""

    def __init__(
        self,
        *,
        account_id: str = "101-001-0000001-001",
        token: str = "local-test-token",
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        **options: Any,
    ) -> None:
        self.account_id = account_id
        self.host = host
        self._port = port
        self._token = token
        self._faults = faults
        self._options = options
        self._thread = LoopThread("v20-server")
        self._server: V20Server | None = None

    def start(self) -> V20ServerThread:
        self._thread.start(self._serve)
        return self

    async def _serve(self, thread: LoopThread) -> None:
        self._server = await serve(
            self.host,
            self._port,
            account_id=self.account_id,
            token=self._token,
            faults=self._faults,
            **self._options,
        )
        thread.ready()
        await thread.until_stopped()
        await self._server.close()

    @property
    def server(self) -> V20Server:
        assert self._server is not None, "start() first"
        return self._server

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def call(self, fn: Callable[[V20Server], T]) -> T:
        """Run ``fn(server)`` on the server's loop and return its result (thread-safe)."""
        done: Future[T] = Future()

        def run() -> None:
            try:
                done.set_result(fn(self.server))
            except BaseException as exc:  # handed to the caller
                done.set_exception(exc)

        if not self._thread.call_soon(run):
            raise RuntimeError("the v20 server is not running")
        return done.result(timeout=10)

    def stop(self) -> None:
        self._thread.stop()

    def __enter__(self) -> V20ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
