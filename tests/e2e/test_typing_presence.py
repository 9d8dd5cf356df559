"""Typing and presence across real server processes: two `marketplace serve` processes A and B on
one PostgreSQL database and one Redis (a redis-server of the module's own), real websocket
clients. The client of an interview talks to A, its freelancer to B.

A user's socket may go away in three ways, each of which must turn them offline for the other
party within 10 s: closed abruptly (the TCP connection reset, no close frame), gone silent (the
network vanished: nothing is closed, nothing answers), or their server process killed.
Needs PostgreSQL and Redis: skipped locally without TEST_DATABASE_URL and TEST_REDIS_URL,
failed under CI=true.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, Self

import pytest

from tests.e2e.chat_support import (
    MESSAGE_BODIES,
    START_TIMEOUT,
    Chat,
    Operation,
    Socket,
    execute,
    live_subscription,
    mutate,
    open_chat,
    open_socket,
    send_message,
)
from tests.e2e.conftest import Endpoint, Server, run_server
from tests.redis_server import RedisServer, running_redis

StartServer = Callable[..., Awaitable[Server]]

# The product's promise: offline within this of a socket or process going away.
OFFLINE_WITHIN = 10.0
SET_TYPING = """
mutation ($input: SetTypingInput!) {
  setTyping(input: $input) { expiresAt userErrors { field message code } }
}"""
TYPING_CHANGED = """
subscription ($id: ID!) {
  typingChanged(interviewId: $id) { typing at expiresAt user { id displayName } }
}"""
PRESENCE_CHANGED = """
subscription ($id: ID!) {
  presenceChanged(interviewId: $id) { online at user { id } }
}"""


@dataclass
class Cluster:
    a: Server
    b: Server
    redis: RedisServer
    database_url: str


@pytest.fixture(scope="module")
async def cluster(
    tmp_path_factory: pytest.TempPathFactory, shared_database: str
) -> AsyncIterator[Cluster]:
    directory = tmp_path_factory.mktemp("presence")
    async with running_redis(directory) as redis, AsyncExitStack() as stack:
        a, b = await asyncio.gather(
            *(
                stack.enter_async_context(
                    run_server(
                        directory / name, shared_database, migrate=False, BROADCAST_URL=redis.url
                    )
                )
                for name in ("a", "b")
            )
        )
        yield Cluster(a=a, b=b, redis=redis, database_url=shared_database)


@pytest.fixture
async def sockets() -> AsyncIterator[Callable[[Endpoint, str], Awaitable[Socket]]]:
    opened: list[Socket] = []

    async def open_to(server: Endpoint, token: str) -> Socket:
        socket = await open_socket(server, token)
        opened.append(socket)
        return socket

    yield open_to
    for socket in opened:
        with contextlib.suppress(Exception):
            await socket.close()


async def presence_of(socket: Socket, chat: Chat) -> Operation:
    return await socket.subscribe(PRESENCE_CHANGED, {"id": chat.interview_id})


async def until(operation: Operation, online: bool, within: float = START_TIMEOUT) -> float:
    """Waits for a presenceChanged result saying `online`, and returns when it came. The first
    result may say the opposite (the state as the subscription started)."""
    deadline = time.monotonic() + within
    while True:
        event = (await operation.next_data(timeout=deadline - time.monotonic()))["presenceChanged"]
        if event["online"] is online:
            return time.monotonic()


async def set_typing(server: Endpoint, chat: Chat, token: str, typing: bool = True) -> Any:
    return await mutate(
        server, SET_TYPING, {"interviewId": chat.interview_id, "typing": typing}, token=token
    )


async def test_client_on_a_and_freelancer_on_b_see_each_others_presence_and_typing(
    cluster: Cluster, sockets: Any
) -> None:
    a, b = cluster.a, cluster.b
    chat = await open_chat(a)
    client_id, freelancer_id = chat.client.user_id, chat.freelancer.user_id
    # given the client on A and the freelancer on B, each watching the other and their typing
    on_a = await sockets(a, chat.client.token)
    on_b = await sockets(b, chat.freelancer.token)
    client_sees = await presence_of(on_a, chat)
    client_typing = await on_a.subscribe(TYPING_CHANGED, {"id": chat.interview_id})
    freelancer_sees = await presence_of(on_b, chat)
    freelancer_typing = await on_b.subscribe(TYPING_CHANGED, {"id": chat.interview_id})
    # then each sees the other online, through the other process
    await until(client_sees, True)
    await until(freelancer_sees, True)
    # when the freelancer types, through B
    await set_typing(b, chat, chat.freelancer.token)
    # then the client, on A, sees who types
    event = (await client_typing.next_data())["typingChanged"]
    assert (event["typing"], event["user"]["id"]) == (True, freelancer_id)
    assert event["user"]["displayName"] == "Chat Freelancer"
    # when the client answers typing, over their websocket to A
    mutation = await on_a.subscribe(SET_TYPING, {"input": {"interviewId": chat.interview_id}})
    assert (await mutation.next_data())["setTyping"]["userErrors"] == []
    # then the freelancer, on B, sees it, and not their own typing first
    event = (await freelancer_typing.next_data())["typingChanged"]
    assert (event["typing"], event["user"]["id"]) == (True, client_id)
    # and when the freelancer stops, the client's indicator clears
    await set_typing(b, chat, chat.freelancer.token, typing=False)
    event = (await client_typing.next_data())["typingChanged"]
    assert (event["typing"], event["expiresAt"]) == (False, None)
    await client_typing.nothing_more()
    await freelancer_typing.nothing_more()
    # and nobody went offline meanwhile
    await client_sees.nothing_more()
    await freelancer_sees.nothing_more()


async def test_a_socket_reset_without_a_close_frame_turns_its_user_offline(
    cluster: Cluster, sockets: Any
) -> None:
    # given the freelancer in the chat on B (messageAdded), seen online by the client on A
    a, b = cluster.a, cluster.b
    chat = await open_chat(a)
    freelancer_socket = await sockets(b, chat.freelancer.token)
    await live_subscription(freelancer_socket, chat)
    client_sees = await presence_of(await sockets(a, chat.client.token), chat)
    await until(client_sees, True)
    # when the freelancer's connection is reset: no close frame, no closing handshake
    freelancer_socket.connection.transport.abort()
    dropped = time.monotonic()
    # then the client sees them offline within 10 s
    offline = await until(client_sees, False, within=OFFLINE_WITHIN + 5)
    assert offline - dropped < OFFLINE_WITHIN


class Blackhole:
    """A TCP relay that can go silent without closing anything: to the server behind it, the
    client has vanished, as when a phone loses its network."""

    def __init__(self, upstream: Endpoint) -> None:
        self.upstream = upstream
        self.pipes: list[asyncio.Task[None]] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None

    @property
    def endpoint(self) -> Endpoint:
        assert self.server is not None
        return Endpoint(self.server.sockets[0].getsockname()[1])

    async def __aenter__(self) -> Self:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.silence()
        for writer in self.writers:
            writer.close()
        assert self.server is not None
        self.server.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream.port)
        self.writers += [writer, up_writer]
        self.pipes += [
            asyncio.create_task(self._pipe(reader, up_writer)),
            asyncio.create_task(self._pipe(up_reader, writer)),
        ]

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()

    def silence(self) -> None:
        """Stop relaying, and close nothing."""
        for pipe in self.pipes:
            pipe.cancel()


async def test_a_socket_gone_silent_is_dropped_and_its_user_offline_within_10_s(
    cluster: Cluster, sockets: Any
) -> None:
    a, b = cluster.a, cluster.b
    chat = await open_chat(a)
    async with Blackhole(b) as relay:
        # given the freelancer in the chat on B, through a relay, seen online by the client on A
        freelancer_socket = await sockets(relay.endpoint, chat.freelancer.token)
        await live_subscription(freelancer_socket, chat)
        client_sees = await presence_of(await sockets(a, chat.client.token), chat)
        await until(client_sees, True)
        # when the freelancer's network vanishes: nothing is closed, nothing gets through
        relay.silence()
        silenced = time.monotonic()
        # then B's pings go unanswered, B drops the socket, and the client sees them offline
        offline = await until(client_sees, False, within=OFFLINE_WITHIN + 5)
        assert offline - silenced < OFFLINE_WITHIN


async def test_a_killed_server_process_turns_its_users_offline_within_10_s(
    cluster: Cluster, sockets: Any, start_server: StartServer
) -> None:
    # given a third process C, of this test's own, holding the freelancer in the chat
    a = cluster.a
    c = await start_server(cluster.database_url, migrate=False, BROADCAST_URL=cluster.redis.url)
    chat = await open_chat(a)
    await live_subscription(await sockets(c, chat.freelancer.token), chat)
    client_sees = await presence_of(await sockets(a, chat.client.token), chat)
    await until(client_sees, True)
    # when C is killed: its sockets vanish, and it tells nobody
    c.process.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    # then the client sees the freelancer offline within 10 s (C stopped answering probes)
    offline = await until(client_sees, False, within=OFFLINE_WITHIN + 5)
    assert offline - killed < OFFLINE_WITHIN
    await asyncio.to_thread(c.process.wait, 10)


async def test_typing_is_never_replayed(cluster: Cluster, sockets: Any) -> None:
    a, b = cluster.a, cluster.b
    chat = await open_chat(a)
    # given the freelancer live on B, and the client typing and writing through A
    on_b = await sockets(b, chat.freelancer.token)
    live, marker = await live_subscription(on_b, chat)
    await set_typing(a, chat, chat.client.token)
    sent = await send_message(chat, "typed, then sent")
    await set_typing(a, chat, chat.client.token, typing=False)
    assert [m["body"] for m in await live.take(1)] == [sent["body"]]
    # when the freelancer resumes messageAdded from the first message, on the other process
    resumed = await (await sockets(a, chat.freelancer.token)).subscribe(
        MESSAGE_BODIES,
        {"interviewId": chat.interview_id, "after": chat.first_message["cursor"]},
    )
    # then the replay holds the messages, and nothing of the typing
    replayed = await resumed.take(2, timeout=START_TIMEOUT)
    assert [m["body"] for m in replayed] == [marker["body"], sent["body"]]
    await resumed.nothing_more()
    await live.nothing_more()
    # and a typingChanged opened now hears nothing of what was typed before
    late = await on_b.subscribe(TYPING_CHANGED, {"id": chat.interview_id})
    await late.nothing_more(1.0)
    # and the interview holds the messages alone
    data = await execute(
        a,
        "query ($id: ID!) { node(id: $id) { ... on Interview { messages { totalCount } } } }",
        {"id": chat.interview_id},
        token=chat.client.token,
    )
    assert data["node"]["messages"]["totalCount"] == 3
