"""The wire format: what a frame must look like, and how commands are checked at the door."""

from __future__ import annotations

import inspect
import json
from decimal import Decimal

import pytest

from tmt_tui.api import protocol
from tmt_tui.api.protocol import Code, ProtocolError
from tmt_tui.api.remote import RemoteEngineClient
from tmt_tui.domain.client import EngineClient, Reply, Snapshot, Update
from tmt_tui.domain.codec import from_wire
from tmt_tui.domain.commands import Origin, SubmitOrder, command_to_wire
from tmt_tui.domain.orders import OrderType
from tmt_tui.engine.local_client import LocalEngineClient


def command(**fields: object) -> dict[str, object]:
    wire = {"command": "SubmitOrder", "account": "SIM-USD", "instrument": "EUR_USD", "units": 1}
    return {"v": 1, "id": 1, "type": "command", "command": {**wire, **fields}}


def refusal(message: dict[str, object]) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        protocol.parse_command(message)
    return caught.value


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b'{"v": 1}', Code.BAD_FRAME),
        ("{not json", Code.BAD_FRAME),
        ("[1, 2]", Code.BAD_FRAME),
        ("[" * 100_000, Code.BAD_FRAME),
        ('{"type": "command"}', Code.UNSUPPORTED_VERSION),
        ('{"v": 2, "type": "command"}', Code.UNSUPPORTED_VERSION),
    ],
    ids=["binary", "not-json", "not-an-object", "deeply-nested", "no-version", "version-2"],
)
def test_a_frame_that_is_not_a_v1_json_object_is_refused_with_a_code(
    data: str | bytes, code: Code
) -> None:
    with pytest.raises(ProtocolError) as caught:
        protocol.decode(data)

    assert caught.value.code is code


def test_a_command_round_trips_with_the_origin_left_to_the_server() -> None:
    sent = SubmitOrder(
        "SIM-USD", "EUR_USD", -2500, OrderType.LIMIT, Decimal("1.08125"), origin=Origin.UI
    )
    message = json.loads(protocol.command_frame(7, command_to_wire(sent)))

    parsed = protocol.parse_command(protocol.decode(json.dumps(message)))

    assert parsed == SubmitOrder(
        "SIM-USD", "EUR_USD", -2500, OrderType.LIMIT, Decimal("1.08125"), origin=Origin.API
    )


def test_the_origin_is_the_servers_never_the_clients_claim() -> None:
    assert protocol.parse_command(command(origin="auto")).origin is Origin.API
    assert protocol.parse_command(command(origin="ui"), Origin.CLI).origin is Origin.CLI


def test_an_unknown_command_names_the_known_ones() -> None:
    error = refusal(command(command="Withdraw"))

    assert error.code is Code.UNKNOWN_COMMAND
    assert "Withdraw" in error.message and "SubmitOrder" in error.message
    assert error.request_id == 1


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"units": "1000"}, "'units' has the wrong type"),
        ({"units": True}, "'units' has the wrong type"),
        ({"units": 1.5}, "'units' has the wrong type"),
        ({"price": "abc", "type": "LIMIT"}, "not a decimal number"),
        ({"price": "NaN", "type": "LIMIT"}, "'price' is not finite"),
        ({"type": "ICEBERG"}, "ICEBERG"),
        ({"leverage": 100}, "unknown field 'leverage'"),
        ({"account": None}, "'account' has the wrong type"),
    ],
)
def test_a_mistyped_command_is_refused_before_it_reaches_an_engine(
    fields: dict[str, object], text: str
) -> None:
    error = refusal(command(**fields))

    assert error.code is Code.BAD_COMMAND
    assert text in error.message


def test_a_command_missing_a_required_field_is_refused() -> None:
    error = refusal({"v": 1, "id": 1, "type": "command", "command": {"command": "CancelOrder"}})

    assert error.code is Code.BAD_COMMAND
    assert "order_id" in error.message


def test_stream_items_carry_their_subscription_id_and_decode_back() -> None:
    update = Update(seq=5)

    message = json.loads(protocol.stream_frame(3, update))

    assert (message["v"], message["id"], message["type"]) == (1, 3, "update")
    assert protocol.stream_item(message) == update
    assert not isinstance(protocol.stream_item(message), Snapshot)


def test_replies_and_errors_carry_the_request_id() -> None:
    reply = json.loads(protocol.reply_frame(9, Reply(True, order_id="O1", seq=4)))
    error = json.loads(protocol.error_frame(None, Code.BAD_FRAME, "not valid JSON"))

    assert from_wire(Reply, reply["reply"]) == Reply(True, order_id="O1", seq=4)
    assert reply["id"] == 9
    assert error == {
        "v": 1,
        "id": None,
        "type": "error",
        "code": "BAD_FRAME",
        "message": "not valid JSON",
    }


def test_the_client_protocol_is_execute_subscribe_and_close_and_both_clients_speak_it() -> None:
    # a new command is a dataclass and an engine handler: no client grows a method for it
    public = {name for name in vars(EngineClient) if not name.startswith("_")}

    assert public == {"execute", "subscribe", "close"}
    for client in (RemoteEngineClient, LocalEngineClient):
        for name in public:
            assert inspect.signature(getattr(client, name)).parameters.keys() == (
                inspect.signature(getattr(EngineClient, name)).parameters.keys()
            ), (client.__name__, name)
