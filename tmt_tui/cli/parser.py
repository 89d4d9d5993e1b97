"""Every `tmt` subcommand and option, with help text complete enough to use without the README."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any, NoReturn

from tmt_tui import __version__
from tmt_tui.cli import price_alerts, watch
from tmt_tui.cli.answers import USAGE
from tmt_tui.domain.entry import instrument_name

EXIT_CODES = """exit codes: 0 ok, 2 engine unreachable, 3 rejected (the reason on one line; with
--json, the reply), 1 a check failed (status --check), 64 a usage error, 77 authentication
failed (the engine refused the API token).
With --json every refusal is one JSON object on stdout: {"ok": false, "code": C, "message": M}"""


_JSON_ERRORS: ContextVar[bool] = ContextVar("tmt_json_errors", default=False)


def asks_for_json(argv: Sequence[str]) -> bool:
    """``--json`` (or an abbreviation argparse would take for it) before any ``--``."""
    for arg in argv:
        if arg == "--":
            return False
        if len(arg) >= 3 and "--json".startswith(arg):
            return True
    return False


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors, when the command line has ``--json``, also print
    one JSON object on stdout (``{"ok": false, "code": "USAGE", "message": ...}``); the usage
    still goes to stderr, and the exit code is 64 (EX_USAGE), never the 2 that means the engine
    is unreachable. Subparsers are of this class too.
    """

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        argv = sys.argv[1:] if args is None else list(args)
        token = _JSON_ERRORS.set(_JSON_ERRORS.get() or asks_for_json(argv))
        try:
            return super().parse_known_args(argv, namespace)
        finally:
            _JSON_ERRORS.reset(token)

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> argparse.Namespace:
        argv = sys.argv[1:] if args is None else list(args)
        token = _JSON_ERRORS.set(_JSON_ERRORS.get() or asks_for_json(argv))
        try:
            hint = negative_size_hint(argv)
            if hint:  # argparse would call -5k an unknown option, or the engine a bad size
                self._refuse(hint, with_usage=False)
            parsed: argparse.Namespace = super().parse_args(argv, namespace)
            return parsed
        finally:
            _JSON_ERRORS.reset(token)

    def error(self, message: str) -> NoReturn:
        self._refuse(message, with_usage=True)

    def _refuse(self, message: str, *, with_usage: bool) -> NoReturn:
        if _JSON_ERRORS.get():
            payload = {"ok": False, "code": "USAGE", "message": f"{self.prog}: {message}"}
            print(json.dumps(payload), flush=True)
        if with_usage:
            self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {message}\n")


_NEGATIVE_SIZE = re.compile(r"-\d[\d_,.]*[kKmM]?")
_OPPOSITE = {"buy": "sell", "sell": "buy"}
_TAKES_A_VALUE = {"--limit", "--stop", "--tp", "--sl", "--tsl", "--account", "--wait", "--config",
                  "--socket"}  # fmt: skip


def negative_size_hint(argv: Sequence[str]) -> str:
    """For ``tmt buy EUR_USD -5`` (the side given twice, once by the verb and once by a sign):
    how to say what was meant, e.g. ``units must be positive: to sell, use `tmt sell EUR_USD
    5```; empty for any other command line."""
    verb = next((a for a in argv if a in _OPPOSITE), "")
    if not verb:
        return ""
    rest, after_option = [], False
    for arg in argv[argv.index(verb) + 1 :]:
        if not after_option and (not arg.startswith("-") or _NEGATIVE_SIZE.fullmatch(arg)):
            rest.append(arg)
        after_option = arg in _TAKES_A_VALUE
    sizes = [a for a in rest if _NEGATIVE_SIZE.fullmatch(a)]
    if not sizes:
        return ""
    positionals = [a for a in rest if not a.startswith("-")]
    instrument = instrument_name(positionals[0]) if positionals else "INSTRUMENT"
    other = _OPPOSITE[verb]
    return (
        f"units must be positive (the verb gives the side): to {other}, use "
        f"`tmt {other} {instrument} {sizes[0][1:]}`"
    )


def _json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _order_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instrument", type=instrument_name, help="e.g. EUR_USD, eurusd, EUR/USD")
    parser.add_argument(
        "units", help="size, e.g. 10000 or 10k (always positive; the verb sets the side)"
    )
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--limit", metavar="P", help="a limit order at price P")
    kind.add_argument("--stop", metavar="P", help="a stop order at price P")
    parser.add_argument("--tp", metavar="P", help="take-profit price, attached on fill")
    parser.add_argument("--sl", metavar="P", help="stop-loss price, attached on fill")
    parser.add_argument(
        "--tsl",
        metavar="D",
        help="trailing stop-loss at price distance D, attached on fill (OANDA)",
    )
    parser.add_argument("--account", metavar="A", help="account id (default: the first account)")
    parser.add_argument(
        "--wait", choices=["fill"], help="wait until the order fills (or is cancelled / rejected)"
    )
    _json(parser)


#: Subcommands that are servers of their own: everything after them is theirs.
PASSTHROUGH = ("oanda-sim", "polygon-sim")


def split_passthrough(argv: list[str]) -> tuple[list[str], list[str]]:
    """`tmt [opts] oanda-sim ARGS...`: everything after the subcommand is the server's own."""
    for command in PASSTHROUGH:
        if command in argv:
            at = argv.index(command)
            return argv[: at + 1], argv[at + 1 :]
    return argv, []


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="tmt",
        description="tmt: a terminal trading workstation. With no command, opens the workstation "
        "on an embedded engine (the simulated market by default), or attaches to the engine that "
        "already holds the journal.",
        epilog=EXIT_CODES,
    )
    parser.add_argument("--version", action="version", version=f"tmt {__version__}")
    parser.add_argument(
        "--config", metavar="PATH", help="TOML config (default: the packaged config/default.toml)"
    )
    parser.add_argument(
        "--socket", metavar="PATH", help="control API socket (default: from config, else "
        "$XDG_RUNTIME_DIR/tmt/engine.sock or ~/.local/state/tmt/engine.sock)",
    )  # fmt: skip
    parser.add_argument("--verbose", action="store_true", help="debug logging to the log file")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser(
        "engine",
        help="run the engine headless: journal, risk, venues, control API, /metrics",
        description="Run the engine with no screen. Stop it with `tmt stop`, SIGTERM, SIGINT or "
        "SIGHUP (graceful); SIGUSR1 engages the kill switch. Attach screens with `tmt attach`.",
    )
    attach = sub.add_parser(
        "attach",
        help="the full workstation on a running engine",
        description="Open the workstation on a running engine over its control API. Quitting "
        "leaves the engine and its orders untouched.",
    )
    attach.add_argument("target", nargs="?", metavar="SOCKET", help="socket path (or --socket)")
    attach.add_argument(
        "--read-only", action="store_true", help="a viewer: the server refuses its orders"
    )
    serve = sub.add_parser(
        "serve",
        help="the workstation in a browser: each tab attached to the running engine",
        description="Serve the workstation to web browsers (textual-serve): each tab runs "
        "`tmt attach` on the running engine, never an engine of its own (none running: exit 2). "
        "The page asks for the control API's token, or opens from the one-time link printed at "
        "start. Loopback only unless --allow-remote; from another machine use an SSH tunnel "
        "(ssh -L 8765:127.0.0.1:8765 box) or a TLS reverse proxy with authentication.",
    )
    serve.add_argument(
        "--port", type=int, metavar="N", help="TCP port (default: [serve] port, 8765; 0: any)"
    )
    serve.add_argument(
        "--host", metavar="ADDR", help="address to listen on (default: [serve] host, 127.0.0.1)"
    )
    serve.add_argument(
        "--read-only", action="store_true", help="viewers: the engine refuses the tabs' orders"
    )
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (only behind a TLS reverse proxy with authentication)",
    )

    status = sub.add_parser("status", help="trading state, accounts, connection")
    status.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if halted or stale (2 if unreachable): for cron",
    )
    _json(status)
    _json(sub.add_parser("positions", help="open positions"))
    orders = sub.add_parser("orders", help="working orders (--all: the history, newest first)")
    orders.add_argument(
        "--all",
        action="store_true",
        help="working and the engine's recent finished orders (filled, cancelled, rejected), "
        "newest first",
    )
    _json(orders)
    trades = sub.add_parser("trades", help="closed trades, newest first (the blotter)")
    trades.add_argument("--account", metavar="A")
    trades.add_argument("--instrument", metavar="X", type=instrument_name)
    trades.add_argument("--since", metavar="WHEN", help="ISO date/time or epoch seconds")
    trades.add_argument("--limit", type=int, default=500, metavar="N", help="at most N (500)")
    trades.add_argument("--csv", action="store_true", help="CSV on stdout")
    _json(trades)
    quote = sub.add_parser("quote", help="the latest quote of an instrument")
    quote.add_argument("instrument", type=instrument_name)
    quote.add_argument("--watch", action="store_true", help="keep printing as it ticks")
    _json(quote)
    events = sub.add_parser(
        "events",
        help="recent events (the journal's audit trail); --follow, --since for history",
        description="With no option, the events the engine keeps in memory (its last 200). "
        "--follow prints new events as they happen, from now; --since SEQ|TIME prints history "
        "from the journal (read-only, beside the engine) from that event on, then (with "
        "--follow) keeps going.",
    )
    events.add_argument("--follow", action="store_true", help="print new events from now on")
    events.add_argument(
        "--since",
        metavar="SEQ|TIME",
        help="history from sequence number SEQ (the first column) or an ISO date/time (UTC)",
    )
    _json(events)

    _order_options(sub.add_parser("buy", help="place a buy order"))
    _order_options(sub.add_parser("sell", help="place a sell order"))
    modify = sub.add_parser("modify", help="change a working order's price and/or units")
    modify.add_argument("order_id", metavar="ID")
    modify.add_argument("--price", metavar="P")
    modify.add_argument("--units", metavar="N")
    _json(modify)
    cancel = sub.add_parser("cancel", help="cancel an order, or every working order with --all")
    cancel.add_argument("order_id", nargs="?", metavar="ID")
    cancel.add_argument("--all", action="store_true", help="every working (non-protective) order")
    cancel.add_argument("--account", metavar="A", help="with --all: only this account")
    _json(cancel)
    close = sub.add_parser("close", help="close a position (all of it, or --units)")
    close.add_argument("instrument", type=instrument_name)
    close.add_argument("--units", metavar="N")
    close.add_argument("--account", metavar="A", help="default: every account holding it")
    close.add_argument("--trade", metavar="ID", help="close this one trade (see tmt positions)")
    _json(close)
    flatten = sub.add_parser("flatten", help="close every position in every account")
    flatten.add_argument("--yes", action="store_true", help="required: this closes everything")
    _json(flatten)
    _json(sub.add_parser("kill", help="engage the kill switch; waits until HALTED"))
    reduce = sub.add_parser("reduce", help="REDUCING: only risk-reducing orders (--off to leave)")
    reduce.add_argument("--off", action="store_true")
    reduce.add_argument("--account", metavar="A")
    _json(reduce)
    reset = sub.add_parser("reset-kill", help="re-arm trading after a halt")
    reset.add_argument("--yes", action="store_true", help="required: trading resumes")
    _json(reset)
    _json(sub.add_parser("stop", help="stop the engine gracefully"))
    from tmt_tui.cli.replay import add_parser as add_replay

    add_replay(sub)
    price_alerts.add_parser(sub)
    watch.add_parser(sub)

    analytics = sub.add_parser(
        "analytics",
        help="returns, Sharpe/Sortino/Calmar, drawdowns, VaR of a journal's accounts or a CSV",
        description="Portfolio metrics of an equity series: each account of a tmt journal (the "
        "config's journal by default, or --journal FILE; read-only, beside a running engine), or "
        "a CSV of timestamp,equity (timestamp,return with --returns). Days close at 17:00 New "
        "York; ratios are annualised over 260 trading days; deposits and withdrawals are not "
        "returns.",
    )
    analytics.add_argument("source", nargs="?", metavar="CSV", help="a timestamp,equity CSV")
    analytics.add_argument("--returns", action="store_true", help="the CSV holds returns")
    analytics.add_argument("--journal", metavar="FILE", help="a tmt journal (default: config's)")
    analytics.add_argument(
        "--account", metavar="A", help="one account, or ALL: every account in report currency"
    )
    analytics.add_argument("--since", metavar="WHEN", help="ISO date/time or epoch seconds")
    analytics.add_argument("--until", metavar="WHEN", help="ISO date/time or epoch seconds")
    analytics.add_argument("--series", action="store_true", help="with --json: the daily series")
    _json(analytics)

    report = sub.add_parser(
        "report",
        help="the audit export of a journal (orders, controls); `report verify`: its hash chain",
        description="Export every event of a period from a tmt journal (the config's, or "
        "--journal FILE; read-only, beside a running engine) into DIR: orders.csv|jsonl (each "
        "step of each order's life), controls.csv|jsonl (every other event) and manifest.json "
        "(with the journal's chain head: keep it). `tmt report verify [--head SEQ:HASH]` checks "
        "the hash chain and names any edited, deleted or moved event (exit 1).",
    )
    report.add_argument("action", nargs="?", choices=["verify"], help="verify the hash chain")
    report.add_argument("--journal", metavar="FILE", help="a tmt journal (default: config's)")
    report.add_argument("--since", metavar="WHEN", help="ISO date/time or epoch seconds")
    report.add_argument(
        "--until", metavar="WHEN", help="ISO date/time or epoch seconds (a date: to its end)"
    )
    report.add_argument("--account", metavar="A", help="one account's rows (and every account's)")
    report.add_argument("--format", choices=["csv", "jsonl"], default="csv", help="default csv")
    report.add_argument("--out", metavar="DIR", help="where the export goes (made if missing)")
    report.add_argument("--head", metavar="SEQ:HASH", help="verify: a chain head kept elsewhere")
    _json(report)

    sub.add_parser(
        "oanda-sim",
        help="a local OANDA v20-compatible server on the simulated market (token: $OANDA_TOKEN)",
        add_help=False,
    )
    sub.add_parser(
        "polygon-sim",
        help="a local Polygon/Massive WebSocket server on the simulated market "
        "(key: $MASSIVE_API_KEY)",
        add_help=False,
    )
    oanda = sub.add_parser("oanda", help="OANDA tools (token from $OANDA_TOKEN)")
    oanda_sub = oanda.add_subparsers(dest="oanda_command", metavar="ACTION", required=True)
    accounts = oanda_sub.add_parser(
        "accounts",
        help="check the token; list its accounts and whether tmt can trade each",
        description="Reads OANDA directly (no engine needed), at the environment of --config's "
        "[oanda] table (practice by default).",
    )
    _json(accounts)
    sync = sub.add_parser(
        "sync",
        help="the history database (PostgreSQL / TimescaleDB; DSN from $TMT_PG_DSN)",
        description="The journal's copy in PostgreSQL ([sync] enabled = true runs it beside the "
        "engine). Reads the config's journal read-only (or --journal FILE) and connects to "
        "$TMT_PG_DSN itself: no engine needed.",
    )
    sync_sub = sync.add_subparsers(dest="sync_command", metavar="ACTION", required=True)
    sync_status = sync_sub.add_parser(
        "status", help="backend, watermarks, lag in rows and seconds, the last error"
    )
    sync_backfill = sync_sub.add_parser(
        "backfill", help="copy what the database misses (a progress bar on a terminal)"
    )
    sync_backfill.add_argument("--since", metavar="WHEN", help="only rows from then (ISO date)")
    sync_check = sync_sub.add_parser(
        "check", help="row counts and checksums per table, journal vs database (exit 1: differ)"
    )
    for action in (sync_status, sync_backfill, sync_check):
        action.add_argument("--journal", metavar="FILE", help="a tmt journal (default: config's)")
        _json(action)
    config = sub.add_parser("config", help="config tools")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = config_sub.add_parser("check", help="validate a config file without starting anything")
    check.add_argument("path", metavar="PATH")
    _global_options_after(sub, skip={*PASSTHROUGH, "config"})
    return parser


def _global_options_after(sub: Any, skip: set[str]) -> None:
    """`tmt engine --config X` reads as well as `tmt --config X engine`: every subcommand also
    takes the global options (their SUPPRESS default keeps a value given before it)."""
    for name, command in sub.choices.items():
        if name in skip:
            continue
        nested = [a for a in command._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            _global_options_after(nested[0], skip=set())
            continue
        command.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                             help="TOML config (as before the command)")  # fmt: skip
        command.add_argument("--socket", metavar="PATH", default=argparse.SUPPRESS,
                             help="control API socket (as before the command)")  # fmt: skip
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                             help="debug logging to the log file")  # fmt: skip
