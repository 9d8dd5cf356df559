"""The server's websocket protocol: uvicorn's websockets-sansio implementation, with less held
per connection, which also offers itself to the application as a frame writer
(schema/fanout.py): a `next` frame encoded once is written to each socket as it is, without
an ASGI message per delivery.

Per connection uvicorn keeps an asyncio.Queue and an asyncio.Event (a deque each, 760 bytes
empty, plus the queue's own) and the handshake's request and response with their headers for
as long as the socket lives. With thousands of sockets per process those were a sixth of each
connection's memory; here the queue and the event hold a list and at most one waiter, and the
handshake is dropped once it is done.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from realtime.inbox import Inbox
from schema.fanout import FRAME_WRITER


class Flag:
    """asyncio.Event's set/clear/is_set/wait, for the few waiters a socket has (its sends)."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> None:
        if self._set:
            return
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)


class Messages(Inbox[Any]):
    """The received-message queue uvicorn reads from (one reader: the application)."""

    __slots__ = ()

    def empty(self) -> bool:
        return len(self) == 0


class FrameWritingProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Messages()  # type: ignore[assignment]
        self.writable = Flag()  # type: ignore[assignment]
        self.writable.set()

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # not set when the handshake was refused
        # A frame is written as it was encoded, so only where no extension (compression)
        # would have to transform it.
        if scope is not None and not self.conn.extensions:
            scope["extensions"][FRAME_WRITER] = self

    async def send(self, message: Any) -> None:
        await super().send(message)
        if self.handshake_complete and self.request is not None:
            # Only the handshake needed them.
            self.request = self.response = None  # type: ignore[assignment]

    def write_frame(self, frame: bytes) -> None:
        """Writes a whole, already encoded frame, unless the socket is closing."""
        if self.close_sent or self.disconnected or self.transport.is_closing():
            return
        self.transport.write(frame)
