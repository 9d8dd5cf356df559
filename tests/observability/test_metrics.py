"""Prometheus metrics as an operator scrapes them from one process: operations by name, type
and outcome, errors by code, userErrors by code, bounded labels; the scheduler, the broadcast's
reconnections and the database pool; and nothing at all, not even an import, when disabled.

The multiprocess side (`marketplace serve --workers 2`) is tested in tests/e2e/test_metrics.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from app import run_scheduler
from observability.metrics import MAX_LABEL_CHARS, Metrics
from realtime.broadcast import Broadcaster
from tests.conftest import Database
from tests.factories import make_user
from tests.redis_server import running_redis

SKILLS = "query Skills { skills(first: 2) { slug } }"
# More than MAX_PAGE_SIZE: refused by the resolver with extensions.code BAD_USER_INPUT.
TOO_MANY_JOBS = "query TooManyJobs { jobs(first: 500) { nodes { id } } }"
LOG_IN = """
mutation LogIn($input: LogInInput!) {
  logIn(input: $input) { token userErrors { field message code } }
}"""
# Does not validate: no such field.
INVALID = "query Invalid { noSuchField }"

Sample = tuple[str, frozenset[tuple[str, str]]]


def scrape(registry: CollectorRegistry) -> dict[Sample, float]:
    """The text exposition, parsed back: what Prometheus would store."""
    text = generate_latest(registry).decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[Sample, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: dict[Sample, float], name: str) -> float:
    return sum(v for (sample, _), v in samples.items() if sample == name)


def requests(samples: dict[Sample, float], name: str, kind: str, outcome: str) -> float:
    return value(
        samples,
        "marketplace_graphql_requests_total",
        operation_name=name,
        operation_type=kind,
        outcome=outcome,
    )


def durations(samples: dict[Sample, float], name: str, kind: str) -> float:
    return value(
        samples,
        "marketplace_graphql_request_duration_seconds_count",
        operation_name=name,
        operation_type=kind,
    )


@dataclass
class Metered:
    metrics: Metrics
    http: httpx.AsyncClient

    def scrape(self) -> dict[Sample, float]:
        return scrape(self.metrics.registry)

    async def post(self, query: str, variables: dict | None = None) -> dict:
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}
        )
        return response.json()


async def metered_app(metrics: Metrics) -> AsyncIterator[Metered]:
    from app import create_app
    from settings import get_settings

    application = create_app(
        get_settings().model_copy(update={"broadcast_url": "memory://"}),
        manage_database=False,
        metrics=metrics,
    )
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("203.0.113.7", 51000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Metered(metrics, http)


@pytest.fixture
async def metered(db: Database) -> AsyncIterator[Metered]:
    async for running in metered_app(Metrics(registry=CollectorRegistry())):
        yield running


async def test_a_query_an_error_and_a_user_error_are_counted_once_each(metered: Metered) -> None:
    # given a user
    await make_user(email="ada@example.com")
    # when a query that succeeds, one that fails with a code, and a mutation with a userError
    assert "errors" not in await metered.post(SKILLS)
    failed = await metered.post(TOO_MANY_JOBS)
    assert [e["extensions"]["code"] for e in failed["errors"]] == ["BAD_USER_INPUT"]
    logged_in = await metered.post(
        LOG_IN, {"input": {"email": "ada@example.com", "password": "not-the-password"}}
    )
    assert [e["code"] for e in logged_in["data"]["logIn"]["userErrors"]] == ["VALIDATION"]
    # then each is counted once, under its own name, type and outcome
    samples = metered.scrape()
    assert requests(samples, "Skills", "query", "ok") == 1
    assert requests(samples, "TooManyJobs", "query", "error") == 1
    assert requests(samples, "LogIn", "mutation", "user_error") == 1
    assert value(samples, "marketplace_graphql_errors_total", code="BAD_USER_INPUT") == 1
    assert value(samples, "marketplace_graphql_user_errors_total", code="VALIDATION") == 1
    for name, kind in (("Skills", "query"), ("TooManyJobs", "query"), ("LogIn", "mutation")):
        assert durations(samples, name, kind) == 1
        assert (
            value(
                samples,
                "marketplace_graphql_request_duration_seconds_sum",
                operation_name=name,
                operation_type=kind,
            )
            > 0
        )
    # and nothing else
    assert total(samples, "marketplace_graphql_requests_total") == 3
    assert total(samples, "marketplace_graphql_errors_total") == 1
    assert total(samples, "marketplace_graphql_user_errors_total") == 1


async def test_refused_documents_are_counted_without_their_names(metered: Metered) -> None:
    # when a document that does not validate, one refused for its cost, and an anonymous query
    invalid = await metered.post(INVALID)
    assert "data" not in invalid or invalid["data"] is None
    too_costly = await metered.post("query Costly { freelancers(first: 60000) { totalCount } }")
    codes = [e.get("extensions", {}).get("code") for e in too_costly["errors"]]
    assert codes == ["QUERY_TOO_COMPLEX"]
    assert "errors" not in await metered.post("{ skills(first: 1) { slug } }")
    # then
    samples = metered.scrape()
    names = {
        dict(labels)["operation_name"]
        for name, labels in samples
        if name == "marketplace_graphql_requests_total"
    }
    assert "Invalid" not in names and "Costly" not in names
    assert requests(samples, "other", "query", "refused") == 2
    assert requests(samples, "anonymous", "query", "ok") == 1
    assert value(samples, "marketplace_graphql_errors_total", code="QUERY_TOO_COMPLEX") == 1
    assert value(samples, "marketplace_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") == 1
    # refusals are not timed: their duration says nothing about the operation
    assert durations(samples, "other", "query") == 0


async def test_operation_names_are_cut_and_capped(db: Database) -> None:
    # given a process that labels at most three names
    async for metered in metered_app(Metrics(max_operation_names=3, registry=CollectorRegistry())):
        long_name = "Q" * 200
        # when five distinct names arrive, one of them very long, then the first again
        for name in ("First", "Second", long_name, "Fourth", "Fifth", "First"):
            body = await metered.post(f"query {name} {{ skills(first: 1) {{ slug }} }}")
            assert "errors" not in body
        # then the first three keep their names (cut), the others are "other"
        samples = metered.scrape()
        assert requests(samples, "First", "query", "ok") == 2
        assert requests(samples, "Second", "query", "ok") == 1
        assert requests(samples, "Q" * MAX_LABEL_CHARS, "query", "ok") == 1
        assert requests(samples, "other", "query", "ok") == 2
        assert all(
            len(dict(labels).get("operation_name", "")) <= MAX_LABEL_CHARS for _, labels in samples
        )


async def test_a_mutation_over_get_is_counted_as_refused(metered: Metered) -> None:
    # when
    response = await metered.http.get(
        "/graphql", params={"query": "mutation LogOut { logOut { userErrors { code } } }"}
    )
    # then
    assert response.status_code == 405
    assert requests(metered.scrape(), "other", "mutation", "refused") == 1


async def test_metrics_are_never_served_on_the_public_port(metered: Metered, gql) -> None:
    # enabled: they are on METRICS_PORT, served by `marketplace serve`, not by the app
    assert (await metered.http.get("/metrics")).status_code == 404
    # disabled (the `app` fixture's default settings)
    assert (await gql.http.get("/metrics")).status_code == 404


def runs(metrics: Metrics, outcome: str) -> float:
    return value(scrape(metrics.registry), "marketplace_scheduler_runs_total", outcome=outcome)


async def test_the_scheduler_counts_its_runs(db: Database) -> None:
    # given
    metrics = Metrics(registry=CollectorRegistry())
    async with Broadcaster("memory://") as broadcast:
        # when it runs a few times
        scheduler = asyncio.create_task(run_scheduler(broadcast, 0.05, metrics))
        try:
            async with asyncio.timeout(10):
                while runs(metrics, "ok") < 2:
                    await asyncio.sleep(0.02)
        finally:
            scheduler.cancel()
            await asyncio.gather(scheduler, return_exceptions=True)
    # then none failed
    assert runs(metrics, "error") == 0


async def test_the_database_pool_is_reported_on_postgresql_only(db: Database) -> None:
    # given a query, so that the pool exists
    metrics = Metrics(registry=CollectorRegistry())
    await make_user()
    # when
    metrics.sample_pool()
    # then
    samples = scrape(metrics.registry)
    in_use = value(samples, "marketplace_db_pool_connections", state="in_use")
    idle = value(samples, "marketplace_db_pool_connections", state="idle")
    capacity = value(samples, "marketplace_db_pool_max_connections")
    if db.backend == "postgres":
        assert capacity >= 1
        assert 1 <= in_use + idle <= capacity
    else:
        assert ("marketplace_db_pool_connections", frozenset({("state", "idle")})) not in samples
        assert capacity == 0


@pytest.mark.redis
async def test_a_broadcast_reconnection_is_counted(tmp_path: Path) -> None:
    async with running_redis(tmp_path) as redis:
        # given a subscriber on a Redis that then restarts
        metrics = Metrics(registry=CollectorRegistry())
        channel = f"test-metrics-{uuid.uuid4().hex}"
        async with (
            Broadcaster(redis.url, on_reconnect=metrics.broadcast_reconnected) as broadcaster,
            broadcaster.subscribe(channel),
        ):
            assert value(scrape(metrics.registry), "marketplace_broadcast_reconnects_total") == 0
            await redis.stop()
            await redis.start()
            # then, once it is back, one reconnection
            async with asyncio.timeout(15):
                while not value(scrape(metrics.registry), "marketplace_broadcast_reconnects_total"):
                    await asyncio.sleep(0.05)
            await broadcaster.publish(channel, "after")
        assert value(scrape(metrics.registry), "marketplace_broadcast_reconnects_total") == 1


PROBE = """
import json, sys
from app import create_app
create_app()
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("prometheus", "observability.")))))
"""


def test_disabled_metrics_load_nothing(tmp_path: Path) -> None:
    # when the app is built with the default settings
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "METRICS_"))}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        check=False,
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then no prometheus_client module, and no metrics extension or middleware
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
