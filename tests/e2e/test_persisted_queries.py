"""Persisted queries are shared by every server process on one Redis."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable

import httpx
import orjson

from tests.e2e.conftest import Server
from tests.services import require_redis

StartServer = Callable[..., Awaitable[Server]]


async def test_a_query_registered_through_one_process_runs_by_hash_on_another(
    start_server: StartServer, shared_database: str
) -> None:
    # given: two processes on one database and one Redis
    redis_url = require_redis()
    a, b = await asyncio.gather(
        start_server(shared_database, migrate=False, BROADCAST_URL=redis_url),
        start_server(shared_database, migrate=False, BROADCAST_URL=redis_url),
    )
    # A text of this run only, so that nothing registered before can answer for it.
    query = f"query Skills{uuid.uuid4().hex} {{ skills(first: 2) {{ slug }} }}"
    extensions = {
        "persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}
    }
    async with httpx.AsyncClient(timeout=10) as http:
        unknown = await http.post(f"{b.http_url}/graphql", json={"extensions": extensions})
        assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        # when: registered through A
        registered = await http.post(
            f"{a.http_url}/graphql", json={"query": query, "extensions": extensions}
        )
        # then: B runs it by its hash, over GET too
        by_hash = await http.get(
            f"{b.http_url}/graphql", params={"extensions": orjson.dumps(extensions).decode()}
        )
    assert registered.status_code == 200
    assert len(registered.json()["data"]["skills"]) == 2
    assert by_hash.status_code == 200
    assert by_hash.json() == registered.json()
    assert by_hash.headers["cache-control"].startswith("public")
