"""Query execution in batches (executor.py), with graphql-core's executor behind it."""

from __future__ import annotations

from schema.execution.executor import BatchExecutor, PlanCache, outcomes


def batch_executor_class(*, sql_reads: bool = True) -> type[BatchExecutor]:
    """An executor class with a plan cache of its own, for one schema (`sql_reads`: see
    sql.py)."""
    # Imported for its registrations: the batch forms of the field resolvers.
    import schema.execution.resolvers  # noqa: F401

    attributes = {"plans": PlanCache(), "sql_reads": sql_reads}
    return type("MarketplaceExecutor", (BatchExecutor,), attributes)


__all__ = ["BatchExecutor", "batch_executor_class", "outcomes"]
