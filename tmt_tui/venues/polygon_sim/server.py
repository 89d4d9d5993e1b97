"""The local Polygon / Massive WebSocket server: the same statuses, auth outcomes, topics and
event shapes as the real one (see venues/polygon), on the simulated market, with faults.

Protocol, as the real server: on connect ``[{"ev":"status","status":"connected",...}]``; the
client sends ``{"action":"auth","params":KEY}`` and gets ``auth_success`` or ``auth_failed``
(and is closed); ``{"action":"subscribe","params":"C.EUR/USD,Q.AAPL"}`` gets one ``success``
status per topic; data frames are JSON arrays of events. One connection per key and cluster:
a newer one makes the server tell the older ``max_connections`` and close it. A client that
does not keep up is told ``slow_consumer`` and closed.

Faults (:class:`Faults`): connections dropped every N seconds; garbage frames; NaN (as a
string, as JSON has no NaN), negative and crossed quotes; frames sent in fragments.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tmt_tui.domain.instruments import InstrumentKind, kind_of
from tmt_tui.domain.secret import Secret
from tmt_tui.venues.polygon.symbols import EVENTS, MARKET, instrument_of, symbol_of
from tmt_tui.venues.polygon_sim.aggregates import AggregateTape, aggregates_answer
from tmt_tui.venues.polygon_sim.tape import Tape

log = logging.getLogger(__name__)
#: websockets logs every frame at DEBUG, the clients' auth frames (their keys) among them.
_wire_log = logging.getLogger(f"{__name__}.wire")
_wire_log.setLevel(logging.INFO)

#: Frames a connection may have waiting before the server calls it a slow consumer.
SLOW_CONSUMER_FRAMES = 2000


@dataclass
class Faults:
    """What the server does wrong, on purpose."""

    drop_every: float | None = None  # close each connection this many seconds after auth
    garbage_every: int = 0  # every Nth data frame is not JSON
    bad_every: int = 0  # every Nth data frame has a NaN, a negative or a crossed quote
    fragment: bool = False  # send each frame in fragments (a frame split across reads)
    slow_consumer_frames: int = SLOW_CONSUMER_FRAMES


@dataclass
class _Client:
    ws: ServerConnection
    market: str
    topics: set[str] = field(default_factory=set)
    outbox: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    authed: bool = False
    frames: int = 0


class PolygonSim:
    """The server's state: who is connected, what they subscribed, and the tape."""

    def __init__(
        self,
        key: Secret,
        *,
        ticks_per_second: float = 4.0,
        faults: Faults | None = None,
        seed: int = 11,
    ) -> None:
        self.key = key
        self.faults = faults or Faults()
        self.tape = Tape(seed=seed, ticks_per_second=ticks_per_second)
        self.interval = 1.0 / ticks_per_second
        self.clients: list[_Client] = []
        self.holders: dict[str, _Client] = {}  # market -> the authenticated connection
        self.sent_quotes = 0
        self.connections = 0
        self._bad = itertools.cycle(("nan", "negative", "crossed"))
        self._seq = itertools.count(1)
        self._bars: dict[str, list[float]] = {}  # instrument -> mids in the current second
        #: Every price sent, after a made-up past: what the REST aggregates endpoint reads.
        self.aggregates = AggregateTape(seed, time.time(), {})

    # REST (on the same port: a plain GET never becomes a WebSocket) -------------------------

    def rest(self, connection: ServerConnection, request: Request) -> Response | None:
        """``/v2/aggs/...`` answered as Polygon's REST API; anything else goes on to the
        WebSocket handshake."""
        path, _, raw = request.path.partition("?")
        parts = path.split("/")
        if parts[1:3] != ["v2", "aggs"]:
            return None
        if len(parts) != 10 or parts[3] != "ticker" or parts[5] != "range":
            status, body = 404, {"status": "NOT_FOUND", "message": f"no route {path}"}
        else:
            status, body = aggregates_answer(
                self.aggregates, self.key, parts[4], parts[6], parts[7], parts[8], parts[9],
                parse_qs(raw), request.headers.get("Authorization", ""),
            )  # fmt: skip
        payload = orjson.dumps(body)
        headers = Headers([("Content-Type", "application/json"), ("Connection", "close")])
        headers["Content-Length"] = str(len(payload))
        return Response(status, HTTPStatus(status).phrase, headers, payload)

    # connections ------------------------------------------------------------------------------

    async def handle(self, ws: ServerConnection) -> None:
        path = (ws.request.path if ws.request is not None else "/").strip("/")
        if path not in MARKET.values():
            await ws.close(1008, f"unknown cluster {path!r}: forex, stocks or crypto")
            return
        self.connections += 1
        client = _Client(ws, path)
        self.clients.append(client)
        sender = asyncio.create_task(self._send_loop(client))
        try:
            await self._status(client, "connected", "Connected Successfully")
            async for raw in ws:
                await self._on_message(client, raw)
        except ConnectionClosed:
            pass
        finally:
            sender.cancel()
            self.clients.remove(client)
            if self.holders.get(client.market) is client:
                del self.holders[client.market]

    async def _on_message(self, client: _Client, raw: str | bytes) -> None:
        try:
            message = orjson.loads(raw)
            action, params = message["action"], message.get("params", "")
        except (orjson.JSONDecodeError, KeyError, TypeError):
            await self._status(client, "error", "Invalid JSON")
            return
        if action == "auth":
            await self._auth(client, params if isinstance(params, str) else "")
        elif not client.authed:
            await self._status(client, "auth_required", "authentication required")
        elif action in ("subscribe", "unsubscribe"):
            for topic in filter(None, str(params).split(",")):
                topic = topic.strip()
                if action == "subscribe":
                    client.topics.add(topic)
                else:
                    client.topics.discard(topic)
                await self._status(client, "success", f"{action}d to: {topic}")
        else:
            await self._status(client, "error", f"unknown action {action!r}")

    async def _auth(self, client: _Client, key: str) -> None:
        if not self.key.matches(key):
            await self._status(client, "auth_failed", "authentication failed")
            await client.ws.close()
            return
        older = self.holders.get(client.market)
        if older is not None and older is not client:
            await self._status(older, "max_connections", "Maximum number of connections exceeded.")
            with contextlib.suppress(ConnectionClosed):
                await older.ws.close(1008, "max_connections")
        self.holders[client.market] = client
        client.authed = True
        await self._status(client, "auth_success", "authenticated")
        if self.faults.drop_every:
            asyncio.get_running_loop().call_later(
                self.faults.drop_every, lambda: asyncio.ensure_future(client.ws.close(1011))
            )

    async def _status(self, client: _Client, status: str, message: str) -> None:
        frame = orjson.dumps([{"ev": "status", "status": status, "message": message}]).decode()
        with contextlib.suppress(ConnectionClosed):
            await client.ws.send(frame)

    async def _send_loop(self, client: _Client) -> None:
        ws = client.ws
        with contextlib.suppress(ConnectionClosed):
            while True:
                frame = await client.outbox.get()
                if self.faults.fragment and len(frame) > 8:
                    cut = len(frame) // 2
                    await ws.send(iter([frame[:cut], frame[cut:]]))
                else:
                    await ws.send(frame)

    # the tape ---------------------------------------------------------------------------------

    async def run_tape(self) -> None:
        """Every tick: move what anyone subscribed, and send each client its topics."""
        next_second = int(time.time()) + 1
        while True:
            await asyncio.sleep(self.interval)
            self.tick()
            if time.time() >= next_second:
                self.close_bars(next_second)
                next_second = int(time.time()) + 1

    def wanted(self) -> set[str]:
        """The instruments some authenticated client subscribed to (a ``*`` means all)."""
        names: set[str] = set()
        for client in self.clients:
            if not client.authed:
                continue
            for topic in client.topics:
                code, _, symbol = topic.partition(".")
                if symbol == "*":
                    names.update(n for n in self.tape.names() if _code_fits(code, n))
                else:
                    name = instrument_of(symbol)
                    if self.tape.knows(name):
                        names.add(name)
        return names

    def tick(self) -> None:
        now_ms = int(time.time() * 1000)
        events: dict[str, list[dict[str, Any]]] = {}
        for name in sorted(self.wanted()):
            bid, ask = self.tape.step(name)
            self.aggregates.record(name, now_ms / 1000, bid, ask)
            self._bars.setdefault(name, []).append((bid + ask) / 2)
            events.setdefault(name, []).extend(self._events(name, bid, ask, now_ms))
        if events:
            self._deliver(events)

    def close_bars(self, second: int) -> None:
        """The second's aggregates (``CAS``, ``A``, ``XAS``) for what traded in it."""
        bars, self._bars = self._bars, {}
        events: dict[str, list[dict[str, Any]]] = {}
        for name, mids in bars.items():
            kind = kind_of(name)
            code = EVENTS[kind][2]
            sym_key = "sym" if kind is InstrumentKind.STOCK else "pair"
            events[name] = [{
                "ev": code, sym_key: symbol_of(name), "o": mids[0], "h": max(mids),
                "l": min(mids), "c": mids[-1], "v": len(mids),
                "s": (second - 1) * 1000, "e": second * 1000,
            }]  # fmt: skip
        if events:
            self._deliver(events)

    def _events(self, name: str, bid: float, ask: float, ms: int) -> Iterator[dict[str, Any]]:
        kind = kind_of(name)
        symbol = symbol_of(name)
        if kind is InstrumentKind.FX:
            yield {"ev": "C", "p": symbol, "x": 48, "a": ask, "b": bid, "t": ms}
        elif kind is InstrumentKind.STOCK:
            seq = next(self._seq)
            yield {"ev": "Q", "sym": symbol, "bx": 4, "bp": bid, "bs": 2, "ax": 7, "ap": ask,
                   "as": 3, "c": 0, "t": ms, "q": seq, "z": 3}  # fmt: skip
            yield {"ev": "T", "sym": symbol, "x": 4, "i": str(seq), "z": 3, "p": ask, "s": 100,
                   "c": [0], "t": ms, "q": seq}  # fmt: skip
        else:
            yield {"ev": "XQ", "pair": symbol, "bp": bid, "bs": 0.5, "ap": ask, "as": 0.7,
                   "t": ms, "x": 1, "r": ms}  # fmt: skip
            yield {"ev": "XT", "pair": symbol, "p": ask, "t": ms, "s": 0.01, "c": [2],
                   "i": str(next(self._seq)), "x": 1, "r": ms}  # fmt: skip

    def _deliver(self, events: dict[str, list[dict[str, Any]]]) -> None:
        for client in list(self.clients):
            if not client.authed or not client.topics:
                continue
            mine = [
                e
                for name, evs in events.items()
                if MARKET[kind_of(name)] == client.market
                for e in evs
                if _subscribed(client.topics, e["ev"], name)
            ]
            if not mine:
                continue
            client.frames += 1
            self.sent_quotes += sum(1 for e in mine if e["ev"] in ("C", "Q", "XQ"))
            self._queue(client, self._frame(client, mine))

    def _frame(self, client: _Client, events: list[dict[str, Any]]) -> str:
        faults = self.faults
        if faults.garbage_every and client.frames % faults.garbage_every == 0:
            return '[{"ev":"C","p":"EUR/USD", garbage'
        if faults.bad_every and client.frames % faults.bad_every == 0:
            bad = dict(events[0])
            price, other = ("b", "a") if "b" in bad else ("bp", "ap")
            if price in bad:
                how = next(self._bad)
                if how == "nan":
                    bad[price] = "NaN"
                elif how == "negative":
                    bad[price] = -abs(bad[price])
                else:
                    bad[price] = bad[other] * 1.01
                events = [bad, *events[1:]]
        return orjson.dumps(events).decode()

    def _queue(self, client: _Client, frame: str) -> None:
        if client.outbox.qsize() >= self.faults.slow_consumer_frames:
            client.authed = False  # nothing more for it
            asyncio.ensure_future(self._slow_consumer(client))
            return
        client.outbox.put_nowait(frame)

    async def _slow_consumer(self, client: _Client) -> None:
        await self._status(client, "slow_consumer", "Client is not consuming fast enough")
        with contextlib.suppress(ConnectionClosed):
            await client.ws.close(1008, "slow_consumer")


def _code_fits(code: str, name: str) -> bool:
    return code in EVENTS[kind_of(name)]


def _subscribed(topics: set[str], code: str, name: str) -> bool:
    return f"{code}.{symbol_of(name)}" in topics or f"{code}.*" in topics


class PolygonSimServer:
    """The server on a port (0: any free one), until closed."""

    def __init__(self, sim: PolygonSim, server: Server, tape: asyncio.Task[None]) -> None:
        self.sim = sim
        self._server = server
        self._tape = tape
        self.port: int = server.sockets[0].getsockname()[1] if server.sockets else 0

    async def close(self) -> None:
        self._tape.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._tape
        self._server.close()
        await self._server.wait_closed()


async def start(sim: PolygonSim, host: str = "127.0.0.1", port: int = 0) -> PolygonSimServer:
    server = await serve(
        sim.handle, host, port, compression=None, max_queue=None, logger=_wire_log,
        process_request=sim.rest, close_timeout=1.0,
    )  # fmt: skip
    tape = asyncio.create_task(sim.run_tape(), name="polygon-sim-tape")
    return PolygonSimServer(sim, server, tape)
