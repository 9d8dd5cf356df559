"""setTyping, typingChanged and presenceChanged through the API: who may, who hears what, how
often, and that nothing of it is stored or replayed.

The app is served in this process (uvicorn on a real socket, the test's database, in-process
pub/sub) and spoken to over real HTTP and graphql-transport-ws websockets.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from tortoise import connections

from cli import WEBSOCKET_OPTIONS
from models.actors import actor_for
from models.interviews import actions as interviews
from models.interviews.orm import Interview, InterviewStatus
from models.interviews.typing import LIMIT, REFRESH_SECONDS, TTL_SECONDS
from models.pagination import cursor_of
from models.users.actions import Session
from realtime.presence import GRACE_SECONDS
from tests.conftest import Database
from tests.e2e.chat_support import (
    START_TIMEOUT,
    Operation,
    Socket,
    assert_refused,
    open_socket,
)
from tests.e2e.conftest import Endpoint, free_port
from tests.factories import make_client, make_freelancer, make_user
from tests.resolvers.marketplace_support import gid, make_job, make_proposal

SET_TYPING = """
mutation ($input: SetTypingInput!) {
  setTyping(input: $input) { interview { id } expiresAt userErrors { field message code } }
}"""
TYPING_CHANGED = """
subscription ($id: ID!) {
  typingChanged(interviewId: $id) { typing at expiresAt user { id } interview { id } }
}"""
PRESENCE_CHANGED = """
subscription ($id: ID!) {
  presenceChanged(interviewId: $id) { online at user { id displayName } interview { id } }
}"""
MESSAGE_BODIES = """
subscription ($id: ID!, $after: String) {
  messageAdded(interviewId: $id, after: $after) { body cursor }
}"""
SEND_MESSAGE = """
mutation ($input: SendMessageInput!) {
  sendMessage(input: $input) { message { cursor } userErrors { code } }
}"""
# Online or offline must be told within this (offline: the grace, and a busy machine's delays).
NOTICE = GRACE_SECONDS + 3.0


@pytest.fixture
async def server(app: Any) -> AsyncIterator[Endpoint]:
    port = free_port()
    served = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, lifespan="off", log_config=None, **WEBSOCKET_OPTIONS
        )
    )
    serving = asyncio.create_task(served.serve())
    async with asyncio.timeout(10):
        while not served.started:
            await asyncio.sleep(0.01)
    yield Endpoint(port)
    served.should_exit = True
    await serving


@dataclass
class Chat:
    server: Endpoint
    client: Session
    freelancer: Session
    interview_id: str
    first_cursor: str

    http: httpx.AsyncClient

    async def post(self, query: str, variables: dict[str, Any], token: str | None) -> Any:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        return response.json()

    async def set_typing(self, who: Session, typing: bool = True) -> dict[str, Any]:
        body = await self.post(
            SET_TYPING, {"input": {"interviewId": self.interview_id, "typing": typing}}, who.token
        )
        assert "errors" not in body, body
        return dict(body["data"]["setTyping"])


@pytest.fixture
async def chat(db: Database, server: Endpoint) -> AsyncIterator[Chat]:
    client, _ = await make_client()
    freelancer, _ = await make_freelancer()
    proposal = await make_proposal(freelancer, await make_job(client))
    interview, _ = await interviews.start_interview(
        await actor_for(client.user), proposal.id, "Hello, shall we talk?"
    )
    [first] = await interviews.messages_after(interview.id, None)

    async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as http:
        yield Chat(
            server=server,
            client=client,
            freelancer=freelancer,
            interview_id=gid("Interview", interview.id),
            first_cursor=cursor_of(first.seq),
            http=http,
        )


@pytest.fixture
async def sockets(server: Endpoint) -> AsyncIterator[Any]:
    opened: list[Socket] = []

    async def open_for(session: Session | None) -> Socket:
        socket = await open_socket(server, session.token if session else None)
        opened.append(socket)
        return socket

    yield open_for
    for socket in opened:
        await socket.close()


async def next_result(operation: Operation, field: str, timeout: float = NOTICE) -> Any:
    return (await operation.next_data(timeout=timeout))[field]


async def seen_online(operation: Operation, online: bool, timeout: float = START_TIMEOUT) -> Any:
    """The next presenceChanged result, which must say `online`."""
    event = await next_result(operation, "presenceChanged", timeout)
    assert event["online"] is online, event
    return event


async def row_counts(database: Database) -> dict[str, int]:
    client = connections.get("default")
    counts = {}
    for table in database.tables:
        _, rows = await client.execute_query(f'SELECT COUNT(*) AS n FROM "{table}"')
        counts[table] = int(rows[0]["n"])
    return counts


async def test_typing_reaches_the_other_party_and_never_the_typist(
    chat: Chat, sockets: Any
) -> None:
    # given the client listening for typing, and the freelancer, on a socket of their own,
    # listening too, and seeing the client online (so the client's subscription is live)
    client_socket = await sockets(chat.client)
    freelancer_socket = await sockets(chat.freelancer)
    client_typing = await client_socket.subscribe(TYPING_CHANGED, {"id": chat.interview_id})
    freelancer_presence = await freelancer_socket.subscribe(
        PRESENCE_CHANGED, {"id": chat.interview_id}
    )
    await seen_online(freelancer_presence, True)
    freelancer_typing = await freelancer_socket.subscribe(TYPING_CHANGED, {"id": chat.interview_id})
    # when the freelancer types
    before = datetime.now().astimezone()
    payload = await chat.set_typing(chat.freelancer)
    # then the mutation says until when the indicator shows
    assert payload["userErrors"] == []
    assert payload["interview"] == {"id": chat.interview_id}
    expires_at = datetime.fromisoformat(payload["expiresAt"])
    assert timedelta(0) < expires_at - before <= timedelta(seconds=TTL_SECONDS + 1)
    # and the client sees who types, since when, and until when
    event = await next_result(client_typing, "typingChanged")
    assert event["typing"] is True
    assert event["user"] == {"id": gid("User", chat.freelancer.user.id)}
    assert event["interview"] == {"id": chat.interview_id}
    assert datetime.fromisoformat(event["expiresAt"]) == expires_at
    assert datetime.fromisoformat(event["at"]) == expires_at - timedelta(seconds=TTL_SECONDS)
    # when the client types back
    await chat.set_typing(chat.client)
    # then the freelancer's first typing event is the client's: their own never came back
    first_heard = await next_result(freelancer_typing, "typingChanged")
    assert first_heard["user"] == {"id": gid("User", chat.client.user.id)}
    # and the client never hears of their own
    await client_typing.nothing_more()
    # when the freelancer stops, the client's indicator clears at once
    stopped = await chat.set_typing(chat.freelancer, typing=False)
    assert stopped == {"interview": {"id": chat.interview_id}, "expiresAt": None, "userErrors": []}
    event = await next_result(client_typing, "typingChanged")
    assert (event["typing"], event["expiresAt"]) == (False, None)


async def test_set_typing_over_the_websocket(chat: Chat, sockets: Any) -> None:
    # given the client listening, seen online by the freelancer
    client_typing = await (await sockets(chat.client)).subscribe(
        TYPING_CHANGED, {"id": chat.interview_id}
    )
    freelancer_socket = await sockets(chat.freelancer)
    await seen_online(
        await freelancer_socket.subscribe(PRESENCE_CHANGED, {"id": chat.interview_id}), True
    )
    # when the freelancer sends setTyping on their socket
    mutation = await freelancer_socket.subscribe(
        SET_TYPING, {"input": {"interviewId": chat.interview_id}}
    )
    # then it is answered there, once
    result = await next_result(mutation, "setTyping")
    assert result["userErrors"] == [] and result["expiresAt"] is not None
    assert (await mutation.next_message())["type"] == "complete"
    # and the client hears of it
    event = await next_result(client_typing, "typingChanged")
    assert event["user"] == {"id": gid("User", chat.freelancer.user.id)}


async def test_strangers_and_anonymous_users_get_nothing(chat: Chat, sockets: Any) -> None:
    stranger = await make_user()
    listener = await sockets(chat.client)
    client_typing = await listener.subscribe(TYPING_CHANGED, {"id": chat.interview_id})
    await seen_online(
        await (await sockets(chat.freelancer)).subscribe(
            PRESENCE_CHANGED, {"id": chat.interview_id}
        ),
        True,
    )
    # a stranger's setTyping is NOT_FOUND, as is a malformed or wrong-type ID
    for interview_id in (chat.interview_id, "not-an-id", gid("Job", stranger.user.id)):
        body = await chat.post(SET_TYPING, {"input": {"interviewId": interview_id}}, stranger.token)
        payload = body["data"]["setTyping"]
        assert (payload["interview"], payload["expiresAt"]) == (None, None)
        assert [(error["field"], error["code"]) for error in payload["userErrors"]] == [
            (["input", "interviewId"], "NOT_FOUND")
        ]
    # and the client heard nothing of it
    await client_typing.nothing_more()
    # a stranger may not listen, for typing or presence
    strangers = await sockets(stranger)
    for query in (TYPING_CHANGED, PRESENCE_CHANGED):
        await assert_refused(
            await strangers.subscribe(query, {"id": chat.interview_id}), "NOT_FOUND"
        )
    # anonymous: signed out is UNAUTHENTICATED
    body = await chat.post(SET_TYPING, {"input": {"interviewId": chat.interview_id}}, None)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    anonymous = await sockets(None)
    for query in (TYPING_CHANGED, PRESENCE_CHANGED):
        await assert_refused(
            await anonymous.subscribe(query, {"id": chat.interview_id}), "UNAUTHENTICATED"
        )


async def test_typing_is_coalesced_and_rate_limited_but_a_stop_always_goes_through(
    chat: Chat, sockets: Any
) -> None:
    client_typing = await (await sockets(chat.client)).subscribe(
        TYPING_CHANGED, {"id": chat.interview_id}
    )
    await seen_online(
        await (await sockets(chat.freelancer)).subscribe(
            PRESENCE_CHANGED, {"id": chat.interview_id}
        ),
        True,
    )
    # when the freelancer's client calls setTyping on every key stroke
    started = time.monotonic()
    payloads = [await chat.set_typing(chat.freelancer) for _ in range(LIMIT)]
    elapsed = time.monotonic() - started
    # then each succeeds, and says until when the indicator shows: calls within REFRESH_SECONDS
    # of the last one sent change nothing, so only a few expiries are told
    assert all(payload["userErrors"] == [] for payload in payloads)
    expiries = sorted({payload["expiresAt"] for payload in payloads})
    assert len(expiries) <= elapsed / REFRESH_SECONDS + 1 < LIMIT
    # and the client hears one event per expiry, no more
    heard = await client_typing.take(len(expiries), "typingChanged")
    assert [event["expiresAt"] for event in heard] == expiries
    await client_typing.nothing_more()
    # past the limit, calls are refused
    refused = await chat.set_typing(chat.freelancer)
    assert refused["interview"] is None
    assert [error["code"] for error in refused["userErrors"]] == ["RATE_LIMITED"]
    # but the stop is not: the indicator clears
    stopped = await chat.set_typing(chat.freelancer, typing=False)
    assert stopped["userErrors"] == []
    assert (await next_result(client_typing, "typingChanged"))["typing"] is False
    await client_typing.nothing_more()


async def test_typing_in_a_closed_interview_is_invalid_state(chat: Chat) -> None:
    await Interview.filter(client_id=chat.client.user.id).update(status=InterviewStatus.CLOSED)
    payload = await chat.set_typing(chat.freelancer)
    assert [error["code"] for error in payload["userErrors"]] == ["INVALID_STATE"]


async def test_typing_and_presence_are_never_stored_nor_replayed(
    chat: Chat, sockets: Any, db: Database
) -> None:
    before = await row_counts(db)
    # given both parties online and typing at each other, and a stop
    client_socket = await sockets(chat.client)
    client_typing = await client_socket.subscribe(TYPING_CHANGED, {"id": chat.interview_id})
    freelancer_socket = await sockets(chat.freelancer)
    await seen_online(
        await freelancer_socket.subscribe(PRESENCE_CHANGED, {"id": chat.interview_id}), True
    )
    await chat.set_typing(chat.freelancer)
    await chat.set_typing(chat.client)
    await chat.set_typing(chat.freelancer, typing=False)
    assert len(await client_typing.take(2, "typingChanged")) == 2
    # then no table has a row more: no message, no notification, nothing
    assert await row_counts(db) == before
    # and a messageAdded resumed from the first message replays messages only
    sent = await chat.post(
        SEND_MESSAGE,
        {"input": {"interviewId": chat.interview_id, "body": "after typing"}},
        chat.client.token,
    )
    resumed = await freelancer_socket.subscribe(
        MESSAGE_BODIES, {"id": chat.interview_id, "after": chat.first_cursor}
    )
    replayed = await resumed.take(1, timeout=START_TIMEOUT)
    assert replayed == [
        {"body": "after typing", "cursor": sent["data"]["sendMessage"]["message"]["cursor"]}
    ]
    await resumed.nothing_more()
    # and a typingChanged opened after the fact hears nothing of what was said before
    late = await client_socket.subscribe(TYPING_CHANGED, {"id": chat.interview_id})
    await late.nothing_more(0.5)


async def test_presence_tells_the_state_at_once_then_each_change(chat: Chat, sockets: Any) -> None:
    # given the client watching the freelancer, who is not there
    watching = await (await sockets(chat.client)).subscribe(
        PRESENCE_CHANGED, {"id": chat.interview_id}
    )
    started = time.monotonic()
    first = await seen_online(watching, False)
    assert time.monotonic() - started < START_TIMEOUT
    assert first["user"]["id"] == gid("User", chat.freelancer.user.id)
    assert first["interview"] == {"id": chat.interview_id}
    # when the freelancer opens the chat (a messageAdded subscription)
    freelancer_socket = await sockets(chat.freelancer)
    messages = await freelancer_socket.subscribe(MESSAGE_BODIES, {"id": chat.interview_id})
    # then the client sees them online
    online = await seen_online(watching, True, NOTICE)
    # and online they stay while the subscription lives, though its replay is long over and it
    # is served by its shared group (schema/fanout.py), not by its own resolver any more
    await watching.nothing_more(GRACE_SECONDS + 2.0)
    # and when they leave it, offline
    await freelancer_socket.complete(messages)
    left = time.monotonic()
    offline = await seen_online(watching, False, NOTICE)
    assert time.monotonic() - left >= GRACE_SECONDS * 0.9
    assert datetime.fromisoformat(offline["at"]) > datetime.fromisoformat(online["at"])
    await watching.nothing_more(0.5)


async def test_log_out_ends_typing_and_presence_subscriptions(chat: Chat, sockets: Any) -> None:
    socket = await sockets(chat.client)
    presence = await socket.subscribe(PRESENCE_CHANGED, {"id": chat.interview_id})
    typing = await socket.subscribe(TYPING_CHANGED, {"id": chat.interview_id})
    await seen_online(presence, False)
    body = await chat.post("mutation { logOut { ok } }", {}, chat.client.token)
    assert body == {"data": {"logOut": {"ok": True}}}
    for operation in (presence, typing):
        assert (await operation.next_message())["type"] == "complete"
