"""A simulated market's past: a seeded tape of ticks that leads into the price a sim starts at,
and the bars it makes.

The sim venue, ``tmt oanda-sim`` and ``tmt polygon-sim`` all start "now" at a price, so what
came before is made up, but it must be the same every time it is asked (a chart backfilled
twice, a test's reference): the tape is a random walk generated backwards from the start
price, one tick every ``STEP_S`` seconds, in chunks whose random numbers are seeded by (seed,
instrument, chunk number). Asking for further back extends it; nothing already given changes.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tmt_tui.domain.market import BAR_SECONDS, Bar
from tmt_tui.venues.sim.universe import SPECS

FloatArray = npt.NDArray[np.float64]

#: Seconds between two ticks of the past: two per S5 bar, 1,440 per H1 bar.
STEP_S = 2.5
_CHUNK = 4096
#: Seconds of trading a year that annual volatility is spread over (as the live sim does).
_ACTIVE_SECONDS_PER_YEAR = 252 * 8 * 3600


class PastTape:
    """One instrument's ticks before ``end`` (exclusive), the last of them at ``mid``."""

    def __init__(
        self,
        seed: int,
        name: str,
        mid: float,
        annual_vol: float,
        half_spread: float,
        decimals: int,
        end: float,
    ) -> None:
        self.name = name
        self.end = end
        self._seed = (seed, zlib.crc32(name.encode()))
        self._sigma = annual_vol * math.sqrt(STEP_S / _ACTIVE_SECONDS_PER_YEAR)
        self._log_mid = math.log(mid)
        self._half = half_spread
        self._scale = 10.0**decimals
        self._shocks: list[FloatArray] = []
        self._logs: FloatArray = np.empty(0)  # newest first: the log mid k+1 ticks before end

    def _extend(self, ticks: int) -> None:
        while len(self._shocks) * _CHUNK < ticks:
            rng = np.random.default_rng([*self._seed, len(self._shocks)])
            self._shocks.append(rng.standard_normal(_CHUNK) * self._sigma)
        if len(self._logs) < ticks:
            steps = np.concatenate(self._shocks)
            walked = np.concatenate(([0.0], np.cumsum(steps)[:-1]))
            self._logs = self._log_mid - walked

    def ticks(self, since: float) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(ts, bid, ask) of every tick at or after ``since``, oldest first; bid and ask are
        the mid less and plus the half spread, rounded outwards to the instrument's digits."""
        count = max(0, math.floor((self.end - since) / STEP_S - 1e-9))
        self._extend(count)
        k = np.arange(count, 0, -1, dtype=np.float64)
        ts = self.end - k * STEP_S
        mid = np.exp(self._logs[:count][::-1])
        bid = np.floor((mid - self._half) * self._scale)
        ask = np.maximum(np.ceil((mid + self._half) * self._scale), bid + 1)
        return ts, bid / self._scale, ask / self._scale


def bars_of(
    name: str,
    size: str,
    ts: FloatArray,
    bid: FloatArray,
    ask: FloatArray,
    until: float,
    count: int,
) -> list[Bar]:
    """The newest ``count`` complete bars of ``size`` (ending at or before ``until``) that the
    ticks (ts ascending) make, oldest first; a bar with no tick is no bar."""
    seconds = BAR_SECONDS[size]
    if not len(ts):
        return []
    buckets = np.floor(ts / seconds)
    firsts = np.flatnonzero(np.diff(buckets, prepend=buckets[0] - 1))
    lasts = np.append(firsts[1:], len(ts)) - 1
    starts = buckets[firsts] * seconds
    if count <= 0:
        return []
    keep = np.flatnonzero(starts + seconds <= until)[-count:]
    mid = (bid + ask) * 0.5
    columns: list[list[float]] = []
    for series in (bid, ask, mid):
        columns += [
            series[firsts].tolist(),
            np.maximum.reduceat(series, firsts).tolist(),
            np.minimum.reduceat(series, firsts).tolist(),
            series[lasts].tolist(),
        ]
    bo, bh, bl, bc, ao, ah, al, ac, mo, mh, ml, mc = columns
    counts = (lasts - firsts + 1).tolist()
    return [
        Bar(name, size, float(starts[i]), bo[i], bh[i], bl[i], bc[i], ao[i], ah[i], al[i],
            ac[i], mo[i], mh[i], ml[i], mc[i], counts[i])
        for i in keep.tolist()
    ]  # fmt: skip


def merged_ticks(
    past: tuple[FloatArray, FloatArray, FloatArray], live: Sequence[tuple[float, float, float]]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """A past tape's ticks followed by the (ts, bid, ask) a sim quoted since it started."""
    if not live:
        return past
    rows = np.asarray(live, dtype=np.float64)
    return (
        np.concatenate((past[0], rows[:, 0])),
        np.concatenate((past[1], rows[:, 1])),
        np.concatenate((past[2], rows[:, 2])),
    )


class SimPast:
    """The made-up past of the built-in pairs, each leading into ``mids`` at ``end``: what the
    sim venue answers for history. One tape is kept (the instrument asked last): a backfill
    asks for one instrument's sizes in turn, and eight days of ticks of every pair would be
    tens of megabytes held for nothing."""

    def __init__(self, seed: int, end: float, mids: dict[str, float]) -> None:
        self._seed = seed
        self._end = end
        self._mids = mids
        self._tape: PastTape | None = None

    def tape(self, name: str) -> PastTape:
        if self._tape is None or self._tape.name != name:
            spec = SPECS[name]
            half = spec.spread_pips * 10.0**spec.pip_location / 2
            mid = self._mids.get(name, spec.mid)
            self._tape = PastTape(
                self._seed, name, mid, spec.annual_vol, half, spec.precision, self._end
            )
        return self._tape

    def bars(self, name: str, size: str, count: int) -> list[Bar]:
        """The newest ``count`` complete bars of ``size`` before ``end``, oldest first."""
        seconds = BAR_SECONDS[size]
        since = self._end - self._end % seconds - count * seconds
        ts, bid, ask = self.tape(name).ticks(since)
        return bars_of(name, size, ts, bid, ask, self._end, count)
