"""Where the real PostgreSQL and Redis of the test run are, and whether they must be there.

Under CI=true both TEST_DATABASE_URL and TEST_REDIS_URL must be set and reachable: a missing
server fails the run instead of skipping the tests that need it.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


def require_service(name: str, variable: str, url: str, default_port: int) -> None:
    """Skip locally when a service is not configured; fail under CI."""
    if not url:
        message = f"{name} tests need {variable}"
    elif not reachable(url, default_port):
        message = f"{name} at {url} ({variable}) is not reachable"
    else:
        return
    if IN_CI:
        pytest.fail(f"{message}; under CI=true this is a failure, not a skip", pytrace=False)
    pytest.skip(message)


def require_postgres() -> str:
    require_service("PostgreSQL", "TEST_DATABASE_URL", TEST_DATABASE_URL, 5432)
    return TEST_DATABASE_URL


def require_concurrent_postgres(backend: str) -> None:
    """For a test of concurrent transactions: PostgreSQL, through a pool of several connections
    (skipped on SQLite, which runs one transaction at a time)."""
    from tortoise import connections

    require_postgres()  # skips locally without PostgreSQL, fails under CI=true
    if backend != "postgres":
        pytest.skip("concurrency needs PostgreSQL; SQLite runs one transaction at a time")
    pool = connections.get("default")._pool
    assert pool is not None and pool.get_max_size() > 1, "no connection pool: nothing overlaps"


def require_redis() -> str:
    require_service("Redis", "TEST_REDIS_URL", TEST_REDIS_URL, 6379)
    return TEST_REDIS_URL
