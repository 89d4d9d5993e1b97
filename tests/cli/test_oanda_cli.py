"""The OANDA commands as a trader runs them: `tmt oanda accounts`, and a headless `tmt engine`
on an OANDA account driven by the trader's CLI. Real `tmt` processes against the local v20
server on loopback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Engine, engine_env, start_engine
from tests.support.oanda import oanda_table
from tests.support.waiting import wait_for
from tmt_tui.venues.oanda_sim import views
from tmt_tui.venues.oanda_sim.server import V20ServerThread

TOKEN = "cli-oanda-token-5e1d0c2b9a"


@pytest.fixture
def server() -> Iterator[V20ServerThread]:
    with V20ServerThread(token=TOKEN, tick_interval=0.02, heartbeat_interval=0.1) as running:
        yield running


@pytest.fixture
def hedging_server() -> Iterator[V20ServerThread]:
    with V20ServerThread(token=TOKEN, hedging=True) as running:
        yield running


def oanda_config(home: Path, server: V20ServerThread) -> Path:
    """A config for the OANDA account at ``server``: its own journal, socket and metrics port."""
    config = home / "oanda.toml"
    config.write_text(
        f"""
[engine]
journal_path = "{home}/data/oanda.db"
market_data = "oanda"
broker = "oanda"

{oanda_table(server, instruments='["EUR_USD", "USD_JPY"]', max_connects_per_s="2.0")}
[api]
socket_path = "{home}/run/e.sock"

[monitoring]
metrics_port = 0

[[accounts]]
id = ""
"""
    )
    return config


def column(output: str, account: str, name: str) -> str:
    """The cell under header ``name`` in ``account``'s row of the accounts table."""
    lines = output.splitlines()
    header = next(line for line in lines if line.startswith("ACCOUNT"))
    row = next(line for line in lines if line.startswith(account))
    start = header.index(name)
    after = [header.index(n) for n in header.split() if header.index(n) > start]
    return row[start : min(after, default=len(row))].strip()


def tmt(
    home: Path, config: Path, *args: str, token: str = TOKEN
) -> subprocess.CompletedProcess[str]:
    env = engine_env(home)
    env["OANDA_TOKEN"] = token
    env.pop("OANDA_ACCOUNT_ID", None)
    return subprocess.run(
        [sys.executable, "-m", "tmt_tui", "--config", str(config), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


# tmt oanda accounts ---------------------------------------------------------------------------


def test_accounts_lists_the_account_its_currency_and_that_tmt_can_trade_it(
    home: Path, server: V20ServerThread
) -> None:
    done = tmt(home, oanda_config(home, server), "oanda", "accounts")

    assert done.returncode == 0, done.stderr
    assert "token ok: 1 account(s)" in done.stdout
    out, account = done.stdout, server.account_id
    assert column(out, account, "ACCOUNT") == account
    assert column(out, account, "CCY") == "USD"
    assert column(out, account, "HEDGING") == "no"
    assert column(out, account, "TMT") == "ok"


def test_accounts_json_parses_and_names_the_environment(
    home: Path, server: V20ServerThread
) -> None:
    done = tmt(home, oanda_config(home, server), "oanda", "accounts", "--json")

    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["environment"], answer["url"]) == ("local", server.url)
    (account,) = answer["accounts"]
    assert (account["id"], account["currency"]) == (server.account_id, "USD")
    assert (account["hedgingEnabled"], account["tradeable"]) == (False, True)
    assert Decimal(account["balance"]) == Decimal("100000")


def test_a_wrong_token_exits_2_says_rejected_and_never_prints_the_token(
    home: Path, server: V20ServerThread
) -> None:
    wrong = "wrong-token-4c9d8e7f6a5b"

    done = tmt(home, oanda_config(home, server), "oanda", "accounts", token=wrong)

    assert done.returncode == 2
    assert "rejected" in done.stderr
    assert wrong not in done.stdout + done.stderr
    assert TOKEN not in done.stdout + done.stderr


def test_an_unreachable_oanda_exits_2_and_names_the_url(home: Path) -> None:
    with V20ServerThread(token=TOKEN) as gone:
        config = oanda_config(home, gone)
        url = gone.url

    done = tmt(home, config, "oanda", "accounts")

    assert done.returncode == 2
    assert f"OANDA unreachable at {url}" in done.stderr


def test_a_hedging_account_is_listed_as_not_tradeable(
    home: Path, hedging_server: V20ServerThread
) -> None:
    done = tmt(home, oanda_config(home, hedging_server), "oanda", "accounts")

    assert done.returncode == 0, done.stderr
    out, account = done.stdout, hedging_server.account_id
    assert column(out, account, "HEDGING") == "yes"
    assert column(out, account, "TMT") == "no: hedging"


# tmt engine on an OANDA account -----------------------------------------------------------------


@pytest.fixture
def oanda_engine(
    home: Path, server: V20ServerThread, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """`tmt engine` on the server's account; the engine and every `tmt` get $OANDA_TOKEN."""
    monkeypatch.setenv("OANDA_TOKEN", TOKEN)
    running = start_engine(home, oanda_config(home, server))
    # status answers as soon as the API listens; orders are refused RECONCILING until the
    # first reconciliation, and NO_QUOTE until the first price: a trader waits for both
    wait_for(lambda: trading(running.json("status")), "reconciled and priced", interval=0.1)
    yield running
    running.stop()


def trading(status: Any) -> bool:
    return "venue.reconciling" not in status["alerts"] and status["quote_age_s"] is not None


def test_a_headless_engine_trades_the_oanda_account_from_the_cli(
    oanda_engine: Engine, server: V20ServerThread
) -> None:
    bought = oanda_engine.tmt("buy", "EUR_USD", "1k", "--wait", "fill")

    assert bought.returncode == 0, bought.stderr
    assert "filled +1,000 EUR_USD" in bought.stdout
    (position,) = oanda_engine.json("positions")
    assert (position["account"], position["instrument"], position["units"]) == (
        server.account_id,
        "EUR_USD",
        1000,
    )
    stopped = oanda_engine.tmt("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert oanda_engine.proc.wait(20) == 0
    trades = server.call(lambda s: views.open_trades(s.ledger))
    assert [(t["id"], t["instrument"], t["currentUnits"]) for t in trades] == [
        (position["trades"][0]["id"], "EUR_USD", "1000")
    ]
