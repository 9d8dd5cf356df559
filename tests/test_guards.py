"""Guards on the shape of the project: the committed schema, the API contract, layering,
and migrations that build the same database the models describe."""

from __future__ import annotations

import ast
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from cli import SCHEMA_FILE, export_schema_sdl
from tests.services import require_postgres

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_CHECK = ROOT.parent / "shared" / "tools" / "check_contract.py"

# Breaches of ../shared/api/contract.graphql that belong to work not built yet: none now.
PENDING_CONTRACT: set[str] = set()
PENDING_MUTATIONS: set[str] = set()


def test_committed_schema_matches_the_code():
    assert SCHEMA_FILE.read_text() == export_schema_sdl(), (
        "schema.graphql is stale: run `marketplace export-schema -o schema.graphql`"
    )


def _pending(breach: str) -> bool:
    subject = breach.split()[-1]  # "missing field User.email" -> "User.email"
    type_name = subject.split(".")[0]
    return (
        subject in PENDING_CONTRACT
        or type_name in PENDING_CONTRACT
        or (type_name == "Mutation" and subject.split(".")[-1] in PENDING_MUTATIONS)
    )


@pytest.mark.skipif(not CONTRACT_CHECK.exists(), reason="../shared is not beside this checkout")
def test_contract_holds_for_everything_built():
    result = subprocess.run(
        [sys.executable, str(CONTRACT_CHECK), str(SCHEMA_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    breaches = lines[:-1]
    print(f"contract check: {lines[-1]}; {len(breaches)} breaches belong to later issues")
    unexpected = [breach for breach in breaches if not _pending(breach)]
    assert unexpected == []


def _imports_of(package: str, forbidden: tuple[str, ...]) -> list[str]:
    offenders = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [
                f"{path.relative_to(ROOT)}: {name}"
                for name in names
                if name.split(".")[0] in forbidden
            ]
    return offenders


def test_models_import_nothing_from_the_layers_above():
    assert _imports_of("models", ("schema", "resolvers", "realtime")) == []


def test_realtime_knows_nothing_of_graphql():
    # Shared streams render events through a callback; what GraphQL makes of them is schema/'s.
    assert _imports_of("realtime", ("strawberry", "graphql", "schema", "resolvers")) == []


# Columns the ORM cannot describe, added by migrations on purpose.
EXTRA_COLUMNS = {"postgres": {"jobs": {"search_vector"}}}


def _migrate(url: str) -> None:
    """`marketplace migrate` in its own process, exactly as an operator would run it."""
    result = subprocess.run(
        [sys.executable, "-m", "cli", "migrate"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


async def _postgres_columns(url: str) -> dict[str, set[str]]:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        rows = await connection.fetch(
            "SELECT table_name, column_name FROM "
            "information_schema.columns WHERE table_schema = 'public'"
        )
    finally:
        await connection.close()
    columns: dict[str, set[str]] = {}
    for row in rows:
        columns.setdefault(row["table_name"], set()).add(row["column_name"])
    return columns


def _sqlite_columns(path: Path) -> dict[str, set[str]]:
    with sqlite3.connect(path) as connection:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        return {
            table: {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}
            for table in tables
        }


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_migrations_build_the_tables_the_models_describe(database, tmp_path, backend):
    from tortoise import Tortoise

    expected = {
        model._meta.db_table: set(model._meta.db_fields)
        for app in Tortoise.apps.values()
        for model in app.values()
    }
    if backend == "postgres":
        import asyncpg

        from tests.conftest import postgres_url_for

        base = require_postgres()
        name = f"marketplace_migrate_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1))
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = postgres_url_for(base, name)
            _migrate(url)
            _migrate(url)  # a second run finds nothing to do
            actual = await _postgres_columns(url)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    else:
        path = tmp_path / "migrated.db"
        _migrate(f"sqlite://{path}")
        _migrate(f"sqlite://{path}")
        actual = _sqlite_columns(path)
    extra = EXTRA_COLUMNS.get(backend, {})
    assert {
        table: (actual.get(table) or set()) - extra.get(table, set()) for table in expected
    } == expected
