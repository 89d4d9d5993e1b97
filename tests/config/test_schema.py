"""The settings dataclasses: derived values and the tables that must agree with their types."""

from __future__ import annotations

import typing
from pathlib import Path

from tests.support.config import ACCOUNT
from tmt_tui.config import OANDA_HOSTS, OandaEnvironment, OandaSettings, parse_settings


def test_journal_path_defaults_under_xdg_data_home(isolated_data_home: Path) -> None:
    settings = parse_settings(ACCOUNT, "test.toml")

    assert settings.journal_path() == isolated_data_home / "tmt" / "journal.db"


def test_every_oanda_environment_has_its_hosts() -> None:
    assert set(OANDA_HOSTS) == set(typing.get_args(OandaEnvironment))


def test_the_live_environment_uses_oandas_live_hosts() -> None:
    rest, stream = OandaSettings(environment="live").urls()

    assert (rest, stream) == ("https://api-fxtrade.oanda.com", "https://stream-fxtrade.oanda.com")
