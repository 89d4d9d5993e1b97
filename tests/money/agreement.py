"""How the money suite compares the engine with the ledger: every figure, in words.

Booked money (balance, realized P&L, per account, position and trade) must be identical: both
book each closed piece to 4 places, ties to even. Marks (unrealized P&L, margin used, equity)
are floats inside the engine, published to 4 places: they must agree within half a cent, in
every currency (the yen included, though its minor unit is the yen). Prices, units and trade
ids are exact; the average price is the exact one, rounded to a digit past the price's.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from tests.money.ledger import Ledger
from tmt_tui.domain.instruments import Instrument
from tmt_tui.engine.core import EngineCore
from tmt_tui.engine.state import CLOSED_TRADES as CLOSED_KEPT

D = Decimal

#: Marks are floats inside the engine: they must agree within half a cent of any currency.
HALF_CENT = D("0.005")
CENT = D("0.01")


def differences(core: EngineCore, ledger: Ledger, instruments: dict[str, Instrument]) -> list[str]:
    """Every figure where the engine and the ledger disagree, said in words."""
    found: list[str] = []

    def same(what: str, engine: object, expected: object) -> None:
        if engine != expected:
            found.append(f"{what}: engine {engine}, ledger {expected}")

    def near(what: str, engine: Decimal, expected: Decimal, within: Decimal = HALF_CENT) -> None:
        if abs(engine - expected) > within:
            found.append(f"{what}: engine {engine}, ledger {expected:.6f}")

    for account, holder in ledger.holders.items():
        currency, opening = holder.currency, holder.opening
        view = core.account_view(account)
        same(f"{account} currency", view.currency, currency)
        same(f"{account} balance", view.balance, ledger.balance(account))
        same(f"{account} realized", view.realized_pl, ledger.realized(account))
        same(
            f"{account} opening, financing, transfers",
            (view.opening_balance, view.financing, view.transfers),
            (opening, 0, 0),
        )
        near(f"{account} unrealized", view.unrealized_pl, ledger.unrealized(account))
        near(f"{account} margin used", view.margin_used, ledger.margin(account))
        near(f"{account} equity", view.equity, ledger.equity(account))
        same(f"{account} day start equity", view.day_start_equity, opening)
        same(
            f"{account} working orders",
            view.working_orders,
            sum(1 for w in ledger.working.values() if w.is_entry and w.account == account),
        )
        near(f"{account} daily P&L", view.daily_pl, ledger.equity(account) - opening)

    totals = core.totals()
    if totals is None or totals.excluded:
        found.append(f"no totals across every account: {totals}")
    else:
        # the engine rounds its total to the cent: half a cent of its own, half of ours
        for what, engine, each in (
            ("equity", totals.equity, ledger.equity),
            ("balance", totals.balance, ledger.balance),
            ("unrealized", totals.unrealized_pl, ledger.unrealized),
            ("margin used", totals.margin_used, ledger.margin),
        ):
            near(
                f"{totals.currency} total {what}",
                engine,
                in_currency(ledger, each, totals.currency),
                CENT,
            )

    same(
        "working entry orders (id, account, instrument, units, type, price, tp, sl)",
        sorted(
            (o.id, o.account, o.instrument, o.units, o.type.value, o.price, o.take_profit,
             o.stop_loss)
            for o in core.orders.open.values()
            if not o.is_protective
        ),
        sorted(
            (w.id, w.account, w.instrument, w.units, w.kind.upper(), w.price, w.take_profit,
             w.stop_loss)
            for w in ledger.working.values()
            if w.is_entry
        ),
    )  # fmt: skip

    positions = {(p.account, p.instrument): p for p in core.positions()}
    expected = {key: book for key, book in ledger.books.items() if book.units}
    same("open positions", sorted(positions), sorted(expected))
    for (account, instrument), book in expected.items():
        position = positions.get((account, instrument))
        if position is None:
            continue
        where = f"{account} {instrument}"
        same(f"{where} units", position.units, book.units)
        same(f"{where} units (portfolio)", core.portfolio.units(account, instrument), book.units)
        # published to one digit more than the price: the exact average, rounded there
        step = instruments[instrument].tick / 10
        near(
            f"{where} average price",
            position.avg_price,
            ledger.average_price(account, instrument),
            step / 2,
        )
        same(f"{where} realized", position.realized_pl, book.realized)
        near(f"{where} unrealized", position.unrealized_pl, ledger.unrealized(account, instrument))
        near(f"{where} margin used", position.margin_used, ledger.margin(account, instrument))

        def protective(order_id: str | None) -> Decimal | None:
            order = core.orders.get(order_id) if order_id else None
            return None if order is None else order.price

        same(
            f"{where} trades (id, units, initial, price, realized, tp, sl)",
            [
                (
                    t.id,
                    t.units,
                    t.initial_units,
                    t.price,
                    t.realized_pl,
                    protective(t.take_profit_order_id),
                    protective(t.stop_loss_order_id),
                )
                for t in position.trades
            ],
            [
                (
                    lot.id,
                    lot.units,
                    lot.initial_units,
                    lot.price,
                    lot.realized,
                    guard_price(ledger, lot.id, "take-profit"),
                    guard_price(ledger, lot.id, "stop-loss"),
                )
                for lot in book.lots
            ],
        )
    return found


def guard_price(ledger: Ledger, trade_id: str, kind: str) -> Decimal | None:
    guard = ledger.guard(trade_id, kind)
    return None if guard is None else guard.price


def in_currency(ledger: Ledger, figure: Callable[[str], Decimal], currency: str) -> Decimal:
    """``figure`` of every account, converted into ``currency`` at mid rates and summed."""
    return sum(
        (figure(a) * ledger.rate(h.currency, currency) for a, h in ledger.holders.items()), D(0)
    )


#: How the ledger's "what closed it" reads in the engine's trade history.
REASONS = {
    "take-profit": "take-profit",
    "stop-loss": "stop-loss",
    "close": "close",
    "trade close": "close",
    "fill": "reversal",  # a plain order that reduced (an entry too): not a close
    "limit": "reversal",
    "stop": "reversal",
}


def history_differences(core: EngineCore, ledger: Ledger) -> list[str]:
    """Where the engine's closed trades (its blotter, the newest ``CLOSED_KEPT``) and the
    ledger's disagree: who, what, as opened, open and close price, all realized, why."""
    engine = [
        (t.account, t.instrument, t.trade_id, t.units, t.open_price, t.close_price,
         t.realized_pl, t.reason)
        for t in core.state.closed_trades
    ]  # fmt: skip
    expected = [
        (t.account, t.instrument, t.trade_id, t.units, t.open_price, t.close_price,
         t.realized, REASONS[t.why])
        for t in ledger.finished[-CLOSED_KEPT:]
    ]  # fmt: skip
    if engine == expected:
        return []
    for i, (mine, theirs) in enumerate(zip(engine, expected, strict=False)):
        if mine != theirs:
            return [f"closed trade #{i}: engine {mine}, ledger {theirs}"]
    return [f"closed trades: engine has {len(engine)}, ledger {len(expected)}"]
