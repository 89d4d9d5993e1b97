"""A seeded trading session for the money suite: the engine core (with a journal) and the
independent ledger, driven by the same random quotes and orders, step by step.

Quotes drift about each pair's usual level or jump onto and through a working order's price
(an entry's, a take-profit's, a stop-loss's); orders are market buys and sells of any size
(some with TP/SL), flips, partial and full position closes, partial and full trade closes,
limit and stop entries (some reached at once), and TP/SL moved (some onto the touch) or
cancelled, across the four accounts. Every order must fill (or work): the limits are out of
the way and positions stay small enough for margin, because the ledger models fills, not the
pre-trade risk checks.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections import Counter, deque
from decimal import Decimal

from tests.money.agreement import differences, history_differences
from tests.money.ledger import Ledger, Lot, Spec, Working
from tests.support.harness import Harness, default_settings, restarted
from tmt_tui.config import AccountSettings, RiskLimits, Settings
from tmt_tui.domain.client import Reply
from tmt_tui.domain.commands import (
    CancelOrder,
    ClosePosition,
    Command,
    ModifyOrder,
    SubmitOrder,
)
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import OrderStatus, OrderType
from tmt_tui.domain.quotes import Quote
from tmt_tui.engine.boot import restore
from tmt_tui.engine.core import EngineCore
from tmt_tui.store.journal import Journal
from tmt_tui.venues.sim.universe import SPECS
from tmt_tui.venues.sim.universe import instruments as sim_instruments

D = Decimal

#: Four accounts, four currencies: (currency, opening balance).
ACCOUNTS: dict[str, tuple[str, Decimal]] = {
    "SIM-USD": ("USD", D("1000000")),
    "SIM-EUR": ("EUR", D("1000000")),
    "SIM-JPY": ("JPY", D("150000000")),
    "SIM-GBP": ("GBP", D("800000")),
}
#: The JPY pairs, every USD leg a conversion needs, and crosses that convert through USD
#: (AUD_CAD and CAD_JPY in a EUR or GBP account; USD_CHF's CHF in a EUR account).
INSTRUMENTS = (
    "EUR_USD", "GBP_USD", "USD_JPY", "AUD_USD", "USD_CAD", "USD_CHF", "NZD_USD", "EUR_JPY",
    "GBP_JPY", "AUD_JPY", "CAD_JPY", "EUR_GBP", "AUD_CAD", "GBP_CHF", "EUR_AUD",
)  # fmt: skip
#: Limits out of the way: the ledger models fills, not the pre-trade risk checks.
RELAXED = RiskLimits(
    max_order_units=10**9,
    max_order_notional=D(10**12),
    max_position_units=10**9,
    max_leverage=D(1000),
    daily_loss_limit=D(10**12),
    max_quote_age_s=1e12,
    max_working_orders=10**6,
    max_orders_per_second=10**6,
)
#: No position grows past this, so margin never runs short (the paper broker would refuse).
MAX_POSITION = 400_000


def money_settings() -> Settings:
    accounts = tuple(
        AccountSettings(account, currency, balance, RELAXED)
        for account, (currency, balance) in ACCOUNTS.items()
    )
    return dataclasses.replace(default_settings(), accounts=accounts)


def unreached(kind: str, buys: bool) -> int:
    """Which side of the touch an order's price lies on while the touch has not reached it: a
    buy limit (or a short's TP) below the ask, a buy stop above it, and the other way round."""
    limit_like = kind in ("limit", "take-profit")
    return 1 if limit_like != buys else -1


class Session:
    """One seeded session: the engine (with its journal) and the ledger, step by step."""

    def __init__(self, seed: int, journal: Journal, rerun: str = "") -> None:
        self.seed = seed
        self.rerun = rerun or f"TMT_LEDGER_SEED={seed}"  # how to run this session again
        self.rng = random.Random(seed)
        self.journal = journal
        self.instruments: dict[str, Instrument] = {i.name: i for i in sim_instruments(INSTRUMENTS)}
        self.h = Harness(money_settings(), self.instruments.values())
        self.ledger = Ledger(
            (Spec(i.name, i.margin_rate) for i in self.instruments.values()), ACCOUNTS
        )
        self.written = 0  # events of ``self.h`` already in the journal
        self.ticks: list[Quote] = []  # quotes not yet in the journal
        self.mids = {name: SPECS[name].mid for name in INSTRUMENTS}
        self.steps = 0
        self.did: Counter[str] = Counter()
        self.history: deque[str] = deque(maxlen=12)
        for name in INSTRUMENTS:
            self.show(name, *self.around(name, self.mids[name]))

    # the market -----------------------------------------------------------------------------

    def tick_size(self, instrument: str) -> Decimal:
        return self.instruments[instrument].tick

    def around(self, instrument: str, mid: float) -> tuple[Decimal, Decimal]:
        """A bid and ask about ``mid``, a random 1 to 20 ticks apart."""
        tick = self.tick_size(instrument)
        spread = self.rng.randint(1, 20)
        bid = D(repr(mid)).quantize(tick) - (spread // 2) * tick
        return bid, bid + spread * tick

    def show(self, instrument: str, bid: Decimal, ask: Decimal) -> None:
        """One quote to the engine (and its paper broker) and to the ledger."""
        self.ticks.append(self.h.quote(instrument, str(bid), str(ask)))
        self.mids[instrument] = float(bid + ask) / 2
        entries = [w.id for w in self.ledger.working.values() if w.is_entry]
        for closed in self.ledger.quote(instrument, bid, ask):
            self.did[closed.why] += 1
        self.did["entry filled by a quote"] += sum(e not in self.ledger.working for e in entries)

    def drift(self) -> None:
        """A random instrument moves a little, pulled back towards its usual level."""
        name = self.rng.choice(INSTRUMENTS)
        mid, usual = self.mids[name], SPECS[name].mid
        mid = mid * math.exp(self.rng.gauss(0, 0.0012)) + (usual - mid) * 0.05
        self.show(name, *self.around(name, mid))
        self.did["quote"] += 1

    def buys(self, order: Working) -> bool:
        """Whether a working order buys (a TP or SL buys back a short)."""
        if order.is_entry:
            return order.units > 0
        return self.ledger.trade(order.account, order.instrument, order.trade_id).units < 0

    def through_an_order(self) -> None:
        """The touch moves onto or past a working order's price: an entry's, a TP's or an
        SL's."""
        if not self.ledger.working:
            self.drift()
            return
        order = self.rng.choice(list(self.ledger.working.values()))
        buys = self.buys(order)
        tick = self.tick_size(order.instrument)
        touch = order.price + unreached(order.kind, buys) * self.rng.randint(0, 5) * tick
        spread = self.rng.randint(1, 20) * tick
        if buys:
            self.show(order.instrument, touch - spread, touch)
        else:
            self.show(order.instrument, touch, touch + spread)
        self.did["quote through an order"] += 1

    # orders ---------------------------------------------------------------------------------

    def do(self, command: Command) -> Reply:
        """Apply a command whose order must fill."""
        return self.expect(self.h.do(command), OrderStatus.FILLED)

    def expect(self, reply: Reply, status: OrderStatus) -> Reply:
        """``reply`` was accepted and its order is now in ``status``."""
        order = self.h.order(reply.order_id) if reply.order_id else None
        if not reply.ok or order is None or order.status is not status:
            raise AssertionError(
                f"seed {self.seed} step {self.steps}: expected {status.value}, got {reply} "
                f"({order})"
            )
        return reply

    def size(self) -> int:
        roll = self.rng.random()
        if roll < 0.1:
            return self.rng.randint(1, 99)
        if roll < 0.6:
            return self.rng.randint(1, 150) * 1_000
        return self.rng.randint(1, 150_000)

    def protection(self, instrument: str, units: int) -> tuple[Decimal | None, Decimal | None]:
        """Maybe a take-profit and a stop-loss 1 to 80 pips beyond the touch, on the right
        sides (never inside the spread, where a stop would fill at once)."""
        bid, ask = self.ledger.quotes[instrument]
        tick = self.tick_size(instrument)
        tp = sl = None
        if self.rng.random() < 0.35:
            away = self.rng.randint(1, 800) * tick
            tp = ask + away if units > 0 else bid - away
        if self.rng.random() < 0.35:
            away = self.rng.randint(1, 800) * tick
            sl = bid - away if units > 0 else ask + away
        return tp, sl

    def market(self, account: str, instrument: str, units: int) -> None:
        tp, sl = self.protection(instrument, units)
        reply = self.do(SubmitOrder(account, instrument, units, take_profit=tp, stop_loss=sl))
        self.ledger.market(account, instrument, units, f"{reply.order_id}.1", tp, sl)
        self.history.append(f"{account} {units:+,} {instrument} tp={tp} sl={sl}")

    def trade(self) -> None:
        """A buy or sell of a random size, with or without TP/SL."""
        account = self.rng.choice(list(ACCOUNTS))
        instrument = self.rng.choice(INSTRUMENTS)
        units = self.size() * self.rng.choice((1, -1))
        held = self.ledger.units(account, instrument)
        if abs(held + units) + self.resting(account, instrument) > MAX_POSITION:
            units = -units
        self.market(account, instrument, units)
        self.did["order"] += 1

    def resting(self, account: str, instrument: str) -> int:
        """The units entry orders could still add to a position (at most)."""
        return sum(
            abs(w.units)
            for w in self.ledger.working.values()
            if w.is_entry and (w.account, w.instrument) == (account, instrument)
        )

    def entry(self) -> None:
        """A limit or a stop order, some already reached, with or without TP/SL."""
        account = self.rng.choice(list(ACCOUNTS))
        instrument = self.rng.choice(INSTRUMENTS)
        units = self.rng.randint(1, 60_000) * self.rng.choice((1, -1))
        held = abs(self.ledger.units(account, instrument)) + self.resting(account, instrument)
        if held + abs(units) > MAX_POSITION:
            self.close_position()
            return
        kind = self.rng.choice(("limit", "stop"))
        bid, ask = self.ledger.quotes[instrument]
        tick = self.tick_size(instrument)
        touch = ask if units > 0 else bid
        away = -self.rng.randint(0, 20) if self.rng.random() < 0.2 else self.rng.randint(1, 300)
        price = touch + unreached(kind, units > 0) * away * tick
        tp = sl = None
        if self.rng.random() < 0.35:
            tp = price + (1 if units > 0 else -1) * self.rng.randint(1, 800) * tick
        if self.rng.random() < 0.35:
            sl = price - (1 if units > 0 else -1) * self.rng.randint(1, 800) * tick
        reply = self.h.do(
            SubmitOrder(
                account, instrument, units, type=OrderType(kind.upper()), price=price,
                take_profit=tp, stop_loss=sl,
            )
        )  # fmt: skip
        filled = self.ledger.entry(
            reply.order_id or "", account, instrument, units, kind, price,
            f"{reply.order_id}.1", tp, sl,
        )  # fmt: skip
        self.expect(reply, OrderStatus.FILLED if filled else OrderStatus.WORKING)
        self.history.append(f"{account} {kind} {units:+,} {instrument} @ {price} tp={tp} sl={sl}")
        self.did["entry filled at once" if filled else "entry working"] += 1

    def engine_guard(self, guard: Working) -> str:
        """The engine's id of a trade's TP or SL."""
        trade = self.h.core.portfolio.find_trade(guard.account, guard.instrument, guard.trade_id)
        found = (
            None if trade is None else trade.tp_id if guard.kind == "take-profit" else trade.sl_id
        )
        if found is None:
            raise AssertionError(f"seed {self.seed} step {self.steps}: the engine has no {guard}")
        return found

    def move_guard(self) -> None:
        """A TP or SL moves: away from the touch, or onto it (then it fills at once)."""
        guards = [w for w in self.ledger.working.values() if not w.is_entry]
        if not guards:
            self.entry()
            return
        guard = self.rng.choice(guards)
        buys = self.buys(guard)
        bid, ask = self.ledger.quotes[guard.instrument]
        tick = self.tick_size(guard.instrument)
        away = self.rng.randint(-10, 300) * tick
        price = (ask if buys else bid) + unreached(guard.kind, buys) * away
        reply = self.h.do(ModifyOrder(self.engine_guard(guard), price=price))
        filled = self.ledger.move(guard.trade_id, guard.kind, price)
        self.expect(reply, OrderStatus.FILLED if filled else OrderStatus.WORKING)
        self.history.append(f"move {guard.kind} of {guard.trade_id} to {price}")
        self.did[f"{guard.kind} moved" + (" and filled" if filled else "")] += 1

    def cancel(self) -> None:
        """A working entry, TP or SL is cancelled."""
        if not self.ledger.working:
            self.entry()
            return
        order = self.rng.choice(list(self.ledger.working.values()))
        engine_id = order.id if order.is_entry else self.engine_guard(order)
        reply = self.h.do(CancelOrder(engine_id))
        self.ledger.cancel(order.id)
        self.expect(reply, OrderStatus.CANCELLED)
        self.history.append(f"cancel {order.kind} {order.id}")
        self.did[f"{order.kind} cancelled"] += 1

    def positions(self) -> list[tuple[str, str, int]]:
        return [
            (account, instrument, book.units)
            for (account, instrument), book in self.ledger.books.items()
            if book.units
        ]

    def flip(self) -> None:
        """A sell larger than the long (or a buy larger than the short)."""
        held = self.positions()
        if not held:
            self.trade()
            return
        account, instrument, units = self.rng.choice(held)
        beyond = self.rng.randint(1, 100_000)
        self.market(account, instrument, -units - (beyond if units > 0 else -beyond))
        self.did["flip"] += 1

    def close_position(self) -> None:
        """All of a position, or part of it (oldest trades first)."""
        held = self.positions()
        if not held:
            self.trade()
            return
        account, instrument, units = self.rng.choice(held)
        size: int | None = None
        if abs(units) > 1 and self.rng.random() < 0.75:
            size = self.rng.randint(1, abs(units) - 1)
        self.do(ClosePosition(account, instrument, units=size))
        self.ledger.close_position(account, instrument, size)
        self.history.append(f"close {size or 'all'} of {account} {instrument}")
        self.did["position close" if size is None else "partial position close"] += 1

    def close_trade(self) -> None:
        """All of one trade, or part of it (OANDA's trade close)."""
        lots: list[tuple[str, str, Lot]] = [
            (account, instrument, lot)
            for (account, instrument), book in self.ledger.books.items()
            for lot in book.lots
        ]
        if not lots:
            self.trade()
            return
        account, instrument, lot = self.rng.choice(lots)
        size: int | None = None
        if abs(lot.units) > 1 and self.rng.random() < 0.5:
            size = self.rng.randint(1, abs(lot.units) - 1)
        self.do(ClosePosition(account, instrument, units=size, trade_id=lot.id))
        self.ledger.close_trade(account, instrument, lot.id, size)
        self.history.append(f"close {size or 'all'} of trade {lot.id} ({account} {instrument})")
        self.did["trade close" if size is None else "partial trade close"] += 1

    def step(self) -> None:
        self.steps += 1
        self.h.clock.advance(1.0)
        roll = self.rng.random()
        if roll < 0.25:
            self.drift()
        elif roll < 0.37:
            self.through_an_order()
        elif roll < 0.55:
            self.trade()
        elif roll < 0.63:
            self.flip()
        elif roll < 0.73:
            self.close_position()
        elif roll < 0.83:
            self.close_trade()
        elif roll < 0.91:
            self.entry()
        elif roll < 0.96:
            self.move_guard()
        else:
            self.cancel()

    # restarts and the journal ---------------------------------------------------------------

    def flush(self) -> None:
        """What the engine journaled since the last flush goes into the journal file."""
        events = self.h.events[self.written :]
        if events:
            self.journal.append(events)
            self.written += len(events)
        self.journal.append_ticks(self.ticks)
        self.ticks = []

    def restart(self) -> None:
        """The engine checkpoints (into the journal too, so later replays start from it),
        restarts from the checkpoint, and the feed shows every price again."""
        self.flush()
        state = self.h.core.state
        self.journal.checkpoint(state.seq, self.h.clock(), state.trading_day, state.to_checkpoint())
        self.h = restarted(self.h)
        self.reprice()
        self.did["restart"] += 1

    def restart_from_journal(self) -> None:
        """The engine restarts from the journal alone (its newest checkpoint, then every event
        after it), the paper broker takes the book it finds there, as a restart does, and the
        feed shows every price again."""
        self.flush()
        before = self.h
        after = Harness(before.settings, before.instruments, before.clock, start=False)
        restore(after.core, self.journal)
        after.core.state.seq = max(after.core.seq, self.journal.last_seq())
        trades = [t for p in after.core.positions() for t in p.trades]
        after.broker.restore(after.core.orders.open.values(), trades)
        after.core.start()
        after.collect()
        self.h = after
        self.reprice()
        self.did["restart from the journal"] += 1

    def reprice(self) -> None:
        """A restarted engine's feed shows every instrument's price again."""
        self.written = 0
        for instrument, (bid, ask) in self.ledger.quotes.items():
            self.show(instrument, bid, ask)

    def replayed(self) -> EngineCore:
        """A fresh core built from the journal alone, as a restart builds it, priced at the
        journal's last quotes."""
        self.flush()
        core = EngineCore(self.h.settings, self.instruments.values(), self.h.clock)
        _, from_checkpoint = restore(core, self.journal)
        for quote in self.journal.last_quotes():
            core.quotes.update(quote)
        core.portfolio.revalue()
        self.did["replay from a checkpoint" if from_checkpoint else "replay"] += 1
        return core

    # checking -------------------------------------------------------------------------------

    def check(self, core: EngineCore, where: str, history: bool = False) -> None:
        found = differences(core, self.ledger, self.instruments)
        if history:
            found += history_differences(core, self.ledger)
        if found:
            lines = "\n  ".join(found[:15])
            recent = "\n  ".join(self.history)
            raise AssertionError(
                f"seed {self.seed} ({where}, step {self.steps}): the engine disagrees with the "
                f"ledger:\n  {lines}\nlast steps:\n  {recent}\n"
                f"run it again: {self.rerun}"
            )
