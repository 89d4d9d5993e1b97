"""Our async OANDA v20 client over httpx: REST calls, order submission, price streams.

One long-lived ``httpx.AsyncClient`` per host (REST and stream hosts differ at OANDA). Order
submission never resends blindly: after a timeout or a dropped connection it first looks the
order up by its client id (``GET /orders/@id``), because OANDA has no idempotency header and a
resend could double a position.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import Order, OrderType
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.reasons import Reason
from tmt_tui.venues.oanda.stream import (
    Heartbeat,
    PriceStreamParser,
    TransactionStreamParser,
    parse_time,
)

log = logging.getLogger(__name__)
Json = dict[str, Any]

PRACTICE_REST = "https://api-fxpractice.oanda.com"
PRACTICE_STREAM = "https://stream-fxpractice.oanda.com"


class Token:
    """An API token that never shows itself in repr, str, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value:
            raise ValueError("an OANDA API token is required")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Token('********')"

    __str__ = __repr__


class OandaError(Exception):
    """Something went wrong talking to OANDA (never carries the token)."""


class TokenRejected(OandaError):
    """OANDA answered 401: the token is wrong, expired or lacks access to the account."""


class StreamDropped(OandaError):
    """A stream ended or went silent; the caller reconnects (and backfills)."""


class OandaUnavailable(OandaError):
    """Retries ran out and the outcome of the request is unknown."""


@dataclass(frozen=True, slots=True)
class Filled:
    """201 with ``orderFillTransaction``: the order filled at once."""

    venue_id: str
    fill_id: str
    trade_id: str | None
    units: int
    price: Decimal
    ts: float
    related_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Resting:
    """201 with only ``orderCreateTransaction``: a limit or stop order now working."""

    venue_id: str


@dataclass(frozen=True, slots=True)
class CancelledOnCreate:
    """201 with ``orderCancelTransaction``: accepted, then cancelled at once (``reason``)."""

    venue_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """400/404 with ``orderRejectTransaction``: refused, ``code`` is OANDA's rejectReason."""

    code: str
    message: str


SubmitOutcome = Filled | Resting | CancelledOnCreate | Rejected

# errors raised before the request could have reached the server: resending is safe
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def order_body(order: Order, instrument: Instrument | None = None) -> Json:
    """A domain order as a v20 ``OrderRequest``; its id becomes ``clientExtensions.id``."""

    def fmt(price: Decimal) -> str:
        return str(instrument.round_price(price) if instrument else price)

    body: Json = {
        "type": order.type.value,
        "instrument": order.instrument,
        "units": str(order.units),
        "positionFill": "REDUCE_ONLY" if order.reduce_only else "DEFAULT",
        "clientExtensions": {"id": order.id, "tag": "tmt"},
    }
    if order.type is OrderType.MARKET:
        body["timeInForce"] = "IOC" if order.time_in_force.value == "IOC" else "FOK"
    else:
        body["timeInForce"] = order.time_in_force.value
    if order.price is not None and order.type is not OrderType.MARKET:
        body["price"] = fmt(order.price)
    if order.take_profit is not None:
        body["takeProfitOnFill"] = {"price": fmt(order.take_profit), "timeInForce": "GTC"}
    if order.stop_loss is not None:
        body["stopLossOnFill"] = {"price": fmt(order.stop_loss), "timeInForce": "GTC"}
    return body


def outcome_of(status: int, body: Json) -> SubmitOutcome:
    """The three (four, with resting) results a create-order response can mean."""
    if status == 201:
        created = body.get("orderCreateTransaction") or {}
        fill = body.get("orderFillTransaction")
        if fill is not None:
            return _filled(fill, tuple(body.get("relatedTransactionIDs", ())))
        cancel = body.get("orderCancelTransaction")
        if cancel is not None:
            return CancelledOnCreate(
                str(cancel.get("orderID", created.get("id"))), cancel["reason"]
            )
        return Resting(str(created.get("id")))
    reject = body.get("orderRejectTransaction") or {}
    code = reject.get("rejectReason") or body.get("errorCode") or Reason.BROKER_REJECT.value
    return Rejected(str(code), str(body.get("errorMessage", f"HTTP {status}")))


def _filled(fill: Json, related: tuple[str, ...] = ()) -> Filled:
    opened = fill.get("tradeOpened") or {}
    return Filled(
        venue_id=str(fill["orderID"]),
        fill_id=str(fill["id"]),
        trade_id=opened.get("tradeID"),
        units=int(Decimal(fill["units"])),
        price=Decimal(fill.get("fullVWAP") or fill["price"]),
        ts=parse_time(fill["time"]),
        related_ids=related,
    )


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
    ) -> None:
        self.account_id = account_id
        self._max_retries = max_retries
        self._backoff = backoff
        headers = {
            "Authorization": f"Bearer {token.reveal()}",
            "Accept-Datetime-Format": "RFC3339",
            "Content-Type": "application/json",
        }
        self._rest = httpx.AsyncClient(
            base_url=rest_url, headers=headers, timeout=timeout, trust_env=False
        )
        self._stream = httpx.AsyncClient(
            base_url=stream_url or rest_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, read=stream_silence),  # heartbeats come every 5 s
            trust_env=False,
        )
        self._base = f"/v3/accounts/{account_id}"
        self.retries = 0  # requests resent after 429/5xx/transport errors (a metric)

    def __repr__(self) -> str:
        return f"OandaClient(account_id={self.account_id!r}, rest={str(self._rest.base_url)!r})"

    async def aclose(self) -> None:
        await self._rest.aclose()
        await self._stream.aclose()

    async def __aenter__(self) -> OandaClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # plumbing -------------------------------------------------------------------------------

    async def _pause(self, attempt: int, response: httpx.Response | None = None) -> None:
        self.retries += 1
        delay = self._backoff * 2**attempt
        if response is not None:
            with contextlib.suppress(ValueError):
                delay = max(delay, float(response.headers.get("Retry-After", 0)))
        await asyncio.sleep(delay)

    @staticmethod
    def _check_auth(response: httpx.Response) -> None:
        if response.status_code == 401:
            raise TokenRejected(
                "OANDA rejected the API token (401: "
                + str(_json(response).get("errorMessage", "unauthorized"))
                + "); check the token and that it can access this account"
            )

    async def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        """A GET, retried on 429/5xx and transport errors (GETs are safe to repeat)."""
        for attempt in range(self._max_retries + 1):
            try:
                response = await self._rest.get(self._base + path, params=params)
            except httpx.TransportError as exc:
                if attempt == self._max_retries:
                    raise OandaUnavailable(f"GET {path}: {type(exc).__name__}") from None
                await self._pause(attempt)
                continue
            self._check_auth(response)
            if response.status_code == 429 or response.status_code >= 500:
                if attempt == self._max_retries:
                    raise OandaUnavailable(f"GET {path}: HTTP {response.status_code}")
                await self._pause(attempt, response)
                continue
            return response
        raise AssertionError("unreachable")

    # REST -----------------------------------------------------------------------------------

    async def accounts(self) -> list[str]:
        response = await self._rest.get("/v3/accounts")
        self._check_auth(response)
        return [a["id"] for a in _json(response).get("accounts", [])]

    async def summary(self) -> Json:
        response = await self._get("/summary")
        return dict(_json(response)["account"])

    async def instruments(self) -> tuple[Instrument, ...]:
        response = await self._get("/instruments")
        return tuple(
            Instrument(
                name=i["name"],
                display_precision=int(i["displayPrecision"]),
                pip_location=int(i["pipLocation"]),
                margin_rate=Decimal(i["marginRate"]),
                min_units=max(1, int(Decimal(i.get("minimumTradeSize", "1")))),
                max_units=int(Decimal(i.get("maximumOrderUnits", "100000000"))),
            )
            for i in _json(response)["instruments"]
        )

    async def order(self, spec: str) -> Json | None:
        """An order by OANDA id or ``@client-id``; None when OANDA has no such order."""
        response = await self._get(f"/orders/{spec}")
        if response.status_code == 404:
            return None
        return dict(_json(response)["order"])

    async def transaction(self, tid: str) -> Json:
        return dict(_json(await self._get(f"/transactions/{tid}"))["transaction"])

    async def transactions_since(self, tid: str) -> tuple[list[Json], str]:
        body = _json(await self._get("/transactions/sinceid", {"id": tid}))
        return list(body["transactions"]), str(body["lastTransactionID"])

    async def open_trades(self) -> list[Json]:
        return list(_json(await self._get("/openTrades"))["trades"])

    async def cancel(self, spec: str) -> CancelledOnCreate | Rejected:
        """Cancel a working order by OANDA id or ``@client-id`` (safe to repeat)."""
        for attempt in range(self._max_retries + 1):
            try:
                response = await self._rest.put(f"{self._base}/orders/{spec}/cancel")
            except httpx.TransportError:
                await self._pause(attempt)
                continue
            self._check_auth(response)
            if response.status_code == 429 or response.status_code >= 500:
                await self._pause(attempt, response)
                continue
            body = _json(response)
            if response.status_code == 200:
                cancel = body["orderCancelTransaction"]
                return CancelledOnCreate(str(cancel["orderID"]), str(cancel["reason"]))
            reject = body.get("orderCancelRejectTransaction") or {}
            code = reject.get("rejectReason") or body.get("errorCode") or "BROKER_REJECT"
            return Rejected(str(code), str(body.get("errorMessage", "")))
        raise OandaUnavailable(f"cancel {spec}: retries exhausted")

    async def submit(self, order: Order, instrument: Instrument | None = None) -> SubmitOutcome:
        """Create ``order`` at OANDA; never sends it twice (see the module docstring)."""
        payload = json.dumps({"order": order_body(order, instrument)}).encode()
        path = f"{self._base}/orders"
        last = "no attempt"
        for attempt in range(self._max_retries + 1):
            if attempt:
                await self._pause(attempt - 1)
            try:
                response = await self._rest.post(path, content=payload)
            except _NOT_SENT as exc:
                last = type(exc).__name__
                continue
            except httpx.TransportError as exc:  # it may have reached OANDA: look, then resend
                last = type(exc).__name__
                found = await self.lookup(order.id)
                if found is not None:
                    return found
                continue
            self._check_auth(response)
            status = response.status_code
            if status == 429:
                last = "HTTP 429"
                continue
            if status >= 500:
                last = f"HTTP {status}"
                found = await self.lookup(order.id)
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

    async def lookup(self, client_id: str) -> SubmitOutcome | None:
        """What became of an order we may have sent; None when OANDA never received it."""
        found = await self.order(f"@{client_id}")
        if found is None:
            return None
        state = found.get("state")
        if state == "FILLED":
            return _filled(await self.transaction(str(found["fillingTransactionID"])))
        if state == "CANCELLED":
            cancel = await self.transaction(str(found["cancellingTransactionID"]))
            return CancelledOnCreate(str(found["id"]), str(cancel.get("reason", "")))
        return Resting(str(found["id"]))

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
        try:
            async with self._stream.stream(
                "GET", f"{self._base}/{path}", params=params
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    self._check_auth(response)
                    raise OandaError(f"{path}: HTTP {response.status_code}")
                async for chunk in response.aiter_raw():
                    yield chunk
        except httpx.TransportError as exc:
            raise StreamDropped(f"{path}: {type(exc).__name__}") from None
        raise StreamDropped(f"{path}: the server ended it")


def _json(response: httpx.Response) -> Json:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
