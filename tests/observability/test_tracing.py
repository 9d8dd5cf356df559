"""Traces as an operator reads them: one request span, the GraphQL operation inside it, the SQL
statements inside that; and nothing at all when no OTLP endpoint is configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability.tracing import REQUEST_ID_ATTRIBUTE, start_tracing, uninstrument_tortoise
from tests.conftest import Database, count_statements
from tests.factories import make_client, make_freelancer
from tests.resolvers.marketplace_support import make_job, make_proposal

JOBS = """
query OpenJobs($first: Int) {
  jobs(first: $first) {
    nodes { id title client { companyName } skills { slug } myProposal { id } }
  }
}"""


@dataclass
class Traced:
    exporter: InMemorySpanExporter
    http: httpx.AsyncClient

    def trace_of(self, request_span: ReadableSpan) -> list[ReadableSpan]:
        trace_id = request_span.context.trace_id
        return [s for s in self.exporter.get_finished_spans() if s.context.trace_id == trace_id]


@pytest.fixture
async def traced(db: Database) -> AsyncIterator[Traced]:
    from app import create_app
    from settings import get_settings

    exporter = InMemorySpanExporter()
    application = create_app(
        get_settings().model_copy(update={"broadcast_url": "memory://"}),
        manage_database=False,
        tracing=start_tracing(exporter, batch=False),
    )
    try:
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application, client=("203.0.113.7", 51000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                yield Traced(exporter, http)
    finally:
        # The wrappers are process-wide; the rest of the suite runs untraced.
        uninstrument_tortoise()


def only(spans: list[ReadableSpan]) -> ReadableSpan:
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


async def test_one_query_is_a_request_span_an_operation_span_and_its_statements(
    traced: Traced, db: Database
) -> None:
    # given jobs by two clients, one with a proposal of the signed-in freelancer
    clients = [await make_client(company_name=f"Client {n}") for n in range(2)]
    freelancer, _ = await make_freelancer()
    jobs = [
        await make_job(clients[n % 2][0], title=f"Job {n}", skills=["python"], budget=Decimal(80))
        for n in range(4)
    ]
    await make_proposal(freelancer, jobs[0])
    traced.exporter.clear()
    # when
    with count_statements() as counter:
        response = await traced.http.post(
            "/graphql",
            json={"query": JOBS, "variables": {"first": 10}},
            headers={"authorization": f"Bearer {freelancer.token}", "x-request-id": "trace-me-1"},
        )
    # then
    assert response.status_code == 200
    assert len(response.json()["data"]["jobs"]["nodes"]) == 4
    request = only([s for s in traced.exporter.get_finished_spans() if s.parent is None])
    assert request.name == "POST /graphql"
    assert request.attributes[REQUEST_ID_ATTRIBUTE] == "trace-me-1"
    spans = traced.trace_of(request)
    operation = only([s for s in spans if s.attributes.get("graphql.operation.name")])
    assert operation.parent.span_id == request.context.span_id
    assert operation.name == "query OpenJobs"
    assert operation.attributes["graphql.operation.type"] == "query"
    assert operation.attributes[REQUEST_ID_ATTRIBUTE] == "trace-me-1"
    statements = [s for s in spans if "db.statement" in s.attributes]
    assert len(statements) == counter.count > 3
    system = "postgresql" if db.backend == "postgres" else "sqlite"
    for statement in statements:
        assert statement.attributes["db.system"] == system
        assert statement.name == statement.attributes["db.statement"].split()[0].upper()
        # the token lookup runs while the request's context is built, before the operation
        assert statement.parent.span_id in (operation.context.span_id, request.context.span_id)
        assert request.start_time <= statement.start_time <= statement.end_time <= request.end_time
    inside = [s for s in statements if s.parent.span_id == operation.context.span_id]
    assert len(inside) >= 3  # the page, then the clients, skills and proposals by loaders
    assert any('"jobs"' in s.attributes["db.statement"] for s in inside)
    # no parameter values: the token, its hash or the page size never appear in a span
    for span in spans:
        for value in span.attributes.values():
            assert freelancer.token not in str(value)
    assert set(spans) == {request, operation, *statements}


async def test_statement_spans_carry_the_sql_text_in_order(traced: Traced, db: Database) -> None:
    # given
    traced.exporter.clear()
    # when
    with count_statements() as counter:
        response = await traced.http.post(
            "/graphql", json={"query": "{ skills(first: 2) { slug } }"}
        )
    # then
    assert response.status_code == 200
    request = only([s for s in traced.exporter.get_finished_spans() if s.parent is None])
    statements = [s for s in traced.trace_of(request) if "db.statement" in s.attributes]
    texts = [s.attributes["db.statement"] for s in statements]
    # the counter logs "<sql>: <values>"; the span holds the SQL alone
    assert len(texts) == counter.count == 1
    assert counter.statements[0].startswith(texts[0])
    assert "skills" in texts[0]
    assert request.attributes[REQUEST_ID_ATTRIBUTE] == response.headers["x-request-id"]


# redis-py imports OpenTelemetry's metrics SDK whenever it is installed (redis/observability,
# for its own opt-in metrics), so "nothing loaded" is measured against what importing the app
# already loads, and the tracing modules must not be among either.
PROBE = """
import json, sys
from app import create_app
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.sqlite.client import SqliteClient

def loaded():
    return {m for m in sys.modules if m.startswith(("opentelemetry", "observability"))}

before = loaded()
create_app()
print(json.dumps({
    "added": sorted(loaded() - before),
    "tracing": sorted(
        m for m in loaded()
        if m.startswith(TRACING_MODULES)
    ),
    "wrapped": [
        getattr(cls.__dict__[name], "_marketplace_traced", False)
        for cls in (SqliteClient, AsyncpgDBClient)
        for name in ("execute_query", "execute_insert")
    ],
}))
""".replace(
    "TRACING_MODULES",
    repr(
        (
            "opentelemetry.sdk.trace",
            "opentelemetry.exporter",
            "opentelemetry.instrumentation",
            "observability.tracing",
        )
    ),
)


def probe(tmp_path, **env: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    environment.update(env)
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        check=False,
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_an_endpoint_create_app_loads_and_installs_nothing(tmp_path) -> None:
    # when
    seen = probe(tmp_path)
    # then
    assert seen == {"added": [], "tracing": [], "wrapped": [False, False, False, False]}


def test_with_an_endpoint_create_app_installs_the_statement_spans(tmp_path) -> None:
    # when: nothing listens there, and nothing is sent before the first span ends
    seen = probe(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9")
    # then
    assert {"opentelemetry.sdk.trace", "observability.tracing"} <= set(seen["added"])
    assert "opentelemetry.exporter.otlp.proto.http.trace_exporter" in seen["tracing"]
    assert seen["wrapped"] == [True, True, True, True]
