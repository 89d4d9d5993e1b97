"""One reflective wire codec for every dataclass that crosses the control API or the journal.

``to_wire(value)`` gives plain JSON-able data: a dataclass becomes a dict of its fields (or a
list, for the few high-rate types that declare ``WIRE_AS_LIST``), Decimals become strings (so
no float ever rounds money), enums their values, tuples lists. ``from_wire(cls, data)`` reads
it back, guided by the field types; a missing field takes its default, so data written before a
field existed (an old journal, an older client) still reads. A class may name itself on the
wire with ``WIRE_TAG`` (``{"type": "snapshot", ...}``).

A field typed ``object`` carries any registered dataclass (``@wire_type``) tagged with
``"$type"``: that is how a ``Reply`` carries a query's typed payload without the codec or the
protocol learning about each query.

The plan for each class is built once from its type hints, so encoding costs a dict
comprehension over precomputed field encoders, not introspection per call.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")
Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]

#: Registered payload types by name: what an ``object`` field may carry.
WIRE_TYPES: dict[str, type] = {}

_TAG = "$type"


def wire_type(cls: type[T]) -> type[T]:
    """Register a dataclass as a payload the wire can carry in an ``object`` field."""
    WIRE_TYPES[cls.__name__] = cls
    return cls


def _identity(value: Any) -> Any:
    return value


def _decimal_out(value: Any) -> Any:
    return None if value is None else str(value)


def _encode_any(value: Any) -> Any:
    """Whatever the type: the slow, general path (payloads, nested plain data)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        encoded = to_wire(value)
        if type(value).__name__ in WIRE_TYPES and isinstance(encoded, dict):
            return {_TAG: type(value).__name__, **encoded}
        return encoded
    if isinstance(value, dict):
        return {k: _encode_any(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_encode_any(v) for v in value]
    raise TypeError(f"no wire form for {type(value).__name__}")


def _decode_any(value: Any) -> Any:
    if isinstance(value, dict) and _TAG in value:
        name = value[_TAG]
        cls = WIRE_TYPES.get(name)
        if cls is None:
            raise ValueError(f"unknown payload type {name!r}")
        return from_wire(cls, {k: v for k, v in value.items() if k != _TAG})
    return value


def _optional(inner: Decoder) -> Decoder:
    def decode(value: Any) -> Any:
        return None if value is None else inner(value)

    return decode


def _args(hint: Any) -> tuple[Any, ...]:
    return typing.get_args(hint)


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _encoder(hint: Any) -> Encoder:
    if hint in (str, int, float, bool, type(None)) or hint is Any:
        return _identity  # ``Any`` fields hold plain data already (an event's ``data``)
    if hint is object:
        return _encode_any
    if hint is Decimal:
        return _decimal_out
    if _is_union(hint):
        members = [a for a in _args(hint) if a is not type(None)]
        if len(members) == 1:
            inner = _encoder(members[0])
            if inner is _identity or inner is _decimal_out:
                return inner
            return lambda v: None if v is None else inner(v)
        return _encode_any
    if isinstance(hint, type) and issubclass(hint, Enum):
        return lambda v: v.value
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return lambda v: to_wire(v)
    origin = typing.get_origin(hint)
    if origin in (tuple, list, set, frozenset):
        args = _args(hint)
        item = _encoder(args[0]) if args else _encode_any
        if item is _identity:
            return list
        return lambda v: [item(x) for x in v]
    if origin is dict:
        _, value_hint = _args(hint) or (str, Any)
        item = _encoder(value_hint)
        if item is _identity:
            return dict
        return lambda v: {k: item(x) for k, x in v.items()}
    return _encode_any


def _decoder(hint: Any) -> Decoder:
    if hint is str or hint is Any or hint is object:
        return _decode_any if hint is object else _identity
    if hint is int:
        return int
    if hint is float:
        return float
    if hint is bool:
        return bool
    if hint is Decimal:
        return lambda v: Decimal(str(v))
    if _is_union(hint):
        members = [a for a in _args(hint) if a is not type(None)]
        if len(members) == 1:
            return _optional(_decoder(members[0]))
        return _decode_any
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return lambda v: from_wire(hint, v)
    origin = typing.get_origin(hint)
    if origin in (tuple, list, set, frozenset):
        args = _args(hint)
        item = _decoder(args[0]) if args else _identity
        build = tuple if origin is tuple else origin
        return lambda v: build(item(x) for x in v)
    if origin is dict:
        _, value_hint = _args(hint) or (str, Any)
        item = _decoder(value_hint)
        return lambda v: {k: item(x) for k, x in v.items()}
    return _identity


class _Plan:
    """How one dataclass crosses the wire, worked out once."""

    __slots__ = ("cls", "encoders", "decoders", "as_list", "tag", "required")

    def __init__(self, cls: type) -> None:
        module = sys.modules.get(cls.__module__)
        hints = typing.get_type_hints(cls, vars(module) if module else None)
        names = [f.name for f in dataclasses.fields(cls)]
        self.cls = cls
        self.encoders = tuple((n, _encoder(hints[n])) for n in names)
        self.decoders = tuple((n, _decoder(hints[n])) for n in names)
        self.as_list = bool(getattr(cls, "WIRE_AS_LIST", False))
        self.tag: str | None = getattr(cls, "WIRE_TAG", None)
        self.required = frozenset(
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        )


_PLANS: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _Plan(cls)
    return plan


def to_wire(value: Any) -> Any:
    """``value`` (a dataclass instance) as plain JSON-able data."""
    plan = _plan(type(value))
    if plan.as_list:
        return [enc(getattr(value, name)) for name, enc in plan.encoders]
    out = {name: enc(getattr(value, name)) for name, enc in plan.encoders}
    if plan.tag is not None:
        return {"type": plan.tag, **out}
    return out


def from_wire(cls: type[T], data: Any) -> T:
    """An instance of ``cls`` from its wire form; raises ValueError naming what is missing."""
    plan = _plan(cls)
    if plan.as_list:
        return cls(*(dec(item) for (_, dec), item in zip(plan.decoders, data, strict=False)))
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
    missing = plan.required.difference(data)
    if missing:
        raise ValueError(f"{cls.__name__}: missing {', '.join(sorted(missing))}")
    return cls(**{name: dec(data[name]) for name, dec in plan.decoders if name in data})
