"""A websocket client for the app in-process: the ASGI websocket messages a server would pass,
as httpx.ASGITransport does for HTTP, so a test can reach the app's own objects (monkeypatch)."""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import Any, Self

import orjson

PROTOCOL = "graphql-transport-ws"


class Closed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"closed with {code}")
        self.code = code


class ASGIWebSocket:
    def __init__(self, app: Any, path: str = "/graphql", subprotocol: str = PROTOCOL) -> None:
        self.app = app
        self.scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": "ws",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"testserver"),
                (b"sec-websocket-protocol", subprotocol.encode()),
            ],
            "client": ("203.0.113.7", 51000),
            "server": ("testserver", 80),
            "subprotocols": [subprotocol],
            "state": {},
        }
        self.to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self.task = asyncio.create_task(self.app(self.scope, self.to_app.get, self.from_app.put))
        await self.to_app.put({"type": "websocket.connect"})
        message = await self._next()
        if message["type"] != "websocket.accept":
            raise Closed(message.get("code", 1000))
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self.task is not None
        if not self.task.done():
            await self.to_app.put({"type": "websocket.disconnect", "code": 1000})
        async with asyncio.timeout(5):
            await self.task

    async def _next(self, timeout: float = 5) -> dict[str, Any]:
        """The app's next message; the app's own exception if it crashed instead."""
        assert self.task is not None
        getter = asyncio.ensure_future(self.from_app.get())
        done, _ = await asyncio.wait(
            {getter, self.task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if getter in done:
            return getter.result()
        getter.cancel()
        if self.task in done:
            self.task.result()
            return {"type": "websocket.close", "code": 1006}
        raise TimeoutError(f"no message from the app within {timeout} s")

    async def send_json(self, message: dict[str, Any]) -> None:
        # The standard encoder: a client may send integers orjson would refuse to write.
        await self.to_app.put({"type": "websocket.receive", "text": json.dumps(message)})

    async def receive_json(self, timeout: float = 5) -> dict[str, Any]:
        """The next message; Closed when the app closed the socket instead."""
        message = await self._next(timeout)
        if message["type"] == "websocket.close":
            raise Closed(message.get("code", 1000))
        assert message.get("text") is not None, "graphql-transport-ws messages are text frames"
        decoded: dict[str, Any] = orjson.loads(message["text"])
        return decoded

    async def initialise(self, payload: dict[str, Any] | None = None) -> None:
        await self.send_json({"type": "connection_init", "payload": payload or {}})
        assert (await self.receive_json())["type"] == "connection_ack"
