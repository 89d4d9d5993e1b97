"""Several accounts as one series in the report currency: each sample at its own rate, accounts
coming and going as cash, never as returns."""

from __future__ import annotations

import numpy as np
import pytest

from tmt_tui.analytics import portfolio_metrics
from tmt_tui.analytics.combined import AccountSeries, combine

DAY = 86_400.0
NAN = float("nan")


def account(
    ts: list[float], equity: list[float], rates: list[float], flows: list[float] | None = None
) -> AccountSeries:
    def arr(values: list[float]) -> np.ndarray:
        return np.asarray(values, dtype=np.float64)

    return AccountSeries(arr(ts), arr(equity), arr(flows or [0.0] * len(ts)), arr(rates))


def test_each_sample_is_converted_at_the_rate_recorded_with_it() -> None:
    usd = account([0, DAY, 2 * DAY], [100_000, 101_000, 102_000], [1, 1, 1])
    eur = account([0, DAY, 2 * DAY], [50_000, 50_000, 50_000], [1.10, 1.20, 1.05])
    total = combine([usd, eur])
    assert total.ts.tolist() == [0, DAY, 2 * DAY]
    assert total.equity.tolist() == pytest.approx([155_000, 161_000, 154_500])
    assert total.flows.tolist() == [100_000 + 55_000, 0, 0]  # the opening balances
    assert total.accounts.tolist() == [2, 2, 2]


def test_an_account_that_arrives_later_is_a_deposit_not_a_return() -> None:
    a = account([0, DAY, 2 * DAY], [100, 110, 110], [1, 1, 1])
    b = account([DAY, 2 * DAY], [50, 55], [1, 1])
    total = combine([a, b])
    assert total.equity.tolist() == [100, 160, 165]
    assert total.flows.tolist() == [100, 50, 0]
    metrics = portfolio_metrics(total.ts, total.equity, total.flows)
    assert metrics.total_return == pytest.approx(1.10 * (165 / 160) - 1, rel=1e-12)


def test_an_account_that_leaves_is_a_withdrawal_of_what_it_last_held() -> None:
    a = account([0, DAY, 2 * DAY], [100, 110, 121], [1, 1, 1])
    b = account([0, DAY], [50, 40], [1, 1])
    total = combine([a, b])
    assert total.equity.tolist() == [150, 150, 121]
    assert total.flows.tolist() == [150, 0, -40]
    assert total.accounts.tolist() == [2, 2, 1]
    metrics = portfolio_metrics(total.ts, total.equity, total.flows)
    assert metrics.total_return == pytest.approx((150 / 150) * (161 / 150) - 1, rel=1e-12)


def test_samples_that_do_not_line_up_hold_each_account_at_its_last_value() -> None:
    a = account([0, 2 * DAY], [100, 120], [1, 1])
    b = account([DAY, 3 * DAY], [10, 30], [1, 1])
    total = combine([a, b])
    assert total.ts.tolist() == [0, DAY, 2 * DAY, 3 * DAY]
    assert total.equity.tolist() == [100, 110, 130, 30]
    assert total.flows.tolist() == [100, 10, 0, -120]


def test_a_sample_without_a_rate_is_skipped_and_its_cash_moves_to_the_next() -> None:
    eur = account(
        [0, DAY, 2 * DAY, 3 * DAY],
        [1_000, 2_000, 2_000, 2_000],
        [2.0, NAN, 2.0, 2.0],
        flows=[0, 1_000, 0, 0],  # a deposit booked where there was no rate
    )
    total = combine([eur])
    assert total.ts.tolist() == [0, 2 * DAY, 3 * DAY]
    assert total.equity.tolist() == [2_000, 4_000, 4_000]
    assert total.flows.tolist() == [2_000, 2_000, 0]
    metrics = portfolio_metrics(total.ts, total.equity, total.flows)
    assert metrics.total_return == pytest.approx(0.0, abs=1e-15)


def test_an_account_that_never_had_a_rate_is_left_out() -> None:
    usd = account([0, DAY], [100, 101], [1, 1])
    jpy = account([0, DAY], [1e6, 1e6], [NAN, NAN])
    total = combine([usd, jpy])
    assert total.equity.tolist() == [100, 101]
    assert total.accounts.tolist() == [1, 1]


def test_duplicate_times_keep_the_last_value_and_every_flow() -> None:
    a = account([0, DAY, DAY, 2 * DAY], [100, 105, 115, 115], [1, 1, 1, 1], flows=[0, 5, 5, 0])
    b = account([0, 2 * DAY], [10, 10], [1, 1])
    total = combine([a, b])
    assert total.equity.tolist() == [110, 125, 125]
    assert total.flows.tolist() == [110, 10, 0]


def test_nothing_combines_to_an_empty_series() -> None:
    assert len(combine([]).ts) == 0
    assert len(combine([account([0], [100], [NAN])]).equity) == 0
