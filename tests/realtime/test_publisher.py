"""realtime.publisher: PUBLISH on a connection of its own, replies matched in order."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from redis import asyncio as aioredis
from redis.exceptions import ResponseError

from realtime.publisher import RedisPublisher, pack
from realtime.redis_backend import lean_publisher
from tests.realtime.test_broadcast import bounded
from tests.services import require_redis


@contextlib.contextmanager
def publisher_for(url: str) -> Iterator[RedisPublisher]:
    publisher = lean_publisher(aioredis.Redis.from_url(url))
    assert publisher is not None
    try:
        yield publisher
    finally:
        publisher.close()


@contextlib.asynccontextmanager
async def listening(url: str, channel: str) -> AsyncIterator[object]:
    """A subscriber of `channel` on a connection of its own, closed afterwards."""
    client = aioredis.Redis.from_url(url)
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(channel)
        await pubsub.get_message(timeout=1)  # the subscribe's acknowledgement
        yield pubsub
    finally:
        await pubsub.aclose()  # type: ignore[attr-defined]
        await client.aclose()


async def received(pubsub: object, count: int) -> list[bytes]:
    got: list[bytes] = []
    async with asyncio.timeout(5):
        while len(got) < count:
            message = await pubsub.get_message(timeout=1)  # type: ignore[attr-defined]
            if message is not None and message["type"] == "message":
                got.append(message["data"])
    return got


def test_commands_are_packed_in_resp() -> None:
    assert pack("PUBLISH", "chan", "héllo") == (
        b"*3\r\n$7\r\nPUBLISH\r\n$4\r\nchan\r\n$6\r\nh\xc3\xa9llo\r\n"
    )


@pytest.mark.redis
@bounded
async def test_concurrent_publishes_each_get_their_own_count_and_arrive_in_order() -> None:
    url = require_redis()
    channel = f"test-publisher-{uuid.uuid4().hex}"
    async with listening(url, channel) as pubsub:
        with publisher_for(url) as publisher:
            counts = await asyncio.gather(
                *(publisher.publish(channel, f"m{index}") for index in range(50)),
                publisher.publish(f"{channel}-nobody", "unheard"),
            )
            assert counts == [1] * 50 + [0]
            assert await received(pubsub, 50) == [f"m{index}".encode() for index in range(50)]


@pytest.mark.redis
@bounded
async def test_a_lost_connection_is_made_again_by_the_next_publish() -> None:
    url = require_redis()
    channel = f"test-publisher-{uuid.uuid4().hex}"
    async with listening(url, channel) as pubsub:
        with publisher_for(url) as publisher:
            assert await publisher.publish(channel, "before") == 1
            replies = publisher._replies
            assert replies is not None and replies.transport is not None
            replies.transport.abort()
            await asyncio.sleep(0.05)
            assert await publisher.publish(channel, "after") == 1
            assert await received(pubsub, 2) == [b"before", b"after"]


@pytest.mark.redis
@bounded
async def test_an_error_reply_is_raised_and_the_connection_goes_on() -> None:
    url = require_redis()
    with publisher_for(url) as publisher:
        replies = await publisher._connect()
        with pytest.raises(ResponseError):
            await replies.send(pack("PUBLISH", "only-a-channel"))
        assert await publisher.publish(f"test-publisher-{uuid.uuid4().hex}", "x") == 0
        assert publisher._replies is replies


@pytest.mark.redis
@bounded
async def test_a_redis_that_does_not_answer_is_a_timeout_not_a_hang() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)
        await asyncio.sleep(10)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    publisher = RedisPublisher("127.0.0.1", port, timeout=0.2)
    try:
        with pytest.raises(Exception, match="Timeout"):
            await publisher.publish("channel", "x")
        assert publisher._replies is not None and publisher._replies.lost
    finally:
        publisher.close()
        server.close()
