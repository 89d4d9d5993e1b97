"""The thin async runner around the core: its own thread and event loop, queues, timers, I/O.

Commands arrive from any thread through ``call_soon_threadsafe`` and are applied in batches:
everything a batch produced (including the sim broker's synchronous fills) is committed in one
durable transaction, and only then are replies sent and subscribers told. The kill switch
skips the queue: it flags the core at once from the caller's thread, then runs first.

A new order at a venue that answers later (OANDA) is durable at the commit, but its reply
waits for the venue's answer (accepted, filled, rejected), at most ``VENUE_ANSWER_WAIT_S``: an
acknowledged order is one the venue has, and the reply says what became of it. A crash
before the answer leaves a journaled order no client was told about, which the restart's
reconciliation settles (at the venue, or ``NOT_AT_VENUE``), and never one sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from tmt_tui.analytics.market import SIZE_NAMES, MarketState
from tmt_tui.config import Settings
from tmt_tui.domain.client import Reply, Snapshot
from tmt_tui.domain.commands import (
    CancelAll,
    Command,
    ControlReplay,
    EngageKillSwitch,
    Origin,
    QueryAnalytics,
    QueryBars,
    StopEngine,
    Unwatch,
    Watch,
    command_problem,
)
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import CancelWhy, Order, OrderStatus
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.reasons import Reason
from tmt_tui.domain.replay import ReplayProgress, checked_speed
from tmt_tui.engine import bar_retention as retention
from tmt_tui.engine.analytics_query import answer_analytics, holdings_of
from tmt_tui.engine.backfill import BackfillPlan, BackfillReport, backfill
from tmt_tui.engine.bar_retention import prune_some
from tmt_tui.engine.bars_query import answer_bars, query_problem
from tmt_tui.engine.boot import boot
from tmt_tui.engine.bus import Bus, Mailbox
from tmt_tui.engine.core import EngineCore
from tmt_tui.engine.feed_gaps import FeedGaps
from tmt_tui.engine.reconcile import reconcile_with
from tmt_tui.engine.watchlist import Watchlist, subscription, watchlist_path
from tmt_tui.loop_thread import LoopThread
from tmt_tui.monitoring.observer import EngineObserver, NullObserver
from tmt_tui.store.equity_rows import EquityRows
from tmt_tui.store.journal import Journal
from tmt_tui.venues.base import (
    ComparingFeed,
    Playback,
    SubscribingFeed,
    Venue,
    VenueEvent,
    send,
)

log = logging.getLogger(__name__)

ReplyCallback = Callable[[Reply], None]
Pending = tuple[Reply, ReplyCallback]
CHECKPOINT_EVERY = 100_000  # events: bounds replay even within one busy trading day
REVALUE_EVERY_S = 1.0
#: What only screens and metrics need (publication, timings) runs this long after the replies
#: it follows: the engine thread then lets go of the GIL at once, and the thread a reply wakes
#: runs without waiting for it (measured: ~90 µs of publication held every ack back).
AFTER_REPLY_S = 0.0005
#: How long a new order's reply waits for the venue's answer before it goes out saying the
#: order is sent and the answer pending (OANDA answers in tens of milliseconds).
VENUE_ANSWER_WAIT_S = 5.0
#: The engine alert that says the watchlist's state file could not be used as it stood.
WATCHLIST_ALERT = "watchlist.file"
#: Closed bars per instrument and size a restart reads back to rebuild market state: enough for
#: every indicator and the regime's 120-bar width history to be warm again.
BARS_RESTORED = 300
#: How far back a restart replays journaled ticks into the bars that were live at the stop.
LIVE_BARS_BACK_S = 3600.0


def _ignore(_: Reply) -> None:
    return None


class EngineRunner:
    """Owns the core, the journal and the venues on one engine thread."""

    def __init__(
        self,
        settings: Settings,
        venue: Venue,
        clock: Callable[[], float] = time.time,
        observer: EngineObserver | None = None,
    ) -> None:
        self.settings = settings
        self.venue = venue
        self.clock = clock
        self.observer: EngineObserver = observer or NullObserver()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.core: EngineCore | None = None
        self.journal: Journal | None = None
        self.bus = Bus()
        self._thread = LoopThread("tmt-engine")
        self._commands: deque[tuple[Command, ReplyCallback, float]] = deque()
        self._inbox: deque[VenueEvent] = deque()
        self._ticks: list[Quote] = []
        self._dirty_books: set[tuple[str, str]] = set()
        self._drain_scheduled = False
        self._dispatching = False  # venue events that arrive now are applied by that dispatch
        self._later: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        self._later_scheduled = False
        #: New orders' replies waiting for the venue's answer: order id -> (reply, callback,
        #: since when, monotonic).
        self._awaiting: dict[str, tuple[Reply, ReplyCallback, float]] = {}
        self._queries: set[asyncio.Task[None]] = set()  # analytics being computed off the loop
        self._equity_rows = EquityRows()  # the equity rows read so far, grown at each query
        self._since_checkpoint = 0
        self._last_revalue = 0.0  # when marks were last recomputed from scratch
        self._last_equity = 0.0  # when equity rows were last written
        self._gaps: FeedGaps | None = None  # other feeds compared with the trading prices
        #: Bars, indicators, regime and signal per instrument (analytics/market.py), fed by
        #: every accepted quote; built at boot from the journal's bars.
        self.market = MarketState(())
        self._fbid: dict[str, float] = {}
        self._fask: dict[str, float] = {}
        #: A replay's feed (``tmt replay``): the engine then keeps time by its ticks.
        self._playback: Playback | None = None
        self._rules_due = 0.0  # replay: the tick time the periodic rules run again
        self._replay_shown: ReplayProgress | None = None  # the progress subscribers have
        #: Where an accepted quote goes for subscribers: the bus at once, or (a replay, whose
        #: ticks come faster than any screen draws) held, the latest per instrument, until
        #: the marks timer publishes them (the bus would conflate them the same way).
        self._publish_quote: Callable[[Quote], None] = self.bus.quote
        self._held_quotes: dict[str, Quote] = {}
        #: What the start's backfill has done so far (engine/backfill.py).
        self.backfill_report = BackfillReport()
        #: The instruments the board shows, kept beside the journal (engine/watchlist.py); the
        #: feed quotes ``_quoted``: those, and what positions, orders and conversions need.
        self.watchlist: Watchlist | None = None
        self._quoted: dict[str, str] = {}  # instrument -> why the feed quotes it
        self.running = False

    # lifecycle (any thread) -------------------------------------------------------------------

    def start(self) -> None:
        """Start the engine thread; returns once it trades, or raises why it could not start."""
        self._thread.start(self._main)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the engine thread to end (a StopEngine command, or stop()); True if it did."""
        return self._thread.join(timeout)

    def stop(self) -> None:
        """Stop gracefully: flush ticks, checkpoint, close the journal. Idempotent."""
        self._thread.stop()

    def submit(self, command: Command, callback: ReplyCallback) -> None:
        """Queue a command from any thread; ``callback`` gets the reply on the engine thread."""
        if isinstance(command, EngageKillSwitch):
            self.kill(command, callback)
            return
        if isinstance(command, QueryAnalytics):
            runs = self._call(self._start_analytics, command, callback)
        elif isinstance(command, ControlReplay):
            runs = self._call(self._control_replay, command, callback)
        elif isinstance(command, QueryBars):
            runs = self._call(self._start_bars, command, callback)
        elif isinstance(command, Watch | Unwatch):
            runs = self._call(self._watch, command, callback)
        else:
            runs = self._call(self._enqueue, command, callback)
        if not runs:
            callback(Reply(False, Reason.ENGINE_STOPPED.value, "the engine is not running"))

    def kill(self, command: EngageKillSwitch, callback: ReplyCallback) -> None:
        """Engage the kill switch, ahead of anything queued."""
        core = self.core
        if core is not None:
            core.flags.halt_pending = True  # seen by any command applied from now on
        if not self._call(self._kill_now, command, callback):
            callback(Reply(False, Reason.ENGINE_STOPPED.value, "the engine is not running"))

    def add_subscriber(self, mailbox: Mailbox) -> bool:
        return self._call(self._add_subscriber, mailbox)

    def remove_subscriber(self, mailbox: Mailbox) -> None:
        self._call(self.bus.remove, mailbox)

    def _call(self, fn: Callable[..., Any], *args: Any) -> bool:
        return self.running and self._thread.call_soon(fn, *args)

    # engine thread ------------------------------------------------------------------------------

    async def _main(self, thread: LoopThread) -> None:
        self.loop = thread.loop
        try:
            await self._boot()
        except BaseException:  # start() raises it in the starting thread
            with contextlib.suppress(Exception):
                await self.venue.aclose()
            if self.journal is not None:
                self.journal.close()
            raise
        self._open_watchlist()  # before ready: a started engine has its watchlist
        self.running = True
        thread.ready()
        self.venue.feed.report_status_to(self._venue_status)
        self._compare_feeds()
        tasks = [
            asyncio.create_task(self.venue.feed.run(self._quote_sink()), name="market-data"),
            asyncio.create_task(self._every(self.settings.engine.marks_interval_ms, self._marks)),
            asyncio.create_task(self._every(self.settings.engine.tick_flush_ms, self._flush_ticks)),
        ]
        if self.venue.reconciles:
            tasks.append(asyncio.create_task(self._follow(), name="venue-events"))
        tasks.append(asyncio.create_task(self._backfill(), name="backfill"))
        tasks.append(asyncio.create_task(self._retain_bars(), name="bar-retention"))
        try:
            await thread.until_stopped()
        finally:
            self.running = False
            self.venue.feed.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._shutdown()

    async def _boot(self) -> None:
        self.journal = journal = Journal(self.settings.journal_path())
        booted = await boot(self.settings, self.venue, journal, self.clock, self.observer)
        self.settings, self.core, core = booted.settings, booted.core, booted.core
        self.broker = self.venue.broker
        self.broker.connect(self._on_venue_event)
        core.react.on_price_alert_hit = self._schedule  # journaled and shown within the turn
        trades = [t for p in core.positions() for t in p.trades]
        self.broker.restore(core.orders.open.values(), trades)
        self._restore_market(core, journal)
        core.start()
        self._since_checkpoint = booted.replayed
        self._commit([])
        if booted.replayed >= CHECKPOINT_EVERY or not booted.from_checkpoint:
            self._checkpoint()
        log.info("engine started at seq %d (replayed %d events)", core.seq, booted.replayed)

    def _restore_market(self, core: EngineCore, journal: Journal) -> None:
        """Market state from the journal: recent closed bars (indicators recomputed from them),
        then the ticks after them, which were in the bars live at the stop."""
        self.market = market = MarketState(core.quotes.instruments)
        self._fbid, self._fask = core.quotes.fbid, core.quotes.fask
        market.restore(journal.recent_bars(market.instruments, SIZE_NAMES, BARS_RESTORED))
        resume = {n: m.resume_after for n, m in market.instruments.items() if m.resume_after}
        if not resume:
            return
        since = max(min(resume.values()), max(resume.values()) - LIVE_BARS_BACK_S)
        for ts, name, bid, ask in journal.ticks_since(since):
            after = resume.get(name)
            if after is not None and ts >= after:
                market.on_quote(name, ts, bid, ask)

    async def _follow(self) -> None:
        try:
            await self.venue.follow(self._on_venue_event, self._reconcile, self._venue_status)
        except Exception:
            log.exception("the %s event stream stopped for good", self.venue.name)

    def report_status(self, key: str, active: bool, message: str) -> None:
        """A service beside the engine (the history sync) raises or clears an alert from its own
        thread: hopped onto the engine loop, journaled and shown like a venue's status."""
        self._call(self._venue_status, key, active, message)

    def _venue_status(self, key: str, active: bool, message: str) -> None:
        assert self.core is not None
        if (key in self.core.alerts) != active:
            self.on_alert(key, active, message)
            self._schedule()

    async def _reconcile(self) -> None:
        assert self.core is not None
        await reconcile_with(
            self.venue, self.core, self._on_venue_event, self._drain, self._venue_status
        )

    async def _shutdown(self) -> None:
        assert self.journal is not None and self.core is not None
        self._drain()
        self._catch_up()
        if self.settings.engine.on_shutdown == "cancel":
            cancel_all = CancelAll(origin=Origin.AUTO, why=CancelWhy.SHUTDOWN.value)
            self._commands.append((cancel_all, _ignore, time.perf_counter()))
            self._drain()
        if self.venue is not None:
            await self.venue.aclose()  # waits (briefly) for the answers to requests in flight
            self._drain()
        self._answer_awaiting(now=True)  # what the venue answered by now, or that it is pending
        held = self.core.react.held
        if held:
            log.warning(
                "stopping with %d venue event(s) held for a conversion rate, not booked: %s",
                len(held), ", ".join(type(e).__name__ for e in held),
            )  # fmt: skip
        try:
            self._flush_ticks()
            self._checkpoint()
        finally:
            self._catch_up()
            self.journal.close()
            self.bus.close()

    async def _every(self, interval_ms: int, fn: Callable[[], None]) -> None:
        interval = interval_ms / 1000
        while True:
            await asyncio.sleep(interval)
            try:
                fn()
            except Exception:
                log.exception("engine timer %s failed", fn.__name__)

    # the hot paths --------------------------------------------------------------------------

    def _on_quote(self, quote: Quote) -> None:
        assert self.core is not None
        accepted = self.core.react.on_quote(quote)  # the hot path: no facade hop
        if accepted:
            name = quote.instrument
            self.market.on_quote(name, quote.ts, self._fbid[name], self._fask[name])
            self._ticks.append(quote)
            self.broker.on_quote(quote)
            self._publish_quote(quote)
        self.observer.quote(quote, self.clock() - quote.ts, accepted)

    def _quote_sink(self) -> Callable[[Quote], None]:
        """Where the feed's quotes go: straight in, or (a replay) each taken whole."""
        feed = self.venue.feed
        self._playback = feed if isinstance(feed, Playback) else None
        if self._playback is None:
            return self._on_quote
        self._publish_quote = self._hold_quote
        return self._on_replayed_quote

    def _hold_quote(self, quote: Quote) -> None:
        self._held_quotes[quote.instrument] = quote

    def _on_replayed_quote(self, quote: Quote) -> None:
        """A replayed tick, taken whole before the next: what it filled is booked, and the
        periodic rules (limits, day roll, equity rows) run on the ticks' clock, so the outcome
        never depends on how fast the ticks came."""
        self._on_quote(quote)
        if self._inbox:
            self._drain()
        if quote.ts >= self._rules_due:
            self._rules_due = quote.ts + self.settings.engine.marks_interval_ms / 1000
            self._keep_time(self.clock())

    def _control_replay(self, command: ControlReplay, callback: ReplyCallback) -> None:
        """Pause, resume or re-pace a replay (or say where it is); an engine trading live
        refuses, saying so."""
        playback, core = self._playback, self.core
        assert core is not None
        if playback is None:
            callback(
                Reply(
                    False,
                    Reason.NOT_A_REPLAY.value,
                    "this engine trades live, not a replay: pause, resume and speed apply to "
                    "an engine started by `tmt replay`",
                    seq=core.seq,
                )
            )
            return
        action = command.action
        try:
            if action == "pause":
                playback.pause()
            elif action == "resume":
                playback.resume()
            elif action == "speed":
                if command.speed is None:
                    raise ValueError("speed: say how fast (e.g. 10, or 0 for max)")
                playback.set_speed(checked_speed(command.speed))
            elif action != "status":
                raise ValueError(
                    f"unknown replay action {action[:20]!r} (pause, resume, speed, status)"
                )
        except ValueError as exc:
            callback(Reply(False, Reason.INVALID_COMMAND.value, str(exc), seq=core.seq))
            return
        progress = self._show_replay(playback)
        done = f"{progress.done:,} of {progress.total:,} ticks"
        message = f"{progress.state} at {progress.speed_label}, {done}"
        callback(Reply(True, "OK", message, seq=core.seq, payload=progress))

    def _show_replay(self, playback: Playback) -> ReplayProgress:
        """Tell subscribers where the replay stands, if that changed since they were told."""
        progress = playback.progress()
        if progress != self._replay_shown:
            self._replay_shown = progress
            self.bus.replay(progress)
        return progress

    def _compare_feeds(self) -> None:
        """Hear the other feeds of a venue that has them (Polygon beside OANDA)."""
        feed, core, engine = self.venue.feed, self.core, self.settings.engine
        if isinstance(feed, ComparingFeed) and core is not None:
            self._gaps = FeedGaps(core.quotes, engine.feeds_apart_pips, engine.feeds_apart_for_s)
            feed.compare_into(self._on_compared)

    def _on_compared(self, feed: str, quote: Quote) -> None:
        """Another feed's quote: compared with the trading price and shown, never traded at."""
        if self._gaps is not None:
            compared = self._gaps.compare(feed, quote, self.clock())
            if compared is not None:
                self.bus.compared(compared)

    def _check_feeds(self, now: float) -> None:
        """Re-measure the gaps as the trading price moved; raise or clear their alerts."""
        gaps = self._gaps
        if gaps is None:
            return
        for compared in gaps.refresh(now):
            self.bus.compared(compared)
        for alert in gaps.alerts(now):
            self._venue_status(alert.key, alert.active, alert.message)

    # the watchlist ---------------------------------------------------------------------------

    def _open_watchlist(self) -> None:
        """The state file's watchlist (the feed's configured instruments when there is none),
        then the feed's subscription to match, before its first quote."""
        core, feed = self.core, self.venue.feed
        assert core is not None
        universe = {i.name: i for i in feed.instruments()}
        if isinstance(feed, SubscribingFeed):
            universe.update((i.name, i) for i in feed.universe())
        universe.update(core.quotes.instruments)  # the conversion pairs a venue added itself
        default = tuple(i.name for i in feed.instruments())
        path = watchlist_path(self.settings.journal_path())
        self.watchlist = watchlist = Watchlist(path, universe.values(), default)
        if watchlist.problem:
            self._venue_status(WATCHLIST_ALERT, True, watchlist.problem)
        self._requote()

    def _requote(self) -> list[Instrument]:
        """Bring the feed's subscription to what is needed now; the instruments the engine
        learned for it (new to its quote book and market state) are returned."""
        core, watchlist, journal = self.core, self.watchlist, self.journal
        if core is None or watchlist is None or journal is None:
            return []
        held = {b.instrument for b in core.portfolio.books.values() if b.units}
        held |= {o.instrument for o in core.orders.open.values()}
        currencies = [a.currency for a in core.portfolio.accounts.values()]
        report = self.settings.engine.report_currency
        universe = watchlist.universe
        why = subscription(
            watchlist.names, held, universe, currencies, report, core.quotes.depends_on
        )
        learned = [universe[n] for n in why if n in universe and n not in core.quotes.instruments]
        for instrument in learned:
            core.quotes.add(instrument)
            bars = journal.recent_bars([instrument.name], SIZE_NAMES, BARS_RESTORED)
            self.market.add(instrument.name, bars)
        quoted = {n: w for n, w in why.items() if n in core.quotes.instruments}
        feed = self.venue.feed
        if set(quoted) != set(self._quoted) and isinstance(feed, SubscribingFeed):
            feed.subscribe(sorted(quoted))
            self.observer.quoting(frozenset(quoted))
        self._quoted = quoted
        return learned

    def _watch(self, command: Watch | Unwatch, callback: ReplyCallback) -> None:
        """On the engine thread: change the watchlist, keep it, subscribe, tell every screen."""
        core, watchlist = self.core, self.watchlist
        assert core is not None and watchlist is not None
        reply = self._change_watchlist(command, watchlist)
        if reply.ok:
            self.bus.watchlist(watchlist.names, self._requote())
            if isinstance(command, Unwatch):
                name = reply.message.partition(" ")[0]
                still = self._quoted.get(name)
                if still is not None:
                    text = f"{reply.message}; still quoted: {still} (the engine needs its prices)"
                    reply = dataclasses.replace(reply, message=text)
        callback(dataclasses.replace(reply, seq=core.seq))

    def _change_watchlist(self, command: Watch | Unwatch, watchlist: Watchlist) -> Reply:
        problem = command_problem(command)
        if problem is not None:
            return Reply(False, problem[0].value, problem[1])
        name = watchlist.find(command.instrument)
        if name is None:
            return Reply(
                False, Reason.UNKNOWN_INSTRUMENT.value, watchlist.unknown(command.instrument)
            )
        before = watchlist.names
        if isinstance(command, Unwatch):
            if not watchlist.unwatch(name):
                return Reply(False, Reason.NOT_WATCHED.value, f"{name} is not on the watchlist")
            text = f"{name} off the watchlist"
        elif not watchlist.watch(name, command.at):
            return Reply(False, Reason.WATCHLIST_ERROR.value, "the watchlist is full")
        elif name in before:
            text = f"{name} moved to row {watchlist.names.index(name) + 1}"
        else:
            text = f"{name} on the watchlist"
        try:
            watchlist.save()
        except OSError as exc:
            watchlist.names = before
            log.warning("watchlist not saved: %s", exc)
            return Reply(
                False, Reason.WATCHLIST_ERROR.value, f"not saved to {watchlist.path}: {exc}"
            )
        if self.core is not None and WATCHLIST_ALERT in self.core.alerts:
            self._venue_status(WATCHLIST_ALERT, False, f"watchlist saved to {watchlist.path}")
        return Reply(True, "OK", text)

    def _on_venue_event(self, event: VenueEvent) -> None:
        """A venue's answer; venues on another thread are hopped onto the engine loop."""
        if not self._thread.is_current() and self._thread.call_soon(self._on_venue_event, event):
            return  # hopped onto the engine loop (no loop at all: a bench drives it here)
        self._inbox.append(event)
        if not self._dispatching:
            self._schedule()

    def _start_bars(self, query: QueryBars, callback: ReplyCallback) -> None:
        """On the engine thread: the bars not journaled yet and the live one; the journal's
        are read off the loop (engine/bars_query.py)."""
        assert self.core is not None
        problem = query_problem(query, tuple(self.market.instruments))
        if problem is not None:
            callback(problem)
            return
        name, size = query.instrument, query.size
        unflushed = [b for b in self.market.closed if b.instrument == name and b.size == size]
        live = self.market.instruments[name].live(size)
        journal = self.settings.journal_path()
        task = asyncio.get_running_loop().create_task(
            answer_bars(journal, query, unflushed, live, self.core.seq, callback)
        )
        self._queries.add(task)
        task.add_done_callback(self._queries.discard)

    async def _backfill(self) -> None:
        """History behind the first bars (engine/backfill.py), then market state rebuilt over
        it one instrument at a time, so indicators and the regime are warm from the start."""
        journal, engine = self.journal, self.settings.engine
        if journal is None or not engine.backfill_bars:
            return
        names = tuple(self.market.instruments)
        plan = BackfillPlan(names, engine.backfill_bars, self.clock())
        report = await backfill(
            plan, self.venue.feed, journal.path, journal.newest_bar_start, journal.add_bars,
            journal.oldest_tick_ts(), self.backfill_report,
        )  # fmt: skip
        if not report.from_ticks and not report.from_venue:
            return
        for name in names:
            if self.core is None or self.core.flags.journal_broken:
                return
            self._flush_ticks()  # every tick seen is in the journal: the rebuild replays them
            bars = journal.recent_bars((name,), SIZE_NAMES, BARS_RESTORED)
            last = max((b.start for b in bars if b.size == "S5"), default=self.clock())
            ticks = ((ts, bid, ask) for ts, n, bid, ask in journal.ticks_since(last) if n == name)
            self.market.rebuild(name, bars, ticks)
            await asyncio.sleep(0)

    async def _retain_bars(self) -> None:
        """Prune bars past their size's retention, a batch at a time (engine/bar_retention.py)."""
        days = self.settings.engine.bar_retention_days
        while days:
            journal, core = self.journal, self.core
            pruned = 0
            if journal is not None and core is not None and not core.flags.journal_broken:
                try:
                    pruned = prune_some(journal, self.market.instruments, days, self.clock())
                except Exception:
                    log.exception("bar retention failed; tried again later")
            await asyncio.sleep(retention.BUSY_S if pruned else retention.IDLE_S)

    def _start_analytics(self, query: QueryAnalytics, callback: ReplyCallback) -> None:
        """On the engine thread: copy what the report needs; it is computed off the loop."""
        core = self.core
        assert core is not None
        trades = tuple(core.state.closed_trades)
        report_currency = self.settings.engine.report_currency
        holdings = holdings_of(core.portfolio, report_currency)
        journal, now = self.settings.journal_path(), self.clock()
        task = asyncio.get_running_loop().create_task(
            answer_analytics(
                journal,
                query,
                trades,
                now,
                core.seq,
                callback,
                holdings,
                report_currency,
                self._equity_rows,
            )
        )
        self._queries.add(task)
        task.add_done_callback(self._queries.discard)

    def _enqueue(self, command: Command, callback: ReplyCallback) -> None:
        self._commands.append((command, callback, time.perf_counter()))
        self._schedule()

    def _schedule(self) -> None:
        if not self._drain_scheduled and self.loop is not None:
            self._drain_scheduled = True
            self.loop.call_soon(self._drain)

    def _drain(self) -> None:
        """Apply every queued command and venue event, then commit once and reply."""
        assert self.core is not None
        self._drain_scheduled = False
        replies: list[Pending] = []
        stop = False
        while self._commands:
            command, callback, arrived = self._commands.popleft()
            replies.append((self._apply(command), self._timed(command, callback, arrived)))
            stop = stop or isinstance(command, StopEngine)
        self._guarded(self._dispatch)
        self._commit(replies)
        if stop:
            self._thread.request_stop()

    def _kill_now(self, command: EngageKillSwitch, callback: ReplyCallback) -> None:
        arrived = time.perf_counter()
        reply = self._apply(command)
        self._commit([(reply, self._timed(command, callback, arrived))])

    def _timed(self, command: Command, callback: ReplyCallback, arrived: float) -> _TimedReply:
        """The callback, telling the observer how long the command took to a durable reply."""
        return _TimedReply(self, type(command).__name__, callback, arrived)

    def _apply(self, command: Command) -> Reply:
        """One command and what the venue answered; a bug becomes an error reply, not a hang."""
        assert self.core is not None
        try:
            reply = self.core.handle(command)
            self._dispatch()
        except Exception as exc:
            log.exception("engine error applying %r", command)
            return Reply(
                False, Reason.ENGINE_ERROR.value, f"{type(exc).__name__}: {exc}", seq=self.core.seq
            )
        return reply

    def _guarded(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:
            log.exception("engine error in %s", getattr(fn, "__name__", fn))

    def _dispatch(self) -> None:
        """Send the core's broker requests; apply what the venue answered, until both are quiet."""
        assert self.core is not None
        core, broker = self.core, self.broker
        self._dispatching = True
        try:
            while True:
                outbox = core.take_requests()
                if not outbox and not self._inbox:
                    return
                for request in outbox:
                    send(broker, request)
                while self._inbox:
                    core.on_venue_event(self._inbox.popleft())
        finally:
            self._dispatching = False

    def _commit(self, replies: list[Pending]) -> None:
        """Journal (durably) what the core produced, then reply, then publish the events, then
        send any broker request a failed dispatch left behind (durable now).

        Once the journal has refused a write, nothing more is written: a later batch journaled
        after a gap would rebuild a book that never was. The engine stays HALTED; what it still
        does (cancels, closes, the kill switch: getting out) reaches the venue, and every reply
        says it was not journaled, so the restart reconciles with the venue, not the journal.

        Positions and account marks touched here go out with the next marks publication
        (at most ``marks_interval_ms`` later); derived journal tables with the next flush.
        When there were replies, publication follows them by ``AFTER_REPLY_S``.
        """
        core, journal = self.core, self.journal
        assert core is not None and journal is not None
        batch = core.take_batch()
        events, changes = batch.events, batch.changes
        orders = list(changes.orders.values())
        self._dirty_books |= changes.books
        core.react.marked_books |= changes.books
        if events and core.flags.journal_broken:
            replies = [(_unjournaled(reply), callback) for reply, callback in replies]
        elif events:
            started = time.perf_counter()
            try:
                journal.append(events, orders)
            except Exception as exc:
                self._journal_failed(exc, replies)
                return
            self._after_reply(self.observer.committed, events, time.perf_counter() - started)
            self._since_checkpoint += len(events)
        for reply, callback in replies:
            answer = core.outcome(reply)
            if self._venue_answers_later(answer):
                assert answer.order_id is not None
                self._awaiting[answer.order_id] = (reply, callback, time.monotonic())
                if isinstance(callback, _TimedReply):
                    callback.durable(answer)  # the engine's part is done: that is the ack time
            else:
                callback(answer)
        if self._awaiting and events:
            self._answer_awaiting()
        if events or orders:
            self._after_reply(self._publish, events, orders, changes.accounts)
        if not replies:
            self._catch_up()
        for request in batch.requests:
            send(self.broker, request)
        if self._since_checkpoint >= CHECKPOINT_EVERY:
            self._checkpoint()

    def _venue_answers_later(self, answer: Reply) -> bool:
        """A new order the venue has not answered yet (OANDA; the paper broker answers in the
        same batch): its reply waits for the answer."""
        if not answer.ok or answer.order_id is None or self.core is None:
            return False
        if self.core.flags.journal_broken:
            return False
        order = self.core.orders.get(answer.order_id)
        return order is not None and order.status is OrderStatus.SUBMITTED

    def _answer_awaiting(self, *, now: bool = False) -> None:
        """Reply for every waiting order the venue has answered, or that waited too long
        (``now``: every one, as they stand: shutdown, a failed write)."""
        core = self.core
        assert core is not None
        clock = time.monotonic()
        for order_id, (reply, callback, since) in list(self._awaiting.items()):
            order = core.orders.get(order_id)
            pending = order is not None and order.status is OrderStatus.SUBMITTED
            waited = clock - since
            if pending and not now and waited < VENUE_ANSWER_WAIT_S:
                continue
            del self._awaiting[order_id]
            answer = core.outcome(reply)
            if pending:
                answer = Reply(
                    True, "OK",
                    f"sent to the venue, no answer after {waited:.1f}s: `tmt orders` "
                    "shows what becomes of it",
                    order_id, core.seq,
                )  # fmt: skip
            callback(answer)

    def _publish(self, events: list[Event], orders: list[Order], accounts: Iterable[str]) -> None:
        """Tell subscribers what was committed, with the accounts it touched as they are now."""
        core = self.core
        assert core is not None
        known = core.portfolio.accounts
        views = [core.account_view(a) for a in accounts if a in known]
        for mailbox in self.bus.publish(events, orders, [], views):
            mailbox.put_snapshot(self._snapshot())

    def _after_reply(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` a moment after the replies now going out (see AFTER_REPLY_S), in
        order with everything else deferred; at once where there is no running loop."""
        self._later.append((fn, args))
        loop = self.loop
        if loop is None or not loop.is_running() or not self._thread.is_current():
            self._catch_up()
        elif not self._later_scheduled:
            self._later_scheduled = True
            loop.call_later(AFTER_REPLY_S, self._catch_up)

    def _catch_up(self) -> None:
        """Run what replies deferred, oldest first: before anything publishes or looks."""
        self._later_scheduled = False
        while self._later:
            later, self._later = self._later, []
            for fn, args in later:
                try:
                    fn(*args)
                except Exception:
                    log.exception("engine error in %s", getattr(fn, "__name__", fn))

    def _journal_failed(self, exc: Exception, replies: list[Pending]) -> None:
        """Nothing is acknowledged that is not durable: refuse the batch and halt, visibly.

        The in-memory state is now ahead of the journal, so every account goes HALTED with the
        reason (closing stays possible) until the engine is restarted from the journal; every
        screen gets a fresh snapshot that says so, and no checkpoint is written from here on.
        """
        core = self.core
        assert core is not None
        why = "journal write failed"
        log.critical("%s, halting every account until a restart: %s", why, exc)
        core.journal_failed(why)
        for _, callback in replies:
            callback(Reply(False, Reason.JOURNAL_ERROR.value, f"{why}: {exc}", seq=core.seq))
        self._answer_awaiting(now=True)
        self._catch_up()
        snapshot = self._snapshot()
        for mailbox in list(self.bus.mailboxes):
            mailbox.put_snapshot(snapshot)

    def _note_chain_head(self) -> None:
        """At a rollover: log the journal's chain head and journal it (keep the log line
        elsewhere: `tmt report verify --head` checks it)."""
        core, journal = self.core, self.journal
        assert core is not None and journal is not None
        if core.flags.journal_broken:
            return
        head = journal.head
        log.info("journal chain head %s", head)
        core.emit(EventKind.CHAIN_HEAD, "auto", {"seq": head.seq, "hash": head.hash})
        self._commit([])

    def _marks(self) -> None:
        """Periodic work: automatic limits, day rollover, equity rows (a replay runs these on
        its ticks' clock instead), then marks to subscribers."""
        core = self.core
        assert core is not None and self.journal is not None
        now = self.clock()
        if self._playback is None:
            self._keep_time(now)
        else:
            self._commit([])  # catches up with what replies deferred
            self._show_replay(self._playback)
            held, self._held_quotes = self._held_quotes, {}
            for quote in held.values():
                self.bus.quote(quote)
        accounts = [core.account_view(a) for a in core.portfolio.accounts]
        oldest_tick = self._ticks[0].ts if self._ticks else now
        self.observer.marks(accounts, now, max(0.0, now - oldest_tick))
        if self.bus.mailboxes:
            marked = [core.portfolio.position_view(k) for k in core.react.marked_books]
            self.bus.publish([], [], marked, accounts, core.totals())
            reads = self.market.take_changed()
            if reads:
                self.bus.market(reads)
        core.react.marked_books = set()

    def _keep_time(self, now: float) -> None:
        """What time passing does to trading: automatic limits, the day's rollover, equity
        rows; on the wall clock, or on a replay's ticks."""
        core = self.core
        assert core is not None and self.journal is not None
        if now - self._last_revalue >= REVALUE_EVERY_S:
            core.portfolio.revalue()
            self._last_revalue = now
            core.react.marked_books |= set(core.portfolio.books)
            learned = self._requote()  # a position closed, an order came: quote what they need
            if learned and self.watchlist is not None:
                self.bus.watchlist(self.watchlist.names, learned)
        if self._awaiting:
            self._answer_awaiting()  # those that waited too long
        self._check_feeds(now)
        core.check_limits()
        rolled = core.roll_day()
        self._dispatch()
        self._commit([])  # which also catches up with what replies deferred
        if rolled:
            self._note_chain_head()
            self._checkpoint()
        if now - self._last_equity >= self.settings.engine.equity_snapshot_s:
            self._last_equity = now
            if not core.flags.journal_broken:
                accounts = [core.account_view(a) for a in core.portfolio.accounts]
                try:
                    report_currency = self.settings.engine.report_currency
                    rates = core.report_rates()
                    self.journal.append_equity(now, accounts, report_currency, rates)
                except Exception as exc:
                    self._journal_failed(exc, [])

    def _flush_ticks(self) -> None:
        """Batch writes that gate nothing: ticks and the derived positions rows."""
        core, journal = self.core, self.journal
        if core is None or journal is None:
            return
        ticks, self._ticks = self._ticks, []
        bars = self.market.take_closed()
        books, self._dirty_books = self._dirty_books, set()
        if core.flags.journal_broken:
            return  # halted until a restart: nothing more is written
        try:
            if ticks or bars:
                journal.append_ticks(ticks, bars)
            journal.checkpoint_wal()
            if books:
                journal.append_positions(core.seq, [core.portfolio.position_view(k) for k in books])
        except Exception as exc:  # a full disk halts as visibly as a failed order commit
            self._journal_failed(exc, [])

    @property
    def problem(self) -> str | None:
        """Why the engine is not fit to trade though it runs (a journal that refused a write)."""
        core = self.core
        return core.flags.journal_broken or None if core is not None else None

    def _checkpoint(self) -> None:
        core, journal = self.core, self.journal
        assert core is not None and journal is not None
        if core.flags.journal_broken:
            return  # memory is ahead of the journal: a checkpoint would write that down
        try:
            self._write_checkpoint(core, journal)
        except Exception as exc:  # a checkpoint that cannot be written halts like any write
            self._journal_failed(exc, [])

    def _write_checkpoint(self, core: EngineCore, journal: Journal) -> None:
        state = core.state
        journal.checkpoint(state.seq, self.clock(), state.trading_day, state.to_checkpoint())
        self._since_checkpoint = 0

    def on_alert(self, key: str, active: bool, message: str) -> None:
        """An alert rule raised or cleared (called on the engine thread): journal and publish it
        with the next commit, like any other event."""
        if self.core is None:
            return
        kind = EventKind.ALERT_RAISED if active else EventKind.ALERT_CLEARED
        self.core.emit(kind, "auto", {"key": key, "message": message})
        rule = key.split(":", 1)[0]
        if active and rule in self.settings.monitoring.halt_on:
            # as the key does it: ahead of anything queued, journaled with the halt
            self.kill(EngageKillSwitch(f"alert {key}: {message}", Origin.AUTO), _ignore)

    def _add_subscriber(self, mailbox: Mailbox) -> None:
        assert self.core is not None
        self._catch_up()  # a new screen's snapshot comes after every event already published
        self.bus.add(mailbox, self._snapshot())

    def _snapshot(self) -> Snapshot:
        """The core's whole picture, with what the runner holds beside it: other feeds' quotes
        and every instrument's market state."""
        assert self.core is not None
        compared = tuple(self._gaps.latest.values()) if self._gaps is not None else ()
        market = tuple(self.market.reads())
        watchlist = self.watchlist.names if self.watchlist is not None else None
        universe = tuple(sorted(self.watchlist.universe)) if self.watchlist is not None else ()
        return dataclasses.replace(
            self._core_snapshot(),
            compared=compared,
            market=market,
            watchlist=watchlist,
            universe=universe,
        )

    def _core_snapshot(self) -> Snapshot:
        """The core's snapshot, with where a replay stands."""
        assert self.core is not None
        snapshot = self.core.snapshot(self.clock())
        if self._playback is None:
            return snapshot
        return dataclasses.replace(snapshot, replay=self._playback.progress())


class _TimedReply:
    """A command's reply callback that tells the observer, once, how long the command took to
    its durable answer: at the reply, or earlier when the reply waits for a venue."""

    __slots__ = ("_runner", "_name", "_callback", "_arrived", "_timed")

    def __init__(
        self, runner: EngineRunner, name: str, callback: ReplyCallback, arrived: float
    ) -> None:
        self._runner = runner
        self._name = name
        self._callback = callback
        self._arrived = arrived
        self._timed = False

    def durable(self, answer: Reply, took: float | None = None) -> None:
        """The command's effects are journaled: its ack time, whenever the reply goes out."""
        if not self._timed:
            self._timed = True
            took = time.perf_counter() - self._arrived if took is None else took
            self._runner._after_reply(self._runner.observer.replied, self._name, answer, took)

    def __call__(self, answer: Reply) -> None:
        took = time.perf_counter() - self._arrived  # before the callback: it is not the engine's
        self._callback(answer)
        self.durable(answer, took)


def _unjournaled(reply: Reply) -> Reply:
    """A reply whose events could not be journaled (the journal refused an earlier write)."""
    if not reply.ok:
        return reply
    return Reply(
        False,
        Reason.JOURNAL_ERROR.value,
        f"{reply.message}, but not journaled (journal write failed): restart the engine",
        reply.order_id,
        reply.seq,
    )
