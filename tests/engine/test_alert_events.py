"""Alerts raised by monitoring rules become journaled events, and the snapshot lists the active
ones so a screen attaching later still sees them."""

from __future__ import annotations

from tmt_tui.config import load_settings
from tmt_tui.domain.codec import from_wire, to_wire
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.engine.state import EngineState
from tmt_tui.venues.sim.universe import instruments


def alert(seq: int, kind: EventKind, key: str, message: str = "") -> Event:
    return Event(seq, 0.0, kind, "auto", {"key": key, "message": message})


def test_raised_alerts_are_active_until_cleared() -> None:
    state = EngineState(load_settings(), instruments())

    state.evolve(alert(1, EventKind.ALERT_RAISED, "quote_stale:EUR_USD", "no quote for 12s"))
    state.evolve(alert(2, EventKind.ALERT_RAISED, "margin:SIM-USD", "margin 55% of equity"))
    state.evolve(alert(3, EventKind.ALERT_CLEARED, "quote_stale:EUR_USD", "quotes again"))

    assert state.snapshot(0.0).alerts == {"margin:SIM-USD": "margin 55% of equity"}


def test_snapshot_alerts_survive_the_wire() -> None:
    from tmt_tui.domain.client import Snapshot

    state = EngineState(load_settings(), instruments())
    state.evolve(alert(1, EventKind.ALERT_RAISED, "reject_burst", "10 rejects in 60s"))

    wire = to_wire(state.snapshot(0.0))

    assert from_wire(Snapshot, wire).alerts == {"reject_burst": "10 rejects in 60s"}
