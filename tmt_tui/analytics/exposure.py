"""Exposure by currency and P&L attribution by instrument.

A position of ``units`` in ``BASE_QUOTE`` at ``price`` holds ``units`` of the base currency
and ``-units * price`` of the quote currency (long EUR_USD is long euros, short dollars). A
currency's long and short sides are kept apart, so offsetting positions still show. Values
in the report currency use ``rates[ccy]``, the report currency one unit of ``ccy`` is worth
(the report currency itself is 1); a currency with no rate has no report-currency values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tmt_tui.analytics.returns import as_float_array


@dataclass(frozen=True, slots=True)
class CurrencyExposure:
    """How much of one currency the positions hold, in its units and in the report currency."""

    currency: str
    long: float  # >= 0
    short: float  # <= 0
    net: float
    long_value: float | None  # in the report currency; None without a rate
    short_value: float | None
    net_value: float | None


def currency_exposure(
    positions: Iterable[tuple[str, float, float]],
    rates: Mapping[str, float],
    report_currency: str,
) -> tuple[CurrencyExposure, ...]:
    """Long, short and net per currency, largest net report-currency value first (currencies
    without a rate last, then by name)."""
    long: dict[str, float] = {}
    short: dict[str, float] = {}
    for instrument, units, price in positions:
        base, _, quote = instrument.partition("_")
        if not quote:
            raise ValueError(f"instrument {instrument!r} is not BASE_QUOTE")
        for currency, amount in ((base, float(units)), (quote, -float(units) * float(price))):
            side = long if amount > 0 else short
            side[currency] = side.get(currency, 0.0) + amount
    result = []
    for currency in sorted(long.keys() | short.keys()):
        held, owed = long.get(currency, 0.0), short.get(currency, 0.0)
        rate = 1.0 if currency == report_currency else rates.get(currency)
        result.append(
            CurrencyExposure(
                currency,
                held,
                owed,
                held + owed,
                None if rate is None else held * rate,
                None if rate is None else owed * rate,
                None if rate is None else (held + owed) * rate,
            )
        )
    result.sort(key=lambda e: (e.net_value is None, -abs(e.net_value or 0.0)))
    return tuple(result)


@dataclass(frozen=True, slots=True)
class InstrumentPnl:
    """One instrument's share of the P&L (account currency)."""

    instrument: str
    realized: float
    unrealized: float
    total: float


def pnl_attribution(
    instruments: Sequence[str],
    realized: npt.ArrayLike,
    unrealized: npt.ArrayLike | None = None,
) -> tuple[InstrumentPnl, ...]:
    """Realized plus unrealized P&L summed per instrument, best first (then by name).

    The arrays align with ``instruments``: one row per trade or position, any number per
    instrument. Non-finite amounts count as zero.
    """
    names = np.asarray(instruments, dtype=str)
    done = np.nan_to_num(as_float_array(realized, "realized"), nan=0.0, posinf=0.0, neginf=0.0)
    open_ = (
        np.zeros_like(done)
        if unrealized is None
        else np.nan_to_num(
            as_float_array(unrealized, "unrealized"), nan=0.0, posinf=0.0, neginf=0.0
        )
    )
    if not names.shape == done.shape == open_.shape:
        raise ValueError("instruments, realized and unrealized differ in length")
    if names.shape[0] == 0:
        return ()
    unique, which = np.unique(names, return_inverse=True)
    r = np.bincount(which, weights=done, minlength=unique.shape[0])
    u = np.bincount(which, weights=open_, minlength=unique.shape[0])
    rows = [
        InstrumentPnl(str(name), float(a), float(b), float(a + b))
        for name, a, b in zip(unique.tolist(), r.tolist(), u.tolist(), strict=True)
    ]
    rows.sort(key=lambda row: -row.total)
    return tuple(rows)
