"""Suite 7, secrets: distinctive fake secrets (the OANDA token, the control API token, the
Polygon/Massive key, a database password, and wrong ones of each kind) are absent from
everything a user's session leaves: logs, journal bytes (db, wal, shm), the state dir, report
exports, /metrics, /healthz, and every process's stdout and stderr (where any traceback lands).

Each test is one session run the way a user runs it: the local venue as its own `tmt` process,
`tmt engine --verbose` (DEBUG logging) with the secrets in its environment, and `tmt` commands
over the control API, including the refusal paths a secret is most likely to be echoed on.
The database password sits in ``TMT_PG_DSN`` and ``PGPASSWORD`` although nothing reads them
yet: PostgreSQL sync (issue 14) extends this suite with its own connection and error paths.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.monitoring import http_get
from tests.support.waiting import wait_for

from .artifacts import SECRETS, Artifacts, leaks
from .processes import (
    Run,
    answer,
    answer_of,
    oanda_sim,
    polygon_sim,
    session,
    start_engine,
    stop_engine,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home() -> Iterator[Path]:
    # short: a Unix socket path must stay under 107 bytes
    path = Path(tempfile.mkdtemp(prefix="tmts", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def oanda_config(run: Run, url: str) -> Path:
    """The OANDA account at ``url`` (environment local), with its own journal, socket, port."""
    config = run.home / "oanda.toml"
    config.write_text(
        f"""
[engine]
journal_path = "{run.home}/data/oanda.db"
market_data = "oanda"
broker = "oanda"

[oanda]
environment = "local"
rest_url = "{url}"
account_id = "101-001-0000001-001"
instruments = ["EUR_USD", "USD_JPY"]
stream_silence_s = 2.0
reconnect_backoff_s = 0.05
max_backoff_s = 0.2

[api]
socket_path = "{run.home}/run/e.sock"

[monitoring]
metrics_port = 0

[[accounts]]
id = ""
"""
    )
    return config


def polygon_config(run: Run, url: str) -> Path:
    """config/polygon-local.toml pointed at ``url``, with its own journal, socket and port."""
    text = (ROOT / "config/polygon-local.toml").read_text()
    journal = 'journal_path = "~/.local/share/tmt/polygon-local.db"'
    assert journal in text and 'cluster = "local"' in text  # never the user's own journal
    text = text.replace(journal, f'journal_path = "{run.home}/data/polygon.db"')
    text = text.replace('cluster = "local"', f'cluster = "local"\nurl = "{url}"')
    config = run.home / "polygon.toml"
    config.write_text(
        text + f'\n[api]\nsocket_path = "{run.home}/run/e.sock"\n\n[monitoring]\nmetrics_port = 0\n'
    )
    return config


def scrape(run: Run, url: str, label: str) -> str:
    """/metrics and /healthz over HTTP, both kept for the search; the metrics text."""
    status, metrics, _ = http_get(f"{url}/metrics")
    assert status == 200
    run.found.add(f"{label} /metrics", metrics)
    run.found.add(f"{label} /healthz", http_get(f"{url}/healthz")[1])
    return metrics


def export_and_verify(run: Run, config: Path) -> None:
    """`tmt report` in both formats and `tmt report verify`, as an auditor runs them."""
    out = run.home / "export"
    for fmt in ("csv", "jsonl"):
        exported = run.tmt("report", "--config", str(config), "--out", str(out), "--format", fmt)
        assert exported.returncode == 0, exported.stderr
    verified = run.tmt("report", "verify", "--config", str(config), "--json")
    assert verified.returncode == 0, verified.stderr
    assert {"orders.csv", "orders.jsonl", "manifest.json"} <= {f.name for f in out.iterdir()}


def assert_nothing_leaked(run: Run) -> None:
    found = leaks(run.found.everything())
    assert not found, "secrets leaked:\n" + "\n".join(map(str, found))


def disguises(value: str) -> dict[str, bytes]:
    """``value`` the ways a careless program writes it: in a log line, a query string, JSON,
    and base64 behind a prefix of each length modulo 3 (Basic auth, an encoded blob)."""
    shapes = {
        "logged": f"DEBUG token={value} sent".encode(),
        "in a URL": f"GET /v3/x?token={urllib.parse.quote(value, safe='')}&a=1".encode(),
        "in a form": f"key={urllib.parse.quote_plus(value)}&a=1".encode(),
        "in JSON": json.dumps({"key": value}).replace("/", "\\/").encode(),
    }
    for prefix in ("tmt:", "user:", "u:"):
        raw = (prefix + value + ":x").encode()
        shapes[f"base64 after {prefix!r}"] = b"Basic " + base64.b64encode(raw) + b"\n"
        shapes[f"urlsafe base64 after {prefix!r}"] = base64.urlsafe_b64encode(raw)
    return shapes


def test_the_search_finds_every_secret_however_it_is_written(tmp_path: Path) -> None:
    """The search proves absence only because it sees presence: each secret, written each way
    into a file under a searched directory or into a kept output, is found and named."""
    planted = Artifacts(roots=[tmp_path])
    expected: set[tuple[str, str]] = set()
    for i, (kind, value) in enumerate(SECRETS.items()):
        for j, (how, data) in enumerate(disguises(value).items()):
            (tmp_path / f"{i}-{j}.log").write_bytes(data)
            planted.add(f"{kind} {how}", data)
            expected |= {(str(tmp_path / f"{i}-{j}.log"), kind), (f"{kind} {how}", kind)}
    clean = Artifacts()
    clean.add("an output", "api-tok+ and pk-massive- are prefixes of secrets, not secrets")

    found = leaks(planted.everything())

    assert {(leak.artifact, leak.kind) for leak in found} == expected
    assert leaks(clean.everything()) == []


def test_an_oanda_session_leaves_no_secret_behind(home: Path) -> None:
    with session(home) as run:
        # Arrange: the local v20 server; the token checked, right and wrong, as a user does
        url, venue = oanda_sim(run)
        config = oanda_config(run, url)
        cfg = ("--config", str(config))
        assert run.tmt("oanda", "accounts", *cfg, "--json").returncode == 0
        wrong_oanda = {"OANDA_TOKEN": SECRETS["wrong OANDA token"]}
        assert run.tmt("oanda", "accounts", *cfg, **wrong_oanda).returncode == 2
        refused = run.tmt("engine", *cfg, "--verbose", **wrong_oanda)
        assert refused.returncode == 2 and "rejected" in refused.stderr, refused.stderr

        # Act: the right token, and a trader's session over the control API
        engine, metrics_url = start_engine(run, config, "engine-oanda")
        wait_for(
            lambda: (
                (s := answer(run.tmt("status", *cfg, "--json")))["quote_age_s"] is not None
                and "venue.reconciling" not in s["alerts"]
            ),
            "reconciled and priced",
            within=30,
            interval=0.1,
        )
        assert answer(run.tmt("buy", "EUR_USD", "1000", *cfg, "--wait", "fill", "--json"))["ok"]
        assert answer(run.tmt("sell", "USD_JPY", "2k", *cfg, "--json"))["ok"]
        by_risk = run.tmt("buy", "EUR_USD", "999999999", *cfg, "--json")
        by_oanda = run.tmt("buy", "EUR_USD", "1000", "--tsl", "0.0000001", *cfg, "--json")
        for view in ("orders", "positions", "trades", "events", "status"):
            answer(run.tmt(view, *cfg, "--json"))
        answer(run.tmt("quote", "EUR_USD", *cfg, "--json"))
        wrong_api = run.tmt("status", *cfg, "--json", TMT_API_TOKEN=SECRETS["wrong API token"])
        venue.terminate()  # OANDA goes away: the dropped-stream and refusal paths
        venue.wait(20)
        wait_for(
            lambda: "stream dropped" in (home / "out/engine-oanda.err").read_text(),
            "the dropped price stream reported",
        )
        while_down = run.tmt("buy", "EUR_USD", "1000", *cfg, "--json")
        assert answer(run.tmt("kill", *cfg, "--json"))["ok"]
        metrics = scrape(run, metrics_url, "oanda")
        run.keep_live(home / "data")
        stop_engine(engine)
        export_and_verify(run, config)

    # Assert: the session went where a secret could leak, and no secret is anywhere
    assert by_risk.returncode != 0 and not answer_of(by_risk)["ok"]
    assert answer_of(by_oanda)["code"].startswith("TRAILING_STOP_LOSS_ON_FILL"), by_oanda.stdout
    assert wrong_api.returncode != 0, wrong_api.stdout
    assert not answer_of(while_down)["ok"], while_down.stdout
    assert "tmt_api_auth_failures_total 1.0" in metrics
    assert re.search(r"^tmt_fills_total [1-9]", metrics, re.M), metrics
    assert not (home / "state/tmt/api.token").exists()  # the env's token is never written down
    assert_nothing_leaked(run)


def test_a_polygon_session_leaves_no_secret_behind(home: Path) -> None:
    with session(home) as run:
        # Arrange: the local Polygon/Massive server, and an engine started with a wrong key
        url = polygon_sim(run)
        config = polygon_config(run, url)
        cfg = ("--config", str(config))
        wrong, wrong_url = start_engine(
            run, config, "engine-wrong-key", MASSIVE_API_KEY=SECRETS["wrong Polygon key"]
        )
        wait_for(
            lambda: "refused the API key" in (home / "out/engine-wrong-key.err").read_text(),
            "the refused key reported",
        )
        scrape(run, wrong_url, "polygon, wrong key")
        stop_engine(wrong)

        # Act: the right key, an order filled at a Polygon price
        engine, metrics_url = start_engine(run, config, "engine-polygon")
        wait_for(
            lambda: answer(run.tmt("status", *cfg, "--json"))["quote_age_s"] is not None,
            "polygon quotes",
            within=30,
            interval=0.1,
        )
        assert answer(run.tmt("buy", "EUR_USD", "10k", *cfg, "--wait", "fill", "--json"))["ok"]
        answer(run.tmt("positions", *cfg, "--json"))
        metrics = scrape(run, metrics_url, "polygon")
        run.keep_live(home / "data")
        stop_engine(engine)
        export_and_verify(run, config)

    # Assert
    assert re.search(r"^tmt_fills_total [1-9]", metrics, re.M), metrics
    assert_nothing_leaked(run)
