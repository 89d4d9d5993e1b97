"""Stream parsing: partial lines, heartbeats, and bad lines skipped and counted."""

from __future__ import annotations

import json
from decimal import Decimal

from tmt_tui.domain.quotes import Quote
from tmt_tui.venues.oanda.client import OandaClient
from tmt_tui.venues.oanda.stream import (
    Heartbeat,
    PriceStreamParser,
    TransactionStreamParser,
    parse_time,
)
from tmt_tui.venues.oanda_sim.server import V20Server, V20ServerThread

PRICE = (
    b'{"type":"PRICE","instrument":"EUR_USD","time":"2026-06-22T18:41:48.258142231Z",'
    b'"bids":[{"price":"1.08500","liquidity":10000000}],'
    b'"asks":[{"price":"1.08508","liquidity":10000000}],'
    b'"closeoutBid":"1.08500","closeoutAsk":"1.08508","tradeable":true}\n'
)


def test_a_line_split_across_chunks_is_parsed_once_complete() -> None:
    parser = PriceStreamParser(["EUR_USD"])

    first = parser.feed(PRICE[:37])
    second = parser.feed(PRICE[37:])

    assert first == []
    assert second == [
        Quote(
            "EUR_USD",
            Decimal("1.08500"),
            Decimal("1.08508"),
            parse_time("2026-06-22T18:41:48.258142231Z"),
        )
    ]


def test_several_lines_in_one_chunk_all_come_out() -> None:
    parser = PriceStreamParser(["EUR_USD"])
    beat = b'{"type":"HEARTBEAT","time":"2026-06-22T18:41:50.000000000Z"}\n'

    messages = parser.feed(PRICE + beat + PRICE)

    assert [type(m) for m in messages] == [Quote, Heartbeat, Quote]
    assert parser.heartbeats == 1


def test_a_line_without_type_is_a_price() -> None:
    parser = PriceStreamParser(["EUR_USD"])
    line = json.loads(PRICE)
    del line["type"]

    (message,) = parser.feed(json.dumps(line).encode() + b"\n")

    assert isinstance(message, Quote) and message.bid == Decimal("1.08500")


def test_prices_keep_their_exact_decimal_value() -> None:
    (quote,) = PriceStreamParser(["EUR_USD"]).feed(PRICE)

    assert isinstance(quote, Quote)
    assert str(quote.ask) == "1.08508"


def _with(**changes: object) -> bytes:
    line = json.loads(PRICE)
    line.update(changes)
    return json.dumps(line).encode() + b"\n"


def test_bad_lines_are_skipped_and_counted_and_the_stream_goes_on() -> None:
    parser = PriceStreamParser(["EUR_USD"])
    bad = [
        b"not json at all\n",
        _with(bids=[{"price": "NaN", "liquidity": 1}]),
        _with(asks=[{"price": "-1.0", "liquidity": 1}]),
        _with(instrument="XAU_XAG"),
        _with(bids=[]),
        _with(bids=[{"price": "1.2", "liquidity": 1}]),  # crossed
        _with(type="MYSTERY"),
    ]

    messages = parser.feed(b"".join(bad) + PRICE)

    assert len(messages) == 1 and isinstance(messages[0], Quote)
    assert parser.skipped == len(bad)


def test_transaction_heartbeats_carry_the_last_transaction_id() -> None:
    parser = TransactionStreamParser()
    data = (
        b'{"type":"ORDER_FILL","id":"7"}\n'
        b'{"type":"HEARTBEAT","lastTransactionID":"7","time":"2026-06-22T18:41:50.000000000Z"}\n'
    )

    messages = parser.feed(data[:20]) + parser.feed(data[20:])

    assert messages[0] == {"type": "ORDER_FILL", "id": "7"}
    assert messages[1] == Heartbeat("2026-06-22T18:41:50.000000000Z", "7")


async def test_price_stream_from_the_server_snapshots_then_ticks_and_heartbeats(
    client: OandaClient,
) -> None:
    seen: list[Quote | Heartbeat] = []

    async for message in client.stream_prices(["EUR_USD", "USD_JPY"]):
        seen.append(message)
        quotes = [m for m in seen if isinstance(m, Quote)]
        if len(quotes) > 4 and any(isinstance(m, Heartbeat) for m in seen) or len(seen) > 2000:
            break

    quotes = [m for m in seen if isinstance(m, Quote)]
    assert {q.instrument for q in quotes[:2]} == {"EUR_USD", "USD_JPY"}  # the snapshot
    assert any(isinstance(m, Heartbeat) for m in seen)


async def test_garbage_and_split_chunks_from_the_server_are_survived(
    client: OandaClient, server: V20ServerThread
) -> None:
    def misbehave(s: V20Server) -> None:
        faults = s.faults
        faults.split_lines = True
        faults.raw_stream_lines = [
            b"{broken",
            b'{"type":"PRICE","instrument":"EUR_USD","time":"2026-06-22T18:41:48Z",'
            b'"bids":[{"price":"NaN","liquidity":1}],"asks":[{"price":"1.1","liquidity":1}]}',
        ]

    server.call(misbehave)
    parser_quotes: list[Quote] = []
    parser = PriceStreamParser(["EUR_USD"])
    async for message in client.stream_prices(["EUR_USD"], parser):
        if isinstance(message, Quote):
            parser_quotes.append(message)
        if len(parser_quotes) >= 3:
            break

    assert parser.skipped == 2
    assert all(q.bid < q.ask for q in parser_quotes)
