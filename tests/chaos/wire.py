"""Chaos on the wire between tmt and OANDA: a seeded schedule of faults at the local v20 server
while tmt trades and orders also arrive from outside tmt, then the checks that tmt came through
it: nothing crashed, nothing doubled or got lost, every gap was read back, and what the engine
said about its streams was true.

The schedule is one ``random.Random(seed)``; every failure message carries the seed, so a run
that fails replays with ``TMT_CHAOS_SEED=<seed>`` (the timing differs, the choices do not).
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.support.engines import journal_events, journal_rows
from tests.support.oanda import Engine, ledger_units, oanda_settings
from tmt_tui.cli.embedded import engine_runner
from tmt_tui.config import Settings
from tmt_tui.domain.commands import CancelOrder, ClosePosition, ModifyOrder, SubmitOrder
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.orders import OrderStatus, OrderType
from tmt_tui.monitoring.service import Monitoring
from tmt_tui.venues.oanda_sim import views
from tmt_tui.venues.oanda_sim.server import Faults, V20Server, V20ServerThread

INSTRUMENTS = ("EUR_USD", "USD_JPY", "GBP_USD")
TICK = {"EUR_USD": Decimal("0.00001"), "GBP_USD": Decimal("0.00001"), "USD_JPY": Decimal("0.001")}
#: Generous: only a broken engine waits this long for the honest state or the agreement.
SETTLE_S = 60.0
STALE = "quote_stale:"
OUTAGE_HOLD_S = 1.0  # how long an outage lasts once the engine has said so


def chaos_settings(server: V20ServerThread, journal: Path) -> Settings:
    """The OANDA venue at ``server`` with a one-second request timeout (a swallowed answer
    costs a second, not ten) and quotes called stale after a second without one."""
    settings = oanda_settings(server, journal, request_timeout_s="1.0")
    monitoring = replace(
        settings.monitoring, metrics_enabled=False, stale_quote_s=1.0, alert_clear_s=0.2
    )
    return replace(settings, monitoring=monitoring)


class WatchedEngine(Engine):
    """An engine on the OANDA venue with its alert rules wired as the CLI wires them, so a
    price stream that stops shows as ``quote_stale:<instrument>`` alerts in the engine state."""

    def __init__(self, settings: Settings) -> None:
        self.monitoring = Monitoring(settings.monitoring, instruments=INSTRUMENTS)
        self.runner = engine_runner(settings, observer=self.monitoring.observer)
        self.monitoring.add_alert_sink(self.runner.on_alert)
        self.runner.start()
        self.account = self.runner.settings.accounts[0].id

    @property
    def venue(self) -> Any:
        return self.runner.venue

    def stale(self) -> list[str]:
        return sorted(k for k in self.core.alerts if k.startswith(STALE))

    def streams_down(self) -> bool:
        """What the engine says of both streams down: the transaction stream's alert and the
        price stream's (the quotes' staleness comes later, from the alert rules)."""
        return {"venue.stream", "venue.prices"} <= set(self.core.alerts)

    def live(self) -> bool:
        """What the engine says when all is well: reconciled, both streams up, quotes fresh."""
        alerts = self.core.alerts
        return (
            self.reconciled()
            and "venue.stream" not in alerts
            and "venue.prices" not in alerts
            and not self.stale()
        )


@dataclass
class Acked:
    """An order command the engine acknowledged (durable, sent to OANDA)."""

    order_id: str
    what: str
    trade_close: bool = False


@dataclass
class Figures:
    rounds: int = 0
    orders: int = 0  # commands the engine acknowledged
    refused: Counter[str] = field(default_factory=Counter)  # by reason code
    outside: int = 0
    stream_cuts: int = 0  # live streams the server cut on purpose
    socket_cuts: int = 0  # REST answers cut half-way or never given
    faults: Counter[str] = field(default_factory=Counter)
    outages: int = 0


class WireChaos:
    """The seeded schedule: each round maybe a fault, then one trading action."""

    def __init__(self, seed: int, server: V20ServerThread, engine: WatchedEngine) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.server = server
        self.engine = engine
        self.acked: list[Acked] = []
        self.figures = Figures()

    def say(self, what: str) -> str:
        return f"[chaos seed {self.seed}] {what}"

    def faults(self, change: Callable[[Faults], object]) -> None:
        self.server.call(lambda s: change(s.faults))

    # the schedule ---------------------------------------------------------------------------

    def run(self, seconds: float, outages: int) -> None:
        """Rounds for ``seconds``, with ``outages`` long stream outages spread over them."""
        start = time.monotonic()
        end = start + seconds
        marks = [start + seconds * (i + 1) / (outages + 1) for i in range(outages)]
        while time.monotonic() < end:
            if marks and time.monotonic() >= marks[0]:
                marks.pop(0)
                self.outage()
            self.round()

    def round(self) -> None:
        rng = self.rng
        self.figures.rounds += 1
        if rng.random() < 0.5:
            self.fault()
        self.trade()
        time.sleep(rng.uniform(0.02, 0.25))

    def fault(self) -> None:
        rng, figures = self.rng, self.figures
        kind = rng.choice(
            ("cut", "cut", "drop_every", "delay", "burst", "keepalive", "swallow", "cut_reply",
             "skip", "skip")
        )  # fmt: skip
        figures.faults[kind] += 1
        if kind == "cut":
            figures.stream_cuts += self.server.call(lambda s: s.cut_streams())
        elif kind == "drop_every":
            every = rng.choice((None, rng.uniform(0.5, 3.0)))
            self.faults(lambda f: setattr(f, "drop_streams_after", every))
        elif kind == "delay":
            delay = rng.choice((0.0, rng.uniform(0.02, 0.3)))
            self.faults(lambda f: setattr(f, "delay", delay))
        elif kind == "burst":
            long = rng.random() < 0.2  # now and then REST is down for a while (outcomes unknown)
            count = rng.randint(20, 60) if long else rng.randint(1, 4)
            status = rng.choice((500, 502, 503) if long else (429, 429, 500, 502, 503))
            self.faults(
                lambda f: (setattr(f, "fail_next", count), setattr(f, "fail_status", status))
            )
        elif kind == "keepalive":
            self.faults(lambda f: setattr(f, "close_keepalive", not f.close_keepalive))
        elif kind == "swallow":
            self.faults(lambda f: setattr(f, "swallow_orders", f.swallow_orders + 1))
        elif kind == "cut_reply":
            count = rng.randint(1, 2)
            self.faults(lambda f: setattr(f, "cut_replies", f.cut_replies + count))
        else:
            count = rng.randint(1, 3)
            self.faults(lambda f: setattr(f, "skip_txns", f.skip_txns + count))

    def outage(self) -> None:
        """Both streams down, refused on reconnect, until the engine says so (quotes stale, the
        transaction stream down); then back, until it says live again. Trading goes on."""
        engine = self.engine
        self.figures.outages += 1
        self.server.call(lambda s: setattr(s, "faults", Faults(streams_down=True)))
        self.figures.stream_cuts += self.server.call(lambda s: s.cut_streams())

        def says_down() -> bool:
            return engine.streams_down() and len(engine.stale()) == len(INSTRUMENTS)

        self.trade_until(says_down, "the engine to say its streams are down")
        until = time.monotonic() + OUTAGE_HOLD_S  # and it keeps saying so while they are
        while time.monotonic() < until:
            assert says_down(), self.say(f"streams still down, but alerts {engine.core.alerts}")
            self.trade(outside_only=True)
            time.sleep(0.1)
        self.server.call(lambda s: setattr(s.faults, "streams_down", False))
        self.trade_until(engine.live, "the engine to say live again after the outage")

    def trade_until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + SETTLE_S
        while not condition():
            assert time.monotonic() < deadline, self.say(f"not within {SETTLE_S:g}s: {what}")
            self.trade(outside_only=self.rng.random() < 0.5)
            time.sleep(0.1)

    # trading --------------------------------------------------------------------------------

    def trade(self, *, outside_only: bool = False) -> None:
        rng, engine = self.rng, self.engine
        instrument = rng.choice(INSTRUMENTS)
        units = rng.choice((-1, 1)) * rng.randrange(100, 2000, 100)
        roll = rng.random()
        if outside_only or roll < 0.25:
            self.server.call(lambda s: s.outside_market_order(instrument, units))
            self.figures.outside += 1
        elif roll < 0.3:
            self.server.call(lambda s: _outside_limit(s, instrument, units))
            self.figures.outside += 1
        elif roll < 0.6:
            self.ask(SubmitOrder(engine.account, instrument, units), f"market {units:+}")
        elif roll < 0.75:
            price = self.far_price(instrument, units)
            if price is not None:
                command = SubmitOrder(engine.account, instrument, units, OrderType.LIMIT, price)
                self.ask(command, f"limit {units:+} @ {price}")
        elif roll < 0.8:
            working = sorted(o.id for o in engine.open_orders(OrderType.LIMIT))
            if working:
                self.ask(CancelOrder(rng.choice(working)), "cancel", order=False)
        elif roll < 0.85:
            self.replace_one()
        else:
            trades = sorted(
                t.id for p in engine.core.positions() if p.instrument == instrument
                for t in p.trades
            )  # fmt: skip
            one = rng.choice(trades) if trades and rng.random() < 0.5 else None
            if engine.position(instrument):
                command = ClosePosition(engine.account, instrument, trade_id=one)
                self.ask(command, f"close {instrument} {one or 'all'}", trade_close=one is not None)

    def replace_one(self) -> None:
        """A working limit of ours to a new size and another price, still far away."""
        engine, rng = self.engine, self.rng
        ours = sorted(
            (o.id, o.instrument, o.units) for o in engine.open_orders(OrderType.LIMIT)
            if o.origin != "venue"
        )  # fmt: skip
        if not ours:
            return
        order_id, instrument, units = rng.choice(ours)
        price = self.far_price(instrument, units, Decimal(rng.choice(("0.96", "0.97", "0.98"))))
        size = rng.randrange(100, 2000, 100)
        if price is not None:
            self.ask(ModifyOrder(order_id, price, size), f"replace {order_id}", order=False)

    def far_price(
        self, instrument: str, units: int, away: Decimal = Decimal("0.97")
    ) -> Decimal | None:
        """A limit price (3%) away on the passive side: it rests until cancelled."""
        quote = self.engine.core.quotes.get(instrument)
        if quote is None:
            return None
        factor = away if units > 0 else 2 - away
        return (quote.mid * factor).quantize(TICK[instrument])

    def ask(
        self, command: Any, what: str, *, order: bool = True, trade_close: bool = False
    ) -> None:
        reply = self.engine.ask(command)
        if not reply.ok:
            self.figures.refused[reply.code] += 1
            return
        self.figures.orders += 1
        if order and reply.order_id:
            self.acked.append(Acked(reply.order_id, what, trade_close))

    # the end --------------------------------------------------------------------------------

    def calm(self) -> None:
        """Every fault off. Nothing more: tmt must settle on its own, with no reconnect to
        reconcile it (an unknown outcome must not wait for one that may never come)."""
        self.server.call(lambda s: setattr(s, "faults", Faults()))


def _outside_limit(server: V20Server, instrument: str, units: int) -> Any:
    quote = server.ledger.quotes[instrument]
    factor = Decimal("0.97") if units > 0 else Decimal("1.03")
    price = (quote.mid * factor).quantize(TICK[instrument])
    return server.outside_limit_order(instrument, units, price)


# what must hold at the end ---------------------------------------------------------------------


def ledger_balance(server: V20ServerThread) -> Decimal:
    return Decimal(server.call(lambda s: views.summary(s.ledger)["balance"]))


def pending_at_venue(server: V20ServerThread, tag: str) -> set[str]:
    """The server's pending orders under the ids tmt gives them (ours, or ``X<id>``)."""

    def ids(s: V20Server) -> set[str]:
        out = set()
        for order in s.ledger.orders.values():
            if order["state"] != "PENDING":
                continue
            cid = (order.get("clientExtensions") or {}).get("id", "")
            out.add(cid[len(tag) :] if cid.startswith(tag) else f"X{order['id']}")
        return out

    return server.call(ids)


def open_in_tmt(engine: Engine) -> set[str]:
    return {o.id for o in engine.open_orders()}


def agreement(engine: WatchedEngine, server: V20ServerThread) -> list[str]:
    """How tmt and OANDA differ now (empty when they agree and tmt says it is live)."""
    problems = []
    if not engine.live():
        problems.append(f"not live: alerts {sorted(engine.core.alerts)}")
    submitted = [o.id for o in engine.open_orders() if o.status is OrderStatus.SUBMITTED]
    if submitted:
        problems.append(f"orders still waiting for an answer: {submitted}")
    for name in INSTRUMENTS:
        mine, theirs = engine.position(name), ledger_units(server, name)
        if mine != theirs:
            problems.append(f"{name}: tmt {mine:+} units, OANDA {theirs:+}")
    balance = engine.core.portfolio.accounts[engine.account].balance
    if balance != ledger_balance(server):
        problems.append(f"balance: tmt {balance}, OANDA {ledger_balance(server)}")
    mine_open, theirs_open = open_in_tmt(engine), pending_at_venue(server, engine.venue.mapper.tag)
    if mine_open != theirs_open:
        problems.append(
            f"open orders: only in tmt {sorted(mine_open - theirs_open)}, "
            f"only at OANDA {sorted(theirs_open - mine_open)}"
        )
    return problems


def client_id_counts(server: V20ServerThread) -> tuple[Counter[str], int]:
    """How many orders the server created under each client id (replacements aside), and how
    many creates it refused because the client id was taken (a resend)."""

    def count(s: V20Server) -> tuple[Counter[str], int]:
        created: Counter[str] = Counter()
        resent = 0
        for txn in s.ledger.transactions:
            if txn.get("rejectReason") == "CLIENT_ORDER_ID_ALREADY_EXISTS":
                resent += 1
            cid = (txn.get("clientExtensions") or {}).get("id")
            if txn["type"].endswith("_ORDER") and cid and not txn.get("replacesOrderID"):
                created[cid] += 1
        return created, resent

    return server.call(count)


def server_orders_by_client_id(server: V20ServerThread) -> dict[str, str]:
    """Client id -> the state of the server's order under it."""
    return server.call(
        lambda s: {cid: s.ledger.orders[oid]["state"] for cid, oid in s.ledger.by_client.items()}
    )


_STATE = {"FILLED": OrderStatus.FILLED, "PENDING": OrderStatus.WORKING,
          "CANCELLED": OrderStatus.CANCELLED, "TRIGGERED": OrderStatus.FILLED}  # fmt: skip


def order_fates(chaos: WireChaos, journal: Path, tag: str) -> list[str]:
    """Every acknowledged order: at OANDA once with the state tmt gives it, or rejected in tmt
    and absent at OANDA; never twice, never still waiting."""
    created, resent = client_id_counts(chaos.server)
    problems = [f"client id used twice: {cid}" for cid, n in created.items() if n > 1]
    if resent:
        problems.append(f"{resent} order(s) resent under a client id OANDA already had")
    statuses = dict(journal_rows(journal, "select id, status from orders"))
    at_venue = server_orders_by_client_id(chaos.server)
    for acked in chaos.acked:
        status = statuses.get(acked.order_id)
        if status in (None, OrderStatus.SUBMITTED, OrderStatus.INITIALIZED):
            problems.append(f"{acked.what} ({acked.order_id}): left {status} in tmt")
            continue
        if acked.trade_close:
            continue  # OANDA's trade close takes no client id: the positions check covers it
        theirs = at_venue.get(tag + acked.order_id)
        if theirs is None and status != OrderStatus.REJECTED:
            problems.append(f"{acked.what} ({acked.order_id}): {status} in tmt, unknown at OANDA")
        if theirs is not None and _STATE.get(theirs) != status:
            problems.append(f"{acked.what} ({acked.order_id}): {status} in tmt, {theirs} at OANDA")
    return problems


def history_gaps(engine: WatchedEngine, server: V20ServerThread, start: int) -> list[int]:
    """Transaction ids after ``start`` the engine never read (the stream and backfills)."""
    last = int(server.call(lambda s: s.ledger.last_id))
    mapper = engine.venue.mapper
    return [t for t in range(start + 1, last + 1) if not mapper.seen(str(t))]


def fills_booked(journal: Path, server: V20ServerThread, start: int) -> list[str]:
    """Each OANDA fill after ``start`` journaled exactly once, and nothing put right behind
    tmt's back by a reconciliation (which would mean a transaction was missed)."""
    fills = journal_events(journal, EventKind.ORDER_FILLED)
    theirs = server.call(
        lambda s: [
            t["id"] for t in s.ledger.transactions
            if t["type"] == "ORDER_FILL" and int(t["id"]) > start
        ]
    )  # fmt: skip
    problems = []
    doubled = [k for k, n in Counter(f["fill_id"] for f in fills).items() if n > 1]
    if doubled:
        problems.append(f"fills journaled twice: {doubled}")
    if len(fills) != len(theirs):
        problems.append(f"{len(fills)} fills journaled, OANDA made {len(theirs)}")
    synced = journal_events(journal, EventKind.POSITION_SYNCED)
    if synced:
        problems.append(
            "positions put right by reconciliation: "
            + "; ".join(f"{e['instrument']} was {e['was']:+}" for e in synced)
        )
    return problems


def unexpected_logs(records: list[logging.LogRecord]) -> list[str]:
    """Tracebacks anywhere in tmt, or an engine error: a crash, whatever else went on."""
    return [
        f"{r.name}: {r.getMessage()}"
        for r in records
        if r.name.startswith("tmt_tui")
        and (
            r.exc_info is not None
            or r.levelno >= logging.CRITICAL
            or r.name.startswith("tmt_tui.engine")
            and r.levelno >= logging.ERROR
        )
    ]
