"""A breadth-first executor for queries, with graphql-core's executor behind it.

graphql-core resolves a query depth first, one field of one object at a time: a resolve-info
object, Strawberry's argument conversion and wrapper, an awaitable and a completion call per
field and per object. On a page of 20 contracts with their freelancer, milestones and events
that was most of the request's CPU. This executor resolves each field once per level, for all
the objects of that level (plain attributes by getattr, resolver fields through batch
resolvers, see batch.py), completes the values of a whole column at once, and builds the plain
dicts graphql-core would build, keys in the same order.

It answers only what it can answer exactly as graphql-core would: query operations whose every
selected field it supports (plan.py), without a null in a non-null position, and without any
error. Anything else, and any exception while it runs, and the operation is run again by
graphql-core from the start (queries are read-only; the request's DataLoaders keep what was
loaded), which reports errors with their paths as usual. Strawberry's extensions (limits,
cost, masking, metrics, tracing) run around either.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import Counter, OrderedDict
from collections.abc import Awaitable
from inspect import isawaitable
from typing import Any, cast

from graphql import (
    DocumentNode,
    ExecutionResult,
    VariableNode,
    Visitor,
    visit,
)
from graphql.execution.values import get_argument_values
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.arguments import convert_arguments

from schema.documents import is_shared, remembered
from schema.execution.plan import (
    Compiler,
    Completion,
    FieldPlan,
    Leaf,
    ListOf,
    NonNull,
    ObjectPlan,
    Unsupported,
)
from schema.execution.sql import PageSelection, Subtree, compile_page, compile_subtree
from schema.execution.sql import Unsupported as NotInSql
from schema.execution.sql_types import TYPES

logger = logging.getLogger("marketplace.execution")

# How many operations each path answered, and why the batch executor left one to graphql-core
# ("unsupported: ..." at compile time, "failed: ExceptionType" while running). Tests read it.
outcomes: Counter[str] = Counter()

MAX_CACHED_PLANS = 256


class Fallback(Exception):
    """Something graphql-core answers differently (an error, a null where none may be)."""


class _DirectiveVariables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_directive(self, node: Any, *_: Any) -> None:
        if node.name.value in ("include", "skip"):
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    self.names.add(argument.value.name.value)


def directive_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables @include and @skip read: the only ones a plan depends on."""

    def find() -> tuple[str, ...]:
        finder = _DirectiveVariables()
        visit(document, finder)
        return tuple(sorted(finder.names))

    return remembered(document, "directive-variables", find)


class PlanCache:
    """Compiled plans of the shared documents (schema/documents.py), per schema."""

    def __init__(self) -> None:
        self._plans: OrderedDict[
            tuple[int, str | None, tuple[Any, ...]],
            tuple[DocumentNode, ObjectPlan | str],
        ] = OrderedDict()

    def get(self, executor: Any, document: DocumentNode) -> ObjectPlan | str:
        """The plan, or why there is none."""
        coerced = executor.variable_values.coerced
        flags = tuple(
            bool(value) if isinstance(value, bool) else value
            for value in (coerced.get(name) for name in directive_variables(document))
        )
        operation = executor.operation
        key = (id(document), operation.name.value if operation.name else None, flags)
        known = self._plans.get(key)
        if known is not None and known[0] is document:
            self._plans.move_to_end(key)
            return known[1]
        try:
            plan: ObjectPlan | str = Compiler(executor).operation()
        except Unsupported as unsupported:
            plan = str(unsupported)
        if is_shared(document):  # holding the document keeps its id from being reused
            self._plans[key] = (document, plan)
            if len(self._plans) > MAX_CACHED_PLANS:
                self._plans.popitem(last=False)
        return plan


class BatchExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor (as Strawberry configures it), answering queries in batches."""

    plans: PlanCache | None = None  # set per schema by build_schema
    # Pages and levels whose whole selection PostgreSQL can write are one statement (sql.py).
    sql_reads = True
    document: DocumentNode | None = None

    @classmethod
    def build(cls, schema: Any, document: DocumentNode, *args: Any, **kwargs: Any) -> Any:
        built = super().build(schema, document, *args, **kwargs)
        if isinstance(built, BatchExecutor):
            built.document = document  # graphql-core keeps only the operation
        return built

    def execute_operation(self, serially: bool | None = None) -> Any:
        plan = self._plan() if serially is None else "serial execution asked"
        if isinstance(plan, str):
            outcomes[f"unsupported: {plan}"] += 1
            return super().execute_operation(serially)
        return self._execute_batched(plan)

    def _plan(self) -> ObjectPlan | str:
        plans = self.plans
        if plans is None:
            return "batch execution is off"
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return "an extension resolves fields"
        if self.abort_signal is not None or self.hooks is not None:
            return "abort signal or hooks"
        document = self.document
        if document is None:
            return "no document"
        return plans.get(self, document)

    async def _execute_batched(self, plan: ObjectPlan) -> ExecutionResult:
        try:
            data = await _Run(self).objects(plan, [self.root_value])
        except Exception as error:
            reason = "non-null or type" if isinstance(error, Fallback) else type(error).__name__
            outcomes[f"failed: {reason}"] += 1
            logger.debug("batch execution fell back", exc_info=True)
            result = super().execute_operation()
            if self.is_awaitable(result):
                result = await result
            return cast(ExecutionResult, result)
        outcomes["batched"] += 1
        return cast(ExecutionResult, self.build_response(data[0]))


class _Run:
    """One execution: the executor's context and variables, and the completion of columns."""

    __slots__ = ("context", "converter", "executor", "sql_reads")

    def __init__(self, executor: BatchExecutor) -> None:
        self.executor = executor
        self.context = executor.context_value
        self.sql_reads = executor.sql_reads
        strawberry_schema = executor.schema._strawberry_schema  # type: ignore[attr-defined]
        self.converter = (
            strawberry_schema.schema_converter.scalar_registry,
            strawberry_schema.config,
        )

    def arguments(self, field: FieldPlan) -> dict[str, Any]:
        if not field.has_arguments:
            return {}
        if field.static_arguments is not None:
            return dict(field.static_arguments)
        executor = self.executor
        raw = (
            None
            if field.argument_values is None
            else field.argument_values(executor.variable_values)
        )
        if raw is None:
            raw = get_argument_values(
                field.field_def,
                field.details[0].node,
                executor.variable_values,
                None,
                executor.hide_suggestions,
            )
        if field.convert is not None:
            return field.convert(raw)
        assert field.strawberry_field is not None
        registry, config = self.converter
        return convert_arguments(
            raw, field.strawberry_field.arguments, scalar_registry=registry, config=config
        )

    async def objects(self, plan: ObjectPlan, parents: list[Any]) -> list[dict[str, Any]]:
        """The selection of `plan` on each parent, completed."""
        fields = plan.fields
        if not fields:
            return [{} for _ in parents]
        columns: list[Any] = []
        waiting: list[int] = []
        completed_already: set[int] = set()
        try:
            for index, field in enumerate(fields):
                if field.attribute is not None:
                    values: Any = list(map(field.attribute, parents))
                elif field.typename is not None:
                    values = [field.typename] * len(parents)
                else:
                    assert field.batch is not None
                    arguments = self.arguments(field)
                    page = self._sql_page(field) if len(parents) == 1 else None
                    if page is not None:
                        values = self._page(field, page, parents, arguments)
                        completed_already.add(index)
                    else:
                        values = field.batch(parents, arguments, self.context)
                    if isawaitable(values):
                        waiting.append(index)
                columns.append(values)
        except BaseException:
            # A field refused its arguments: graphql-core answers instead, and the columns
            # already started will never be awaited.
            for index in waiting:
                _abandon(columns[index])
            raise
        if waiting:
            await _settle(columns, waiting)
        for values in columns:
            if type(values) is not list or len(values) != len(parents):
                raise Fallback("a batch resolver answered another number of values")
        waiting = []
        for index, field in enumerate(fields):
            if index in completed_already:
                continue
            completed = self.complete(field.completion, columns[index])
            if not isinstance(completed, list):
                waiting.append(index)
            columns[index] = completed
        if waiting:
            await _settle(columns, waiting)
        keys = plan.keys
        # Every column has one value per parent (checked above).
        return [dict(zip(keys, row)) for row in zip(*columns)]

    def _sql_page(self, field: FieldPlan) -> PageSelection | None:
        if field.page_statement is None or not self.sql_reads:
            return None
        if field.sql_page is None:
            try:
                field.sql_page = compile_page(TYPES, field)
            except NotInSql as unsupported:
                logger.debug("page completed in Python: %s", unsupported)
                field.sql_page = False
        return field.sql_page or None

    async def _page(
        self, field: FieldPlan, page: PageSelection, parents: list[Any], arguments: dict[str, Any]
    ) -> list[Any]:
        """The connection field of the one parent, completed: by one statement when the
        resolver's page is a first page of a filter in SQL, else by the resolver as usual."""
        assert field.page_statement is not None and field.batch is not None
        query = await field.page_statement(arguments, self.context)
        answered = await _logged(page.answer(query)) if query is not None else None
        if answered is not None:
            outcomes["sql page"] += 1
            return [answered]
        values = field.batch(parents, arguments, self.context)
        if isawaitable(values):
            values = await values
        if type(values) is not list or len(values) != len(parents):
            raise Fallback("a batch resolver answered another number of values")
        completed = self.complete(field.completion, values)
        return completed if isinstance(completed, list) else await completed

    def complete(self, completion: Completion, values: list[Any]) -> list[Any] | Awaitable[Any]:
        kind = type(completion)
        if kind is NonNull:
            for value in values:
                if value is None:
                    raise Fallback("null in a non-null position")
            return self.complete(cast(NonNull, completion).of, values)
        if kind is Leaf:
            return _leaves(cast(Leaf, completion), values)
        if kind is ListOf:
            return self._lists(cast(ListOf, completion), values)
        return self._objects(cast(ObjectPlan, completion), values)

    def _lists(self, completion: ListOf, values: list[Any]) -> list[Any] | Awaitable[Any]:
        items: list[Any] = []
        sizes: list[int] = []
        for value in values:
            if value is None:
                sizes.append(-1)
            elif type(value) is list or type(value) is tuple:
                sizes.append(len(value))
                items.extend(value)
            else:
                raise Fallback("a list field answered something else")
        completed = self.complete(completion.of, items)
        if isinstance(completed, list):
            return _regroup(completed, sizes)
        return _regrouped(completed, sizes)

    def _objects(self, plan: ObjectPlan, values: list[Any]) -> list[Any] | Awaitable[Any]:
        present = [value for value in values if value is not None]
        if not present:
            return values
        is_type_of = plan.is_type_of
        for value in present:
            if isinstance(value, Exception) or (
                is_type_of is not None and is_type_of(value, None) is not True
            ):
                raise Fallback("not an object of the field's type")
        return self._objects_of(plan, values, present)

    async def _objects_of(
        self, plan: ObjectPlan, values: list[Any], present: list[Any]
    ) -> list[Any]:
        subtree = _subtree(plan) if self.sql_reads else None
        if subtree is not None:
            outcomes["sql subtree"] += 1
            completed = iter(await _logged(subtree.answer(present)))
        else:
            completed = iter(await self.objects(plan, present))
        return [None if value is None else next(completed) for value in values]


async def _logged(answer: Awaitable[Any]) -> Any:
    """A statement of sql.py: one that fails is a bug of ours (or the database is away), so it
    is logged where it can be seen, then graphql-core answers the operation as usual."""
    try:
        return await answer
    except Exception:
        logger.warning("a read written in SQL failed; answered in Python", exc_info=True)
        raise


def _subtree(plan: ObjectPlan) -> Subtree | None:
    if plan.subtree is None:
        sql_type = TYPES.get(plan.type.name)
        try:
            if sql_type is None:
                raise NotInSql(f"{plan.type.name} has no table")
            plan.subtree = compile_subtree(sql_type, plan)
        except NotInSql as unsupported:
            logger.debug("level completed in Python: %s", unsupported)
            plan.subtree = False
    return plan.subtree or None


def _leaves(leaf: Leaf, values: list[Any]) -> list[Any]:
    passes, names, coerce = leaf.passes, leaf.names, leaf.coerce
    completed: list[Any] = []
    for value in values:
        if value is None:
            completed.append(None)
            continue
        if passes is not None and passes(value):
            completed.append(value)
            continue
        if type(value) is leaf.enum:
            name = names.get(value) if names is not None else None
            if name is not None:
                completed.append(name)
                continue
        if isinstance(value, Exception):
            raise Fallback("a field answered an exception")
        coerced = coerce(value)
        if coerced is None:
            raise Fallback("a leaf coerced to null")
        completed.append(coerced)
    return completed


def _regroup(items: list[Any], sizes: list[int]) -> list[Any]:
    grouped: list[Any] = []
    start = 0
    for size in sizes:
        if size < 0:
            grouped.append(None)
        else:
            grouped.append(items[start : start + size])
            start += size
    return grouped


async def _regrouped(items: Awaitable[list[Any]], sizes: list[int]) -> list[Any]:
    return _regroup(await items, sizes)


def _abandon(awaitable: Any) -> None:
    if inspect.iscoroutine(awaitable):
        awaitable.close()
    elif isinstance(awaitable, asyncio.Future):
        awaitable.cancel()


async def _settle(columns: list[Any], waiting: list[int]) -> None:
    """Awaits the awaitable columns side by side, as graphql-core runs sibling fields, so that
    their DataLoaders batch in the same round."""
    if len(waiting) == 1:
        columns[waiting[0]] = await columns[waiting[0]]
        return
    settled = await asyncio.gather(*(columns[index] for index in waiting))
    for index, value in zip(waiting, settled, strict=True):
        columns[index] = value
