"""The token gate over HTTP, without a browser: what each route answers with and without a
session, how a session is opened, and what never opens one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tmt_tui.domain.secret import Secret
from tmt_tui.serve.gate import COOKIE, LINK_TTL_S, SESSION_TTL_S, TokenGate
from tmt_tui.serve.server import WorkstationServer

TOKEN = "the-api-token-0457"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gate(clock: Clock) -> TokenGate:
    return TokenGate(Secret(TOKEN), clock=clock)


@pytest.fixture
async def client(gate: TokenGate) -> AsyncIterator[TestClient]:
    """The whole server's routes (the app each tab would run is never started here)."""
    server = WorkstationServer("exec true", host="127.0.0.1", port=0, gate=gate, title="tmt")
    async with TestClient(TestServer(await server._make_app())) as test_client:
        yield test_client


async def sign_in(client: TestClient, token: str = TOKEN) -> int:
    response = await client.post("/login", data={"token": token}, allow_redirects=False)
    return response.status


@pytest.mark.parametrize("path", ["/static/js/textual.js", "/ws", "/download/some-key"])
async def test_without_a_session_every_route_but_the_form_is_closed(
    client: TestClient,
    path: str,
) -> None:
    response = await client.get(path, allow_redirects=False)

    assert response.status == 403


async def test_without_a_session_the_page_is_the_sign_in_form(
    client: TestClient,
) -> None:
    response = await client.get("/")

    assert response.status == 401
    body = await response.text()
    assert 'name="token"' in body
    assert "textual-terminal" not in body
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_a_wrong_token_opens_no_session(
    client: TestClient,
    gate: TokenGate,
) -> None:
    response = await client.post("/login", data={"token": "wrong"}, allow_redirects=False)

    assert response.status == 401
    assert "Wrong token" in await response.text()
    assert COOKIE not in response.cookies
    assert gate.failures == 1
    assert (await client.get("/static/js/textual.js")).status == 403


async def test_the_token_opens_a_session_that_reaches_the_workstation(
    client: TestClient,
) -> None:
    response = await client.post("/login", data={"token": TOKEN}, allow_redirects=False)

    assert response.status == 303
    assert response.headers["Location"] == "/"
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    page = await client.get("/")
    assert page.status == 200
    body = await page.text()
    assert "textual-terminal" in body
    assert f"ws://{client.host}:{client.port}/ws" in body  # the browser's own host
    assert "https://" not in body  # nothing loaded from beyond this box
    assert (await client.get("/static/js/textual.js")).status == 200


async def test_behind_a_tls_proxy_the_cookie_is_secure_and_the_socket_wss(
    client: TestClient,
) -> None:
    https = {"X-Forwarded-Proto": "https"}
    response = await client.post(
        "/login", data={"token": TOKEN}, headers=https, allow_redirects=False
    )

    assert response.cookies[COOKIE]["secure"]
    client.session.cookie_jar.update_cookies({COOKIE: response.cookies[COOKIE].value})
    page = await client.get("/", headers=https)
    assert "wss://" in await page.text()


async def test_a_one_time_link_opens_one_session_only(
    client: TestClient,
    gate: TokenGate,
) -> None:
    once = gate.issue_link()

    first = await client.get(f"/?t={once}", allow_redirects=False)
    client.session.cookie_jar.clear()
    second = await client.get(f"/?t={once}", allow_redirects=False)

    assert first.status == 303 and COOKIE in first.cookies
    assert second.status == 401
    assert "used already" in await second.text()


async def test_a_one_time_link_opened_by_a_signed_in_browser_is_spent(
    client: TestClient,
    gate: TokenGate,
) -> None:
    once = gate.issue_link()
    assert await sign_in(client) == 303

    signed_in = await client.get(f"/?t={once}", allow_redirects=False)
    client.session.cookie_jar.clear()  # anyone else who saw the link
    other = await client.get(f"/?t={once}", allow_redirects=False)

    assert signed_in.status == 303 and signed_in.headers["Location"] == "/"
    assert other.status == 401
    assert COOKIE not in other.cookies


async def test_a_one_time_link_expires(
    client: TestClient,
    gate: TokenGate,
    clock: Clock,
) -> None:
    once = gate.issue_link()
    clock.now += LINK_TTL_S + 1

    response = await client.get(f"/?t={once}", allow_redirects=False)

    assert response.status == 401


async def test_a_session_expires(
    client: TestClient,
    clock: Clock,
) -> None:
    assert await sign_in(client) == 303
    clock.now += SESSION_TTL_S + 1

    assert (await client.get("/")).status == 401


async def test_another_site_cannot_sign_in_or_open_the_socket(
    client: TestClient,
) -> None:
    foreign = {"Origin": "http://evil.example"}
    refused = await client.post(
        "/login", data={"token": TOKEN}, headers=foreign, allow_redirects=False
    )
    assert refused.status == 403
    assert COOKIE not in refused.cookies

    assert await sign_in(client) == 303  # a real session, and yet:
    socket = await client.get("/ws", headers=foreign)
    assert socket.status == 403


def test_a_gate_needs_a_token() -> None:
    with pytest.raises(ValueError):
        TokenGate(Secret(""))


@pytest.fixture
async def loopback_client(gate: TokenGate) -> AsyncIterator[TestClient]:
    """The server as a loopback bind without allow_remote has it: the Host is checked."""
    gate.loopback_only = True
    server = WorkstationServer("exec true", host="127.0.0.1", port=0, gate=gate, title="tmt")
    async with TestClient(TestServer(await server._make_app())) as test_client:
        yield test_client


@pytest.mark.parametrize("host", ["evil.example:8765", "evil.example", "127.0.0.2:8765", ""])
async def test_on_loopback_a_request_for_another_host_is_refused(
    loopback_client: TestClient, host: str
) -> None:
    """DNS rebinding: another site's page whose name now resolves to 127.0.0.1."""
    response = await loopback_client.post(
        "/login", data={"token": TOKEN}, headers={"Host": host}, allow_redirects=False
    )

    assert response.status == 421
    assert COOKIE not in response.cookies


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:9000", "LOCALHOST", "[::1]:8765"])
async def test_on_loopback_the_loopback_names_on_any_port_get_in(
    loopback_client: TestClient, host: str
) -> None:
    """Any port: an SSH tunnel may forward another local port to the bound one."""
    response = await loopback_client.post(
        "/login", data={"token": TOKEN}, headers={"Host": host}, allow_redirects=False
    )

    assert response.status == 303


async def test_behind_a_proxy_any_host_gets_in(client: TestClient) -> None:
    """allow_remote: the Host is the proxy's name, not checked."""
    response = await client.post(
        "/login",
        data={"token": TOKEN},
        headers={"Host": "trading.example.com"},
        allow_redirects=False,
    )

    assert response.status == 303
