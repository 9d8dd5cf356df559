"""Helpers for the chat tests: GraphQL over HTTP against a real server, the marketplace flow
that leads to an interview, and a small graphql-transport-ws client on `websockets`.

The websocket client is hand-rolled (rather than gql's) where a test needs to see every
protocol message (`next`, `error`, `complete`) or to open many sockets at once cheaply.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import Endpoint

PROTOCOL = "graphql-transport-ws"
DELIVERY_TIMEOUT = 5.0
# For a subscription to start (its replay): not what a test asserts, and slow on a busy machine.
START_TIMEOUT = 20.0

SIGN_UP = """
mutation ($input: SignUpInput!) {
  signUp(input: $input) { token user { id } userErrors { field message code } }
}"""
LOG_IN = """
mutation ($input: LogInInput!) {
  logIn(input: $input) { token userErrors { field message code } }
}"""
CREATE_CLIENT_PROFILE = """
mutation ($input: ClientProfileInput!) {
  createClientProfile(input: $input) { userErrors { field message code } }
}"""
CREATE_FREELANCER_PROFILE = """
mutation ($input: FreelancerProfileInput!) {
  createFreelancerProfile(input: $input) { userErrors { field message code } }
}"""
POST_JOB = """
mutation ($input: PostJobInput!) {
  postJob(input: $input) { job { id title } userErrors { field message code } }
}"""
SUBMIT_PROPOSAL = """
mutation ($input: SubmitProposalInput!) {
  submitProposal(input: $input) { proposal { id } userErrors { field message code } }
}"""
START_INTERVIEW = """
mutation ($input: StartInterviewInput!) {
  startInterview(input: $input) {
    interview { id lastMessage { id body cursor } }
    userErrors { field message code }
  }
}"""
SEND_MESSAGE = """
mutation ($input: SendMessageInput!) {
  sendMessage(input: $input) {
    message { id body cursor sender { id } }
    userErrors { field message code }
  }
}"""
MESSAGE_ADDED = """
subscription ($interviewId: ID!, $after: String) {
  messageAdded(interviewId: $interviewId, after: $after) {
    id body cursor createdAt
    sender { id displayName }
    interview { id status job { title } }
  }
}"""
MESSAGE_BODIES = """
subscription ($interviewId: ID!, $after: String) {
  messageAdded(interviewId: $interviewId, after: $after) { body cursor }
}"""
NOTIFICATION_ADDED = """
subscription ($after: String) {
  notificationAdded(after: $after) {
    id kind title read cursor subject { __typename ... on Interview { id } }
  }
}"""


@dataclass
class Party:
    token: str
    user_id: str
    email: str
    password: str


@dataclass
class Chat:
    """An interview between a client and a freelancer, opened with a first message."""

    server: Endpoint
    client: Party
    freelancer: Party
    job_title: str
    interview_id: str
    first_message: dict[str, Any]


async def post(
    server: Endpoint,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> httpx.Response:
    headers = {"accept": "application/graphql-response+json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as http:
        return await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )


async def graphql(
    server: Endpoint,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> dict[str, Any]:
    """The whole response body, errors included."""
    return (await post(server, query, variables, token=token)).json()


async def execute(
    server: Endpoint,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> dict[str, Any]:
    """The data of an operation that must succeed without GraphQL errors."""
    response = await post(server, query, variables, token=token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def mutate(
    server: Endpoint, query: str, input: dict[str, Any], *, token: str | None
) -> dict[str, Any]:
    """A mutation's payload, which must have no userErrors."""
    data = await execute(server, query, {"input": input}, token=token)
    (payload,) = data.values()
    assert payload["userErrors"] == [], payload
    return payload


async def sign_up(server: Endpoint, name: str = "E2E") -> Party:
    email = f"chat-{uuid.uuid4().hex[:10]}@example.com"
    password = "correct-horse-battery"
    payload = await mutate(
        server, SIGN_UP, {"email": email, "password": password, "displayName": name}, token=None
    )
    return Party(
        token=payload["token"], user_id=payload["user"]["id"], email=email, password=password
    )


async def log_in(server: Endpoint, party: Party) -> str:
    """A second token for the same user."""
    payload = await mutate(
        server, LOG_IN, {"email": party.email, "password": party.password}, token=None
    )
    return payload["token"]


async def open_chat(server: Endpoint, first_message: str = "Hello, shall we talk?") -> Chat:
    """Client and freelancer sign up, the client posts a job, the freelancer proposes, and the
    client starts an interview with a first message: everything over HTTP."""
    client, freelancer = await asyncio.gather(
        sign_up(server, "Chat Client"), sign_up(server, "Chat Freelancer")
    )
    await asyncio.gather(
        mutate(
            server,
            CREATE_CLIENT_PROFILE,
            {"description": "We build marketplaces.", "companyName": "Acme"},
            token=client.token,
        ),
        mutate(
            server,
            CREATE_FREELANCER_PROFILE,
            {
                "title": "GraphQL developer",
                "overview": "Strawberry and Tortoise.",
                "skills": ["python", "graphql"],
                "hourlyRate": "50",
            },
            token=freelancer.token,
        ),
    )
    title = f"Build a chat {uuid.uuid4().hex[:6]}"
    job = (
        await mutate(
            server,
            POST_JOB,
            {
                "title": title,
                "description": "Real-time messages over websockets.",
                "skills": ["python", "graphql"],
                "budgetType": "FIXED",
                "budget": "500",
                "experienceLevel": "EXPERT",
            },
            token=client.token,
        )
    )["job"]
    proposal = (
        await mutate(
            server,
            SUBMIT_PROPOSAL,
            {"jobId": job["id"], "coverLetter": "I have built this before.", "bidAmount": "450"},
            token=freelancer.token,
        )
    )["proposal"]
    interview = (
        await mutate(
            server,
            START_INTERVIEW,
            {"proposalId": proposal["id"], "message": first_message},
            token=client.token,
        )
    )["interview"]
    assert interview["lastMessage"]["body"] == first_message
    return Chat(
        server=server,
        client=client,
        freelancer=freelancer,
        job_title=title,
        interview_id=interview["id"],
        first_message=interview["lastMessage"],
    )


async def send_message(
    chat: Chat, body: str, *, sender: Party | None = None, server: Endpoint | None = None
) -> dict[str, Any]:
    """Sends through `server` (default: the chat's) and returns the stored message."""
    payload = await mutate(
        server or chat.server,
        SEND_MESSAGE,
        {"interviewId": chat.interview_id, "body": body},
        token=(sender or chat.client).token,
    )
    return payload["message"]


# --- graphql-transport-ws -------------------------------------------------------------------


@dataclass
class Operation:
    """One subscription's messages, as the server sent them."""

    id: str
    messages: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)

    async def next_message(self, timeout: float = DELIVERY_TIMEOUT) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            return await self.messages.get()

    async def next_data(self, timeout: float = DELIVERY_TIMEOUT) -> dict[str, Any]:
        """The data of the next `next` message; anything else fails the test."""
        message = await self.next_message(timeout)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]

    async def take(
        self, count: int, field_name: str = "messageAdded", timeout: float = DELIVERY_TIMEOUT
    ) -> list[dict[str, Any]]:
        """The next `count` results of the subscription's field, all within `timeout`."""
        async with asyncio.timeout(timeout):
            return [(await self.next_data(timeout=timeout))[field_name] for _ in range(count)]

    async def nothing_more(self, wait: float = 0.3) -> None:
        await asyncio.sleep(wait)
        assert self.messages.empty(), self.messages.get_nowait()


class Socket:
    """A graphql-transport-ws connection: `connection_init` (with a token or without), then
    any number of subscriptions, each with its own queue of messages."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.operations: dict[str, Operation] = {}
        self.closed = asyncio.Event()
        self._ids = itertools.count(1)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                message = json.loads(raw)
                if message.get("type") == "ping":
                    await self.connection.send(json.dumps({"type": "pong"}))
                    continue
                operation = self.operations.get(message.get("id", ""))
                if operation is not None:
                    operation.messages.put_nowait(message)
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> Operation:
        operation = Operation(id=str(next(self._ids)))
        self.operations[operation.id] = operation
        await self.connection.send(
            json.dumps(
                {
                    "id": operation.id,
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables or {}},
                }
            )
        )
        return operation

    async def complete(self, operation: Operation) -> None:
        await self.connection.send(json.dumps({"id": operation.id, "type": "complete"}))

    async def close(self) -> None:
        await self.connection.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


async def open_socket(server: Endpoint, token: str | None) -> Socket:
    connection = await connect(server.ws_url, subprotocols=[PROTOCOL], open_timeout=10)
    payload = {"authorization": f"Bearer {token}"} if token else {}
    await connection.send(json.dumps({"type": "connection_init", "payload": payload}))
    async with asyncio.timeout(10):
        ack = json.loads(await connection.recv())
    assert ack["type"] == "connection_ack", ack
    return Socket(connection)


@contextlib.asynccontextmanager
async def socket_to(server: Endpoint, token: str | None) -> AsyncIterator[Socket]:
    socket = await open_socket(server, token)
    try:
        yield socket
    finally:
        await socket.close()


async def cursor_before(chat: Chat, message: dict[str, Any]) -> str:
    """The cursor of the message sent just before `message`, the chat's newest one."""
    data = await execute(
        chat.server,
        """
        query ($id: ID!) { node(id: $id) { ... on Interview { messages(last: 2) {
          nodes { id cursor } } } } }""",
        {"id": chat.interview_id},
        token=chat.client.token,
    )
    previous, latest = data["node"]["messages"]["nodes"]
    assert latest["id"] == message["id"]
    return str(previous["cursor"])


async def live_subscription(
    socket: Socket, chat: Chat, query: str = MESSAGE_BODIES
) -> tuple[Operation, dict[str, Any]]:
    """A messageAdded subscription known to be live: it is opened with `after` just before
    a newly sent message, and the replay of that message (which a stream runs only once it
    has subscribed) proves it. Returns the subscription and that message."""
    before = await send_message(chat, f"marker {uuid.uuid4().hex[:8]}")
    operation = await socket.subscribe(
        query, {"interviewId": chat.interview_id, "after": await cursor_before(chat, before)}
    )
    [replayed] = await operation.take(1, timeout=START_TIMEOUT)
    assert replayed["body"] == before["body"]
    return operation, before


async def assert_refused(operation: Operation, code: str) -> None:
    """A subscription refused with one GraphQL error of `code` and nothing else: no data, and
    the operation is over (an `error` message, or one `next` with errors then `complete`)."""
    message = await operation.next_message()
    if message["type"] == "error":
        errors = message["payload"]
    else:
        assert message["type"] == "next", message
        assert message["payload"].get("data") is None, message
        errors = message["payload"]["errors"]
        assert (await operation.next_message())["type"] == "complete"
    assert [error["extensions"]["code"] for error in errors] == [code], errors
    await operation.nothing_more()
