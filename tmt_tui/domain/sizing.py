"""Risk-based sizing: "risk 0.5% of equity with a 20-pip stop" turned into units, exactly.

A trader thinks in what a stop-out would cost, not in units. The amount at risk (a share of
equity, or an amount in the account's currency) divided by what one unit loses at the stop
(the stop distance in the quote currency, converted into the account's) is the size; it is
rounded down to the venue's unit step, so the loss at the stop never exceeds what was asked.
Decimal throughout: the units that go out are the ones the line on screen explains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from tmt_tui.domain.entry import EntryError
from tmt_tui.domain.instruments import Instrument

HUNDRED = Decimal(100)
#: A share of equity above this is a typo (a whole account on one stop is already reckless).
MOST_PERCENT = Decimal(100)

_RISK = re.compile(
    r"""^\s*(?P<amount>[0-9][0-9,_]*(?:\.[0-9]*)?|\.[0-9]+)\s*(?P<percent>%)?
        (?:\s*(?:/|@|with|,)?\s*(?P<pips>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(?:p|pip|pips)\b)?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class RiskSpec:
    """What the trader typed: an amount or a share of equity, and maybe a stop in pips."""

    amount: Decimal
    percent: bool = False
    stop_pips: Decimal | None = None

    def amount_in(self, equity: Decimal) -> Decimal:
        """The money at risk in the account's currency (``equity`` is the account's)."""
        return equity * self.amount / HUNDRED if self.percent else self.amount


@dataclass(frozen=True, slots=True)
class Sizing:
    """The size risk-based sizing found, and every figure that explains it."""

    units: int
    risk: Decimal  # the money at risk, in ``currency``
    currency: str
    stop_pips: Decimal
    percent: Decimal | None = None  # the share of equity asked, when it was one
    equity: Decimal | None = None

    def describe(self) -> str:
        """``risk 0.5% of 100,000.00 = 500.00 USD / 20.0 pips → 250,000 units``."""
        share = ""
        if self.percent is not None:
            share = f"{self.percent.normalize():f}% of {self.equity:,.2f} = "
        return (
            f"risk {share}{self.risk:,.2f} {self.currency} / {self.stop_pips:,.1f} pips"
            f" → {self.units:,} units"
        )


def parse_risk(text: str) -> RiskSpec | None:
    """``0.5%``, ``500``, ``0.5% 20p``, ``500 / 20 pips`` as a RiskSpec; None for an empty
    field; EntryError naming what is wrong otherwise."""
    if not text.strip():
        return None
    found = _RISK.match(text)
    if found is None:
        raise EntryError(
            f"Risk: {text.strip()[:24]!r} is not a risk: try 0.5% or 500, and a stop as 20p"
        )
    try:
        amount = Decimal(found["amount"].replace(",", "").replace("_", ""))
        pips = None if found["pips"] is None else Decimal(found["pips"])
    except InvalidOperation:
        raise EntryError(f"Risk: {text.strip()[:24]!r} is not a number") from None
    percent = found["percent"] is not None
    if amount <= 0:
        raise EntryError("Risk: must be more than zero")
    if percent and amount > MOST_PERCENT:
        raise EntryError(f"Risk: {amount}% of equity is more than all of it")
    if pips is not None and pips <= 0:
        raise EntryError("Risk: the stop must be more than 0 pips away")
    return RiskSpec(amount, percent, pips)


def size_for_risk(
    spec: RiskSpec,
    instrument: Instrument,
    *,
    equity: Decimal,
    currency: str,
    quote_to_account: Decimal | None,
    entry: Decimal | None = None,
    stop_loss: Decimal | None = None,
    unit_step: int = 1,
) -> Sizing:
    """The units that lose ``spec``'s amount if the stop is hit, rounded down to ``unit_step``.

    The stop is ``spec.stop_pips`` when given, else the distance from ``entry`` (the order's
    price, or the touch for a market order) to ``stop_loss``. ``quote_to_account`` is how
    much of the account's currency one unit of the instrument's quote currency is worth.
    Raises EntryError saying what is missing or why no size fits.
    """
    if spec.stop_pips is not None:
        distance = spec.stop_pips * instrument.pip
    elif stop_loss is None:
        raise EntryError("Risk: give a stop: a stop-loss price, or pips after the risk (0.5% 20p)")
    elif entry is None:
        raise EntryError("Risk: no price yet to measure the stop from")
    else:
        distance = abs(entry - stop_loss)
        if distance == 0:
            raise EntryError("Risk: the stop-loss is at the entry price")
    if quote_to_account is None or quote_to_account <= 0:
        raise EntryError(f"Risk: no rate yet to convert {instrument.quote} into {currency}")
    if spec.percent and equity <= 0:
        raise EntryError("Risk: equity is not positive, so a share of it risks nothing")
    risk = spec.amount_in(equity)
    per_unit = distance * quote_to_account  # what one unit loses at the stop, in the account's
    raw = (risk / per_unit / unit_step).to_integral_value(rounding=ROUND_DOWN)
    units = int(raw) * unit_step
    pips = distance / instrument.pip
    if units < max(instrument.min_units, 1):
        raise EntryError(
            f"Risk: {risk:,.2f} {currency} over {pips:,.1f} pips is less than "
            f"{max(instrument.min_units, 1):,} unit(s)"
        )
    return Sizing(
        units=units,
        risk=risk,
        currency=currency,
        stop_pips=pips,
        percent=spec.amount if spec.percent else None,
        equity=equity if spec.percent else None,
    )
