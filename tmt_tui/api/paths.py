"""Where the control API lives on disk (socket, token) and the type that keeps the token unseen.

The socket goes in ``$XDG_RUNTIME_DIR/tmt`` (a per-login tmpfs) when there is one, else in the
state dir; the token always lives in the state dir, ``$XDG_STATE_HOME/tmt`` or
``~/.local/state/tmt``, so it survives a logout and `tmt attach` from any shell finds it.
Both directories are 0700 and the token file 0600: the file system is the first lock, the
token the second (it also guards a TCP listener, where file modes mean nothing).
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

from tmt_tui.config import socket_path_problem

log = logging.getLogger(__name__)

TOKEN_ENV = "TMT_API_TOKEN"
TOKEN_FILE = "api.token"
SOCKET_FILE = "engine.sock"


class Secret:
    """A string that never shows itself: ``repr``, ``str`` and f-strings print ``Secret('***')``.

    Only ``reveal()`` gives the value, so a token cannot slip into a log line, an exception
    message or a traceback's repr by accident. Equality is constant time.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("Secret holds a str")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def matches(self, candidate: str) -> bool:
        """Constant-time comparison (``hmac.compare_digest`` on the UTF-8 bytes)."""
        return hmac.compare_digest(candidate.encode("utf-8"), self._value.encode("utf-8"))

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self.matches(other.reveal())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> str:
        raise TypeError("a Secret is not pickled")


def state_dir() -> Path:
    """``$XDG_STATE_HOME/tmt``, else ``~/.local/state/tmt``: the token and other lasting state."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "tmt"


def runtime_dir() -> Path:
    """``$XDG_RUNTIME_DIR/tmt`` when the session has one, else the state dir."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return Path(runtime) / "tmt" if runtime else state_dir()


def default_socket_path() -> Path:
    return runtime_dir() / SOCKET_FILE


def token_path() -> Path:
    return state_dir() / TOKEN_FILE


def check_socket_path(path: Path) -> Path:
    """``path`` if it fits in ``sun_path``; else a ValueError that says what to do."""
    problem = socket_path_problem(path)
    if problem:
        raise ValueError(
            f"socket path {path} {problem} (give a shorter --socket or api.socket_path)"
        )
    return path


def private_dir(directory: Path) -> Path:
    """Create ``directory`` (and parents) and make it 0700: only this user may look inside."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(directory.stat().st_mode) != 0o700:
        os.chmod(directory, 0o700)
    return directory


def read_token() -> Secret | None:
    """The token a client presents: ``$TMT_API_TOKEN``, else the token file; None if neither."""
    env = os.environ.get(TOKEN_ENV, "").strip()
    if env:
        return Secret(env)
    try:
        text = token_path().read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    return Secret(text) if text else None


def load_or_create_token() -> Secret:
    """The token the engine accepts: ``$TMT_API_TOKEN``, else the token file, created on first
    start with ``secrets.token_urlsafe(32)``, mode 0600 in a 0700 directory.

    A token file readable by others is narrowed to 0600 (with a warning), never trusted as is.
    """
    env = os.environ.get(TOKEN_ENV, "").strip()
    if env:
        return Secret(env)
    path = token_path()
    private_dir(path.parent)
    for _ in range(2):
        try:
            text = path.read_text("utf-8").strip()
        except FileNotFoundError:
            text = ""
        else:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode != 0o600:
                log.warning("api token file %s had mode %o; narrowed to 600", path, mode)
                os.chmod(path, 0o600)
        if text:
            return Secret(text)
        token = secrets.token_urlsafe(32)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # an empty file: replace it
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: read theirs
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(token + "\n")
        os.chmod(path, 0o600)  # whatever the umask did
        log.info("created api token file %s", path)
        return Secret(token)
    raise RuntimeError(f"cannot create the api token file {path}")
