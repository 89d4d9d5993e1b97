"""`tmt serve`: the workstation in a browser, each tab a `tmt attach` to the running engine.

Never a second engine: a tab's app attaches over the control API like any screen, so the one
engine stays the single writer of its journal, and with no engine running `tmt serve` says
so and stops (exit 2). Safe by default, because textual-serve itself is not: loopback only
unless ``allow_remote``, the control API's token (or a one-time link) before anything shows,
and the venues' and databases' secrets out of the environment the tabs' apps get.

Out of the server's own environment too: a tab's app runs as the same user, and
``/proc/<its parent>/environ`` shows the environment the server was started with, whatever
the server later deleted from ``os.environ``. So once the checks pass, `tmt serve` execs itself
(same Python, same arguments) with the secrets taken out, the API token in a private file
(``$TMT_API_TOKEN_FILE``) rather than on its command line, and that process serves.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shlex
import sys
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

from tmt_tui.api.paths import (
    TOKEN_ENV,
    TOKEN_FILE,
    TOKEN_FILE_ENV,
    private_dir,
    read_token,
    runtime_dir,
    token_path,
)
from tmt_tui.cli.answers import UNREACHABLE, USAGE
from tmt_tui.cli.environment import (
    checked_socket_path,
    engine_problem,
    settings_or_say_why,
    setup_logging,
)
from tmt_tui.config import ConfigError, is_loopback
from tmt_tui.config.schema import ServeSettings
from tmt_tui.domain.secret import Secret
from tmt_tui.sync.settings import DSN_ENV
from tmt_tui.venues.polygon.settings import KEY_VARIABLES

log = logging.getLogger(__name__)

#: What tmt reads secrets from, all kept from the tabs' apps: OANDA's token (and the local
#: v20 server's), the Polygon / Massive key, the PostgreSQL sync's DSN and libpq's password
#: (and the file it may read one from), and the control API's token (the apps get it by file
#: instead).
SECRET_VARIABLES = (
    "OANDA_TOKEN",
    "TMT_OANDA_TOKEN",
    *KEY_VARIABLES,
    DSN_ENV,
    "PGPASSWORD",
    "PGPASSFILE",
    TOKEN_ENV,
)


#: Set (internal) on the `tmt serve` that ``_exec_without_secrets`` starts: its environment
#: is clean already; the value, when not empty, is the private directory holding its copy of
#: the API token, which it removes when it stops.
CLEANED_ENV = "TMT_SERVE_CLEANED"


def run_serve(args: argparse.Namespace) -> int:
    """`tmt serve`: check the bind and the engine, exec itself without the secrets, then (as
    that process) serve until stopped."""
    cleaned = os.environ.pop(CLEANED_ENV, None)
    try:
        return _checked_serve(args, cleaned=cleaned is not None)
    finally:
        if cleaned:
            _remove_token_copy(Path(cleaned))


def _checked_serve(args: argparse.Namespace, *, cleaned: bool) -> int:
    setup_logging(args.verbose, also_stderr=True)
    settings = settings_or_say_why(args.config, screen=True)
    if settings is None:
        return UNREACHABLE
    serve = settings.serve
    host = args.host or serve.host
    port = serve.port if args.port is None else args.port
    if not (is_loopback(host) or args.allow_remote or serve.allow_remote):
        print(
            f"tmt serve: refusing to listen on {host}: the workstation would be open beyond "
            "this machine. Use --allow-remote (or [serve] allow_remote = true) only behind a "
            "TLS reverse proxy with authentication; an SSH tunnel needs neither "
            "(ssh -L 8765:127.0.0.1:8765 box)",
            file=sys.stderr,
        )
        return USAGE
    if not 0 <= port <= 65535:
        print(f"tmt serve: --port {port} must be between 0 and 65535", file=sys.stderr)
        return USAGE
    try:
        socket = checked_socket_path(settings, args.socket)
    except ConfigError as exc:
        print(f"tmt serve: {exc}", file=sys.stderr)
        return UNREACHABLE
    token = read_token()  # the first time from $TMT_API_TOKEN, if set; then from its copy
    if token is None:
        print(
            f"tmt serve: no engine to attach to: no API token at {token_path()} (start one "
            f"with `tmt engine`, or set {TOKEN_ENV} for an engine started elsewhere)",
            file=sys.stderr,
        )
        return UNREACHABLE
    problem = engine_problem(socket, read_only=args.read_only, client_name="tmt serve")
    if problem is not None:
        print(
            f"tmt serve: no engine to attach to at {socket}: {problem} (start one with "
            "`tmt engine`)",
            file=sys.stderr,
        )
        return UNREACHABLE
    if not cleaned:
        return _exec_without_secrets(token)
    _remove_secrets_from(os.environ)  # none should be left: never let one reach a tab's app
    return _serve(args, settings.source, socket, token, host, port, serve)


def _serve(
    args: argparse.Namespace,
    config: str,
    socket: Path,
    token: Secret,
    host: str,
    port: int,
    serve: ServeSettings,
) -> int:
    from tmt_tui.serve.gate import LINK_PARAMETER, LINK_TTL_S, TokenGate
    from tmt_tui.serve.server import WorkstationServer

    # on loopback, only loopback names (DNS rebinding); behind a proxy, the proxy's name
    remote = bool(args.allow_remote or serve.allow_remote)
    gate = TokenGate(token, loopback_only=is_loopback(host) and not remote)
    mode = " (read-only)" if args.read_only else ""

    async def engine_gone() -> str | None:
        """A tab opened while the engine is away says so, as `tmt serve` did at start."""
        problem = await asyncio.to_thread(
            engine_problem, socket, read_only=args.read_only, client_name="tmt serve"
        )
        return None if problem is None else f"no engine to attach to at {socket}: {problem}"

    server = WorkstationServer(
        attach_command(args, socket),
        host=host,
        port=port,
        gate=gate,
        title=f"tmt{mode}",
        preflight=engine_gone,
        max_tabs=serve.max_tabs,
    )

    def ready(bound_host: str, bound_port: int) -> None:
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        url = f"http://{shown}:{bound_port}/"
        print(
            f"tmt serve: the workstation{mode} on {url}, attached to the engine at {socket} "
            f"(config {config}); Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        minutes = int(LINK_TTL_S // 60)
        print(
            f"open once (within {minutes} minutes; after that, sign in with the API token): "
            f"{url}?{LINK_PARAMETER}={gate.issue_link()}",
            flush=True,
        )

    try:
        asyncio.run(server.run(ready))
    except OSError as exc:
        print(f"tmt serve: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return UNREACHABLE
    print("tmt serve: stopped", file=sys.stderr, flush=True)
    return 0


def attach_command(args: argparse.Namespace, socket: Path) -> str:
    """The shell command each tab runs: this Python's `tmt attach` on ``socket``.

    ``exec`` so the shell textual-serve starts becomes the app: the process the browser
    drives is the one whose environment was cleaned, and a stop reaches it directly."""
    argv = [sys.executable, "-m", "tmt_tui"]
    if args.config:
        argv += ["--config", str(Path(args.config).resolve())]
    argv += ["attach", "--socket", str(socket)]
    if args.read_only:
        argv.append("--read-only")
    if args.verbose:
        argv.append("--verbose")
    return "exec " + shlex.join(argv)


def _remove_secrets_from(environ: MutableMapping[str, str]) -> None:
    """Take every secret out of this process's environment, which textual-serve copies into
    each tab's app: none of them is needed once the engine was reached."""
    from tmt_tui.serve.environment import without_secrets

    kept = without_secrets(environ, SECRET_VARIABLES)
    for name in [name for name in environ if name not in kept]:
        del environ[name]


def _exec_without_secrets(token: Secret) -> int:
    """Replace this process with `tmt serve` (same Python, same arguments: ``sys.argv``) in
    an environment without a secret; returns only when the exec failed.

    The API token goes to the new process as the token file it would find anyway or, when it
    came from ``$TMT_API_TOKEN``, a private copy (0600 in a 0700 directory under the runtime
    dir, a per-login tmpfs where there is one), never on the command line, which any user
    may read."""
    from tmt_tui.serve.environment import without_secrets

    environ = without_secrets(os.environ, SECRET_VARIABLES)
    copy = _token_copy(token) if os.environ.get(TOKEN_ENV, "").strip() else None
    if copy is not None:
        environ[TOKEN_FILE_ENV] = str(copy / TOKEN_FILE)
    environ[CLEANED_ENV] = "" if copy is None else str(copy)
    argv = [sys.executable, "-m", "tmt_tui", *sys.argv[1:]]
    sys.stdout.flush()
    sys.stderr.flush()
    for handler in logging.getLogger().handlers:
        handler.flush()
    try:
        os.execve(sys.executable, argv, environ)
    except OSError as exc:
        if copy is not None:
            _remove_token_copy(copy)
        print(f"tmt serve: cannot restart without the secrets: {exc}", file=sys.stderr)
    return UNREACHABLE


def _token_copy(token: Secret) -> Path:
    """A new private directory holding ``TOKEN_FILE`` with ``token``: the tabs' apps' copy."""
    directory = Path(tempfile.mkdtemp(prefix="serve-", dir=private_dir(runtime_dir())))
    fd = os.open(directory / TOKEN_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(token.reveal() + "\n")
    return directory


def _remove_token_copy(directory: Path) -> None:
    """Remove the copy ``_token_copy`` made: the file, then its directory if that is empty;
    nothing outside the runtime dir's ``serve-*``, whatever ``$TMT_SERVE_CLEANED`` names."""
    if directory.parent != runtime_dir() or not directory.name.startswith("serve-"):
        log.warning("serve: %s is no token copy of tmt serve's: left as it is", directory)
        return
    with contextlib.suppress(OSError):
        (directory / TOKEN_FILE).unlink()
    with contextlib.suppress(OSError):
        directory.rmdir()
