"""graphql-transport-ws messages are checked for shape before Strawberry reads them.

Strawberry trusts a message's `id` and `payload`: an id that is a list or an object, or a
`subscribe` payload that is not an object, crashes the connection's handler (the socket dies
without a close frame), and a `query` that is not a string crashes the operation's task, which
the client sees as a bare `complete`. The protocol closes the socket with 4400 on any message
"of a type or format which is not specified"; so does this, saying what was wrong.
"""

from __future__ import annotations

from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message

from resolvers.context import Context


def malformed(message: dict[str, Any]) -> str | None:
    """Why a subscribe or complete message is not one the protocol specifies, or None."""
    kind = message.get("type")
    if kind not in ("subscribe", "complete"):
        return None  # Strawberry checks the other kinds itself
    if not isinstance(message.get("id"), str):
        return f"The id of a {kind} message must be a string"
    if kind == "complete":
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "The payload of a subscribe message must be an object"
    if not isinstance(payload.get("query"), str):
        return "The query of a subscribe message must be a string"
    if not isinstance(payload.get("operationName"), (str, type(None))):
        return "The operationName of a subscribe message must be a string or null"
    for key in ("variables", "extensions"):
        if not isinstance(payload.get(key), (dict, type(None))):
            return f"The {key} of a subscribe message must be an object or null"
    return None


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_message(self, message: Message) -> None:
        # WebSocketAdapter.iter_json yields only JSON objects.
        reason = malformed(message)  # type: ignore[arg-type]
        if reason is not None:
            await self.handle_invalid_message(reason)
            return
        await super().handle_message(message)
