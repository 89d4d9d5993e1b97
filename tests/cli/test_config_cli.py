"""A config or a socket path tmt cannot use ends every command with one line naming the file and
the key (or the option) and exit code 2: never a traceback, and nothing started."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import engine_env, write_config

LONG_NAME = "s" * 110 + ".sock"  # any directory plus this is over the 107 bytes of sun_path


def tmt(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tmt_tui", *args],
        env=engine_env(home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_refused_on_one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("tmt: ") and result.stderr.count("\n") == 1, result.stderr
    for word in words:
        assert word in result.stderr


def config_with(home: Path, old: str, new: str) -> Path:
    config = write_config(home)
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new))
    return config


# tmt config check -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "key", "allowed"),
    [
        ("tick_flush_ms = 250", "tick_flush_ms = 0", "engine.tick_flush_ms", "between 1 and"),
        ("marks_interval_ms = 50", "marks_interval_ms = -1", "engine.marks_interval_ms", "1"),
        ("equity_snapshot_s = 60.0", "equity_snapshot_s = -1", "engine.equity_snapshot_s", "(0,"),
        ("instruments = []", 'instruments = ["EURUSD"]', "sim.instruments", "EUR_USD"),
    ],
)
def test_config_check_refuses_a_value_the_engine_cannot_run_with(
    home: Path, old: str, new: str, key: str, allowed: str
) -> None:
    config = config_with(home, old, new)

    result = tmt(home, "config", "check", str(config))

    assert_refused_on_one_line(result, str(config), f"'{key}'", allowed)


def test_config_check_refuses_non_utf8_bytes_naming_the_file_and_the_position(
    home: Path,
) -> None:
    config = write_config(home)
    good = config.read_bytes()
    config.write_bytes(good + b"\n# r\xe9sum\xe9\n")

    result = tmt(home, "config", "check", str(config))

    assert_refused_on_one_line(result, str(config), f"at position {len(good) + 4}", "UTF-8")


def test_config_check_refuses_a_socket_path_too_long_for_a_unix_socket(home: Path) -> None:
    long = f"{home}/run/{LONG_NAME}"
    config = config_with(home, f'socket_path = "{home}/run/e.sock"', f'socket_path = "{long}"')

    result = tmt(home, "config", "check", str(config))

    assert_refused_on_one_line(result, str(config), "'api.socket_path'", "107-byte limit")


def test_a_keymap_naming_no_binding_is_refused_before_anything_starts(home: Path) -> None:
    # a typo once left the kill switch where it was, silently, while the trader thought it moved
    config = config_with(home, "[ui.keymap]", '[ui.keymap]\nkil-switch = "f9"')

    for args in (["config", "check", str(config)], ["--config", str(config)]):
        result = tmt(home, *args)

        assert_refused_on_one_line(result, "'ui.keymap.kil-switch'", "kill-switch")
    assert not (home / "data").exists() or not any((home / "data").rglob("*.db"))


def test_config_check_passes_the_packaged_default(home: Path) -> None:
    result = tmt(home, "config", "check", str(write_config(home)))

    assert result.returncode == 0, result.stderr


# a socket path over the limit, from --socket or from the config -------------------------------


def long_socket(home: Path) -> str:
    return f"{home}/run/{LONG_NAME}"


@pytest.mark.parametrize(
    "args",
    [
        ["engine", "--socket", "{long}"],
        ["--socket", "{long}", "engine"],
        ["attach", "--socket", "{long}"],
        ["attach", "{long}"],
        ["--socket", "{long}", "status"],
        ["--socket", "{long}", "kill"],
        ["--socket", "{long}"],  # the workstation on an embedded engine
    ],
    ids=" ".join,
)
def test_a_socket_option_too_long_is_one_line_and_exit_2(home: Path, args: list[str]) -> None:
    config = write_config(home)
    long = long_socket(home)

    result = tmt(home, "--config", str(config), *(a.format(long=long) for a in args))

    assert_refused_on_one_line(result, "107-byte limit")
    assert not (home / "data" / "tmt" / "journal.db").exists()  # no engine was started


@pytest.mark.parametrize("command", [["engine"], ["attach"], ["status"], []])
def test_a_config_socket_path_too_long_is_one_line_and_exit_2(
    home: Path, command: list[str]
) -> None:
    config = config_with(
        home, f'socket_path = "{home}/run/e.sock"', f'socket_path = "{long_socket(home)}"'
    )

    result = tmt(home, "--config", str(config), *command)

    assert_refused_on_one_line(result, str(config), "'api.socket_path'", "107-byte limit")
    assert not (home / "data" / "tmt" / "journal.db").exists()


def test_a_default_socket_path_too_long_is_one_line_and_exit_2(home: Path) -> None:
    """No socket configured and an $XDG_RUNTIME_DIR so deep that engine.sock under it will not
    fit: the engine says so instead of starting without its control API."""
    config = config_with(home, f'socket_path = "{home}/run/e.sock"', 'socket_path = ""')
    deep = home / ("r" * 100)
    env = {**engine_env(home), "XDG_RUNTIME_DIR": str(deep)}

    result = subprocess.run(
        [sys.executable, "-m", "tmt_tui", "--config", str(config), "engine"],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert_refused_on_one_line(result, "107-byte limit", "XDG_RUNTIME_DIR")
    assert not (home / "data" / "tmt" / "journal.db").exists()
