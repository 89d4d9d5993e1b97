"""`tmt serve` in a real headless browser: the token first, then the live workstation, whose
orders reach the engine (or are refused, read-only), run by apps that hold no secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.serve.conftest import (
    KEEP_TERMINALS,
    SECRETS,
    Served,
    api_token,
    attach_processes,
    screen_text,
    serve,
    wait_for_cursor_in,
    wait_for_screen,
)
from tests.support.cli import Engine, start_engine, write_config
from tests.support.waiting import wait_for


def sign_in(page: Any, served: Served, token: str) -> None:
    page.goto(served.url)
    page.fill("#token", token)
    page.click("#submit")


def board_shown(text: str) -> bool:
    return "EUR_USD" in text or "EUR/USD" in text


def quote_row(text: str) -> str:
    return next(line for line in text.splitlines() if "EUR_USD" in line or "EUR/USD" in line)


def filled_orders(engine: Engine, units: int) -> list[dict[str, Any]]:
    orders = engine.json("orders", "--all")  # a filled order is history
    assert isinstance(orders, list)
    return [o for o in orders if abs(o["units"]) == units and o["status"] == "FILLED"]


def test_the_page_asks_for_the_token_before_it_shows_anything(page: Any, served: Served) -> None:
    response = page.goto(served.url)

    assert response.status == 401
    assert page.is_visible("#token")
    assert page.locator(".textual-terminal").count() == 0
    assert page.evaluate("window.__terminals.length") == 0


def test_a_wrong_token_shows_nothing(page: Any, served: Served) -> None:
    sign_in(page, served, "not-the-token")

    assert "Wrong token" in page.inner_text("#problem")
    assert page.locator(".textual-terminal").count() == 0
    script = page.request.get(served.url + "static/js/textual.js")
    assert script.status == 403  # not even the workstation's scripts


def test_with_the_right_token_quotes_tick(page: Any, engine: Engine, served: Served) -> None:
    sign_in(page, served, api_token(engine))

    first = quote_row(wait_for_screen(page, "the quote board", board_shown))

    wait_for_screen(page, "EUR_USD to tick", lambda text: quote_row(text) != first)


def test_the_one_time_link_opens_the_workstation_once(
    page: Any, browser: Any, served: Served, engine: Engine
) -> None:
    fresh = serve(engine)  # its own link: the package's server's link may be spent already
    try:
        page.goto(fresh.link)
        wait_for_screen(page, "the quote board", board_shown)
        assert "?t=" not in page.url  # the address bar keeps no token

        again = browser.new_context()
        try:
            second = again.new_page()
            response = second.goto(fresh.link)
            assert response.status == 401
            assert "used already" in second.inner_text("#problem")
        finally:
            again.close()
    finally:
        fresh.stop()


def test_an_order_placed_in_the_page_fills_at_the_engine(
    page: Any, engine: Engine, served: Served
) -> None:
    sign_in(page, served, api_token(engine))
    wait_for_screen(page, "the quote board", board_shown)
    before = len(filled_orders(engine, 1234))

    page.focus(".xterm-helper-textarea")  # keys only: a click would land in the app
    page.keyboard.press("b")
    wait_for_screen(page, "the buy ticket", lambda text: "BUY " in text and "Units" in text)
    wait_for_cursor_in(page, "Units", "e.g. 10000")
    page.keyboard.type("1234")
    page.keyboard.press("Enter")

    wait_for(lambda: len(filled_orders(engine, 1234)) > before, "the order to fill", within=30)


def test_the_read_only_page_s_order_is_refused(
    page: Any, engine: Engine, served_read_only: Served
) -> None:
    """The page says it is a viewer from the start, and b opens no ticket (the engine would
    refuse the order anyway: tests/api holds that)."""
    sign_in(page, served_read_only, api_token(engine))
    wait_for_screen(page, "the quote board", board_shown)
    wait_for_screen(page, "the read-only header", lambda text: "READ-ONLY" in text)

    page.focus(".xterm-helper-textarea")  # keys only: a click would land in the app
    page.keyboard.press("b")

    wait_for_screen(page, "the refusal", lambda text: "Read-only viewer" in text)
    assert "ctrl+s send" not in screen_text(page)  # the ticket's own line: no ticket
    assert filled_orders(engine, 4321) == []


def test_the_secrets_are_absent_from_the_app_process_environment(
    page: Any, engine: Engine, served: Served
) -> None:
    sign_in(page, served, api_token(engine))
    wait_for_screen(page, "the quote board", board_shown)  # the app reached the engine

    apps = wait_for(lambda: attach_processes(served.proc.pid), "the tab's app process")
    for pid in apps:
        environ = (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0")
        variables = dict(entry.decode().split("=", 1) for entry in environ if b"=" in entry)
        joined = b"\0".join(environ)
        for name, value in SECRETS.items():
            assert name not in variables
            assert value.encode() not in joined
        assert "TMT_API_TOKEN" not in variables
        assert api_token(engine).encode() not in joined
        # how it got the token instead: a private file under the runtime dir, not /tmp
        assert Path(variables["TMT_API_TOKEN_FILE"]).is_relative_to(engine.home / "run")


def test_closing_the_tab_ends_its_app(browser: Any, engine: Engine, served: Served) -> None:
    context = browser.new_context()
    context.add_init_script(KEEP_TERMINALS)
    tab = context.new_page()
    sign_in(tab, served, api_token(engine))
    wait_for_screen(tab, "the quote board", board_shown)
    before = set(attach_processes(served.proc.pid))
    assert before

    context.close()

    wait_for(lambda: not before & set(attach_processes(served.proc.pid)), "the app to end")


def test_stopping_tmt_serve_ends_every_tab_s_app(page: Any, engine: Engine) -> None:
    fresh = serve(engine)
    try:
        page.goto(fresh.link)
        wait_for_screen(page, "the quote board", board_shown)
        apps = attach_processes(fresh.proc.pid)
        assert apps
    finally:
        fresh.stop()

    assert fresh.proc.returncode == 0
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in apps), "the apps to end")


def test_a_tab_opened_while_the_engine_is_away_says_so(page: Any, tmp_path: Path) -> None:
    engine = start_engine(tmp_path, write_config(tmp_path))
    try:
        fresh = serve(engine)
    finally:
        engine.stop()
    try:
        page.goto(fresh.link)

        text = wait_for_screen(page, "the word", lambda text: "no engine to attach to" in text)

        assert "Reload this page" in text
        assert attach_processes(fresh.proc.pid) == []  # no app started to fail
    finally:
        fresh.stop()
