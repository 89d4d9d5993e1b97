"""`tmt engine` headless, driven by the trader's CLI as a script would: real processes only."""

from __future__ import annotations

import re
import signal
import stat
from datetime import datetime

import pytest

from tests.support.cli import Engine, engine_env, start_engine, write_config
from tests.support.waiting import wait_for


def test_status_reports_accounts_and_a_fresh_feed(engine: Engine) -> None:
    status = engine.json("status")

    assert [a["id"] for a in status["accounts"]] == ["SIM-USD", "SIM-EUR"]
    assert status["stale"] is False and status["halted"] == []


def test_buy_waits_for_the_fill_and_the_position_shows(engine: Engine) -> None:
    result = engine.tmt("buy", "EUR_USD", "10k", "--wait", "fill")

    assert result.returncode == 0, result.stderr
    assert "filled +10,000 EUR_USD" in result.stdout
    positions = engine.json("positions")
    assert [(p["instrument"], p["units"]) for p in positions] == [("EUR_USD", 10000)]


def test_a_rejected_order_exits_3_with_the_reason_on_one_line(engine: Engine) -> None:
    result = engine.tmt("buy", "EUR_USD", "10k", "--limit", "0.5")

    assert result.returncode == 3
    assert result.stderr.strip().count("\n") == 0
    assert "PRICE_COLLAR" in result.stderr


def test_bad_input_is_refused_before_anything_is_sent(engine: Engine) -> None:
    for units in ("abc", "0", "nan"):
        result = engine.tmt("buy", "EUR_USD", units)
        assert result.returncode == 3, (units, result.stderr)
        assert "Units" in result.stderr
    assert engine.json("orders", "--all") == []


def test_a_negative_size_says_which_verb_was_meant_and_exits_64(engine: Engine) -> None:
    small = engine.tmt("buy", "eurusd", "-5")
    large = engine.tmt("sell", "--account", "SIM-USD", "USD_JPY", "-10k")

    assert small.returncode == large.returncode == 64
    assert small.stderr.strip() == (
        "tmt: error: units must be positive (the verb gives the side): "
        "to sell, use `tmt sell EUR_USD 5`"
    )
    assert "to buy, use `tmt buy USD_JPY 10k`" in large.stderr
    assert engine.json("orders", "--all") == []


def test_limit_order_is_modified_then_cancelled(engine: Engine) -> None:
    quote = engine.json("quote", "EUR_USD")
    price = f"{float(quote['bid']) * 0.99:.5f}"
    placed = engine.json("buy", "EUR_USD", "1000", "--limit", price)
    order_id = placed["order_id"]

    new_price = f"{float(quote['bid']) * 0.985:.5f}"
    assert engine.tmt("modify", order_id, "--price", new_price).returncode == 0
    assert engine.tmt("cancel", order_id).returncode == 0

    assert engine.json("orders") == []  # nothing working
    orders = {o["id"]: o for o in engine.json("orders", "--all")}
    assert orders[order_id]["status"] == "CANCELLED"
    assert orders[order_id]["price"] == new_price


def test_kill_halts_every_account_and_check_fails_until_reset(engine: Engine) -> None:
    killed = engine.tmt("kill")
    assert killed.returncode == 0, killed.stderr
    assert "HALTED" in killed.stdout

    assert engine.tmt("status", "--check").returncode == 1
    assert engine.tmt("buy", "EUR_USD", "1000").returncode == 3
    assert engine.tmt("reset-kill").returncode == 3  # needs --yes
    assert engine.tmt("reset-kill", "--yes").returncode == 0
    assert engine.tmt("status", "--check").returncode == 0


def test_sigusr1_engages_the_kill_switch(engine: Engine) -> None:
    engine.proc.send_signal(signal.SIGUSR1)

    wait_for(
        lambda: engine.json("status")["halted"] == ["SIM-USD", "SIM-EUR"], "HALTED", interval=0.1
    )


def test_close_and_flatten_leave_no_position(engine: Engine) -> None:
    engine.tmt("buy", "EUR_USD", "5000")
    engine.tmt("sell", "USD_JPY", "3000", "--account", "SIM-EUR")

    assert engine.tmt("close", "EUR_USD").returncode == 0
    assert engine.tmt("flatten").returncode == 3  # needs --yes
    assert engine.tmt("flatten", "--yes").returncode == 0
    assert engine.json("positions") == []


def test_stop_ends_the_engine_gracefully(engine: Engine) -> None:
    assert engine.tmt("stop").returncode == 0

    engine.proc.wait(20)
    assert engine.proc.returncode == 0


def test_unreachable_engine_exits_2(engine: Engine) -> None:
    engine.stop()

    result = engine.tmt("status")
    assert result.returncode == 2
    assert "unreachable" in result.stderr


def test_sigterm_stops_gracefully_and_cancels_when_configured(home) -> None:  # type: ignore[no-untyped-def]
    config = write_config(home)
    config.write_text(config.read_text().replace('on_shutdown = "leave"', 'on_shutdown = "cancel"'))
    engine = start_engine(home, config)
    quote = engine.json("quote", "EUR_USD")
    placed = engine.json("buy", "EUR_USD", "1000", "--limit", f"{float(quote['bid']) * 0.99:.5f}")

    assert engine.stop() == 0

    again = start_engine(home, config)
    try:
        orders = {o["id"]: o for o in again.json("orders", "--all")}
        assert orders[placed["order_id"]]["status"] == "CANCELLED"
    finally:
        again.stop()


def test_config_check_names_the_key(home) -> None:  # type: ignore[no-untyped-def]
    bad = home / "bad.toml"
    bad.write_text('[ui]\nfps = "fast"\n[[accounts]]\nid = "A"\n')
    engine = Engine(None, engine_env(home), home, bad)  # type: ignore[arg-type]
    result = engine.tmt("config", "check", str(bad))

    assert result.returncode == 2
    assert "ui.fps" in result.stderr and "integer" in result.stderr


def test_the_engine_serves_metrics_and_health(engine: Engine) -> None:
    import re
    import urllib.request

    engine.tmt("buy", "EUR_USD", "1000")
    url = re.search(r"metrics on (http://127\.0\.0\.1:\d+)", engine.stderr())
    assert url, engine.stderr()

    metrics = urllib.request.urlopen(f"{url.group(1)}/metrics", timeout=5).read().decode()
    health = urllib.request.urlopen(f"{url.group(1)}/healthz", timeout=5)

    assert "tmt_fills_total 1.0" in metrics
    assert health.status == 200


def test_the_token_never_reaches_the_log_or_the_journal(engine: Engine) -> None:
    engine.tmt("buy", "EUR_USD", "1000")
    engine.tmt("kill")
    token = (engine.home / "state" / "tmt" / "api.token").read_text().strip()
    engine.stop()

    journal = (engine.home / "data" / "tmt" / "journal.db").read_bytes()
    assert token.encode() not in journal
    assert token not in engine.stderr()
    assert token not in (engine.home / "state" / "tmt" / "tmt.log").read_text()


def test_the_log_and_the_journal_are_the_owner_s_only(engine: Engine) -> None:
    """Both say what the trader holds and does: 0600 in 0700 directories, like the token."""
    log = engine.home / "state" / "tmt" / "tmt.log"
    journal = engine.home / "data" / "tmt" / "journal.db"

    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in (log, journal)}
    dirs = {p.parent: stat.S_IMODE(p.parent.stat().st_mode) for p in (log, journal)}

    assert modes == {log: 0o600, journal: 0o600}
    assert set(dirs.values()) == {0o700}


def test_an_instrument_is_taken_as_people_type_it_and_a_near_miss_gets_a_suggestion(
    engine: Engine,
) -> None:
    quoted = engine.json("quote", "eurusd")
    missed = engine.tmt("quote", "EUR/UDS")

    assert isinstance(quoted, dict) and quoted["instrument"] == "EUR_USD"
    assert missed.returncode == 3
    assert "unknown instrument EUR_UDS (did you mean EUR_USD?)" in missed.stderr + missed.stdout


def test_orders_shows_working_orders_and_all_shows_the_history_newest_first(
    engine: Engine,
) -> None:
    engine.tmt("buy", "EUR_USD", "1000")
    quote = engine.json("quote", "EUR_USD")
    working = engine.json("buy", "EUR_USD", "1000", "--limit", f"{float(quote['bid']) * 0.99:.5f}")

    shown = engine.json("orders")
    history = engine.json("orders", "--all")
    text = engine.tmt("orders", "--all").stdout.splitlines()

    assert [o["id"] for o in shown] == [working["order_id"]]  # type: ignore[index]
    assert [o["status"] for o in history] == ["WORKING", "FILLED"]  # type: ignore[index]
    assert [line.split()[1] for line in text] == [o["id"] for o in history]  # type: ignore[index]


def test_prices_are_echoed_at_the_instrument_s_precision(engine: Engine) -> None:
    """EUR_USD quotes in 5 decimals and USD_JPY in 3: fills, quotes and averages say so."""
    eur = engine.tmt("buy", "EUR_USD", "10k", "--wait", "fill").stdout
    jpy = engine.tmt("sell", "USD_JPY", "3k").stdout
    quote = engine.tmt("quote", "USD_JPY").stdout
    positions = engine.tmt("positions").stdout.splitlines()[1:]

    assert re.search(r"^filled \+10,000 EUR_USD @ \d\.\d{5} \(", eur), eur
    assert re.search(r"^filled -3,000 USD_JPY @ \d{3}\.\d{3} \(", jpy), jpy
    assert re.search(r"^USD_JPY bid \d{3}\.\d{3} ask \d{3}\.\d{3} ", quote), quote
    averages = {line.split()[1]: line.split()[3] for line in positions}
    assert re.fullmatch(r"\d\.\d{5}", averages["EUR_USD"]), positions
    assert re.fullmatch(r"\d{3}\.\d{3}", averages["USD_JPY"]), positions


ISO_UTC = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def test_times_read_as_iso_utc_and_json_keeps_epoch_seconds_beside_them(engine: Engine) -> None:
    quote = engine.json("quote", "EUR_USD")
    engine.tmt("buy", "EUR_USD", "1000")
    (order,) = engine.json("orders", "--all")  # type: ignore[misc]
    quote_text = engine.tmt("quote", "EUR_USD").stdout
    event_lines = engine.tmt("events").stdout.splitlines()

    assert isinstance(quote, dict) and isinstance(quote["ts"], float)
    assert re.fullmatch(ISO_UTC, quote["ts_iso"])
    assert datetime.fromisoformat(quote["ts_iso"]).timestamp() == pytest.approx(
        quote["ts"], abs=0.001
    )
    assert re.fullmatch(ISO_UTC, order["created_ts_iso"])
    assert re.search(rf" at {ISO_UTC}$", quote_text.strip()), quote_text
    assert all(re.fullmatch(ISO_UTC, line.split()[1]) for line in event_lines), event_lines
