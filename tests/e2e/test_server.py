"""The server as a client meets it: a real uvicorn process over real HTTP and websockets."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from typing import Any

import httpx
import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.chat_support import execute
from tests.e2e.conftest import CONNECTION_INIT_TIMEOUT_SECONDS, GRACEFUL_TIMEOUT_SECONDS, Server

PROTOCOL = "graphql-transport-ws"
VIEWER = "{ viewer { user { email } } }"
SIGN_UP = """
mutation ($input: SignUpInput!) {
  signUp(input: $input) { token user { email } userErrors { field message } }
}
"""


async def sign_up(server: Server) -> tuple[str, str]:
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
    data = await execute(
        server,
        SIGN_UP,
        {"input": {"email": email, "password": "correct-horse-battery", "displayName": "E2E"}},
    )
    payload = data["signUp"]
    assert payload["userErrors"] == [], payload
    assert payload["user"]["email"] == email
    assert payload["token"]
    return email, payload["token"]


async def close_code(socket: ClientConnection, timeout: float) -> int | None:
    """Read until the server closes the socket; the close code it sent."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(timeout):
            while True:
                await socket.recv()
    return closed.value.rcvd.code if closed.value.rcvd else None


def test_gql_websockets_transport_speaks_graphql_transport_ws() -> None:
    assert WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL == PROTOCOL


# --- HTTP -----------------------------------------------------------------------------------


async def test_sign_up_token_authenticates_http_requests(server: Server) -> None:
    # given
    email, token = await sign_up(server)
    # when
    data = await execute(server, VIEWER, token=token)
    # then
    assert data == {"viewer": {"user": {"email": email}}}


async def test_without_a_token_there_is_no_viewer(server: Server) -> None:
    # when
    data = await execute(server, VIEWER)
    # then
    assert data == {"viewer": None}


async def test_graphiql_is_served_to_browsers(server: Server) -> None:
    # when
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        response = await client.get("/graphql", headers={"accept": "text/html"})
    # then
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


# --- websockets -----------------------------------------------------------------------------


@pytest.mark.parametrize("payload_shape", ["authorization", "headers"])
async def test_token_in_connection_init_authenticates_the_socket(
    server: Server, payload_shape: str
) -> None:
    # given
    email, token = await sign_up(server)
    init_payload = (
        {"authorization": f"Bearer {token}"}
        if payload_shape == "authorization"
        else {"headers": {"Authorization": f"Bearer {token}"}}
    )
    transport = WebsocketsTransport(
        url=server.ws_url,
        init_payload=init_payload,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    # when
    async with Client(
        transport=transport, fetch_schema_from_transport=False, execute_timeout=10
    ) as session:
        result = await session.execute(gql(VIEWER))
        # then
        assert transport.subprotocol == PROTOCOL
    assert result == {"viewer": {"user": {"email": email}}}


async def test_socket_without_a_token_is_anonymous(server: Server) -> None:
    # given
    transport = WebsocketsTransport(
        url=server.ws_url, subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL]
    )
    # when
    async with Client(
        transport=transport, fetch_schema_from_transport=False, execute_timeout=10
    ) as session:
        result = await session.execute(gql(VIEWER))
    # then
    assert result == {"viewer": None}


@pytest.mark.parametrize(
    "payload",
    [
        {"authorization": "Bearer not-a-token-anyone-was-given"},
        {"headers": {"Authorization": "Bearer not-a-token-anyone-was-given"}},
    ],
)
async def test_unknown_token_in_connection_init_closes_with_4403(
    server: Server, payload: dict[str, Any]
) -> None:
    async with connect(server.ws_url, subprotocols=[PROTOCOL]) as socket:
        # when
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        # then
        assert await close_code(socket, timeout=5) == 4403


async def test_revoked_token_closes_the_socket_with_4403(server: Server) -> None:
    # given
    _, token = await sign_up(server)
    data = await execute(server, "mutation { logOut { __typename } }", token=token)
    assert data["logOut"]
    async with connect(server.ws_url, subprotocols=[PROTOCOL]) as socket:
        # when
        await socket.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        # then
        assert await close_code(socket, timeout=5) == 4403


async def test_socket_without_connection_init_is_closed_with_4408(server: Server) -> None:
    # given
    started = time.monotonic()
    async with connect(server.ws_url, subprotocols=[PROTOCOL]) as socket:
        # when nothing is sent, then
        assert await close_code(socket, timeout=CONNECTION_INIT_TIMEOUT_SECONDS + 5) == 4408
    elapsed = time.monotonic() - started
    assert CONNECTION_INIT_TIMEOUT_SECONDS * 0.8 <= elapsed <= CONNECTION_INIT_TIMEOUT_SECONDS + 3


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param("this is not json", id="not-json"),
        pytest.param('{"type": "connection_init"', id="truncated-json"),
        pytest.param("[" * 5000 + "]" * 5000, id="absurd-nesting"),
        pytest.param("[]", id="json-array"),
        pytest.param("42", id="json-number"),
        pytest.param('"connection_init"', id="json-string"),
        pytest.param('{"type": "no-such-message"}', id="unknown-type"),
        pytest.param(b'{"type": "connection_init"}', id="binary-frame"),
    ],
)
async def test_invalid_frame_closes_with_4400_and_the_server_carries_on(
    server: Server, frame: str | bytes
) -> None:
    async with connect(server.ws_url, subprotocols=[PROTOCOL]) as socket:
        # when
        await socket.send(frame)
        # then
        assert await close_code(socket, timeout=5) == 4400
    data = await execute(server, "{ __typename }")
    assert data == {"__typename": "Query"}


async def test_invalid_frame_after_connection_ack_closes_with_4400(server: Server) -> None:
    async with connect(server.ws_url, subprotocols=[PROTOCOL]) as socket:
        # given
        await socket.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await socket.recv()) == {"type": "connection_ack"}
        # when
        await socket.send("{not json")
        # then
        assert await close_code(socket, timeout=5) == 4400


# --- shutdown -------------------------------------------------------------------------------


async def test_sigterm_with_an_open_socket_exits_within_the_graceful_timeout(
    start_server: Any,
) -> None:
    # given a private server with an authenticated socket open on it
    server = await start_server()
    _, token = await sign_up(server)
    async with connect(server.ws_url, subprotocols=[PROTOCOL]) as socket:
        await socket.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        assert json.loads(await socket.recv()) == {"type": "connection_ack"}
        # when
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        # then the client is told the server is going away, and the process is gone in time
        code = await close_code(socket, timeout=GRACEFUL_TIMEOUT_SECONDS + 3)
        returncode = await asyncio.to_thread(server.process.wait, GRACEFUL_TIMEOUT_SECONDS + 3)
    elapsed = time.monotonic() - started
    assert code in (1001, 1012), code
    # uvicorn re-raises the signal it handled once shut down: exit status 0 or "killed by TERM"
    assert returncode in (0, -signal.SIGTERM), server.log()
    assert "Application shutdown complete" in server.log()
    assert elapsed <= GRACEFUL_TIMEOUT_SECONDS + 2, f"took {elapsed:.1f} s\n{server.log()}"
