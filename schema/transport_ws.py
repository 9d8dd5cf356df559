"""graphql-transport-ws as Strawberry speaks it, plus shared subscriptions (schema/fanout.py).

Everything is Strawberry's handler (connection_init, ping/pong, queries and mutations over the
socket, errors, complete) except that a subscription resolver may hand its subscriber over to
a group once its own replay is done: then the operation's task ends without `complete`, the
operation stays registered (its id taken, counted against the socket's limit), and the group
writes its `next` frames until the client completes it, the socket closes, or the group ends
it (and sends `complete` itself).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    Message,
    SubscribeMessage,
)

from resolvers.context import Context
from schema.fanout import FRAME_WRITER, Fanout, Starting, complete_message, starting, text_frame
from schema.socket_messages import TransportWSHandler

if TYPE_CHECKING:
    from schema.fanout import SocketMember


class FanoutOperation(Operation[Context, None]):
    __slots__ = ("handing_over", "member")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.member: SocketMember | None = None
        # Between the resolver handing its subscriber over and the group taking it.
        self.handing_over = False

    def hand_over(self, member: SocketMember) -> None:
        self.member = member
        self.handing_over = True

    async def send_operation_message(self, message: Message) -> None:
        if self.handing_over and message["type"] == "complete":
            return  # the stream is not over: the group carries it on
        await super().send_operation_message(message)

    def complete_now(self) -> None:
        """The group ended this subscription (its token revoked, or no longer valid)."""
        if self.completed:
            return
        self.completed = True
        handler: FanoutTransportWSHandler = self.handler  # type: ignore[assignment]
        handler.operations.pop(self.id, None)
        message = complete_message(self.id)
        if handler.frame_writer is not None:
            handler.frame_writer.write_frame(text_frame(message))
        else:
            handler.in_background(handler.send_text(message.decode()))


class FanoutTransportWSHandler(TransportWSHandler):
    operations: dict[str, FanoutOperation]  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fanout: Fanout | None = getattr(self.view, "fanout", None)
        self.fanout = fanout if fanout is not None and fanout.enabled else None
        scope = getattr(getattr(self.websocket, "ws", None), "scope", None) or {}
        self.frame_writer: Any = scope.get("extensions", {}).get(FRAME_WRITER)
        self._background: set[asyncio.Task[None]] | None = None

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        # Strawberry's, with FanoutOperation for Operation.
        if not self.connection_acknowledged:
            await self.websocket.close(code=4401, reason="Unauthorized")
            return
        if message["id"] in self.operations:
            reason = f"Subscriber for {message['id']} already exists"
            await self.websocket.close(code=4409, reason=reason)
            return
        if (
            self.max_subscriptions_per_connection is not None
            and len(self.operations) >= self.max_subscriptions_per_connection
        ):
            error = GraphQLError("Subscription limit reached")
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        operation = FanoutOperation(
            self,
            message["id"],
            message["payload"]["query"],
            message["payload"].get("variables"),
            message["payload"].get("operationName"),
        )
        operation.task = asyncio.create_task(self.run_operation(operation))
        operation.task.add_done_callback(self._task_done)
        self.operations[message["id"]] = operation

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        assert isinstance(operation, FanoutOperation)
        start = reset = None
        if self.fanout is not None:
            # This task's own context: only this operation's resolver sees it.
            start = Starting(self.fanout, self, operation)
            reset = starting.set(start)
        try:
            await super().run_operation(operation)
        finally:
            if start is not None and reset is not None:
                start.release()
                # The finished task keeps its context, and the operation keeps the task.
                starting.reset(reset)
        member = operation.member
        if member is None or not operation.handing_over:
            return
        operation.handing_over = False
        # What the group keeps is the member; the operation's text is not needed any more.
        operation.query = ""
        operation.variables = None
        stream = member.stream
        assert stream is not None
        await stream.go_live(member)
        if member.ended:
            operation.complete_now()

    async def cleanup_operation(self, operation_id: str) -> None:
        operation = self.operations.get(operation_id)
        if operation is not None and operation.member is not None:
            member = operation.member
            if member.stream is not None:
                member.stream.leave(member)
        await super().cleanup_operation(operation_id)

    async def send_text(self, text: str) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.ws.send_text(text)  # type: ignore[attr-defined]

    def in_background(self, coroutine: Any) -> None:
        if self._background is None:
            self._background = set()
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
