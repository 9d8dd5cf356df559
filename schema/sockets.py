"""Operations sent over a websocket share one context, built at connection_init; subscriptions
are served over websockets only."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from starlette.websockets import WebSocket
from strawberry.types.graphql import OperationType

from auth.backend import authenticate
from resolvers.loaders import Loaders


async def fresh_socket_operation(execution_context: Any) -> None:
    """Each query or mutation sent over a socket gets new DataLoaders and its token checked again.

    Strawberry builds a websocket's context once, so without this a second query on the socket
    would read the first one's cached rows, and a token revoked by logOut would go on acting
    for its user until the socket closed. Subscriptions do the same per event and on subscribe.
    """
    context = execution_context.context
    if (
        isinstance(getattr(context, "request", None), WebSocket)
        and execution_context.operation_type is not OperationType.SUBSCRIPTION
    ):
        context.loaders = Loaders()
        if context.user is not None and (
            context.token is None or await authenticate(context.token) is None
        ):
            context.user = None


def refuse_subscriptions_over_http(context: Any) -> None:
    """A subscription sent over HTTP is a request error.

    The view speaks no HTTP streaming protocol, and Strawberry then runs the subscription like
    a query: its field resolves to a stream, which fails as a non-null field, a crash.
    """
    if (
        context.pre_execution_errors is None
        and context.operation_type is OperationType.SUBSCRIPTION
        and not isinstance(getattr(context.context, "request", None), WebSocket)
    ):
        context.pre_execution_errors = [
            GraphQLError(
                "Subscriptions are served over a websocket at /graphql "
                "(graphql-transport-ws), not over HTTP.",
                extensions={"code": "BAD_REQUEST"},
            )
        ]
