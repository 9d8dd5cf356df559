"""Metrics of a real `marketplace serve --workers 2` on PostgreSQL and Redis, scraped as
Prometheus would: whichever worker answered a request, the scrape on METRICS_PORT counts it,
because the serving process sums every worker's files (none of the workers answers a scrape).
The public port never serves /metrics, and without METRICS_ENABLED nothing listens on
METRICS_PORT.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.chat_support import (
    LOG_IN,
    execute,
    graphql,
    live_subscription,
    open_chat,
    send_message,
    socket_to,
)
from tests.e2e.conftest import MARKETPLACE, Server, free_port
from tests.services import require_postgres, require_redis

StartServer = Callable[..., Awaitable[Server]]
Sample = tuple[str, frozenset[tuple[str, str]]]

WORKERS = 2
SKILLS = "query Skills { skills(first: 2) { slug } }"
TOO_MANY_JOBS = "query TooManyJobs { jobs(first: 500) { nodes { id } } }"
LOG_IN_NAMED = LOG_IN.replace("mutation (", "mutation LogIn(")
REQUESTS = "marketplace_graphql_requests_total"


class Scraper:
    def __init__(self, port: int, directory: Path) -> None:
        self.url = f"http://127.0.0.1:{port}/metrics"
        self.directory = directory

    async def scrape(self) -> dict[Sample, float]:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(self.url)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }

    async def until(
        self, condition: Callable[[dict[Sample, float]], bool], timeout: float = 15.0
    ) -> dict[Sample, float]:
        deadline = time.monotonic() + timeout
        while True:
            samples = await self.scrape()
            if condition(samples):
                return samples
            shown = {k: v for k, v in samples.items() if not k[0].endswith("_bucket")}
            assert time.monotonic() < deadline, f"not within {timeout} s: {shown}"
            await asyncio.sleep(0.2)

    def per_worker(self, kind: str, name: str, **labels: str) -> dict[int, float]:
        """What each process wrote in its own file (`<kind>_<pid>.db`), by pid."""
        totals: dict[int, float] = {}
        for path in self.directory.glob(f"{kind}_*.db"):
            pid = int(path.stem.rsplit("_", 1)[1])
            for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):
                _, sample, sample_labels, _ = json.loads(key)
                if sample == name and labels.items() <= sample_labels.items():
                    totals[pid] = totals.get(pid, 0.0) + value
        return totals


def value(samples: dict[Sample, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: dict[Sample, float], name: str) -> float:
    return sum(v for (sample, _), v in samples.items() if sample == name)


def requests(samples: dict[Sample, float], name: str, kind: str, outcome: str) -> float:
    return value(samples, REQUESTS, operation_name=name, operation_type=kind, outcome=outcome)


async def test_two_workers_are_scraped_as_one(start_server: StartServer, tmp_path: Path) -> None:
    require_postgres()
    require_redis()
    # given two workers with metrics on a port of their own
    directory = tmp_path / "multiproc"
    port = free_port()
    server = await start_server(
        serve_args=("--workers", str(WORKERS)),
        METRICS_ENABLED="true",
        METRICS_PORT=str(port),
        PROMETHEUS_MULTIPROC_DIR=str(directory),
        SCHEDULER_INTERVAL_SECONDS="0.5",
    )
    metrics = Scraper(port, directory)
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        assert (await http.get("/metrics")).status_code == 404
    chat = await open_chat(server)
    before = await metrics.scrape()

    def moved(after: dict[Sample, float], name: str, kind: str, outcome: str) -> float:
        return requests(after, name, kind, outcome) - requests(before, name, kind, outcome)

    # when the same query is sent on new connections until both workers have answered it
    sent = 0
    while len(metrics.per_worker("counter", REQUESTS, operation_name="Skills")) < WORKERS:
        assert sent < 200, "one worker answered every request"
        await asyncio.gather(*(execute(server, SKILLS) for _ in range(5)))
        sent += 5
    # and a query that fails with a code, and a mutation with a userError
    failed = await graphql(server, TOO_MANY_JOBS)
    assert [e["extensions"]["code"] for e in failed["errors"]] == ["BAD_USER_INPUT"]
    refused = await execute(
        server, LOG_IN_NAMED, {"input": {"email": chat.client.email, "password": "wrong-one"}}
    )
    assert [e["code"] for e in refused["logIn"]["userErrors"]] == ["VALIDATION"]
    # and a subscription over a websocket, live (a message and a query to start it), then fed
    async with socket_to(server, chat.freelancer.token) as ws:
        subscription, _ = await live_subscription(ws, chat)
        await send_message(chat, "live")
        [live] = await subscription.take(1)
        assert live["body"] == "live"
        # then, while it is open
        during = await metrics.scrape()
        assert value(during, "marketplace_websockets_open") == 1
        assert value(during, "marketplace_subscriptions_active", field="messageAdded") == 1
        deliveries = "marketplace_subscription_deliveries_total"
        assert (
            value(during, deliveries, field="messageAdded")
            - value(before, deliveries, field="messageAdded")
            == 2  # the replayed message, the live one
        )
    # and once it is closed
    after = await metrics.until(
        lambda samples: (
            value(samples, "marketplace_websockets_open") == 0
            and value(samples, "marketplace_subscriptions_active", field="messageAdded") == 0
        )
    )
    # every request is counted once, whichever worker served it
    per_worker = metrics.per_worker("counter", REQUESTS, operation_name="Skills")
    assert len(per_worker) == WORKERS and all(count > 0 for count in per_worker.values())
    assert sum(per_worker.values()) == sent == moved(after, "Skills", "query", "ok")
    assert (
        value(after, "marketplace_graphql_request_duration_seconds_count", **SKILLS_LABELS)
        - value(before, "marketplace_graphql_request_duration_seconds_count", **SKILLS_LABELS)
        == sent
    )
    assert moved(after, "TooManyJobs", "query", "error") == 1
    assert moved(after, "LogIn", "mutation", "user_error") == 1
    assert moved(after, "anonymous", "mutation", "ok") == 2
    assert moved(after, "anonymous", "query", "ok") == 1
    assert moved(after, "anonymous", "subscription", "ok") == 1
    assert total(after, REQUESTS) - total(before, REQUESTS) == sent + 6
    errors, user_errors = (
        "marketplace_graphql_errors_total",
        "marketplace_graphql_user_errors_total",
    )
    assert total(after, errors) - total(before, errors) == 1
    assert value(after, errors, code="BAD_USER_INPUT") - value(
        before, errors, code="BAD_USER_INPUT"
    )
    assert total(after, user_errors) - total(before, user_errors) == 1
    assert value(after, user_errors, code="VALIDATION") - value(
        before, user_errors, code="VALIDATION"
    )
    # the scheduler runs in both workers (read after the scrape: they may have run again since)
    scheduler_runs = metrics.per_worker("counter", "marketplace_scheduler_runs_total", outcome="ok")
    assert len(scheduler_runs) == WORKERS
    assert (
        0
        < value(after, "marketplace_scheduler_runs_total", outcome="ok")
        <= sum(scheduler_runs.values())
    )

    # and both workers' PostgreSQL pools are summed (each samples its own every few seconds)
    def capacity() -> dict[int, float]:
        return metrics.per_worker("gauge_livesum", "marketplace_db_pool_max_connections")

    deadline = time.monotonic() + 15
    while len(capacity()) < WORKERS or not all(size >= 1 for size in capacity().values()):
        assert time.monotonic() < deadline, capacity()
        await asyncio.sleep(0.2)
    pools = await metrics.scrape()
    assert value(pools, "marketplace_db_pool_max_connections") == sum(capacity().values())
    open_connections = value(pools, "marketplace_db_pool_connections", state="in_use") + value(
        pools, "marketplace_db_pool_connections", state="idle"
    )
    assert WORKERS <= open_connections <= sum(capacity().values())

    # when a worker dies without its shutdown, with a subscriber on it
    async with socket_to(server, chat.freelancer.token) as ws:
        await live_subscription(ws, chat)
        holding = metrics.per_worker("gauge_livesum", "marketplace_websockets_open")
        [pid] = [pid for pid, sockets in holding.items() if sockets == 1]
        os.kill(pid, signal.SIGKILL)
        # then its socket and subscription are no longer summed, but what it counted still is
        gone = await metrics.until(
            lambda samples: (
                value(samples, "marketplace_websockets_open") == 0
                and value(samples, "marketplace_subscriptions_active", field="messageAdded") == 0
            )
        )
    assert requests(gone, "Skills", "query", "ok") == requests(after, "Skills", "query", "ok")


SKILLS_LABELS = {"operation_name": "Skills", "operation_type": "query"}


async def test_without_metrics_enabled_nothing_listens(start_server: StartServer) -> None:
    # given a server told a metrics port, but not to serve metrics
    port = free_port()
    server = await start_server(METRICS_ENABLED="false", METRICS_PORT=str(port))
    # then
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        assert (await execute(server, SKILLS))["skills"]
        assert (await http.get("/metrics")).status_code == 404
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/metrics")


async def test_a_taken_metrics_port_stops_serve_with_a_clear_error(tmp_path: Path) -> None:
    # given the port taken by somebody else
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # when
        done = await asyncio.to_thread(
            subprocess.run,
            [str(MARKETPLACE), "serve", "--no-migrate", "--port", str(free_port())],
            cwd=tmp_path,
            env={
                "PATH": "/usr/bin:/bin",
                "METRICS_ENABLED": "true",
                "METRICS_PORT": str(port),
                "LOG_JSON": "false",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    # then it stops at once, saying why, before serving anything
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"cannot serve metrics on 127.0.0.1:{port} (METRICS_PORT)" in done.stderr
