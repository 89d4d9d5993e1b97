"""Prometheus metrics for one engine, fed by the EngineObserver hooks on the engine thread.

Each ``EngineMetrics`` owns its own ``CollectorRegistry`` (never the global one), so an engine,
a test or a benchmark can make as many as it likes. The hot path (one call per quote) touches
only plain ints owned by the engine thread; everything else is read at scrape time by custom
collectors. Label values are account ids, currencies, instruments, order types, reject reasons,
command names and alert rules: nothing a user typed and nothing secret.
"""

from __future__ import annotations

import logging
import re
import time
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from tmt_tui.domain.client import Reply
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.orders import CancelWhy, OrderType
from tmt_tui.domain.positions import AccountState
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.reasons import Reason
from tmt_tui.monitoring.collectors import StateCollector, account_metrics
from tmt_tui.monitoring.trackers import OTHER, FillTimes, QuoteStats

log = logging.getLogger(__name__)

RISK_BUCKETS = (1e-6, 2.5e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2)
ACK_BUCKETS = (
    5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
)  # fmt: skip
FILL_BUCKETS = (*ACK_BUCKETS, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0)
COMMIT_BUCKETS = (1e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.05, 0.25, 1.0)

#: Commands whose reply carries the id of an order sent to the venue (submit -> fill is timed).
ORDER_COMMANDS = frozenset({"SubmitOrder", "ClosePosition"})
#: What an order command can send (protective TP/SL orders are the venue's, never submitted).
FILL_TYPES = (OrderType.MARKET.value, OrderType.LIMIT.value, OrderType.STOP.value)
MAX_REASONS = 100  # distinct reject reasons beyond the known codes; later ones count as OTHER
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")

ApiSource = Callable[[], tuple[int, int]]


class EngineMetrics:
    """The engine's metrics; an EngineObserver (pass it, or a TeeObserver with it, to the runner).

    ``monotonic`` times the feed and the engine loop for /healthz; ``perf_counter`` must be the
    clock the runner times replies with (``time.perf_counter``) so submit -> fill lines up.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        perf_counter: Callable[[], float] = time.perf_counter,
        wall: Callable[[], float] = time.time,
        process_metrics: bool = True,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._monotonic = monotonic
        self._perf_counter = perf_counter
        self._wall = wall
        r = self.registry
        if process_metrics:
            ProcessCollector(registry=r)
            PlatformCollector(registry=r)
            GCCollector(registry=r)

        self._risk = Histogram(
            "tmt_risk_check_seconds",
            "Time of one full pre-trade risk check.",
            buckets=RISK_BUCKETS,
            registry=r,
        )
        self._ack = Histogram(
            "tmt_order_ack_seconds",
            "Command reaching the engine thread -> its durable reply, by command.",
            ["command"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self._fill = Histogram(
            "tmt_order_fill_seconds",
            "Order command reaching the engine -> its first fill committed, by order type.",
            ["type"],
            buckets=FILL_BUCKETS,
            registry=r,
        )
        self._commit = Histogram(
            "tmt_journal_commit_seconds",
            "One durable journal commit of a batch of events.",
            buckets=COMMIT_BUCKETS,
            registry=r,
        )
        orders = Counter(
            "tmt_orders", "Orders that passed risk and went to the venue, by type.", ["type"],
            registry=r,
        )  # fmt: skip
        rejects = Counter(
            "tmt_rejects", "Rejected orders (risk or broker), by reason code.", ["reason"],
            registry=r,
        )  # fmt: skip
        cancels = Counter(
            "tmt_cancels",
            "Orders cancelled, by why (user, kill switch, daily loss, halted, shutdown, "
            "reconciliation, venue).",
            ["why"],
            registry=r,
        )
        self._fills = Counter("tmt_fills", "Fills committed to the journal.", registry=r)
        self._kills = Counter("tmt_kill_switch_engagements", "Kill switch engagements.", registry=r)
        self._reconnects = Counter(
            "tmt_reconnects", "Venue connections re-established, by venue.", ["venue"], registry=r
        )
        self._alerts = Gauge(
            "tmt_alerts_active",
            "In-engine alert rules firing (1) or clear (0), by rule and subject.",
            ["rule", "subject"],
            registry=r,
        )
        # the history sync (tmt_tui/sync), pushed by the engine's host from the sync process
        self._sync_lag_rows = Gauge(
            "tmt_sync_lag_rows", "Journal rows not yet in the history database.", registry=r
        )
        self._sync_lag_s = Gauge(
            "tmt_sync_lag_seconds",
            "Age of the oldest journal row not yet in the history database.",
            registry=r,
        )
        self._sync_errors = Counter(
            "tmt_sync_errors", "History database errors, each followed by a backoff.", registry=r
        )
        self._sync_errors_seen = 0
        # pre-bound children: no labels() lookup per event
        self._orders = {t.value: orders.labels(t.value) for t in OrderType}
        self._orders[OTHER] = orders.labels(OTHER)
        self._order_counter = orders
        self._rejects = {c.value: rejects.labels(c.value) for c in Reason}
        self._rejects[OTHER] = rejects.labels(OTHER)
        self._reject_counter = rejects
        self._cancels = {w.value: cancels.labels(w.value) for w in CancelWhy}
        self._acks: dict[str, Histogram] = {}  # command name -> child, bound on first use
        self._fill_children = {t: self._fill.labels(t) for t in (*FILL_TYPES, OTHER)}
        self._fill_times = FillTimes()

        # state read at scrape time (single writer: the engine thread; replaced, never mutated)
        self.quotes = QuoteStats()
        self._quote_seen: dict[str, float] = {}  # instrument -> monotonic of its last quote
        self.last_quote_at: float | None = None  # monotonic, newest accepted quote
        self.last_marks_at: float | None = None  # monotonic, engine loop's last heartbeat
        self._heartbeat_wall: float | None = None
        self._accounts: Sequence[AccountState] = ()
        self._journal_lag_s = 0.0
        self._api_source: ApiSource | None = None
        self._api_counts = (0, 0)
        # risk check times noted on the order path (a list append), observed at marks() time
        self._pending_risk: list[float] = []
        self._events = {
            EventKind.ORDER_SUBMITTED: self._on_submitted,
            EventKind.ORDER_REJECTED: self._on_rejected,
            EventKind.ORDER_FILLED: self._on_filled,
            EventKind.ORDER_CANCELLED: self._on_cancelled,
            EventKind.KILL_SWITCH_ENGAGED: self._on_kill,
        }
        r.register(StateCollector(self.state_metrics))

    # EngineObserver: the engine thread ------------------------------------------------------

    def quote(self, quote: Quote, age_s: float, accepted: bool) -> None:
        stats = self.quotes
        if not accepted:
            stats.dropped += 1
            return
        stats.accepted += 1
        if age_s < 0.0:
            age_s = 0.0  # a venue clock slightly ahead of ours
        stats.age_counts[bisect_left(stats.bounds, age_s)] += 1
        stats.age_sum += age_s
        now = self._monotonic()
        self.last_quote_at = now
        self._quote_seen[quote.instrument] = now

    def risk_checked(self, seconds: float, code: str | None) -> None:
        # on the order path: only note it; marks() folds the notes into the histogram
        self._pending_risk.append(seconds)

    def committed(self, events: Sequence[Event], seconds: float) -> None:
        self._commit.observe(seconds)
        handlers = self._events
        for event in events:
            handler = handlers.get(event.kind)
            if handler is not None:
                handler(event)

    def replied(self, command: str, reply: Reply, seconds: float) -> None:
        child = self._acks.get(command)
        if child is None:
            child = self._acks[command] = self._ack.labels(command)
        child.observe(seconds)
        if command in ORDER_COMMANDS and reply.ok and reply.order_id is not None:
            done = self._fill_times.replied(reply.order_id, self._perf_counter() - seconds)
            if done is not None:
                self._observe_fill(*done)

    def marks(self, accounts: Sequence[AccountState], now: float, journal_lag_s: float) -> None:
        if self._pending_risk:
            pending, self._pending_risk = self._pending_risk, []
            observe = self._risk.observe
            for seconds in pending:
                observe(seconds)
        self._accounts = accounts
        self._journal_lag_s = journal_lag_s
        self._heartbeat_wall = self._wall()
        self.last_marks_at = self._monotonic()

    # fed by others ----------------------------------------------------------------------------

    def reconnected(self, venue: str) -> None:
        """A venue's feed or broker connection came back (venue adapters call this)."""
        self._reconnects.labels(venue).inc()

    def quoting(self, instruments: frozenset[str]) -> None:
        return None  # the tick counters are per instrument already

    def set_api_counters(self, auth_failures: int, clients: int) -> None:
        """The control API's totals, pushed (or see ``watch_api`` to have them pulled)."""
        self._api_counts = (auth_failures, clients)

    def watch_api(self, source: ApiSource | None) -> None:
        """Read ``source() -> (auth_failures, connected_clients)`` at every scrape."""
        self._api_source = source

    def sync_changed(self, lag_rows: int, lag_s: float, errors_total: int) -> None:
        """The history sync's latest word (any thread); ``errors_total`` is the sync process's
        own count, which starts again at 0 when the process is restarted."""
        self._sync_lag_rows.set(lag_rows)
        self._sync_lag_s.set(lag_s)
        seen = self._sync_errors_seen
        new = errors_total - seen if errors_total >= seen else errors_total
        if new > 0:
            self._sync_errors.inc(new)
        self._sync_errors_seen = errors_total

    def alert_changed(self, rule: str, active: bool, message: str) -> None:
        """An AlertRules sink: ``rule`` is ``name`` or ``name:subject``."""
        name, _, subject = rule.partition(":")
        self._alerts.labels(name, subject).set(1 if active else 0)

    def quote_staleness(self) -> dict[str, float]:
        """Seconds since each instrument's last accepted quote."""
        now = self._monotonic()
        return {name: now - seen for name, seen in self._quote_seen.copy().items()}

    # event handlers -----------------------------------------------------------------------------

    def _on_submitted(self, event: Event) -> None:
        order = event.data.get("order") or {}
        kind = order.get("type")
        if not isinstance(kind, str) or kind not in self._orders:
            kind = OTHER
        self._orders[kind].inc()
        order_id = order.get("id")
        if isinstance(order_id, str):
            self._fill_times.submitted(order_id, kind)

    def _on_rejected(self, event: Event) -> None:
        code = event.data.get("code")
        child = self._rejects.get(code) if isinstance(code, str) else None
        if child is None:
            child = self._reject_child(code)
        child.inc()
        order_id = (event.data.get("order") or {}).get("id")
        if isinstance(order_id, str):
            self._fill_times.done(order_id)

    def _reject_child(self, code: object) -> Counter:
        """A venue's own code, when it looks like one and there is room; else OTHER."""
        if (
            isinstance(code, str)
            and _CODE.fullmatch(code)
            and len(self._rejects) < len(Reason) + 1 + MAX_REASONS
        ):
            child = self._rejects[code] = self._reject_counter.labels(code)
            return child
        return self._rejects[OTHER]

    def _on_filled(self, event: Event) -> None:
        self._fills.inc()
        order_id = event.data.get("order_id")
        if isinstance(order_id, str):
            done = self._fill_times.first_fill(order_id, self._perf_counter())
            if done is not None:
                self._observe_fill(*done)

    def _on_cancelled(self, event: Event) -> None:
        order_id = event.data.get("order_id")
        if isinstance(order_id, str):
            self._fill_times.done(order_id)
        why = self._cancels.get(str(event.data.get("why", CancelWhy.VENUE.value)))
        (why or self._cancels[CancelWhy.VENUE.value]).inc()

    def _on_kill(self, event: Event) -> None:
        self._kills.inc()

    def _observe_fill(self, order_type: str, seconds: float) -> None:
        self._fill_children.get(order_type, self._fill_children[OTHER]).observe(seconds)

    # read at scrape time ----------------------------------------------------------------------

    def api_counts(self) -> tuple[int, int]:
        source = self._api_source
        if source is None:
            return self._api_counts
        try:
            auth_failures, clients = source()
        except Exception:
            log.exception("the API counters source failed; reporting its last values")
            return self._api_counts
        self._api_counts = (int(auth_failures), int(clients))
        return self._api_counts

    def state_metrics(self) -> Iterator[Metric]:
        """The gauges built from the latest marks and counters (see ``_EngineStateCollector``)."""
        stats = self.quotes
        quotes = CounterMetricFamily(
            "tmt_quotes", "Quotes that reached the engine, by result.", labels=["result"]
        )
        quotes.add_metric(["accepted"], stats.accepted)
        quotes.add_metric(["dropped"], stats.dropped)
        yield quotes
        buckets, total = stats.histogram()
        yield HistogramMetricFamily(
            "tmt_quote_age_seconds",
            "Engine clock minus venue time of each accepted quote.",
            buckets=buckets,
            sum_value=total,
        )
        stale = GaugeMetricFamily(
            "tmt_quote_staleness_seconds",
            "Seconds since the last accepted quote, by instrument.",
            labels=["instrument"],
        )
        for name, seconds in sorted(self.quote_staleness().items()):
            stale.add_metric([name], seconds)
        yield stale
        yield from account_metrics(self._accounts)
        yield GaugeMetricFamily(
            "tmt_journal_lag_seconds",
            "Age of the oldest quote not yet written to the journal.",
            value=self._journal_lag_s,
        )
        heartbeat = GaugeMetricFamily(
            "tmt_engine_heartbeat_timestamp_seconds",
            "Wall time of the engine loop's last periodic marks (unix seconds).",
        )
        if self._heartbeat_wall is not None:
            heartbeat.add_metric([], self._heartbeat_wall)
        yield heartbeat
        auth_failures, clients = self.api_counts()
        failures = CounterMetricFamily(
            "tmt_api_auth_failures", "Control API connections refused for a bad token."
        )
        failures.add_metric([], auth_failures)
        yield failures
        yield GaugeMetricFamily(
            "tmt_connected_clients", "Control API clients connected now.", value=clients
        )
