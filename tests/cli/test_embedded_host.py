"""The plain `tmt` runs its engine through EngineHost, which also serves the control API: so
`tmt kill` from another shell reaches an engine that has a screen attached."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import pytest

from tmt_tui.api.paths import token_path
from tmt_tui.api.remote import RemoteEngineClient
from tmt_tui.cli.embedded import start_embedded
from tmt_tui.cli.host import EngineHost
from tmt_tui.config import load_settings
from tmt_tui.domain.commands import EngageKillSwitch, Origin
from tmt_tui.domain.positions import TradingState
from tmt_tui.store.journal import Journal, JournalLocked


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    home = Path(tempfile.mkdtemp(prefix="tmth", dir="/tmp"))
    for var, sub in (("XDG_STATE_HOME", "state"), ("XDG_RUNTIME_DIR", "run")):
        (home / sub).mkdir(mode=0o700)
        monkeypatch.setenv(var, str(home / sub))
    base = load_settings()
    settings = dataclasses.replace(
        base,
        engine=dataclasses.replace(base.engine, journal_path=str(home / "j.db")),
        api=dataclasses.replace(base.api, socket_path=str(home / "run" / "e.sock")),
        monitoring=dataclasses.replace(base.monitoring, metrics_port=0),
    )
    running = EngineHost(settings)
    running.start()
    yield running
    running.stop()


async def test_the_kill_switch_reaches_an_embedded_engine_over_the_socket(host: EngineHost) -> None:
    client = RemoteEngineClient(
        host.socket_path, token=token_path().read_text().strip(), client_name="tmt cli"
    )
    await client.connect()
    try:
        reply = await client.execute(EngageKillSwitch("from another shell", Origin.CLI))
    finally:
        await client.close()

    assert reply.ok, reply
    assert host.runner is not None and host.runner.core is not None
    states = {a.state for a in host.runner.core.portfolio.accounts.values()}
    assert states == {TradingState.HALTED}


def test_a_second_engine_on_the_same_journal_is_refused_with_the_pid(host: EngineHost) -> None:
    with pytest.raises(JournalLocked, match=r"in use by process \d+"):
        start_embedded(host.settings)


def test_a_plain_tmt_on_an_oanda_config_without_the_token_still_finds_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the journal is taken before anything is read from the environment: a second shell with
    # no OANDA_TOKEN attaches to the engine that holds it (once, it was refused: no token)
    monkeypatch.delenv("OANDA_TOKEN", raising=False)
    monkeypatch.setenv("OANDA_ACCOUNT_ID", "101-001-0000001-001")
    base = load_settings(str(Path(__file__).parents[2] / "config" / "oanda-local.toml"))
    settings = dataclasses.replace(
        base,
        engine=dataclasses.replace(base.engine, journal_path=str(tmp_path / "j.db")),
        api=dataclasses.replace(base.api, enabled=False),
    )
    held = Journal(tmp_path / "j.db")  # a running engine
    try:
        with pytest.raises(JournalLocked):  # which the workstation answers by attaching
            EngineHost(settings).start()
    finally:
        held.close()
