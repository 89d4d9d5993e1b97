"""The real Prometheus scrapes a real engine; promtool accepts and unit-tests the shipped rules;
every query in the shipped rules and dashboard names metrics the engine exports and parses.

Prometheus and promtool come from the distribution (`apt-get install prometheus`, which
`.ci/run` does when they are missing); without them these tests skip and say so.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import urllib.parse
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.engines import engine_settings
from tests.support.monitoring import (
    account,
    filled,
    http_get,
    rejected,
    submitted,
    trade,
    watched_engine,
)
from tests.support.waiting import eventually
from tmt_tui.domain.client import Reply
from tmt_tui.domain.positions import TradingState
from tmt_tui.domain.quotes import Quote
from tmt_tui.monitoring.metrics import EngineMetrics

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "tmt_tui" / "resources" / "config"
RULES = CONFIG / "prometheus" / "tmt-rules.yml"
SCRAPE_EXAMPLE = CONFIG / "prometheus" / "prometheus.yml"
DASHBOARD = CONFIG / "grafana" / "tmt.json"
RULE_TESTS = Path(__file__).parent / "prometheus" / "tmt-rules.test.yml"

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
needs_prometheus = pytest.mark.skipif(
    PROMETHEUS is None,
    reason="prometheus is not installed (apt-get install -y --no-install-recommends prometheus)",
)
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is not installed (apt-get install -y --no-install-recommends prometheus)",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Prometheus:
    """A Prometheus server on a free loopback port with a temp data dir, scraping ``target``."""

    def __init__(self, tmp: Path, target: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = tmp / "prometheus.yml"
        config.write_text(
            yaml.safe_dump(
                {
                    "global": {"scrape_interval": "500ms", "scrape_timeout": "400ms"},
                    "scrape_configs": [
                        {"job_name": "tmt", "static_configs": [{"targets": [target]}]}
                    ],
                }
            )
        )
        self.log = tmp / "prometheus.log"
        assert PROMETHEUS is not None
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"prometheus exited: {self.log.read_text()[-2000:]}")
        try:
            return http_get(f"{self.url}/-/ready")[0] == 200
        except OSError:
            return False

    def query(self, promql: str) -> dict[str, Any]:
        status, body, _ = http_get(
            f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
        )
        answer: dict[str, Any] = json.loads(body)
        answer["http_status"] = status
        return answer

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def prometheus_for(tmp_path: Path) -> Iterator[Any]:
    started: list[Prometheus] = []

    def start(target: str) -> Prometheus:
        server = Prometheus(tmp_path / f"prometheus-{len(started)}", target)
        started.append(server)
        return server

    (tmp_path / "prometheus-0").mkdir()
    (tmp_path / "prometheus-1").mkdir()
    yield start
    for server in started:
        server.stop()


def scalar(answer: dict[str, Any]) -> float | None:
    result = answer.get("data", {}).get("result", [])
    return float(result[0]["value"][1]) if result else None


@needs_prometheus
async def test_prometheus_scrapes_the_fills_of_a_real_engine(
    journal_path: Path, prometheus_for: Any
) -> None:
    async with watched_engine(engine_settings(journal_path)) as engine:
        fills = (await trade(engine.client, fills=3))["MARKET"]
        server = engine.monitoring.server
        assert server is not None
        prometheus = prometheus_for(f"127.0.0.1:{server.port}")
        await eventually(prometheus.ready, within=30)

        def fills_seen() -> float | None:
            seen = scalar(prometheus.query("tmt_fills_total"))
            return seen if seen is not None and seen >= fills else None

        seen = await eventually(fills_seen, within=30, interval=0.1)
        equity = scalar(prometheus.query('tmt_equity{account="SIM-USD", currency="USD"}'))

    assert seen == fills
    assert equity is not None and equity > 0


def exported_names() -> set[str]:
    """Every sample name a busy engine exports (counters with _total, histograms' series)."""
    metrics = EngineMetrics()
    metrics.quote(Quote("EUR_USD", Decimal(1), Decimal(1), 0.0), 0.0, True)
    metrics.committed([submitted("O1"), filled("O1"), rejected("STALE_QUOTE")], 0.001)
    metrics.replied("SubmitOrder", Reply(True, "OK", "", "O1"), 0.001)
    metrics.marks([account(state=TradingState.HALTED)], 0.0, 0.0)
    metrics.alert_changed("reject_burst", True, "")
    metrics.reconnected("sim")
    return {sample.name for family in metrics.registry.collect() for sample in family.samples}


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    queries += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    return queries


def rule_queries() -> list[str]:
    rules = yaml.safe_load(RULES.read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def metric_names(promql: str) -> set[str]:
    """Names of metrics a query reads (identifiers that are not functions, keywords or labels)."""
    without_strings = re.sub(r'"[^"]*"', '""', promql)
    without_labels = re.sub(r"\{[^}]*\}", "", without_strings)
    without_groupings = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", without_labels)
    names = set(re.findall(r"\b([a-z_][a-z0-9_]*)\b(?!\s*\()", without_groupings))
    return {n for n in names if n.startswith(("tmt_", "process_", "python_"))}


def test_the_dashboard_and_the_rules_read_only_metrics_the_engine_exports() -> None:
    exported = exported_names() | {"up"}

    read = set().union(*(metric_names(q) for q in dashboard_queries() + rule_queries()))

    assert read, "no metric names found in the shipped queries"
    assert read - exported == set()
    assert {"tmt_equity", "tmt_order_ack_seconds_bucket", "process_cpu_seconds_total"} <= read


def test_the_dashboard_is_a_grafana_dashboard_with_unique_panel_ids() -> None:
    dashboard = json.loads(DASHBOARD.read_text())

    ids = [panel["id"] for panel in dashboard["panels"]]
    assert dashboard["uid"] == "tmt-engine" and dashboard["schemaVersion"] >= 36
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        for target in panel.get("targets", []):
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


@needs_prometheus
async def test_every_shipped_query_is_valid_promql_for_a_real_prometheus(
    tmp_path: Path, prometheus_for: Any
) -> None:
    prometheus = prometheus_for("127.0.0.1:9")  # nothing to scrape: parsing is the point
    await eventually(prometheus.ready, within=30)
    grafana_variables = {
        "$__rate_interval": "1m", "$instance": ".*", "$account": ".*", "${datasource}": "x",
    }  # fmt: skip

    failures = []
    for query in dashboard_queries() + rule_queries():
        promql = query
        for variable, replacement in grafana_variables.items():
            promql = promql.replace(variable, replacement)
        if promql.startswith("label_values("):
            promql = promql.removeprefix("label_values(").rsplit(",", 1)[0]
        answer = prometheus.query(promql)
        if answer.get("status") != "success":
            failures.append((query, answer.get("error")))

    assert failures == []


@needs_promtool
def test_promtool_accepts_the_shipped_rules_and_scrape_example() -> None:
    rules = subprocess.run(
        [str(PROMTOOL), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60
    )
    config = subprocess.run(
        [str(PROMTOOL), "check", "config", str(SCRAPE_EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert config.returncode == 0, config.stdout + config.stderr


@needs_promtool
def test_the_shipped_rules_fire_on_the_conditions_of_the_engine_rules() -> None:
    done = subprocess.run(
        [str(PROMTOOL), "test", "rules", str(RULE_TESTS)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stdout + done.stderr
