"""PUBLISH to Redis on one connection of its own, pipelined.

redis-py's `publish()` took a connection from its pool, ran its retry wrapper and wrote through
`asyncio.wait_for` (a task per write, since the socket has a timeout), then read the reply
under another timeout: about a tenth of a sendMessage mutation's server CPU. Here each
PUBLISH is written straight to the socket and its reply (`:N`, or `-ERR`) resolves the oldest
waiting future: Redis answers one connection's commands in order.

A lost connection fails what was waiting on it and is made again by the next publish, which
is tried once more on it (as redis-py's retry did): a message may then reach subscribers twice,
and they drop what they already had by its cursor. A publish that gets no reply within the
timeout drops the connection, since a late reply would be taken for the next command's.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

# redis-py's default socket timeout, for connecting and for each reply.
TIMEOUT_SECONDS = 5.0


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def pack(*parts: str | bytes) -> bytes:
    """A command in RESP, Redis's wire format."""
    encoded = [part.encode() if isinstance(part, str) else part for part in parts]
    return b"*%d\r\n" % len(encoded) + b"".join(_bulk(part) for part in encoded)


class _Replies(asyncio.Protocol):
    """Simple-string, error and integer replies (all PUBLISH and AUTH answer), in order."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.buffer = b""
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, command: bytes) -> asyncio.Future[Any]:
        assert self.transport is not None
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting.append(future)
        self.transport.write(command)
        return future

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        start = 0
        while True:
            end = buffer.find(b"\r\n", start)
            if end < 0:
                break
            line = buffer[start:end]
            start = end + 2
            kind, value = line[:1], line[1:]
            if kind == b":":
                reply: Any = int(value)
            elif kind == b"+":
                reply = value.decode()
            elif kind == b"-":
                reply = ResponseError(value.decode(errors="replace"))
            else:  # nothing sent here answers anything else: the stream is not what we think
                self.abort(RedisConnectionError(f"unexpected Redis reply {line[:40]!r}"))
                return
            if not self.waiting:
                self.abort(RedisConnectionError("a Redis reply nobody asked for"))
                return
            future = self.waiting.popleft()
            if not future.done():
                if isinstance(reply, Exception):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
        self.buffer = buffer[start:]

    def abort(self, error: Exception) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.abort()
        self._fail(error)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._fail(RedisConnectionError("Redis connection lost"))

    def _fail(self, error: Exception) -> None:
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)


class RedisPublisher:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.timeout = timeout
        self._replies: _Replies | None = None
        self._connecting: asyncio.Lock | None = None

    async def publish(self, channel: str, message: str | bytes) -> int:
        for attempt in range(2):
            replies = self._replies
            if replies is None or replies.lost:
                replies = await self._connect()
            future = replies.send(pack("PUBLISH", channel, message))
            try:
                async with asyncio.timeout(self.timeout):
                    return int(await future)
            except TimeoutError:
                replies.abort(RedisTimeoutError("no reply from Redis"))
                raise RedisTimeoutError("Timeout reading from Redis") from None
            except RedisConnectionError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _connect(self) -> _Replies:
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            # Another publish may have connected while this one waited.
            if self._replies is not None and not self._replies.lost:
                return self._replies
            loop = asyncio.get_running_loop()
            replies: _Replies | None = None
            try:
                async with asyncio.timeout(self.timeout):
                    _, replies = await loop.create_connection(_Replies, self.host, self.port)
                    if self.password is not None:
                        credentials = (
                            (self.username, self.password) if self.username else (self.password,)
                        )
                        await replies.send(pack("AUTH", *credentials))
            except BaseException as error:
                if replies is not None:
                    replies.abort(RedisConnectionError("not connected"))
                if isinstance(error, TimeoutError):
                    raise RedisTimeoutError("Timeout connecting to Redis") from None
                if isinstance(error, OSError):
                    raise RedisConnectionError(f"Cannot connect to Redis: {error}") from error
                raise
            self._replies = replies
            return replies

    def close(self) -> None:
        if self._replies is not None and self._replies.transport is not None:
            self._replies.transport.close()
        self._replies = None
