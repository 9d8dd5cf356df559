"""Shared subscriptions against real server processes: subscribers whose operations would get
the same result share one execution of each event (schema/fanout.py), and a group never
carries one viewer's data to another, nor anything to a subscriber whose token was revoked.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.e2e.chat_support import (
    MESSAGE_BODIES,
    NOTIFICATION_ADDED,
    START_TIMEOUT,
    Chat,
    Operation,
    Socket,
    cursor_before,
    execute,
    live_subscription,
    log_in,
    open_chat,
    open_socket,
    send_message,
    socket_to,
)
from tests.e2e.conftest import Server
from tests.redis_server import running_redis

StartServer = Callable[..., Awaitable[Server]]

# What depends on the viewer: the unread count is the other party's messages the viewer has not
# read; the sender's and the job's rows come through loaders (a query each per execution).
MESSAGE_AS_VIEWER = """
subscription ($interviewId: ID!, $after: String) {
  messageAdded(interviewId: $interviewId, after: $after) {
    body cursor
    sender { id displayName }
    interview { unreadCount job { title } }
  }
}"""


async def live_sockets(
    server: Server, chat: Chat, tokens: list[str], query: str = MESSAGE_AS_VIEWER
) -> list[tuple[Socket, Operation]]:
    """A socket per token, each with a live messageAdded subscription of `query`: all opened
    with `after` the message before one marker, whose replay proves them live."""
    marker = await send_message(chat, f"marker {uuid.uuid4().hex[:8]}")
    after = await cursor_before(chat, marker)
    sockets = await asyncio.gather(*(open_socket(server, token) for token in tokens))
    operations = [
        await socket.subscribe(query, {"interviewId": chat.interview_id, "after": after})
        for socket in sockets
    ]
    for operation in operations:
        [replayed] = await operation.take(1, timeout=START_TIMEOUT)
        assert replayed["body"] == marker["body"]
    return list(zip(sockets, operations, strict=True))


async def close_all(pairs: list[tuple[Socket, Operation]]) -> None:
    await asyncio.gather(*(socket.close() for socket, _ in pairs))


async def test_two_viewers_of_one_stream_each_get_their_own_results(server: Server) -> None:
    # given the client and the freelancer of an interview, three sockets each, subscribed with
    # the same document and variables
    chat = await open_chat(server)
    pairs = await live_sockets(server, chat, [chat.client.token] * 3 + [chat.freelancer.token] * 3)
    client_side, freelancer_side = pairs[:3], pairs[3:]
    try:
        # when the client writes twice
        for body in ("first", "second"):
            await send_message(chat, body)
        # then each side sees the message as its own viewer: the client (who wrote them) has
        # nothing unread, the freelancer has the first message's, the marker's and these unread
        for side, unread in ((client_side, [0, 0]), (freelancer_side, [3, 4])):
            for _, operation in side:
                got = await operation.take(2)
                assert [m["body"] for m in got] == ["first", "second"]
                assert [m["interview"]["unreadCount"] for m in got] == unread
                assert {m["sender"]["id"] for m in got} == {chat.client.user_id}
                await operation.nothing_more(0.1)
    finally:
        await close_all(client_side + freelancer_side)


async def test_notifications_of_one_document_reach_only_their_own_viewer(server: Server) -> None:
    # given both parties subscribed to notificationAdded with the same document and variables
    chat = await open_chat(server)
    async with (
        socket_to(server, chat.client.token) as client_socket,
        socket_to(server, chat.freelancer.token) as freelancer_socket,
    ):
        client_notifications = await client_socket.subscribe(NOTIFICATION_ADDED, {})
        freelancer_notifications = await freelancer_socket.subscribe(NOTIFICATION_ADDED, {})
        await asyncio.sleep(0.5)  # live-from-now streams: give them time to subscribe
        # when the freelancer writes (the client is told), then the client writes twice (the
        # freelancer is told once: unread notifications are coalesced)
        await send_message(chat, "from the freelancer", sender=chat.freelancer)
        [told_client] = await client_notifications.take(1, "notificationAdded")
        await send_message(chat, "from the client")
        [told_freelancer] = await freelancer_notifications.take(1, "notificationAdded")
        # then each was told of the other's message only
        assert told_client["kind"] == told_freelancer["kind"] == "MESSAGE_RECEIVED"
        assert told_client["id"] != told_freelancer["id"]
        await client_notifications.nothing_more(0.2)
        await freelancer_notifications.nothing_more(0.2)


async def test_a_revoked_token_stops_receiving_while_its_group_goes_on(server: Server) -> None:
    # given the freelancer signed in twice, three sockets on each token, one document
    chat = await open_chat(server)
    other_token = await log_in(server, chat.freelancer)
    pairs = await live_sockets(server, chat, [chat.freelancer.token] * 3 + [other_token] * 3)
    revoked, staying = pairs[:3], pairs[3:]
    try:
        # when the first token logs out
        data = await execute(server, "mutation { logOut { ok } }", token=chat.freelancer.token)
        assert data == {"logOut": {"ok": True}}
        # then its subscriptions end
        for _, operation in revoked:
            assert (await operation.next_message())["type"] == "complete"
        # and what is sent next reaches the other token's only
        await send_message(chat, "after the log-out")
        for _, operation in staying:
            assert [m["body"] for m in await operation.take(1)] == ["after the log-out"]
        for socket, operation in revoked:
            await operation.nothing_more(0.2)
            assert not socket.closed.is_set()
    finally:
        await close_all(revoked + staying)


async def test_one_execution_serves_every_subscriber_of_a_group(
    start_server: StartServer,
) -> None:
    # given a server that logs its SQL, and ten sockets of the freelancer's with one document
    server = await start_server(LOG_LEVEL="DEBUG")
    chat = await open_chat(server)
    pairs = await live_sockets(server, chat, [chat.freelancer.token] * 10)
    try:
        await asyncio.sleep(0.3)
        before = job_reads(server)
        # when one message is sent
        await send_message(chat, "for all ten")
        # then all ten have it
        for _, operation in pairs:
            assert [m["body"] for m in await operation.take(1)] == ["for all ten"]
        await asyncio.sleep(0.3)
        # and its nested fields were read once for all of them
        assert job_reads(server) - before == 1
    finally:
        await close_all(pairs)


def job_reads(server: Server) -> int:
    """Queries of the job loader (the subscription's `interview { job { title } }`)."""
    return len(re.findall(r'SELECT [^\n]* FROM "jobs" WHERE "id" (?:IN|= ANY)', server.log()))


async def test_subscribers_joining_during_a_stream_of_messages_each_get_every_message_once(
    server: Server,
) -> None:
    # given a stream of messages being sent, and subscribers joining one group while it runs,
    # each resuming after the last message it knows of
    chat = await open_chat(server)
    sent: list[dict[str, Any]] = []
    done = asyncio.Event()

    async def keep_sending() -> None:
        for number in range(30):
            sent.append(await send_message(chat, f"stream {number}"))
            await asyncio.sleep(0.02)
        done.set()

    joined: list[tuple[Socket, Operation, int]] = []
    sender = asyncio.create_task(keep_sending())
    try:
        for _ in range(6):
            await asyncio.sleep(0.08)
            known = len(sent)
            socket = await open_socket(server, chat.freelancer.token)
            variables: dict[str, Any] = {"interviewId": chat.interview_id}
            if known:
                variables["after"] = sent[known - 1]["cursor"]
            else:
                variables["after"] = chat.first_message["cursor"]
            joined.append((socket, await socket.subscribe(MESSAGE_BODIES, variables), known))
        await sender
        # then each has exactly the messages after the one it resumed from, in order
        for _, operation, known in joined:
            expected = [m["body"] for m in sent[known:]]
            got = await operation.take(len(expected), timeout=START_TIMEOUT)
            assert [m["body"] for m in got] == expected
            await operation.nothing_more(0.1)
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        await asyncio.gather(*(socket.close() for socket, _, _ in joined))


async def test_completing_one_subscription_of_a_group_leaves_the_others_and_frees_its_id(
    server: Server,
) -> None:
    chat = await open_chat(server)
    async with socket_to(server, chat.freelancer.token) as socket:
        first, _ = await live_subscription(socket, chat)
        second, marker = await live_subscription(socket, chat)
        assert [m["body"] for m in await first.take(1)] == [marker["body"]]
        # when the client completes the first
        await socket.complete(first)
        await send_message(chat, "only for the second")
        # then only the second receives
        assert [m["body"] for m in await second.take(1)] == ["only for the second"]
        await first.nothing_more(0.2)
        # and the first's id can be used again
        again = Operation(id=first.id)
        socket.operations[first.id] = again
        await socket.connection.send(
            '{"id": "%s", "type": "subscribe", "payload": {"query": %s, "variables": '
            '{"interviewId": "%s"}}}' % (first.id, _json(MESSAGE_BODIES), chat.interview_id)
        )
        await asyncio.sleep(0.5)
        await send_message(chat, "for both")
        assert [m["body"] for m in await again.take(1)] == ["for both"]
        assert [m["body"] for m in await second.take(1)] == ["for both"]


def _json(value: str) -> str:
    import json

    return json.dumps(value)


async def test_after_redis_returns_a_token_revoked_meanwhile_ends_only_its_own_subscriptions(
    start_server: StartServer, tmp_path: Path
) -> None:
    # given one server on a Redis of the test's own, and the freelancer's two tokens in one group
    async with running_redis(tmp_path) as redis:
        server = await start_server(BROADCAST_URL=redis.url)
        chat = await open_chat(server)
        other_token = await log_in(server, chat.freelancer)
        pairs = await live_sockets(
            server, chat, [chat.freelancer.token] * 2 + [other_token] * 2, MESSAGE_BODIES
        )
        revoked, staying = pairs[:2], pairs[2:]
        try:
            # when Redis goes away, the first token logs out (its event is lost) and a message
            # is committed (its event is lost too), then Redis comes back
            await redis.stop()
            await execute(server, "mutation { logOut { ok } }", token=chat.freelancer.token)
            missed = await send_message(chat, "while Redis was away")
            await redis.start()
            # then the revoked token's subscriptions end, and the others get the missed message
            for _, operation in revoked:
                async with asyncio.timeout(START_TIMEOUT):
                    while (message := await operation.next_message(START_TIMEOUT))[
                        "type"
                    ] == "next":
                        assert message["payload"]["data"]["messageAdded"]["body"] == missed["body"]
                assert message["type"] == "complete"
            for _, operation in staying:
                got = await operation.take(1, timeout=START_TIMEOUT)
                assert [m["body"] for m in got] == [missed["body"]]
                await operation.nothing_more(0.2)
        finally:
            await close_all(revoked + staying)
