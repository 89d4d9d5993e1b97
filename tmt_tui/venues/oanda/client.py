"""Our async OANDA v20 client: REST calls, order submission, price and transaction streams.

REST goes over ``HttpPool`` (http11.py: keep-alive HTTP/1.1 on h11, several times less Python
per request than httpx; the order path is latency-critical). The long-lived streams stay on
httpx, where per-request overhead does not matter. REST and stream hosts differ at OANDA.

Order submission never resends blindly: after a timeout or a dropped connection it first looks
the order up by its client id (``GET /orders/@id``), because OANDA has no idempotency header and
a resend could double a position. A replace looks up the replacing order the same way; a trade
or position close whose outcome is unknown is reported as unknown (reconciliation settles it).

Every REST request waits for a slot under ``max_requests_per_s`` and every new stream
connection under ``max_connects_per_s`` (pacing.py), below OANDA's published limits. REST
connections are few and long-lived (the pool keeps at most four) and are not paced: a REST call
waiting behind a stream reconnect loop would put the order path behind the feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from decimal import Decimal
from typing import Any

import httpx

from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import Order
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.reasons import Reason
from tmt_tui.domain.secret import Secret
from tmt_tui.venues.oanda.answers import (
    TRADE_ORDER_KEYS,
    CancelledOnCreate,
    Filled,
    Rejected,
    Replaced,
    Resting,
    SubmitOutcome,
    TradeOrdersSet,
    fill_of,
    order_body,
    outcome_of,
    rejected_by,
    transaction_ids,
)
from tmt_tui.venues.oanda.errors import OandaError
from tmt_tui.venues.oanda.http11 import HttpError, HttpPool, NotSent, Response, SentUnknown
from tmt_tui.venues.oanda.pacing import SlidingWindow
from tmt_tui.venues.oanda.stream import (
    Heartbeat,
    PriceStreamParser,
    TransactionStreamParser,
)

log = logging.getLogger(__name__)
Json = dict[str, Any]

PRACTICE_REST = "https://api-fxpractice.oanda.com"
PRACTICE_STREAM = "https://stream-fxpractice.oanda.com"


class Token(Secret):
    """OANDA's API token: a ``Secret`` that must look like a token (checked without echoing)."""

    __slots__ = ()

    def __init__(self, value: str) -> None:
        if not value:
            raise ValueError("an OANDA API token is required")
        if not all("!" <= ch <= "~" for ch in value):  # never echo it: it is still a secret
            raise ValueError(
                "the OANDA API token holds spaces, line breaks or other characters a token "
                "never has (a trailing newline from a file?)"
            )
        super().__init__(value)


class TokenRejected(OandaError):
    """OANDA answered 401: the token is wrong, expired or lacks access to the account."""


class StreamDropped(OandaError):
    """A stream ended or went silent; the caller reconnects (and backfills)."""


class OandaUnavailable(OandaError):
    """Retries ran out and the outcome of the request is unknown."""


class OandaClient:
    """One account at one OANDA environment (or the local v20 server)."""

    def __init__(
        self,
        *,
        account_id: str,
        token: Token,
        rest_url: str = PRACTICE_REST,
        stream_url: str | None = None,
        timeout: float = 10.0,
        stream_silence: float = 10.0,
        max_retries: int = 4,
        backoff: float = 0.25,
        max_requests_per_s: float = 90.0,
        max_connects_per_s: float = 2.0,
    ) -> None:
        self.account_id = account_id
        self._max_retries = max_retries
        self._backoff = backoff
        headers = {
            "Authorization": f"Bearer {token.reveal()}",
            "Accept-Datetime-Format": "RFC3339",
            "Content-Type": "application/json",
        }
        # the pool keeps at most 4 REST connections alive; new stream connections are paced
        self.connect_pace = SlidingWindow(max_connects_per_s)
        self._http = HttpPool(rest_url, headers, timeout=timeout)
        self._stream = httpx.AsyncClient(
            base_url=stream_url or rest_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, read=stream_silence),  # heartbeats come every 5 s
            trust_env=False,
        )
        self.request_pace = SlidingWindow(max_requests_per_s)
        self._base = f"/v3/accounts/{account_id}"
        self.retries = 0  # requests resent after 429/5xx/transport errors (a metric)

    def __repr__(self) -> str:
        return f"OandaClient(account_id={self.account_id!r}, rest={self._http.base_url!r})"

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._stream.aclose()

    async def __aenter__(self) -> OandaClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # plumbing -------------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        body: Json | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Response:
        """One paced request (``path`` from the host root); transport errors propagate."""
        payload = None if body is None else json.dumps(body).encode()
        await self.request_pace.acquire()
        return await self._http.request(method, path, body=payload, params=params)

    async def _pause(self, attempt: int, response: Response | None = None) -> None:
        self.retries += 1
        delay = self._backoff * 2**attempt
        if response is not None:
            with contextlib.suppress(ValueError):
                delay = max(delay, float(response.headers.get("retry-after", 0)))
        await asyncio.sleep(delay)

    @staticmethod
    def _check_auth(response: Response) -> None:
        if response.status == 401:
            raise TokenRejected(
                "OANDA rejected the API token (401: "
                + str(_json(response).get("errorMessage", "unauthorized"))
                + "); check the token and that it can access this account"
            )

    @staticmethod
    def _retryable(response: Response) -> bool:
        return response.status == 429 or response.status >= 500

    async def _get(
        self, path: str, params: dict[str, str] | None = None, *, root: bool = False
    ) -> Response:
        """A GET, retried on 429/5xx and transport errors (GETs are safe to repeat)."""
        full = path if root else self._base + path
        for attempt in range(self._max_retries + 1):
            try:
                response = await self._request("GET", full, params=params)
            except HttpError as exc:
                if attempt == self._max_retries:
                    raise OandaUnavailable(f"GET {path}: {type(exc).__name__}") from None
                await self._pause(attempt)
                continue
            self._check_auth(response)
            if self._retryable(response):
                if attempt == self._max_retries:
                    raise OandaUnavailable(f"GET {path}: HTTP {response.status}")
                await self._pause(attempt, response)
                continue
            return response
        raise AssertionError("unreachable")

    async def _body(self, path: str, params: dict[str, str] | None = None) -> Json:
        """A GET that must succeed: its JSON body, else OandaError with OANDA's message (a 404
        or 416 is an answer, not a reason to crash the caller)."""
        response = await self._get(path, params)
        if response.status != 200:
            message = str(_json(response).get("errorMessage", ""))
            raise OandaError(f"GET {path or '/'}: HTTP {response.status} {message}".rstrip())
        return _json(response)

    async def _put_repeatable(self, path: str, body: Json | None, what: str) -> Response:
        """A PUT that is safe to repeat (cancel, set TP/SL): retried like a GET."""
        for attempt in range(self._max_retries + 1):
            try:
                response = await self._request("PUT", self._base + path, body)
            except HttpError:
                await self._pause(attempt)
                continue
            self._check_auth(response)
            if self._retryable(response):
                await self._pause(attempt, response)
                continue
            return response
        raise OandaUnavailable(f"{what}: retries exhausted")

    async def _put_once(self, path: str, body: Json, what: str) -> Response:
        """A PUT that must not be repeated once it may have arrived (closing units): resent only
        when it surely did not (connection refused, 429); otherwise the outcome is unknown."""
        for attempt in range(self._max_retries + 1):
            if attempt:
                await self._pause(attempt - 1)
            try:
                response = await self._request("PUT", self._base + path, body)
            except NotSent:
                continue
            except HttpError as exc:
                raise OandaUnavailable(f"{what}: {type(exc).__name__}; outcome unknown") from None
            self._check_auth(response)
            if response.status == 429:
                continue
            if response.status >= 500:
                raise OandaUnavailable(f"{what}: HTTP {response.status}; outcome unknown")
            return response
        raise OandaUnavailable(f"{what}: not sent after {self._max_retries + 1} attempts")

    # REST -----------------------------------------------------------------------------------

    async def accounts(self) -> list[str]:
        return [a["id"] for a in await self.account_list()]

    async def account_list(self) -> list[Json]:
        """Every account the token reaches: ``{"id", "tags", ...}`` each."""
        return list(_json(await self._get("/v3/accounts", root=True)).get("accounts", []))

    async def summary(self) -> Json:
        return await self.summary_of(self.account_id)

    async def summary_of(self, account_id: str) -> Json:
        """Another account's summary with the same token (``tmt oanda accounts``)."""
        response = await self._get(f"/v3/accounts/{account_id}/summary", root=True)
        if response.status != 200:
            raise OandaError(
                f"summary of {account_id}: HTTP {response.status} "
                + str(_json(response).get("errorMessage", ""))
            )
        return dict(_json(response)["account"])

    async def account_details(self) -> tuple[Json, str]:
        """The whole account in one answer (open trades, pending orders, balance) and the
        transaction id it is as of: a consistent snapshot for reconciliation."""
        body = await self._body("")
        return dict(body["account"]), str(body.get("lastTransactionID", ""))

    async def instruments(self) -> tuple[Instrument, ...]:
        body = await self._body("/instruments")
        return tuple(
            Instrument(
                name=i["name"],
                display_precision=int(i["displayPrecision"]),
                pip_location=int(i["pipLocation"]),
                margin_rate=Decimal(i["marginRate"]),
                min_units=max(1, int(Decimal(i.get("minimumTradeSize", "1")))),
                max_units=int(Decimal(i.get("maximumOrderUnits", "100000000"))),
            )
            for i in body["instruments"]
        )

    async def order(self, spec: str) -> Json | None:
        """An order by OANDA id or ``@client-id``; None when OANDA has no such order."""
        response = await self._get(f"/orders/{spec}")
        if response.status == 404:
            return None
        return dict(_json(response)["order"])

    async def transaction(self, tid: str) -> Json:
        return dict((await self._body(f"/transactions/{tid}"))["transaction"])

    async def candles(self, instrument: str, granularity: str, count: int) -> list[Json]:
        """The newest ``count`` candles of ``instrument`` with bid, ask and mid (``price=BAM``),
        oldest first, the one still forming last."""
        params = {"granularity": granularity, "count": str(count), "price": "BAM"}
        response = await self._get(f"/v3/instruments/{instrument}/candles", params, root=True)
        if response.status != 200:
            message = str(_json(response).get("errorMessage", ""))
            raise OandaError(f"candles of {instrument}: HTTP {response.status} {message}".rstrip())
        return list(_json(response).get("candles", []))

    async def transactions_since(self, tid: str) -> tuple[list[Json], str]:
        body = await self._body("/transactions/sinceid", {"id": tid})
        return list(body["transactions"]), str(body["lastTransactionID"])

    async def open_trades(self) -> list[Json]:
        return list((await self._body("/openTrades"))["trades"])

    async def pending_orders(self) -> list[Json]:
        return list((await self._body("/pendingOrders"))["orders"])

    async def cancel(self, spec: str) -> CancelledOnCreate | Rejected:
        """Cancel a working order by OANDA id or ``@client-id`` (safe to repeat)."""
        response = await self._put_repeatable(f"/orders/{spec}/cancel", None, f"cancel {spec}")
        body = _json(response)
        if response.status == 200:
            cancel = body["orderCancelTransaction"]
            return CancelledOnCreate(
                str(cancel["orderID"]),
                str(cancel["reason"]),
                transaction_ids(body),
                str(cancel["id"]),
            )
        return rejected_by(response.status, body, "orderCancelRejectTransaction")

    async def submit(self, order: Order, instrument: Instrument | None = None) -> SubmitOutcome:
        """Create ``order`` at OANDA; never sends it twice (see the module docstring)."""
        body = {"order": order_body(order, instrument)}
        path = f"{self._base}/orders"
        last = "no attempt"
        answered: Response | None = None  # the last 429, whose Retry-After the pause honours
        for attempt in range(self._max_retries + 1):
            if attempt:
                await self._pause(attempt - 1, answered)
            answered = None
            try:
                response = await self._request("POST", path, body)
            except NotSent as exc:
                last = type(exc).__name__
                continue
            except SentUnknown as exc:  # it may have reached OANDA: look, then resend
                last = type(exc).__name__
                found = await self._look_patiently(order.id)
                if found is not None:
                    return found
                continue
            self._check_auth(response)
            status = response.status
            if status == 429:
                last, answered = "HTTP 429", response
                continue
            if status >= 500:
                last = f"HTTP {status}"
                found = await self._look_patiently(order.id)
                if found is not None:
                    return found
                continue
            outcome = outcome_of(status, _json(response))
            if (
                attempt
                and isinstance(outcome, Rejected)
                and outcome.code == "CLIENT_ORDER_ID_ALREADY_EXISTS"
            ):
                found = await self.lookup(order.id)
                if found is not None:
                    return found
            return outcome
        if last == "HTTP 429":
            return Rejected(Reason.RATE_LIMITED.value, "OANDA kept answering 429; order not sent")
        raise OandaUnavailable(f"order {order.id}: {last} after {self._max_retries + 1} attempts")

    async def _look_patiently(self, client_id: str, looks: int = 3) -> SubmitOutcome | None:
        """Look an order up a few times, backing off, before concluding it never arrived: OANDA
        may still be working on the request whose answer we lost, and a resend that raced it
        could fill twice (whether OANDA refuses a reused client id is not documented)."""
        for look in range(looks):
            if look:
                await self._pause(look - 1)
            found = await self.lookup(client_id)
            if found is not None:
                return found
        return None

    async def lookup(self, client_id: str) -> SubmitOutcome | None:
        """What became of an order we may have sent; None when OANDA never received it."""
        found = await self.order(f"@{client_id}")
        if found is None:
            return None
        return await self._state_of(found)

    async def _state_of(self, found: Json) -> SubmitOutcome:
        state = found.get("state")
        if state == "FILLED":
            return fill_of(await self.transaction(str(found["fillingTransactionID"])))
        if state == "CANCELLED":
            tid = str(found["cancellingTransactionID"])
            cancel = await self.transaction(tid)
            return CancelledOnCreate(str(found["id"]), str(cancel.get("reason", "")), (tid,), tid)
        return Resting(str(found["id"]))

    async def replace(
        self, spec: str, order: Order, instrument: Instrument | None = None
    ) -> Replaced | Rejected:
        """Replace the working order ``spec`` (OANDA id or ``@client-id``) by ``order``: OANDA
        cancels it (``replacedByOrderID``) and creates a new one (``replacesOrderID``) carrying
        the same client id. Never sent twice: after a transport error or a 5xx the client id is
        looked up first (see ``_replaced``)."""
        request = order_body(order, instrument)
        path = f"{self._base}/orders/{spec}"
        last = "no attempt"
        for attempt in range(self._max_retries + 1):
            if attempt:
                await self._pause(attempt - 1)
            try:
                response = await self._request("PUT", path, {"order": request})
            except NotSent as exc:
                last = type(exc).__name__
                continue
            except SentUnknown as exc:
                last = type(exc).__name__
                done = await self._replaced(spec, order.id, request)
                if done is not None:
                    return done
                continue
            self._check_auth(response)
            if response.status == 429:
                last = "HTTP 429"
                continue
            if response.status >= 500:
                last = f"HTTP {response.status}"
                done = await self._replaced(spec, order.id, request)
                if done is not None:
                    return done
                continue
            body = _json(response)
            if response.status != 201:
                rejected = rejected_by(
                    response.status, body, "orderRejectTransaction", "orderCancelRejectTransaction"
                )
                if attempt and rejected.code == "ORDER_DOESNT_EXIST":
                    done = await self._replaced(spec, order.id, request)
                    if done is not None:
                        return done
                return rejected
            created = body.get("orderCreateTransaction") or {}
            cancel = body.get("orderCancelTransaction") or {}
            fill = body.get("orderFillTransaction")
            txn_ids = transaction_ids(body)
            return Replaced(
                venue_id=str(created.get("id", "")),
                replaced_id=str(cancel.get("orderID") or created.get("replacesOrderID", "")),
                txn_ids=txn_ids,
                filled=None if fill is None else fill_of(fill, txn_ids=txn_ids),
            )
        if last == "HTTP 429":
            return Rejected(Reason.RATE_LIMITED.value, "OANDA kept answering 429; not replaced")
        raise OandaUnavailable(f"replace {spec}: {last} after {self._max_retries + 1} attempts")

    async def _replaced(self, spec: str, client_id: str, request: Json) -> Replaced | None:
        """Whether a replace we may have sent took effect: ``@client_id`` names the newest
        order with that client id, which is the replacing one once the replace went through.
        It replaced ``spec`` when it says so (``replacesOrderID``), or, when ``spec`` was itself
        a client id, when it carries exactly the units and price we asked for."""
        found = await self.order(f"@{client_id}")
        replaces = None if found is None else found.get("replacesOrderID")
        if found is None or not replaces:
            return None
        if spec.startswith("@"):
            if str(found.get("units")) != str(request.get("units")) or (
                "price" in request and str(found.get("price")) != str(request["price"])
            ):
                return None
        elif str(replaces) != spec:
            return None
        state = await self._state_of(found)
        return Replaced(
            venue_id=str(found["id"]),
            replaced_id=str(replaces),
            txn_ids=state.txn_ids if isinstance(state, Filled | CancelledOnCreate) else (),
            filled=state if isinstance(state, Filled) else None,
        )

    async def set_trade_orders(
        self,
        trade_id: str,
        *,
        take_profit: Decimal | None = None,
        stop_loss: Decimal | None = None,
        trailing_distance: Decimal | None = None,
        instrument: Instrument | None = None,
    ) -> TradeOrdersSet | Rejected:
        """Create or replace the take-profit / stop-loss / trailing stop of an open trade
        (safe to repeat: setting the same price twice only replaces the order again)."""

        def fmt(price: Decimal) -> str:
            return str(instrument.round_price(price) if instrument else price)

        body: Json = {}
        for key, value, field in (
            ("takeProfit", take_profit, "price"),
            ("stopLoss", stop_loss, "price"),
            ("trailingStopLoss", trailing_distance, "distance"),
        ):
            if value is not None:
                body[key] = {field: fmt(value), "timeInForce": "GTC"}
        response = await self._put_repeatable(
            f"/trades/{trade_id}/orders", body, f"trade {trade_id} orders"
        )
        answer = _json(response)
        if response.status != 200:
            return rejected_by(
                response.status,
                answer,
                *(f"{k}OrderRejectTransaction" for k in TRADE_ORDER_KEYS.values()),
                *(f"{k}OrderCancelRejectTransaction" for k in TRADE_ORDER_KEYS.values()),
            )
        created: dict[str, str] = {}
        replaced: dict[str, str] = {}
        for short, key in TRADE_ORDER_KEYS.items():
            made = answer.get(f"{key}OrderTransaction")
            if made is None:
                continue
            created[short] = str(made["id"])
            old = made.get("replacesOrderID") or (
                answer.get(f"{key}OrderCancelTransaction") or {}
            ).get("orderID")
            if old:
                replaced[short] = str(old)
        return TradeOrdersSet(created, replaced, transaction_ids(answer))

    async def close_trade(self, trade_id: str, units: int | None = None) -> Filled | Rejected:
        """Close all of a trade (``units`` None) or that many units of it (a magnitude)."""
        body = {"units": "ALL" if units is None else str(abs(units))}
        response = await self._put_once(f"/trades/{trade_id}/close", body, f"close {trade_id}")
        answer = _json(response)
        fill = answer.get("orderFillTransaction")
        if response.status == 200 and fill is not None:
            return fill_of(
                fill, tuple(answer.get("relatedTransactionIDs", ())), transaction_ids(answer)
            )
        if response.status == 200:
            cancel = answer.get("orderCancelTransaction") or {}
            return Rejected(
                str(cancel.get("reason", "CANCELLED")), "close cancelled", transaction_ids(answer)
            )
        return rejected_by(response.status, answer, "orderRejectTransaction")

    async def close_position(
        self, instrument: str, long_units: str = "NONE", short_units: str = "NONE"
    ) -> list[Filled] | Rejected:
        """Close the long and/or short side of a position (``"ALL"``, ``"NONE"`` or a count)."""
        body = {"longUnits": long_units, "shortUnits": short_units}
        response = await self._put_once(
            f"/positions/{instrument}/close", body, f"close position {instrument}"
        )
        answer = _json(response)
        if response.status != 200:
            return rejected_by(
                response.status, answer, "longOrderRejectTransaction", "shortOrderRejectTransaction"
            )
        txn_ids = transaction_ids(answer)
        related = tuple(answer.get("relatedTransactionIDs", ()))
        return [
            fill_of(answer[key], related, txn_ids)
            for key in ("longOrderFillTransaction", "shortOrderFillTransaction")
            if answer.get(key) is not None
        ]

    # streams --------------------------------------------------------------------------------

    async def stream_prices(
        self, instruments: Iterable[str], parser: PriceStreamParser | None = None
    ) -> AsyncIterator[Quote | Heartbeat]:
        """Quotes and heartbeats from one pricing-stream connection, until it ends."""
        names = list(instruments)
        parser = parser or PriceStreamParser(names)
        params = {"instruments": ",".join(names), "snapshot": "true"}
        async for chunk in self._stream_chunks("pricing/stream", params):
            for message in parser.feed(chunk):
                yield message

    async def stream_transactions(
        self, parser: TransactionStreamParser | None = None
    ) -> AsyncIterator[Json | Heartbeat]:
        """Transactions and heartbeats (with ``lastTransactionID``) until the stream ends."""
        parser = parser or TransactionStreamParser()
        async for chunk in self._stream_chunks("transactions/stream", {}):
            for message in parser.feed(chunk):
                yield message

    async def _stream_chunks(self, path: str, params: dict[str, str]) -> AsyncIterator[bytes]:
        await self.connect_pace.acquire()  # OANDA refuses more than 2 new connections a second
        try:
            async with self._stream.stream(
                "GET", f"{self._base}/{path}", params=params
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    if response.status_code == 401:
                        raise TokenRejected("OANDA rejected the API token (401) on " + path)
                    raise OandaError(f"{path}: HTTP {response.status_code}")
                async for chunk in response.aiter_raw():
                    yield chunk
        except httpx.TransportError as exc:
            raise StreamDropped(f"{path}: {type(exc).__name__}") from None
        raise StreamDropped(f"{path}: the server ended it")


def _json(response: Response) -> Json:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
