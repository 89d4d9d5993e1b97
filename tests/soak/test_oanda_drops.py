"""Soak: an OANDA account whose streams drop every second for a minute while orders keep coming
from tmt and from outside it; at the end tmt and OANDA must agree exactly.

Not part of the default run (`-m "not soak"` in pytest's addopts): `make soak`, or
`TMT_SOAK_S=600 make soak` for ten minutes.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.engines import journal_events
from tests.support.oanda import TOKEN, Engine, ledger_units, oanda_settings
from tests.support.waiting import wait_for
from tmt_tui.domain.commands import ClosePosition, SubmitOrder
from tmt_tui.domain.events import EventKind
from tmt_tui.venues.oanda_sim import views
from tmt_tui.venues.oanda_sim.server import V20ServerThread

pytestmark = pytest.mark.soak

INSTRUMENTS = ("EUR_USD", "USD_JPY", "GBP_USD")
SOAK_S = float(os.environ.get("TMT_SOAK_S", "60"))
#: Prices must move on every instrument within each window this long, drops or not.
PRICE_WINDOW_S = 5.0


@pytest.fixture
def server() -> Iterator[V20ServerThread]:
    with V20ServerThread(token=TOKEN, tick_interval=0.02, heartbeat_interval=0.1) as running:
        yield running


def ledger_fills(server: V20ServerThread) -> list[str]:
    return server.call(
        lambda s: [t["id"] for t in s.ledger.transactions if t["type"] == "ORDER_FILL"]
    )


def ledger_balance(server: V20ServerThread) -> Decimal:
    return Decimal(server.call(lambda s: views.summary(s.ledger)["balance"]))


def agrees(engine: Engine, server: V20ServerThread) -> bool:
    return (
        engine.reconciled()
        and all(engine.position(i) == ledger_units(server, i) for i in INSTRUMENTS)
        and engine.core.portfolio.accounts[engine.account].balance == ledger_balance(server)
    )


def test_streams_dropping_every_second_for_a_minute_leave_tmt_and_oanda_in_agreement(
    server: V20ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OANDA_TOKEN", TOKEN)
    journal = tmp_path / "journal.db"
    rng = random.Random(int(os.environ.get("TMT_SOAK_SEED", "20261127")))
    server.call(lambda s: setattr(s.faults, "drop_streams_after", 1.0))  # from the first connect
    engine = Engine(oanda_settings(server, journal))
    try:
        wait_for(engine.reconciled)
        for name in INSTRUMENTS:
            wait_for(lambda name=name: engine.core.quotes.get(name))

        accepted = refused = outside = 0
        stalled: list[str] = []
        window_start = time.monotonic()
        seen = {name: engine.core.quotes.get(name).ts for name in INSTRUMENTS}
        end = time.monotonic() + SOAK_S
        while time.monotonic() < end:
            instrument = rng.choice(INSTRUMENTS)
            units = rng.choice((-1, 1)) * rng.randrange(100, 3000, 100)
            roll = rng.random()
            if roll < 0.45:
                server.call(lambda s, i=instrument, u=units: s.outside_market_order(i, u))
                outside += 1
            elif roll < 0.9:
                reply = engine.ask(SubmitOrder(engine.account, instrument, units))
                accepted, refused = (accepted + 1, refused) if reply.ok else (accepted, refused + 1)
            elif engine.position(instrument):  # the whole position, or one of its trades
                trades = [t for p in engine.core.positions() if p.instrument == instrument
                          for t in p.trades]  # fmt: skip
                one = rng.choice(trades).id if trades and rng.random() < 0.5 else None
                reply = engine.ask(ClosePosition(engine.account, instrument, trade_id=one))
                accepted, refused = (accepted + 1, refused) if reply.ok else (accepted, refused + 1)
            time.sleep(rng.uniform(0.02, 0.4))
            if time.monotonic() - window_start >= PRICE_WINDOW_S:
                now = {name: engine.core.quotes.get(name).ts for name in INSTRUMENTS}
                stalled += [name for name in INSTRUMENTS if now[name] <= seen[name]]
                seen, window_start = now, time.monotonic()

        connects = engine.runner.venue.stream_connects if engine.runner.venue else 0
        last = {name: engine.core.quotes.get(name).ts for name in INSTRUMENTS}
        for name in INSTRUMENTS:  # prices still arrive while the drops go on
            wait_for(lambda name=name: engine.core.quotes.get(name).ts > last[name])
        server.call(lambda s: setattr(s.faults, "drop_streams_after", None))
        with contextlib.suppress(AssertionError):  # the assertions below say what disagrees
            wait_for(lambda: agrees(engine, server), "tmt and OANDA to agree", within=30.0)
        assert engine.reconciled(), engine.core.alerts
        positions = {i: engine.position(i) for i in INSTRUMENTS}
        acct = engine.core.portfolio.accounts[engine.account]
        balance, realized = acct.balance, acct.realized
        identity = acct.opening + acct.realized + acct.financing + acct.transfers
    finally:
        engine.stop()

    assert stalled == [], f"no new price within {PRICE_WINDOW_S}s for {stalled}"
    assert accepted > 0 and outside > 0, (accepted, refused, outside)
    assert connects > SOAK_S / 2, connects  # the streams really dropped, again and again
    assert positions == {i: ledger_units(server, i) for i in INSTRUMENTS}
    fills = journal_events(journal, EventKind.ORDER_FILLED)
    assert len({f["fill_id"] for f in fills}) == len(fills), "a fill journaled twice"
    assert len(fills) == len(ledger_fills(server)), "a fill lost or invented"
    assert balance == ledger_balance(server)
    assert realized == Decimal(server.call(lambda s: views.summary(s.ledger)["pl"]))  # OANDA's own
    assert balance == identity, "balance != opening + realized + financing + transfers"
    print(f"soak {SOAK_S:.0f}s: {connects} stream connects, {outside} outside orders, "
          f"{accepted} tmt orders accepted, {refused} refused, {len(fills)} fills")  # fmt: skip
