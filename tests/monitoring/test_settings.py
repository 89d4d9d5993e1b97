"""MonitoringSettings: usable defaults, and every unusable value named by its key."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tmt_tui.monitoring.settings import MonitoringSettings


def test_the_defaults_are_valid_and_loopback() -> None:
    settings = MonitoringSettings()

    settings.validate()

    assert (settings.metrics_host, settings.metrics_port) == ("127.0.0.1", 9464)


def test_a_remote_host_is_allowed_only_when_asked_for() -> None:
    MonitoringSettings(metrics_host="0.0.0.0", allow_remote=True).validate()


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"metrics_port": 70000}, "metrics_port"),
        ({"metrics_host": "0.0.0.0"}, "metrics_host"),
        ({"stale_quote_s": 0.0}, "stale_quote_s"),
        ({"health_heartbeat_s": -1.0}, "health_heartbeat_s"),
        ({"reject_burst_count": 0}, "reject_burst_count"),
        ({"ack_latency_quantile": 1.5}, "ack_latency_quantile"),
        ({"daily_loss_alert_fraction": Decimal("0")}, "daily_loss_alert_fraction"),
        ({"margin_alert_fraction": Decimal("-0.1")}, "margin_alert_fraction"),
        ({"alert_clear_s": -1.0}, "alert_clear_s"),
    ],
)
def test_an_unusable_value_is_named_by_its_key(changes: dict[str, Any], key: str) -> None:
    with pytest.raises(ValueError, match=f"key 'monitoring.{key}'"):
        MonitoringSettings(**changes).validate("tmt.toml")
