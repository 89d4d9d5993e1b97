"""A real `tmt engine`, real `tmt serve` processes in front of it, and a real headless browser.

One engine and one browser serve the whole folder (each starts in seconds); every test opens
its own browser context, so cookies never leak from one test into the next. The browser is
Debian's chromium driven by playwright, never one playwright downloads: on a machine without
it the browser tests skip, except under ``TMT_CI=1``, where CI installs it and a skip would
hide the suite.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pytest

from tests.support.cli import Engine, start_engine, write_config
from tests.support.waiting import wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LINK = re.compile(r"(http://\S+/)\?t=(\S+)")

#: Secrets put into `tmt serve`'s environment that its tabs' apps must never see.
SECRETS = {
    "OANDA_TOKEN": "oanda-secret-0451",
    "MASSIVE_API_KEY": "massive-secret-0452",
    "POLYGON_API_KEY": "polygon-secret-0453",
    "TMT_PG_DSN": "postgresql://tmt:pg-secret-0454@127.0.0.1/tmt",
    "PGPASSWORD": "pg-secret-0455",
    "AWS_SECRET_ACCESS_KEY": "someone-elses-0456",
}


@dataclass
class Served:
    """One `tmt serve` process: where it listens and the one-time link it printed."""

    proc: subprocess.Popen[str]
    url: str
    link: str
    log: TextIO

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


def serve(engine: Engine, *args: str, env: dict[str, str] | None = None) -> Served:
    """`tmt serve --port 0 ARGS` on ``engine``; returns once it printed its link."""
    log = open(engine.home / f"serve{'-'.join(args)}.err", "a")  # noqa: SIM115 - never blocks
    proc = subprocess.Popen(
        [sys.executable, "-m", "tmt_tui", "--config", str(engine.config), "serve"]
        + ["--port", "0", *args],
        env=env or engine.env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    lines: list[str] = []

    def drain() -> None:  # its stdout also carries the apps' stderr: never let the pipe fill
        assert proc.stdout is not None
        with proc.stdout:  # closed here, at its end, never under the reading thread
            for line in proc.stdout:
                lines.append(line)

    threading.Thread(target=drain, name="tmt-serve-stdout", daemon=True).start()
    served = Served(proc, "", "", log)

    def link() -> re.Match[str] | None:
        if not lines and proc.poll() is not None:
            raise AssertionError(f"tmt serve exited {proc.returncode}: see {log.name}")
        return LINK.search(lines[0]) if lines else None

    try:
        found = wait_for(link, "tmt serve to print its link", within=60)
    except AssertionError:
        served.stop()
        raise
    served.url, served.link = found.group(1), found.group(0)
    return served


def api_token(engine: Engine) -> str:
    """The token the engine created on first start (its state dir's api.token)."""
    return (engine.home / "state" / "tmt" / "api.token").read_text().strip()


@pytest.fixture(scope="package")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    home = tmp_path_factory.mktemp("serve")
    running = start_engine(home, write_config(home))
    yield running
    running.stop()


@pytest.fixture(scope="package")
def served(engine: Engine) -> Iterator[Served]:
    """`tmt serve` for traders, with secrets in its environment (and the API token as
    ``$TMT_API_TOKEN``, so its apps must get it by file)."""
    env = {**engine.env, **SECRETS, "TMT_API_TOKEN": api_token(engine)}
    running = serve(engine, env=env)
    yield running
    running.stop()


@pytest.fixture(scope="package")
def served_read_only(engine: Engine) -> Iterator[Served]:
    running = serve(engine, "--read-only")
    yield running
    running.stop()


def _playwright_with_chromium() -> Any:
    """playwright's sync API, once Debian's chromium is there: without either the browser
    tests skip, except under ``TMT_CI``, where CI installs both and a skip would hide them."""
    if os.environ.get("TMT_CI"):
        assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is missing (.ci/run installs it)"
        import playwright.sync_api

        return playwright.sync_api
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no {CHROMIUM}: apt-get install chromium")
    return pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module-scoped: playwright's sync API keeps an event loop running on this thread while
    it is open, and the async tests of the next module need the thread's loop to themselves."""
    playwright_api = _playwright_with_chromium()
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


#: Keeps each xterm.js Terminal the page builds where a test can read it: textual-serve's
#: script holds it as ``this.terminal`` of an object it never exposes, and its canvas renderer
#: leaves no text in the DOM. The first assignment of ``terminal`` on any object lands here,
#: stores the value as that object's own property (so the page works as before) and keeps it.
KEEP_TERMINALS = """
window.__terminals = [];
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {
      value, writable: true, configurable: true, enumerable: true,
    });
    if (value && value.buffer && value.buffer.active) window.__terminals.push(value);
  },
});
"""

#: The rows the terminal shows now, as text (xterm.js's buffer: what its renderer paints).
SCREEN_TEXT = """
() => {
  const term = window.__terminals[0];
  if (!term) return "";
  const buffer = term.buffer.active;
  const rows = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
}
"""


#: True when the row holding ``label`` shows a cursor at the start of the field after it: the
#: field's first cell is painted unlike the one after it (Textual draws an Input's cursor as a
#: cell of its own colours). Keys typed before that may land in another field of the form.
FIELD_HAS_CURSOR = """
([label, placeholder]) => {
  const term = window.__terminals[0];
  if (!term) return false;
  const buffer = term.buffer.active;
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    if (!line) continue;
    const text = line.translateToString(true);
    const at = text.indexOf(label);
    const field = text.indexOf(placeholder, at + label.length);
    if (at < 0 || field < 0) continue;
    const paint = (x) => {
      const cell = line.getCell(x);
      return [cell.getBgColorMode(), cell.getBgColor(), cell.isInverse()].join("/");
    };
    return paint(field) !== paint(field + 1);
  }
  return false;
}
"""


def wait_for_cursor_in(page: Any, label: str, placeholder: str) -> None:
    """Wait until the form field after ``label`` (still showing ``placeholder``) has focus."""
    wait_for(
        lambda: page.evaluate(FIELD_HAS_CURSOR, [label, placeholder]),
        f"the cursor in {label}",
        within=60,
        interval=0.1,
    )


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and a page that keeps its terminals readable."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(KEEP_TERMINALS)
    opened = context.new_page()
    yield opened
    context.close()


def screen_text(page: Any) -> str:
    return str(page.evaluate(SCREEN_TEXT))


def wait_for_screen(page: Any, what: str, predicate: Any, within: float = 60) -> str:
    """The terminal's text once ``predicate(text)`` holds."""

    def check() -> str | None:
        text = screen_text(page)
        return text if predicate(text) else None

    try:
        found: str = wait_for(check, what, within=within, interval=0.1)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the screen shows:\n{screen_text(page)}") from None
    return found


def attach_processes(root: int) -> list[int]:
    """Descendants of ``root`` running `tmt attach` (the tabs' apps)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = (Path("/proc") / entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            todo.append(child)
            try:
                argv = (Path("/proc") / str(child) / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"attach" in argv:
                found.append(child)
    return found


def alive(pid: int) -> bool:
    """The process is there and not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
