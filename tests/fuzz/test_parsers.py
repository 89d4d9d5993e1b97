"""Every parser at tmt's edges, fed what an attacker or a broken peer could send. The rule for
each: a clear error of the parser's own kind, or a valid result; never an unhandled exception,
and nothing that fails a check gets through."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz.conftest import FUZZ_CASES
from tmt_tui.api.protocol import COMMAND_TYPES, ProtocolError, decode, parse_command
from tmt_tui.cli.equity_sources import SourceError, read_csv
from tmt_tui.config import ConfigError
from tmt_tui.config.loading import default_config_text, parse_settings
from tmt_tui.domain.commands import Origin
from tmt_tui.domain.entry import ABSURD_PRICE, ABSURD_UNITS, EntryError, parse_price, parse_units
from tmt_tui.domain.quotes import Quote, quote_problem
from tmt_tui.venues.oanda.answers import outcome_of
from tmt_tui.venues.oanda.errors import MalformedAnswer
from tmt_tui.venues.oanda.stream import Heartbeat, PriceStreamParser, TransactionStreamParser
from tmt_tui.venues.polygon.frames import Bar, Refused, Status, Trade, parse_frame

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=12,
)  # fmt: skip
PRICES = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.integers(),
    st.none(),
)


# Polygon / Massive frames -----------------------------------------------------------------------


@st.composite
def polygon_event(draw: Any) -> Any:
    """An event shaped like Polygon's (every kind it sends, fields right or wrong), or junk."""
    ev = draw(st.sampled_from(["C", "Q", "XQ", "T", "XT", "CA", "CAS", "A", "AM", "XA", "status",
                               "LULD", None, 5]))  # fmt: skip
    fields = {
        k: draw(st.one_of(PRICES, JSON))
        for k in draw(st.sets(st.sampled_from(["p", "pair", "sym", "a", "b", "ap", "bp", "o", "h",
                                               "l", "c", "v", "s", "e", "t", "status",
                                               "message"])))
    }  # fmt: skip
    return {"ev": ev, **fields} if draw(st.booleans()) else draw(JSON)


@given(
    st.one_of(
        st.lists(polygon_event(), max_size=6).map(json.dumps),
        st.text(max_size=80),
        st.binary(max_size=40),
    )
)
def test_a_polygon_frame_is_sound_messages_or_refusals(frame: Any) -> None:
    FUZZ_CASES.seen()
    for message in parse_frame(frame):
        if isinstance(message, Quote):
            assert quote_problem(message.bid, message.ask) is None
            assert math.isfinite(message.ts) and message.ts > 0
        elif isinstance(message, Refused):
            assert message.why and len(message.raw) <= 163
        else:
            assert isinstance(message, Status | Trade | Bar)


# the OANDA streams ------------------------------------------------------------------------------


def price_line(draw: Any) -> bytes:
    body = {
        "type": draw(st.sampled_from(["PRICE", "HEARTBEAT", "OTHER", None])),
        "instrument": draw(st.sampled_from(["EUR_USD", "XAU_XXX", None, 7])),
        "time": draw(st.sampled_from(["2026-11-27T10:00:00.000000000Z", "yesterday", 5, None])),
        "bids": [{"price": draw(PRICES), "liquidity": 1}],
        "asks": [{"price": draw(PRICES), "liquidity": 1}],
    }
    if draw(st.booleans()):
        del body[draw(st.sampled_from(sorted(body)))]
    return json.dumps(body, default=str).encode() + b"\n"


@st.composite
def pricing_bytes(draw: Any) -> list[bytes]:
    lines = draw(st.lists(st.one_of(st.binary(max_size=60), st.builds(lambda: b"\n"),
                                    st.composite(price_line)()), max_size=8))  # fmt: skip
    blob = b"".join(lines)
    cuts = sorted(draw(st.lists(st.integers(0, len(blob)), max_size=4)))
    return [blob[a:b] for a, b in zip([0, *cuts], [*cuts, len(blob)], strict=True)]


@given(pricing_bytes())
def test_the_price_stream_yields_only_sound_quotes_of_subscribed_pairs(chunks: list[bytes]) -> None:
    FUZZ_CASES.seen()
    parser = PriceStreamParser(["EUR_USD"])
    out = [item for chunk in chunks for item in parser.feed(chunk)]
    for item in out:
        assert isinstance(item, Quote | Heartbeat)
        if isinstance(item, Quote):
            assert item.instrument == "EUR_USD"
            assert item.bid.is_finite() and item.ask.is_finite()
            assert 0 < item.bid <= item.ask and math.isfinite(item.ts)


@given(st.lists(st.one_of(st.binary(max_size=80), JSON.map(lambda v: json.dumps(v).encode())),
                max_size=8))  # fmt: skip
def test_the_transaction_stream_yields_only_typed_objects(lines: list[bytes]) -> None:
    FUZZ_CASES.seen()
    parser = TransactionStreamParser()
    out = parser.feed(b"\n".join(lines) + b"\n")
    assert all(isinstance(i, Heartbeat) or (isinstance(i, dict) and "type" in i) for i in out)


# OANDA's REST answers ---------------------------------------------------------------------------


FILL_KEYS = ("id", "orderID", "units", "price", "fullVWAP", "time", "tradeOpened", "financing")


@st.composite
def create_order_answers(draw: Any) -> dict[str, Any]:
    fill = {key: draw(JSON | PRICES) for key in draw(st.sets(st.sampled_from(FILL_KEYS)))}
    body: dict[str, Any] = draw(st.dictionaries(st.text(max_size=8), JSON, max_size=3))
    for key in draw(st.sets(st.sampled_from(["orderFillTransaction", "orderCancelTransaction",
                                              "orderCreateTransaction",
                                              "orderRejectTransaction"]))):  # fmt: skip
        body[key] = fill if key == "orderFillTransaction" else draw(JSON)
    return body


@given(st.sampled_from([201, 400, 404]), create_order_answers())
@example(201, {"orderFillTransaction": {"id": "5"}})  # a fill without its order id
def test_a_create_order_answer_is_an_outcome_or_malformed(
    status: int, body: dict[str, Any]
) -> None:
    FUZZ_CASES.seen()
    try:
        outcome_of(status, body)
    except MalformedAnswer as exc:
        assert "create-order answer" in str(exc) or "order fill" in str(exc)


# the control API --------------------------------------------------------------------------------


@given(st.one_of(st.text(max_size=200), st.binary(max_size=50), JSON.map(json.dumps)))
def test_a_frame_is_a_versioned_object_or_a_protocol_error(frame: Any) -> None:
    FUZZ_CASES.seen()
    try:
        message = decode(frame)
    except ProtocolError:
        return
    assert isinstance(message, dict) and message["v"] == 1


@example("QueryAnalytics", {"since": 0.0})  # a float field: finite-checked as a Decimal once
@example("QueryTrades", {"since": float("nan")})
@given(
    st.sampled_from(sorted(COMMAND_TYPES)),
    st.dictionaries(st.sampled_from(["account", "instrument", "units", "price", "type",
                                     "order_id", "on", "reason", "why", "origin", "limit",
                                     "trade_id", "since", "until", "stop_loss"]),
                    JSON | PRICES, max_size=5),
)  # fmt: skip
def test_a_command_frame_is_a_command_from_the_api_or_refused(name: str, fields: Any) -> None:
    FUZZ_CASES.seen()
    message = {"v": 1, "type": "command", "id": 1, "command": {"command": name, **fields}}
    try:
        command = parse_command(message)
    except ProtocolError:
        return
    assert type(command).__name__ == name and command.origin is Origin.API  # type: ignore[union-attr]
    for value in vars_of(command).values():
        if isinstance(value, Decimal):
            assert value.is_finite()
        elif isinstance(value, float):
            assert math.isfinite(value)


def vars_of(command: object) -> dict[str, Any]:
    return {name: getattr(command, name) for name in getattr(command, "__slots__", ())}


# a config file ----------------------------------------------------------------------------------


@given(st.text(max_size=300))
def test_any_text_is_a_config_or_a_config_error(text: str) -> None:
    FUZZ_CASES.seen()
    try:
        parse_settings(text, "fuzz.toml")
    except ConfigError as exc:
        assert "fuzz.toml" in str(exc)


@given(st.data())
def test_the_default_config_with_one_value_changed_loads_or_says_where(data: st.DataObject) -> None:
    FUZZ_CASES.seen()
    lines = default_config_text().splitlines()
    settable = [
        i for i, line in enumerate(lines) if "=" in line and not line.lstrip().startswith("#")
    ]
    i = data.draw(st.sampled_from(settable))
    key = lines[i].split("=", 1)[0]
    values = ['"x"', "-1", "0", "1e309", "nan", "true", "[]", "{}", '"USD"', "9" * 21, "inf"]
    value = data.draw(st.sampled_from(values))
    lines[i] = f"{key}= {value}"
    try:
        parse_settings("\n".join(lines), "fuzz.toml")
    except ConfigError as exc:
        assert "fuzz.toml" in str(exc)


# a CSV a trader brings --------------------------------------------------------------------------


@given(st.text(max_size=300), st.booleans())
def test_any_csv_is_a_finite_series_or_a_source_error(tmp_path_factory: Any, text: str,
                                                      returns: bool) -> None:  # fmt: skip
    FUZZ_CASES.seen()
    path = Path(tmp_path_factory.mktemp("csv")) / "equity.csv"
    path.write_text(text, encoding="utf-8")
    try:
        series = read_csv(path, returns=returns)
    except SourceError:
        return
    assert len(series.ts) == len(series.equity) >= 1
    assert all(math.isfinite(v) for v in [*series.ts, *series.equity])


# the order ticket's fields ---------------------------------------------------------------------


@given(st.one_of(st.text(max_size=30), st.from_regex(r"\s*[-+]?[0-9,._]{0,12}[kKmM]?\s*")))
def test_units_typed_are_a_sane_size_or_a_message(text: str) -> None:
    FUZZ_CASES.seen()
    try:
        units = parse_units(text)
    except EntryError as exc:
        assert str(exc).startswith("Units:")
        return
    assert isinstance(units, int) and 0 < units <= ABSURD_UNITS


@given(st.one_of(st.text(max_size=30), st.from_regex(r"\s*[-+]?[0-9,.eE]{0,14}\s*")))
def test_a_price_typed_is_a_sane_price_or_a_message(text: str) -> None:
    FUZZ_CASES.seen()
    try:
        price = parse_price(text, "Price", required=True)
    except EntryError as exc:
        assert str(exc).startswith("Price:")
        return
    assert price is not None and price.is_finite() and 0 < price <= ABSURD_PRICE
