"""With `--json`, every outcome of a one-shot command prints exactly one JSON object on stdout.

A refusal, wherever it happens (argparse, the CLI's own checks, the engine's reply, the
connection, the config), is `{"ok": false, "code": CODE, "message": WHY, ...}` with the
documented exit code, and never shows the API token.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Engine, engine_env, start_engine, write_config
from tests.support.waiting import wait_for

CHECK_FAILED, UNREACHABLE, REJECTED, USAGE, AUTH_FAILED = 1, 2, 3, 64, 77


@pytest.fixture(scope="module")
def shared() -> Iterator[Engine]:
    """One engine for the refusals, none of which changes its state."""
    home = Path(tempfile.mkdtemp(prefix="tmtj", dir="/tmp"))
    running = start_engine(home, write_config(home))
    yield running
    running.stop()


def token_of(engine: Engine) -> str:
    return (engine.home / "state" / "tmt" / "api.token").read_text().strip()


def one_refusal(result: subprocess.CompletedProcess[str], exit_code: int, *secrets: str) -> Any:
    """The one JSON object on stdout: a refusal with a code and a reason; no secret anywhere."""
    where = f"exit {result.returncode}\nstdout: {result.stdout!r}\nstderr: {result.stderr!r}"
    assert result.returncode == exit_code, where
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, where
    answer = json.loads(lines[0])
    assert isinstance(answer, dict), where
    assert answer["ok"] is False, where
    assert isinstance(answer["code"], str) and answer["code"], where
    assert isinstance(answer["message"], str) and answer["message"], where
    for secret in secrets:
        assert secret not in result.stdout and secret not in result.stderr, "a secret leaked"
    return answer


REFUSALS = [
    # the CLI's own checks, before anything is sent
    (("close", "XXX_YYY"), REJECTED, "NO_POSITION"),
    (("close", "EUR_USD", "--trade", "NOPE"), REJECTED, "NO_POSITION"),
    (("close", "EUR_USD", "--units", "abc"), REJECTED, "INVALID_INPUT"),
    (("quote", "NOPE"), REJECTED, "UNKNOWN_INSTRUMENT"),
    (("modify", "ID"), REJECTED, "INVALID_INPUT"),
    (("modify", "ID", "--price", "abc"), REJECTED, "INVALID_INPUT"),
    (("cancel",), REJECTED, "INVALID_INPUT"),
    (("reset-kill",), REJECTED, "CONFIRM_REQUIRED"),
    (("flatten",), REJECTED, "CONFIRM_REQUIRED"),
    (("buy", "EUR_USD", "abc"), REJECTED, "INVALID_INPUT"),
    (("sell", "EUR_USD", "10k", "--tp", "x"), REJECTED, "INVALID_INPUT"),
    # the engine's replies
    (("buy", "EUR_USD", "10k", "--limit", "0.5"), REJECTED, None),
    (("buy", "EUR_USD", "10k", "--account", "NOPE"), REJECTED, None),
    (("modify", "NOPE", "--price", "1.1"), REJECTED, None),
    (("cancel", "NOPE"), REJECTED, None),
    (("close", "EUR_USD", "--account", "SIM-USD"), REJECTED, None),
    # argparse: usage errors
    (("buy",), USAGE, "USAGE"),
    (("quote",), USAGE, "USAGE"),
    (("buy", "EUR_USD", "1k", "--limit", "1", "--stop", "1"), USAGE, "USAGE"),
    (("buy", "EUR_USD", "1k", "--wait", "soon"), USAGE, "USAGE"),
    (("status", "--bogus"), USAGE, "USAGE"),
    (("buy", "EUR_USD", "-5"), USAGE, "USAGE"),
    (("bogus",), USAGE, "USAGE"),
]


@pytest.mark.parametrize(
    ("args", "exit_code", "code"), REFUSALS, ids=[" ".join(r[0]) for r in REFUSALS]
)
def test_a_refusal_prints_one_json_object(
    shared: Engine, args: tuple[str, ...], exit_code: int, code: str | None
) -> None:
    answer = one_refusal(shared.tmt(*args, "--json"), exit_code, token_of(shared))

    if code is not None:
        assert answer["code"] == code


def test_the_reason_stays_one_line_on_stderr_without_json(shared: Engine) -> None:
    result = shared.tmt("close", "XXX_YYY")

    assert result.returncode == REJECTED
    assert result.stdout == ""
    assert result.stderr.strip() == "tmt: rejected: NO_POSITION: no open XXX_YYY position"


def test_a_wrong_token_exits_77_with_one_json_object_and_no_token(shared: Engine) -> None:
    wrong = "wrong-token-0123456789abcdef"
    env = {**shared.env, "TMT_API_TOKEN": wrong}
    result = subprocess.run(
        [sys.executable, "-m", "tmt_tui", "--config", str(shared.config), "status", "--json"],
        env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    answer = one_refusal(result, AUTH_FAILED, wrong, token_of(shared))
    assert answer["code"] == "AUTH_FAILED"
    assert answer["message"].startswith("authentication failed: ")


def test_a_wrong_token_says_authentication_failed_and_where_the_token_came_from(
    shared: Engine,
) -> None:
    env = {**shared.env, "TMT_API_TOKEN": "wrong-token-0123456789abcdef"}
    result = subprocess.run(
        [sys.executable, "-m", "tmt_tui", "--config", str(shared.config), "status"],
        env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    assert result.returncode == AUTH_FAILED
    assert result.stderr.startswith("tmt: authentication failed: the engine at ")
    assert "refused the API token from $TMT_API_TOKEN" in result.stderr
    assert "unreachable" not in result.stderr


def test_no_engine_exits_2_with_one_json_object(home: Path) -> None:
    idle = Engine(None, engine_env(home), home, write_config(home))  # type: ignore[arg-type]

    assert one_refusal(idle.tmt("status", "--json"), UNREACHABLE)["code"] == "NO_TOKEN"
    idle.env["TMT_API_TOKEN"] = token = "a-token-for-no-engine-0123456789"
    for args in (("status",), ("buy", "EUR_USD", "1k"), ("modify", "ID"), ("flatten", "--yes")):
        answer = one_refusal(idle.tmt(*args, "--json"), UNREACHABLE, token)
        assert answer["code"] == "UNREACHABLE"


def test_a_bad_config_exits_2_with_one_json_object(home: Path) -> None:
    bad = home / "bad.toml"
    bad.write_text('[ui]\nfps = "fast"\n')
    broken = Engine(None, engine_env(home), home, bad)  # type: ignore[arg-type]

    answer = one_refusal(broken.tmt("status", "--json"), UNREACHABLE)
    assert answer["code"] == "CONFIG_ERROR"
    assert "ui.fps" in answer["message"]


def test_a_socket_path_too_long_exits_2_with_one_json_object(home: Path) -> None:
    idle = Engine(None, engine_env(home), home, write_config(home))  # type: ignore[arg-type]

    answer = one_refusal(idle.tmt("--socket", "/tmp/" + "s" * 200, "status", "--json"), 2)
    assert answer["code"] == "UNREACHABLE"


def test_oanda_accounts_without_a_token_exits_2_with_one_json_object(home: Path) -> None:
    env = engine_env(home)
    env.pop("OANDA_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-m", "tmt_tui", "oanda", "accounts", "--json"],
        env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    answer = one_refusal(result, UNREACHABLE)
    assert answer["code"] == "NO_TOKEN"


#: `python -m tmt_tui` with SIGINT at Python's default, as a shell gives a foreground command.
#: A test run started in the background (``pytest &`` in a script) passes SIGINT on ignored,
#: and the CLI rightly keeps an ignored SIGINT ignored, so Ctrl-C would never reach it.
_TMT_AT_A_TERMINAL = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'tmt'; runpy.run_module('tmt_tui', run_name='__main__', alter_sys=True)"
)


def waiting_for_a_fill(engine: Engine, then: Callable[[subprocess.Popen[str]], None]) -> Any:
    """`tmt buy ... --limit (below the market) --wait fill --json` in the background; once its
    order works, ``then(process)``; returns how the command ended."""
    quote = json.loads(engine.tmt("quote", "EUR_USD", "--json").stdout)
    price = f"{float(quote['bid']) * 0.99:.5f}"
    waiting = subprocess.Popen(
        [sys.executable, "-c", _TMT_AT_A_TERMINAL, "--config", str(engine.config),
         "buy", "EUR_USD", "1000", "--limit", price, "--wait", "fill", "--json"],
        env=engine.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(
            lambda: any(o["status"] == "WORKING" for o in engine.json("orders")),
            "the order to work",
            within=20,
            interval=0.1,
        )
        then(waiting)
        stdout, stderr = waiting.communicate(timeout=30)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait()
    return subprocess.CompletedProcess(waiting.args, waiting.returncode, stdout, stderr)


def test_an_order_cancelled_while_waiting_for_its_fill_is_one_json_refusal(shared: Engine) -> None:
    result = waiting_for_a_fill(shared, lambda _: shared.tmt("cancel", "--all").check_returncode())

    answer = one_refusal(result, REJECTED, token_of(shared))
    assert answer["code"] == "CANCELLED"
    assert answer["status"] == "CANCELLED" and answer["order_id"] == answer["id"]


def test_ctrl_c_while_waiting_for_a_fill_says_the_order_stands_and_exits_130(
    engine: Engine,
) -> None:
    # once, Ctrl-C here exited 0 with nothing on stdout while the order kept working
    result = waiting_for_a_fill(engine, lambda waiting: waiting.send_signal(signal.SIGINT))

    answer = one_refusal(result, 130, token_of(engine))
    assert answer["code"] == "INTERRUPTED"
    assert any(o["status"] == "WORKING" for o in engine.json("orders"))


def test_a_fill_waited_for_is_one_json_object_that_says_ok(engine: Engine) -> None:
    result = engine.tmt("buy", "EUR_USD", "1000", "--wait", "fill", "--json")

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert (answer["ok"], answer["code"]) == (True, "OK")
    assert answer["message"].startswith("filled +1,000 EUR_USD")


def test_every_outcome_of_flatten_kill_and_check_is_one_json_object(engine: Engine) -> None:
    assert engine.tmt("buy", "EUR_USD", "5000").returncode == 0
    assert engine.tmt("sell", "USD_JPY", "3000", "--account", "SIM-EUR").returncode == 0

    flattened = engine.tmt("flatten", "--yes", "--json")
    assert flattened.returncode == 0, flattened.stderr
    (line,) = flattened.stdout.strip().splitlines()
    answer = json.loads(line)
    assert answer["ok"] is True and len(answer["replies"]) == 2
    assert all(reply["ok"] for reply in answer["replies"])

    (again,) = engine.tmt("flatten", "--yes", "--json").stdout.strip().splitlines()
    assert json.loads(again)["ok"] is True

    killed = engine.tmt("kill", "--json")
    assert killed.returncode == 0, killed.stderr
    assert len(killed.stdout.strip().splitlines()) == 1

    check = one_refusal(engine.tmt("status", "--check", "--json"), CHECK_FAILED, token_of(engine))
    assert check["code"] == "CHECK_FAILED" and check["halted"] == ["SIM-USD", "SIM-EUR"]
    one_refusal(engine.tmt("buy", "EUR_USD", "1000", "--json"), REJECTED)
