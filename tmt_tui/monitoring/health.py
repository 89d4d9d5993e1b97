"""``/healthz``: is the engine loop alive and the feed fresh, and if not, why not."""

from __future__ import annotations

import time
from collections.abc import Callable

from tmt_tui.monitoring.metrics import EngineMetrics
from tmt_tui.monitoring.settings import MonitoringSettings


class HealthCheck:
    """Healthy when the last marks heartbeat and the newest accepted quote are both recent.

    ``engine_running`` (e.g. ``lambda: runner.running``) makes a stopped engine unhealthy at
    once instead of after the heartbeat timeout. ``monotonic`` must be the clock the metrics use.
    """

    def __init__(
        self,
        metrics: EngineMetrics,
        settings: MonitoringSettings | None = None,
        engine_running: Callable[[], bool] | None = None,
        engine_problem: Callable[[], str | None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = metrics
        self.settings = settings or MonitoringSettings()
        self.engine_running = engine_running
        self.engine_problem = engine_problem
        self._monotonic = monotonic

    def check(self) -> tuple[bool, str]:
        """``(True, "ok")`` or ``(False, reason)``."""
        if self.engine_running is not None and not self.engine_running():
            return False, "engine not running"
        problem = self.engine_problem() if self.engine_problem is not None else None
        if problem:
            return False, problem
        now, s, m = self._monotonic(), self.settings, self.metrics
        for last, limit, never, late in (
            (m.last_marks_at, s.health_heartbeat_s, "engine loop has not reported yet",
             "engine loop silent for {:.1f}s"),
            (m.last_quote_at, s.health_feed_stale_s, "feed stale: no quote yet",
             "feed stale: last quote {:.1f}s ago"),
        ):  # fmt: skip
            if last is None:
                return False, never
            if now - last > limit:
                return False, late.format(now - last)
        return True, "ok"
