"""How numbers look on screen: money, prices, units, pips and times.

Display only: these turn the engine's exact values into text and never feed a value back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from tmt_tui.domain.preview import OrderPreview

NEW_YORK = ZoneInfo("America/New_York")


def money(value: Decimal | None) -> str:
    """`1,234.56`; an em dash when unknown."""
    if value is None:
        return "—"
    return f"{value:,.2f}"


def signed_money(value: Decimal | None) -> str:
    """`+1,234.56` / `-1,234.56`; zero has no sign."""
    if value is None:
        return "—"
    return f"{value:+,.2f}" if value else "0.00"


def compact_money(value: Decimal | float, *, signed: bool = False, decimals: int = 2) -> str:
    """Short amounts for narrow screens: `100.0k`, `1.25M`, `950.00` (`+950` signed, with no
    decimals, for a size in units)."""
    sign = "+" if signed else ""
    magnitude = value if value >= 0 else -value
    if magnitude >= 1_000_000:
        return f"{value / 1_000_000:{sign},.2f}M"
    if magnitude >= 10_000:
        return f"{value / 1_000:{sign},.1f}k"
    return f"{value:{sign},.{decimals}f}"


def price(value: Decimal | None, precision: int | None = None) -> str:
    """A price with the instrument's decimals (as given when the precision is unknown)."""
    if value is None:
        return ""
    if precision is None:
        return str(value)
    return f"{value:.{precision}f}"


def units(value: int, signed: bool = True) -> str:
    """`+10,000` / `-5,000` (or unsigned)."""
    return f"{value:+,d}" if signed else f"{abs(value):,d}"


def pips(distance: Decimal, pip_location: int) -> float:
    """A price distance in pips for display (`pip_location` -4 means 0.0001 is one pip)."""
    return float(distance.scaleb(-pip_location))


def clock(ts: float, zone: ZoneInfo | None = None) -> str:
    """`HH:MM:SS` of epoch second `ts` in UTC, or in `zone`."""
    moment = datetime.fromtimestamp(ts, zone or UTC)
    return moment.strftime("%H:%M:%S")


def percent(numerator: Decimal, denominator: Decimal) -> float:
    """`numerator / denominator` for display; zero when the denominator is not positive."""
    if denominator <= 0:
        return 0.0
    return float(numerator / denominator)


def duration(seconds: float | None) -> str:
    """A held time, short: `45s`, `12m`, `3h05`, `2d04`; `-` when unknown."""
    if seconds is None:
        return "-"
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m"
    if whole < 86400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}"
    return f"{whole // 86400}d{whole % 86400 // 3600:02d}"


def margin_use(used: Decimal | float, equity: Decimal | float, *, compact: bool = False) -> str:
    """Margin as tmt measures it everywhere, used over equity and labelled so:
    `1,234.56/100,000.00 eq 1.2%` (`1.2k/100.0k eq 1.2%` compact)."""
    share = float(used) / float(equity) * 100 if equity > 0 else 0.0
    if compact:
        return f"{compact_money(used)}/{compact_money(equity)} eq {share:.1f}%"
    return f"{used:,.2f}/{equity:,.2f} eq {share:.1f}%"


def preview_text(preview: OrderPreview) -> str:
    """The ticket's dry run in two lines: what the order would do, then the engine's verdict
    (every failing check with its reason, or that all pass)."""
    ccy = preview.currency
    figures = [
        f"notional {compact_money(preview.notional)} {ccy}",
        f"margin +{compact_money(preview.margin_needed)} → "
        f"{margin_use(preview.margin_used_after, preview.equity, compact=True)}",
        f"lev {preview.leverage_now:.2f}x→{preview.leverage_after:.2f}x",
    ]
    if preview.distance_pips is not None:
        figures.append(f"{preview.distance_pips:+.1f} pips from mid")
    figures.append(f"loss room {compact_money(preview.loss_headroom)}")
    if preview.ok:
        verdict = "✓ every pre-trade check passes"
    else:
        verdict = "\n".join(f"✗ {c.name}: {c.message}" for c in preview.failed)
    return " · ".join(figures) + "\n" + verdict
