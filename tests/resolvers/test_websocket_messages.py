"""graphql-transport-ws messages of the wrong shape: the socket is closed with 4400 (the
protocol's answer to an invalid message), the server does not crash, and other sockets go on."""

from __future__ import annotations

from typing import Any

import pytest

from tests.asgi_websocket import ASGIWebSocket, Closed

TYPENAME = {"query": "{ __typename }"}


async def assert_sockets_still_served(app: Any) -> None:
    async with ASGIWebSocket(app) as socket:
        await socket.initialise()
        await socket.send_json({"id": "ok", "type": "subscribe", "payload": TYPENAME})
        reply = await socket.receive_json()
    assert reply == {"id": "ok", "type": "next", "payload": {"data": {"__typename": "Query"}}}


@pytest.mark.parametrize(
    "message",
    [
        pytest.param({"id": ["1"], "type": "subscribe", "payload": TYPENAME}, id="list-id"),
        pytest.param({"id": {"a": 1}, "type": "complete"}, id="object-id-on-complete"),
        pytest.param({"id": 7, "type": "subscribe", "payload": TYPENAME}, id="number-id"),
        pytest.param({"id": "1", "type": "subscribe", "payload": "{ __typename }"}, id="text"),
        pytest.param({"id": "1", "type": "subscribe", "payload": None}, id="null-payload"),
        pytest.param({"id": "1", "type": "subscribe", "payload": {"query": 42}}, id="number"),
        pytest.param(
            {"id": "1", "type": "subscribe", "payload": {"query": ["{ __typename }"]}},
            id="list-query",
        ),
        pytest.param(
            {"id": "1", "type": "subscribe", "payload": {**TYPENAME, "variables": [1]}},
            id="list-variables",
        ),
        pytest.param(
            {"id": "1", "type": "subscribe", "payload": {**TYPENAME, "operationName": 42}},
            id="number-operation-name",
        ),
        pytest.param(
            {"id": "1", "type": "subscribe", "payload": {**TYPENAME, "extensions": "x"}},
            id="text-extensions",
        ),
    ],
)
async def test_a_message_of_the_wrong_shape_closes_the_socket_with_4400(app, message):
    # given
    async with ASGIWebSocket(app) as socket:
        await socket.initialise()
        # when
        await socket.send_json(message)
        # then
        with pytest.raises(Closed) as closed:
            await socket.receive_json()
    assert closed.value.code == 4400
    await assert_sockets_still_served(app)


async def test_variables_and_extensions_may_be_null_or_absent(app):
    # given
    async with ASGIWebSocket(app) as socket:
        await socket.initialise()
        # when
        await socket.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {**TYPENAME, "variables": None, "operationName": None},
            }
        )
        first = await socket.receive_json()
        await socket.receive_json()  # complete
        await socket.send_json(
            {"id": "2", "type": "subscribe", "payload": {**TYPENAME, "extensions": {}}}
        )
        second = await socket.receive_json()
    # then
    assert first["payload"] == second["payload"] == {"data": {"__typename": "Query"}}
