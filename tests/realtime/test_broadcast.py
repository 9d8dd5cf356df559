"""realtime.broadcast.Broadcaster against in-process pub/sub and a real Redis (TEST_REDIS_URL)."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis import asyncio as aioredis

from realtime.broadcast import Broadcaster
from tests.services import require_redis

DELIVERY_TIMEOUT = 5.0
TEST_TIMEOUT = 10.0


def bounded(test: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Fail a test that hangs instead of hanging the run. asyncio.wait_for cannot do it here:
    a subscribe cancelled mid-way finishes joining (shielded) before it gives up."""

    @functools.wraps(test)
    async def run(*args: Any, **kwargs: Any) -> Any:
        task = asyncio.ensure_future(test(*args, **kwargs))
        done, _ = await asyncio.wait({task}, timeout=TEST_TIMEOUT)
        if not done:
            task.cancel()
            pytest.fail(f"hung: not done within {TEST_TIMEOUT} s", pytrace=False)
        return task.result()

    return run


def new_channel() -> str:
    return f"test-broadcast-{uuid.uuid4().hex}"


def broadcast_url(backend: str) -> str:
    return require_redis() if backend == "redis" else "memory://"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def broadcaster(backend: str) -> AsyncIterator[Broadcaster]:
    async with Broadcaster(broadcast_url(backend)) as connected:
        yield connected


@pytest.fixture
async def redis_client(backend: str) -> AsyncIterator[aioredis.Redis | None]:
    """For the Redis variant, a plain client of its own, to look at Redis from the outside."""
    if backend != "redis":
        yield None
        return
    client = aioredis.Redis.from_url(require_redis())
    try:
        yield client
    finally:
        await client.aclose()


async def numsub(client: aioredis.Redis, channel: str) -> int:
    [(_, count)] = await client.pubsub_numsub(channel)
    return int(count)


async def subscriber_task(
    broadcaster: Broadcaster,
    channel: str,
    ready: asyncio.Event,
    entered: Callable[[], None] | None = None,
) -> str:
    """Subscribes, says so, and returns the first message."""
    async with broadcaster.subscribe(channel) as subscriber:
        if entered:
            entered()
        ready.set()
        event = await subscriber.get()
        return event.message


@bounded
async def test_message_published_right_after_subscribe_returns_is_delivered(
    broadcaster: Broadcaster,
) -> None:
    # A fresh channel each round: every round is a first subscription, the racy case.
    for round_number in range(20):
        channel = new_channel()
        async with broadcaster.subscribe(channel) as subscriber:
            # when
            await broadcaster.publish(channel, f"hello {round_number}")
            # then
            event = await asyncio.wait_for(subscriber.get(), DELIVERY_TIMEOUT)
        assert (event.channel, event.message) == (channel, f"hello {round_number}")


@bounded
async def test_messages_of_other_channels_are_not_delivered(broadcaster: Broadcaster) -> None:
    # given
    mine, other = new_channel(), new_channel()
    async with broadcaster.subscribe(mine) as subscriber:
        # when
        await broadcaster.publish(other, "not for you")
        await broadcaster.publish(mine, "for you")
        # then
        event = await asyncio.wait_for(subscriber.get(), DELIVERY_TIMEOUT)
    assert (event.channel, event.message) == (mine, "for you")


@pytest.mark.redis
@bounded
async def test_message_published_by_another_instance_reaches_subscribers() -> None:
    # given two server processes' broadcasters on one Redis
    url = require_redis()
    async with Broadcaster(url) as publishing, Broadcaster(url) as receiving:
        for round_number in range(10):
            channel = new_channel()
            async with receiving.subscribe(channel) as subscriber:
                # when
                await publishing.publish(channel, f"from the other process {round_number}")
                # then
                event = await asyncio.wait_for(subscriber.get(), DELIVERY_TIMEOUT)
            assert event.message == f"from the other process {round_number}"


@bounded
async def test_fifty_concurrent_first_subscribers_all_receive_the_next_message(
    broadcaster: Broadcaster, redis_client: aioredis.Redis | None
) -> None:
    # given 50 subscribers joining a new channel at once
    channel = new_channel()
    readiness = [asyncio.Event() for _ in range(50)]
    tasks = [
        asyncio.create_task(subscriber_task(broadcaster, channel, ready)) for ready in readiness
    ]
    try:
        await asyncio.wait_for(
            asyncio.gather(*(ready.wait() for ready in readiness)), DELIVERY_TIMEOUT
        )
        if redis_client:
            # ... sharing one Redis subscription
            assert await numsub(redis_client, channel) == 1
        # when
        await broadcaster.publish(channel, "everyone")
        # then
        messages = await asyncio.wait_for(asyncio.gather(*tasks), DELIVERY_TIMEOUT)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert messages == ["everyone"] * 50
    assert channel not in broadcaster._mailboxes


@pytest.mark.parametrize("cancel", ["together", "staggered"])
@bounded
async def test_subscribers_cancelled_mid_subscribe_leave_nothing_behind(
    broadcaster: Broadcaster, redis_client: aioredis.Redis | None, cancel: str
) -> None:
    # given 50 subscribers on their way into a new channel
    channel = new_channel()
    inside = 0

    def entered() -> None:
        nonlocal inside
        inside += 1

    tasks = [
        asyncio.create_task(subscriber_task(broadcaster, channel, asyncio.Event(), entered))
        for _ in range(50)
    ]
    await asyncio.sleep(0)  # every task has started subscribing
    # when they are cancelled: all at once, or spread over the subscription's steps
    for number, task in enumerate(tasks):
        task.cancel()
        if cancel == "staggered" and number % 2:
            await asyncio.sleep(0)
    results = await asyncio.wait_for(
        asyncio.gather(*tasks, return_exceptions=True), DELIVERY_TIMEOUT
    )
    # then
    assert all(isinstance(result, asyncio.CancelledError) for result in results), results
    if cancel == "together":
        assert inside == 0, "the tasks were meant to be cancelled before subscribe() returned"
    assert channel not in broadcaster._mailboxes
    if redis_client:
        assert await numsub(redis_client, channel) == 0
    # and the channel still works for the next subscriber
    async with broadcaster.subscribe(channel) as subscriber:
        await broadcaster.publish(channel, "still here")
        event = await asyncio.wait_for(subscriber.get(), DELIVERY_TIMEOUT)
    assert event.message == "still here"
    assert channel not in broadcaster._mailboxes


@bounded
async def test_leaving_the_last_subscription_unsubscribes_from_redis(
    broadcaster: Broadcaster, redis_client: aioredis.Redis | None
) -> None:
    # given
    channel = new_channel()
    async with broadcaster.subscribe(channel):
        async with broadcaster.subscribe(channel):
            if redis_client:
                assert await numsub(redis_client, channel) == 1
        # when one of two leaves, then the subscription stays
        assert channel in broadcaster._mailboxes
        if redis_client:
            assert await numsub(redis_client, channel) == 1
    # when the last one leaves, then it is gone
    assert channel not in broadcaster._mailboxes
    if redis_client:
        assert await numsub(redis_client, channel) == 0


@bounded
async def test_disconnect_returns_promptly_with_subscribers_waiting(backend: str) -> None:
    # given a connected broadcaster with a subscriber waiting for a message that never comes
    broadcaster = Broadcaster(broadcast_url(backend))
    await broadcaster.connect()
    ready = asyncio.Event()
    waiting = asyncio.create_task(subscriber_task(broadcaster, new_channel(), ready))
    await asyncio.wait_for(ready.wait(), DELIVERY_TIMEOUT)
    # when, then
    await asyncio.wait_for(broadcaster.disconnect(), 2)
    # and the subscriber, cancelled after the disconnect (as at a server's shutdown), still ends
    waiting.cancel()
    done, _ = await asyncio.wait([waiting], timeout=2)
    assert done == {waiting}, "the subscriber hung leaving its channel"


@bounded
async def test_disconnect_right_after_connect_returns_promptly(backend: str) -> None:
    broadcaster = Broadcaster(broadcast_url(backend))
    await broadcaster.connect()
    await asyncio.wait_for(broadcaster.disconnect(), 2)
