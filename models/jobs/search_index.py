"""Full-text search over jobs: SQLite FTS5, or a PostgreSQL tsvector with a GIN index.

The index only answers "which jobs match these words, how well"; every other filter (status,
budget, skills, visibility) is a WHERE on the jobs table, never part of the full-text query.
Search words are reduced to letters and digits before they reach SQL, so the text embedded in
the MATCH / tsquery literal can hold no quote or operator.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import RawSQL
from tortoise.queryset import QuerySet

from models.jobs.orm import JobStatus

MAX_TERMS = 8
_WORD = re.compile(r"\w+", re.UNICODE)

SQLITE_DDL = [
    (
        "CREATE VIRTUAL TABLE IF NOT EXISTS jobs_fts USING fts5("
        "job_id UNINDEXED, title, skills, description, tokenize = 'porter unicode61')"
    ),
]
POSTGRES_DDL = [
    "ALTER TABLE jobs ADD COLUMN IF NOT EXISTS search_vector tsvector",
    "CREATE INDEX IF NOT EXISTS jobs_search_vector_idx ON jobs USING GIN (search_vector)",
]
# PostgreSQL's parser keeps "Node.js", "5.1", "a/b" or "x@y.io" whole (host, version, file and
# email tokens), while search words are split at every such character (search_terms, and
# SQLite's tokenizer), so "node.js" could never match; split them in the indexed text too.
_SPLIT = "'./@:', '    '"
POSTGRES_VECTOR = (
    f"setweight(to_tsvector('english', translate(coalesce(title, ''), {_SPLIT})), 'A') || "
    f"setweight(to_tsvector('english', translate(coalesce(skill_names, ''), {_SPLIT})), 'B') || "
    f"setweight(to_tsvector('english', translate(coalesce(description, ''), {_SPLIT})), 'C')"
)


def dialect(client: BaseDBAsyncClient | None = None) -> str:
    return (client or connections.get("default")).capabilities.dialect


async def create_search_structures(client: BaseDBAsyncClient) -> None:
    """DDL the ORM cannot describe; run by the migration and by the test database setup."""
    for statement in SQLITE_DDL if dialect(client) == "sqlite" else POSTGRES_DDL:
        await client.execute_script(statement)


async def reindex(job_id: UUID) -> None:
    """Refresh one job's index entry from its row. Call inside the transaction that changed it."""
    client = connections.get("default")
    if dialect(client) == "sqlite":
        await client.execute_query("DELETE FROM jobs_fts WHERE job_id = ?", [str(job_id)])
        await client.execute_query(
            "INSERT INTO jobs_fts (job_id, title, skills, description) "
            "SELECT id, title, skill_names, description FROM jobs WHERE id = ?",
            [str(job_id)],
        )
    else:
        await client.execute_query(
            f"UPDATE jobs SET search_vector = {POSTGRES_VECTOR} WHERE id = $1", [job_id]
        )


async def reindex_all() -> None:
    client = connections.get("default")
    if dialect(client) == "sqlite":
        await client.execute_script("DELETE FROM jobs_fts")
        await client.execute_script(
            "INSERT INTO jobs_fts (job_id, title, skills, description) "
            "SELECT id, title, skill_names, description FROM jobs"
        )
    else:
        await client.execute_script(f"UPDATE jobs SET search_vector = {POSTGRES_VECTOR}")


def search_terms(text: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(text)][:MAX_TERMS]


def matching_ids_sql(terms: list[str], client: BaseDBAsyncClient | None = None) -> str:
    """A parenthesized SELECT of the ids of jobs matching every term (for `id IN ...`)."""
    if dialect(client) == "sqlite":
        return f"(SELECT job_id FROM jobs_fts WHERE jobs_fts MATCH '{_fts5(terms)}')"
    return (
        f"(SELECT id FROM jobs WHERE search_vector @@ to_tsquery('english', '{_tsquery(terms)}'))"
    )


def only_matching(queryset: QuerySet[Any], terms: list[str], *, status: JobStatus) -> QuerySet[Any]:
    """`queryset` (of jobs) narrowed to the jobs in `status` matching every term.

    On PostgreSQL this is a predicate on the row itself, `jobs.search_vector @@ query`, not
    `id IN (SELECT id FROM jobs WHERE ...)`: behind that self-join the planner either walks the
    (status, created_at) index probing the primary key once per row, or joins every match back
    to jobs, both several times slower at 100k jobs, and with a bound keyset cursor its generic
    plan walked the whole list to reach page 50 (tests/benchmarks/bench_job_search.py). Tortoise
    filters on an expression only through an annotation; the `= TRUE` it adds is a literal, not
    a bound parameter, so the planner folds it away and the GIN index serves generic plans too.
    The status is a literal in that expression too: as a bound parameter, the generic plan
    asyncpg's prepared statements switch to could not know that most jobs are open, and ANDed
    the GIN matches with a bitmap of the whole status index (3.8 ms instead of 0.1 ms for a
    rare word at 100k jobs).
    """
    if dialect() == "sqlite":
        return queryset.filter(status=status, id__in=RawSQL(matching_ids_sql(terms)))
    status_literal = JobStatus(status).value  # an enum member: nothing to escape
    return queryset.annotate(
        text_match=RawSQL(
            f"(jobs.search_vector @@ to_tsquery('english', '{_tsquery(terms)}') "
            f"AND jobs.status = '{status_literal}')"
        )
    ).filter(text_match=RawSQL("TRUE"))


def rank_sql(terms: list[str], client: BaseDBAsyncClient | None = None) -> str:
    """A per-row relevance score, higher is better."""
    if dialect(client) == "sqlite":
        # bm25 is lower-is-better and needs the FTS row; look it up by job id.
        return (
            f"(SELECT -bm25(jobs_fts, 0.0, 10.0, 5.0, 1.0) FROM jobs_fts "
            f"WHERE jobs_fts MATCH '{_fts5(terms)}' AND jobs_fts.job_id = jobs.id)"
        )
    return f"ts_rank_cd(jobs.search_vector, to_tsquery('english', '{_tsquery(terms)}'))"


def _fts5(terms: list[str]) -> str:
    return " ".join(f'"{term}"*' if len(term) > 2 else f'"{term}"' for term in terms)


def tsquery(terms: list[str]) -> str:
    """The PostgreSQL tsquery text of the terms (words only: nothing to escape)."""
    return _tsquery(terms)


def _tsquery(terms: list[str]) -> str:
    return " & ".join(f"{term}:*" if len(term) > 2 else term for term in terms)
