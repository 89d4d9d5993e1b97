"""The Polygon / Massive market-data feed: one WebSocket per cluster path (forex, stocks,
crypto), authenticated with the key, subscribed to the configured instruments' topics.

Why not the official client (``massive`` / ``polygon-api-client``): it awaits the message
handler inline, so a slow handler stops the socket being read and the server drops us as a
slow consumer, and it hides ``max_connections`` and the other server-initiated closes behind
a generic reconnect. Here a reader task drains the socket into a bounded queue the moment a
frame arrives (when the queue is full the oldest frame goes, counted: prices conflate, the
socket never backs up), and a second task parses. Every status is reported:

- ``auth_failed``: one clear message, no reconnect storm: that cluster stops until restart;
- ``max_connections`` (another program holds our one connection per cluster), a server close,
  ``slow_consumer``, a refused connection: reported, retried with jittered backoff, topics
  subscribed again; the cluster's instruments are stale while it is down.

The subscription may change while it runs (the watchlist): a live connection is sent
``subscribe`` / ``unsubscribe`` for what changed, the others' quotes never pause, and a first
instrument of another kind (a stock beside the pairs) opens that cluster's connection.

The key travels as a ``Secret`` and is revealed only into the auth frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
import websockets
from websockets.asyncio.client import ClientConnection, connect

from tmt_tui.domain.instruments import Instrument, kind_of
from tmt_tui.domain.market import Bar
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.secret import Secret
from tmt_tui.venues.base import QuoteSink, StatusHook
from tmt_tui.venues.oanda.backoff import ReconnectBackoff
from tmt_tui.venues.polygon.frames import Bar as PolygonBar
from tmt_tui.venues.polygon.frames import Refused, Status, Trade, parse_frame
from tmt_tui.venues.polygon.history import REST_URL, aggregates
from tmt_tui.venues.polygon.symbols import MARKET, Topics, subscription

log = logging.getLogger(__name__)
#: The websockets library logs every frame at DEBUG, the auth frame (with the key) among them:
#: its logger for our connections never goes below INFO.
_wire_log = logging.getLogger(f"{__name__}.wire")
_wire_log.setLevel(logging.INFO)

#: Where the real-time and the 15-minute delayed feeds are (old hosts: *.polygon.io).
REALTIME_HOST = "socket.massive.com"
DELAYED_HOST = "delayed.massive.com"
#: After ``max_connections`` someone else holds the connection: wait at least this long.
MAX_CONNECTIONS_BACKOFF_S = 15.0
AUTH_OK = {"auth_success"}
#: Refused events logged one by one; after that every thousandth (a garbage storm is counted,
#: not written out line by line).
LOGGED_REFUSALS = 20
#: How long each handshake step may take before the connection counts as failed.
HANDSHAKE_S = 10.0
#: Statuses with which the server says it is about to close the connection.
CLOSING = {"max_connections", "slow_consumer", "force_disconnect"}


class ConnectionEnded(Exception):
    """The server closed the connection cleanly."""


@dataclass(frozen=True, slots=True)
class _Closed:
    """Queued after the last frame of a connection: how it ended."""

    error: Exception | None


Frames = asyncio.Queue["str | bytes | _Closed"]
MessageSink = Callable[[Trade | PolygonBar], None]


class AuthFailed(Exception):
    """The key was refused: nothing will change that until it does, so no reconnecting."""


class ServerClosing(Exception):
    """The server said it will close us (``max_connections``, ``slow_consumer``, ...)."""

    def __init__(self, status: Status) -> None:
        super().__init__(f"{status.status}: {status.message}")
        self.status = status


@dataclass
class FeedStats:
    """What the feed did: for the metrics, the bench and the soak table."""

    frames: int = 0
    quotes: int = 0
    refused: int = 0
    dropped_frames: int = 0  # the queue was full: the oldest unparsed frame went
    connects: int = 0
    drops: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


class PolygonFeed:
    """A :class:`~tmt_tui.venues.base.MarketDataFeed` over Polygon / Massive WebSockets."""

    async def history(self, instrument: str, size: str, count: int) -> list[Bar]:
        """Polygon's REST aggregates (``venues/polygon/history.py``): the history capability."""
        return await aggregates(self.rest_url, self._key, instrument, size, count)

    def __init__(
        self,
        key: Secret,
        instruments: Iterable[Instrument],
        *,
        host: str = REALTIME_HOST,
        secure: bool = True,
        topics: Topics | None = None,
        queue_frames: int = 4096,
        backoff: tuple[float, float] = (0.5, 30.0),
        max_connections_backoff: float = MAX_CONNECTIONS_BACKOFF_S,
        on_status: StatusHook | None = None,
        on_message: MessageSink | None = None,
        universe: Iterable[Instrument] = (),
    ) -> None:
        self._key = key
        self._instruments = tuple(instruments)
        #: What ``subscribe`` may ask for: the configured instruments and the pairs with specs.
        self._universe = {i.name: i for i in (*self._instruments, *universe)}
        self.base_url = f"{'wss' if secure else 'ws'}://{host}"
        #: Where its REST aggregates are: Massive's API, or the same host for a local server.
        self.rest_url = (
            REST_URL
            if host in (REALTIME_HOST, DELAYED_HOST)
            else f"{'https' if secure else 'http'}://{host}"
        )
        self.topics = topics or Topics()
        self._queue_frames = queue_frames
        self._backoff = backoff
        self._max_connections_backoff = max_connections_backoff
        self._on_status = on_status or (lambda key, active, message: None)
        self._on_message = on_message
        self._wanted = frozenset(i.name for i in self._instruments)
        self._ticks = {i.name: i.tick for i in self._instruments}
        self._running = True
        self._task: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sink: QuoteSink | None = None
        self._plan = subscription([i.name for i in self._instruments], self.topics)
        self._clusters: dict[str, asyncio.Task[None]] = {}  # cluster path -> its connection loop
        self._sockets: dict[str, ClientConnection] = {}  # live, subscribed connections
        self.stats = FeedStats()
        #: Cluster path -> "connecting" | "live" | "down" | "auth_failed".
        self.state: dict[str, str] = {}

    def instruments(self) -> tuple[Instrument, ...]:
        return self._instruments

    def stale(self) -> set[str]:
        """The instruments whose cluster is not live right now."""
        return {
            i.name for i in self._instruments if self.state.get(MARKET[kind_of(i.name)]) != "live"
        }

    def universe(self) -> tuple[Instrument, ...]:
        return tuple(self._universe.values())

    def subscribe(self, names: Iterable[str]) -> None:
        """Quote exactly ``names`` from now on: each live connection is told what changed,
        a cluster not connected yet opens (on the feed's loop; safe from any thread)."""
        chosen = tuple(self._universe[n] for n in names if n in self._universe)
        self._instruments = chosen
        self._wanted = frozenset(i.name for i in chosen)
        self._ticks.update((i.name, i.tick) for i in chosen)
        before, self._plan = self._plan, subscription([i.name for i in chosen], self.topics)
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._resubscribe, before)

    def _resubscribe(self, before: dict[str, list[str]]) -> None:
        """On the loop: tell each live connection the topics it gains and loses; start the
        clusters that had nothing to do until now."""
        for market in sorted(set(before) | set(self._plan)):
            old, new = set(before.get(market, ())), set(self._plan.get(market, ()))
            ws = self._sockets.get(market)
            if ws is not None and old != new:
                asyncio.ensure_future(self._send_changes(ws, sorted(new - old), sorted(old - new)))
            if new and market not in self._clusters and self._sink is not None:
                self._start_cluster(market, self._sink)

    @staticmethod
    async def _send_changes(ws: ClientConnection, added: list[str], removed: list[str]) -> None:
        """``subscribe`` what is new and ``unsubscribe`` what went (a closed connection
        subscribes the whole plan again as it reconnects)."""
        with contextlib.suppress(websockets.ConnectionClosed):
            if removed:
                params = ",".join(removed)
                await ws.send(orjson.dumps({"action": "unsubscribe", "params": params}).decode())
            if added:
                params = ",".join(added)
                await ws.send(orjson.dumps({"action": "subscribe", "params": params}).decode())

    def _start_cluster(self, market: str, sink: QuoteSink) -> None:
        self._clusters[market] = asyncio.create_task(
            self._cluster(market, sink), name=f"polygon-{market}"
        )

    async def run(self, sink: QuoteSink) -> None:
        """Stream every cluster's quotes into ``sink`` until stopped."""
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._sink = sink
        for market in self._plan:
            self._start_cluster(market, sink)
        try:
            while pending := [t for t in self._clusters.values() if not t.done()]:
                await asyncio.wait(pending)  # a cluster opened meanwhile is waited for next
            for task in self._clusters.values():
                task.result()  # a cluster's failure is the feed's
        except asyncio.CancelledError:
            if self._running:
                raise  # cancelled by someone else: let them see it
        finally:
            for task in self._clusters.values():
                task.cancel()

    def report_status_to(self, status: StatusHook) -> None:
        self._on_status = status

    def stop(self) -> None:
        """Safe from any thread."""
        self._running = False
        self.state = dict.fromkeys(self.state, "stopped")
        if self._task is not None and self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._task.cancel)

    # one cluster ------------------------------------------------------------------------------

    async def _cluster(self, market: str, sink: QuoteSink) -> None:
        pacer = ReconnectBackoff(*self._backoff)
        url = f"{self.base_url}/{market}"
        down_key = f"polygon-down:{market}"
        while self._running:
            self.state[market] = "connecting"
            self.stats.connects += 1
            wait = 0.0
            try:
                await self._session(url, market, sink, pacer)
                why = "the server closed the connection"
            except AuthFailed as exc:
                self.state[market] = "auth_failed"
                message = f"Polygon/Massive refused the API key on {market}: {exc}"
                log.error("%s; not reconnecting (check MASSIVE_API_KEY)", message)
                self._on_status(f"polygon-auth:{market}", True, message)
                return
            except ServerClosing as exc:
                why = str(exc)
                if exc.status.status == "max_connections":
                    wait = self._max_connections_backoff
            except websockets.ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd is not None else None
                why = "the connection closed" + (f" (code {code})" if code else "")
            except (OSError, websockets.WebSocketException, TimeoutError, ConnectionEnded) as exc:
                why = f"{type(exc).__name__}: {exc}"
            if not self._running:
                return
            was_live = self.state.get(market) == "live"
            self.state[market] = "down"
            self.stats.drops += 1
            message = f"Polygon/Massive {market} down ({why}); reconnecting"
            (log.warning if was_live else log.info)("%s", message)
            self._on_status(down_key, True, message)
            await asyncio.sleep(max(wait, pacer.next()))

    async def _session(
        self, url: str, market: str, sink: QuoteSink, pacer: ReconnectBackoff
    ) -> None:
        async with connect(
            url, proxy=None, max_queue=None, compression=None, open_timeout=10, logger=_wire_log
        ) as ws:
            frames: Frames = asyncio.Queue(self._queue_frames)
            reader = asyncio.create_task(self._read(ws, frames), name=f"polygon-read-{market}")
            try:
                await self._handshake(ws, frames, market)
                self._sockets[market] = ws
                self.state[market] = "live"
                pacer.reset()
                self._on_status(f"polygon-down:{market}", False, f"Polygon/Massive {market} live")
                await self._parse(frames, sink)
            finally:
                self._sockets.pop(market, None)
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader

    async def _read(self, ws: ClientConnection, frames: Frames) -> None:
        """Drain the socket at once; when parsing lags, the oldest frame gives way. The end of
        the connection goes into the queue last, so the parser sees every frame before it."""
        stats = self.stats
        end: _Closed
        try:
            async for raw in ws:
                if frames.full():
                    frames.get_nowait()
                    stats.dropped_frames += 1
                frames.put_nowait(raw)
            end = _Closed(None)
        except Exception as exc:  # the connection's end, whatever it was: the parser raises it
            end = _Closed(exc)
        if frames.full():
            frames.get_nowait()
            stats.dropped_frames += 1
        frames.put_nowait(end)

    @staticmethod
    async def _next(frames: Frames) -> str | bytes:
        item = await frames.get()
        if isinstance(item, _Closed):
            raise item.error or ConnectionEnded("the server closed the connection")
        return item

    async def _handshake(
        self,
        ws: ClientConnection,
        frames: Frames,
        market: str,
    ) -> None:
        """``connected`` -> auth -> ``auth_success`` -> subscribe (the plan as it is now: a
        reconnect takes what changed meanwhile). Data may follow at once."""
        await self._await_status(frames, {"connected"})
        await ws.send(orjson.dumps({"action": "auth", "params": self._key.reveal()}).decode())
        await self._await_status(frames, AUTH_OK)
        topics = ",".join(self._plan.get(market, ()))
        await ws.send(orjson.dumps({"action": "subscribe", "params": topics}).decode())

    async def _await_status(self, frames: Frames, wanted: set[str]) -> None:
        """Read until a status in ``wanted``; a refusal or a closing status raises."""
        while True:
            raw = await asyncio.wait_for(self._next(frames), timeout=HANDSHAKE_S)
            for message in parse_frame(raw, self._wanted):
                if isinstance(message, Status):
                    self._count(message)
                    if message.status in wanted or (wanted is AUTH_OK and _old_auth_ok(message)):
                        return
                    if message.status in ("auth_failed", "auth_timeout"):
                        raise AuthFailed(message.message or message.status)
                    if message.status in CLOSING:
                        raise ServerClosing(message)

    async def _parse(self, frames: Frames, sink: QuoteSink) -> None:
        stats, on_message = self.stats, self._on_message
        while True:
            raw = await self._next(frames)
            stats.frames += 1
            for message in parse_frame(raw, self._wanted):  # the subscription may change
                if isinstance(message, Quote):
                    stats.quotes += 1
                    sink(self._on_tick(message))
                elif isinstance(message, Status):
                    self._count(message)
                    if message.status in CLOSING:
                        raise ServerClosing(message)
                    if message.status == "error":
                        log.warning("Polygon/Massive says: %s", message.message)
                elif isinstance(message, Refused):
                    stats.refused += 1
                    if stats.refused <= LOGGED_REFUSALS or stats.refused % 1000 == 0:
                        log.warning(
                            "Polygon/Massive data refused (%d so far): %s: %s",
                            stats.refused, message.why, message.raw,
                        )  # fmt: skip
                elif on_message is not None:
                    on_message(message)

    def _on_tick(self, quote: Quote) -> Quote:
        """Prices come as JSON numbers (``1.0851``): written to the instrument's decimals
        (``1.08510``) when that is exact, as the venue's own prices are; finer ones stay."""
        tick = self._ticks[quote.instrument]
        bid, ask = quote.bid, quote.ask
        padded_bid, padded_ask = bid.quantize(tick), ask.quantize(tick)
        if padded_bid == bid and padded_ask == ask:
            return Quote(quote.instrument, padded_bid, padded_ask, quote.ts)
        return quote

    def _count(self, status: Status) -> None:
        self.stats.statuses[status.status] = self.stats.statuses.get(status.status, 0) + 1


def _old_auth_ok(status: Status) -> bool:
    """The older servers' way to say the key was taken: ``success`` / ``authenticated``."""
    return status.status == "success" and "authenticated" in status.message
