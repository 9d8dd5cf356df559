"""The GraphQL schema: shape only. `build_schema()` composes it with its guards."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule

from schema.extension_hooks import ExtensionsRunner
from settings import get_settings

if TYPE_CHECKING:
    from observability.metrics import Metrics
    from observability.tracing import Tracing


class MarketplaceSchema(strawberry.Schema):
    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        # Expected errors are the client's business; unexpected ones are logged by the guards
        # (schema/guards.py) with the request id, so Strawberry's own logging would repeat them.
        return None

    def create_extensions_runner(self, execution_context: Any, extensions: list[Any]) -> Any:
        return ExtensionsRunner(execution_context=execution_context, extensions=extensions)


def build_schema(
    *,
    tracing: Tracing | None = None,
    metrics: Metrics | None = None,
    batch_execution: bool | None = None,
    sql_reads: bool | None = None,
) -> strawberry.Schema:
    from schema.documents import Verdicts
    from schema.execution import batch_executor_class
    from schema.guards import Guards
    from schema.mutation import Mutation
    from schema.query import Query
    from schema.subscription import Subscription
    from schema.types import ALL_TYPES

    settings = get_settings()
    if batch_execution is None:
        batch_execution = settings.batch_execution
    if sql_reads is None:
        sql_reads = settings.sql_reads
    # Strawberry's QueryDepthLimiter and MaxAliasesLimiter make a new rule class per request;
    # made once here, validation with them can be remembered per document.
    verdicts = Verdicts(
        (
            max_depth_rule(settings.max_query_depth, None, None),
            max_aliases_rule(settings.max_aliases),
        )
    )
    return MarketplaceSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=ALL_TYPES,
        execution_context_class=batch_executor_class(sql_reads=sql_reads)
        if batch_execution
        else None,
        extensions=[
            # First, so that its span encloses the other extensions' work (entered in order).
            *([] if tracing is None else [tracing.operation_extension()]),
            # Before the others, so that it ends after them and sees the result as sent
            # (masked errors included) and the time they took.
            *([] if metrics is None else [metrics.operation_extension()]),
            lambda: Guards(max_tokens=settings.max_tokens, verdicts=verdicts),
        ],
    )
