"""Price alerts in the engine: `above` fires when the bid reaches the level, `below` when the
ask does, each once; a restart keeps the active ones (from a checkpoint and from the journal
alone); a bad alert is refused saying what and why, and nothing of it stays."""

from __future__ import annotations

import contextlib
import sqlite3
from decimal import Decimal
from pathlib import Path

from tests.support.engines import engine_settings, events_of, fixed_clock, running, snapshot
from tests.support.harness import Harness, restarted
from tests.support.waiting import eventually
from tmt_tui.domain.client import Reply
from tmt_tui.domain.commands import (
    CancelPriceAlert,
    EngageKillSwitch,
    QueryPriceAlerts,
    SetPriceAlert,
)
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.price_alerts import (
    MAX_ACTIVE_PER_INSTRUMENT,
    AlertSide,
    AlertStatus,
    PriceAlert,
    PriceAlertList,
)
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.reasons import Reason
from tmt_tui.engine.local_client import LocalEngineClient

D = Decimal
ABOVE, BELOW = AlertSide.ABOVE, AlertSide.BELOW


def quoted() -> Harness:
    """An engine whose EUR_USD is 1.10000 / 1.10010."""
    h = Harness()
    h.standard_quotes()
    return h


def set_alert(h: Harness, side: AlertSide, level: str, note: str = "") -> PriceAlert:
    reply = h.do(SetPriceAlert("EUR_USD", side, D(level), note))
    assert reply.ok, reply
    assert isinstance(reply.payload, PriceAlert)
    return reply.payload


def hits(h: Harness) -> list[dict[str, object]]:
    return [e.data for e in h.of_kind(EventKind.PRICE_ALERT_HIT)]


def listed(h: Harness, finished: bool = False) -> tuple[PriceAlert, ...]:
    reply = h.do(QueryPriceAlerts(finished=finished))
    assert isinstance(reply.payload, PriceAlertList)
    return reply.payload.alerts


# firing -----------------------------------------------------------------------------------------


def test_an_above_alert_fires_when_the_bid_reaches_the_level_not_the_ask() -> None:
    h = quoted()
    alert = set_alert(h, ABOVE, "1.10100")

    h.quote("EUR_USD", "1.10095", "1.10105")  # the ask is past the level, the bid is not
    assert hits(h) == []

    h.quote("EUR_USD", "1.10100", "1.10110")
    assert hits(h) == [
        {
            "id": alert.id,
            "instrument": "EUR_USD",
            "side": "above",
            "level": "1.10100",
            "bid": "1.10100",
            "ask": "1.10110",
            "quote_ts": h.clock(),
            "note": "",
        }
    ]


def test_a_below_alert_fires_when_the_ask_reaches_the_level_not_the_bid() -> None:
    h = quoted()
    alert = set_alert(h, BELOW, "1.09900", note="support")

    h.quote("EUR_USD", "1.09895", "1.09905")  # the bid is through it, the ask is not
    assert hits(h) == []

    h.quote("EUR_USD", "1.09880", "1.09890")
    assert [(e["id"], e["ask"], e["note"]) for e in hits(h)] == [(alert.id, "1.09890", "support")]


def test_an_alert_fires_once_and_is_then_done() -> None:
    h = quoted()
    alert = set_alert(h, ABOVE, "1.10100")

    h.quote("EUR_USD", "1.10120", "1.10130")
    h.quote("EUR_USD", "1.10000", "1.10010")
    h.quote("EUR_USD", "1.10150", "1.10160")

    assert len(hits(h)) == 1
    assert listed(h) == ()
    (done,) = listed(h, finished=True)
    assert (done.id, done.status, done.hit_bid, done.hit_ask) == (
        alert.id,
        AlertStatus.HIT,
        D("1.10120"),
        D("1.10130"),
    )


def test_one_quote_fires_every_alert_it_passes_and_none_further() -> None:
    h = quoted()
    near = set_alert(h, ABOVE, "1.10050")
    nearer = set_alert(h, ABOVE, "1.10020")
    far = set_alert(h, ABOVE, "1.10300")
    below = set_alert(h, BELOW, "1.09000")

    h.quote("EUR_USD", "1.10060", "1.10070")

    assert [e["id"] for e in hits(h)] == [near.id, nearer.id]  # in the order they were set
    assert [a.id for a in listed(h)] == [far.id, below.id]


def test_another_instruments_quote_fires_nothing() -> None:
    h = quoted()
    set_alert(h, ABOVE, "1.10100")

    h.quote("GBP_USD", "1.30000", "1.30010")

    assert hits(h) == []


def test_an_alert_fires_while_trading_is_halted() -> None:
    h = quoted()
    set_alert(h, BELOW, "1.09900")
    h.do(EngageKillSwitch("drill"))

    h.quote("EUR_USD", "1.09800", "1.09810")

    assert len(hits(h)) == 1


def test_a_cancelled_alert_never_fires() -> None:
    h = quoted()
    alert = set_alert(h, ABOVE, "1.10100")

    reply = h.do(CancelPriceAlert(alert.id))
    h.quote("EUR_USD", "1.10200", "1.10210")

    assert reply.ok, reply
    assert hits(h) == []
    assert [(a.id, a.status) for a in listed(h, finished=True)] == [
        (alert.id, AlertStatus.CANCELLED)
    ]


def test_set_cancel_and_hit_are_each_one_event_with_what_happened() -> None:
    h = quoted()
    first = set_alert(h, ABOVE, "1.10100", note="breakout")
    second = set_alert(h, BELOW, "1.09900")
    h.do(CancelPriceAlert(second.id))
    h.quote("EUR_USD", "1.10100", "1.10110")

    kinds = [e.kind for e in h.events if e.kind.value.startswith("price_alert.")]
    assert kinds == [
        EventKind.PRICE_ALERT_SET,
        EventKind.PRICE_ALERT_SET,
        EventKind.PRICE_ALERT_CANCELLED,
        EventKind.PRICE_ALERT_HIT,
    ]
    set_event = h.of_kind(EventKind.PRICE_ALERT_SET)[0]
    assert set_event.origin == "ui"
    assert set_event.data == {
        "id": first.id,
        "instrument": "EUR_USD",
        "side": "above",
        "level": "1.10100",
        "note": "breakout",
    }
    assert h.last(EventKind.PRICE_ALERT_CANCELLED).data == {
        "id": second.id,
        "instrument": "EUR_USD",
    }


def test_the_level_keeps_the_instruments_precision() -> None:
    h = quoted()

    alert = set_alert(h, ABOVE, "1.105")

    assert str(alert.level) == "1.10500"
    assert h.last(EventKind.PRICE_ALERT_SET).data["level"] == "1.10500"


# refusals ---------------------------------------------------------------------------------------


def refused(h: Harness, command: SetPriceAlert | CancelPriceAlert) -> Reply:
    """The reply to a command that must be refused, with nothing left of it but the refusal."""
    before = len(h.core.state.price_alerts)
    reply = h.do(command)
    assert not reply.ok, reply
    assert len(h.core.state.price_alerts) == before
    assert h.last(EventKind.COMMAND_REJECTED).data["code"] == reply.code
    return reply


def test_an_unknown_instrument_is_refused_with_the_nearest_name() -> None:
    reply = refused(quoted(), SetPriceAlert("EUR_USE", ABOVE, D("1.1")))

    assert reply.code == Reason.UNKNOWN_INSTRUMENT
    assert reply.message == "unknown instrument EUR_USE (did you mean EUR_USD?)"


def test_a_level_that_is_not_a_positive_number_is_refused() -> None:
    h = quoted()
    for level in ("NaN", "-1.1", "0", "Infinity"):
        reply = refused(h, SetPriceAlert("EUR_USD", ABOVE, D(level)))
        assert (reply.code, reply.message) == (
            Reason.INVALID_PRICE,
            "level must be a positive number",
        ), level


def test_a_level_finer_than_the_instruments_ticks_is_refused() -> None:
    reply = refused(quoted(), SetPriceAlert("EUR_USD", ABOVE, D("1.101234")))

    assert reply.code == Reason.PRICE_PRECISION_EXCEEDED
    assert reply.message == "level 1.101234 has more decimals than EUR_USD's 5"


def test_a_level_more_than_half_the_price_away_is_refused_as_a_typo() -> None:
    h = quoted()

    far_up = refused(h, SetPriceAlert("EUR_USD", ABOVE, D("11.0000")))
    far_down = refused(h, SetPriceAlert("EUR_USD", BELOW, D("0.5000")))

    assert far_up.code == far_down.code == Reason.ALERT_LEVEL_FAR
    assert "level 11.00000 is 900% from EUR_USD's mid 1.100050" in far_up.message
    assert "more than 50% away" in far_down.message


def test_a_level_the_market_is_already_past_is_refused() -> None:
    h = quoted()

    above = refused(h, SetPriceAlert("EUR_USD", ABOVE, D("1.10000")))
    below = refused(h, SetPriceAlert("EUR_USD", BELOW, D("1.10010")))

    assert above.code == below.code == Reason.ALERT_ALREADY_MET
    assert above.message.startswith("EUR_USD bid 1.10000 is already at or above 1.10000")
    assert below.message.startswith("EUR_USD ask 1.10010 is already at or below 1.10010")


def test_an_instrument_holds_at_most_the_cap_of_active_alerts() -> None:
    h = quoted()
    for i in range(MAX_ACTIVE_PER_INSTRUMENT):
        set_alert(h, ABOVE, f"{D('1.10100') + D(i) / 100000}")

    reply = refused(h, SetPriceAlert("EUR_USD", BELOW, D("1.09000")))
    other = h.do(SetPriceAlert("GBP_USD", BELOW, D("1.26000")))

    assert reply.code == Reason.ALERT_LIMIT
    assert f"already has {MAX_ACTIVE_PER_INSTRUMENT} active price alerts" in reply.message
    assert other.ok, other


def test_a_note_with_control_characters_is_refused_and_a_long_one_too() -> None:
    h = quoted()

    control = refused(h, SetPriceAlert("EUR_USD", ABOVE, D("1.102"), note="a\x1b[2Jb"))
    long = refused(h, SetPriceAlert("EUR_USD", ABOVE, D("1.102"), note="x" * 201))

    assert control.message == "note holds control characters"
    assert long.message == "note is longer than 200 characters"


def test_cancelling_an_alert_that_is_not_active_says_why() -> None:
    h = quoted()
    alert = set_alert(h, ABOVE, "1.10100")
    h.quote("EUR_USD", "1.10100", "1.10110")

    gone = refused(h, CancelPriceAlert(alert.id))
    unknown = refused(h, CancelPriceAlert("A999"))

    assert (gone.code, gone.message) == (
        Reason.UNKNOWN_ALERT,
        f"price alert {alert.id} is already hit",
    )
    assert unknown.message == "no active price alert A999 (tmt alert list)"


# restarts ---------------------------------------------------------------------------------------


def test_a_restart_from_a_checkpoint_keeps_the_active_alerts_and_their_trigger() -> None:
    h = quoted()
    kept = set_alert(h, ABOVE, "1.10100", note="keep")
    hit = set_alert(h, BELOW, "1.09990")
    h.quote("EUR_USD", "1.09980", "1.09989")

    after = restarted(h)
    after.quote("EUR_USD", "1.10100", "1.10110")

    assert [a.id for a in listed(after)] == []
    assert [e["id"] for e in hits(after)] == [kept.id]
    assert {a.id: a.status for a in listed(after, finished=True)} == {
        kept.id: AlertStatus.HIT,
        hit.id: AlertStatus.HIT,
    }


def test_replaying_the_events_rebuilds_the_same_alerts() -> None:
    h = quoted()
    set_alert(h, ABOVE, "1.10100", note="keep")
    gone = set_alert(h, BELOW, "1.09000")
    set_alert(h, BELOW, "1.09500")
    h.do(CancelPriceAlert(gone.id))

    replayed = Harness(start=False)
    for event in h.events:
        replayed.core.state.evolve(event)

    assert listed(replayed) == listed(h)
    assert replayed.core.state.price_alerts.trip == h.core.state.price_alerts.trip


async def test_a_real_engine_journals_alerts_and_keeps_them_across_restarts(
    journal_path: Path,
) -> None:
    settings = engine_settings(journal_path)
    async with running(settings) as client:
        quote = (await snapshot(client)).quotes[0]
        name = quote.instrument
        step = D(1).scaleb(-5 if "JPY" not in name else -3)
        level = (quote.bid * D("1.2")).quantize(step)  # far beyond where the sim wanders
        reply = await client.execute(SetPriceAlert(name, ABOVE, level, "far"))
        assert reply.ok, reply
        alert = reply.payload
        assert isinstance(alert, PriceAlert)

    async with running(settings) as client:  # from the shutdown's checkpoint
        assert [a.id for a in (await snapshot(client)).price_alerts] == [alert.id]

    with contextlib.closing(sqlite3.connect(journal_path)) as conn:  # no checkpoint: replay all
        conn.execute("delete from checkpoints")
        conn.commit()
    async with running(settings) as client:
        assert [a.id for a in (await snapshot(client)).price_alerts] == [alert.id]
        await fire(client, Quote(name, level, level + step, fixed_clock()))
        await eventually(
            lambda: events_of(journal_path, EventKind.PRICE_ALERT_HIT.value), "the hit journaled"
        )
        assert (await snapshot(client)).price_alerts == ()

    assert [data["id"] for _, data in events_of(journal_path, "price_alert.set")] == [alert.id]
    assert [data["id"] for _, data in events_of(journal_path, "price_alert.hit")] == [alert.id]


async def fire(client: LocalEngineClient, quote: Quote) -> None:
    """Hand ``quote`` to the engine as its feed would, on the engine's own thread."""
    runner = client.runner
    assert runner.loop is not None
    runner.loop.call_soon_threadsafe(runner._on_quote, quote)
