"""Where the socket and the token live, and with which modes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tmt_tui.api.paths import (
    check_socket_path,
    default_socket_path,
    load_or_create_token,
    read_token,
    state_dir,
    token_path,
)
from tmt_tui.domain.secret import Secret


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_socket_goes_in_the_runtime_dir_when_there_is_one(xdg: Path) -> None:
    assert default_socket_path() == xdg / "run" / "tmt" / "engine.sock"


def test_socket_falls_back_to_the_state_dir_without_a_runtime_dir(
    xdg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR")

    assert default_socket_path() == xdg / "state" / "tmt" / "engine.sock"


def test_state_dir_defaults_to_local_state_under_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", "/home/trader")

    assert state_dir() == Path("/home/trader/.local/state/tmt")


def test_a_socket_path_over_107_bytes_is_refused_with_the_limit_named() -> None:
    long = Path("/tmp") / ("x" * 120) / "engine.sock"

    with pytest.raises(ValueError, match="107-byte limit"):
        check_socket_path(long)


def test_first_start_creates_a_0600_token_in_a_0700_dir(xdg: Path) -> None:
    token = load_or_create_token()

    path = token_path()
    assert path == xdg / "state" / "tmt" / "api.token"
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert path.read_text().strip() == token.reveal()
    assert len(token.reveal()) >= 43  # token_urlsafe(32)


def test_the_token_file_is_reused_and_narrowed_to_0600(xdg: Path) -> None:
    first = load_or_create_token()
    os.chmod(token_path(), 0o644)

    again = load_or_create_token()

    assert again == first
    assert mode(token_path()) == 0o600


def test_the_environment_token_wins_over_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    load_or_create_token()
    monkeypatch.setenv("TMT_API_TOKEN", "from-env")

    assert load_or_create_token().reveal() == "from-env"
    assert read_token() == Secret("from-env")


def test_a_client_without_env_or_file_has_no_token() -> None:
    assert read_token() is None
