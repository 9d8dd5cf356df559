"""Shared fixtures: a real database per backend (SQLite always, PostgreSQL when configured),
an in-process HTTP client for the app, and a counter of SQL statements."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# Cheap password hashes: the suite signs up hundreds of users. Set before settings are read.
os.environ.setdefault("PASSWORD_HASHING", "fast")
os.environ.setdefault("LOG_JSON", "false")
# Uploaded files of in-process apps go to a directory of this run, not the working tree.
if "UPLOAD_DIR" not in os.environ:
    os.environ["UPLOAD_DIR"] = tempfile.mkdtemp(prefix="marketplace-uploads-")
    atexit.register(shutil.rmtree, os.environ["UPLOAD_DIR"], ignore_errors=True)

import httpx
import pytest
from tortoise import connections
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext
from tortoise.log import db_client_logger

from models import MODEL_MODULES
from models.jobs.search_index import create_search_structures
from models.notifications.waiting import create_notification_structures
from models.profiles.catalog import ensure_skill_catalog
from tests.services import IN_CI, TEST_DATABASE_URL, TEST_REDIS_URL, require_postgres

BACKENDS = ["sqlite", "postgres"] if (TEST_DATABASE_URL or IN_CI) else ["sqlite"]
# Reference data that survives the per-test cleanup.
KEPT_TABLES = {"skills"}


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI and not (TEST_DATABASE_URL and TEST_REDIS_URL):
        raise pytest.UsageError("CI=true needs TEST_DATABASE_URL and TEST_REDIS_URL (see .ci/run)")


def postgres_url_for(base_url: str, database: str) -> str:
    scheme, _, rest = base_url.partition("://")
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    return f"{scheme}://{authority}/{database}"


@dataclass
class Database:
    backend: str
    url: str
    tables: list[str] = field(default_factory=list)


@pytest.fixture(scope="session", params=BACKENDS)
async def database(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    if request.param == "postgres":
        url = postgres_url_for(require_postgres(), f"marketplace_test_{uuid.uuid4().hex[:12]}")
    else:
        url = "sqlite://:memory:"
    # Tortoise caches each model's INSERT statement per connection name, across contexts; the
    # SQLite dialect's statements must not leak into the PostgreSQL run of the same session.
    EXECUTOR_CACHE.clear()
    context = TortoiseContext()
    async with context:
        await context.init(
            config={
                "connections": {"default": url},
                "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default"}},
                "use_tz": True,
                "timezone": "UTC",
            },
            _create_db=request.param == "postgres",
            _enable_global_fallback=True,
        )
        await context.generate_schemas(safe=False)
        await create_search_structures(connections.get("default"))
        await create_notification_structures(connections.get("default"))
        await ensure_skill_catalog()
        tables = [
            model._meta.db_table
            for app in context.apps.values()
            for model in app.values()
            if model._meta.db_table not in KEPT_TABLES
        ]
        if request.param == "sqlite":
            tables.append("jobs_fts")
        try:
            yield Database(backend=request.param, url=url, tables=tables)
        finally:
            if request.param == "postgres":
                await connections.get("default").close()
                await connections.get("default").db_delete()


@pytest.fixture
async def db(database: Database) -> AsyncIterator[Database]:
    yield database
    await empty_tables(database)


async def empty_tables(database: Database) -> None:
    client = connections.get("default")
    if database.backend == "postgres":
        quoted = ", ".join(f'"{table}"' for table in database.tables)
        await client.execute_script(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    else:
        await client.execute_script("PRAGMA foreign_keys = OFF")
        for table in database.tables:
            await client.execute_script(f'DELETE FROM "{table}"')
        await client.execute_script("PRAGMA foreign_keys = ON")


class StatementCounter(logging.Handler):
    """Counts the SQL statements Tortoise sends, by listening to its `tortoise.db_client` log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith(("Created connection", "Closed connection")):
            self.statements.append(message)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements() -> Iterator[StatementCounter]:
    counter = StatementCounter()
    previous = db_client_logger.level
    db_client_logger.setLevel(logging.DEBUG)
    db_client_logger.addHandler(counter)
    try:
        yield counter
    finally:
        db_client_logger.removeHandler(counter)
        db_client_logger.setLevel(previous)


class GraphQLClient:
    """Sends operations to the app over real HTTP semantics (in-process ASGI transport)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = {"accept": "application/graphql-response+json", **(headers or {})}
        if token:
            all_headers["authorization"] = f"Bearer {token}"
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers
        )

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """The response body of an operation that must succeed without any GraphQL error."""
        response = await self.post(query, variables, token=token)
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def execute_raw(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        response = await self.post(query, variables, token=token)
        return response.json()


@pytest.fixture
async def app(db: Database) -> AsyncIterator[Any]:
    from app import create_app
    from settings import get_settings

    application = create_app(
        get_settings().model_copy(update={"broadcast_url": "memory://"}), manage_database=False
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def gql(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


__all__ = ["TEST_REDIS_URL", "count_statements"]
