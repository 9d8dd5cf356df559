"""In-process CPU per request of the HTTP read benchmark's pages, and where it goes.

    .venv/bin/python -m tests.benchmarks.profile_reads [--database-url URL] [--sizes M,L]
        [--requests 300] [--profile dashboard-M] [--keep]

Without --database-url, a fresh PostgreSQL database (as bench_http: BENCH_DATABASE_URL, else
TEST_DATABASE_URL, else the local server) is migrated and seeded with bench_http's data, and
dropped afterwards unless --keep (it prints the URL to pass next time). Each page is asked
--requests times through the whole ASGI app (the view, the extensions, the executor, the
loaders, the driver, JSON), one request at a time, after a warm-up; the figure is the process's
CPU time per request, which leaves out PostgreSQL's own work and the load generator.
--profile DOCUMENT-SIZE prints cProfile's 40 most expensive functions of that page.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import pstats
import subprocess
import sys
import time
from typing import Any

import orjson

from tests.benchmarks import bench_http
from tests.benchmarks.bench_realtime import database_base_url, fresh_database


def request_of(document: str, size: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    headers = [(b"content-type", b"application/json"), (b"accept", b"application/json")]
    if document == "dashboard":
        headers.append((b"authorization", f"Bearer {bench_http.token_for(size)}".encode()))
        body = orjson.dumps({"query": bench_http.DASHBOARD, "variables": {}})
    else:
        body = orjson.dumps(
            {"query": bench_http.SEARCH, "variables": {"query": bench_http.TERMS[size]}}
        )
    return headers, body


async def call(app: Any, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
        "headers": headers,
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    if status != 200 or b'"errors"' in payload:
        raise RuntimeError(f"{status}: {payload[:500]!r}")
    return payload


async def measure(database_url: str, args: argparse.Namespace) -> None:
    os.environ.update(bench_http.server_env(database_url))
    from app import create_app
    from settings import get_settings

    get_settings.cache_clear()
    app = create_app(get_settings())
    async with app.router.lifespan_context(app):
        await asyncio.sleep(1)  # the scheduler's first statistics refresh
        for document in args.documents:
            for size in args.sizes:
                headers, body = request_of(document, size)
                for _ in range(20):
                    await call(app, headers, body)
                label = f"{document}-{size}"
                profiler = cProfile.Profile() if label in args.profile else None
                began = time.process_time()
                wall = time.perf_counter()
                if profiler is not None:
                    profiler.enable()
                for _ in range(args.requests):
                    await call(app, headers, body)
                if profiler is not None:
                    profiler.disable()
                cpu = (time.process_time() - began) / args.requests * 1000
                elapsed = (time.perf_counter() - wall) / args.requests * 1000
                print(
                    f"{label:14} CPU {cpu:6.2f} ms/request, wall {elapsed:6.2f} ms"
                    f"{' (profiled)' if profiler else ''}",
                    flush=True,
                )
                if profiler is not None:
                    stats = pstats.Stats(profiler, stream=sys.stdout)
                    stats.sort_stats(args.sort).print_stats(args.lines)


async def run(args: argparse.Namespace) -> None:
    if args.database_url:
        await measure(args.database_url, args)
        return
    async with contextlib.AsyncExitStack() as stack:
        if args.keep:
            import uuid

            import asyncpg  # type: ignore[import-untyped]

            base = database_base_url()
            scheme, _, rest = base.partition("://")
            authority = rest.split("/", 1)[0]
            name = f"profile_reads_{uuid.uuid4().hex[:8]}"
            admin = await asyncpg.connect(f"{scheme}://{authority}/postgres")
            await admin.execute(f'CREATE DATABASE "{name}"')
            await admin.close()
            database_url = f"{scheme}://{authority}/{name}"
        else:
            database_url = await stack.enter_async_context(fresh_database(database_base_url()))
        current = bench_http.current_checkout()
        await asyncio.to_thread(
            subprocess.run,
            [str(current.marketplace), "migrate"],
            cwd=current.root,
            env={**os.environ, **bench_http.server_env(database_url)},
            check=True,
            capture_output=True,
        )
        await bench_http.seed(database_url, args.sizes)
        print(f"database {database_url}{' (kept)' if args.keep else ''}", flush=True)
        await measure(database_url, args)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url")
    parser.add_argument(
        "--sizes", type=lambda text: [s.strip().upper() for s in text.split(",")], default=["M"]
    )
    parser.add_argument(
        "--documents",
        type=lambda text: [d.strip() for d in text.split(",")],
        default=["dashboard", "search"],
    )
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", action="append", default=[], help="e.g. dashboard-M")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the seeded database")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
