"""Interviews and live chat against a real server process: the marketplace flow over HTTP, then
`messageAdded` and `notificationAdded` over real websockets (graphql-transport-ws).

Runs on SQLite with in-process pub/sub, or on PostgreSQL and Redis when TEST_DATABASE_URL and
TEST_REDIS_URL are set. A subscription is known to be live once it has replayed a message
(see chat_support.live_subscription): the tests never sleep to wait for one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.e2e.chat_support import (
    DELIVERY_TIMEOUT,
    MESSAGE_ADDED,
    MESSAGE_BODIES,
    NOTIFICATION_ADDED,
    SEND_MESSAGE,
    START_TIMEOUT,
    Chat,
    Operation,
    Socket,
    assert_refused,
    execute,
    graphql,
    live_subscription,
    log_in,
    open_chat,
    send_message,
    sign_up,
    socket_to,
)
from tests.e2e.conftest import Server

INTERVIEW = """
query ($id: ID!) {
  node(id: $id) {
    ... on Interview {
      unreadCount
      lastMessage { body }
      messages(first: 10) { nodes { body } pageInfo { hasNextPage } }
      newest: messages(last: 2) { nodes { body } pageInfo { hasPreviousPage } }
    }
  }
}"""
NOTIFICATIONS = """
{ viewer { unreadNotificationCount notifications(unreadOnly: true) {
  nodes { kind read cursor subject { __typename ... on Interview { id } } } } } }"""
MARK_READ = """
mutation ($input: MarkInterviewReadInput!) {
  markInterviewRead(input: $input) { interview { unreadCount } userErrors { code } }
}"""


async def interview_as(chat: Chat, token: str) -> dict[str, Any]:
    return (await execute(chat.server, INTERVIEW, {"id": chat.interview_id}, token=token))["node"]


# --- live delivery --------------------------------------------------------------------------


async def test_message_added_delivers_sent_messages_live_with_nested_fields(server: Server) -> None:
    # given a freelancer subscribed through gql's websockets transport
    chat = await open_chat(server)
    marker = await send_message(chat, "before subscribing")
    transport = WebsocketsTransport(
        url=server.ws_url,
        init_payload={"authorization": f"Bearer {chat.freelancer.token}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    request = GraphQLRequest(
        MESSAGE_ADDED,
        variable_values={"interviewId": chat.interview_id, "after": chat.first_message["cursor"]},
    )
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:

        async def listen() -> None:
            async for result in session.subscribe(request):
                received.put_nowait(result["messageAdded"])

        listener = asyncio.create_task(listen())
        try:
            replayed = await asyncio.wait_for(received.get(), START_TIMEOUT)
            assert replayed["body"] == marker["body"]  # the subscription is live
            # when both parties write
            sent = [
                await send_message(chat, "Can you start Monday?"),
                await send_message(chat, "Yes, Monday works.", sender=chat.freelancer),
                await send_message(chat, "Great."),
            ]
            # then each arrives, in order, with its sender and interview
            live = [await asyncio.wait_for(received.get(), DELIVERY_TIMEOUT) for _ in sent]
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
    assert [(m["id"], m["body"], m["cursor"]) for m in live] == [
        (m["id"], m["body"], m["cursor"]) for m in sent
    ]
    assert [m["sender"] for m in live] == [
        {"id": chat.client.user_id, "displayName": "Chat Client"},
        {"id": chat.freelancer.user_id, "displayName": "Chat Freelancer"},
        {"id": chat.client.user_id, "displayName": "Chat Client"},
    ]
    assert all(
        m["interview"]
        == {"id": chat.interview_id, "status": "OPEN", "job": {"title": chat.job_title}}
        for m in live
    )
    assert received.empty()


async def test_messages_are_listed_oldest_first_and_last_gives_the_newest(server: Server) -> None:
    # given
    chat = await open_chat(server, first_message="one")
    for body in ("two", "three", "four"):
        await send_message(chat, body)
    # when
    interview = await interview_as(chat, chat.freelancer.token)
    # then
    assert interview["messages"] == {
        "nodes": [{"body": b} for b in ("one", "two", "three", "four")],
        "pageInfo": {"hasNextPage": False},
    }
    assert interview["newest"] == {
        "nodes": [{"body": "three"}, {"body": "four"}],
        "pageInfo": {"hasPreviousPage": True},
    }
    assert interview["lastMessage"] == {"body": "four"}


async def test_unread_count_mark_read_and_one_coalesced_message_notification(
    server: Server,
) -> None:
    # given a first message and two more from the client
    chat = await open_chat(server)
    await send_message(chat, "second")
    await send_message(chat, "third")
    # then the freelancer has three unread, the client (who wrote them) none
    assert (await interview_as(chat, chat.freelancer.token))["unreadCount"] == 3
    assert (await interview_as(chat, chat.client.token))["unreadCount"] == 0
    # and one unread MESSAGE_RECEIVED for the conversation, not one per message
    viewer = (await execute(server, NOTIFICATIONS, token=chat.freelancer.token))["viewer"]
    kinds = sorted(n["kind"] for n in viewer["notifications"]["nodes"])
    assert kinds == ["INTERVIEW_STARTED", "MESSAGE_RECEIVED"]
    assert viewer["unreadNotificationCount"] == 2
    message_received = next(
        n for n in viewer["notifications"]["nodes"] if n["kind"] == "MESSAGE_RECEIVED"
    )
    assert message_received["subject"] == {"__typename": "Interview", "id": chat.interview_id}

    # when the freelancer reads the conversation
    data = await execute(
        server,
        MARK_READ,
        {"input": {"interviewId": chat.interview_id}},
        token=chat.freelancer.token,
    )
    # then
    assert data["markInterviewRead"] == {"interview": {"unreadCount": 0}, "userErrors": []}
    assert (await interview_as(chat, chat.freelancer.token))["unreadCount"] == 0
    viewer = (await execute(server, NOTIFICATIONS, token=chat.freelancer.token))["viewer"]
    assert [n["kind"] for n in viewer["notifications"]["nodes"]] == ["INTERVIEW_STARTED"]

    # when a reply comes, the freelancer's own reply does not count as unread
    await send_message(chat, "my reply", sender=chat.freelancer)
    await send_message(chat, "fourth")
    # then a new MESSAGE_RECEIVED, and one unread message
    assert (await interview_as(chat, chat.freelancer.token))["unreadCount"] == 1
    assert (await interview_as(chat, chat.client.token))["unreadCount"] == 0
    viewer = (await execute(server, NOTIFICATIONS, token=chat.freelancer.token))["viewer"]
    assert sorted(n["kind"] for n in viewer["notifications"]["nodes"]) == [
        "INTERVIEW_STARTED",
        "MESSAGE_RECEIVED",
    ]
    # and the client was told of the freelancer's reply, once
    viewer = (await execute(server, NOTIFICATIONS, token=chat.client.token))["viewer"]
    assert [n["kind"] for n in viewer["notifications"]["nodes"]].count("MESSAGE_RECEIVED") == 1


async def test_notification_added_delivers_a_new_notification_live(server: Server) -> None:
    # given a freelancer with an INTERVIEW_STARTED and then a MESSAGE_RECEIVED notification
    chat = await open_chat(server)
    viewer = (await execute(server, NOTIFICATIONS, token=chat.freelancer.token))["viewer"]
    [started] = viewer["notifications"]["nodes"]
    assert started["kind"] == "INTERVIEW_STARTED"
    await send_message(chat, "are you there?")
    async with socket_to(server, chat.freelancer.token) as socket:
        # subscribed after INTERVIEW_STARTED: the MESSAGE_RECEIVED replays (it is live)
        operation = await socket.subscribe(NOTIFICATION_ADDED, {"after": started["cursor"]})
        [replayed] = await operation.take(1, "notificationAdded", timeout=START_TIMEOUT)
        assert (replayed["kind"], replayed["read"]) == ("MESSAGE_RECEIVED", False)
        # when the freelancer reads the conversation, and the client writes again
        await execute(
            server,
            MARK_READ,
            {"input": {"interviewId": chat.interview_id}},
            token=chat.freelancer.token,
        )
        await send_message(chat, "hello again")
        # then a new MESSAGE_RECEIVED arrives live
        [live] = await operation.take(1, "notificationAdded")
        await operation.nothing_more()
    assert live["kind"] == "MESSAGE_RECEIVED"
    assert live["read"] is False
    assert live["id"] != replayed["id"]
    assert live["subject"] == {"__typename": "Interview", "id": chat.interview_id}
    assert live["cursor"] != replayed["cursor"]


# --- who may see what -----------------------------------------------------------------------


async def test_a_stranger_sees_not_found_for_the_interview_everywhere(server: Server) -> None:
    # given an interview, and a signed-in user who takes no part in it
    chat = await open_chat(server)
    stranger = await sign_up(server, "Stranger")
    async with socket_to(server, stranger.token) as socket:
        # when the stranger subscribes to its messages
        operation = await socket.subscribe(MESSAGE_ADDED, {"interviewId": chat.interview_id})
        # then one NOT_FOUND error and nothing else
        await assert_refused(operation, "NOT_FOUND")
        # not even a message sent afterwards
        await send_message(chat, "private")
        await operation.nothing_more()
    # and node(id:) finds neither the interview nor its message
    for node_id in (chat.interview_id, chat.first_message["id"]):
        data = await execute(
            server,
            "query ($id: ID!) { node(id: $id) { id } }",
            {"id": node_id},
            token=stranger.token,
        )
        assert data == {"node": None}
    # and sendMessage says NOT_FOUND, and stores nothing
    data = await execute(
        server,
        SEND_MESSAGE,
        {"input": {"interviewId": chat.interview_id, "body": "let me in"}},
        token=stranger.token,
    )
    assert data["sendMessage"]["message"] is None
    assert [(e["code"], e["field"]) for e in data["sendMessage"]["userErrors"]] == [
        ("NOT_FOUND", ["input", "interviewId"])
    ]
    assert (await interview_as(chat, chat.client.token))["lastMessage"] == {"body": "private"}


async def test_anonymous_subscriptions_are_refused_as_unauthenticated(server: Server) -> None:
    chat = await open_chat(server)
    async with socket_to(server, None) as socket:
        for query, variables in (
            (MESSAGE_ADDED, {"interviewId": chat.interview_id}),
            (NOTIFICATION_ADDED, {}),
        ):
            operation = await socket.subscribe(query, variables)
            await assert_refused(operation, "UNAUTHENTICATED")


# --- resuming -------------------------------------------------------------------------------


async def test_resubscribing_with_after_gets_exactly_the_missed_messages_then_live_ones(
    server: Server,
) -> None:
    # given a subscriber who has seen two messages
    chat = await open_chat(server)
    async with socket_to(server, chat.freelancer.token) as socket:
        operation, _ = await live_subscription(socket, chat)
        seen = [await send_message(chat, f"seen {n}") for n in range(2)]
        assert [m["body"] for m in await operation.take(2)] == ["seen 0", "seen 1"]
        resume_from = seen[-1]["cursor"]
    # when messages are sent while it is disconnected
    missed = [
        await send_message(chat, f"missed {n}", sender=party)
        for n, party in enumerate([chat.client, chat.freelancer, chat.client])
    ]
    # and it resubscribes with the last cursor it saw, while more are being sent
    async with socket_to(server, chat.freelancer.token) as socket:
        operation = await socket.subscribe(
            MESSAGE_BODIES, {"interviewId": chat.interview_id, "after": resume_from}
        )
        sender = asyncio.create_task(_send_each(chat, [f"live {n}" for n in range(5)]))
        live = await sender
        received = await operation.take(len(missed) + len(live))
        # then the missed ones, then the live ones: no gap, no duplicate
        await operation.nothing_more()
    assert [m["body"] for m in received] == [m["body"] for m in missed + live]
    assert [m["cursor"] for m in received] == [m["cursor"] for m in missed + live]


async def _send_each(chat: Chat, bodies: list[str]) -> list[dict[str, Any]]:
    return [await send_message(chat, body) for body in bodies]


# --- logging out ----------------------------------------------------------------------------


async def test_log_out_ends_the_subscriptions_of_that_token_only(server: Server) -> None:
    # given the client signed in twice, with subscriptions open on each token
    chat = await open_chat(server)
    other_token = await log_in(server, chat.client)
    [proposal_received] = (await execute(server, NOTIFICATIONS, token=chat.client.token))["viewer"][
        "notifications"
    ]["nodes"]
    assert proposal_received["kind"] == "PROPOSAL_RECEIVED"
    await send_message(chat, "ping", sender=chat.freelancer)  # a MESSAGE_RECEIVED to replay
    async with (
        socket_to(server, chat.client.token) as revoked_socket,
        socket_to(server, other_token) as other_socket,
    ):
        marker = await send_message(chat, "marker")
        operations: dict[str, Operation] = {}
        for name, socket in (("revoked", revoked_socket), ("other", other_socket)):
            operations[name] = await socket.subscribe(
                MESSAGE_BODIES,
                {"interviewId": chat.interview_id, "after": chat.first_message["cursor"]},
            )
            operations[f"{name} notifications"] = await socket.subscribe(
                NOTIFICATION_ADDED, {"after": proposal_received["cursor"]}
            )
        for name, operation in operations.items():
            if name.endswith("notifications"):
                replayed = await operation.take(1, "notificationAdded", timeout=START_TIMEOUT)
                assert [n["kind"] for n in replayed] == ["MESSAGE_RECEIVED"], name
            else:
                replayed = await operation.take(2, timeout=START_TIMEOUT)
                assert [m["body"] for m in replayed] == ["ping", marker["body"]], name
        # when the first token logs out
        data = await execute(server, "mutation { logOut { ok } }", token=chat.client.token)
        assert data == {"logOut": {"ok": True}}
        # then its subscriptions end
        for name in ("revoked", "revoked notifications"):
            ended = await operations[name].next_message()
            assert ended["type"] in ("complete", "error"), (name, ended)
        # while the other token's go on
        await send_message(chat, "still listening?", sender=chat.freelancer)
        assert [m["body"] for m in await operations["other"].take(1)] == ["still listening?"]
        await operations["revoked"].nothing_more(0.2)
        assert not other_socket.closed.is_set()
        # and the revoked token's socket cannot open new ones
        refused = await revoked_socket.subscribe(MESSAGE_BODIES, {"interviewId": chat.interview_id})
        await assert_refused(refused, "UNAUTHENTICATED")
    # and the revoked token no longer works over HTTP
    body = await graphql(server, "{ viewer { user { id } } }", token=chat.client.token)
    assert body.get("data", {}).get("viewer") is None


# --- validation -----------------------------------------------------------------------------


async def test_empty_or_oversized_messages_are_refused_and_not_delivered(server: Server) -> None:
    chat = await open_chat(server)
    async with socket_to(server, chat.freelancer.token) as socket:
        operation, _ = await live_subscription(socket, chat)
        for body in ("", "   \n\t", "x" * 10_001):
            # when
            data = await execute(
                server,
                SEND_MESSAGE,
                {"input": {"interviewId": chat.interview_id, "body": body}},
                token=chat.client.token,
            )
            # then
            assert data["sendMessage"]["message"] is None
            assert [(e["code"], e["field"]) for e in data["sendMessage"]["userErrors"]] == [
                ("VALIDATION", ["input", "body"])
            ], len(body)
        # while the longest allowed message goes through, and is the only one delivered
        longest = await send_message(chat, "y" * 10_000)
        assert [m["body"] for m in await operation.take(1)] == [longest["body"]]
        await operation.nothing_more()


# --- queries and mutations over the socket ----------------------------------------------------

UNREAD_OVER_SOCKET = "{ viewer { user { id } unreadNotificationCount } }"
LAST_MESSAGE = "query ($id: ID!) { node(id: $id) { ... on Interview { lastMessage { body } } } }"


async def socket_query(
    socket: Socket, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A query sent as a graphql-transport-ws operation: one result, then complete."""
    operation = await socket.subscribe(query, variables)
    result = await operation.next_message()
    assert result["type"] == "next", result
    assert (await operation.next_message())["type"] == "complete"
    return result["payload"]


async def test_queries_over_a_socket_see_fresh_data_and_stop_at_log_out(server: Server) -> None:
    # given the freelancer's socket, which has already read the interview once
    chat = await open_chat(server)
    interview = {"id": chat.interview_id}
    async with socket_to(server, chat.freelancer.token) as socket:
        before = await socket_query(socket, LAST_MESSAGE, interview)
        assert before["data"]["node"]["lastMessage"]["body"] == chat.first_message["body"]
        # when the client sends another message
        await send_message(chat, "a new message")
        after = await socket_query(socket, LAST_MESSAGE, interview)
        # then the socket's second query is not served from the first one's cache
        assert after["data"]["node"]["lastMessage"]["body"] == "a new message"
        # and once the freelancer logs out, the socket no longer acts for them
        signed_in = await socket_query(socket, UNREAD_OVER_SOCKET)
        assert signed_in["data"]["viewer"]["user"]["id"] == chat.freelancer.user_id
        await execute(server, "mutation { logOut { ok } }", token=chat.freelancer.token)
        signed_out = await socket_query(socket, UNREAD_OVER_SOCKET)
        assert (signed_out.get("data") or {}).get("viewer") is None, signed_out
        hidden = await socket_query(socket, LAST_MESSAGE, interview)
        assert (hidden.get("data") or {}).get("node") is None, hidden
