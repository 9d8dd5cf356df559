"""models.database's pool: connections go back without a reset, and whatever a reset is for
still happens."""

from __future__ import annotations

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
