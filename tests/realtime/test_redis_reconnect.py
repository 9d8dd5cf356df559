"""realtime.broadcast.Broadcaster on a Redis of the test's own, which the test kills, freezes
and restarts: reconnection, RESYNC, and (un)subscribes caught in the middle of it.
Plus the per-channel locks, which must not outlive their channels (in-process and Redis)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from broadcaster import Event

from realtime import redis_backend
from realtime.broadcast import RESYNC, Broadcaster
from tests.realtime.test_broadcast import bounded, broadcast_url, subscriber_task
from tests.redis_server import RedisServer, running_redis

DELIVERY_TIMEOUT = 5.0


def new_channel() -> str:
    return f"test-reconnect-{uuid.uuid4().hex}"


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    async with running_redis(tmp_path) as running:
        yield running


@pytest.fixture
def quick_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    """A silent connection is noticed in about a second, and a reconnect attempt that gets no
    answer is given up after half a second (instead of 15 s and 5 s)."""
    monkeypatch.setattr(redis_backend, "PING_EVERY_SECONDS", 0.2)
    monkeypatch.setattr(redis_backend, "DEAD_AFTER_SECONDS", 0.8)
    monkeypatch.setattr(redis_backend, "ATTEMPT_TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(redis_backend, "BACKOFF_MAX_SECONDS", 0.2)


async def next_event(subscriber: object) -> Event:
    return await asyncio.wait_for(subscriber.get(), DELIVERY_TIMEOUT)  # type: ignore[attr-defined]


async def until(condition: object, what: str, timeout: float = DELIVERY_TIMEOUT) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)


@pytest.mark.redis
@bounded
async def test_after_a_restart_subscribers_get_resync_then_live_messages(
    redis: RedisServer,
) -> None:
    # given a subscriber
    channel = new_channel()
    async with Broadcaster(redis.url) as broadcaster, broadcaster.subscribe(channel) as sub:
        # when Redis dies and comes back on the same port
        await redis.stop()
        await until(lambda: not broadcaster._backend.is_connected, "the loss noticed")
        await redis.start()
        # then the subscriber is told to resync, first
        assert (await next_event(sub)).message == RESYNC
        # and messages flow again, on the same Redis subscription
        await broadcaster.publish(channel, "after the restart")
        assert (await next_event(sub)).message == "after the restart"
        assert await redis.numsub(channel) == 1
    await redis.wait_for_numsub(channel, 0)


async def hold(broadcaster: Broadcaster, channel: str) -> asyncio.Task[None]:
    """A subscriber that stays subscribed until cancelled, once it is in."""
    ready = asyncio.Event()

    async def stay() -> None:
        async with broadcaster.subscribe(channel) as subscriber:
            ready.set()
            while True:
                await subscriber.get()

    task = asyncio.create_task(stay())
    await asyncio.wait_for(ready.wait(), DELIVERY_TIMEOUT)
    return task


async def outage(broadcaster: Broadcaster, redis: RedisServer) -> None:
    """Redis dies, and the broadcaster has noticed."""
    await redis.stop()
    await until(lambda: not broadcaster._backend.is_connected, "the loss noticed")


@pytest.mark.redis
@bounded
async def test_a_subscribe_made_while_redis_is_down_completes_when_it_returns(
    redis: RedisServer,
) -> None:
    async with Broadcaster(redis.url) as broadcaster:
        # given Redis is down, and the broadcaster is reconnecting
        holder = await hold(broadcaster, new_channel())
        await outage(broadcaster, redis)
        # when somebody subscribes to a new channel
        channel = new_channel()
        ready = asyncio.Event()
        waiting = asyncio.create_task(subscriber_task(broadcaster, channel, ready))
        await asyncio.sleep(0.3)
        assert not ready.is_set()
        # and Redis returns
        await redis.start()
        # then the subscription completes and receives
        await asyncio.wait_for(ready.wait(), DELIVERY_TIMEOUT)
        await broadcaster.publish(channel, "hello")
        assert await asyncio.wait_for(waiting, DELIVERY_TIMEOUT) == "hello"
        await redis.wait_for_numsub(channel, 0)
        holder.cancel()


@pytest.mark.redis
@bounded
async def test_leaving_while_redis_is_down_does_not_wait_for_it(redis: RedisServer) -> None:
    async with Broadcaster(redis.url) as broadcaster:
        # given a subscriber, and Redis down
        channel = new_channel()
        holder = await hold(broadcaster, channel)
        kept = new_channel()
        keeper = await hold(broadcaster, kept)
        await outage(broadcaster, redis)
        # when it leaves
        holder.cancel()
        done, _ = await asyncio.wait([holder], timeout=1)
        # then it is gone at once (the lost connection took its subscription along)
        assert done == {holder}, "leaving waited for Redis"
        assert broadcaster._channel_locks == {}
        # and when Redis returns, only the channel still wanted is subscribed again
        await redis.start()
        await until(lambda: broadcaster._backend.is_connected, "reconnected")
        await redis.wait_for_numsub(kept, 1)
        assert await redis.numsub(channel) == 0
        keeper.cancel()


@pytest.mark.redis
@bounded
async def test_disconnect_during_a_reconnect_does_not_hang_a_waiting_subscribe(
    redis: RedisServer,
) -> None:
    # given a broadcaster reconnecting to a Redis that is gone, and a subscribe waiting for it
    broadcaster = Broadcaster(redis.url)
    await broadcaster.connect()
    holder = await hold(broadcaster, new_channel())
    await outage(broadcaster, redis)
    waiting = asyncio.create_task(subscriber_task(broadcaster, new_channel(), asyncio.Event()))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    # when the broadcaster is disconnected (as at a server's shutdown)
    await asyncio.wait_for(broadcaster.disconnect(), 2)
    # then the waiting subscribe fails promptly instead of waiting forever
    done, _ = await asyncio.wait([waiting], timeout=2)
    assert done == {waiting}, "the subscribe hung after disconnect()"
    with pytest.raises(Exception):  # noqa: B017 - any error, as long as it ends
        waiting.result()
    # and the subscriber still in, cancelled (as at shutdown), ends too
    holder.cancel()
    done, _ = await asyncio.wait([holder], timeout=2)
    assert done == {holder}, "the subscriber hung leaving its channel"
    assert broadcaster._channel_locks == {}


@pytest.mark.redis
@bounded
async def test_a_subscribe_in_flight_when_redis_dies_survives_and_leaves_nothing_behind(
    redis: RedisServer,
) -> None:
    async with Broadcaster(redis.url) as broadcaster:
        # given a SUBSCRIBE sent to a Redis that hangs (and so never acknowledges it)
        channel = new_channel()
        redis.freeze()
        ready = asyncio.Event()
        waiting = asyncio.create_task(subscriber_task(broadcaster, channel, ready))
        await asyncio.sleep(0.2)
        assert not ready.is_set()
        # when that Redis dies, and a new one starts on its port
        await redis.stop()
        await redis.start()
        # then the subscribe completes on the new connection, and receives
        await asyncio.wait_for(ready.wait(), DELIVERY_TIMEOUT)
        await broadcaster.publish(channel, "made it")
        assert await asyncio.wait_for(waiting, DELIVERY_TIMEOUT) == "made it"
        # and, once it has left, Redis keeps no subscription for it
        await redis.wait_for_numsub(channel, 0)
        assert channel not in broadcaster._backend._channels


@pytest.mark.redis
@bounded
async def test_a_hung_redis_is_noticed_and_delivery_resumes_when_it_answers_again(
    redis: RedisServer, quick_detection: None
) -> None:
    # given a subscriber
    channel = new_channel()
    async with Broadcaster(redis.url) as broadcaster, broadcaster.subscribe(channel) as sub:
        # when Redis hangs: connections are accepted, nothing is answered
        redis.freeze()
        try:
            # then the silence is noticed, and reconnect attempts are given up and retried
            await until(lambda: not broadcaster._backend.is_connected, "the silence noticed")
            await asyncio.sleep(1.5)  # a few attempts' deadlines
            assert not broadcaster._backend.is_connected
        finally:
            redis.thaw()
        # and when it answers again, the subscriber resyncs and receives
        assert (await next_event(sub)).message == RESYNC
        await until(lambda: broadcaster._backend.is_connected, "reconnected")
        await broadcaster.publish(channel, "awake")
        event = await next_event(sub)
        while event.message == RESYNC:  # one per successful reconnection
            event = await next_event(sub)
        assert event.message == "awake"
    await redis.wait_for_numsub(channel, 0)


# --- the per-channel locks ------------------------------------------------------------------


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@bounded
async def test_channel_locks_do_not_outlive_their_channels(backend: str) -> None:
    async with Broadcaster(broadcast_url(backend)) as broadcaster:
        # given many channels, each subscribed by several at once
        channels = [new_channel() for _ in range(20)]
        readiness = [asyncio.Event() for _ in range(len(channels) * 3)]
        tasks = [
            asyncio.create_task(subscriber_task(broadcaster, channels[n % len(channels)], ready))
            for n, ready in enumerate(readiness)
        ]
        await asyncio.wait_for(
            asyncio.gather(*(ready.wait() for ready in readiness)), DELIVERY_TIMEOUT
        )
        assert broadcaster._channel_locks == {}, "nobody holds or waits for a lock now"
        # when some leave by receiving, and the rest are cancelled mid-way
        for channel in channels[:10]:
            await broadcaster.publish(channel, "bye")
        for task in tasks:
            if not task.done():
                await asyncio.sleep(0)
                task.cancel()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), DELIVERY_TIMEOUT)
        # then neither a subscription nor a lock is left
        assert broadcaster._mailboxes == {}
        assert broadcaster._channel_locks == {}
        # and the channels still work
        async with broadcaster.subscribe(channels[0]) as subscriber:
            await broadcaster.publish(channels[0], "again")
            assert (await next_event(subscriber)).message == "again"
        assert broadcaster._channel_locks == {}


@bounded
async def test_subscribers_cancelled_mid_subscribe_leave_no_lock_behind(backend: str) -> None:
    async with Broadcaster(broadcast_url(backend)) as broadcaster:
        channel = new_channel()
        tasks = [
            asyncio.create_task(subscriber_task(broadcaster, channel, asyncio.Event()))
            for _ in range(50)
        ]
        await asyncio.sleep(0)
        for number, task in enumerate(tasks):
            task.cancel()
            if number % 2:
                await asyncio.sleep(0)
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), DELIVERY_TIMEOUT)
        assert broadcaster._mailboxes == {}
        assert broadcaster._channel_locks == {}


@pytest.mark.redis
@bounded
async def test_while_redis_is_down_a_publish_fails_at_once_and_the_return_is_noticed_soon(
    redis: RedisServer,
) -> None:
    # A publish follows a committed change; its mutation must not wait on a dead Redis (the
    # streams replay from the database), and reconnecting is bounded by our backoff alone.
    channel = new_channel()
    async with Broadcaster(redis.url) as broadcaster, broadcaster.subscribe(channel) as sub:
        await outage(broadcaster, redis)
        await asyncio.sleep(redis_backend.BACKOFF_MAX_SECONDS)  # the backoff at its longest
        started = asyncio.get_running_loop().time()
        with pytest.raises(Exception):  # noqa: B017 - whichever connection error redis-py raises
            await broadcaster.publish(channel, "lost")
        assert asyncio.get_running_loop().time() - started < 0.5
        await redis.start()
        returned = asyncio.get_running_loop().time()
        assert (await next_event(sub)).message == RESYNC
        assert asyncio.get_running_loop().time() - returned < redis_backend.BACKOFF_MAX_SECONDS + 1


@pytest.mark.redis
@bounded
async def test_an_unexpected_error_while_reading_reconnects_instead_of_going_quiet(
    redis: RedisServer,
) -> None:
    channel = new_channel()
    async with Broadcaster(redis.url) as broadcaster, broadcaster.subscribe(channel) as sub:
        # given the pub/sub connection's next read fails in a way redis-py does not foresee
        connection = broadcaster._backend._connection  # type: ignore[attr-defined]
        read_response = connection.read_response

        async def fails_once(*args: object, **kwargs: object) -> object:
            connection.read_response = read_response
            raise RuntimeError("a frame redis-py could not parse")

        connection.read_response = fails_once
        await broadcaster.publish(channel, "before")
        assert (await next_event(sub)).message == "before"
        # then the listener reconnects: the subscriber is told to resync, and hears again
        assert (await next_event(sub)).message == RESYNC
        await broadcaster.publish(channel, "after")
        assert (await next_event(sub)).message == "after"
