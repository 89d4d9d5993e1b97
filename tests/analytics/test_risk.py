"""VaR and CVaR against empyrical and quantstats, each library's method named.

empyrical: historical only; VaR is numpy's interpolated percentile, CVaR the mean of the
floor((n - 1) * alpha) + 1 lowest returns: ours exactly. quantstats: VaR is parametric
(normal, ddof=1); parametric CVaR the closed-form normal shortfall: ours exactly. Its
historical CVaR averages the returns at or below the interpolated quantile, which is the same
set as ours only when (n - 1) * alpha is a whole number and no returns tie, so it is compared
on such lengths.
"""

from __future__ import annotations

import empyrical
import numpy as np
import pandas as pd
import pytest
import quantstats as qs
from scipy.stats import norm

from tmt_tui.analytics import risk
from tmt_tui.analytics.risk import normal_quantile, tail_risk

from .conftest import daily_series

LEVELS = [0.95, 0.99]
REL = 1e-9


def series(returns: np.ndarray) -> pd.Series:
    return pd.Series(returns, index=pd.bdate_range("2024-01-01", periods=returns.shape[0]))


@pytest.mark.parametrize("confidence", LEVELS)
def test_historical_var_and_cvar_match_empyrical(returns: np.ndarray, confidence: float) -> None:
    alpha = 1 - confidence
    assert risk.historical_var(returns, confidence) == pytest.approx(
        empyrical.value_at_risk(returns, cutoff=alpha), rel=REL
    )
    assert risk.historical_cvar(returns, confidence) == pytest.approx(
        empyrical.conditional_value_at_risk(returns, cutoff=alpha), rel=REL
    )


@pytest.mark.parametrize("confidence", LEVELS)
def test_parametric_var_and_cvar_match_quantstats(returns: np.ndarray, confidence: float) -> None:
    s = series(returns)
    assert risk.parametric_var(returns, confidence) == pytest.approx(
        qs.stats.value_at_risk(s, confidence=confidence), rel=REL
    )
    assert risk.parametric_cvar(returns, confidence) == pytest.approx(
        qs.stats.conditional_value_at_risk(s, confidence=confidence, method="parametric"), rel=REL
    )


@pytest.mark.parametrize(("confidence", "n"), [(0.95, 101), (0.99, 201), (0.99, 501)])
def test_historical_cvar_matches_quantstats_where_the_quantile_is_an_observation(
    confidence: float, n: int
) -> None:
    returns = daily_series(11, n)
    ours = risk.historical_cvar(returns, confidence)
    theirs = qs.stats.conditional_value_at_risk(
        series(returns), confidence=confidence, method="historical"
    )
    assert ours == pytest.approx(theirs, rel=REL)


@pytest.mark.parametrize("p", [1e-10, 0.001, 0.01, 0.02425, 0.05, 0.3, 0.5, 0.9, 0.995, 1 - 1e-9])
def test_the_normal_quantile_matches_scipy(p: float) -> None:
    assert normal_quantile(p) == pytest.approx(norm.ppf(p), rel=1e-13, abs=1e-15)


def test_tail_risk_is_none_without_returns_and_parametric_needs_two() -> None:
    assert set(vars_of(tail_risk(np.array([])))) == {None}
    one = tail_risk(np.array([-0.01]))
    assert one.var_95 == one.cvar_99 == -0.01
    assert one.parametric_var_95 is None and one.parametric_cvar_99 is None


def test_a_flat_series_has_its_return_as_every_tail_figure() -> None:
    assert vars_of(tail_risk(np.full(20, 0.002))) == [pytest.approx(0.002)] * 8


def test_cvar_is_at_least_as_severe_as_var(returns: np.ndarray) -> None:
    t = tail_risk(returns)
    assert t.cvar_95 <= t.var_95 and t.cvar_99 <= t.var_99  # type: ignore[operator]
    assert t.parametric_cvar_95 <= t.parametric_var_95  # type: ignore[operator]


def vars_of(t: object) -> list[object]:
    return [getattr(t, name) for name in t.__slots__]  # type: ignore[attr-defined]
