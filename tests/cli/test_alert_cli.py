"""`tmt alert`: set, list and cancel price alerts on a real `tmt engine`, as a script would;
instrument names as people type them, usage errors apart (64) from refusals (3) and from an
engine that is not there (2), and every alert in the audit trail."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Engine, engine_env, start_engine, write_config

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """One engine for the module: each test works on alerts it set itself."""
    home = Path(tempfile.mkdtemp(prefix="tmta", dir="/tmp"))  # a short socket path
    running = start_engine(home, write_config(home))
    yield running
    running.stop()


def above_the_market(engine: Engine, instrument: str = "EUR_USD", share: str = "1.01") -> str:
    """A level ``share`` times the bid: above it, well inside the 50% sanity band."""
    quote = engine.json("quote", instrument)
    assert isinstance(quote, dict)
    return str((Decimal(quote["bid"]) * Decimal(share)).quantize(Decimal(quote["bid"])))


def set_alert(engine: Engine, *words: str) -> dict[str, Any]:
    answer = engine.json("alert", *words)
    assert isinstance(answer, dict) and answer["ok"], answer
    alert = answer["alert"]
    assert isinstance(alert, dict)
    return alert


def active(engine: Engine, *words: str) -> dict[str, dict[str, Any]]:
    listed = engine.json("alert", "list", *words)
    assert isinstance(listed, dict)
    return {a["id"]: a for a in listed["alerts"]}


def test_an_alert_set_from_the_cli_is_listed_with_its_level_at_instrument_precision(
    engine: Engine,
) -> None:
    level = above_the_market(engine)

    result = engine.tmt("alert", "EUR_USD", "above", level.rstrip("0"), "--note", "breakout")
    alert_id = result.stdout.split()[2].rstrip(":")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"price alert {alert_id}: EUR_USD above {level} (fires once: bid >= {level})"
    )
    listed = engine.tmt("alert", "list", "EUR_USD")
    row = next(line for line in listed.stdout.splitlines() if line.startswith(alert_id))
    assert row.split()[1:5] == ["EUR_USD", "above", level, "active"]
    assert ISO.search(row) and row.endswith("breakout")


def test_list_json_is_an_object_with_iso_times(engine: Engine) -> None:
    alert = set_alert(engine, "GBP_USD", "below", "1.0000", "--note", "far below")

    listed = engine.json("alert", "list", "--json")

    assert isinstance(listed, dict) and listed["ok"] is True
    shown = next(a for a in listed["alerts"] if a["id"] == alert["id"])
    assert shown["instrument"] == "GBP_USD"
    assert (shown["side"], shown["level"], shown["status"]) == ("below", "1.00000", "active")
    assert shown["note"] == "far below"
    assert ISO.fullmatch(shown["created_ts_iso"])


def test_instrument_names_are_read_as_people_type_them(engine: Engine) -> None:
    level = above_the_market(engine, share="1.02")

    typed = [set_alert(engine, name, "above", level) for name in ("eurusd", "EUR/USD")]

    assert [a["instrument"] for a in typed] == ["EUR_USD", "EUR_USD"]


def test_cancel_ends_an_alert_and_list_all_shows_it_cancelled(engine: Engine) -> None:
    alert = set_alert(engine, "USD_JPY", "below", "100.000")

    result = engine.tmt("alert", "cancel", alert["id"].lower())

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"cancelled price alert {alert['id']} (USD_JPY below 100.000)"
    assert alert["id"] not in active(engine)
    assert active(engine, "--all")[alert["id"]]["status"] == "cancelled"
    again = engine.tmt("alert", "cancel", alert["id"])
    assert again.returncode == 3
    assert again.stderr.strip() == (
        f"tmt: rejected: UNKNOWN_ALERT: price alert {alert['id']} is already cancelled"
    )


def test_the_engines_refusals_exit_3_naming_what_and_why(engine: Engine) -> None:
    typo = engine.tmt("alert", "EUR_USE", "above", "1.1")
    far = engine.tmt("alert", "EUR_USD", "above", "9.9", "--json")
    not_a_number = engine.tmt("alert", "EUR_USD", "above", "1.1x")

    assert typo.returncode == far.returncode == not_a_number.returncode == 3
    assert typo.stderr.strip() == (
        "tmt: rejected: UNKNOWN_INSTRUMENT: unknown instrument EUR_USE (did you mean EUR_USD?)"
    )
    answer = json.loads(far.stdout)
    assert (answer["ok"], answer["code"]) == (False, "ALERT_LEVEL_FAR")
    assert "more than 50% away" in answer["message"]
    assert not_a_number.stderr.strip() == "tmt: level: '1.1x' is not a number"


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (("EUR_USD", "abov", "1.1"), "the side must be above or below, not 'abov' (did you mean"),
        (("EUR_USD", "above"), "give INSTRUMENT above|below LEVEL"),
        (("cancel",), "cancel takes one alert ID"),
    ],
)
def test_a_command_line_of_the_wrong_shape_is_a_usage_error(
    engine: Engine, words: tuple[str, ...], says: str
) -> None:
    result = engine.tmt("alert", *words, "--json")

    assert result.returncode == 64
    answer = json.loads(result.stdout)
    assert (answer["ok"], answer["code"]) == (False, "USAGE")
    assert says in answer["message"]


def test_every_set_and_cancel_is_in_the_audit_trail(engine: Engine) -> None:
    alert = set_alert(engine, "EUR_USD", "below", "0.9000")
    engine.tmt("alert", "cancel", alert["id"])

    trail = engine.tmt("events", "--json")

    kinds = {
        (e["kind"], e["data"].get("id"))
        for e in map(json.loads, trail.stdout.splitlines())
        if e["kind"].startswith("price_alert.")
    }
    assert {("price_alert.set", alert["id"]), ("price_alert.cancelled", alert["id"])} <= kinds


def test_without_an_engine_it_says_unreachable_and_exits_2() -> None:
    home = Path(tempfile.mkdtemp(prefix="tmtn", dir="/tmp"))
    nobody = Engine(None, engine_env(home), home, write_config(home))  # type: ignore[arg-type]

    result = nobody.tmt("alert", "list")

    assert result.returncode == 2
    assert "engine unreachable" in result.stderr


def test_the_audit_export_has_each_alert_event_as_a_control_row(engine: Engine) -> None:
    alert = set_alert(engine, "EUR_USD", "below", "0.9100", "--note", "for the record")
    out = engine.home / "report"

    result = engine.tmt("report", "--out", str(out), "--format", "jsonl")

    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (out / "controls.jsonl").read_text().splitlines()]
    sets = [r for r in rows if r["kind"] == "price_alert.set"]
    (row,) = [r for r in sets if r["detail"]["id"] == alert["id"]]
    assert row["origin"] == "cli"
    assert row["detail"]["note"] == "for the record" and row["detail"]["level"] == "0.91000"
