"""Several accounts' equity as one series in a report currency: the all-accounts curve.

Each account's samples are converted at the rate recorded with them (what one unit of its
currency was worth in the report currency at that moment), so the curve carries the currency
moves a report-currency holder lives with, and never today's rate applied to last month.

The series runs on the union of the accounts' sample times. Between two of its own samples an
account holds its last value (samples of different accounts need not line up). An account is
in the total from its first convertible sample to its last: its arrival is a deposit of its
whole value and its departure a withdrawal of it, so neither reads as a return. A sample with
no rate is skipped; the deposits and withdrawals booked at it move to the account's next
sample that has one, so cash never reads as a return either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tmt_tui.analytics.returns import FloatArray, IntArray, as_float_array


@dataclass(frozen=True, slots=True)
class AccountSeries:
    """One account's samples: times, equity and flows in its currency, and the report
    currency one unit of it was worth at each sample (NaN where unknown)."""

    ts: FloatArray
    equity: FloatArray
    flows: FloatArray
    rates: FloatArray


@dataclass(frozen=True, slots=True)
class Combined:
    """The total in the report currency at each time, the flows booked at each (arrivals and
    departures of accounts included), and how many accounts the total holds there."""

    ts: FloatArray
    equity: FloatArray
    flows: FloatArray
    accounts: IntArray


def combine(accounts: Sequence[AccountSeries]) -> Combined:
    """The accounts' total in the report currency over the union of their sample times."""
    parts = [part for part in map(_convertible, accounts) if len(part[0])]
    if not parts:
        empty = np.empty(0, dtype=np.float64)
        return Combined(empty, empty, empty, np.empty(0, dtype=np.int64))
    times = np.unique(np.concatenate([ts for ts, _, _ in parts]))
    total, flows = np.zeros(len(times)), np.zeros(len(times))
    count = np.zeros(len(times), dtype=np.int64)
    for ts, value, flow in parts:
        at = np.searchsorted(ts, times, side="right") - 1  # its latest sample at or before
        inside = (at >= 0) & (times <= ts[-1])
        last = np.maximum(at, 0)
        held = np.where(inside, value[last], 0.0)
        booked = np.where(at >= 0, np.cumsum(flow)[last], 0.0)
        own = np.where(inside, np.diff(booked, prepend=0.0), 0.0)
        arrive = int(np.searchsorted(times, ts[0]))
        own[arrive] = held[arrive]  # it comes in with all it holds
        leave = int(np.searchsorted(times, ts[-1])) + 1
        if leave < len(times):
            own[leave] -= value[-1]  # and goes out with all it held
        total += held
        flows += own
        count += inside
    return Combined(times, total, flows, count)


def _convertible(account: AccountSeries) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The account's samples that have a rate and a finite value, in the report currency and
    in time order, with the flows of the skipped samples carried to the next kept one."""
    ts = as_float_array(account.ts, "ts")
    equity = as_float_array(account.equity, "equity")
    flows = as_float_array(account.flows, "flows")
    rates = as_float_array(account.rates, "rates")
    order = np.argsort(ts, kind="stable")
    ts, equity, flows, rates = ts[order], equity[order], flows[order], rates[order]
    keep = np.isfinite(ts) & np.isfinite(equity) & np.isfinite(rates) & (rates > 0)
    booked = np.cumsum(np.where(np.isfinite(flows), flows, 0.0))[keep]
    carried = np.diff(booked, prepend=0.0)  # each kept sample's flows and the skipped ones'
    return ts[keep], equity[keep] * rates[keep], carried * rates[keep]
