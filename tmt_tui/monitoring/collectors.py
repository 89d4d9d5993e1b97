"""The metrics built at scrape time from what the engine thread last wrote, never on its path."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

from prometheus_client.core import GaugeMetricFamily, Metric

from tmt_tui.domain.positions import AccountState, TradingState

log = logging.getLogger(__name__)

#: The state gauge's values: 0 trades freely, 1 only reduces, 2 halted.
TRADING_STATE_VALUE = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}

_MONEY = (
    ("tmt_equity", "Balance plus unrealized P&L, in the account currency.", "equity"),
    ("tmt_balance", "Cash balance, in the account currency.", "balance"),
    ("tmt_daily_pl", "P&L since the trading day began, in the account currency.", "daily_pl"),
    ("tmt_unrealized_pl", "Unrealized P&L of open positions, in the account currency.",
     "unrealized_pl"),
    ("tmt_margin_used", "Margin held by open positions, in the account currency.", "margin_used"),
    ("tmt_daily_loss_limit", "The account's daily loss limit, in the account currency.",
     "daily_loss_limit"),
)  # fmt: skip


def account_metrics(accounts: Iterable[AccountState]) -> Iterator[Metric]:
    accounts = list(accounts)
    for name, documentation, attribute in _MONEY:
        family = GaugeMetricFamily(name, documentation, labels=["account", "currency"])
        for account in accounts:
            value: Decimal = getattr(account, attribute)
            family.add_metric([account.id, account.currency], float(value))
        yield family
    state = GaugeMetricFamily(
        "tmt_trading_state",
        "0 active, 1 reducing (risk-reducing only), 2 halted.",
        labels=["account"],
    )
    working = GaugeMetricFamily(
        "tmt_working_orders", "Orders working at the venue.", labels=["account"]
    )
    for account in accounts:
        state.add_metric([account.id], TRADING_STATE_VALUE.get(account.trading_state, 2))
        working.add_metric([account.id], account.working_orders)
    yield state
    yield working


class StateCollector:
    """Yields what ``build()`` makes (EngineMetrics.state_metrics) at every scrape."""

    def __init__(self, build: Callable[[], Iterator[Metric]]) -> None:
        self._build = build

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._build()
        except Exception:  # a scrape must never take the engine down; report and move on
            log.exception("collecting engine state metrics failed")

    def describe(self) -> Iterator[Metric]:
        """The names, so the registry refuses a second collector that would clash."""
        yield Metric("tmt_quotes", "", "counter")
        yield Metric("tmt_quote_age_seconds", "", "histogram")
        yield Metric("tmt_api_auth_failures", "", "counter")
        gauges = (
            "tmt_quote_staleness_seconds", "tmt_journal_lag_seconds",
            "tmt_engine_heartbeat_timestamp_seconds", "tmt_connected_clients",
            "tmt_trading_state", "tmt_working_orders", *(name for name, _, _ in _MONEY),
        )  # fmt: skip
        for name in gauges:
            yield Metric(name, "", "gauge")
