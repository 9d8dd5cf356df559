"""Query execution in batches (executor.py), with graphql-core's executor behind it."""

from __future__ import annotations

from schema.execution.executor import BatchExecutor, PlanCache, outcomes


def batch_executor_class() -> type[BatchExecutor]:
    """An executor class with a plan cache of its own, for one schema."""
    # Imported for its registrations: the batch forms of the field resolvers.
    import schema.execution.resolvers  # noqa: F401

    return type("MarketplaceExecutor", (BatchExecutor,), {"plans": PlanCache()})


__all__ = ["BatchExecutor", "batch_executor_class", "outcomes"]
