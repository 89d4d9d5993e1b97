"""In-engine alert rules: evaluated from the observer hooks, they raise and clear alerts.

Each transition goes to the sinks as ``on_alert(key, active, message)``, on the engine thread:
the engine journals it as an event (and so the UI shows it), the metrics set
``tmt_alerts_active``. ``key`` is ``rule`` or ``rule:subject`` (an instrument or an account),
unique per alert, so a raise and its clear carry the same key. The same conditions exist as
Prometheus rules in ``config/prometheus/tmt-rules.yml`` for whoever watches from outside.

A raised alert clears only after its condition has been false for ``alert_clear_s``, so a
value hovering at a threshold does not flood the journal.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tmt_tui.config.schema import ALERT_RULES
from tmt_tui.domain.client import Reply
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.positions import AccountState
from tmt_tui.domain.quotes import Quote
from tmt_tui.monitoring.settings import MonitoringSettings

log = logging.getLogger(__name__)

AlertSink = Callable[[str, bool, str], None]

QUOTE_STALE = "quote_stale"
DAILY_LOSS = "daily_loss"
MARGIN = "margin"
REJECT_BURST = "reject_burst"
ACK_LATENCY = "ack_latency"
RULES = (QUOTE_STALE, DAILY_LOSS, MARGIN, REJECT_BURST, ACK_LATENCY)
assert RULES == ALERT_RULES, "the config names the same rules (monitoring.halt_on)"

#: Replies whose latency the ack rule watches: what a trader waits on to trade or get out.
ACK_COMMANDS = frozenset({"SubmitOrder", "ModifyOrder", "CancelOrder", "ClosePosition"})
EVALUATE_EVERY_S = 0.2  # from marks(): rules need not run at the 50 ms marks rate
ACK_SAMPLES = 2048  # replies kept for the latency quantile (the newest)


@dataclass(frozen=True, slots=True)
class Alert:
    """One firing alert: its rule, what it is about, what it says, and since when (monotonic)."""

    rule: str
    subject: str
    message: str
    since: float

    @property
    def key(self) -> str:
        return f"{self.rule}:{self.subject}" if self.subject else self.rule


@dataclass(slots=True)
class _Firing:
    alert: Alert
    last_true: float
    clear_message: str


def alert_key(rule: str, subject: str = "") -> str:
    return f"{rule}:{subject}" if subject else rule


class AlertRules:
    """The rules of ``MonitoringSettings`` over what the hooks saw; an EngineObserver.

    ``instruments`` are expected to quote from the start (an instrument that never quotes goes
    stale too); others are watched from their first quote. ``monotonic`` is the rules' clock.
    """

    def __init__(
        self,
        settings: MonitoringSettings | None = None,
        on_alert: AlertSink | None = None,
        *,
        instruments: Iterable[str] = (),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = s = settings or MonitoringSettings()
        self._monotonic = monotonic
        self._sinks: list[AlertSink] = [] if on_alert is None else [on_alert]
        self._firing: dict[str, _Firing] = {}
        started = monotonic()
        self._quote_seen: dict[str, float] = dict.fromkeys(instruments, started)
        self._rejects: deque[tuple[float, str]] = deque(maxlen=s.reject_burst_count)
        self._acks: deque[tuple[float, float]] = deque(maxlen=ACK_SAMPLES)
        self._ack_quantile: float | None = None  # cached; None when the window changed
        self._next_evaluation = started

    def add_sink(self, sink: AlertSink) -> None:
        """Also tell ``sink`` of every transition from now on (add before the engine starts)."""
        self._sinks.append(sink)

    def active(self) -> list[Alert]:
        """The alerts firing now, oldest first."""
        return sorted((f.alert for f in list(self._firing.values())), key=lambda a: a.since)

    # EngineObserver -----------------------------------------------------------------------------

    def quote(self, quote: Quote, age_s: float, accepted: bool) -> None:
        if accepted:
            self._quote_seen[quote.instrument] = self._monotonic()

    def risk_checked(self, seconds: float, code: str | None) -> None:
        return None

    def committed(self, events: Sequence[Event], seconds: float) -> None:
        for event in events:
            if event.kind is EventKind.ORDER_REJECTED:
                self._rejects.append((self._monotonic(), str(event.data.get("code", "?"))))

    def replied(self, command: str, reply: Reply, seconds: float) -> None:
        if command in ACK_COMMANDS:
            self._acks.append((self._monotonic(), seconds))
            self._ack_quantile = None

    def marks(self, accounts: Sequence[AccountState], now: float, journal_lag_s: float) -> None:
        if self._monotonic() >= self._next_evaluation:
            self.evaluate(accounts)

    def reconnected(self, venue: str) -> None:
        """Stream state is the engine's own alert (``venue.stream``), not a rule here."""

    def quoting(self, instruments: frozenset[str]) -> None:
        """An instrument the feed dropped (off the watchlist) is not stale; one it added is
        expected to quote from now."""
        now = self._monotonic()
        seen = self._quote_seen
        self._quote_seen = {name: seen.get(name, now) for name in instruments}

    # rules ------------------------------------------------------------------------------------

    def evaluate(self, accounts: Sequence[AccountState]) -> None:
        """Run every rule now; tell the sinks what started or stopped firing."""
        now = self._monotonic()
        self._next_evaluation = now + EVALUATE_EVERY_S
        firing: dict[str, tuple[str, str, str, str]] = {}  # key -> rule, subject, message, clear
        for rule, subject, message, clear in (
            *self._stale_quotes(now),
            *self._accounts(accounts),
            *self._reject_burst(now),
            *self._ack_latency(now),
        ):
            firing[alert_key(rule, subject)] = (rule, subject, message, clear)
        self._transition(firing, now)

    def _stale_quotes(self, now: float) -> Iterable[tuple[str, str, str, str]]:
        limit = self.settings.stale_quote_s
        for name, seen in self._quote_seen.items():
            age = now - seen
            if age >= limit:
                yield (
                    QUOTE_STALE,
                    name,
                    f"{name}: no quote for {age:.1f}s (limit {limit:g}s)",
                    f"{name}: quotes flowing again",
                )

    def _accounts(self, accounts: Sequence[AccountState]) -> Iterable[tuple[str, str, str, str]]:
        s = self.settings
        loss_share, margin_share = s.daily_loss_alert_fraction, s.margin_alert_fraction
        for account in accounts:
            limit, loss = account.daily_loss_limit, -account.daily_pl
            if limit > 0 and loss >= limit * loss_share:
                yield (
                    DAILY_LOSS,
                    account.id,
                    f"{account.id}: daily loss {loss:,.2f} {account.currency} is "
                    f"{loss / limit:.0%} of the {limit:,.2f} limit",
                    f"{account.id}: daily loss back under {loss_share:.0%} of the limit",
                )
            margin, equity = account.margin_used, account.equity
            if margin > 0 and (equity <= 0 or margin / equity > margin_share):
                share = "more than" if equity <= 0 else f"{margin / equity:.0%} of"
                yield (
                    MARGIN,
                    account.id,
                    f"{account.id}: margin used {margin:,.2f} {account.currency} is {share} "
                    f"equity {equity:,.2f} (threshold {margin_share:.0%})",
                    f"{account.id}: margin use back under {margin_share:.0%} of equity",
                )

    def _reject_burst(self, now: float) -> Iterable[tuple[str, str, str, str]]:
        s = self.settings
        rejects = self._rejects
        _forget_before(rejects, now - s.reject_burst_window_s)
        if len(rejects) >= s.reject_burst_count:
            (top, count), *_ = Counter(code for _, code in rejects).most_common(1)
            yield (
                REJECT_BURST,
                "",
                f"{len(rejects)} order rejects within {s.reject_burst_window_s:g}s "
                f"(most: {top} x{count})",
                f"order rejects back under {s.reject_burst_count} in {s.reject_burst_window_s:g}s",
            )

    def _ack_latency(self, now: float) -> Iterable[tuple[str, str, str, str]]:
        s = self.settings
        acks = self._acks
        if _forget_before(acks, now - s.ack_latency_window_s):
            self._ack_quantile = None
        if len(acks) < s.ack_latency_min_samples:
            return
        if self._ack_quantile is None:
            ordered = sorted(seconds for _, seconds in acks)
            rank = max(1, math.ceil(s.ack_latency_quantile * len(ordered)))
            self._ack_quantile = ordered[rank - 1]
        value = self._ack_quantile
        if value > s.ack_latency_alert_s:
            label = _quantile_label(s.ack_latency_quantile)
            yield (
                ACK_LATENCY,
                "",
                f"order ack {label} {value * 1000:.1f}ms over the last {len(acks)} replies "
                f"exceeds {s.ack_latency_alert_s * 1000:g}ms",
                f"order ack {label} back under {s.ack_latency_alert_s * 1000:g}ms",
            )

    def _transition(self, firing: dict[str, tuple[str, str, str, str]], now: float) -> None:
        for key, (rule, subject, message, clear) in firing.items():
            current = self._firing.get(key)
            if current is not None:
                current.last_true = now
                current.clear_message = clear
                continue
            self._firing[key] = _Firing(Alert(rule, subject, message, now), now, clear)
            self._tell(key, True, message)
        hold = self.settings.alert_clear_s
        for key, state in list(self._firing.items()):
            if key not in firing and now - state.last_true >= hold:
                del self._firing[key]
                self._tell(key, False, state.clear_message)

    def _tell(self, key: str, active: bool, message: str) -> None:
        log.log(logging.WARNING if active else logging.INFO, "alert %s %s: %s",
                key, "raised" if active else "cleared", message)  # fmt: skip
        for sink in self._sinks:
            try:
                sink(key, active, message)
            except Exception:
                log.exception("alert sink %r failed for %s", sink, key)


def _quantile_label(q: float) -> str:
    percent = Decimal(str(q)) * 100
    return f"p{percent.normalize():f}"


def _forget_before(window: deque[tuple[float, Any]], cutoff: float) -> bool:
    """Drop the entries of a time-ordered window older than ``cutoff``; True if any went."""
    dropped = False
    while window and window[0][0] < cutoff:
        window.popleft()
        dropped = True
    return dropped
