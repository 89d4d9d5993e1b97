"""Suite 7, secrets, for `tmt serve`: a browser's session (the sign-in, right and wrong, the
page, a tab's terminal over the WebSocket) with every secret in the server's environment, and
no secret in anything it sent or printed, nor in the tab's app's output.

No browser here: what a browser receives is what the HTTP client below receives (the browser
suite, tests/serve, drives a real one); the point is the search over every byte.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.cli import write_config

from .artifacts import SECRETS
from .processes import printed, session, start_engine, stop_engine
from .test_secrets import assert_nothing_leaked


@pytest.fixture
def home() -> Iterator[Path]:
    # short: a Unix socket path must stay under 107 bytes
    path = Path(tempfile.mkdtemp(prefix="tmts", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def browse(base: str, kept: dict[str, bytes]) -> None:
    """What a browser does: the form, a wrong token, the right one, the page, one tab's
    terminal until the quote board is on it; every response body kept."""
    jar = aiohttp.CookieJar(unsafe=True)  # keeps cookies from an IP address, as browsers do
    async with aiohttp.ClientSession(cookie_jar=jar) as client:
        async with client.get(base) as form:
            kept["the sign-in form"] = await form.read()
        wrong = {"token": SECRETS["wrong API token"]}
        async with client.post(f"{base}login", data=wrong) as refused:
            assert refused.status == 401
            kept["the wrong token's answer"] = await refused.read()
        right = {"token": SECRETS["API token"]}
        async with client.post(f"{base}login", data=right) as page:
            assert page.status == 200  # after the redirect: the workstation's page
            kept["the workstation page"] = await page.read()
        screen = bytearray()
        async with client.ws_connect(f"{base}ws?width=160&height=50") as tab:
            async with asyncio.timeout(60):
                while b"EUR_USD" not in screen:
                    message = await tab.receive()
                    if message.type == aiohttp.WSMsgType.BINARY:
                        screen += message.data
                    elif message.type == aiohttp.WSMsgType.TEXT:
                        screen += message.data.encode()
                    else:
                        raise AssertionError(f"the tab closed: {message}")
        kept["the tab's terminal"] = bytes(screen)


def test_a_browser_session_leaves_no_secret_behind(home: Path) -> None:
    with session(home) as run:
        # Arrange: the engine on the simulated market, every secret in every environment
        config = write_config(home)
        engine, _ = start_engine(run, config, "engine-sim")
        out = run.spawn("serve", "serve", "--config", str(config), "--port", "0", "--verbose")
        base = printed(out, r"(http://127\.0\.0\.1:\d+/)\?t=", "tmt serve's link")

        # Act
        kept: dict[str, bytes] = {}
        asyncio.run(browse(base, kept))
        serve = run.procs[-1]
        # what a tab's app (same user, tmt serve its parent) reads of its parent's environment
        kept["tmt serve's /proc environ"] = Path(f"/proc/{serve.pid}/environ").read_bytes()
        kept["tmt serve's /proc cmdline"] = Path(f"/proc/{serve.pid}/cmdline").read_bytes()
        serve.terminate()
        assert serve.wait(30) == 0
        stop_engine(engine)

    # Assert: the tab was live, and no secret is in any byte of it or of the outputs
    assert b"EUR_USD" in kept["the tab's terminal"]
    for name, blob in kept.items():
        run.found.add(name, blob)
    assert "Wrong token" in kept["the wrong token's answer"].decode()
    assert not list((home / "run" / "tmt").glob("serve-*"))  # the apps' token copy is gone
    assert_nothing_leaked(run)
