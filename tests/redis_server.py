"""A real `redis-server` of a test's own, on a free port: the test may stop it (as in a crash),
freeze it (SIGSTOP: a Redis that accepts connections and never answers), and start it again on
the same port, and counts its subscriptions without anybody else's in the way.

Like every Redis test, it is skipped without TEST_REDIS_URL (failed under CI=true), and when the
redis-server binary is missing.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from redis import asyncio as aioredis

from tests.services import IN_CI, require_redis


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        with (self.directory / f"redis-{self.port}-{self.starts}.log").open("wb") as log:
            self.process = subprocess.Popen(  # noqa: ASYNC220 - a long-lived server: Popen returns at once, the handle is polled
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                ],
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while True:
            try:
                async with self.client() as client:
                    if await client.ping():
                        return
            except (OSError, aioredis.RedisError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on port {self.port} did not start")
                await asyncio.sleep(0.02)

    async def stop(self, sig: int = signal.SIGKILL) -> None:
        """SIGKILL by default: Redis going away as in a crash, without saying goodbye."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            await asyncio.to_thread(self.process.wait, 10)

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    @asynccontextmanager
    async def client(self) -> AsyncIterator[aioredis.Redis]:
        client = aioredis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=2)
        try:
            yield client
        finally:
            await client.aclose()

    async def numsub(self, channel: str) -> int:
        async with self.client() as client:
            [(_, count)] = await client.pubsub_numsub(channel)
        return int(count)

    async def wait_for_numsub(self, channel: str, expected: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while (count := await self.numsub(channel)) != expected:
            if time.monotonic() > deadline:
                pytest.fail(
                    f"PUBSUB NUMSUB {channel} is {count}, not {expected}, after {timeout} s",
                    pytrace=False,
                )
            await asyncio.sleep(0.05)


@asynccontextmanager
async def running_redis(directory: Path) -> AsyncIterator[RedisServer]:
    require_redis()
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    redis = RedisServer(directory)
    await redis.start()
    try:
        yield redis
    finally:
        if redis.process is not None and redis.process.poll() is None:
            redis.thaw()  # a frozen one would not hear SIGTERM
        await redis.stop(signal.SIGTERM)
