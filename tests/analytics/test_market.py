"""Market state (analytics/market.py) against references computed here over the whole series:
bars by pandas resampling of the ticks, indicators by pandas/numpy over the bars' closes. The
expected values never come from analytics/market.py itself."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from tmt_tui.analytics.market import BAR_SIZES, Bar, MarketState, Periods
from tmt_tui.domain.market import Regime, Signal

T0 = 1_764_633_600.0  # 2025-12-02 00:00 UTC: an hour boundary
HOURS = 5


def random_ticks(seed: int, hours: float = HOURS) -> pd.DataFrame:
    """Irregularly spaced quotes (0.05 s to 3 s apart, sometimes two in one timestamp) on a
    random walk with changing volatility, so every regime has a chance to show."""
    rng = np.random.default_rng(seed)
    n = int(hours * 3600 / 1.2)
    gaps = rng.choice([0.0, 0.05, 0.4, 1.0, 3.0], size=n, p=[0.05, 0.25, 0.3, 0.3, 0.1])
    ts = T0 + 0.123 + np.cumsum(gaps)
    vol = 0.00004 * (1 + 2 * (np.sin(np.arange(n) / 2000) > 0.6))
    drift = 0.000004 * np.sign(np.sin(np.arange(n) / 3100))
    mid = 1.1 + np.cumsum(rng.normal(drift, vol))
    spread = 0.00008 + rng.random(n) * 0.00004
    bid = np.round(mid - spread / 2, 5)
    ask = np.round(bid + np.round(spread, 5), 5)
    return pd.DataFrame({"ts": ts, "bid": bid, "ask": ask})


def reference_bars(ticks: pd.DataFrame, seconds: int) -> pd.DataFrame:
    """Closed bars by resampling: UTC-aligned ``seconds`` buckets, the live (last) one dropped."""
    frame = ticks.assign(mid=(ticks.bid + ticks.ask) * 0.5)
    frame.index = pd.to_datetime(frame.ts, unit="s", utc=True)
    rule = f"{seconds}s"
    parts = {side: frame[side].resample(rule).ohlc() for side in ("bid", "ask", "mid")}
    out = pd.concat(parts, axis=1)
    out.columns = [f"{side}_{col[0]}" for side, col in out.columns]
    out["ticks"] = frame["bid"].resample(rule).count()
    out = out[out.ticks > 0].iloc[:-1]  # empty buckets are no bars; the last is still live
    out["start"] = out.index.astype("int64") / 1e9
    return out.reset_index(drop=True)


def wilder(values: np.ndarray, n: int) -> np.ndarray:
    """Wilder's smoothing: the mean of the first n, then (prev * (n - 1) + x) / n."""
    out = np.full(len(values), np.nan)
    if len(values) >= n:
        out[n - 1] = values[:n].mean()
        for i in range(n, len(values)):
            out[i] = (out[i - 1] * (n - 1) + values[i]) / n
    return out


def reference_indicators(bars: pd.DataFrame, p: Periods) -> dict[str, np.ndarray]:
    close = bars.mid_c.to_numpy()
    high, low = bars.mid_h.to_numpy(), bars.mid_l.to_numpy()
    series = pd.Series(close)
    sma = series.rolling(p.sma).mean().to_numpy()
    sd = series.rolling(p.sma).std(ddof=0).to_numpy()
    change = np.diff(close)
    avg_gain = np.concatenate([[np.nan], wilder(np.clip(change, 0, None), p.rsi)])
    avg_loss = np.concatenate([[np.nan], wilder(np.clip(-change, 0, None), p.rsi)])
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = 100 - 100 / (1 + avg_gain / avg_loss)
    rsi = np.where(avg_loss == 0, np.where(avg_gain > 0, 100.0, 50.0), rsi)
    rsi = np.where(np.isnan(avg_gain), np.nan, rsi)
    prev = np.concatenate([[np.nan], close[:-1]])
    tr = np.nanmax(np.stack([high - low, np.abs(high - prev), np.abs(low - prev)]), axis=0)
    return {
        "ema_fast": series.ewm(span=p.ema_fast, adjust=False).mean().to_numpy(),
        "ema_slow": series.ewm(span=p.ema_slow, adjust=False).mean().to_numpy(),
        "sma": sma,
        "bb_upper": sma + p.bb_k * sd,
        "bb_lower": sma - p.bb_k * sd,
        "rsi": rsi,
        "atr": wilder(tr, p.atr),
    }


NAMES = ("ema_fast", "ema_slow", "sma", "bb_upper", "bb_lower", "rsi", "atr")


def run(ticks: pd.DataFrame, periods: Periods) -> tuple[list[Bar], dict[str, list[dict[str, Any]]]]:
    """Feed the ticks one by one; every closed bar, and each size's indicators just after."""
    state = MarketState(["EUR_USD"], periods)
    market = state.instruments["EUR_USD"]
    bars: list[Bar] = []
    after: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in BAR_SIZES}
    sizes = [name for name, _ in BAR_SIZES]
    for ts, bid, ask in ticks[["ts", "bid", "ask"]].itertuples(index=False):
        state.on_quote("EUR_USD", ts, bid, ask)
        for bar in state.take_closed():
            bars.append(bar)
            ind = market.indicators[sizes.index(bar.size)]
            after[bar.size].append({name: getattr(ind, name) for name in NAMES})
    return bars, after


@pytest.fixture(scope="module")
def ticks() -> pd.DataFrame:
    return random_ticks(7)


@pytest.fixture(scope="module")
def fed(ticks: pd.DataFrame) -> tuple[list[Bar], dict[str, list[dict[str, Any]]]]:
    return run(ticks, Periods())


@pytest.mark.parametrize(("size", "seconds"), BAR_SIZES)
def test_closed_bars_match_a_resample_of_the_ticks(
    ticks: pd.DataFrame, fed: Any, size: str, seconds: int
) -> None:
    expected = reference_bars(ticks, seconds)
    got = pd.DataFrame([b._asdict() for b in fed[0] if b.size == size])

    assert len(got) == len(expected) > 0
    for column in expected.columns:
        np.testing.assert_allclose(got[column], expected[column], rtol=0, atol=1e-12)


@pytest.mark.parametrize(("size", "seconds"), BAR_SIZES)
def test_incremental_indicators_equal_the_whole_series_computed_at_once(
    ticks: pd.DataFrame, fed: Any, size: str, seconds: int
) -> None:
    periods = Periods()
    expected = reference_indicators(reference_bars(ticks, seconds), periods)
    after = fed[1][size]

    for name in NAMES:
        got = np.array([row[name] for row in after])
        np.testing.assert_allclose(got, expected[name], rtol=0, atol=1e-9, err_msg=name)


def test_bars_align_on_utc_boundaries_by_the_quotes_own_time() -> None:
    state = MarketState(["EUR_USD"])
    for ts in (T0 + 59.9, T0 + 60.0, T0 + 3600.5):
        state.on_quote("EUR_USD", ts, 1.1, 1.1001)

    starts = {(b.size, b.start) for b in state.take_closed()}

    assert ("S5", T0 + 55) in starts and ("S5", T0 + 60) in starts
    assert ("M1", T0) in starts and ("M1", T0 + 60) in starts
    assert ("H1", T0) in starts


def test_a_steady_climb_reads_as_trending_up_with_a_buy_after_a_cross() -> None:
    periods = Periods(width_history=10)
    state = MarketState(["EUR_USD"], periods)
    price, ts = 1.1, T0
    for minute in range(200):
        step = -0.00002 if minute < 100 else 0.00005  # down, then a steady climb
        for second in range(0, 60, 2):
            wiggle = 0.00001 if second % 4 else -0.00001
            state.on_quote("EUR_USD", ts + minute * 60 + second, price + wiggle, price + 0.0001)
            price += step / 30
        if minute == 110:
            early = state.instruments["EUR_USD"].read()
    late = state.instruments["EUR_USD"].read()

    assert early.regime is Regime.TRENDING_UP and early.signal is Signal.BUY
    assert late.regime is Regime.TRENDING_UP and late.signal is Signal.NONE  # the cross is old
    assert late.ema_fast is not None and late.rsi is not None and late.rsi > 70


def test_a_restore_from_closed_bars_gives_the_same_reads_and_carries_on(
    ticks: pd.DataFrame, fed: Any
) -> None:
    bars = fed[0]
    cut = ticks.ts.searchsorted(T0 + 3 * 3600 + 1234.0)
    live = MarketState(["EUR_USD"])
    for ts, bid, ask in ticks[["ts", "bid", "ask"]].itertuples(index=False):
        live.on_quote("EUR_USD", ts, bid, ask)
    market = MarketState(["EUR_USD"])
    before = [b for b in bars if b.start + dict(BAR_SIZES)[b.size] <= ticks.ts.iloc[cut - 1]]
    restored = MarketState(["EUR_USD"])
    restored.restore(before)
    resume = restored.instruments["EUR_USD"].resume_after
    assert resume is not None
    for ts, bid, ask in ticks[["ts", "bid", "ask"]].itertuples(index=False):
        if ts >= resume:
            restored.on_quote("EUR_USD", ts, bid, ask)
        market.on_quote("EUR_USD", ts, bid, ask)

    assert restored.instruments["EUR_USD"].read() == live.instruments["EUR_USD"].read()
    got_after = [b for b in restored.take_closed() if b.start >= resume]
    assert got_after == [b for b in bars if b.start >= resume]


def test_calm_noise_reads_as_ranging_and_a_burst_of_wide_swings_as_volatile() -> None:
    rng = np.random.default_rng(3)
    state = MarketState(["EUR_USD"])
    market = state.instruments["EUR_USD"]
    calm: list[Regime] = []
    burst: list[Regime] = []
    for minute in range(300):
        sigma = 0.0001 if minute < 290 else 0.0012  # the last ten minutes swing wildly
        for second in range(0, 60, 5):
            mid = 1.1 + rng.normal(0, sigma)
            state.on_quote("EUR_USD", T0 + minute * 60 + second, mid - 0.00005, mid + 0.00005)
        if market.changed:
            market.changed = False
            (calm if minute < 290 else burst).append(market.regime)

    warm = [r for r in calm if r is not Regime.WARMING_UP]
    assert len(warm) > 100
    assert warm.count(Regime.RANGING) >= 0.9 * len(warm) and Regime.VOLATILE not in warm
    assert Regime.VOLATILE in burst


def test_a_late_quote_joins_the_live_bar_and_never_reopens_a_closed_one() -> None:
    state = MarketState(["EUR_USD"])
    state.on_quote("EUR_USD", T0 + 1, 1.1, 1.1002)
    state.on_quote("EUR_USD", T0 + 6, 1.2, 1.2002)
    state.on_quote("EUR_USD", T0 + 2, 1.0, 1.0002)  # late: belongs to the closed S5 at T0
    state.on_quote("EUR_USD", T0 + 11, 1.1, 1.1002)

    s5 = [b for b in state.take_closed() if b.size == "S5"]

    assert [b.start for b in s5] == [T0, T0 + 5]
    assert s5[1].bid_l == 1.0 and s5[1].ticks == 2


def test_quotes_of_an_unknown_instrument_change_nothing() -> None:
    state = MarketState(["EUR_USD"])
    state.on_quote("XAU_USD", T0, 2000.0, 2000.5)

    assert state.take_closed() == [] and state.take_changed() == []
