"""Shared execution of subscriptions: one GraphQL execution of each event, and one encoded
`next` frame, for every subscriber that would get the same result.

A subscription started over our graphql-transport-ws handler (schema/transport_ws.py) runs its
resolver as usual: the resolver checks the viewer and describes its stream as a StreamPlan, and
schema/streams.py `serve()` puts the subscriber in a group. The group key holds everything that decides the
result and nothing looser:
- the field and what its stream is about (`plan.scope`: an interview, a contract, or nothing),
- the document's text and the operation name,
- the variables, less those used only as the field's `after` (it decides where a subscriber's
  own replay starts, never what an event renders to),
- the viewer: their user id and staff flag. In an interview or a contract each role is held by
  one user, so this is the viewer's role there and never looser; for the viewer's own streams
  (notifications, all of their contracts) it is what makes them theirs.
Each group is one realtime.fanout.SharedStream: the subscriber replays its own rows through
Strawberry as before (executed for it alone), then goes live, and from then on the group
executes each event once, with a context of its own (the first member's viewer, fresh loaders
per event), encodes the payload once, and writes it to every member with only the
subscription id spliced in. A member's token is its own: a revocation or a failed check after
a reconnect ends exactly the members holding that token.
"""

from __future__ import annotations

import inspect
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    execute_subscription_event,
    visit,
)
from websockets.frames import Frame, Opcode

from auth.crypto.tokens import token_digest
from realtime.fanout import Member, SharedStream
from realtime.stream import Envelope
from resolvers.context import Context
from resolvers.loaders import Loaders
from resolvers.streams import StreamPlan
from schema.limits import is_unexpected, masked

if TYPE_CHECKING:
    from strawberry.schema import Schema
    from strawberry.types import Info

    from schema.transport_ws import FanoutOperation, FanoutTransportWSHandler

logger = logging.getLogger("marketplace.fanout")

# Where our websocket protocol (schema/wsprotocol.py) offers itself to the application, so that
# pre-encoded frames are written to the socket without the per-message ASGI path.
FRAME_WRITER = "marketplace.frame_writer"
MAX_REMEMBERED_DOCUMENTS = 256


@dataclass(slots=True)
class Starting:
    """The operation whose subscription resolver is running (set per operation task)."""

    fanout: Fanout
    handler: FanoutTransportWSHandler
    operation: FanoutOperation
    # The helpers graphql-core's executor gave the resolver (see `release`).
    helpers: Any = None
    # Called with the member when the subscription is handed to its group: whoever must know
    # when it really ends (metrics) then listens to the member instead of the operation.
    on_hand_over: list[Callable[[SocketMember], None]] = field(default_factory=list)

    def release(self) -> None:
        """graphql-core's executor refers to itself through the helpers it hands resolvers, a
        reference cycle only a garbage collection frees. A subscription's executor used to live
        as long as the subscription; handed over, it is done at once, and its cycle would wait
        in the oldest generation for a full collection. Called once the operation's task has
        finished with it."""
        owner = getattr(getattr(self.helpers, "gather", None), "__self__", None)
        if owner is not None:
            owner.async_helpers = None
        self.helpers = None


starting: ContextVar[Starting | None] = ContextVar("fanout_starting", default=None)


def text_frame(message: bytes) -> bytes:
    """A whole websocket text frame, as a server sends it (unmasked, no extension)."""
    return Frame(Opcode.TEXT, message).serialize(mask=False, extensions=[])


def next_message(operation_id: str, payload: bytes) -> bytes:
    return b'{"id":' + orjson.dumps(operation_id) + b',"type":"next","payload":' + payload + b"}"


def complete_message(operation_id: str) -> bytes:
    return b'{"id":' + orjson.dumps(operation_id) + b',"type":"complete"}'


class Rendered:
    """One event's `next` payload, encoded once; the frames per subscription id, made once."""

    __slots__ = ("_frames", "payload")

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self._frames: dict[str, bytes] = {}

    def frame(self, operation_id: str) -> bytes:
        frame = self._frames.get(operation_id)
        if frame is None:
            frame = self._frames[operation_id] = text_frame(
                next_message(operation_id, self.payload)
            )
        return frame

    def text(self, operation_id: str) -> str:
        return next_message(operation_id, self.payload).decode()


class SocketMember(Member[Rendered]):
    """A subscription on one socket: its frames are written straight to the connection when
    the server offers a frame writer, else sent as ASGI messages."""

    __slots__ = ("delivered", "handler", "id", "operation", "writer")

    def __init__(
        self,
        handler: FanoutTransportWSHandler,
        operation: FanoutOperation,
        token: str | None,
        digest: str | None,
    ) -> None:
        super().__init__(credential=token, revocation=digest)
        self.handler = handler
        self.operation = operation
        self.id = operation.id
        self.writer: Any = handler.frame_writer
        # A counter of deliveries (metrics), when somebody counts them.
        self.delivered: Any = None

    def deliver(self, rendered: Rendered) -> Awaitable[None] | None:
        if self.delivered is not None:
            self.delivered.inc()
        writer = self.writer
        if writer is not None:
            writer.write_frame(rendered.frame(self.id))
            return None
        return self.handler.send_text(rendered.text(self.id))

    def end(self) -> None:
        self.ended = True
        if self.pending is None:
            # Live: nobody else will say so. While it replays, Strawberry completes it.
            self.operation.complete_now()


class _VariableUses(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.uses: dict[str, int] = {}

    def enter_variable_definition(self, node: VariableDefinitionNode, *_: Any) -> Any:
        return self.SKIP  # declares the variable; not a use

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.uses[node.name.value] = self.uses.get(node.name.value, 0) + 1


class Fanout:
    """The groups of one server process, by key."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._streams: dict[Hashable, SharedStream[Rendered]] = {}
        # Query text -> the variables it uses only as the root field's `after`.
        self._after_only: OrderedDict[tuple[str, str], frozenset[str]] = OrderedDict()
        # Resolver middleware would run per member; with any, subscriptions are not shared.
        self.enabled = not any(
            type(extension)._implements_resolve() for extension in schema.get_extensions()
        )

    def __len__(self) -> int:
        return len(self._streams)

    async def serve(
        self,
        info: Info[Context, None],
        plan: StreamPlan,
        to_root: Callable[[Envelope], Any],
        start: Starting,
    ) -> AsyncIterator[Any]:
        """The member's own replay (yielded for Strawberry to execute and send), then its
        hand-over to the group: the resolver returns, and the group delivers from then on.
        The plan's `on_leave` is called once the member has left, however it ends."""
        start.helpers = info._raw_info.async_helpers
        key = self._key(info, plan, start)
        stream = self._streams.get(key)
        if stream is None or not stream.live:
            stream = self._open(key, info, plan, to_root, start)
        token = info.context.token
        member = SocketMember(
            start.handler, start.operation, token, token_digest(token) if token else None
        )
        member.on_leave = plan.on_leave
        stream.join(member)
        try:
            if plan.latest is not None:
                async for envelope in stream.replay(member, after=plan.after, latest=plan.latest):
                    info.context.loaders = Loaders()
                    yield to_root(envelope)
            else:
                await stream.subscribed()
        except BaseException:
            stream.leave(member)
            raise
        if member.ended:
            stream.leave(member)
        else:
            for hook in start.on_hand_over:
                hook(member)
            start.operation.hand_over(member)

    def _open(
        self,
        key: Hashable,
        info: Info[Context, None],
        plan: StreamPlan,
        to_root: Callable[[Envelope], Any],
        start: Starting,
    ) -> SharedStream[Rendered]:
        def forget() -> None:
            if self._streams.get(key) is stream:
                del self._streams[key]

        stream = SharedStream(
            info.context.broadcast,
            plan.source,
            self._renderer(info, to_root, start),
            on_idle=forget,
        )
        self._streams[key] = stream
        return stream

    def _key(self, info: Info[Context, None], plan: StreamPlan, start: Starting) -> Hashable:
        operation = start.operation
        user = info.context.user
        assert user is not None, "subscriptions check the viewer first"
        variables = operation.variables or {}
        skipped = self._after_only_variables(info, operation.query)
        if skipped:
            variables = {name: value for name, value in variables.items() if name not in skipped}
        return (
            info.field_name,
            plan.scope,
            operation.query,
            operation.operation_name,
            orjson.dumps(variables, option=orjson.OPT_SORT_KEYS),
            user.id,
            user.is_staff,
        )

    def _after_only_variables(self, info: Info[Context, None], query: str) -> frozenset[str]:
        remembered = self._after_only.get((query, info.field_name))
        if remembered is not None:
            return remembered
        raw = info._raw_info
        candidates = {
            argument.value.name.value
            for node in raw.field_nodes
            for argument in node.arguments or ()
            if argument.name.value == "after" and isinstance(argument.value, VariableNode)
        }
        found: frozenset[str] = frozenset()
        if candidates:
            uses = _VariableUses()
            visit(raw.operation, uses)
            for fragment in raw.fragments.values():
                visit(fragment, uses)
            found = frozenset(name for name in candidates if uses.uses.get(name) == 1)
        self._after_only[(query, info.field_name)] = found
        if len(self._after_only) > MAX_REMEMBERED_DOCUMENTS:
            self._after_only.popitem(last=False)
        return found

    def _renderer(
        self, info: Info[Context, None], to_root: Callable[[Envelope], Any], start: Starting
    ) -> Callable[[Envelope], Awaitable[Rendered | None]]:
        """Executes the group's document once per event, as the first member's viewer, with
        new loaders per event; None for an event whose result says nothing (never here)."""
        raw = info._raw_info
        document = DocumentNode(definitions=(raw.operation, *raw.fragments.values()))
        # The group's own context: the viewer, but not the first member's token (tokens are
        # per member) nor its connection's cached rows.
        context = replace(info.context, token=None, connection_params=None, loaders=Loaders())
        schema = self.schema
        executor = schema.execution_context_class.build(
            schema._schema,
            document,
            None,
            context,
            start.operation.variables,
            start.operation.operation_name,
            operation_extensions=None,
        )
        if isinstance(executor, list):
            # Not reachable: the same document and variables started this very subscription.
            raise TypeError(f"the subscription could not be shared: {executor}")

        async def render(envelope: Envelope) -> Rendered:
            context.loaders = Loaders()
            result: Any = execute_subscription_event(
                executor.build_per_event_executor(to_root(envelope))
            )
            if inspect.isawaitable(result):
                result = await result
            return Rendered(orjson.dumps(_payload(result)))

        return render


def _payload(result: ExecutionResult) -> dict[str, Any]:
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        # Shared by every member: an unexpected error is logged once and shows only its id.
        payload["errors"] = [
            (masked(error) if is_unexpected(error) else error).formatted for error in result.errors
        ]
    return payload
