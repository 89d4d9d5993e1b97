"""One observer that hands every hook to several (metrics and alert rules), each fault-isolated.

A bug in what watches must never stop what trades: a hook that raises is logged (once per
observer and hook, then counted) and the engine carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from tmt_tui.domain.client import Reply
from tmt_tui.domain.events import Event
from tmt_tui.domain.positions import AccountState
from tmt_tui.domain.quotes import Quote
from tmt_tui.monitoring.observer import EngineObserver

log = logging.getLogger(__name__)

Hooks = tuple[Callable[..., None], ...]


class TeeObserver:
    """Calls each observer's hook in order; ``failures`` counts the hooks that raised."""

    def __init__(self, *observers: EngineObserver) -> None:
        self.observers = observers
        self.failures = 0
        self._logged: set[tuple[int, str]] = set()
        # bound once, so a hook costs a loop step, not an attribute lookup
        self._quote: Hooks = tuple(o.quote for o in observers)
        self._risk_checked: Hooks = tuple(o.risk_checked for o in observers)
        self._committed: Hooks = tuple(o.committed for o in observers)
        self._replied: Hooks = tuple(o.replied for o in observers)
        self._marks: Hooks = tuple(o.marks for o in observers)
        self._reconnected: Hooks = tuple(o.reconnected for o in observers)
        self._quoting: Hooks = tuple(o.quoting for o in observers)

    def _failed(self, hooks: Hooks, hook: Callable[..., None]) -> None:
        self.failures += 1
        index = hooks.index(hook)
        name = getattr(hook, "__name__", "hook")
        if (index, name) not in self._logged:
            self._logged.add((index, name))
            log.exception(
                "monitoring hook %s.%s failed (logged once; the engine goes on)",
                type(self.observers[index]).__name__,
                name,
            )

    def _each(self, hooks: Hooks, *args: Any) -> None:
        for hook in hooks:
            try:
                hook(*args)
            except Exception:
                self._failed(hooks, hook)

    def quote(self, quote: Quote, age_s: float, accepted: bool) -> None:
        for hook in self._quote:  # the hot path: no argument packing
            try:
                hook(quote, age_s, accepted)
            except Exception:
                self._failed(self._quote, hook)

    def risk_checked(self, seconds: float, code: str | None) -> None:
        self._each(self._risk_checked, seconds, code)

    def committed(self, events: Sequence[Event], seconds: float) -> None:
        self._each(self._committed, events, seconds)

    def replied(self, command: str, reply: Reply, seconds: float) -> None:
        self._each(self._replied, command, reply, seconds)

    def marks(self, accounts: Sequence[AccountState], now: float, journal_lag_s: float) -> None:
        self._each(self._marks, accounts, now, journal_lag_s)

    def reconnected(self, venue: str) -> None:
        self._each(self._reconnected, venue)

    def quoting(self, instruments: frozenset[str]) -> None:
        self._each(self._quoting, instruments)
