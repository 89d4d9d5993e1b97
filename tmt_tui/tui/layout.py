"""The workstation's remembered layout: which pane is maximised, the tab and pane in front, the
selected instrument and account, and a theme picked at runtime; saved on exit, restored on start.

It is the screen's own state, not trading state: a small JSON file beside the journal
(``<journal>.layout.json``) or, for ``tmt attach`` (whose engine's journal is elsewhere), under
``$XDG_STATE_HOME/tmt`` keyed by the endpoint. Written whole through a temporary file and a
rename, 0600. A file that cannot be read never stops the workstation: it starts with the
default layout and the log says why.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from tmt_tui.private_file import write_private_file

log = logging.getLogger(__name__)

LAYOUT_VERSION = 1


@dataclass(frozen=True, slots=True)
class LayoutState:
    """What the screen looked like when it closed; None is "as a fresh start has it"."""

    maximized: str | None = None  # the pane id filling the screen
    tab: str | None = None  # the pane in front of the lower area at 80x24
    focus: str | None = None  # the pane with the keyboard focus
    instrument: str | None = None  # the board's selection (the ticket's instrument)
    account: str | None = None  # the account a ticket offers first
    theme: str | None = None  # a theme picked at runtime
    config_theme: str | None = None  # the config's theme when it was picked (a new one wins)

    def runtime_theme(self, configured: str) -> str | None:
        """The theme to restore: the one picked at runtime, unless the config has changed its
        theme since (then the config speaks last)."""
        if self.theme and self.config_theme == configured and self.theme != configured:
            return self.theme
        return None


class LayoutFileError(ValueError):
    """The layout file exists but cannot be used; the message says what is wrong and where."""


def beside_journal(journal: Path) -> Path:
    """The layout of the workstation on the engine of ``journal``: beside it, named after it."""
    return journal.with_name(f"{journal.stem}.layout.json")


def for_endpoint(state_dir: Path, endpoint: str) -> Path:
    """The layout of a screen attached to ``endpoint`` (a socket path), when the engine's
    journal is not known here: one file per endpoint in ``state_dir``."""
    key = hashlib.sha256(endpoint.encode()).hexdigest()[:16]
    return state_dir / f"layout-{key}.json"


def read_layout(path: Path) -> LayoutState | None:
    """The layout saved at ``path``, None when there is none yet; LayoutFileError when the
    file is there but is not a layout."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise LayoutFileError(f"{path}: cannot be read ({exc})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise LayoutFileError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("version") != LAYOUT_VERSION:
        raise LayoutFileError(f'{path}: expected {{"version": {LAYOUT_VERSION}, ...}}')
    values: dict[str, str | None] = {}
    for field in fields(LayoutState):
        value = data.get(field.name)
        if value is not None and not (isinstance(value, str) and value.isprintable()):
            raise LayoutFileError(f"{path}: {field.name} must be a name, got {value!r:.40}")
        values[field.name] = value
    return LayoutState(**values)


def load_layout(path: Path | None) -> tuple[LayoutState | None, str]:
    """The saved layout (None for a fresh start) and, when the file was unusable, why: the
    workstation starts anyway and logs it."""
    if path is None:
        return None, ""
    try:
        return read_layout(path), ""
    except LayoutFileError as exc:
        log.warning("layout ignored: %s", exc)
        return None, f"layout ignored, starting with the default: {exc}"


def write_layout(path: Path, state: LayoutState) -> None:
    """Save ``state`` at ``path`` whole, readable by the owner only (see ``private_file``)."""
    body = json.dumps({"version": LAYOUT_VERSION, **asdict(state)}, indent=2) + "\n"
    write_private_file(path, body)
