"""ASGI middleware: a request id for every request and socket, and a cap on request bodies."""

from __future__ import annotations

import os

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schema.requestlog import request_id_var


def _header(scope: Scope, name: bytes) -> bytes | None:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for key, value in headers:
        if key == name:
            return value
    return None


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = (
            given.decode()
            if given
            and 0 < len(given) <= 64
            and given.isascii()
            and given.replace(b"-", b"").isalnum()
            else os.urandom(16).hex()
        )
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


class BodyTooLarge(Exception):
    pass


def _is_multipart(scope: Scope) -> bool:
    content_type = _header(scope, b"content-type") or b""
    return content_type.split(b";", 1)[0].strip().lower() == b"multipart/form-data"


class BodySizeLimitMiddleware:
    """413 for bodies over the limit, whether announced by Content-Length or streamed: counted
    as the bytes arrive, so an endless body is cut off at the limit, never read to its end.
    Multipart bodies (file uploads) have their own, larger limit."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, multipart_max_bytes: int | None = None
    ) -> None:
        self.app = app
        self.json_max_bytes = max_bytes
        self.multipart_max_bytes = multipart_max_bytes or max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.multipart_max_bytes if _is_multipart(scope) else self.json_max_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            await self._refuse(max_bytes, scope, receive, send)
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not response_started:
                await self._refuse(max_bytes, scope, receive, send)

    async def _refuse(self, max_bytes: int, scope: Scope, receive: Receive, send: Send) -> None:
        # Connection: close, so the server stops reading the rest of the body.
        response = PlainTextResponse(
            f"Request body is limited to {max_bytes} bytes",
            status_code=413,
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
