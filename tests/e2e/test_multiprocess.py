"""Several server processes on one PostgreSQL database and one Redis: messages cross processes,
survive a Redis restart, and many sockets coming and going leave nothing behind.

The module runs a redis-server of its own on a free port (so a test may stop and restart it,
and count its subscriptions without anybody else's), and two server processes A and B on a
fresh PostgreSQL database. Each test opens its own interview, so its channels are its own.
Needs PostgreSQL and Redis like every test of them: skipped locally without TEST_DATABASE_URL
and TEST_REDIS_URL, failed under CI=true.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.e2e.chat_support import (
    MESSAGE_BODIES,
    PROTOCOL,
    START_TIMEOUT,
    Operation,
    Socket,
    execute,
    live_subscription,
    log_in,
    open_chat,
    open_socket,
    send_message,
    socket_to,
)
from tests.e2e.conftest import GRACEFUL_TIMEOUT_SECONDS, Server, run_server
from tests.redis_server import RedisServer, running_redis

StartServer = Callable[..., Awaitable[Server]]

# After Redis comes back, every message must have arrived within this.
RECOVERY_SECONDS = 5.0
OUTAGE_SECONDS = 2.0


def uuid_of(global_id: str) -> str:
    return (
        base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode().split(":", 1)[1]
    )


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
    directory = tmp_path_factory.mktemp("cluster")
    async with running_redis(directory) as redis, AsyncExitStack() as stack:
        a, b = await asyncio.gather(
            stack.enter_async_context(
                run_server(directory / "a", shared_database, migrate=False, BROADCAST_URL=redis.url)
            ),
            stack.enter_async_context(
                run_server(directory / "b", shared_database, migrate=False, BROADCAST_URL=redis.url)
            ),
        )
        yield Cluster(a=a, b=b, redis=redis, database_url=shared_database)


async def collect(
    operation: Operation, into: list[dict[str, Any]], arrived: dict[str, float]
) -> None:
    """Every messageAdded result of a subscription, with when it arrived."""
    while True:
        message = await operation.messages.get()
        assert message["type"] == "next" and "errors" not in message["payload"], message
        result = message["payload"]["data"]["messageAdded"]
        into.append(result)
        arrived.setdefault(result["body"], time.monotonic())


async def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}", pytrace=False)
        await asyncio.sleep(0.02)


async def test_a_subscriber_on_one_process_receives_in_order_messages_sent_through_another(
    cluster: Cluster,
) -> None:
    # given a subscriber on process A to an interview opened through process B
    a, b = cluster.a, cluster.b
    chat = await open_chat(b)  # sends go through B
    async with socket_to(a, chat.freelancer.token) as socket:
        operation, _ = await live_subscription(socket, chat)
        # when both parties write through B
        sent = [
            await send_message(
                chat, f"through B {n}", sender=chat.client if n % 3 else chat.freelancer
            )
            for n in range(20)
        ]
        # then A delivers them all, in order, once
        received = await operation.take(len(sent))
        await operation.nothing_more(0.3)
    assert [m["cursor"] for m in received] == [m["cursor"] for m in sent]
    assert [m["body"] for m in received] == [m["body"] for m in sent]


async def test_every_message_committed_while_redis_was_down_arrives_once_after_it_returns(
    cluster: Cluster,
) -> None:
    # given subscribers on A and on B, and a sender writing through B
    a, b, private_redis = cluster.a, cluster.b, cluster.redis
    chat = await open_chat(b)
    sent: list[dict[str, Any]] = []
    received: dict[str, list[dict[str, Any]]] = {"A": [], "B": []}
    arrived: dict[str, dict[str, float]] = {"A": {}, "B": {}}
    stop_sending = asyncio.Event()

    async def sender() -> None:
        number = 0
        while not stop_sending.is_set():
            # Each returns once committed; its publish may have failed (Redis down), silently.
            sent.append(await send_message(chat, f"message {number}"))
            number += 1
            await asyncio.sleep(0.05)

    # and one more subscriber on A, whose token is revoked while Redis is down
    revoked_token = await log_in(b, chat.client)

    async with (
        socket_to(a, revoked_token) as on_a_revoked,
        socket_to(a, chat.freelancer.token) as on_a,
        socket_to(b, chat.client.token) as on_b,
    ):
        revoked, _ = await live_subscription(on_a_revoked, chat)
        operations = {
            "A": (await live_subscription(on_a, chat))[0],
            "B": (await live_subscription(on_b, chat))[0],
        }
        # the marker of B's subscription reached A's too
        assert (await operations["A"].take(1))[0]["body"].startswith("marker")
        collectors = [
            asyncio.create_task(collect(operations[name], received[name], arrived[name]))
            for name in operations
        ]
        sending = asyncio.create_task(sender())
        try:
            await wait_for(lambda: len(received["A"]) >= 3, START_TIMEOUT, "live before the outage")
            # when Redis goes away for a while, and comes back on the same port
            await private_redis.stop()
            before_outage = len(sent)
            # (its revocation is committed, and its event lost)
            assert await execute(b, "mutation { logOut { ok } }", token=revoked_token) == {
                "logOut": {"ok": True}
            }
            await asyncio.sleep(OUTAGE_SECONDS)
            committed_during_outage = len(sent) - before_outage
            await private_redis.start()
            returned = time.monotonic()
            await asyncio.sleep(1.0)
            stop_sending.set()
            await sending
            # then every committed message reaches both subscribers, once and in order,
            # within RECOVERY_SECONDS of Redis' return
            expected = [m["body"] for m in sent]
            for name, arrivals in received.items():
                await wait_for(
                    lambda got=arrivals: len(got) >= len(expected),
                    returned + RECOVERY_SECONDS - time.monotonic(),
                    f"{name} to get all {len(expected)} messages; it got "
                    f"{[m['body'] for m in arrivals]}\n"
                    f"{(a if name == 'A' else b).log()}",
                )
            await asyncio.sleep(0.3)  # any duplicate would come now
            # and the subscription of the token revoked meanwhile has ended: the stream asked
            # again after the reconnect
            async with asyncio.timeout(returned + RECOVERY_SECONDS - time.monotonic()):
                while (message := await revoked.next_message())["type"] == "next":
                    pass
            assert message["type"] in ("complete", "error"), message
        finally:
            stop_sending.set()
            if private_redis.process is None or private_redis.process.poll() is not None:
                await private_redis.start()  # for the module's other tests
            for task in (sending, *collectors):
                task.cancel()
            await asyncio.gather(sending, *collectors, return_exceptions=True)
    assert committed_during_outage >= 1, "nothing was committed during the outage"
    for name, arrivals in received.items():
        assert [m["body"] for m in arrivals] == expected, name
        assert [m["cursor"] for m in arrivals] == [m["cursor"] for m in sent], name
        late = {
            body: at - returned
            for body, at in arrived[name].items()
            if at - returned > RECOVERY_SECONDS
        }
        assert not late, (name, late)


async def test_fifty_sockets_subscribing_at_once_all_receive_the_next_message(
    cluster: Cluster,
) -> None:
    # given 50 sockets subscribing at once to an interview nobody on A listened to yet
    a, b, private_redis = cluster.a, cluster.b, cluster.redis
    chat = await open_chat(b)
    channel = f"interview:{uuid_of(chat.interview_id)}"
    marker = await send_message(chat, "marker")
    tokens = [chat.client.token, chat.freelancer.token]
    sockets: list[Socket] = await asyncio.gather(
        *(open_socket(a, tokens[n % 2]) for n in range(50))
    )
    try:
        operations = await asyncio.gather(
            *(
                socket.subscribe(
                    MESSAGE_BODIES,
                    {"interviewId": chat.interview_id, "after": chat.first_message["cursor"]},
                )
                for socket in sockets
            )
        )
        # each replays the marker once subscribed
        replays = await asyncio.gather(
            *(operation.take(1, timeout=START_TIMEOUT) for operation in operations)
        )
        assert all(replay[0]["body"] == marker["body"] for replay in replays)
        # ... sharing one Redis subscription
        assert await private_redis.numsub(channel) == 1
        # when
        message = await send_message(chat, "for all fifty")
        # then
        results = await asyncio.gather(*(operation.take(1, timeout=10) for operation in operations))
        assert [result[0]["cursor"] for result in results] == [message["cursor"]] * 50
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets))
    # and when they are gone, so is the Redis subscription
    await private_redis.wait_for_numsub(channel, 0)


async def test_sockets_closed_mid_subscribe_leave_no_subscription_and_shutdown_is_prompt(
    cluster: Cluster, start_server: StartServer
) -> None:
    # given a server of this test's own (it is stopped at the end), and an interview nobody
    # listens to
    private_redis = cluster.redis
    server = await start_server(
        cluster.database_url, migrate=False, BROADCAST_URL=private_redis.url
    )
    chat = await open_chat(server)
    channels = [
        f"interview:{uuid_of(chat.interview_id)}",
        f"user:{uuid_of(chat.freelancer.user_id)}",
    ]
    init = json.dumps(
        {"type": "connection_init", "payload": {"authorization": f"Bearer {chat.freelancer.token}"}}
    )
    # With `after`, the first message replays: a socket that has seen it was all the way in.
    subscribe = json.dumps(
        {
            "id": "1",
            "type": "subscribe",
            "payload": {
                "query": MESSAGE_BODIES,
                "variables": {
                    "interviewId": chat.interview_id,
                    "after": chat.first_message["cursor"],
                },
            },
        }
    )
    await send_message(chat, "to replay")
    rng = random.Random(20240601)

    async def subscribe_and_vanish(number: int) -> None:
        async with connect(server.ws_url, subprotocols=[PROTOCOL]) as socket:
            await socket.send(init)
            await socket.send(subscribe)
            # Closed at once, a little later, or once subscribed: at every step of it.
            if number % 5 == 0:
                async with asyncio.timeout(10):
                    while json.loads(await socket.recv())["type"] != "next":
                        pass
            elif number % 5 != 1:
                await asyncio.sleep(rng.random() * 0.05)

    # when 50 sockets open, subscribe and close at once
    await asyncio.gather(*(subscribe_and_vanish(number) for number in range(50)))
    # then no Redis subscription is left behind
    for channel in channels:
        await private_redis.wait_for_numsub(channel, 0)
    # and the server still serves subscriptions
    async with socket_to(server, chat.freelancer.token) as socket:
        operation, _ = await live_subscription(socket, chat)
        sent = await send_message(chat, "still works")
        assert [m["body"] for m in await operation.take(1)] == [sent["body"]]
    await private_redis.wait_for_numsub(channels[0], 0)
    # and SIGTERM stops it within its graceful timeout, without having to cancel anything
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    returncode = await asyncio.to_thread(server.process.wait, GRACEFUL_TIMEOUT_SECONDS + 5)
    elapsed = time.monotonic() - started
    log = server.log()
    assert returncode in (0, -signal.SIGTERM), log
    assert elapsed < GRACEFUL_TIMEOUT_SECONDS, f"took {elapsed:.1f} s\n{log}"
    assert "Application shutdown complete" in log
    assert "timeout graceful shutdown exceeded" not in log, log
