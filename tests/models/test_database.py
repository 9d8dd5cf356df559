"""models.database's pool: connections go back without a reset, and whatever a reset is for
still happens."""

from __future__ import annotations

import asyncio

import pytest

from models.database import LeanPool, PooledConnection, create_pool
from tests.services import require_postgres


async def one_connection_pool() -> LeanPool:
    return await create_pool(
        require_postgres(), min_size=1, max_size=1, connection_class=PooledConnection
    )


async def test_an_idle_connection_goes_back_and_is_served_again() -> None:
    pool = await one_connection_pool()
    try:
        first = await pool.acquire()
        backend = await first.fetchval("SELECT pg_backend_pid()")
        await pool.release(first)
        second = await pool.acquire()
        assert await second.fetchval("SELECT pg_backend_pid()") == backend
        await pool.release(second)
        assert pool.get_idle_size() == 1
    finally:
        await pool.close()


async def test_a_connection_released_in_a_transaction_is_rolled_back() -> None:
    pool = await one_connection_pool()
    try:
        connection = await pool.acquire()
        await connection.execute("CREATE TEMPORARY TABLE lean_pool_probe (n int)")
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute("INSERT INTO lean_pool_probe VALUES (1)")
        await pool.release(connection)
        connection = await pool.acquire()
        assert not connection.is_in_transaction()
        assert await connection.fetchval("SELECT count(*) FROM lean_pool_probe") == 0
        await pool.release(connection)
    finally:
        await pool.close()


async def test_a_released_connection_can_no_longer_be_used() -> None:
    pool = await one_connection_pool()
    try:
        connection = await pool.acquire()
        await pool.release(connection)
        with pytest.raises(Exception, match="released"):
            await connection.fetchval("SELECT 1")
        await pool.release(connection)  # a second release does nothing, as asyncpg's
    finally:
        await pool.close()


async def pool_with_idle_lifetime(lifetime: float, *, min_size: int = 1) -> LeanPool:
    return await create_pool(
        require_postgres(),
        min_size=min_size,
        max_size=3,
        max_inactive_connection_lifetime=lifetime,
        connection_class=PooledConnection,
    )


async def open_backends(pool: LeanPool) -> set[int]:
    """The PostgreSQL backends the pool's connections are, seen from another connection."""
    import asyncpg  # type: ignore[import-untyped]

    probe = await asyncpg.connect(require_postgres())
    try:
        pids = {holder._con.get_server_pid() for holder in pool._holders if holder._con}
        alive = await probe.fetch(
            "SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[])", list(pids)
        )
        return {row["pid"] for row in alive}
    finally:
        await probe.close()


async def test_idle_connections_above_the_minimum_are_closed_after_their_lifetime() -> None:
    pool = await pool_with_idle_lifetime(0.3)
    try:
        held = [await pool.acquire() for _ in range(3)]
        backends = {await connection.fetchval("SELECT pg_backend_pid()") for connection in held}
        for connection in held:
            await pool.release(connection)
        assert pool.get_size() == 3
        await asyncio.sleep(0.8)
        # The minimum stays open; the others are gone, on the server too.
        assert pool.get_size() == 1
        still_open = await open_backends(pool)
        assert len(still_open) == 1 and still_open <= backends
    finally:
        await pool.close()


async def test_a_connection_used_again_is_not_closed_before_a_whole_lifetime_of_idleness() -> None:
    pool = await pool_with_idle_lifetime(0.4, min_size=0)
    try:
        first, second = await pool.acquire(), await pool.acquire()
        await pool.release(first)
        await pool.release(second)
        await asyncio.sleep(0.25)
        # Used again just before its lifetime ran out: its idleness starts again from here.
        again = await pool.acquire()
        reused = await again.fetchval("SELECT pg_backend_pid()")
        await pool.release(again)
        await asyncio.sleep(0.3)  # 0.55 s after the first releases, 0.3 s after the last
        assert pool.get_size() == 1
        assert await open_backends(pool) == {reused}
        await asyncio.sleep(0.4)
        assert pool.get_size() == 0
        # An empty pool connects again on demand.
        connection = await pool.acquire()
        assert await connection.fetchval("SELECT 2") == 2
        await pool.release(connection)
    finally:
        await pool.close()


async def test_requests_do_not_leave_timers_behind_on_the_event_loop() -> None:
    loop = asyncio.get_running_loop()
    pool = await pool_with_idle_lifetime(300)
    try:
        connection = await pool.acquire()
        await pool.release(connection)
        before = len(loop._scheduled)  # type: ignore[attr-defined]
        for _ in range(200):
            connection = await pool.acquire()
            await connection.fetchval("SELECT 1")
            await pool.release(connection)
        # asyncpg's own pool arms a timer per release and cancels it at the next acquire.
        assert len(loop._scheduled) - before <= 1  # type: ignore[attr-defined]
    finally:
        await pool.close()
    assert not pool._idle_checks
