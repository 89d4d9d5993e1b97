"""What every CLI entry point sets up the same way: logging, the config, the control socket's
path, the first reach for the engine. One home, so ``host``, ``workstation``, ``serve`` and
``oneshot`` never import each other for it."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

from tmt_tui.api.paths import default_socket_path, state_dir
from tmt_tui.config import ConfigError, Settings, load_settings, socket_path_problem


def setup_logging(verbose: bool, also_stderr: bool = False) -> Path:
    """Log to a file (the terminal belongs to the workstation); headless also to stderr."""
    directory = state_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / "tmt.log"
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))  # the owner's only
    handlers: list[logging.Handler] = [logging.FileHandler(path)]
    if also_stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    return path


def settings_or_say_why(path: str | None, *, screen: bool = False) -> Settings | None:
    """The config at ``path`` (the packaged default when None), or None after one line on
    stderr saying which file, key and value are wrong; with ``screen``, the keymap too."""
    try:
        settings = load_settings(path)
        if screen:
            check_keymap(settings)
    except ConfigError as exc:
        print(f"tmt: {exc}", file=sys.stderr)
        return None
    return settings


def check_keymap(settings: Settings) -> None:
    """Raise ConfigError when ``[ui.keymap]`` names a binding that does not exist."""
    from tmt_tui.tui.actions import keymap_problem  # the screen's bindings: loaded only here

    problem = keymap_problem(settings.ui.keymap)
    if problem is not None:
        raise ConfigError(f"{settings.source}: {problem}")


def socket_path_for(settings: Settings, override: str | None = None) -> Path:
    """``--socket``, else ``api.socket_path``, else the default under the runtime dir."""
    if override:
        return Path(override).expanduser()
    if settings.api.socket_path:
        return Path(settings.api.socket_path).expanduser()
    return default_socket_path()


def checked_socket_path(
    settings: Settings, override: str | None = None, option: str = "--socket"
) -> Path:
    """:func:`socket_path_for`, or a ConfigError naming what gave a path too long for a Unix
    socket (``option``, the config's api.socket_path, or the default's directory)."""
    path = socket_path_for(settings, override)
    problem = socket_path_problem(path)
    if problem is None:
        return path
    if override:
        raise ConfigError(f"{option} {path} {problem}; give a shorter path")
    if settings.api.socket_path:
        raise ConfigError(f"{settings.source}: key 'api.socket_path' {problem}: {path}")
    under = "$XDG_RUNTIME_DIR" if os.environ.get("XDG_RUNTIME_DIR") else "the state directory"
    raise ConfigError(
        f"the default socket path {path} (under {under}) {problem}; "
        "set api.socket_path or --socket to a shorter path"
    )


def token_source() -> str:
    """Where a client's API token comes from, as a trader would look for it, and where the
    engine wrote its own when that is elsewhere."""
    from tmt_tui.api.paths import TOKEN_ENV, TOKEN_FILE_ENV, token_path

    own = f"; the engine's own is in {token_path()}"
    if os.environ.get(TOKEN_ENV, "").strip():
        return f"${TOKEN_ENV}{own}"
    named = os.environ.get(TOKEN_FILE_ENV, "").strip()
    return f"${TOKEN_FILE_ENV} ({named}){own}" if named else str(token_path())


def engine_problem(
    socket: str | os.PathLike[str], *, read_only: bool, client_name: str
) -> str | None:
    """Why no engine answers (with this token) on ``socket``, or None when one does: a
    screen asks before it opens, so the refusal is one line on stderr, not a broken screen."""
    from tmt_tui.api.paths import check_socket_path
    from tmt_tui.api.protocol import ApiError
    from tmt_tui.api.remote import RemoteEngineClient

    async def probe() -> None:
        client = RemoteEngineClient(
            check_socket_path(Path(socket)), read_only=read_only, client_name=client_name
        )
        try:
            await client.connect()
        finally:
            await client.close()

    try:
        asyncio.run(probe())
    except ApiError as exc:
        if exc.code == "AUTH_FAILED":
            return f"authentication failed: the engine refused the API token from {token_source()}"
        return str(exc)
    except (OSError, ValueError) as exc:
        return str(exc)
    return None
