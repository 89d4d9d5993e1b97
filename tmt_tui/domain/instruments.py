"""Tradeable instruments and the rules their prices and sizes follow."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Instrument:
    """An FX pair as a broker describes it (OANDA's names: ``EUR_USD``).

    Prices carry ``display_precision`` decimals; sizes are whole units of the base currency.
    """

    name: str
    display_precision: int
    pip_location: int
    margin_rate: Decimal
    min_units: int = 1
    max_units: int = 100_000_000
    tradeable: bool = True

    @property
    def kind(self) -> InstrumentKind:
        return kind_of(self.name)

    @property
    def base(self) -> str:
        return self.name.partition("_")[0]

    @property
    def quote(self) -> str:
        """The currency prices are in; empty for a stock (its name is a ticker, not a pair)."""
        return self.name.partition("_")[2]

    @property
    def tick(self) -> Decimal:
        """The smallest price step the venue accepts."""
        return Decimal(1).scaleb(-self.display_precision)

    @property
    def pip(self) -> Decimal:
        return Decimal(1).scaleb(self.pip_location)

    def is_on_tick(self, price: Decimal) -> bool:
        """True when ``price`` has no more decimals than the instrument shows."""
        exponent = price.as_tuple().exponent
        return isinstance(exponent, int) and (
            exponent >= -self.display_precision or price == price.quantize(self.tick)
        )

    def round_price(self, price: Decimal) -> Decimal:
        return price.quantize(self.tick)


class InstrumentKind(StrEnum):
    """What an instrument is: it decides the feed's topics and whether the money code may treat
    the name as a currency pair (only ``FX`` may)."""

    FX = "fx"
    STOCK = "stock"
    CRYPTO = "crypto"


#: The fiat currencies a pair may be made of (ISO 4217 codes that FX venues quote). A name
#: ``AAA_BBB`` is an FX pair only when both sides are here; ``BTC_USD`` is crypto.
FIAT = frozenset({
    "USD", "EUR", "JPY", "GBP", "CHF", "AUD", "CAD", "NZD", "SEK", "NOK", "DKK", "PLN", "HUF",
    "CZK", "TRY", "ZAR", "MXN", "SGD", "HKD", "CNH", "CNY", "THB", "INR", "KRW", "TWD", "ILS",
    "SAR", "AED", "RUB", "BRL",
})  # fmt: skip


def kind_of(name: str) -> InstrumentKind:
    """The kind an instrument name spells, by the documented rule: ``AAA_BBB`` with both sides
    fiat is an FX pair; another ``BASE_QUOTE`` is crypto; a name without ``_`` is a stock."""
    base, sep, quote = name.partition("_")
    if not sep:
        return InstrumentKind.STOCK
    if base in FIAT and quote in FIAT:
        return InstrumentKind.FX
    return InstrumentKind.CRYPTO


def watch_only(name: str, display_precision: int = 2) -> Instrument:
    """A stock or crypto instrument a data feed quotes and no broker here trades: it shows on
    the board, and an order for it is refused (``tradeable`` false) with ``why_watch_only``."""
    return Instrument(name, display_precision, -display_precision, Decimal(1), tradeable=False)


def why_watch_only(instrument: Instrument) -> str:
    """Why an order for a non-tradeable instrument is refused, in words a trader can act on."""
    kind = instrument.kind
    what = {InstrumentKind.STOCK: "stocks", InstrumentKind.CRYPTO: "crypto"}.get(kind)
    if what is None:
        return f"{instrument.name} is not tradeable at the venue now"
    return (
        f"{instrument.name} is watch-only: no account's broker here trades {what} "
        "(a data feed quotes it for the board)"
    )
