"""The control API's wire format: versioned JSON text frames over a WebSocket.

Client -> server (the hello must come first)::

    {"v": 1, "type": "hello", "token": "...", "read_only": false, "client": "tmt attach"}
    {"v": 1, "id": 7, "type": "command", "command": {"command": "SubmitOrder", ...}}
    {"v": 1, "id": 8, "type": "subscribe"}
    {"v": 1, "id": 8, "type": "unsubscribe"}

Server -> client::

    {"v": 1, "type": "welcome", "read_only": false, "server": "tmt 0.1.0"}
    {"v": 1, "id": 7, "type": "reply", "reply": {...to_wire(reply)}}
    {"v": 1, "id": 8, "type": "snapshot", ...to_wire(snapshot)}   then "update" items
    {"v": 1, "id": 7 | null, "type": "error", "code": "READ_ONLY", "message": "..."}

Stream items carry the id of the subscribe that asked for them. A refused hello closes the
connection with a code in ``Close`` and a reason; a frame over ``MAX_FRAME_BYTES`` closes it
with 1009. Commands are validated here, field by field, before they get near an engine.
"""

from __future__ import annotations

import json
import logging
import math
import types
import typing
from decimal import Decimal, InvalidOperation
from enum import Enum, IntEnum, StrEnum
from typing import Any

from tmt_tui.domain.client import Reply, Snapshot, StreamItem, Update
from tmt_tui.domain.codec import from_wire, to_wire
from tmt_tui.domain.commands import (
    COMMAND_TYPES,
    Command,
    Origin,
    command_from_wire,
    command_problem,
)

VERSION = 1
#: Largest frame a client may send (the server closes with 1009 above it).
MAX_FRAME_BYTES = 1 << 20
#: Largest frame a client accepts from the server (a snapshot of a big book).
MAX_SERVER_FRAME_BYTES = 64 << 20
MAX_ID_LENGTH = 64


class Code(StrEnum):
    """Error codes of ``error`` frames (engine refusals come as replies with a Reason)."""

    BAD_FRAME = "BAD_FRAME"  # not JSON, not an object, binary, no or bad id / type
    UNSUPPORTED_VERSION = "UNSUPPORTED_VERSION"
    UNKNOWN_COMMAND = "UNKNOWN_COMMAND"
    BAD_COMMAND = "BAD_COMMAND"  # a known command with missing, unknown or mistyped fields
    READ_ONLY = "READ_ONLY"
    TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
    ENGINE_STOPPED = "ENGINE_STOPPED"
    SERVER_ERROR = "SERVER_ERROR"


class Close(IntEnum):
    """WebSocket close codes (4000-4999 are for applications)."""

    AUTH_FAILED = 4001
    TOO_SLOW = 4002
    BAD_HELLO = 4003
    MESSAGE_TOO_BIG = 1009  # websockets' own, for frames over ``max_size``


class ProtocolError(Exception):
    """A frame the server answers with an ``error`` (``request_id`` echoed when it was valid)."""

    def __init__(self, code: Code, message: str, request_id: int | str | None = None) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
        self.request_id = request_id


class ApiError(ConnectionError):
    """The control API refused or lost us: ``code`` says why (``AUTH_FAILED``, ``NOT_RUNNING``,
    ``BAD_HELLO``, ``TOO_SLOW``, ...), ``message`` in words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class AuthError(ApiError, PermissionError):
    """The server rejected our token (or we have none to offer)."""


class QuietLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The logger handed to websockets: warnings and errors only, frame dumps off for good.

    At DEBUG websockets logs every frame, and the first one carries the token; this adapter
    reports DEBUG (and INFO, which only repeats our own connect lines) as disabled whatever
    the handlers say, so no log level can leak it.
    """

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802  (logging's name)
        return level >= logging.WARNING and self.logger.isEnabledFor(level)

    def debug(self, *args: Any, **kwargs: Any) -> None:
        return None

    def info(self, *args: Any, **kwargs: Any) -> None:
        return None


# encoding ---------------------------------------------------------------------------------------


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def hello(token: str, *, read_only: bool, client: str) -> str:
    return encode(
        {"v": VERSION, "type": "hello", "token": token, "read_only": read_only, "client": client}
    )


def welcome(*, read_only: bool, server: str) -> str:
    return encode({"v": VERSION, "type": "welcome", "read_only": read_only, "server": server})


def command_frame(request_id: int, wire: dict[str, Any]) -> str:
    return encode({"v": VERSION, "id": request_id, "type": "command", "command": wire})


def subscribe_frame(request_id: int, kind: str = "subscribe") -> str:
    return encode({"v": VERSION, "id": request_id, "type": kind})


def reply_frame(request_id: int | str, reply: Reply) -> str:
    return encode({"v": VERSION, "id": request_id, "type": "reply", "reply": to_wire(reply)})


def error_frame(request_id: int | str | None, code: Code | str, message: str) -> str:
    return encode(
        {"v": VERSION, "id": request_id, "type": "error", "code": str(code), "message": message}
    )


def stream_frame(request_id: int | str, item: StreamItem) -> str:
    """A Snapshot or Update; its wire form already says which in ``type`` (``WIRE_TAG``)."""
    wire = to_wire(item)
    wire["v"] = VERSION
    wire["id"] = request_id
    return encode(wire)


def stream_item(message: dict[str, Any]) -> StreamItem:
    if message.get("type") == "snapshot":
        return from_wire(Snapshot, message)
    return from_wire(Update, message)


# decoding ---------------------------------------------------------------------------------------


def brief(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def request_id(message: dict[str, Any]) -> int | str | None:
    """The frame's ``id`` if it is a usable one (an int, or a short string), else None."""
    value = message.get("id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and abs(value) < 2**53:  # exact in every JSON reader
        return value
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH:
        return value
    return None


def decode(data: str | bytes) -> dict[str, Any]:
    """One client frame as a dict with ``v == VERSION``; raises ProtocolError saying what is off."""
    if not isinstance(data, str):
        raise ProtocolError(Code.BAD_FRAME, "binary frames are not accepted: send JSON text")
    try:
        message = json.loads(data)
    except ValueError:  # JSONDecodeError, and ints over the 4300-digit limit
        raise ProtocolError(Code.BAD_FRAME, "not valid JSON") from None
    except RecursionError:
        raise ProtocolError(Code.BAD_FRAME, "JSON nested too deeply") from None
    if not isinstance(message, dict):
        raise ProtocolError(Code.BAD_FRAME, "a frame must be a JSON object")
    version = message.get("v")
    if version != VERSION:
        raise ProtocolError(
            Code.UNSUPPORTED_VERSION,
            f"protocol version {brief(version)} is not supported (this server speaks {VERSION})",
            request_id(message),
        )
    return message


def _accepted(hint: Any) -> frozenset[type]:
    """The JSON value types a field of type ``hint`` takes on the wire (``bool`` is not an int)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return frozenset().union(*(_accepted(arg) for arg in typing.get_args(hint)))
    if hint is Decimal:
        return frozenset({str, int, float})
    if isinstance(hint, type) and issubclass(hint, Enum):
        return frozenset({str})
    if hint is float:
        return frozenset({float, int})
    if hint in (type(None), bool, int, str):
        return frozenset({hint})
    raise TypeError(f"no wire form for {hint!r}")


#: Per command, per field: the JSON types it accepts (``origin`` is the server's to set).
_ACCEPTS: dict[str, dict[str, frozenset[type]]] = {
    name: {k: _accepted(v) for k, v in typing.get_type_hints(cls).items() if k != "origin"}
    for name, cls in COMMAND_TYPES.items()
}
#: Fields that are numbers (Decimals, or floats such as a query's ``since``): they must also
#: be finite.
_NUMBER_FIELDS = frozenset(k for a in _ACCEPTS.values() for k, t in a.items() if float in t)


def parse_command(message: dict[str, Any], origin: Origin = Origin.API) -> Command:
    """The command in a ``command`` frame, stamped with ``origin`` whatever the client claimed;
    raises ProtocolError with BAD_FRAME, UNKNOWN_COMMAND or BAD_COMMAND."""
    rid = request_id(message)
    wire = message.get("command")
    if not isinstance(wire, dict):
        raise ProtocolError(Code.BAD_FRAME, "a command frame needs a 'command' object", rid)
    name = wire.get("command")
    accepts = _ACCEPTS.get(name) if isinstance(name, str) else None
    if accepts is None:
        known = ", ".join(COMMAND_TYPES)
        raise ProtocolError(
            Code.UNKNOWN_COMMAND, f"unknown command {brief(name)} (known: {known})", rid
        )
    fields = {"command": name}
    for key, value in wire.items():
        if key == "command" or key == "origin":
            continue
        types_ = accepts.get(key)
        if types_ is None:
            raise ProtocolError(Code.BAD_COMMAND, f"{name}: unknown field {brief(key)}", rid)
        if type(value) not in types_:
            text = f"{name}: field '{key}' has the wrong type ({brief(value)})"
            raise ProtocolError(Code.BAD_COMMAND, text, rid)
        fields[key] = value
    fields["origin"] = origin.value
    try:
        command = command_from_wire(fields)
    except InvalidOperation:
        text = f"{name}: a price is not a decimal number"
        raise ProtocolError(Code.BAD_COMMAND, text, rid) from None
    except ValueError as exc:
        raise ProtocolError(Code.BAD_COMMAND, str(exc) or f"{name}: bad fields", rid) from None
    for key in _NUMBER_FIELDS.intersection(fields):
        value = getattr(command, key)
        if value is None:
            continue
        finite = value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
        if not finite:
            raise ProtocolError(Code.BAD_COMMAND, f"{name}: field '{key}' is not finite", rid)
    problem = command_problem(command)
    if problem is not None:
        raise ProtocolError(Code.BAD_COMMAND, f"{name}: {problem[1]}", rid)
    return command
