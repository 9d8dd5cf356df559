"""How the server connects to its database."""

from __future__ import annotations

import asyncio
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
    """A pool that takes back an idle connection without a task, and watches idle connections
    with one timer each, not one per release.

    asyncpg's release shields the holder's release in a new task, which enters a timeout
    context around a reset, even when there is nothing to reset: about a tenth of a
    statement's client CPU, twice per sendMessage. A PooledConnection outside any transaction,
    with no listener and not being cancelled, has nothing to reset and nothing to wait for, so
    it goes back to the queue at once, as asyncpg would put it there. Anything else takes
    asyncpg's own way.

    asyncpg also arms a timer for `max_inactive_connection_lifetime` at every release and
    cancels it at every acquire, so the event loop's heap takes a timer and a cancelled one
    per request: 3.5 % of the search page's server time by py-spy, 1.7 % of its
    instructions by callgrind. Here a connection's timer is
    armed when it goes idle with none pending, and when it fires it closes the connection only
    if it has been idle that long since its last release, else waits out the rest. The same
    connections close, at the same time, as asyncpg's would, down to `min_size` as asyncpg's.
    """

    def __init__(
        self, *connect_args: Any, max_inactive_connection_lifetime: float, **options: Any
    ) -> None:
        # asyncpg's holders arm no timer of their own with a lifetime of 0.
        super().__init__(*connect_args, max_inactive_connection_lifetime=0, **options)
        self._idle_lifetime = max_inactive_connection_lifetime
        self._idle_since: dict[Any, float] = {}
        self._idle_checks: dict[Any, asyncio.TimerHandle] = {}

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
            self._went_idle(holder)
            return
        await super().release(connection, timeout=timeout)
        if holder is not None and holder._pool is self and holder._in_use is None:
            self._went_idle(holder)

    def _went_idle(self, holder: Any) -> None:
        if not self._idle_lifetime or self.is_closing():
            return
        self._idle_since[holder] = self._loop.time()
        if holder not in self._idle_checks:
            self._idle_checks[holder] = self._loop.call_later(
                self._idle_lifetime, self._check_idle, holder
            )

    def _check_idle(self, holder: Any) -> None:
        del self._idle_checks[holder]
        if holder._in_use is not None or holder._con is None:
            return  # its next release watches it again
        idle_for = self._loop.time() - self._idle_since[holder]
        if idle_for < self._idle_lifetime:
            self._idle_checks[holder] = self._loop.call_later(
                self._idle_lifetime - idle_for, self._check_idle, holder
            )
            return
        # asyncpg's own: keeps a connection the pool's minimum needs, terminates any other.
        holder._deactivate_inactive_connection()

    def _stop_idle_checks(self) -> None:
        for check in self._idle_checks.values():
            check.cancel()
        self._idle_checks.clear()

    async def close(self) -> None:
        self._stop_idle_checks()
        await super().close()

    def terminate(self) -> None:
        self._stop_idle_checks()
        super().terminate()


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
