"""Suite 1, money: the engine's books, to the cent, against an independent FIFO ledger.

Random but seeded sessions (``tests/money/session.py``) drive the real engine core and the
ledger of ``tests/money/ledger.py`` side by side: quotes moving on 15 pairs (the JPY pairs, the
USD legs, crosses a EUR, JPY or GBP account converts through USD), market orders of any size
with take-profits and stop-losses, partial position and trade closes, flips, limit and stop
entries, TP/SL moved or cancelled and filled by quotes moving through them, across four
accounts in USD, EUR, JPY and GBP. After every step units, open trades (id, units, price,
realized, TP, SL), working orders, average price, realized P&L, balance, unrealized P&L, margin
used, equity and the USD totals agree (``tests/money/agreement.py`` says how exactly). Halfway
the engine restarts from a checkpoint, at three quarters from the journal, and trades on; at
the end, and at a few points before, the journal replayed into a fresh core must give the same
numbers, closed trades included.

`make test` runs a few hundred steps; `make soak` runs ``TMT_LEDGER_STEPS`` (10,000). A
failure names its seed: ``TMT_LEDGER_SEED=<seed>`` runs that one session again.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from tests.money.ledger import Ledger, Spec
from tests.money.session import Session
from tests.support.tally import add
from tmt_tui.store.journal import Journal

D = Decimal

STEPS = 300
SOAK_STEPS = int(os.environ.get("TMT_LEDGER_STEPS", "10000"))
SEEDS = (11, 2026)
SOAK_SEED = 87109


def run(seed: int, steps: int, journal_path: Path, replays: int, rerun: str) -> Session:
    """``steps`` of one session, checked after each; a restart from a checkpoint halfway and
    one from the journal at three quarters, trading on after each; the journal replayed into a
    fresh core ``replays`` times along the way and once at the end."""
    every = max(1, steps // (replays + 1))
    journal = Journal(journal_path)
    session = Session(seed, journal, rerun)
    try:
        session.check(session.h.core, "start")
        for n in range(1, steps + 1):
            session.step()
            session.check(session.h.core, "live")
            if n == steps // 2:
                session.restart()
                session.check(session.h.core, "after a checkpoint restart", history=True)
            if n == steps * 3 // 4:
                session.restart_from_journal()
                session.check(session.h.core, "after a restart from the journal", history=True)
            if n % every == 0 and n < steps:
                session.check(session.replayed(), "journal replay", history=True)
        session.check(session.h.core, "live at the end", history=True)
        session.check(session.replayed(), "journal replay at the end", history=True)
    finally:
        journal.close()
        add("money", ledger_steps=session.steps)
    return session


def seeds() -> tuple[int, ...]:
    chosen = os.environ.get("TMT_LEDGER_SEED")
    return (int(chosen),) if chosen else SEEDS


@pytest.mark.parametrize("seed", seeds())
def test_random_fills_agree_with_an_independent_ledger_to_the_cent_live_and_replayed(
    seed: int, journal_path: Path
) -> None:
    rerun = f"TMT_LEDGER_SEED={seed} pytest tests/money"
    session = run(seed, STEPS, journal_path, replays=2, rerun=rerun)

    # the session did what the suite is about, or agreeing would prove little
    for what in (
        "order",
        "flip",
        "partial position close",
        "trade close",
        "partial trade close",
        "take-profit",
        "stop-loss",
        "entry filled at once",
        "entry filled by a quote",
        "take-profit moved",
        "restart",
        "restart from the journal",
        "replay",
        "replay from a checkpoint",
    ):
        assert session.did[what] > 0, f"seed {seed}: no {what} in {dict(session.did)}"


@pytest.mark.soak
def test_ten_thousand_random_steps_agree_with_the_ledger_to_the_cent(journal_path: Path) -> None:
    seed = int(os.environ.get("TMT_LEDGER_SEED", SOAK_SEED))
    rerun = f"TMT_LEDGER_SEED={seed} TMT_LEDGER_STEPS={SOAK_STEPS} pytest -m soak tests/money"
    run(seed, SOAK_STEPS, journal_path, replays=9, rerun=rerun)


# the ledger on its own, against cases worked by hand --------------------------------------------


def small_ledger() -> Ledger:
    names = ("EUR_USD", "USD_JPY", "USD_CAD", "AUD_CAD")
    ledger = Ledger(
        (Spec(n, D("0.05")) for n in names),
        {"USD": ("USD", D("100000")), "EUR": ("EUR", D("50000"))},
    )
    for name, bid, ask in (
        ("EUR_USD", "1.10000", "1.10010"),
        ("USD_JPY", "150.000", "150.010"),
        ("USD_CAD", "1.36000", "1.36016"),
        ("AUD_CAD", "0.89000", "0.89020"),
    ):
        ledger.quote(name, D(bid), D(ask))
    return ledger


def test_the_ledger_books_a_jpy_profit_in_usd_at_one_over_the_mid() -> None:
    # (151.000 - 150.010) x 10,000 = 9,900 JPY; / 151.005 = 65.56074... -> 65.5607 USD
    ledger = small_ledger()
    ledger.market("USD", "USD_JPY", 10_000, "T1")
    ledger.quote("USD_JPY", D("151.000"), D("151.010"))

    ledger.market("USD", "USD_JPY", -10_000, "T2")

    assert ledger.realized("USD") == D("65.5607")
    assert ledger.balance("USD") == D("100065.5607")


def test_the_ledger_converts_a_cross_into_eur_through_usd() -> None:
    # (0.89500 - 0.89020) x 10,000 = 48 CAD; / 1.36008 / 1.10005 = 32.08221... -> 32.0822 EUR
    ledger = small_ledger()
    ledger.market("EUR", "AUD_CAD", 10_000, "T1")
    ledger.quote("AUD_CAD", D("0.89500"), D("0.89520"))

    assert ledger.unrealized("EUR").quantize(D("0.0001")) == D("32.0822")
    ledger.close_position("EUR", "AUD_CAD")
    assert ledger.realized("EUR") == D("32.0822")


def test_the_ledger_closes_the_oldest_trade_first_and_a_flip_opens_the_rest() -> None:
    # longs 1,000 at 1.10010 and 1,000 at 1.10110; sell 2,500 at the bid 1.10200:
    # 1.9000 + 0.9000 realized, and a short of 500 opens at 1.10200
    ledger = small_ledger()
    ledger.market("USD", "EUR_USD", 1_000, "T1")
    ledger.quote("EUR_USD", D("1.10100"), D("1.10110"))
    ledger.market("USD", "EUR_USD", 1_000, "T2")
    ledger.quote("EUR_USD", D("1.10200"), D("1.10210"))

    ledger.market("USD", "EUR_USD", -2_500, "T3")

    assert ledger.realized("USD") == D("2.8000")
    (lot,) = ledger.books[("USD", "EUR_USD")].lots
    assert (lot.id, lot.units, lot.price) == ("T3", -500, D("1.10200"))


def test_the_ledger_fills_a_stop_at_the_touch_and_its_take_profit_goes_with_the_trade() -> None:
    # long 10,000 at 1.10010, SL 1.09900, TP 1.10500; the bid gaps to 1.09850: filled there,
    # (1.09850 - 1.10010) x 10,000 = -16.0000 USD
    ledger = small_ledger()
    ledger.market("USD", "EUR_USD", 10_000, "T1", D("1.10500"), D("1.09900"))

    (closed,) = ledger.quote("EUR_USD", D("1.09850"), D("1.09860"))

    assert (closed.why, closed.close_price, closed.pnl) == ("stop-loss", D("1.09850"), D("-16"))
    assert ledger.quote("EUR_USD", D("1.10600"), D("1.10610")) == []
    assert ledger.units("USD", "EUR_USD") == 0
