"""What the OANDA suites share (the adapter's, the simulator's, the workstation's, the soak's):
one token for the local v20 server, domain orders to send it, the settings of an engine on
that server, a blocking wrapper around such an engine, and the server's own book."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from tmt_tui.cli.embedded import engine_runner
from tmt_tui.config import Settings, parse_settings
from tmt_tui.domain.client import Reply
from tmt_tui.domain.commands import Command
from tmt_tui.domain.orders import Order, OrderType, TimeInForce
from tmt_tui.venues.oanda_sim import views
from tmt_tui.venues.oanda_sim.server import V20ServerThread

from .waiting import wait_for

TOKEN = "s3cr3t-token-0123456789abcdef"

_seq = iter(range(1, 1_000_000))


def make_order(
    units: int = 1000,
    kind: OrderType = OrderType.MARKET,
    price: str | None = None,
    *,
    instrument: str = "EUR_USD",
    tp: str | None = None,
    sl: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
) -> Order:
    """A domain order with a fresh id (the id becomes OANDA's client order id)."""
    return Order(
        id=f"tmt-{next(_seq)}",
        account="101-001-0000001-001",
        instrument=instrument,
        units=units,
        type=kind,
        price=None if price is None else Decimal(price),
        take_profit=None if tp is None else Decimal(tp),
        stop_loss=None if sl is None else Decimal(sl),
        time_in_force=tif,
    )


# an engine on the local v20 server ---------------------------------------------------------------


def oanda_table(server: V20ServerThread, **oanda: str) -> str:
    """The ``[oanda]`` table for ``server`` as TOML; ``oanda`` overrides keys (as TOML values)."""
    table = {
        "environment": '"local"',
        "rest_url": f'"{server.url}"',
        "account_id": f'"{server.account_id}"',
        "instruments": '["EUR_USD", "USD_JPY", "GBP_USD"]',
        "stream_silence_s": "2.0",
        "reconnect_backoff_s": "0.05",
        "max_backoff_s": "0.2",
        "max_connects_per_s": "20.0",
        **oanda,
    }
    return "[oanda]\n" + "\n".join(f"{k} = {v}" for k, v in table.items()) + "\n"


def oanda_settings(server: V20ServerThread, journal: Path, **oanda: str) -> Settings:
    """Settings for the OANDA venue at ``server``; ``oanda`` overrides keys (as TOML values).

    No history backfill at start: it would send candle requests in the background, and a test
    that arms a fault for "the next request" means its own order, not a candle request.
    The backfill's own tests turn it on."""
    text = f"""
[engine]
journal_path = "{journal}"
market_data = "oanda"
broker = "oanda"
backfill_bars = 0
{oanda_table(server, **oanda)}
[[accounts]]
id = ""
"""
    return parse_settings(text, "oanda-test.toml")


class Engine:
    """A running engine on the OANDA venue, with blocking helpers for tests."""

    def __init__(self, settings: Settings) -> None:
        self.runner = engine_runner(settings)
        self.runner.start()
        self.account = self.runner.settings.accounts[0].id

    @property
    def core(self) -> Any:
        return self.runner.core

    def ask(self, command: Command) -> Reply:
        replies: list[Reply] = []
        self.runner.submit(command, replies.append)
        return wait_for(lambda: replies, f"a reply to {command}")[0]

    def reconciled(self) -> bool:
        return not self.core.flags.reconciling and "venue.reconciling" not in self.core.alerts

    def trading(self, *instruments: str) -> bool:
        """Reconciled and priced: a market order is risk-checked against a quote, so until
        the price stream's first line it is refused NO_QUOTE. Reconciling reads the
        transaction side only, and nothing orders it before the prices."""
        return self.reconciled() and all(self.core.quotes.get(i) for i in instruments)

    def position(self, instrument: str) -> int:
        return int(self.core.portfolio.units(self.account, instrument))

    def open_orders(self, kind: OrderType | None = None) -> list[Order]:
        return [o for o in self.core.orders.open.values() if kind is None or o.type is kind]

    def stop(self) -> None:
        self.runner.stop()


def ledger_units(server: V20ServerThread, instrument: str) -> int:
    """The server's net open units in ``instrument``: OANDA's side of a reconciliation."""
    return server.call(
        lambda s: sum(
            int(Decimal(t["currentUnits"]))
            for t in views.open_trades(s.ledger)
            if t["instrument"] == instrument
        )
    )


def stall_account_reads(server: V20ServerThread) -> None:
    """Hold every read of the whole account (what reconciliation asks for) until
    ``answer_account_reads``: the engine stays reconciling for as long as a test needs, however
    slow the machine (a fixed delay races a busy one)."""
    server.call(lambda s: s.hold(f"/v3/accounts/{s.account_id}"))


def answer_account_reads(server: V20ServerThread) -> None:
    server.call(lambda s: s.release())


@contextlib.contextmanager
def engine_on(
    server: V20ServerThread, journal: Path, ready: Callable[[Engine], object]
) -> Iterator[Engine]:
    """An engine on ``server`` (the token must be in the environment), yielded once ``ready``
    says so, stopped on the way out."""
    engine = Engine(oanda_settings(server, journal))
    try:
        wait_for(lambda: ready(engine), "the engine ready")
        yield engine
    finally:
        engine.stop()
