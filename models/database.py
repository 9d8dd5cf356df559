"""How the process talks to PostgreSQL."""

from __future__ import annotations

from typing import Any

import asyncpg  # type: ignore[import-untyped]
from tortoise.backends.base.config_generator import expand_db_url


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pool connection returned without asyncpg's reset statement.

    Tortoise takes a connection from the pool for each statement outside a transaction, and
    asyncpg's pool sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`
    each time one comes back: a second round trip per statement, which cost a read page about
    as much server CPU as its queries. That statement undoes session state, and this code keeps
    none on a pooled connection: no advisory locks, no cursors outside a transaction, no
    LISTEN (pub/sub is Redis), no session-level SET (server settings are given at connect).
    An open transaction is still rolled back on release (asyncpg does that apart from the
    statement).
    """

    def get_reset_query(self) -> str:
        return ""


def connection_config(db_url: str) -> str | dict[str, Any]:
    """What Tortoise's config takes for this URL: PostgreSQL URLs get the connection class."""
    if not db_url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        return db_url
    config = expand_db_url(db_url)
    config["credentials"]["connection_class"] = PooledConnection
    return config
