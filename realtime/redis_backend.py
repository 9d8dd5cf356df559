"""A Redis pub/sub backend for broadcaster that survives what the stock one does not.

broadcaster 0.3.1's RedisBackend delivers nothing on redis-py 8 and never reconnects. This one
speaks pub/sub on one dedicated connection that only its listener task reads:
- `subscribe()` returns once Redis has acknowledged the SUBSCRIBE, so a message published after
  it returns is delivered;
- when the connection drops it reconnects with capped exponential backoff, re-subscribes every
  channel, and emits a RESYNC event on each channel as soon as Redis has acknowledged it (so the
  RESYNC comes before any message published on the channel afterwards): subscribers cannot know
  what was published while Redis was away, so they replay from their own cursors;
- one reconnect attempt (connect, handshake, every SUBSCRIBE acknowledged) has a deadline: a
  Redis that accepts the connection but never answers is dropped and tried again;
- a subscribe under way when the connection drops, or made while it is down, is not failed: it
  completes with the re-subscription. An unsubscribe then does not wait: the lost connection
  took the subscription with it. Only `disconnect()` fails a waiting subscribe, and promptly;
- a PING every few seconds notices a silently dead connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from broadcaster import Event
from broadcaster._backends.base import BroadcastBackend
from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from realtime.publisher import TIMEOUT_SECONDS, RedisPublisher

logger = logging.getLogger("marketplace.realtime")

RESYNC = "__resync__"
PING_EVERY_SECONDS = 5.0
DEAD_AFTER_SECONDS = 15.0
BACKOFF_FIRST_SECONDS = 0.05
BACKOFF_MAX_SECONDS = 2.0
# One reconnect attempt: connect, handshake, and every SUBSCRIBE acknowledged. A Redis that
# accepts but does not answer (shutting down, frozen) costs at most this, so a subscriber hears
# again within ATTEMPT_TIMEOUT_SECONDS + BACKOFF_MAX_SECONDS of Redis answering.
ATTEMPT_TIMEOUT_SECONDS = 2.0


def lean_publisher(client: aioredis.Redis) -> RedisPublisher | None:
    """A publisher of its own for plain TCP connections (TLS and unix sockets keep redis-py's)."""
    pool = client.connection_pool
    if pool.connection_class is not aioredis.Connection:
        return None
    options = pool.connection_kwargs
    return RedisPublisher(
        options.get("host", "localhost"),
        int(options.get("port", 6379)),
        username=options.get("username"),
        password=options.get("password"),
        timeout=options.get("socket_timeout") or TIMEOUT_SECONDS,
    )


class RedisPubSubBackend(BroadcastBackend):
    def __init__(self, url: str, *, on_reconnect: Callable[[], None] | None = None) -> None:
        """`on_reconnect` is called after each reconnection, once every channel is back."""
        self._url = url
        self._on_reconnect = on_reconnect
        self._publisher = aioredis.Redis.from_url(url, retry_on_timeout=True)
        self._lean_publisher = lean_publisher(self._publisher)
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._channels: set[str] = set()
        self._pending_acks: dict[tuple[str, str], list[asyncio.Future[None]]] = {}
        self._connection: Any = None
        self._connected = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self._last_heard = time.monotonic()
        self._closing = False

    async def connect(self) -> None:
        await self._open()
        self._connected.set()
        self._listener = asyncio.create_task(self._listen(), name="redis-pubsub-listener")
        self._keepalive = asyncio.create_task(self._ping(), name="redis-pubsub-keepalive")

    async def disconnect(self) -> None:
        self._closing = True
        self._connected.clear()
        for task in (self._listener, self._keepalive):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        # No listener reads acknowledgements any more: (un)subscribes waiting for one, or for a
        # reconnection, fail instead of hanging (a subscriber leaving during shutdown would
        # never finish).
        self._fail_pending(RedisConnectionError("pub/sub backend disconnected"))
        await self._drop_connection()
        if self._lean_publisher is not None:
            self._lean_publisher.close()
        await self._publisher.aclose()

    @property
    def is_connected(self) -> bool:
        return self._connected.is_set()

    async def _open(self) -> None:
        """A new pub/sub connection; `_connected` stays as it is (the caller sets it)."""
        # redis-py leaves make_connection() unannotated; it returns the pool's connection class.
        connection = self._publisher.connection_pool.make_connection()  # type: ignore[no-untyped-call]
        # Kept before connecting, so that a failed or timed-out attempt is dropped.
        self._connection = connection
        await connection.connect()
        self._last_heard = time.monotonic()

    async def _drop_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                # nowait: closing a socket to a Redis that does not answer must not wait on it.
                await self._connection.disconnect(nowait=True)

    async def _send_and_wait(self, command: str, channels: list[str]) -> None:
        """Send (UN)SUBSCRIBE and wait until the listener has read Redis's acknowledgements."""
        if self._closing:
            # Not on a new connection nobody listens to: the acknowledgement would never come.
            raise RedisConnectionError("pub/sub backend disconnected")
        loop = asyncio.get_running_loop()
        kind = command.lower()
        acks: list[tuple[str, asyncio.Future[None]]] = []
        for channel in channels:
            future: asyncio.Future[None] = loop.create_future()
            self._pending_acks.setdefault((kind, channel), []).append(future)
            acks.append((channel, future))
        futures = [future for _, future in acks]
        try:
            if not self._connected.is_set():
                # Reconnecting: wait for it, unless the re-subscription acknowledges these first
                # or disconnect() fails them.
                connected = asyncio.ensure_future(self._connected.wait())
                try:
                    waiters: set[asyncio.Future[Any]] = {connected, *futures}
                    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    connected.cancel()
            if self._closing:
                raise RedisConnectionError("pub/sub backend disconnected")
            if not all(future.done() for future in futures):
                try:
                    await self._connection.send_command(command, *channels)
                except (RedisError, OSError) as error:
                    # The connection is gone: the listener reconnects, and the re-subscription
                    # (or, for UNSUBSCRIBE, the loss itself) settles these.
                    logger.debug("%s on a lost connection: %s", command, error)
            await asyncio.gather(*futures)
        finally:
            for channel, future in acks:
                waiting = self._pending_acks.get((kind, channel))
                if waiting and future in waiting:
                    waiting.remove(future)
                    if not waiting:
                        del self._pending_acks[(kind, channel)]
                if not future.done():
                    future.cancel()
                elif not future.cancelled():
                    future.exception()  # retrieved: no "exception was never retrieved" noise

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        try:
            await self._send_and_wait("SUBSCRIBE", [channel])
        except BaseException:
            # Callers serialize (un)subscribes per channel, so nobody else wants it now: it must
            # not be re-subscribed at the next reconnection.
            self._channels.discard(channel)
            raise

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if not self._connected.is_set():
            # Nothing to wait for: the lost connection took the subscription with it, and the
            # reconnection renews only the channels still wanted (see _resubscribe).
            return
        with contextlib.suppress(RedisError, OSError):
            await self._send_and_wait("UNSUBSCRIBE", [channel])

    async def publish(self, channel: str, message: Any) -> None:
        if self._lean_publisher is not None:
            await self._lean_publisher.publish(channel, message)
        else:
            await self._publisher.publish(channel, message)

    async def next_published(self) -> Event:
        return await self._events.get()

    def _acknowledge(self, kind: str, channel: str) -> None:
        # Every waiter: Redis's state is what each of them asked for (the callers serialize
        # (un)subscribes per channel, so waiters of one kind and channel want the same thing).
        for future in self._pending_acks.pop((kind, channel), ()):
            if not future.done():
                future.set_result(None)

    def _settle_unsubscribes(self) -> None:
        """The connection is lost, and with it every subscription of that connection."""
        for key in [key for key in self._pending_acks if key[0] == "unsubscribe"]:
            for future in self._pending_acks.pop(key):
                if not future.done():
                    future.set_result(None)

    def _fail_pending(self, error: BaseException) -> None:
        pending, self._pending_acks = self._pending_acks, {}
        for futures in pending.values():
            for future in futures:
                if not future.done():
                    future.set_exception(error)

    async def _listen(self) -> None:
        while not self._closing:
            try:
                # push_request: under RESP3 (redis-py 8's default) pub/sub replies are push
                # frames, which read_response otherwise hands to a handler and skips.
                response = await self._connection.read_response(timeout=math.inf, push_request=True)
            except Exception as error:
                # Whatever the failure (a redis-py bug or a frame it cannot parse included), this
                # task must go on: nothing else would ever reconnect, and every subscription
                # would go quiet.
                if self._closing:
                    return
                if isinstance(error, RedisError | OSError):
                    logger.warning("Redis pub/sub connection lost: %s", error)
                else:
                    logger.exception("Redis pub/sub read failed unexpectedly; reconnecting")
                await self._reconnect()
                continue
            self._last_heard = time.monotonic()
            self._dispatch(response)

    @staticmethod
    def _kind(response: Any) -> str | None:
        if isinstance(response, list) and response:
            head = response[0]
            return head.decode() if isinstance(head, bytes) else str(head)
        return None

    def _dispatch(self, response: Any) -> None:
        kind = self._kind(response)
        if kind == "message":
            self._events.put_nowait(
                Event(channel=response[1].decode(), message=response[2].decode())
            )
        elif kind in ("subscribe", "unsubscribe"):
            self._acknowledge(kind, response[1].decode())

    async def _reconnect(self) -> None:
        self._connected.clear()
        self._settle_unsubscribes()
        await self._drop_connection()
        delay = BACKOFF_FIRST_SECONDS
        while not self._closing:
            try:
                async with asyncio.timeout(ATTEMPT_TIMEOUT_SECONDS):
                    await self._open()
                    channels = await self._resubscribe()
                logger.info("Redis pub/sub reconnected; %d channels resubscribed", channels)
                self._connected.set()
                self._announce_reconnection()
                return
            except Exception as error:  # any failure is retried, never fatal
                # One line per attempt, at most every BACKOFF_MAX_SECONDS: how an outage went.
                logger.info(
                    "Redis pub/sub reconnect failed: %r; next attempt in %.2f s",
                    error,
                    delay,
                    exc_info=not isinstance(error, RedisError | OSError | TimeoutError),
                )
                await self._drop_connection()
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX_SECONDS)

    def _announce_reconnection(self) -> None:
        if self._on_reconnect is None:
            return
        try:
            self._on_reconnect()
        except Exception:  # the listener must go on whatever the callback does
            logger.exception("on_reconnect callback failed")

    async def _resubscribe(self) -> int:
        """SUBSCRIBE every channel on the new connection, and RESYNC each once acknowledged."""
        channels = sorted(self._channels)
        if not channels:
            return 0
        await self._connection.send_command("SUBSCRIBE", *channels)
        remaining = set(channels)
        while remaining:
            response = await self._connection.read_response(timeout=math.inf, push_request=True)
            self._last_heard = time.monotonic()
            self._dispatch(response)
            if self._kind(response) == "subscribe":
                channel = response[1].decode()
                if channel in remaining:
                    remaining.discard(channel)
                    # Before anything published on the channel from now on.
                    self._events.put_nowait(Event(channel=channel, message=RESYNC))
        # Channels whose last subscriber left meanwhile (without waiting: we were not connected).
        if stale := set(channels) - self._channels:
            await self._connection.send_command("UNSUBSCRIBE", *sorted(stale))
        return len(channels)

    async def _ping(self) -> None:
        while not self._closing:
            await asyncio.sleep(PING_EVERY_SECONDS)
            if not self._connected.is_set():
                continue
            if time.monotonic() - self._last_heard > DEAD_AFTER_SECONDS:
                logger.warning("Redis pub/sub connection silent; dropping it")
                # Nothing may be sent on it now (redis-py would quietly reconnect it): the
                # listener's read fails, and it reconnects.
                self._connected.clear()
                await self._drop_connection()
                continue
            # Whatever fails here, the listener's next read fails too and reconnects; this task
            # must go on either way.
            with contextlib.suppress(Exception):
                await self._connection.send_command("PING")

    async def ping(self) -> bool:
        return bool(await self._publisher.ping())
