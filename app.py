"""The ASGI application: `uvicorn app:app`, or `marketplace serve`."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from tortoise import connections
from tortoise.contrib.starlette import RegisterTortoise

from models import tortoise_config
from models.attachments.signing import links_for
from models.attachments.storage import local_storage
from models.interviews.typing import TypingGate
from models.planner import refresh_statistics
from models.scheduler import run_due
from realtime.broadcast import create_broadcast
from realtime.presence import Presence
from realtime.publish import publish_all
from schema import build_schema
from schema.downloads import download_endpoint
from schema.http import GraphQLView
from schema.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from schema.persisted import create_persisted_queries
from schema.requestlog import configure_logging
from schema.uploads import UploadLimits
from settings import Settings, get_settings

if TYPE_CHECKING:
    from observability.metrics import Metrics
    from observability.tracing import Tracing

logger = logging.getLogger("marketplace")
# The data grows slowly next to this; ANALYZE is sampled (models/planner.py), so hourly is cheap.
STATISTICS_INTERVAL_SECONDS = 3600.0


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(connections.get("default").execute_query("SELECT 1"), 2)
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"unavailable: {type(error).__name__}"
    try:
        await asyncio.wait_for(request.app.state.broadcast.ping(), 2)
        checks["broadcast"] = "ok"
    except Exception as error:  # noqa: BLE001
        checks["broadcast"] = f"unavailable: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


async def run_scheduler(
    broadcast: Any, interval_seconds: float, metrics: Metrics | None = None
) -> None:
    """The time-based rules (offer expiry, milestone auto-release) and the planner's
    statistics, in every process."""
    statistics_due = 0.0
    while True:
        if time.monotonic() >= statistics_due:
            try:
                await refresh_statistics()
                statistics_due = time.monotonic() + STATISTICS_INTERVAL_SECONDS
            except Exception:
                logger.exception("refreshing the planner's statistics failed")
        await asyncio.sleep(interval_seconds)
        try:
            await publish_all(broadcast, await run_due())
        except Exception:
            logger.exception("scheduled rules failed")
            if metrics is not None:
                metrics.scheduler_ran("error")
        else:
            if metrics is not None:
                metrics.scheduler_ran("ok")


def tune_garbage_collector(thresholds: tuple[int, int, int]) -> None:
    """Freeze what startup made, and run full collections less often.

    With thousands of websocket subscribers a process holds millions of objects, and Python's
    default thresholds (700, 10, 10) ran full collections over all of them while events were
    being delivered: pauses of up to 1.8 s at 2,500 connections per process. The default here
    keeps the young generations as they are (a larger first threshold made every mutation
    slower: 8.5 -> 12 ms of server CPU) and only asks for 1,000 instead of 10 middle
    collections between full ones. Measured with tests/benchmarks/bench_realtime, 5,000
    subscribers over two processes: time to last delivery p99 2.3 s -> 0.86-0.95 s (two runs);
    memory per connection grew 72 -> 85 KiB, garbage cycles waiting longer for a full collection.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)


def start_tracing_if_requested() -> Tracing | None:
    # Checked before any import: with no endpoint, OpenTelemetry costs nothing, not even a load.
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return None
    from observability.tracing import start_tracing

    return start_tracing()


def start_metrics_if_enabled(settings: Settings) -> Metrics | None:
    # As for tracing: disabled, prometheus_client is not even imported.
    if not settings.metrics_enabled:
        return None
    from observability.metrics import start_metrics

    return start_metrics(settings.metrics_max_operation_names)


def create_app(
    settings: Settings | None = None,
    *,
    manage_database: bool = True,
    tracing: Tracing | None = None,
    metrics: Metrics | None = None,
) -> Starlette:
    """`manage_database=False` lets tests share one Tortoise context across many apps;
    `tracing` lets them read spans in memory (otherwise OTEL_EXPORTER_OTLP_ENDPOINT decides),
    and `metrics` read metrics from a registry of their own (otherwise METRICS_ENABLED)."""
    settings = settings or get_settings()
    tracing = tracing or start_tracing_if_requested()
    metrics = metrics or start_metrics_if_enabled(settings)
    persisted_queries = create_persisted_queries(settings.broadcast_url)
    storage = local_storage(settings.upload_dir)
    storage.prepare()
    links = links_for(
        settings.url_signing_key, settings.upload_dir, settings.attachment_url_ttl_seconds
    )
    view = GraphQLView(
        build_schema(
            tracing=tracing,
            metrics=metrics,
            batch_execution=settings.batch_execution,
            sql_reads=settings.sql_reads,
        ),
        allowed_origins=settings.allowed_origins,
        init_timeout=settings.connection_init_timeout_seconds,
        max_subscriptions=settings.max_subscriptions_per_connection,
        persisted_queries=persisted_queries,
        cache_max_age_seconds=settings.query_cache_max_age_seconds,
        storage=storage,
        upload_limits=UploadLimits(
            max_file_bytes=settings.max_upload_bytes,
            max_files=settings.max_upload_files,
            max_field_bytes=settings.max_body_bytes,
        ),
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with (
                _serve(app),
                metrics.running() if metrics is not None else nullcontext(),
            ):
                yield
        finally:
            await persisted_queries.close()
            if tracing is not None:
                tracing.shutdown()

    @asynccontextmanager
    async def _serve(app: Starlette) -> AsyncIterator[None]:
        broadcast = create_broadcast(
            settings.broadcast_url,
            on_reconnect=metrics.broadcast_reconnected if metrics is not None else None,
        )
        app.state.broadcast = broadcast
        app.state.typing_gate = TypingGate()
        if not manage_database:
            async with broadcast, Presence(broadcast) as presence:
                app.state.presence = presence
                yield
            return
        async with (
            RegisterTortoise(app, config=tortoise_config(settings.database_url)),
            broadcast,
            Presence(broadcast) as presence,
        ):
            app.state.presence = presence
            tune_garbage_collector(settings.gc_thresholds)
            scheduler = asyncio.create_task(
                run_scheduler(broadcast, settings.scheduler_interval_seconds, metrics)
            )
            try:
                yield
            finally:
                scheduler.cancel()
                await asyncio.gather(scheduler, return_exceptions=True)

    application = Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route(
                "/attachments/{attachment_id}",
                download_endpoint(storage, links),
                methods=["GET", "HEAD"],
            ),
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            *([tracing.middleware()] if tracing is not None else []),
            *([metrics.middleware()] if metrics is not None else []),
            Middleware(
                BodySizeLimitMiddleware,
                max_bytes=settings.max_body_bytes,
                multipart_max_bytes=settings.max_upload_request_bytes,
            ),
        ],
        lifespan=lifespan,
    )
    application.state.links = links
    return application


_app: Starlette | None = None


def __getattr__(name: str) -> Starlette:
    """`app:app` for uvicorn, built on first use so importing this module has no side effects."""
    global _app
    if name != "app":
        raise AttributeError(name)
    if _app is None:
        settings = get_settings()
        configure_logging(settings.log_level, json=settings.log_json)
        _app = create_app(settings)
    return _app
