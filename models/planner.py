"""Statistics for the query planner.

SQLite keeps none unless asked, and without them it takes an equality on any indexed column
for a selective one: a job search for a rare word walked every open job in date order, probing
the full-text matches per row (23.6 ms at 100k jobs, against 1.6 ms once analyzed; see
tests/benchmarks/bench_job_search.py). PostgreSQL's autovacuum keeps its own statistics.
"""

from __future__ import annotations

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

# Rows sampled per index: approximate statistics, so that ANALYZE stays a few milliseconds on a
# large file instead of reading every row.
SQLITE_ANALYSIS_LIMIT = 1000


async def refresh_statistics(client: BaseDBAsyncClient | None = None) -> None:
    client = client or connections.get("default")
    if client.capabilities.dialect != "sqlite":
        return
    await client.execute_script(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}; ANALYZE;")
