"""Where the control API lives on disk (socket, token) and the type that keeps the token unseen.

The socket goes in ``$XDG_RUNTIME_DIR/tmt`` (a per-login tmpfs) when there is one, else in the
state dir; the token always lives in the state dir, ``$XDG_STATE_HOME/tmt`` or
``~/.local/state/tmt``, so it survives a logout and `tmt attach` from any shell finds it.
Both directories are 0700 and the token file 0600: the file system is the first lock, the
token the second (it also guards a TCP listener, where file modes mean nothing).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from pathlib import Path

from tmt_tui.config import socket_path_problem
from tmt_tui.domain.secret import Secret

log = logging.getLogger(__name__)

TOKEN_ENV = "TMT_API_TOKEN"
#: A file holding the token, for a client that must not carry it in its environment: `tmt
#: serve` starts its browser tabs' apps with this instead of ``TMT_API_TOKEN``.
TOKEN_FILE_ENV = "TMT_API_TOKEN_FILE"
TOKEN_FILE = "api.token"
SOCKET_FILE = "engine.sock"


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
    """The token a client presents: ``$TMT_API_TOKEN``, else the file ``$TMT_API_TOKEN_FILE``
    names, else the token file; None if none of them holds one."""
    env = os.environ.get(TOKEN_ENV, "").strip()
    if env:
        return Secret(env)
    path = Path(os.environ.get(TOKEN_FILE_ENV, "").strip() or token_path())
    try:
        text = path.read_text("utf-8").strip()
    except OSError:  # absent or unreadable: the client says which variable to set
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
