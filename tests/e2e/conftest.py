"""Real server processes: `marketplace serve` on a free port, against a fresh database.

The database is a new SQLite file by default, or a new PostgreSQL database (created here and
dropped afterwards) when TEST_DATABASE_URL is set; pub/sub is in-process, or the Redis of
TEST_REDIS_URL when it is set. Under CI=true a configured but unreachable service fails the run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import postgres_url_for
from tests.services import TEST_DATABASE_URL, TEST_REDIS_URL, require_postgres, require_redis

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MARKETPLACE = Path(sys.executable).with_name("marketplace")
# Generous: `serve` applies the migrations first, which takes a while on a busy PostgreSQL.
READY_TIMEOUT_SECONDS = 60.0
GRACEFUL_TIMEOUT_SECONDS = 5
# The shared server gives up on a silent socket after 1 s instead of 5 s, to keep tests fast.
CONNECTION_INIT_TIMEOUT_SECONDS = 1.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Endpoint:
    """Where a server listens on the loopback: all that a client needs."""

    port: int

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"


@dataclass
class Server(Endpoint):
    process: subprocess.Popen[bytes]
    log_path: Path
    database_url: str
    broadcast_url: str

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                await asyncio.to_thread(self.process.wait, timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)
        return self.process.returncode


@asynccontextmanager
async def fresh_database(directory: Path) -> AsyncIterator[str]:
    if not TEST_DATABASE_URL:
        yield f"sqlite://{(directory / 'marketplace.db').resolve()}"
        return
    base_url = require_postgres()
    name = f"marketplace_e2e_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(base_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield postgres_url_for(base_url, name)
    finally:
        admin = await asyncpg.connect(base_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def broadcast_url() -> str:
    return require_redis() if TEST_REDIS_URL else "memory://"


async def wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    last = "no answer"
    async with httpx.AsyncClient(base_url=server.http_url, timeout=2) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                pytest.fail(
                    f"server exited with {server.process.returncode} before it was "
                    f"ready:\n{server.log()}",
                    pytrace=False,
                )
            try:
                response = await client.get("/readyz")
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text}"
            except httpx.TransportError as error:
                last = repr(error)
            await asyncio.sleep(0.1)
    await server.stop(signal.SIGKILL)
    pytest.fail(
        f"GET /readyz not 200 within {READY_TIMEOUT_SECONDS} s (last: {last}); "
        f"server log:\n{server.log()}",
        pytrace=False,
    )


@asynccontextmanager
async def run_server(
    directory: Path,
    database_url: str | None = None,
    *,
    migrate: bool = True,
    serve_args: Sequence[str] = (),
    **env: str,
) -> AsyncIterator[Server]:
    """A server on a fresh database, or on `database_url` (shared with other servers: let only
    one of them apply the migrations, `migrate=False` for the others). `serve_args` are more
    options of `marketplace serve`, such as `("--workers", "2")`."""
    directory.mkdir(parents=True, exist_ok=True)
    database = nullcontext(database_url) if database_url else fresh_database(directory)
    async with database as url:
        port = free_port()
        environment = {
            **os.environ,
            "DATABASE_URL": url,
            "PASSWORD_HASHING": "fast",
            "LOG_JSON": "false",
            "CONNECTION_INIT_TIMEOUT_SECONDS": str(CONNECTION_INIT_TIMEOUT_SECONDS),
            "UPLOAD_DIR": str(directory / "uploads"),
            **env,
        }
        environment.setdefault("BROADCAST_URL", broadcast_url())
        log_path = directory / f"server-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: ASYNC220 - a long-lived server: Popen returns at once, the handle is polled
                [
                    str(MARKETPLACE),
                    "serve",
                    "--port",
                    str(port),
                    "--graceful-timeout",
                    str(GRACEFUL_TIMEOUT_SECONDS),
                    *([] if migrate else ["--no-migrate"]),
                    *serve_args,
                ],
                cwd=PROJECT_ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = Server(
            process=process,
            port=port,
            log_path=log_path,
            database_url=url,
            broadcast_url=environment["BROADCAST_URL"],
        )
        try:
            await wait_until_ready(server)
            yield server
        finally:
            await server.stop()


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    """One server shared by a module's tests; each test signs up its own users."""
    async with run_server(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture
async def start_server(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    """A private server for a test that stops or breaks it; stopped at teardown if still up.
    `start(database_url, migrate=False, BROADCAST_URL=...)` puts several on one database and
    pub/sub."""
    async with AsyncExitStack() as stack:
        count = 0

        async def start(
            database_url: str | None = None,
            *,
            migrate: bool = True,
            serve_args: Sequence[str] = (),
            **env: str,
        ) -> Server:
            nonlocal count
            count += 1
            return await stack.enter_async_context(
                run_server(
                    tmp_path / f"server{count}",
                    database_url,
                    migrate=migrate,
                    serve_args=serve_args,
                    **env,
                )
            )

        yield start


@pytest.fixture(scope="module")
async def shared_database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database for a module's server processes (dropped
    afterwards): start them with `migrate=False`, together if need be."""
    require_postgres()
    async with fresh_database(tmp_path_factory.mktemp("database")) as url:
        migrated = await asyncio.to_thread(
            subprocess.run,
            [str(MARKETPLACE), "migrate"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            timeout=300,
        )
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        yield url
