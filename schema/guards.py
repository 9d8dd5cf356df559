"""The project's own checks around every operation, as one Strawberry extension.

Strawberry wraps every hook of every extension in a new context manager on each request (the
hook looked up, inspected and wrapped by functools, then entered and left): with nine
extensions that was a few percent of a mutation's server CPU. One extension with one hook per
stage does the same checks, in the order they ran as separate extensions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from schema.documents import Verdicts, keep_document, shared_document, validate
from schema.limits import limit_cost, mask_unexpected_errors, refuse_nul_characters
from schema.sockets import fresh_socket_operation, refuse_subscriptions_over_http


class Guards(SchemaExtension):
    def __init__(self, *, max_tokens: int, verdicts: Verdicts) -> None:
        self.max_tokens = max_tokens
        self.verdicts = verdicts

    def on_operation(self) -> Iterator[None]:
        # As Strawberry's MaxTokensLimiter: the parser stops at this many tokens.
        self.execution_context.parse_options["max_tokens"] = self.max_tokens
        yield
        mask_unexpected_errors(self.execution_context.result)

    def on_parse(self) -> Iterator[None]:
        key = shared_document(self.execution_context)
        yield
        if key is not None:
            keep_document(self.execution_context, key)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        limit_cost(context)
        refuse_nul_characters(context)
        refuse_subscriptions_over_http(context)
        validate(context, self.verdicts)
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        await fresh_socket_operation(self.execution_context)
        yield

    def on_stream_result(self, result: Any) -> Iterator[None]:
        # Over a websocket each result (every event of a subscription, a query's one) is sent
        # while the operation is still running, before on_operation resumes: mask it here, as
        # shared subscriptions (schema/fanout.py) mask the results they send.
        mask_unexpected_errors(result)
        yield
