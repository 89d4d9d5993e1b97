"""The hooks the engine runner calls as it works, so monitoring can watch without the engine
knowing what watches it (Prometheus metrics, alert rules, or nothing at all).

Every hook runs on the engine thread and must return in microseconds: count, observe, store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tmt_tui.domain.client import Reply
from tmt_tui.domain.events import Event
from tmt_tui.domain.positions import AccountState
from tmt_tui.domain.quotes import Quote


class EngineObserver(Protocol):
    def quote(self, quote: Quote, age_s: float, accepted: bool) -> None:
        """A quote reached the engine (``age_s`` = engine clock - venue time); False if dropped."""
        ...

    def risk_checked(self, seconds: float, code: str | None) -> None:
        """One full pre-trade check took ``seconds``; ``code`` is the rejection, None if passed."""
        ...

    def committed(self, events: Sequence[Event], seconds: float) -> None:
        """A batch of events became durable; the commit took ``seconds``."""
        ...

    def replied(self, command: str, reply: Reply, seconds: float) -> None:
        """A command (class name) was answered ``seconds`` after it reached the engine thread."""
        ...

    def marks(self, accounts: Sequence[AccountState], now: float, journal_lag_s: float) -> None:
        """The periodic picture (every marks interval): also proves the engine loop is alive."""
        ...

    def reconnected(self, venue: str) -> None:
        """A venue's stream (``venue`` names it: "oanda-pricing") connected again after a drop."""
        ...

    def quoting(self, instruments: frozenset[str]) -> None:
        """The feed quotes exactly ``instruments`` from now on (the watchlist changed)."""
        ...


class NullObserver:
    """Watches nothing; the default."""

    def quote(self, quote: Quote, age_s: float, accepted: bool) -> None:
        return None

    def risk_checked(self, seconds: float, code: str | None) -> None:
        return None

    def committed(self, events: Sequence[Event], seconds: float) -> None:
        return None

    def replied(self, command: str, reply: Reply, seconds: float) -> None:
        return None

    def marks(self, accounts: Sequence[AccountState], now: float, journal_lag_s: float) -> None:
        return None

    def reconnected(self, venue: str) -> None:
        return None

    def quoting(self, instruments: frozenset[str]) -> None:
        return None
