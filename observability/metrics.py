"""Prometheus metrics of a server process: GraphQL operations and their errors, websockets and
subscriptions, the broadcast, the scheduler and the database pool.

Only imported when METRICS_ENABLED is set (app.create_app): otherwise no prometheus_client module
is loaded and nothing is added to the request path. Under `marketplace serve` each worker writes
its values to files in PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode, chosen
when prometheus_client is first imported, so `serve` sets the directory before any worker
starts), and the serving process publishes their sum (observability/scrape.py).

Labels stay few, whatever clients send: an operation's name is taken only once its document
validated, cut to MAX_LABEL_CHARS, and each process labels at most `max_operation_names`
distinct names (later ones are "other"); error codes are bounded the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    SelectionNode,
)
from graphql.utilities import get_operation_ast
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.execution import StreamExecutionResult
from tortoise import connections

from observability.scrape import forget_live_gauges, multiprocess_mode
from resolvers.errors import user_error_codes
from schema.fanout import SocketMember, starting

logger = logging.getLogger("marketplace.metrics")

ANONYMOUS = "anonymous"
OTHER = "other"
UNKNOWN = "unknown"
MAX_LABEL_CHARS = 64
MAX_ERROR_CODES = 50
# How often each process reports its database pool; a scrape sees values this old at most.
POOL_SAMPLE_SECONDS = 5.0
# From a cached query to a slow mutation; 12 buckets per operation name and type.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_CODE = re.compile(r"[A-Z][A-Z0-9_]*")


class BoundedLabels:
    """Label values as they come, up to `limit` distinct ones per process; later ones are
    OTHER, so that clients cannot make the series count grow without end."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: set[str] = set()

    def admit(self, value: str) -> str:
        value = value[:MAX_LABEL_CHARS]
        if value in self._seen:
            return value
        if len(self._seen) >= self.limit:
            return OTHER
        self._seen.add(value)
        return value

    def known(self, value: str) -> str:
        """The value if it was admitted before, OTHER otherwise (and it is not admitted now)."""
        value = value[:MAX_LABEL_CHARS]
        return value if value in self._seen else OTHER


def error_code(error: GraphQLError) -> str:
    """`extensions.code`, or what the error is when it has none."""
    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return code if _CODE.fullmatch(code) else OTHER
    if isinstance(error, GraphQLSyntaxError):  # the token limit's refusal included
        return "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"  # validation, or variables that do not coerce
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        return "INTERNAL_SERVER_ERROR"  # a crash not masked (yet)
    return "UNCODED"


def root_field(document: DocumentNode, operation_name: str | None) -> str:
    """The field a (validated, so single-field) subscription subscribes to."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return OTHER
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    pending: list[SelectionNode] = list(operation.selection_set.selections)
    while pending:
        selection = pending.pop(0)
        if isinstance(selection, FieldNode):
            return selection.name.value
        if isinstance(selection, InlineFragmentNode):
            pending[:0] = selection.selection_set.selections
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            pending[:0] = fragments[selection.name.value].selection_set.selections
    return OTHER


def _operation_type(context: ExecutionContext) -> str:
    try:
        return context.operation_type.value
    except Exception:  # noqa: BLE001 - no document, or no operation of that name
        return UNKNOWN


def _is_request_error(data: object, errors: Sequence[GraphQLError]) -> bool:
    """Nothing ran: the variables were refused (as in schema/http.py)."""
    return data is None and bool(errors) and all(error.path is None for error in errors)


class Metrics:
    """One process's metrics, registered in `registry` (a new one by default: in multiprocess
    mode nobody reads it, the files are summed instead)."""

    def __init__(
        self, *, max_operation_names: int = 200, registry: CollectorRegistry | None = None
    ) -> None:
        self.registry = registry or CollectorRegistry()
        self.operation_names = BoundedLabels(max_operation_names)
        self.error_codes = BoundedLabels(MAX_ERROR_CODES)
        if multiprocess_mode():
            # A worker that got the pid of a dead one must not add to its open sockets.
            forget_live_gauges(os.getpid())
        r = self.registry
        self.requests = Counter(
            "marketplace_graphql_requests",
            "GraphQL operations by name, type and outcome (ok, user_error, error, refused); "
            "a subscription is counted when it ends.",
            ["operation_name", "operation_type", "outcome"],
            registry=r,
        )
        self.duration = Histogram(
            "marketplace_graphql_request_duration_seconds",
            "Time from receiving a query or mutation to its result (subscriptions not included).",
            ["operation_name", "operation_type"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "marketplace_graphql_errors",
            "GraphQL errors sent, by extensions.code.",
            ["code"],
            registry=r,
        )
        self.user_errors = Counter(
            "marketplace_graphql_user_errors",
            "userErrors returned in mutation payloads, by code.",
            ["code"],
            registry=r,
        )
        self.websockets = Gauge(
            "marketplace_websockets_open",
            "Websocket connections accepted and not yet closed.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.subscriptions = Gauge(
            "marketplace_subscriptions_active",
            "Subscriptions running, by subscription field.",
            ["field"],
            registry=r,
            multiprocess_mode="livesum",
        )
        self.deliveries = Counter(
            "marketplace_subscription_deliveries",
            "Events sent to subscribers, by subscription field.",
            ["field"],
            registry=r,
        )
        self.broadcast_reconnects = Counter(
            "marketplace_broadcast_reconnects",
            "Times the Redis pub/sub connection was lost and made again.",
            registry=r,
        )
        self.scheduler_runs = Counter(
            "marketplace_scheduler_runs",
            "Runs of the time-based rules, by outcome (ok, error).",
            ["outcome"],
            registry=r,
        )
        self.pool_connections = Gauge(
            "marketplace_db_pool_connections",
            "PostgreSQL connections open in the pools, by state (in_use, idle).",
            ["state"],
            registry=r,
            multiprocess_mode="livesum",
        )
        self.pool_max_connections = Gauge(
            "marketplace_db_pool_max_connections",
            "Connections the PostgreSQL pools may open.",
            registry=r,
            multiprocess_mode="livesum",
        )

    # ------------------------------------------------------------ hooks

    def operation_extension(self) -> Callable[[], SchemaExtension]:
        return lambda: OperationMetrics(self)

    def count_errors(self, errors: Sequence[GraphQLError]) -> None:
        for error in errors:
            self.errors.labels(self.error_codes.admit(error_code(error))).inc()

    def middleware(self) -> Middleware:
        return Middleware(OpenWebsockets, gauge=self.websockets)

    def broadcast_reconnected(self) -> None:
        self.broadcast_reconnects.inc()

    def scheduler_ran(self, outcome: str) -> None:
        self.scheduler_runs.labels(outcome).inc()

    def sample_pool(self) -> None:
        """The default connection's asyncpg pool, if it has one (SQLite has none)."""
        try:
            client = connections.get("default")
        except Exception:  # noqa: BLE001 - not configured (yet): nothing to report
            return
        # Tortoise's AsyncpgDBClient keeps its asyncpg.Pool here, made at the first query.
        pool = getattr(client, "_pool", None)
        if pool is None:
            return
        size, idle = pool.get_size(), pool.get_idle_size()
        self.pool_connections.labels("in_use").set(size - idle)
        self.pool_connections.labels("idle").set(idle)
        self.pool_max_connections.set(pool.get_max_size())

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """For the server's lifetime: samples the pool; at the end, this process's gauges go
        (in multiprocess mode a dead worker's open sockets must not be summed)."""
        sampler = asyncio.create_task(self._sample_pool_every(POOL_SAMPLE_SECONDS))
        try:
            yield
        finally:
            sampler.cancel()
            await asyncio.gather(sampler, return_exceptions=True)
            if multiprocess_mode():
                forget_live_gauges(os.getpid())

    async def _sample_pool_every(self, seconds: float) -> None:
        while True:
            try:
                self.sample_pool()
            except Exception:
                logger.exception("sampling the database pool failed")
            await asyncio.sleep(seconds)


class OperationMetrics(SchemaExtension):
    """Counts an operation when it ends. A subscription is active from its start to its end,
    and each result with data it sends is a delivery."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.ran = False
        self.operation = ANONYMOUS
        self.user_errors: list[str] = []
        self.subscription: str | None = None
        self.delivered: Counter | None = None
        self.subscription_failed = False
        # A subscription handed to its shared group (schema/fanout.py) outlives its operation.
        self.handed_over = False

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        failed = True
        try:
            yield
            failed = False
        finally:
            # A subscription ends with an exception too: the socket closed, or `complete`.
            try:
                self._ended(time.perf_counter() - started, failed)
            except Exception:  # metrics must never fail a request
                logger.exception("counting an operation failed")

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        self.ran = True
        name = context.operation_name
        self.operation = self.metrics.operation_names.admit(name) if name else ANONYMOUS
        noted = user_error_codes.set(self.user_errors)
        try:
            yield
        finally:
            user_error_codes.reset(noted)
        document = context.graphql_document
        if document is not None and _operation_type(context) == "subscription":
            self.subscription = root_field(document, name)
            self.delivered = self.metrics.deliveries.labels(self.subscription)
            self.metrics.subscriptions.labels(self.subscription).inc()
            start = starting.get()
            if start is not None:
                start.on_hand_over.append(self._handed_over)

    def _handed_over(self, member: SocketMember) -> None:
        """From now on the group delivers: count its deliveries, and end the subscription
        when the member leaves the group rather than when the operation returns."""
        self.handed_over = True
        member.delivered = self.delivered
        previous = member.on_leave

        def left() -> None:
            if previous is not None:
                previous()
            try:
                self._subscription_ended()
            except Exception:  # metrics must never fail a subscription
                logger.exception("counting a subscription failed")

        member.on_leave = left

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        if self.delivered is not None:
            if getattr(result, "data", None) is not None:
                self.delivered.inc()
            errors = getattr(result, "errors", None)
            if errors:
                self.subscription_failed = True
                self.metrics.count_errors(errors)
        yield

    def _subscription_ended(self) -> None:
        if self.subscription is None:
            return
        subscription, self.subscription = self.subscription, None
        # Its errors were counted result by result. Counted before it stops being active, so
        # that no scrape sees it neither active nor counted.
        outcome = "error" if self.subscription_failed else "ok"
        kind = _operation_type(self.execution_context)
        self.metrics.requests.labels(self.operation, kind, outcome).inc()
        self.metrics.subscriptions.labels(subscription).dec()

    def _ended(self, seconds: float, failed: bool) -> None:
        metrics, context = self.metrics, self.execution_context
        kind = _operation_type(context)
        for code in self.user_errors:
            metrics.user_errors.labels(code).inc()
        if self.subscription is not None:
            if not self.handed_over:
                self._subscription_ended()
            return
        result = context.result
        errors = list(getattr(result, "errors", None) or context.pre_execution_errors or ())
        metrics.count_errors(errors)
        if not self.ran:
            name = context.operation_name
            label = metrics.operation_names.known(name) if name else ANONYMOUS
            metrics.requests.labels(label, kind, "refused").inc()
            return
        if _is_request_error(getattr(result, "data", None), errors):
            outcome = "refused"
        elif errors or failed:
            outcome = "error"
        elif self.user_errors:
            outcome = "user_error"
        else:
            outcome = "ok"
        metrics.requests.labels(self.operation, kind, outcome).inc()
        metrics.duration.labels(self.operation, kind).observe(seconds)


class OpenWebsockets:
    """ASGI middleware: a websocket counts from its acceptance to the end of its handler."""

    def __init__(self, app: ASGIApp, gauge: Gauge) -> None:
        self.app = app
        self.gauge = gauge

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        accepted = False

        async def sending(message: Message) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                self.gauge.inc()
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if accepted:
                self.gauge.dec()


def start_metrics(max_operation_names: int) -> Metrics:
    if not multiprocess_mode():
        logger.warning(
            "METRICS_ENABLED, but this process is not run by `marketplace serve`: nothing "
            "serves its metrics (see README, Metrics)"
        )
    return Metrics(max_operation_names=max_operation_names)
