"""Job search latency: p50 of `jobs(first: 20, after:, filter: {query:})` at 1k and 100k jobs,
page 1 and page 50, on SQLite (a file database) and PostgreSQL (a fresh database).

Run it as a module from the project root (it is not a pytest test; pyproject's norecursedirs keeps
`tests/benchmarks` out of the default run). About 3 minutes:

    .venv/bin/python -m tests.benchmarks.bench_job_search
    .venv/bin/python -m tests.benchmarks.bench_job_search --explain      # and each page's plan
    .venv/bin/python -m tests.benchmarks.bench_job_search --backends sqlite --sizes 1000,20000

PostgreSQL is the server of BENCH_DATABASE_URL, else TEST_DATABASE_URL, else
postgres://postgres@127.0.0.1:5432; a database `bench_job_search_<random>` is created there and
dropped afterwards. SQLite uses a file in a temporary directory.

What is measured, per backend, size and page:
- `graphql`: time.perf_counter() around the whole `schema.execute(...)` of the real schema
  (parsing, validation, the cost limiter, resolvers, the SQL, serialization of 20 nodes), as an
  anonymous viewer;
- `raw`: `paginate(search_jobs(...).queryset, PageRequest(first=20, after=...))` only.
Page 50's cursor is found first by walking 49 pages. The cases of one data set run in turn
(page 1 graphql, page 1 raw, page 50 graphql, ...) with the garbage collector off, so a change in
the machine's load hits them alike; p10 is printed next to p50 as the less load-sensitive figure.

The search word is "selective": it is in ~1.25% of all jobs (~1% of the OPEN public ones the list
shows); the rest of every title and description is drawn (Zipf-weighted) from 4,000 made-up
consonant-vowel words, none of which the search word is a prefix of. At 1k jobs the word matches
~10 jobs, so there is no page 50 there: the page-depth ratio is taken at the larger size, the
size ratio on page 1. Its matches grow with the data (~10 at 1k, ~1,000 at 100k), and page 1
must order them all by date, so its size ratio measures that growth too. The `-rare` layers
search a second word, "hydrography", put in the same 10 of the first 1,000 jobs at every size:
their size ratio is the cost of finding a fixed set of matches in a larger index.

Jobs are bulk-inserted (Job.bulk_create, JobSkill.bulk_create, search_index.reindex_all()), then
PostgreSQL's tables get VACUUM ANALYZE; SQLite gets the sampled statistics every server process
refreshes (models/planner.py; --sqlite-analyze for a full ANALYZE instead). The 100k data set is the 1k one plus 99k more jobs drawn from the
same distribution. --pg-plan-cache-mode force_custom_plan shows what PostgreSQL does without
the generic plans it may switch asyncpg's prepared statements to after five runs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("LOG_JSON", "false")

from starlette.requests import Request
from tortoise import connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext
from tortoise.log import db_client_logger
from tortoise.transactions import in_transaction

from models import MODEL_MODULES
from models.jobs import search_index
from models.jobs.orm import (
    BudgetType,
    ExperienceLevel,
    Job,
    JobSkill,
    JobStatus,
    JobVisibility,
)
from models.jobs.search import JobSearch, search_jobs
from models.pagination import PageRequest, paginate
from models.planner import refresh_statistics
from models.profiles.catalog import ensure_skill_catalog
from models.profiles.orm import ClientProfile, Skill
from models.users.orm import User

TERM = "geospatial"
TERM_RATE = 0.0125
# In every RARE_EVERY-th of the first RARE_WITHIN jobs only: the same few matches at every size,
# so its size ratio is the cost of finding them in a larger index, not of more matches.
RARE_TERM = "hydrography"
RARE_EVERY = 100
RARE_WITHIN = 1000
PAGE_SIZE = 20
DEEP_PAGE = 50
SEED = 7
EPOCH = datetime(2026, 11, 1, tzinfo=UTC)
SPAN = timedelta(days=730)

QUERY = """
query Search($after: String, $term: String!) {
  jobs(first: 20, after: $after, filter: {query: $term}) {
    edges { cursor node { id title budgetType budget hourlyRateMax experienceLevel
                          proposalCount createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


# ------------------------------------------------------------------------------ data


def vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    """Pronounceable consonant-vowel words: never two vowels in a row, so the search word
    "geospatial" is a prefix of none of them."""
    consonants, vowels = "bdfklmnprstvz", "aeiou"
    words: set[str] = set()
    while len(words) < size:
        syllables = rng.randint(2, 4)
        words.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables)))
    return sorted(words)


@dataclass
class Generator:
    rng: random.Random
    words: list[str]
    weights: list[float]
    skills: list[Skill]
    clients: list[Any]
    generated: int = 0

    @classmethod
    def create(cls, skills: list[Skill], clients: list[Any]) -> Generator:
        rng = random.Random(SEED)
        words = vocabulary(rng)
        rng.shuffle(words)
        cumulative, total = [], 0.0
        for rank in range(len(words)):  # Zipf: a few common words, a long tail
            total += 1.0 / (rank + 1)
            cumulative.append(total)
        return cls(rng=rng, words=words, weights=cumulative, skills=skills, clients=clients)

    def text(self, count: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.weights, k=count)

    def jobs(self, count: int) -> tuple[list[Job], list[JobSkill]]:
        rng = self.rng
        rows: list[Job] = []
        links: list[JobSkill] = []
        for _ in range(count):
            self.generated += 1
            job_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            skills = rng.sample(self.skills, k=rng.randint(1, 3))
            title = self.text(rng.randint(4, 8))
            description = self.text(rng.randint(30, 60))
            if rng.random() < TERM_RATE:
                target = title if rng.random() < 0.3 else description
                target.insert(rng.randrange(len(target) + 1), TERM)
            if self.generated <= RARE_WITHIN and self.generated % RARE_EVERY == 0:
                description.append(RARE_TERM)
            created = EPOCH - SPAN * rng.random()
            roll = rng.random()
            status = (
                JobStatus.OPEN
                if roll < 0.88
                else JobStatus.CLOSED
                if roll < 0.95
                else JobStatus.DRAFT
            )
            fixed = rng.random() < 0.6
            budget = rng.randrange(500, 2_000_000, 500) if fixed else None
            rate_max = None if fixed else rng.randrange(1500, 15000, 500)
            rate_min = None if fixed else rate_max - rng.randrange(0, 1500, 500)
            value = budget if fixed else rate_max * 40
            rows.append(
                Job(
                    id=job_id,
                    client_id=rng.choice(self.clients),
                    created_at=created,
                    updated_at=created,
                    published_at=None if status == JobStatus.DRAFT else created,
                    title=" ".join(title).capitalize()[:150],
                    description=" ".join(description) + ".",
                    budget_type=BudgetType.FIXED if fixed else BudgetType.HOURLY,
                    budget_cents=budget,
                    hourly_rate_min_cents=rate_min,
                    hourly_rate_max_cents=rate_max,
                    budget_sort_cents=value,
                    experience_level=rng.choice(list(ExperienceLevel)),
                    visibility=(
                        JobVisibility.INVITE_ONLY if rng.random() < 0.05 else JobVisibility.PUBLIC
                    ),
                    status=status,
                    connects_required=4,
                    proposal_count=rng.randint(0, 30),
                    skill_names=" ".join(skill.name for skill in skills),
                )
            )
            links.extend(
                JobSkill(job_id=job_id, skill_id=skill.id, position=index)
                for index, skill in enumerate(skills)
            )
        return rows, links


async def add_jobs(generator: Generator, count: int) -> None:
    for start in range(0, count, 10_000):
        rows, links = generator.jobs(min(10_000, count - start))
        async with in_transaction():
            await Job.bulk_create(rows, batch_size=1000)
            await JobSkill.bulk_create(links, batch_size=2000)
    await search_index.reindex_all()


async def analyze(backend: str, sqlite_analyze: bool) -> None:
    client = connections.get("default")
    if backend == "postgres":
        await client.execute_script("VACUUM ANALYZE jobs")
        await client.execute_script("VACUUM ANALYZE job_skills")
    elif sqlite_analyze:
        await client.execute_script("ANALYZE")
    else:
        await refresh_statistics(client)  # what every server process does


# ------------------------------------------------------------------------------ measuring


@dataclass
class Result:
    backend: str
    size: int
    page: int
    layer: str
    p50_ms: float
    p10_ms: float
    p90_ms: float
    reps: int


async def estimate_s(actions: list[Callable[[], Awaitable[Any]]]) -> float:
    """Seconds one turn of every action takes, after warming caches and prepared statements."""
    total = 0.0
    for action in actions:
        for _ in range(3):
            await action()
        started = time.perf_counter()
        await action()
        total += time.perf_counter() - started
    return total


async def run_in_turn(
    actions: list[Callable[[], Awaitable[Any]]], reps: int, samples: list[list[float]]
) -> None:
    """Milliseconds of each action, run in turn (a, b, c, a, b, c, ...) with the garbage
    collector off, so that a change in the machine's load hits every action alike."""
    gc.collect()
    gc.disable()
    try:
        for _ in range(reps):
            for index, action in enumerate(actions):
                started = time.perf_counter()
                await action()
                samples[index].append((time.perf_counter() - started) * 1000)
    finally:
        gc.enable()


def _p(samples: list[float], quantile: float) -> float:
    ordered = sorted(samples)
    return (
        statistics.median(ordered)
        if quantile == 0.5
        else ordered[max(0, round(len(ordered) * quantile) - 1)]
    )


def fake_request() -> Request:
    return Request(
        {
            "type": "http",
            "method": "POST",
            "path": "/graphql",
            "headers": [],
            "query_string": b"",
            "client": ("203.0.113.7", 51000),
        }
    )


async def page_cursors(term: str, pages: int) -> tuple[list[str | None], int]:
    """The `after` cursor of pages 1..pages (None for page 1), walking the list in order."""
    listing = search_jobs(None, JobSearch(query=term), None)
    cursors: list[str | None] = [None]
    seen = 0
    while len(cursors) < pages:
        page = await paginate(
            listing.queryset,
            PageRequest(first=PAGE_SIZE, after=cursors[-1]),
            keys=listing.keys,
            descending=listing.descending,
        )
        seen += len(page.rows)
        if not page.has_next_page:
            break
        cursors.append(page.cursors[-1])
    return cursors, seen


@dataclass
class DataSet:
    size: int
    url: str | dict[str, Any]
    cursors: list[str | None]
    cases: list[tuple[int, str]]
    samples: list[list[float]]
    reps_per_cycle: int = 0


async def prepare(data: DataSet, backend: str, term: str) -> list[Callable[[], Awaitable[Any]]]:
    """The timed actions of one data set: (page 1, page 50) x (graphql, raw). The first call
    walks the pages for page 50's cursor."""
    from resolvers.context import Context
    from schema import build_schema

    schema = build_schema()
    matches = await search_jobs(None, JobSearch(query=term), None).queryset.count()
    if not data.cursors:
        data.cursors, _ = await page_cursors(term, DEEP_PAGE)
        print(
            f"  {backend} {data.size}: {matches} visible jobs match {term!r} "
            f"({matches / data.size:.2%}); {len(data.cursors)} pages reachable",
            flush=True,
        )
    actions: list[Callable[[], Awaitable[Any]]] = []
    cases: list[tuple[int, str]] = []
    for page in (1, DEEP_PAGE):
        if page > len(data.cursors):
            continue
        after = data.cursors[page - 1]
        expected = min(PAGE_SIZE, matches - (page - 1) * PAGE_SIZE)

        async def graphql(after: str | None = after, expected: int = expected) -> None:
            context = Context(
                request=fake_request(),
                response=None,
                request_id="bench",
                client_address="203.0.113.7",
            )
            result = await schema.execute(
                QUERY, variable_values={"after": after, "term": term}, context_value=context
            )
            assert result.errors is None, result.errors
            assert len(result.data["jobs"]["edges"]) == expected, result.data

        async def raw(after: str | None = after, expected: int = expected) -> None:
            listing = search_jobs(None, JobSearch(query=term), None)
            found = await paginate(
                listing.queryset,
                PageRequest(first=PAGE_SIZE, after=after),
                keys=listing.keys,
                descending=listing.descending,
            )
            assert len(found.rows) == expected

        actions += [graphql, raw]
        cases += [(page, "graphql"), (page, "raw")]
    rare_matches = await search_jobs(None, JobSearch(query=RARE_TERM), None).queryset.count()
    if not data.cases:
        print(
            f"  {backend} {data.size}: {rare_matches} visible jobs match {RARE_TERM!r}", flush=True
        )
    actions += [timed_graphql(schema, RARE_TERM, rare_matches), timed_raw(RARE_TERM, rare_matches)]
    cases += [(1, "graphql-rare"), (1, "raw-rare")]
    if not data.cases:
        data.cases = cases
        data.samples = [[] for _ in cases]
    return actions


def timed_graphql(schema: Any, term: str, matches: int) -> Callable[[], Awaitable[Any]]:
    """Page 1 of `term` through the whole GraphQL execution."""
    from resolvers.context import Context

    async def graphql() -> None:
        context = Context(
            request=fake_request(), response=None, request_id="bench", client_address="203.0.113.7"
        )
        result = await schema.execute(
            QUERY, variable_values={"after": None, "term": term}, context_value=context
        )
        assert result.errors is None, result.errors
        assert len(result.data["jobs"]["edges"]) == min(PAGE_SIZE, matches), result.data

    return graphql


def timed_raw(term: str, matches: int) -> Callable[[], Awaitable[Any]]:
    """Page 1 of `term` through `paginate(search_jobs(...))` alone."""

    async def raw() -> None:
        listing = search_jobs(None, JobSearch(query=term), None)
        found = await paginate(
            listing.queryset,
            PageRequest(first=PAGE_SIZE),
            keys=listing.keys,
            descending=listing.descending,
        )
        assert len(found.rows) == min(PAGE_SIZE, matches)

    return raw


class _LastSelect(logging.Handler):
    """Keeps the last SELECT ... FROM "jobs" Tortoise sent, with its bound values."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statement: tuple[str, list[Any]] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if (
            isinstance(args, tuple)
            and len(args) == 2
            and isinstance(args[0], str)
            and args[0].startswith("SELECT")
            and 'FROM "jobs"' in args[0]
        ):
            self.statement = (args[0], list(args[1] or []))


async def page_statement(term: str, after: str | None) -> tuple[str, list[Any]]:
    """The SELECT paginate() sends for this page and its parameters, as sent."""
    catcher = _LastSelect()
    previous = db_client_logger.level
    db_client_logger.setLevel(logging.DEBUG)
    db_client_logger.addHandler(catcher)
    try:
        listing = search_jobs(None, JobSearch(query=term), None)
        await paginate(
            listing.queryset,
            PageRequest(first=PAGE_SIZE, after=after),
            keys=listing.keys,
            descending=listing.descending,
        )
    finally:
        db_client_logger.removeHandler(catcher)
        db_client_logger.setLevel(previous)
    assert catcher.statement is not None
    return catcher.statement


async def print_plan(backend: str, term: str, after: str | None) -> None:
    sql, values = await page_statement(term, after)
    client = connections.get("default")
    print(f"      SQL: {sql}")
    print(f"      values: {values}")
    if backend == "postgres":
        # asyncpg prepares statements, and after five runs PostgreSQL may switch a prepared
        # statement to a generic plan (made without the parameter values): show both.
        literals = ", ".join(_literal(value) for value in values)
        for mode in ("force_custom_plan", "force_generic_plan"):
            async with in_transaction() as connection:
                await connection.execute_script(f"SET LOCAL plan_cache_mode = {mode}")
                await connection.execute_script(f"PREPARE bench_page AS {sql}")
                _, rows = await connection.execute_query(
                    f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE bench_page({literals})"
                )
                await connection.execute_script("DEALLOCATE bench_page")
            print(f"      [{mode}]")
            for row in rows:
                print("      | " + row["QUERY PLAN"])
    else:
        _, rows = await client.execute_query(f"EXPLAIN QUERY PLAN {sql}", values)
        for row in rows:
            print(f"      | {row['detail']}")
        started = time.perf_counter()
        await client.execute_query(sql, values)
        print(f"      | (one run: {(time.perf_counter() - started) * 1000:.1f} ms)")


def _literal(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "TRUE", False: "FALSE", None: "NULL"}[value]
    if isinstance(value, int | float):
        return repr(value)
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text.replace("'", "''") + "'"


# ------------------------------------------------------------------------------ backends


def postgres_url(database: str) -> str:
    base = (
        os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or "postgres://postgres@127.0.0.1:5432/postgres"
    )
    scheme, _, rest = base.partition("://")
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    return f"{scheme}://{authority}/{database}"


@asynccontextmanager
async def tortoise(url: str | dict[str, Any], *, create: bool = False) -> AsyncIterator[None]:
    # Tortoise caches each model's INSERT per connection name across contexts.
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
            _create_db=create,
            _enable_global_fallback=True,
        )
        yield


async def build(backend: str, size: int, sqlite_analyze: bool) -> None:
    """Schema, 200 clients and `size` jobs; every size draws the same first jobs."""
    await context_schema()
    users = [
        User(
            id=uuid.UUID(int=index + 1, version=4),
            email=f"c{index}@bench.example",
            display_name=f"Client {index}",
            password_hash="-",
        )
        for index in range(200)
    ]
    await User.bulk_create(users)
    profiles = [
        ClientProfile(
            id=uuid.UUID(int=10_000 + index, version=4), user_id=user.id, description="Bench client"
        )
        for index, user in enumerate(users)
    ]
    await ClientProfile.bulk_create(profiles)
    generator = Generator.create(
        list(await Skill.all().order_by("name")), [profile.id for profile in profiles]
    )
    await add_jobs(generator, size)
    await analyze(backend, sqlite_analyze)


async def context_schema() -> None:
    from tortoise import Tortoise

    await Tortoise.generate_schemas(safe=False)
    await search_index.create_search_structures(connections.get("default"))
    await ensure_skill_catalog()


async def run_backend(backend: str, sizes: list[int], args: argparse.Namespace) -> list[Result]:
    """Builds one database per size, then measures them in alternating cycles (1k, 100k, 1k,
    100k, ...), so that the size ratio, like the page ratio, compares figures taken under the
    same load."""
    tmp = tempfile.TemporaryDirectory(prefix="bench_job_search_")
    tag = uuid.uuid4().hex[:8]
    datasets: list[DataSet] = []
    for size in sizes:
        url: str | dict[str, Any]
        if backend == "postgres":
            url = postgres_url(f"bench_job_search_{tag}_{size}")
            if args.pg_plan_cache_mode != "auto":
                url = expand_db_url(url)
                url["credentials"]["server_settings"] = {"plan_cache_mode": args.pg_plan_cache_mode}
        else:
            url = f"sqlite://{Path(tmp.name) / f'bench_{size}.db'}"
        datasets.append(DataSet(size=size, url=url, cursors=[], cases=[], samples=[]))
    try:
        for data in datasets:
            started = time.perf_counter()
            async with tortoise(data.url, create=backend == "postgres"):
                await build(backend, data.size, args.sqlite_analyze)
            print(
                f"{backend}: {data.size} jobs loaded in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
        for cycle in range(args.cycles):
            for data in datasets:
                async with tortoise(data.url):
                    actions = await prepare(data, backend, TERM)
                    if cycle == 0:
                        turn = await estimate_s(actions)
                        reps = args.budget / len(datasets) / max(turn, 1e-6)
                        data.reps_per_cycle = max(
                            args.min_reps // args.cycles + 1,
                            min(args.max_reps // args.cycles + 1, int(reps / args.cycles)),
                        )
                    else:
                        await estimate_s(actions)  # warm up again after reconnecting
                    await run_in_turn(actions, data.reps_per_cycle, data.samples)
        results: list[Result] = []
        for data in datasets:
            print(f"  {backend} {data.size}:")
            for (page, layer), samples in zip(data.cases, data.samples, strict=True):
                result = Result(
                    backend,
                    data.size,
                    page,
                    layer,
                    _p(samples, 0.5),
                    _p(samples, 0.1),
                    _p(samples, 0.9),
                    len(samples),
                )
                results.append(result)
                print(
                    f"    page {page:>2} {layer:<12} p50 {result.p50_ms:8.2f} ms  "
                    f"p10 {result.p10_ms:8.2f} ms  p90 {result.p90_ms:8.2f} ms  "
                    f"({result.reps} reps)",
                    flush=True,
                )
            if args.explain:
                async with tortoise(data.url):
                    for page in dict.fromkeys(page for page, _ in data.cases):
                        print(f"    plan of page {page}:")
                        await print_plan(backend, TERM, data.cursors[page - 1])
                    print(f"    plan of page 1 of {RARE_TERM!r}:")
                    await print_plan(backend, RARE_TERM, None)
        return results
    finally:
        if backend == "postgres":
            for data in datasets:
                async with tortoise(data.url):
                    await connections.get("default").close()
                    await connections.get("default").db_delete()
        tmp.cleanup()


def report(results: list[Result], sizes: list[int]) -> None:
    print()
    print(
        f"{'backend':<9} {'layer':<12} {'jobs':>7} {'page':>4} {'p50 ms':>9} {'p10 ms':>9} "
        f"{'p90 ms':>9} {'reps':>5}"
    )
    for r in results:
        print(
            f"{r.backend:<9} {r.layer:<12} {r.size:>7} {r.page:>4} {r.p50_ms:>9.2f} "
            f"{r.p10_ms:>9.2f} {r.p90_ms:>9.2f} {r.reps:>5}"
        )
    by_key = {(r.backend, r.layer, r.size, r.page): r.p50_ms for r in results}
    small, large = min(sizes), max(sizes)
    print()
    print(
        f"{'backend':<9} {'layer':<12} {f'{large}/{small} (p1)':>16} {'goal':>5}   "
        f"{f'page{DEEP_PAGE}/page1 @{large}':>20} {'goal':>5}"
    )
    for backend in dict.fromkeys(r.backend for r in results):
        for layer in ("graphql", "raw", "graphql-rare", "raw-rare"):
            p1_small = by_key.get((backend, layer, small, 1))
            p1_large = by_key.get((backend, layer, large, 1))
            deep = by_key.get((backend, layer, large, DEEP_PAGE))
            size_ratio = p1_large / p1_small if p1_small and p1_large else None
            depth_ratio = deep / p1_large if deep and p1_large else None
            print(
                f"{backend:<9} {layer:<12} {_fmt(size_ratio):>16} {_ok(size_ratio, 1.5):>5}   "
                f"{_fmt(depth_ratio):>20} {_ok(depth_ratio, 1.2):>5}"
            )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _ok(value: float | None, goal: float) -> str:
    return "" if value is None else ("ok" if value <= goal else "MISS")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument(
        "--sizes", default="1000,100000", help="ascending; each adds jobs to the previous data set"
    )
    parser.add_argument("--min-reps", type=int, default=30)
    parser.add_argument("--max-reps", type=int, default=400)
    parser.add_argument(
        "--budget", type=float, default=30.0, help="seconds of timed runs to aim for per backend"
    )
    parser.add_argument(
        "--cycles", type=int, default=6, help="how many times to alternate between the data sets"
    )
    parser.add_argument("--explain", action="store_true", help="print each page's query plan")
    parser.add_argument(
        "--pg-plan-cache-mode",
        default="auto",
        choices=["auto", "force_custom_plan", "force_generic_plan"],
        help="PostgreSQL's plan_cache_mode for the benchmark's connections",
    )
    parser.add_argument(
        "--sqlite-analyze",
        action="store_true",
        help="run ANALYZE on SQLite too (production files are never analyzed)",
    )
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    started = time.perf_counter()
    results: list[Result] = []
    for backend in args.backends.split(","):
        results += asyncio.run(run_backend(backend.strip(), sizes, args))
    report(results, sizes)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
