"""Seeded daily return series the analytics are compared on, and the reference libraries."""

from __future__ import annotations

import numpy as np
import pytest

SEEDS = (1, 2, 3)


def daily_series(seed: int, n: int = 500) -> np.ndarray:
    """Fat-tailed daily returns with a drift and a crash, so drawdowns and tails are real."""
    rng = np.random.default_rng(seed)
    returns = rng.standard_t(4, n) * 0.006 + 0.0003
    returns[n // 3 : n // 3 + 10] -= 0.02
    return returns


@pytest.fixture(params=SEEDS, ids=lambda s: f"seed{s}")
def returns(request: pytest.FixtureRequest) -> np.ndarray:
    return daily_series(request.param)
