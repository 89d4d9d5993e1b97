"""The engine's price alerts: the active ones by id and, per instrument, their levels in order,
so the quote path asks one question per tick ("is any level reached?") and pays for a sort only
when an alert is set, cancelled or hit.

Per instrument it keeps ``trip[name] = (lowest above level, highest below level)`` as floats
(``inf``/``-inf`` for a side with none): a tick compares its float bid and ask with those two
numbers and is done, whatever the number of alerts. Only when one is reached are the exact
Decimal levels compared (float rounding is monotonic, so the float test never misses a hit;
a false positive of the float test merely finds nothing due).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal

from tmt_tui.domain.price_alerts import AlertSide, AlertStatus, PriceAlert

#: Finished (hit or cancelled) alerts remembered for ``tmt alert list --all`` and the screen;
#: the journal keeps every one.
FINISHED_KEPT = 500

_NONE = (math.inf, -math.inf)


class PriceAlertBook:
    """Active price alerts, their per-instrument order, and the recently finished ones."""

    def __init__(self) -> None:
        self.active: dict[str, PriceAlert] = {}  # by id, in the order they were set
        self.finished: deque[PriceAlert] = deque(maxlen=FINISHED_KEPT)  # oldest first
        #: instrument -> (lowest above level, highest below level), as floats: the tick's test.
        #: Never rebound, so the quote path may hold on to it.
        self.trip: dict[str, tuple[float, float]] = {}
        self._above: dict[str, list[tuple[Decimal, str]]] = {}  # ascending level
        self._below: dict[str, list[tuple[Decimal, str]]] = {}  # ascending level: last is nearest

    def __len__(self) -> int:
        return len(self.active)

    def count(self, instrument: str) -> int:
        return len(self._above.get(instrument, ())) + len(self._below.get(instrument, ()))

    def add(self, alert: PriceAlert) -> None:
        self.active[alert.id] = alert
        levels = self._side(alert.side).setdefault(alert.instrument, [])
        bisect.insort(levels, (alert.level, alert.id))
        self._retrip(alert.instrument)

    def finish(
        self,
        alert_id: str,
        status: AlertStatus,
        ts: float,
        bid: Decimal | None = None,
        ask: Decimal | None = None,
    ) -> PriceAlert | None:
        """Take ``alert_id`` out of the active ones as hit or cancelled; None if not active."""
        alert = self.active.pop(alert_id, None)
        if alert is None:
            return None
        sides = self._side(alert.side)
        levels = sides[alert.instrument]
        levels.remove((alert.level, alert.id))
        if not levels:
            del sides[alert.instrument]
        self._retrip(alert.instrument)
        done = replace(alert, status=status, done_ts=ts, hit_bid=bid, hit_ask=ask)
        self.finished.append(done)
        return done

    def due(self, instrument: str, bid: Decimal, ask: Decimal) -> list[PriceAlert]:
        """The active alerts of ``instrument`` a quote of ``bid``/``ask`` reaches, in the
        order they were set (only the levels up to the first one not reached are looked at)."""
        ids: set[str] = set()
        for level, alert_id in self._above.get(instrument, ()):
            if level > bid:
                break
            ids.add(alert_id)
        for level, alert_id in reversed(self._below.get(instrument, ())):
            if level < ask:
                break
            ids.add(alert_id)
        return [alert for alert_id, alert in self.active.items() if alert_id in ids]

    def restore(self, active: Iterable[PriceAlert], finished: Iterable[PriceAlert]) -> None:
        """Start from a checkpoint's alerts."""
        for alert in active:
            self.add(alert)
        self.finished.extend(finished)

    def _side(self, side: AlertSide) -> dict[str, list[tuple[Decimal, str]]]:
        return self._above if side is AlertSide.ABOVE else self._below

    def _retrip(self, instrument: str) -> None:
        above = self._above.get(instrument)
        below = self._below.get(instrument)
        if not above and not below:
            self.trip.pop(instrument, None)
            return
        self.trip[instrument] = (
            float(above[0][0]) if above else _NONE[0],
            float(below[-1][0]) if below else _NONE[1],
        )
