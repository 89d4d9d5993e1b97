"""`tmt serve` as a command: what it refuses before it listens, the command each tab runs, and
the environment the tabs' apps get."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.serve.conftest import SECRETS, Served, alive, api_token, attach_processes, serve
from tests.support.cli import Engine, engine_env, write_config
from tests.support.waiting import eventually
from tmt_tui.api.paths import read_token
from tmt_tui.cli.answers import UNREACHABLE, USAGE
from tmt_tui.cli.serve import SECRET_VARIABLES, attach_command
from tmt_tui.config import ConfigError, default_config_text, parse_settings
from tmt_tui.domain.secret import Secret
from tmt_tui.serve.environment import without_secrets


def tmt_serve(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    config = write_config(home)
    return subprocess.run(
        [sys.executable, "-m", "tmt_tui", "--config", str(config), "serve", *args],
        env={**engine_env(home), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_with_no_engine_running_it_says_so_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir(mode=0o700)

    done = tmt_serve(tmp_path, "--port", "0", TMT_API_TOKEN="some-token")

    assert done.returncode == UNREACHABLE
    assert "no engine to attach to" in done.stderr
    assert "tmt engine" in done.stderr
    assert done.stdout == ""  # no link: nothing listens


def test_a_non_loopback_bind_is_refused_without_allow_remote(tmp_path: Path) -> None:
    done = tmt_serve(tmp_path, "--host", "0.0.0.0", "--port", "0")

    assert done.returncode == USAGE
    assert "refusing to listen on 0.0.0.0" in done.stderr
    assert "ssh -L 8765:127.0.0.1:8765" in done.stderr


def test_the_config_refuses_a_non_loopback_serve_host_without_allow_remote() -> None:
    text = default_config_text().replace(
        'host = "127.0.0.1"         # loopback', 'host = "0.0.0.0"  #'
    )

    with pytest.raises(ConfigError, match="serve.host"):
        parse_settings(text, "tmt.toml")
    allowed = text.replace("allow_remote = false       # beyond", "allow_remote = true  #")
    assert parse_settings(allowed, "tmt.toml").serve.host == "0.0.0.0"


def test_each_tab_runs_tmt_attach_on_the_engine_s_socket(tmp_path: Path) -> None:
    args = argparse.Namespace(config=None, read_only=True, verbose=False)

    command = attach_command(args, tmp_path / "e.sock")

    assert command.startswith("exec ")  # the shell becomes the app: its pid is the app's
    assert f"-m tmt_tui attach --socket {tmp_path / 'e.sock'} --read-only" in command


def test_the_apps_environment_keeps_no_secret() -> None:
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/home/trader",
        "XDG_STATE_HOME": "/home/trader/.local/state",
        "TMT_API_TOKEN_FILE": "/tmp/tmt-serve-x/api.token",
        "OANDA_TOKEN": "a",
        "MASSIVE_API_KEY": "b",
        "POLYGON_API_KEY": "c",
        "TMT_PG_DSN": "d",
        "PGPASSWORD": "e",
        "TMT_API_TOKEN": "f",
        "GITHUB_TOKEN": "g",
        "AWS_SECRET_ACCESS_KEY": "h",
        "DATABASE_URL_NAMED_BY_THE_CLI": "i",
    }

    kept = without_secrets(environ, [*SECRET_VARIABLES, "DATABASE_URL_NAMED_BY_THE_CLI"])

    assert sorted(kept) == ["HOME", "PATH", "TMT_API_TOKEN_FILE", "XDG_STATE_HOME"]


def test_a_client_reads_the_token_from_the_file_tmt_api_token_file_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "api.token").write_text("from-the-file\n")
    monkeypatch.delenv("TMT_API_TOKEN", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("TMT_API_TOKEN_FILE", str(tmp_path / "api.token"))

    assert read_token() == Secret("from-the-file")


def test_the_config_bounds_the_tabs_open_at_once() -> None:
    text = default_config_text()

    assert parse_settings(text, "tmt.toml").serve.max_tabs == 8
    with pytest.raises(ConfigError, match="serve.max_tabs"):
        parse_settings(text.replace("max_tabs = 8 ", "max_tabs = 0 "), "tmt.toml")


def listening_pid(port: int) -> int:
    """The pid of the process holding the socket that listens on TCP ``port`` (of this user's
    processes: /proc/net/tcp names the socket's inode, a process's fd links name it)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for row in Path(table).read_text().splitlines()[1:]:
                fields = row.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                    inodes.add(f"socket:[{fields[9]}]")
    assert inodes, f"nothing listens on port {port}"
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        with contextlib.suppress(OSError):
            if os.readlink(fd) in inodes:
                return int(fd.parent.parent.name)
    raise AssertionError(f"no process of this user holds the socket listening on {port}")


def test_the_listening_server_s_own_environment_holds_no_secret(
    served: Served, engine: Engine
) -> None:
    port = int(served.url.rstrip("/").rsplit(":", 1)[1])

    pid = listening_pid(port)

    environ = Path(f"/proc/{pid}/environ").read_bytes()
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    for secret in [*SECRETS.values(), api_token(engine)]:
        assert secret.encode() not in environ
        assert secret.encode() not in cmdline
    names = {entry.split(b"=", 1)[0].decode() for entry in environ.split(b"\0") if entry}
    assert not names & {*SECRETS, "TMT_API_TOKEN"}
    assert "TMT_API_TOKEN_FILE" in names  # the token came by $TMT_API_TOKEN: its apps' copy


def test_on_loopback_it_answers_no_other_host_s_name(served: Served) -> None:
    """DNS rebinding: another site's page, its name now 127.0.0.1, sends its own name."""
    port = int(served.url.rstrip("/").rsplit(":", 1)[1])

    def status(host: str) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", "/", headers={"Host": host})
            return connection.getresponse().status
        finally:
            connection.close()

    assert status(f"evil.example:{port}") == 421
    assert status(f"localhost:{port}") == 401  # the sign-in form


def test_a_stopped_tab_app_is_killed_when_tmt_serve_stops(engine: Engine) -> None:
    """A `tmt attach` that can act on neither its quit nor SIGTERM (SIGSTOPped) does not
    outlive `tmt serve`: it is killed, and tmt serve exits."""
    served = serve(engine)
    stopped: list[int] = []
    try:

        async def tab_then_stop() -> None:
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar) as client:
                async with client.get(served.link) as page:
                    assert page.status == 200
                async with client.ws_connect(f"{served.url}ws?width=80&height=24"):
                    apps = await eventually(
                        lambda: attach_processes(served.proc.pid), "the tab's app", within=60
                    )
                    stopped.extend(apps)
                    for pid in apps:
                        os.kill(pid, signal.SIGSTOP)
                    served.proc.send_signal(signal.SIGTERM)
                    await asyncio.to_thread(served.proc.wait, 120)

        asyncio.run(tab_then_stop())

        assert served.proc.returncode == 0
        assert stopped and not any(alive(pid) for pid in stopped)
    finally:
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        served.stop()
