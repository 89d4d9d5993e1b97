"""Value at risk and conditional value at risk (expected shortfall) of periodic returns.

Both are returns, negative for a loss, as empyrical and quantstats give them: a 95% VaR of
-0.02 says one period in twenty loses 2% or more. Historical VaR is the linearly interpolated
percentile (numpy's default); historical CVaR averages the ``floor((n - 1) * alpha) + 1``
lowest returns, so it always holds at least one observation (empyrical's estimator).
Parametric figures fit a normal distribution (mean, standard deviation with ddof=1): VaR is
``mu + sigma * z``, CVaR the normal's closed-form expected shortfall
``mu - sigma * pdf(z) / alpha``. None when there are no returns (one, for parametric).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tmt_tui.analytics.returns import FloatArray, is_flat

# Acklam's rational approximation to the normal quantile; one Halley step below brings it
# from 1e-9 to the last bits, so no scipy is needed.
_A = (-39.69683028665376, 220.9460984245205, -275.9285104469687,
      138.3577518672690, -30.66479806614716, 2.506628274631000)  # fmt: skip
_B = (-54.47609879822406, 161.5858368580409, -155.6989798598866,
      66.80131188771972, -13.28068155288572)  # fmt: skip
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838,
      -2.549732539343734, 4.374664141464968, 2.938163982698783)  # fmt: skip
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996, 3.754408661907416)
_LOW = 0.02425


def normal_quantile(p: float) -> float:
    """The standard normal's ``p`` quantile, for 0 < p < 1."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"a quantile needs 0 < p < 1, got {p}")
    if p > 0.5:  # by symmetry; 1 - p is exact here, and the refinement is accurate below 0.5
        return -normal_quantile(1.0 - p)
    if p < _LOW:
        q = math.sqrt(-2.0 * math.log(p))
        x = (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
            (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0
        )
    else:
        q = p - 0.5
        r = q * q
        x = (
            (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5])
            * q
            / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0)
        )
    error = 0.5 * math.erfc(-x / math.sqrt(2.0)) - p
    u = error * math.sqrt(2.0 * math.pi) * math.exp(x * x / 2.0)
    return x - u / (1.0 + x * u / 2.0)


def _alpha(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return 1.0 - confidence


def historical_var(returns: FloatArray, confidence: float = 0.95) -> float | None:
    alpha = _alpha(confidence)
    if returns.shape[0] == 0:
        return None
    return float(np.percentile(returns, 100.0 * alpha))


def historical_cvar(returns: FloatArray, confidence: float = 0.95) -> float | None:
    alpha = _alpha(confidence)
    n = returns.shape[0]
    if n == 0:
        return None
    cut = int((n - 1) * alpha)
    return float(np.mean(np.partition(returns, cut)[: cut + 1]))


def _fit(returns: FloatArray) -> tuple[float, float] | None:
    if returns.shape[0] < 2:
        return None
    std = 0.0 if is_flat(returns) else float(np.std(returns, ddof=1))
    return float(np.mean(returns)), std


def parametric_var(returns: FloatArray, confidence: float = 0.95) -> float | None:
    alpha = _alpha(confidence)
    fit = _fit(returns)
    if fit is None:
        return None
    mean, std = fit
    return mean + std * normal_quantile(alpha)


def parametric_cvar(returns: FloatArray, confidence: float = 0.95) -> float | None:
    alpha = _alpha(confidence)
    fit = _fit(returns)
    if fit is None:
        return None
    mean, std = fit
    z = normal_quantile(alpha)
    density = math.exp(-z * z / 2.0) / math.sqrt(2.0 * math.pi)
    return mean - std * density / alpha


@dataclass(frozen=True, slots=True)
class TailRisk:
    """VaR and CVaR at 95% and 99%, historical and parametric (normal), as returns."""

    var_95: float | None
    cvar_95: float | None
    var_99: float | None
    cvar_99: float | None
    parametric_var_95: float | None
    parametric_cvar_95: float | None
    parametric_var_99: float | None
    parametric_cvar_99: float | None


def tail_risk(returns: FloatArray) -> TailRisk:
    return TailRisk(
        historical_var(returns, 0.95),
        historical_cvar(returns, 0.95),
        historical_var(returns, 0.99),
        historical_cvar(returns, 0.99),
        parametric_var(returns, 0.95),
        parametric_cvar(returns, 0.95),
        parametric_var(returns, 0.99),
        parametric_cvar(returns, 0.99),
    )
