"""State is a fold over events: replaying the journaled events, or loading a checkpoint and
replaying the rest, rebuilds exactly the state the live engine has.
"""

from __future__ import annotations

import json
from decimal import Decimal

from tests.support.harness import Harness
from tmt_tui.domain.commands import ClosePosition, EngageKillSwitch, SetReducing
from tmt_tui.domain.events import STATEFUL_KINDS, EventKind
from tmt_tui.engine.state import EngineState

D = Decimal


def a_busy_session() -> Harness:
    h = Harness()
    h.standard_quotes()
    h.submit("EUR_USD", 10_000, take_profit=D("1.12000"), stop_loss=D("1.08000"))
    h.limit("GBP_USD", 5_000, "1.25000")
    h.do(ClosePosition("SIM-USD", "EUR_USD", units=4_000))
    h.submit("AUD_CAD", -20_000, account="SIM-EUR", take_profit=D("0.88000"))
    h.quote("AUD_CAD", "0.87990", "0.88000")  # the take-profit fills
    h.submit("USD_JPY", 30_000)
    h.quote("USD_JPY", "151.000", "151.010")
    h.submit("USD_JPY", -45_000)  # reversal
    h.do(SetReducing(on=True, account="SIM-EUR"))
    h.do(EngageKillSwitch("end of test"))
    return h


def replayed(h: Harness, after_seq: int = 0) -> EngineState:
    state = EngineState(h.settings, h.instruments)
    kinds = STATEFUL_KINDS | {EventKind.ENGINE_STARTED}
    for event in h.events:
        if event.seq > after_seq and event.kind in kinds:
            state.evolve(event)
    return state


def test_replaying_the_stateful_events_rebuilds_the_live_state() -> None:
    h = a_busy_session()

    state = replayed(h)

    assert state.to_checkpoint() == h.core.state.to_checkpoint()


def test_checkpoint_survives_a_round_trip_through_json() -> None:
    h = a_busy_session()
    state = EngineState(h.settings, h.instruments)

    state.load_checkpoint(json.loads(json.dumps(h.core.state.to_checkpoint())))

    assert state.to_checkpoint() == h.core.state.to_checkpoint()


def test_checkpoint_plus_the_later_events_equals_the_live_state() -> None:
    h = Harness()
    h.standard_quotes()
    h.submit("EUR_USD", 10_000, take_profit=D("1.12000"))
    checkpoint = json.loads(json.dumps(h.core.state.to_checkpoint()))
    h.quote("EUR_USD", "1.12000", "1.12010")  # the take-profit fills after the checkpoint
    h.limit("GBP_USD", 5_000, "1.25000")
    state = EngineState(h.settings, h.instruments)
    state.load_checkpoint(checkpoint)

    for event in h.events:
        if event.seq > checkpoint["seq"]:
            state.evolve(event)

    assert state.to_checkpoint() == h.core.state.to_checkpoint()


def test_replayed_state_values_positions_like_the_live_one() -> None:
    h = a_busy_session()
    state = replayed(h)
    for quote in h.core.quotes.quotes.values():
        state.quotes.update(quote)

    state.portfolio.revalue()

    assert state.positions() == h.core.positions()
    assert [state.account_view(a) for a in ("SIM-USD", "SIM-EUR")] == [
        h.core.account_view(a) for a in ("SIM-USD", "SIM-EUR")
    ]
