"""OpenTelemetry traces: a span per HTTP request or websocket connection, per GraphQL
operation and per SQL statement, exported over OTLP/HTTP.

Only imported when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (see app.create_app): without it no
OpenTelemetry module is loaded and the Tortoise clients stay as they are. The SDK reads the
other standard variables itself (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
OTEL_EXPORTER_OTLP_HEADERS, OTEL_BSP_*, OTEL_TRACES_SAMPLER, ...).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Tracer
from starlette.middleware import Middleware
from strawberry.extensions import SchemaExtension
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.sqlite.client import SqliteClient

from schema.requestlog import request_id_var

REQUEST_ID_ATTRIBUTE = "marketplace.request_id"
# The methods that send one statement each: the same ones that log it to `tortoise.db_client`,
# so a trace shows as many statement spans as the tests' statement counter counts.
STATEMENT_METHODS = (
    "execute_insert",
    "execute_query",
    "execute_query_dict",
    "execute_many",
    "execute_script",
)
# Probes would otherwise make a trace every few seconds per process.
DEFAULT_EXCLUDED_URLS = "/healthz,/readyz"
_TRACED = "_marketplace_traced"


def tracing_requested() -> bool:
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


@dataclass
class Tracing:
    provider: TracerProvider
    tracer: Tracer

    def middleware(self) -> Middleware:
        """The request span; it must sit inside RequestIdMiddleware to see the request id."""
        excluded = os.environ.get(
            "OTEL_PYTHON_ASGI_EXCLUDED_URLS",
            os.environ.get("OTEL_PYTHON_EXCLUDED_URLS", DEFAULT_EXCLUDED_URLS),
        )
        return Middleware(
            OpenTelemetryMiddleware,
            excluded_urls=excluded,
            server_request_hook=_tag_request_span,
            tracer_provider=self.provider,
            # One span per request: spans per ASGI message would outnumber everything else.
            exclude_spans=["receive", "send"],
        )

    def operation_extension(self) -> type[SchemaExtension]:
        tracer = self.tracer

        class OperationSpan(SchemaExtension):
            """One span per GraphQL operation, current while it runs so that the statement
            spans nest under it. Strawberry's OpenTelemetryExtension would add a span per
            resolver (thousands for one list query) and does not make its span current."""

            def on_operation(self) -> Iterator[None]:
                context = self.execution_context
                with tracer.start_as_current_span("GraphQL operation") as span:
                    span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id_var.get())
                    yield
                    _describe_operation(span, context)

        return OperationSpan

    def shutdown(self) -> None:
        """Exports the spans still queued; called when the server stops."""
        self.provider.shutdown()


def _tag_request_span(span: Span, scope: dict[str, Any]) -> None:
    if span.is_recording():
        span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id_var.get())


def _describe_operation(span: Span, context: Any) -> None:
    operation_type = getattr(context, "operation_type", None)
    kind = operation_type.value if operation_type is not None else None
    name = context.operation_name
    if kind:
        span.set_attribute("graphql.operation.type", kind)
    if name:
        span.set_attribute("graphql.operation.name", name)
    span.update_name(" ".join(part for part in (kind, name) if part) or "GraphQL operation")
    result = getattr(context, "result", None)
    errors = getattr(result, "errors", None) or getattr(context, "pre_execution_errors", None)
    if errors:
        span.set_attribute("graphql.errors.count", len(errors))


def start_tracing(exporter: SpanExporter | None = None, *, batch: bool = True) -> Tracing:
    """The tracer provider. Without an exporter, OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT;
    tests pass an in-memory one with `batch=False` to read spans as soon as they end."""
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    provider = TracerProvider(
        resource=Resource.create({} if named else {SERVICE_NAME: "marketplace"})
    )
    provider.add_span_processor(
        BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    )
    tracing = Tracing(provider=provider, tracer=provider.get_tracer("marketplace"))
    instrument_tortoise(tracing.tracer)
    return tracing


def _client_classes() -> Iterator[type[BaseDBAsyncClient]]:
    pending: list[type[BaseDBAsyncClient]] = [SqliteClient, AsyncpgDBClient]
    seen: set[type[BaseDBAsyncClient]] = set()
    while pending:
        cls = pending.pop()
        if cls not in seen:
            seen.add(cls)
            yield cls
            pending.extend(cls.__subclasses__())


def _db_system(cls: type[BaseDBAsyncClient]) -> str:
    return "sqlite" if issubclass(cls, SqliteClient) else "postgresql"


def instrument_tortoise(tracer: Tracer) -> None:
    """Wraps the statement methods of Tortoise's SQLite and asyncpg clients (transactions
    included) in a client span each. Only the SQL text is recorded, never the values.
    Installed once per process: a later call re-points the wrappers at `tracer`."""
    for cls in _client_classes():
        system = _db_system(cls)
        for method_name in STATEMENT_METHODS:
            method = cls.__dict__.get(method_name)
            if method is None:
                continue
            original = (
                getattr(method, "__wrapped__", method)
                if getattr(method, _TRACED, False)
                else method
            )
            setattr(cls, method_name, _traced(original, tracer, system))


def uninstrument_tortoise() -> None:
    for cls in _client_classes():
        for method_name in STATEMENT_METHODS:
            method = cls.__dict__.get(method_name)
            if method is not None and getattr(method, _TRACED, False):
                setattr(cls, method_name, method.__wrapped__)


def is_tortoise_instrumented() -> bool:
    return any(
        getattr(cls.__dict__.get(name), _TRACED, False)
        for cls in _client_classes()
        for name in STATEMENT_METHODS
    )


def _traced(
    method: Callable[..., Awaitable[Any]], tracer: Tracer, system: str
) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def traced(self: BaseDBAsyncClient, query: str, *args: Any, **kwargs: Any) -> Any:
        operation = query.lstrip().split(None, 1)[0].upper() if query.strip() else "SQL"
        with tracer.start_as_current_span(
            operation,
            kind=SpanKind.CLIENT,
            attributes={"db.system": system, "db.statement": query},
        ):
            return await method(self, query, *args, **kwargs)

    setattr(traced, _TRACED, True)
    return traced
