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
        return _plan(hint).encode  # nested: its compiled function, called directly
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
            return _identity  # plain data (an event's ``data``): no copy
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
        return _decimal_in
    if _is_union(hint):
        members = [a for a in _args(hint) if a is not type(None)]
        if len(members) == 1:
            return _optional(_decoder(members[0]))
        return _decode_any
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _plan(hint).decode
    origin = typing.get_origin(hint)
    if origin in (tuple, list, set, frozenset):
        args = _args(hint)
        item = _decoder(args[0]) if args else _identity
        build = tuple if origin is tuple else origin
        return lambda v: build(item(x) for x in v)
    if origin is dict:
        _, value_hint = _args(hint) or (str, Any)
        item = _decoder(value_hint)
        if item is _identity:
            return _identity
        return lambda v: {k: item(x) for k, x in v.items()}
    return _identity


def _decimal_in(value: Any) -> Decimal:
    return Decimal(value) if type(value) is str else Decimal(str(value))


def _field_out(name: str, hint: Any, env: dict[str, Any]) -> str:
    """The expression that encodes field ``name`` of ``v`` (inlined where it is simple)."""
    encoder = _encoder(hint)
    if encoder is _identity:
        return f"v.{name}"
    if encoder is _decimal_out:
        optional = _is_union(hint)
        return f"(None if (x := v.{name}) is None else str(x))" if optional else f"str(v.{name})"
    if isinstance(hint, type) and issubclass(hint, Enum):
        return f"v.{name}.value"
    env[f"enc_{name}"] = encoder
    return f"enc_{name}(v.{name})"


def _field_in(name: str, hint: Any, env: dict[str, Any]) -> str:
    """The expression that decodes ``d[name]``."""
    decoder = _decoder(hint)
    if decoder is _identity:
        return f"d[{name!r}]"
    if _is_union(hint) and [a for a in _args(hint) if a is not type(None)] == [Decimal]:
        return f"(None if (x := d[{name!r}]) is None else D(x))"
    if decoder is _decimal_in:
        return f"D(d[{name!r}])"
    env[f"dec_{name}"] = decoder
    return f"dec_{name}(d[{name!r}])"


class _Plan:
    """How one dataclass crosses the wire, worked out once and compiled to two functions (the
    codec runs on every order, fill and update: per-field calls through closures cost twice a
    hand-written ``to_wire``)."""

    __slots__ = ("cls", "encode", "decode", "as_list", "tag", "required")

    def __init__(self, cls: type) -> None:
        module = sys.modules.get(cls.__module__)
        hints = typing.get_type_hints(cls, vars(module) if module else None)
        fields = dataclasses.fields(cls)
        self.cls = cls
        self.as_list = bool(getattr(cls, "WIRE_AS_LIST", False))
        self.tag: str | None = getattr(cls, "WIRE_TAG", None)
        self.required = tuple(
            f.name
            for f in fields
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        )
        env: dict[str, Any] = {"cls": cls, "Decimal": Decimal, "D": _decimal_in}
        outs = [(f.name, _field_out(f.name, hints[f.name], env)) for f in fields]
        if self.as_list:
            encode = "[" + ", ".join(expr for _, expr in outs) + "]"
            ins = [_field_in(f.name, hints[f.name], env).replace(f"d[{f.name!r}]", f"d[{i}]")
                   for i, f in enumerate(fields)]  # fmt: skip
            decode = "    return cls(" + ", ".join(ins) + ")"
        else:
            tag = f'"type": {self.tag!r}, ' if self.tag is not None else ""
            encode = "{" + tag + ", ".join(f"{n!r}: {expr}" for n, expr in outs) + "}"
            args = []
            for f in fields:
                expr = _field_in(f.name, hints[f.name], env)
                if f.name in self.required:
                    args.append(f"{f.name}={expr}")
                elif f.default is None and expr.startswith("(None if (x := d["):
                    args.append(f"{f.name}={expr.replace(f'd[{f.name!r}]', f'd.get({f.name!r})')}")
                else:  # absent: the field's own default (data written before it existed)
                    has_default = f.default is not dataclasses.MISSING
                    env[f"default_{f.name}"] = f.default if has_default else f.default_factory
                    default = f"default_{f.name}" + ("" if has_default else "()")
                    args.append(f"{f.name}={expr} if {f.name!r} in d else {default}")
            decode = "    return cls(" + ", ".join(args) + ")"
        source = f"def encode(v):\n    return {encode}\n\ndef decode(d):\n{decode}\n"
        exec(compile(source, f"<wire codec for {cls.__name__}>", "exec"), env)  # noqa: S102
        self.encode: Callable[[Any], Any] = env["encode"]
        self.decode: Callable[[Any], Any] = env["decode"]


_PLANS: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _Plan(cls)
    return plan


def to_wire(value: Any) -> Any:
    """``value`` (a dataclass instance) as plain JSON-able data."""
    plan = _PLANS.get(type(value)) or _plan(type(value))
    return plan.encode(value)


def from_wire(cls: type[T], data: Any) -> T:
    """An instance of ``cls`` from its wire form; raises ValueError naming what is missing."""
    plan = _PLANS.get(cls) or _plan(cls)
    if not plan.as_list and not isinstance(data, dict):
        raise ValueError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
    try:
        result: T = plan.decode(data)
    except (TypeError, KeyError, IndexError):
        missing = [n for n in plan.required if n not in data] if isinstance(data, dict) else []
        if missing:
            raise ValueError(f"{cls.__name__}: missing {', '.join(sorted(missing))}") from None
        raise
    return result
