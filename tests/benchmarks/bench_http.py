"""Reads over HTTP: our GraphQL server against a hand-written endpoint of the same data.

Run it as a module from the project root (not a pytest test), one benchmark at a time:

    flock /tmp/bench.lock .venv/bin/python -m tests.benchmarks.bench_http
    flock /tmp/bench.lock .venv/bin/python -m tests.benchmarks.bench_http --baseline HEAD~5 \
        --duration 5 --rounds 3 --sizes S,M,L

A fresh PostgreSQL database (BENCH_DATABASE_URL, else TEST_DATABASE_URL, else
postgres://postgres@127.0.0.1:5432; dropped afterwards) gets three data sets: S, M and L, a
client with 10, 100 and 1,000 contracts (each with 3 milestones, 5 events and a freelancer
profile out of 50) and as many open jobs (each with 1-3 skills) carrying a search word of
their own. Beside them run, all at once and each loaded in turn:

- `graphql`: one `marketplace serve` process of this tree;
- `raw`: a hand-written endpoint of the same data (`create_raw_app` below): Starlette, SQL
  written by hand through asyncpg (the driver Tortoise uses, with a pool of 5 connections like
  Tortoise's default for ours), orjson, answering exactly the bytes
  our GraphQL answer's `data` holds (checked before loading);
- `base`: `marketplace serve` of the --baseline commit (default 7be0c42, where this work began),
  checked out with its own venv by tests/benchmarks/baseline.py;
- `graphql x2`: `marketplace serve --workers 2` of this tree (the dashboard at M only, against
  `graphql`, for the worker scaling; --skip-workers leaves it out).

The documents are the dashboard (`viewer.contracts`: the nearest real path to the issue's
`viewer.clientProfile.contracts`, which the schema does not have) signed in as the data set's
client, and the job search page (`jobs(first: 20, filter: {query:})` with client and skills)
anonymous: `search` asks the data set's word again and again, `search-new` asks it with one more
word on every request, never asked before and found in no job (`kestrel zq123...`: an empty
page), as most real searches are new text. Load: wrk (`apt-get install wrk`) pinned to the last core with taskset, --connections
keep-alive connections, or when wrk is absent a Python client process pinned the same way.
Each (document, size) runs --rounds rounds of --duration seconds per server, the servers in
a rotating order, so that the load of this shared machine hits them alike; req/s is the median
over the rounds, and `noise` the spread of the rounds ((max - min) / median). p50/p99 are the
median round's latencies. SQL statements per request are counted in-process with each tree's
own code (a Tortoise `db_client` log handler around one request through the app, after a warm-up
one), and for `raw` by the endpoint itself. `req/cpu-s` is requests per CPU-second of the
server's processes; `srv ms` and `PG ms` are the CPU time per request of the server and of
PostgreSQL (all its processes, read from /proc), medians over the rounds: on this shared machine
they say what a request costs where req/s says what share of the machine a server got.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import hashlib
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from tests.benchmarks.baseline import PROJECT_ROOT, Checkout, baseline_checkout, current_checkout
from tests.benchmarks.bench_realtime import (
    Process,
    database_base_url,
    free_port,
    fresh_database,
    load_average,
    wait_ready,
)

DASHBOARD = (
    "query Dashboard { viewer { contracts(first: 20) { edges { node { title status "
    "freelancer { user { displayName } rating { overall count } } "
    "milestones { title amount status autoReleaseAt } "
    "events(first: 3) { edges { node { kind createdAt } } } } } } } }"
)
SEARCH = (
    "query Search($query: String!) { jobs(first: 20, filter: {query: $query}) { edges { node { "
    "id title budgetType budget createdAt client { companyName rating { overall count } } "
    "skills { name slug } } } } }"
)
SIZES = {"S": 10, "M": 100, "L": 1000}
TERMS = {"S": "kestrel", "M": "osprey", "L": "condor"}
# In a `search-new` request, where each request puts a number of its own (a word never asked).
NEW = "@N@"
FREELANCERS = 50
MILESTONES_PER_CONTRACT = 3
EVENTS_PER_CONTRACT = 5
EPOCH = datetime(2026, 11, 1, tzinfo=UTC)
READY_TIMEOUT = 60.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
DOCUMENTS = ("dashboard", "search", "search-new")
GOALS = {("dashboard", "M"): 0.65, ("dashboard", "L"): 0.45, ("search", "S"): 0.7}
GOALS.update({("search", "M"): 0.7, ("search", "L"): 0.7})
WORKERS_GOAL = 1.6


def token_for(size: str) -> str:
    return f"bench-http-token-{size}"


# --------------------------------------------------------------------------- the raw endpoint

RAW_TOKEN_SQL = (
    "SELECT t.user_id FROM auth_tokens t WHERE t.token_hash = $1 AND t.revoked_at IS NULL "
    "AND t.expires_at > now()"
)
RAW_CONTRACTS_SQL = (
    "SELECT c.id, c.title, c.status, u.display_name, f.rating_count, f.rating_overall_sum "
    "FROM contracts c JOIN freelancer_profiles f ON f.id = c.freelancer_id "
    "JOIN users u ON u.id = f.user_id "
    "WHERE c.client_user_id = $1 OR c.freelancer_user_id = $1 "
    "ORDER BY c.created_at DESC, c.id DESC LIMIT 20"
)
RAW_MILESTONES_SQL = (
    "SELECT contract_id, title, amount_cents, status, auto_release_at FROM milestones "
    "WHERE contract_id = ANY($1::uuid[]) ORDER BY position"
)
RAW_EVENTS_SQL = (
    "SELECT contract_id, kind, created_at FROM (SELECT contract_id, kind, created_at, seq, "
    "ROW_NUMBER() OVER (PARTITION BY contract_id ORDER BY seq) AS n FROM contract_events "
    "WHERE contract_id = ANY($1::uuid[])) e WHERE n <= 3 ORDER BY seq"
)
RAW_JOBS_SQL = (
    "SELECT j.id, j.title, j.budget_type, j.budget_cents, j.created_at, c.company_name, "
    "c.rating_count, c.rating_overall_sum FROM jobs j JOIN client_profiles c ON c.id = j.client_id "
    "WHERE j.visibility = 'PUBLIC' AND j.status = 'OPEN' "
    "AND j.search_vector @@ to_tsquery('english', $1) "
    "ORDER BY j.created_at DESC, j.id DESC LIMIT 20"
)
RAW_SKILLS_SQL = (
    "SELECT js.job_id, s.name, s.slug FROM job_skills js JOIN skills s ON s.id = js.skill_id "
    "WHERE js.job_id = ANY($1::uuid[]) ORDER BY js.position"
)


def _money(cents: int | None) -> str | None:
    return None if cents is None else f"{cents // 100}.{cents % 100:02d}"


def _rating(count: int, overall_sum: int) -> dict[str, Any]:
    # Half up to the hundredth on the exact quotient, as the API rounds (rating_average).
    overall = (overall_sum * 200 + count) // (2 * count) / 100 if count else None
    return {"overall": overall, "count": count}


def _untied_count(rng: random.Random, low: int, high: int) -> int:
    """A number of reviews whose mean is never a tie at the hundredth (which needs a count
    divisible by 8): rating means rounded such ties to even before b9f75ae, so a baseline from
    before it answers these data sets as this tree does."""
    return rng.choice([n for n in range(low, high + 1) if n == 0 or n % 8])


def _global_id(type_name: str, pk: uuid.UUID) -> str:
    import base64

    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def create_raw_app() -> Any:
    """What a team would write by hand for these two pages (`uvicorn --factory` builds it)."""
    import asyncpg  # type: ignore[import-untyped]
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    url = os.environ["RAW_DATABASE_URL"]
    pool_size = int(os.environ.get("RAW_POOL_SIZE", "5"))
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(url, min_size=pool_size, max_size=pool_size)
        try:
            yield
        finally:
            await state["pool"].close()

    def answer(data: Any, statements: int) -> Response:
        return Response(
            orjson.dumps(data),
            media_type="application/json",
            headers={"x-statements": str(statements)},
        )

    async def dashboard(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip()
        async with state["pool"].acquire() as db:
            user_id = await db.fetchval(RAW_TOKEN_SQL, hashlib.sha256(token.encode()).hexdigest())
            if user_id is None:
                return answer({"viewer": None}, 1)
            contracts = await db.fetch(RAW_CONTRACTS_SQL, user_id)
            ids = [row["id"] for row in contracts]
            milestones: dict[uuid.UUID, list[dict[str, Any]]] = {pk: [] for pk in ids}
            for row in await db.fetch(RAW_MILESTONES_SQL, ids):
                at = row["auto_release_at"]
                milestones[row["contract_id"]].append(
                    {
                        "title": row["title"],
                        "amount": _money(row["amount_cents"]),
                        "status": row["status"],
                        "autoReleaseAt": at.isoformat() if at else None,
                    }
                )
            events: dict[uuid.UUID, list[dict[str, Any]]] = {pk: [] for pk in ids}
            for row in await db.fetch(RAW_EVENTS_SQL, ids):
                events[row["contract_id"]].append(
                    {"node": {"kind": row["kind"], "createdAt": row["created_at"].isoformat()}}
                )
        edges = [
            {
                "node": {
                    "title": row["title"],
                    "status": row["status"],
                    "freelancer": {
                        "user": {"displayName": row["display_name"]},
                        "rating": _rating(row["rating_count"], row["rating_overall_sum"]),
                    },
                    "milestones": milestones[row["id"]],
                    "events": {"edges": events[row["id"]]},
                }
            }
            for row in contracts
        ]
        return answer({"viewer": {"contracts": {"edges": edges}}}, 4)

    async def jobs(request: Request) -> Response:
        words = re.findall(r"\w+", request.query_params.get("query", "").lower())[:8]
        tsquery = " & ".join(f"{word}:*" if len(word) > 2 else word for word in words)
        async with state["pool"].acquire() as db:
            rows = await db.fetch(RAW_JOBS_SQL, tsquery)
            skills: dict[uuid.UUID, list[dict[str, str]]] = {row["id"]: [] for row in rows}
            for link in await db.fetch(RAW_SKILLS_SQL, list(skills)):
                skills[link["job_id"]].append({"name": link["name"], "slug": link["slug"]})
        edges = [
            {
                "node": {
                    "id": _global_id("Job", row["id"]),
                    "title": row["title"],
                    "budgetType": row["budget_type"],
                    "budget": _money(row["budget_cents"]),
                    "createdAt": row["created_at"].isoformat(),
                    "client": {
                        "companyName": row["company_name"],
                        "rating": _rating(row["rating_count"], row["rating_overall_sum"]),
                    },
                    "skills": skills[row["id"]],
                }
            }
            for row in rows
        ]
        return answer({"jobs": {"edges": edges}}, 2)

    async def healthz(request: Request) -> Response:
        return Response(b"ok")

    return Starlette(
        routes=[
            Route("/api/dashboard", dashboard),
            Route("/api/jobs", jobs),
            Route("/readyz", healthz),
        ],
        lifespan=lifespan,
    )


# --------------------------------------------------------------------------- data


async def seed(database_url: str, sizes: list[str]) -> None:
    """Bulk-inserted through the ORM of this tree; the schema comes from `marketplace migrate`."""
    from tortoise import Tortoise, connections
    from tortoise.transactions import in_transaction

    from auth.crypto.tokens import token_digest
    from models import tortoise_config
    from models.contracts.orm import (
        Contract,
        ContractEvent,
        ContractEventKind,
        ContractStatus,
        ContractType,
        Milestone,
        MilestoneStatus,
    )
    from models.jobs import search_index
    from models.jobs.orm import BudgetType, ExperienceLevel, Job, JobSkill, JobStatus
    from models.profiles.orm import ClientProfile, FreelancerProfile, Skill
    from models.users.orm import AuthToken, User

    rng = random.Random(13)
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        skills = list(await Skill.all().order_by("slug"))
        async with in_transaction():
            freelancers = []
            for index in range(FREELANCERS):
                user = await User.create(
                    email=f"freelancer{index}@bench.example",
                    display_name=f"Freelancer {index}",
                    password_hash="-",
                )
                count = _untied_count(rng, 0, 12)
                freelancers.append(
                    await FreelancerProfile.create(
                        user=user,
                        title=f"Developer {index}",
                        overview="Builds things.",
                        rating_count=count,
                        rating_overall_sum=sum(rng.randint(3, 5) for _ in range(count)),
                    )
                )
        for size in sizes:
            count = SIZES[size]
            async with in_transaction():
                client_user = await User.create(
                    email=f"client-{size}@bench.example",
                    display_name=f"Client {size}",
                    password_hash="-",
                )
                rated = _untied_count(rng, 1, 9)
                client = await ClientProfile.create(
                    user=client_user,
                    company_name=f"Company {size}",
                    description="Hires.",
                    rating_count=rated,
                    rating_overall_sum=sum(rng.randint(2, 5) for _ in range(rated)),
                )
                await AuthToken.create(
                    token_hash=token_digest(token_for(size)),
                    user=client_user,
                    expires_at=EPOCH + timedelta(days=3650),
                )
                jobs, links, contracts, milestones, events = [], [], [], [], []
                for index in range(count):
                    created = EPOCH - timedelta(minutes=7 * index + rng.randint(0, 5))
                    fixed = rng.random() < 0.6
                    job = Job(
                        id=uuid.uuid4(),
                        client_id=client.id,
                        created_at=created,
                        updated_at=created,
                        published_at=created,
                        title=f"{TERMS[size].capitalize()} platform work {index}",
                        description=f"Work on the {TERMS[size]} project, part {index}.",
                        budget_type=BudgetType.FIXED if fixed else BudgetType.HOURLY,
                        budget_cents=rng.randrange(10_000, 500_000, 50) if fixed else None,
                        hourly_rate_min_cents=None if fixed else 3000,
                        hourly_rate_max_cents=None if fixed else 6000,
                        budget_sort_cents=0,
                        experience_level=rng.choice(list(ExperienceLevel)),
                        status=JobStatus.OPEN,
                        connects_required=4,
                        skill_names="",
                    )
                    jobs.append(job)
                    for position, skill in enumerate(rng.sample(skills, k=rng.randint(1, 3))):
                        links.append(JobSkill(job_id=job.id, skill_id=skill.id, position=position))
                    freelancer = freelancers[index % FREELANCERS]
                    contract = Contract(
                        id=uuid.uuid4(),
                        created_at=created,
                        job_id=job.id,
                        client_id=client.id,
                        freelancer_id=freelancer.id,
                        client_user_id=client_user.id,
                        freelancer_user_id=freelancer.user_id,
                        title=f"Contract {size}-{index}",
                        terms="As agreed.",
                        contract_type=ContractType.FIXED,
                        status=rng.choice([ContractStatus.ACTIVE, ContractStatus.COMPLETED]),
                        started_at=created,
                    )
                    contracts.append(contract)
                    for position in range(MILESTONES_PER_CONTRACT):
                        status = rng.choice(list(MilestoneStatus))
                        milestones.append(
                            Milestone(
                                id=uuid.uuid4(),
                                created_at=created,
                                contract_id=contract.id,
                                position=position,
                                title=f"Milestone {position + 1}",
                                amount_cents=rng.randrange(1_000, 300_000),
                                status=status,
                                auto_release_at=(
                                    created + timedelta(days=14, microseconds=rng.randrange(10**6))
                                    if status == MilestoneStatus.SUBMITTED
                                    else None
                                ),
                            )
                        )
                    for step in range(EVENTS_PER_CONTRACT):
                        events.append(
                            ContractEvent(
                                public_id=uuid.uuid4(),
                                contract_id=contract.id,
                                kind=rng.choice(list(ContractEventKind)),
                                status=contract.status,
                                created_at=created + timedelta(hours=step, microseconds=step),
                            )
                        )
                await Job.bulk_create(jobs, batch_size=1000)
                await JobSkill.bulk_create(links, batch_size=2000)
                await Contract.bulk_create(contracts, batch_size=1000)
                await Milestone.bulk_create(milestones, batch_size=2000)
                await ContractEvent.bulk_create(events, batch_size=2000)
        await search_index.reindex_all()
        client = connections.get("default")
        for table in ("jobs", "job_skills", "contracts", "milestones", "contract_events"):
            await client.execute_script(f"VACUUM ANALYZE {table}")
    finally:
        await Tortoise.close_connections()


# --------------------------------------------------------------------------- servers


@contextlib.asynccontextmanager
async def started(
    name: str, command: list[str], env: dict[str, str], log_dir: Path, cwd: Path
) -> AsyncIterator[Process]:
    port = free_port()
    log_path = log_dir / f"{name.replace(' ', '_')}-{port}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(  # noqa: ASYNC220 - a long-lived server, polled below
            [*command, "--port", str(port)],
            cwd=cwd,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process = Process(name=name, process=popen, port=port, log_path=log_path)
    try:
        await wait_ready(process, "/readyz")
        yield process
    finally:
        if popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(popen.wait, 20)
            except subprocess.TimeoutExpired:
                os.killpg(popen.pid, signal.SIGKILL)
                await asyncio.to_thread(popen.wait)


def server_env(database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "BROADCAST_URL": "memory://",
        "LOG_JSON": "false",
        # Access log lines off for every server alike (uvicorn logs them at INFO).
        "LOG_LEVEL": "WARNING",
        "SCHEDULER_INTERVAL_SECONDS": "3600",
    }


def marketplace(
    name: str, checkout: Checkout, database_url: str, log_dir: Path, workers: int = 1
) -> Any:
    return started(
        name,
        [str(checkout.marketplace), "serve", "--no-migrate", "--workers", str(workers)],
        server_env(database_url),
        log_dir,
        checkout.root,
    )


def raw_server(database_url: str, log_dir: Path) -> Any:
    return started(
        "raw",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "tests.benchmarks.bench_http:create_raw_app",
            "--host",
            "127.0.0.1",
            "--log-level",
            "warning",
        ],
        {"RAW_DATABASE_URL": database_url},
        log_dir,
        PROJECT_ROOT,
    )


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Target:
    """One server answering one page: how to ask it."""

    label: str
    port: int
    pid: int
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    @property
    def varies(self) -> bool:
        return NEW in self.path or NEW.encode() in self.body

    def nth(self, number: int) -> Target:
        """The request as sent the `number`th time (the same, unless it varies)."""
        return dataclasses.replace(
            self,
            path=self.path.replace(NEW, str(number)),
            body=self.body.replace(NEW.encode(), str(number).encode()),
        )


def graphql_target(label: str, server: Process, document: str, size: str) -> Target:
    headers = {"content-type": "application/json", "accept": "application/json"}
    variables: dict[str, Any] = {}
    if document == "dashboard":
        headers["authorization"] = f"Bearer {token_for(size)}"
        query = DASHBOARD
    else:
        words = TERMS[size] if document == "search" else f"{TERMS[size]} zq{NEW}"
        query, variables = SEARCH, {"query": words}
    body = orjson.dumps({"query": query, "variables": variables})
    return Target(label, server.port, server.pid, "POST", "/graphql", headers, body)


def raw_target(server: Process, document: str, size: str) -> Target:
    if document == "dashboard":
        headers = {"authorization": f"Bearer {token_for(size)}"}
        return Target("raw", server.port, server.pid, "GET", "/api/dashboard", headers, b"")
    words = TERMS[size] if document == "search" else f"{TERMS[size]}+zq{NEW}"
    path = f"/api/jobs?query={words}"
    return Target("raw", server.port, server.pid, "GET", path, {}, b"")


async def fetch(target: Target) -> tuple[int, dict[str, str], bytes]:
    import httpx

    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.request(
            target.method, target.url, headers=target.headers, content=target.body or None
        )
        return response.status_code, dict(response.headers), response.content


def data_of(body: bytes) -> bytes:
    """The bytes of a GraphQL answer's `data`, as the server wrote them."""
    prefix = b'{"data":'
    if not body.startswith(prefix) or not body.endswith(b"}"):
        raise RuntimeError(f"not a plain data answer: {body[:300]!r}")
    return body[len(prefix) : -1]


COUNT_SCRIPT = r"""
import asyncio, json, logging, sys
from tortoise.log import db_client_logger
from app import create_app
from settings import get_settings

class Counter(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.count = 0
    def emit(self, record):
        if not record.getMessage().startswith(("Created connection", "Closed connection")):
            self.count += 1

async def call(app, request):
    # A bare ASGI call: the baseline's venv has no HTTP client library.
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/graphql", "raw_path": b"/graphql",
             "query_string": b"", "root_path": "", "client": ("127.0.0.1", 50000),
             "server": ("bench", 80),
             "headers": [(k.encode(), v.encode()) for k, v in request["headers"].items()]}
    body = request["body"].encode()
    sent = []
    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}
    async def send(message):
        sent.append(message)
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    assert status == 200, sent

async def main():
    requests = json.loads(sys.argv[1])
    app = create_app(get_settings())
    counts = []
    async with app.router.lifespan_context(app):
        await asyncio.sleep(1)  # the scheduler's first statistics refresh
        for request in requests:
            await call(app, request)
            counter = Counter()
            db_client_logger.setLevel(logging.DEBUG)
            db_client_logger.addHandler(counter)
            await call(app, request)
            db_client_logger.removeHandler(counter)
            counts.append(counter.count)
    print(json.dumps(counts))

asyncio.run(main())
"""


def statements_of(checkout: Checkout, database_url: str, targets: list[Target]) -> list[int]:
    """Statements per request of each target's document, run in-process by that tree's code."""
    requests = [{"body": t.nth(0).body.decode(), "headers": t.headers} for t in targets]
    done = subprocess.run(
        [str(checkout.python), "-c", COUNT_SCRIPT, json.dumps(requests)],
        cwd=checkout.root,
        env={**os.environ, **server_env(database_url), "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"counting statements of {checkout.label} failed:\n{done.stderr}")
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


# --------------------------------------------------------------------------- load


@dataclass
class Round:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    # Requests per CPU-second of the server's processes: on a shared, busy machine req/s
    # follows the CPU share the server got; this follows what a request costs.
    per_cpu_second: float = 0.0
    # PostgreSQL's CPU (every backend) per request, in ms: the part of a request's cost that
    # the server's own CPU does not show, and that SQL written by PostgreSQL moves there.
    database_ms: float = 0.0


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its descendants (uvicorn's workers, PostgreSQL's
    backends), those that ended included."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            # utime + stime, and cutime + cstime: what its children that ended had used (a
            # PostgreSQL backend that closes mid-round is still counted).
            total += sum(int(value) for value in fields[11:15]) / CLK_TCK
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def postmaster_pid() -> int | None:
    """The local PostgreSQL server's main process, whose children are its backends."""
    for pid_file in Path("/var/run/postgresql").glob("*.pid"):
        try:
            return int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return None


def pinned_core() -> list[str]:
    """The load generator runs on the last core, so a one-worker server mostly has the others."""
    cores = sorted(os.sched_getaffinity(0))
    return ["taskset", "-c", str(cores[-1])] if shutil.which("taskset") and len(cores) > 1 else []


def _lua(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal here (ASCII)


def _duration_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(target: Target, duration: float, connections: int, work_dir: Path) -> Round:
    script = work_dir / "request.lua"
    lines = [f"wrk.method = {_lua(target.method)}"]
    if target.body:
        lines.append(f"wrk.body = {_lua(target.body.decode())}")
    lines.extend(f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in target.headers.items())
    if target.varies:
        # A number of its own per request, from a start of its own per round (wrk's -t1 is
        # one Lua state), so no round repeats the words of another.
        lines += [
            f"local path, body = {_lua(target.path)}, {_lua(target.body.decode())}",
            f"local counter = {random.randrange(10**12)}",
            "request = function()",
            "  counter = counter + 1",
            "  local n = tostring(counter)",
            "  local this_body = nil",
            f'  if body ~= "" then this_body = (string.gsub(body, {_lua(NEW)}, n)) end',
            f"  return wrk.format(nil, (string.gsub(path, {_lua(NEW)}, n)), nil, this_body)",
            "end",
        ]
    script.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [
            *pinned_core(),
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--latency",
            # The default 2 s counts a slow answer on a busy machine as an error.
            "--timeout",
            "30s",
            "-s",
            str(script),
            target.url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    output = done.stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"{target.label}: errors under load:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"\s50%\s+(\S+)", output).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"\s99%\s+(\S+)", output).group(1)  # type: ignore[union-attr]
    return Round(rps, _duration_ms(p50), _duration_ms(p99))


async def _python_client(target: Target, duration: float, connections: int) -> Round:
    """HTTP/1.1 keep-alive requests over plain sockets: cheap enough not to need a library."""

    def request_of(sent: Target) -> bytes:
        head = [f"{sent.method} {sent.path} HTTP/1.1", "host: 127.0.0.1"]
        head += [f"{k}: {v}" for k, v in sent.headers.items()]
        head.append(f"content-length: {len(sent.body)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + sent.body

    request = request_of(target)
    varies = target.varies
    numbers = iter(range(random.randrange(10**12), 10**13))
    latencies: list[float] = []
    deadline = time.monotonic() + duration

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
        try:
            while time.monotonic() < deadline:
                began = time.monotonic()
                writer.write(request_of(target.nth(next(numbers))) if varies else request)
                status = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                if b" 200 " not in status:
                    raise RuntimeError(f"{target.label}: {status!r}")
                latencies.append(time.monotonic() - began)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    ordered = sorted(latencies)
    return Round(
        len(ordered) / duration,
        ordered[len(ordered) // 2] * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    )


def _python_client_process(target: Target, duration: float, connections: int, pipe: Any) -> None:
    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cores[-1]})
    pipe.send(asyncio.run(_python_client(target, duration, connections)))


def run_python_client(target: Target, duration: float, connections: int) -> Round:
    import multiprocessing

    receiver, sender = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(
        target=_python_client_process, args=(target, duration, connections, sender)
    )
    process.start()
    result: Round = receiver.recv()
    process.join()
    return result


def load(target: Target, duration: float, connections: int, work_dir: Path) -> Round:
    database = postmaster_pid()
    cpu_before = tree_cpu_seconds(target.pid)
    database_before = tree_cpu_seconds(database) if database else 0.0
    if shutil.which("wrk"):
        result = run_wrk(target, duration, connections, work_dir)
    else:
        result = run_python_client(target, duration, connections)
    cpu = tree_cpu_seconds(target.pid) - cpu_before
    requests = result.requests_per_second * duration
    result.per_cpu_second = requests / cpu if cpu > 0 else 0.0
    if database and requests:
        result.database_ms = (tree_cpu_seconds(database) - database_before) / requests * 1000
    return result


@dataclass
class Measured:
    document: str
    size: str
    target: str
    statements: int
    rounds: list[Round] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return statistics.median(r.requests_per_second for r in self.rounds)

    @property
    def per_cpu_second(self) -> float:
        return statistics.median(r.per_cpu_second for r in self.rounds)

    @property
    def database_ms(self) -> float:
        return statistics.median(r.database_ms for r in self.rounds)

    @property
    def noise(self) -> float:
        values = [r.requests_per_second for r in self.rounds]
        return (max(values) - min(values)) / self.rps if self.rps else 0.0

    @property
    def median_round(self) -> Round:
        ordered = sorted(self.rounds, key=lambda r: r.requests_per_second)
        return ordered[len(ordered) // 2]


async def measure(
    document: str,
    size: str,
    targets: list[Target],
    statements: dict[str, int],
    args: argparse.Namespace,
    work_dir: Path,
) -> list[Measured]:
    results = [Measured(document, size, t.label, statements[t.label]) for t in targets]
    for target in targets:  # warm-up: prepared statements, caches, the allocator
        await asyncio.to_thread(load, target, 1.0, args.connections, work_dir)
    for round_index in range(args.rounds):
        order = list(range(len(targets)))
        shift = round_index % len(order)
        for index in order[shift:] + order[:shift]:
            measured = await asyncio.to_thread(
                load, targets[index], args.duration, args.connections, work_dir
            )
            results[index].rounds.append(measured)
    for result in results:
        line = ", ".join(f"{r.requests_per_second:.0f}" for r in result.rounds)
        print(f"  {document:9} {size} {result.target:10} req/s per round: {line}", flush=True)
    return results


async def check_same_answers(graphql: list[Target], raw: Target) -> None:
    status, _headers, expected = await fetch(raw.nth(0))
    assert status == 200, expected
    for target in graphql:
        status, _, body = await fetch(target.nth(0))
        if status != 200 or data_of(body) != expected:
            raise RuntimeError(
                f"{target.label} and raw differ for {raw.path}:\n{body[:600]!r}\n{expected[:600]!r}"
            )


# --------------------------------------------------------------------------- report


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def report(results: list[Measured], workers: list[Measured], args: argparse.Namespace) -> None:
    by_key = {(m.document, m.size, m.target): m for m in results}
    print(
        f"\n{'document':10}{'size':5}{'server':11}{'req/s':>8}{'noise':>7}{'p50 ms':>8}"
        f"{'p99 ms':>8}{'SQL/req':>8}{'/raw':>7}{'/base':>7}{'req/cpu-s':>10}{'/raw':>7}"
        f"{'/base':>7}{'srv ms':>7}{'PG ms':>7}"
    )
    for m in results:
        raw = by_key[(m.document, m.size, "raw")]
        base = by_key.get((m.document, m.size, "base"))
        ratio = f"{m.rps / raw.rps:7.2f}" if m.target != "raw" else " " * 7
        over_base = f"{m.rps / base.rps:7.2f}" if base and m.target == "graphql" else " " * 7
        r = m.median_round
        cpu_ratio = (
            f"{m.per_cpu_second / raw.per_cpu_second:7.2f}" if m.target != "raw" else " " * 7
        )
        cpu_over_base = (
            f"{m.per_cpu_second / base.per_cpu_second:7.2f}"
            if base and m.target == "graphql"
            else " " * 7
        )
        print(
            f"{m.document:10}{m.size:5}{m.target:11}{m.rps:8.0f}{m.noise:7.0%}{r.p50_ms:8.1f}"
            f"{r.p99_ms:8.1f}{m.statements:8d}{ratio}{over_base}{m.per_cpu_second:10.0f}"
            f"{cpu_ratio}{cpu_over_base}{1000 / m.per_cpu_second if m.per_cpu_second else 0:7.3f}"
            f"{m.database_ms:7.3f}"
        )
    print("\ngoals (GraphQL/raw req/s of this tree):")
    for (document, size), goal in GOALS.items():
        ours = by_key.get((document, size, "graphql"))
        theirs = by_key.get((document, size, "raw"))
        if ours and theirs:
            share = ours.rps / theirs.rps
            per_cpu = ours.per_cpu_second / theirs.per_cpu_second
            print(
                f"  {document} {size}: {share:.2f} (goal >= {goal}) {_verdict(share >= goal)}; "
                f"per CPU-second {per_cpu:.2f}"
            )
    for document in DOCUMENTS:
        counts = {
            m.size: m.statements
            for m in results
            if m.document == document and m.target == "graphql"
        }
        flat = "flat" if len(set(counts.values())) == 1 else "GROWS"
        print(f"  {document} SQL statements per request by size: {counts} ({flat})")
    if workers:
        one, two = workers
        scaling = two.rps / one.rps
        print(
            f"  --workers 2 / 1 on the dashboard at {one.size}: {two.rps:.0f} / {one.rps:.0f} "
            f"req/s = {scaling:.2f} (goal >= {WORKERS_GOAL}) {_verdict(scaling >= WORKERS_GOAL)}"
        )
    print(
        f"\nload: {'wrk' if shutil.which('wrk') else 'Python client'} pinned to core "
        f"{max(os.sched_getaffinity(0))}, {args.connections} connections, "
        f"{args.rounds} rounds x {args.duration:g} s per server; machine: {os.cpu_count()} cores, "
        f"load average now {load_average()}"
    )


# --------------------------------------------------------------------------- main


async def run(args: argparse.Namespace) -> None:
    log_dir = Path(tempfile.mkdtemp(prefix="bench_http_"))
    current = current_checkout()
    base = None if args.baseline == "none" else baseline_checkout(args.baseline)
    print(
        f"PostgreSQL {database_base_url()}; this tree {current.label}"
        f"{'' if base is None else f', baseline {base.label}'}; logs in {log_dir}",
        flush=True,
    )
    load_at_start = load_average()
    results: list[Measured] = []
    workers: list[Measured] = []
    async with fresh_database(database_base_url()) as database_url:
        await asyncio.to_thread(
            subprocess.run,
            [str(current.marketplace), "migrate"],
            cwd=current.root,
            env={**os.environ, **server_env(database_url)},
            check=True,
            capture_output=True,
        )
        print("seeding ...", flush=True)
        await seed(database_url, args.sizes)
        async with contextlib.AsyncExitStack() as stack:
            ours = await stack.enter_async_context(
                marketplace("graphql", current, database_url, log_dir)
            )
            raw = await stack.enter_async_context(raw_server(database_url, log_dir))
            theirs = None
            if base is not None:
                theirs = await stack.enter_async_context(
                    marketplace("base", base, database_url, log_dir)
                )
            for document in DOCUMENTS:
                for size in args.sizes:
                    graphql = [graphql_target("graphql", ours, document, size)]
                    if theirs is not None:
                        graphql.append(graphql_target("base", theirs, document, size))
                    raw_one = raw_target(raw, document, size)
                    await check_same_answers(graphql, raw_one)
                    statements = {"graphql": statements_of(current, database_url, graphql[:1])[0]}
                    if base is not None:
                        statements["base"] = statements_of(base, database_url, graphql[1:])[0]
                    statements["raw"] = int((await fetch(raw_one.nth(0)))[1]["x-statements"])
                    print(f"{document} {size}: same answers; statements {statements}", flush=True)
                    results += await measure(
                        document, size, [*graphql, raw_one], statements, args, log_dir
                    )
        if not args.skip_workers:
            size = "M" if "M" in args.sizes else args.sizes[-1]
            async with contextlib.AsyncExitStack() as stack:
                one = await stack.enter_async_context(
                    marketplace("graphql", current, database_url, log_dir)
                )
                two = await stack.enter_async_context(
                    marketplace("graphql x2", current, database_url, log_dir, workers=2)
                )
                targets = [
                    graphql_target("graphql", one, "dashboard", size),
                    graphql_target("graphql x2", two, "dashboard", size),
                ]
                count = statements_of(current, database_url, targets[:1])[0]
                workers = await measure(
                    "dashboard",
                    size,
                    targets,
                    {"graphql": count, "graphql x2": count},
                    args,
                    log_dir,
                )
    print(f"\nload average at the start {load_at_start}")
    report(results, workers, args)
    if not args.keep_logs:
        shutil.rmtree(log_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", default="7be0c42", help="commit to compare ('none': skip)")
    parser.add_argument(
        "--sizes",
        type=lambda text: [s.strip().upper() for s in text.split(",")],
        default=["S", "M", "L"],
    )
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--skip-workers", action="store_true")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
