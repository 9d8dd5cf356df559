"""How the server connects to its database."""

from __future__ import annotations

import inspect
import re
from functools import lru_cache
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """A PostgreSQL connection that goes back to its pool without a reset.

    asyncpg resets every connection it takes back (advisory locks, cursors, LISTEN, session
    settings): a round trip per request outside a transaction and per transaction, a fifth of
    sendMessage's. Nothing here leaves such state behind a statement (no SET, LISTEN, cursor or
    session advisory lock), and an open transaction is still rolled back on release.
    """

    def get_reset_query(self) -> str:
        return ""


class LeanPool(asyncpg.Pool):  # type: ignore[misc]
    """A pool that takes back an idle connection without a task.

    asyncpg's release shields the holder's release in a new task, which enters a timeout
    context around a reset, even when there is nothing to reset: about a tenth of a
    statement's client CPU, twice per sendMessage. A PooledConnection outside any transaction,
    with no listener and not being cancelled, has nothing to reset and nothing to wait for, so
    it goes back to the queue at once, as asyncpg would put it there. Anything else takes
    asyncpg's own way.
    """

    async def release(self, connection: Any, *, timeout: float | None = None) -> None:
        holder = getattr(connection, "_holder", None)
        con = getattr(connection, "_con", None)
        if (
            type(connection) is asyncpg.pool.PoolConnectionProxy
            and holder is not None
            and holder._pool is self
            and isinstance(con, PooledConnection)
            and self._initialized
            and not self._closed
            and self._reset is None
            and holder._in_use is not None
            and holder._generation == self._generation
            and not con.is_closed()
            and not con._listeners
            and not con._log_listeners
            and con._top_xact is None
            and not con._protocol.is_in_transaction()
            and not con._protocol._is_cancelling()
            and con._protocol.queries_count < holder._max_queries
        ):
            con._on_release()
            holder._timeout = None
            holder._release()
            holder._setup_inactive_callback()
            return
        await super().release(connection, timeout=timeout)


# asyncpg.create_pool's keyword arguments and their defaults: it passes them all to its Pool.
_POOL_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(asyncpg.create_pool).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
}


def create_pool(dsn: str | None = None, **options: Any) -> LeanPool:
    """asyncpg.create_pool, making a LeanPool (to be awaited, as asyncpg's)."""
    return LeanPool(dsn, **{**_POOL_DEFAULTS, **options})


def connection_config(db_url: str) -> str | dict[str, Any]:
    """Tortoise's connection settings for a database URL."""
    config = expand_db_url(db_url)
    if config["engine"] != "tortoise.backends.asyncpg":
        return db_url
    config["credentials"]["connection_class"] = PooledConnection
    # Tortoise's asyncpg client with a LeanPool: Tortoise takes `client_class` from this module.
    config["engine"] = __name__
    return config


class LeanAsyncpgClient(AsyncpgDBClient):
    async def create_pool(self, **kwargs: Any) -> LeanPool:
        pool: LeanPool = await create_pool(None, **kwargs)
        return pool


client_class = LeanAsyncpgClient


def sql(client: BaseDBAsyncClient, statement: str) -> str:
    """A statement written with PostgreSQL's `$n` placeholders, for `client`'s dialect (SQLite
    numbers its parameters `?n`). For the few statements written by hand because the ORM's
    query builder cost more server CPU than the database did."""
    return _for_dialect(client.capabilities.dialect, statement)


@lru_cache(maxsize=64)
def _for_dialect(dialect: str, statement: str) -> str:
    return re.sub(r"\$(\d+)", r"?\1", statement) if dialect == "sqlite" else statement
