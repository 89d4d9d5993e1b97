"""The crash suite's rig: a home per journal (config, data, socket, token), `tmt engine` as a
process to SIGKILL at chosen moments, the control API from the test process, and the client
processes of a burst.

Every wait is on a condition with a generous timeout; a random moment is a random sleep before
a SIGKILL, never something a test asserts on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support.cli import ROOT, engine_env
from tests.support.waiting import wait_for
from tmt_tui.api.protocol import ApiError
from tmt_tui.api.remote import RemoteEngineClient
from tmt_tui.domain.client import Reply, Snapshot
from tmt_tui.domain.commands import Command
from tmt_tui.venues.oanda_sim.server import V20ServerThread

#: Only a broken engine or test ever waits this long for a condition.
WITHIN_S = 60.0
OANDA_TOKEN = "crash-oanda-token-3f9c1e5d7a"
INSTRUMENTS = ("EUR_USD", "USD_JPY")

#: Limits no burst of this suite comes near: a refusal would only hide what a round checks.
_ACCOUNT = """
[[accounts]]
id = "{id}"
balance = "100000"

[accounts.risk]
daily_loss_limit = "10000000"
max_orders_per_second = 100000
max_working_orders = 100000
max_quote_age_s = 60.0
"""


@dataclass(frozen=True)
class Broker:
    """What a round trades on: the engine's paper broker (``server`` None), or the local v20
    server that outlives every engine of the test and whose ledger is the truth."""

    name: str
    server: V20ServerThread | None = None

    def config(self, home: Path) -> str:
        common = f"""
[engine]
journal_path = "{home}/data/journal.db"
market_data = "{self.name}"
broker = "{self.name}"
tick_flush_ms = 100

[api]
socket_path = "{home}/run/e.sock"

[monitoring]
metrics_port = 0
"""
        if self.server is None:
            sim = f"[sim]\ninstruments = {list(INSTRUMENTS)!r}\n".replace("'", '"')
            return common + sim + _ACCOUNT.format(id="SIM-USD")
        oanda = f"""
[oanda]
environment = "local"
rest_url = "{self.server.url}"
account_id = "{self.server.account_id}"
instruments = {list(INSTRUMENTS)!r}
stream_silence_s = 2.0
reconnect_backoff_s = 0.05
max_backoff_s = 0.2
""".replace("'", '"')
        return common + oanda + _ACCOUNT.format(id="")

    @property
    def account(self) -> str:
        return "SIM-USD" if self.server is None else self.server.account_id

    def trading(self, snap: Snapshot) -> bool:
        """Ready for orders: reconciled with the venue and priced."""
        quoted = {q.instrument for q in snap.quotes}
        return "venue.reconciling" not in snap.alerts and quoted >= set(INSTRUMENTS)


@dataclass
class Home:
    """One journal's world: XDG dirs, config, socket and the acks of its clients."""

    path: Path
    broker: Broker

    @classmethod
    def make(cls, broker: Broker) -> Home:
        # short: a Unix socket path must stay under 107 bytes
        home = cls(Path(tempfile.mkdtemp(prefix="tmtcrash-", dir="/tmp")), broker)
        (home.path / "run").mkdir(mode=0o700)
        home.acks.mkdir()
        home.config.write_text(broker.config(home.path))
        return home

    @property
    def config(self) -> Path:
        return self.path / "tmt.toml"

    @property
    def journal(self) -> Path:
        return self.path / "data" / "journal.db"

    @property
    def socket(self) -> Path:
        return self.path / "run" / "e.sock"

    @property
    def acks(self) -> Path:
        return self.path / "acks"

    @property
    def log(self) -> Path:
        return self.path / "engine.err"

    def env(self) -> dict[str, str]:
        env = engine_env(self.path)
        env.pop("OANDA_ACCOUNT_ID", None)
        env["OANDA_TOKEN"] = OANDA_TOKEN
        return env

    @property
    def token_file(self) -> Path:
        """Where the engine keeps its control API token (it writes it at start)."""
        return self.path / "state" / "tmt" / "api.token"

    def token(self) -> str:
        return self.token_file.read_text().strip()

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except FileNotFoundError:
            return "(no engine log)"
        return "\n".join(text.splitlines()[-lines:])

    def journal_showed(self) -> bool:
        """A journal file is in the data dir: the journal itself, or the one being made."""
        try:
            entries = list(os.scandir(self.journal.parent))
        except FileNotFoundError:
            return False
        return any(
            e.name.startswith("journal.db.new-")
            or (e.name == "journal.db" and e.stat().st_size > 0)
            for e in entries
        )


class EngineProcess:
    """`tmt engine` on a home, stderr to the home's log."""

    def __init__(self, home: Home) -> None:
        self.home = home
        with open(home.log, "a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tmt_tui", "--config", str(home.config), "engine"],
                env=home.env(),
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def alive(self) -> bool:
        """Still running; an engine that ended by itself is a failure, with its log."""
        code = self.proc.poll()
        if code is not None:
            raise AssertionError(f"tmt engine exited ({code}):\n{self.home.log_tail()}")
        return True

    def holds_journal(self) -> bool:
        """The engine has opened its journal (it replays it next)."""
        self.alive()
        target = str(self.home.journal)
        fds = f"/proc/{self.proc.pid}/fd"
        try:
            names = os.listdir(fds)
        except FileNotFoundError:
            return False
        for name in names:
            try:
                if os.readlink(f"{fds}/{name}") == target:
                    return True
            except OSError:
                continue
        return False

    def kill(self) -> None:
        """SIGKILL, and reap it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(WITHIN_S)

    def terminate(self) -> int:
        """A graceful stop (SIGTERM); its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(WITHIN_S)


# the control API, from the test process -----------------------------------------------------


def _client(home: Home) -> RemoteEngineClient:
    return RemoteEngineClient(home.socket, token=home.token(), client_name="crash test")


async def _snapshot(home: Home) -> Snapshot:
    client = _client(home)
    stream = client.subscribe()
    try:
        item = await stream.__anext__()
    finally:
        await stream.aclose()
        await client.close()
    assert isinstance(item, Snapshot), item
    return item


async def _execute(home: Home, command: Command) -> Reply:
    client = _client(home)
    try:
        return await client.execute(command)
    finally:
        await client.close()


def snapshot(home: Home) -> Snapshot:
    """The engine's whole picture now."""
    return asyncio.run(_snapshot(home))


def execute(home: Home, command: Command) -> Reply | None:
    """The engine's reply to ``command``; None when the answer was lost."""
    try:
        return asyncio.run(_execute(home, command))
    except (ApiError, OSError):
        return None


def serving(engine: EngineProcess) -> Snapshot:
    """Wait until ``engine`` answers and trades (reconciled and priced); its snapshot then."""
    home = engine.home

    def ready() -> Snapshot | None:
        engine.alive()
        if not home.socket.exists():
            return None
        try:
            snap = snapshot(home)
        except (ApiError, OSError):
            return None
        return snap if home.broker.trading(snap) else None

    return wait_for(ready, f"tmt engine serving on {home.path}", within=WITHIN_S, interval=0.05)


# the client processes ----------------------------------------------------------------------


class Clients:
    """The run's client processes (tests/crash/client.py), each taking one burst at a time."""

    def __init__(self, count: int) -> None:
        self.jobs = Path(tempfile.mkdtemp(prefix="tmtcrash-jobs-", dir="/tmp"))
        self.sent = [0] * count  # jobs handed to each client so far
        self.procs: list[subprocess.Popen[bytes]] = []
        for i in range(count):
            with open(self.jobs / f"c{i}.err", "w") as err:
                self.procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "tests.crash.client", str(self.jobs), str(i)],
                        env={**os.environ, "PYTHONPATH": str(ROOT)},
                        cwd=ROOT,
                        stdout=subprocess.DEVNULL,
                        stderr=err,
                    )
                )

    def give(self, i: int, job: dict[str, object]) -> Path:
        """Hand client ``i`` its next job; the file that says it is done."""
        n = self.sent[i]
        self.sent[i] += 1
        path = self.jobs / f"c{i}-{n}.json"
        part = path.with_suffix(".part")
        part.write_text(json.dumps(job))
        part.rename(path)  # whole, or not there
        return path.with_suffix(".done")

    def failures(self) -> list[str]:
        """Clients that ended (they live for the run), with their stderr."""
        return [
            f"client {i} exited {p.returncode}: {(self.jobs / f'c{i}.err').read_text()[-800:]}"
            for i, p in enumerate(self.procs)
            if p.poll() is not None
        ]

    def close(self) -> None:
        for i, p in enumerate(self.procs):
            if p.poll() is None:
                self.give(i, {"stop": True})
        for p in self.procs:
            try:
                p.wait(WITHIN_S)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(WITHIN_S)
        shutil.rmtree(self.jobs, ignore_errors=True)

    def kill(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(WITHIN_S)
        shutil.rmtree(self.jobs, ignore_errors=True)


@dataclass
class Burst:
    """Clients sending orders at once, each appending its replies to a file of its own."""

    clients: Clients
    files: list[Path]
    done_files: list[Path]

    @classmethod
    def start(cls, clients: Clients, home: Home, tag: str, first: int, counts: list[int]) -> Burst:
        """Clients 0, 1, ... send ``counts[i]`` orders each, sizes ``first``, ``first + 1``..."""
        files = [home.acks / f"{tag}-c{i}.jsonl" for i in range(len(counts))]
        done = []
        for i, count in enumerate(counts):
            job = {
                "socket": str(home.socket),
                "token_file": str(home.token_file),
                "acks": str(files[i]),
                "account": home.broker.account,
                "instruments": list(INSTRUMENTS),
                "first": first,
                "count": count,
                "seed": f"{tag}-c{i}-{first}",
            }
            done.append(clients.give(i, job))
            first += count
        return cls(clients, files, done)

    def replies(self) -> int:
        """Reply lines the clients have written so far."""
        total = 0
        for path in self.files:
            with contextlib.suppress(FileNotFoundError):
                total += path.read_bytes().count(b"\n")
        return total

    def acked(self) -> int:
        """Orders the clients saw acknowledged."""
        count = 0
        for path in self.files:
            with contextlib.suppress(FileNotFoundError):
                lines = path.read_text().splitlines()
                count += sum(1 for line in lines if json.loads(line).get("ok"))
        return count

    def done(self) -> bool:
        if self.clients.failures():
            raise AssertionError("; ".join(self.clients.failures()))
        return all(path.exists() for path in self.done_files)

    def wait(self, until: Callable[[], bool] | None = None) -> None:
        """Until every client has finished the burst (or ``until`` holds first)."""
        wait_for(
            lambda: (until is not None and until()) or self.done(),
            "the clients to finish the burst",
            within=WITHIN_S,
            interval=0.005,
        )
