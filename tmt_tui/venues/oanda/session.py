"""One OANDA account as the engine's venue: checks at start, the broker and feed, the
transaction stream, and what reconciliation needs to read.

The engine runner drives it on its own event loop. On start and after every reconnect of the
transaction stream the runner reconciles (see engine/reconcile.py); in between, each transaction
on the stream becomes venue events through the shared ``TransactionMapper``. OANDA numbers an
account's transactions one by one, so a heartbeat whose ``lastTransactionID`` is ahead of what
was read, or a transaction more than one past it, means a gap: the missing transactions are read
with ``transactions/sinceid`` before anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from tmt_tui.config import OandaSettings
from tmt_tui.domain.conversion import conversion_paths
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import Order, OrderStatus
from tmt_tui.venues.base import (
    MarginProbe,
    ReconcileHook,
    StatusHook,
    VenueAccount,
    VenueCancelled,
    VenueEvent,
    VenueOpened,
    VenueOpening,
    VenueRefused,
    VenueRejected,
    VenueSink,
    VenueSnapshot,
)
from tmt_tui.venues.oanda.backoff import ReconnectBackoff
from tmt_tui.venues.oanda.broker import OandaBroker, OandaFeed
from tmt_tui.venues.oanda.client import OandaClient, StreamDropped, Token, TokenRejected
from tmt_tui.venues.oanda.errors import OandaError
from tmt_tui.venues.oanda.stream import Heartbeat
from tmt_tui.venues.oanda.transactions import TransactionMapper

log = logging.getLogger(__name__)
_CURRENCY_PAIR = re.compile(r"^[A-Z]{3}_[A-Z]{3}$")


def token_from_env() -> Token:
    try:
        return Token(os.environ.get("OANDA_TOKEN", ""))
    except ValueError as exc:
        if os.environ.get("OANDA_TOKEN"):
            raise VenueRefused(f"OANDA_TOKEN: {exc}") from None
        raise VenueRefused(
            "OANDA_TOKEN is not set: export the API token of your OANDA account "
            "(https://www.oanda.com/account/tpa/personal_token)"
        ) from None


class OandaVenue:
    """The OANDA account tmt trades (the ``Venue`` protocol); see the module docstring."""

    name = "oanda"
    reconciles = True

    def __init__(
        self,
        settings: OandaSettings,
        *,
        cursor: int = 0,
        token: Token | None = None,
    ) -> None:
        """Nothing is read from the environment until ``open``: the engine takes its journal
        first, so a second ``tmt`` without the token still finds the running engine."""
        self.settings = settings
        self._token = token
        self._cursor = cursor
        self._client: OandaClient | None = None
        self._mapper: TransactionMapper | None = None
        self._on_reconnect: Callable[[str], None] | None = None
        self._running = True
        self._broker: OandaBroker | None = None
        self._feed: OandaFeed | None = None
        self.account: VenueAccount | None = None
        self.stream_connects = 0
        self._fresh = False  # set by resume(): the journal is new
        self._unsettled = False  # a request's outcome is unknown: reconcile at the next line

    def _connect(self) -> None:
        """The client for the configured account, with the token from the environment; raises
        VenueRefused saying which variable or key to set."""
        settings = self.settings
        account_id = settings.resolved_account_id()
        if not account_id:
            raise VenueRefused(
                "no OANDA account id: set oanda.account_id in the config or export "
                "OANDA_ACCOUNT_ID (`tmt oanda accounts` lists yours)"
            )
        rest, stream = settings.urls()
        self._client = OandaClient(
            account_id=account_id,
            token=self._token or token_from_env(),
            rest_url=rest,
            stream_url=stream,
            timeout=settings.request_timeout_s,
            stream_silence=settings.stream_silence_s,
            max_requests_per_s=settings.max_requests_per_s,
            max_connects_per_s=settings.max_connects_per_s,
        )
        self._mapper = TransactionMapper(account_id, "", self._cursor)

    @property
    def client(self) -> OandaClient:
        assert self._client is not None, "open the venue first"
        return self._client

    @property
    def mapper(self) -> TransactionMapper:
        assert self._mapper is not None, "open the venue first"
        return self._mapper

    @property
    def broker(self) -> OandaBroker:
        assert self._broker is not None, "open the venue first"
        return self._broker

    @property
    def feed(self) -> OandaFeed:
        assert self._feed is not None, "open the venue first"
        return self._feed

    def resume(
        self, cursor: int, seen: Iterable[str], margin_probe: MarginProbe, *, fresh: bool
    ) -> None:
        """Read OANDA's history after the journaled ``cursor``; OANDA checks margin itself.

        A fresh journal starts at the account's present (its first reconciliation takes the
        open trades and orders as they are); an old one resumes after its cursor, even 0: a
        new account's history is all ours."""
        self._fresh = fresh
        self.mapper.cursor = cursor
        self.mapper.mark_seen(t for t in seen if int(t) > cursor)

    def hold_answers(self, quiet: bool) -> None:
        self.mapper.quiet = quiet

    @property
    def account_id(self) -> str:
        return self.client.account_id

    # start ----------------------------------------------------------------------------------

    async def open(self, opening: VenueOpening) -> VenueOpened:
        """Check the account and read its instruments; raises VenueRefused with the reason.

        Client order ids carry the journal's id (``t<journal>.<order>``), so a new journal
        never reuses one that OANDA has seen."""
        self._connect()
        self.mapper.tag = f"t{opening.journal_id}."
        self._on_reconnect = opening.on_reconnect
        try:
            summary = await self.client.summary()
            available = await self.client.instruments()
        except TokenRejected as exc:
            raise VenueRefused(str(exc)) from None
        except OandaError as exc:
            where = self.settings.urls()[0]
            raise VenueRefused(f"OANDA is unreachable at {where}: {exc}") from None
        account = VenueAccount(
            id=self.account_id,
            currency=str(summary.get("currency", "USD")),
            balance=Decimal(str(summary.get("balance", "0"))),
            hedging=bool(summary.get("hedgingEnabled", False)),
            alias=str(summary.get("alias", "")),
        )
        if account.hedging:
            raise VenueRefused(
                f"OANDA account {account.id} has hedging enabled; tmt nets positions per "
                "instrument, so it trades only accounts without hedging (open a sub-account "
                "without it in OANDA's hub)"
            )
        by_name = {i.name: i for i in available}
        wanted = self.settings.instruments
        if wanted:
            unknown = [n for n in wanted if n not in by_name]
            if unknown:
                raise VenueRefused(
                    f"key 'oanda.instruments' names instruments account {account.id} cannot "
                    f"trade: {', '.join(unknown)}"
                )
            instruments = _with_conversions(
                tuple(by_name[n] for n in wanted), by_name, account.currency
            )
        else:
            instruments = tuple(i for i in available if _CURRENCY_PAIR.match(i.name))
        self.account = account
        loop = asyncio.get_running_loop()
        self._broker = OandaBroker(
            self.client,
            loop,
            available,  # every instrument: one put on the watchlist later trades at once
            self.mapper,
            catch_up=self._catch_up,
            on_unknown=self._settle_soon,
        )
        self._feed = OandaFeed(
            self.client,
            instruments,
            universe=available,
            reconnect_backoff=self.settings.reconnect_backoff_s,
            max_backoff=self.settings.max_backoff_s,
            on_reconnect=self._on_reconnect,
        )
        return VenueOpened(instruments, (account,))

    async def aclose(self) -> None:
        self._running = False
        if self._feed is not None:
            self._feed.stop()
        if self._broker is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._broker.drain(), 2)  # the rest: reconciliation
        if self._client is not None:
            await self._client.aclose()

    # reading the account --------------------------------------------------------------------

    async def backfill(self, sink: VenueSink, upto: int | None = None) -> None:
        """Every transaction after the cursor (up to ``upto`` and no further) into ``sink``, one
        by one: the cursor never moves past a transaction whose events were not handed over."""
        while upto is None or self.mapper.cursor < upto:
            txns, last = await self.client.transactions_since(str(self.mapper.cursor))
            for txn in txns:
                if upto is not None and int(txn.get("id", 0)) > upto:
                    return
                for event in self.mapper.apply(txn):
                    sink(event)
            if not txns or int(last) <= self.mapper.cursor:
                break
        if upto is not None:
            self.mapper.cursor = max(self.mapper.cursor, upto)

    def _settle_soon(self) -> None:
        """A request's outcome is unknown: the book tells, so reconcile at the stream's next
        line (a heartbeat at the latest) rather than at the next reconnect, which may never
        come while the stream is healthy."""
        self._unsettled = True

    async def _catch_up(self, sink: VenueSink, upto: int) -> None:
        """The history up to ``upto``, for an answer that came before it (see broker.py)."""
        if self.mapper.cursor < upto:
            await self.backfill(sink, upto)

    async def snapshot(self, open_orders: Iterable[Order], sink: VenueSink) -> VenueSnapshot:
        """The account as OANDA holds it; the events that bring the engine to it go to ``sink``.

        One request gives a consistent snapshot as of one transaction id; the history is read
        up to exactly that id, so after the events the engine differs from the snapshot only by
        what happened outside any transaction it can see (which reconciliation then fixes).
        A new journal starts at the snapshot: the account's older history is not tmt's.
        """
        details, last = await self.client.account_details()
        upto = int(last) if last.isdigit() else self.mapper.cursor
        if self._fresh:
            self.mapper.cursor = upto
            self._fresh = False
        await self.backfill(sink, upto)
        trades = tuple(self.mapper.open_trade(raw) for raw in details["trades"])  # first: a
        # take-profit names only its trade, whose instrument this teaches the mapper
        orders = [o for o in (self.mapper.pending_order(raw) for raw in details["orders"]) if o]
        at_venue = {o.id for o in orders}
        open_trades = {t.id for t in trades}
        broker = self._broker
        for order in open_orders:
            ours = order.origin != "venue"  # adopted orders have no client id to look up
            waiting = broker is not None and order.id in broker.in_flight
            unanswered = ours and order.status is OrderStatus.SUBMITTED and not waiting
            if order.id not in at_venue and unanswered:
                try:
                    for event in await self._fate(order, open_trades):
                        sink(event)
                except OandaError as exc:  # asked again at the next reconciliation
                    log.warning("order %s: could not look it up (%s)", order.id, exc)
        account = self.account or VenueAccount(self.account_id, "USD", Decimal(0))
        return VenueSnapshot(
            account=replace(account, balance=Decimal(str(details.get("balance", "0")))),
            orders=tuple(orders),
            trades=trades,
            last_txn=str(upto),
        )

    async def _fate(self, order: Order, open_trades: set[str]) -> list[VenueEvent]:
        """An order we sent whose answer never came (tmt stopped in between): if OANDA has it,
        its transactions tell the rest; if not, it never arrived. A trade close carries no
        client id: its trade still open means it never happened; gone means it did (its
        transactions, read without our id, booked it)."""
        if order.trade_id is not None and order.reduce_only:
            if order.trade_id in open_trades:
                return [
                    VenueRejected(
                        order.id, "NOT_AT_VENUE", "the trade close never reached OANDA (reconciled)"
                    )
                ]
            return [VenueCancelled(order.id, "trade closed at OANDA (reconciled)")]
        found = await self.client.order(f"@{self.mapper.client_id(order.id)}")
        if found is not None:
            self.mapper.learn(str(found["id"]), order.id)
            return []
        return [
            VenueRejected(order.id, "NOT_AT_VENUE", "OANDA never received this order (reconciled)")
        ]

    # the transaction stream -----------------------------------------------------------------

    async def follow(
        self,
        sink: VenueSink,
        reconcile: ReconcileHook,
        status: StatusHook,
    ) -> None:
        """Reconcile, then apply the transaction stream; on a drop, reconnect and start over.
        A request whose outcome is unknown has the next line reconcile first."""
        pacer = ReconnectBackoff(self.settings.reconnect_backoff_s, self.settings.max_backoff_s)
        while self._running:
            self.stream_connects += 1
            if self.stream_connects > 1 and self._on_reconnect is not None:
                self._on_reconnect("oanda-transactions")
            try:
                self._unsettled = False
                await reconcile()
                first = True
                async for message in self.client.stream_transactions():
                    pacer.reset()
                    if first:  # what happened between the reconciliation and this connection
                        first = False
                        status("venue.stream", False, "OANDA transaction stream connected")
                        await self.backfill(sink)
                    if self._unsettled:
                        self._unsettled = False
                        await reconcile()
                    if isinstance(message, Heartbeat):
                        last = message.last_transaction_id
                        if last and last.isdigit() and int(last) > self.mapper.cursor:
                            log.info(
                                "transaction gap (%s > %d): backfill", last, self.mapper.cursor
                            )
                            await self.backfill(sink)
                        continue
                    tid = str(message.get("id", ""))
                    if tid.isdigit() and int(tid) > self.mapper.cursor + 1:
                        # ids are consecutive: the ones between were lost on the wire, and
                        # applying this one first would move the cursor past them for good
                        log.info("transaction gap (%s after %d): backfill", tid, self.mapper.cursor)
                        await self.backfill(sink)
                    for event in self.mapper.apply(message):
                        sink(event)
            except TokenRejected as exc:
                status("venue.stream", True, str(exc))
                raise
            except (StreamDropped, OandaError) as exc:
                log.warning("transaction stream: %s; reconnecting", exc)
                status("venue.stream", True, f"OANDA transaction stream down ({exc}); reconnecting")
            except Exception as exc:  # a bug or a surprise answer must not end the stream for good
                log.exception("transaction stream failed; reconnecting")
                status("venue.stream", True, f"OANDA transaction stream failed ({exc}); retrying")
            await asyncio.sleep(pacer.next())


def _with_conversions(
    chosen: tuple[Instrument, ...], available: dict[str, Instrument], home: str
) -> tuple[Instrument, ...]:
    """``chosen`` plus the pairs that convert their P&L into ``home`` (direct, else through
    USD) when the account can quote them: a USD account trading GBP_JPY also streams USD_JPY,
    so every position can be valued and no fill waits for a rate nobody streams."""
    names = {i.name for i in chosen}
    added: list[Instrument] = []
    for currency in sorted({i.quote for i in chosen}):
        if conversion_paths(names, currency, home):
            continue
        for path in conversion_paths(available, currency, home):
            for name, _ in path:
                if name not in names:
                    names.add(name)
                    added.append(available[name])
            break
    if added:
        log.info("also streaming %s to convert P&L into %s", ", ".join(i.name for i in added), home)
    return chosen + tuple(added)


def _unstamped(event: Any) -> VenueEvent:
    """An event read out of order: it must not move the engine's transaction cursor."""
    result: VenueEvent = replace(event, txn="")
    return result
