"""Real-time delivery: latency of one message to one subscriber, and fan-out of one message to
thousands of websocket subscribers spread over two server processes.

Run it as a module from the project root (it is not a pytest test; pyproject's norecursedirs keeps
`tests/benchmarks` out of the default run), one benchmark at a time on a shared machine. It needs
PostgreSQL and Redis:

    flock /tmp/bench.lock .venv/bin/python -m tests.benchmarks.bench_realtime
    flock /tmp/bench.lock .venv/bin/python -m tests.benchmarks.bench_realtime --fanout 5000,10000
    .venv/bin/python -m tests.benchmarks.bench_realtime --baseline none --skip-fanout
    .venv/bin/python -m tests.benchmarks.bench_realtime --skip-latency --fanout 1000 \
        --fanout-messages 20 --client-procs 1 --compression none

Every measurement of a `marketplace serve` runs for two trees in the same run, side by side:
this working tree and --baseline (a commit, default 7be0c42: before shared subscriptions and
the lean sendMessage), checked out under /tmp/marketplace-baselines with its own venv
(tests/benchmarks/baseline.py) and run from there, each on a database of its own that its own
`marketplace migrate` made. Which tree goes first alternates from one measurement to the next.
`--baseline none` measures this tree alone.

Options for sizes: --messages (latency samples, default 200, after --warmup 20),
--fanout (subscriber counts, default 1000,5000), --fanout-messages (default 10, after one
warm-up message), --client-procs (client processes for the fan-out, default 2),
--compression deflate|none (the websocket client's permessage-deflate offer; `deflate` is the
`websockets` library's default, and browsers offer it too).

PostgreSQL is the server of BENCH_DATABASE_URL, else TEST_DATABASE_URL, else
postgres://postgres@127.0.0.1:5432; a database `bench_realtime_<random>` is created there and
dropped afterwards. Redis is BENCH_REDIS_URL, else redis://127.0.0.1:6379/7 (pub/sub ignores
the db number; every channel name here is unique to the run).

What is measured (all times from time.monotonic(), CLOCK_MONOTONIC, comparable across the
processes of this machine):
- latency, one subscriber, `--messages` messages sent one after another (the next only once the
  previous one has arrived):
  (a) redis: redis-py PUBLISH → a redis-py pub/sub subscriber in this process (the baseline);
  (b) relay: redis-py PUBLISH → realtime.broadcast.Broadcaster in a tiny Starlette app run by
      uvicorn in a subprocess (`create_relay_app` below), which forwards each message to a plain
      websocket → this process receives it;
  (c) graphql: a `marketplace serve` process (fresh PostgreSQL database, BROADCAST_URL=redis://)
      and a graphql-transport-ws client subscribed to messageAdded { body cursor }; sendMessage
      mutations over HTTP (httpx, kept-alive connection). Measured from the mutation request's
      start (so it includes the mutation's own work: authentication, the transaction and its
      commit, the publish) to the subscriber's receipt. Decomposed with two more clocks:
      `c from response` = receipt − HTTP response received (negative when the event arrives
      before the mutation's own response), and `c from redis` = receipt − when a redis-py
      subscriber in this process (a tap on the interview's channel) saw the publish: the
      server's delivery path, though it shares the server's event loop with the rest of the
      mutation (its response, its log line), which the event arrives in the middle of;
  (b) on the same mutations: during (c), (b)'s relay is also subscribed to the interview's
      channel and forwards each sendMessage's event to a plain websocket of this process, so
      (c) / (b on the same mutations) compares the two delivery stacks on identical mutations
      (the issue's "mutation → subscriber"); (c) / (b) would divide a database transaction
      by a bare publish;
  (c') as (c) on the same socket, but no mutation: this process publishes message events on the
      interview's channel with redis-py, exactly as in (b): the GraphQL layer's own cost.
  Each server's CPU per message (user + system from /proc/<pid>/stat, 10 ms ticks, over all the
  messages) is reported beside (b), (c) and (c').
- sendMessage alone, nobody subscribed: its HTTP round trip and the server CPU per mutation
  (--messages of them after --warmup); then, on a server logging its SQL (LOG_LEVEL=DEBUG, so
  apart from the CPU measurement), the SQL statements of each of five requests, counted from
  the tortoise.db_client lines carrying the request's own X-Request-ID (the token lookup
  included; the first message of a conversation also notifies).
- fan-out, for each N of --fanout: two fresh `marketplace serve` processes on one database and
  one Redis; N websocket connections (half to each server) from --client-procs client processes
  (asyncio, `websockets` speaking graphql-transport-ws), all with the freelancer's token, each
  subscribed to messageAdded { body cursor } of one interview; then --fanout-messages
  sendMessage mutations (by the client, over HTTP to the first server), one at a time:
  - latency to last delivery: last receipt in any client − mutation request start (p50, p99 over
    the messages; with 10 messages p99 is the maximum), and the median delivery of each message;
  - deliveries per core-second: deliveries / CPU seconds (user + system, /proc/<pid>/stat) the
    two server processes used, summed over each message's window (mutation start to its last
    delivery; the idle --gap between messages is left out);
  - memory per connection: (VmRSS of both servers once every subscription is live − VmRSS
    before the first connection, after a warm-up of a few subscriptions) / N.
  - lost and duplicated: every client connection records the messages it received; a message
    that one of them already had counts as duplicated (the marker's replay and the warm-up
    included, and anything arriving late, counted at the end), a live connection that has not
    had a message when its wait (60 s) ends counts as lost.
  A subscription is known to be live when it has replayed a marker message: it is opened with
  `after:` the message before the marker, and a stream replays only once it has subscribed.
  For 10,000 subscribers (--fanout 10000) the file descriptor limit is raised to its hard limit
  in every process; --client-procs 2 gives each client process 5,000 connections.

--py-spy .venv/bin/py-spy (`pip install py-spy` into the venv; not a project dependency) records
both fan-out servers during the measured messages, as collapsed stacks in the log directory.
The machine's load average, and how busy every core was during the fan-out windows (servers,
clients, everything else), are printed: on a shared machine the latencies mean little when
"everything else" is large, while CPU per delivery and memory per connection hold.

The side-by-side table at the end holds issue 12's goals: 5,000 subscribers on two processes, p99
to the last delivery ≤ 300 ms, server CPU per delivery ≤ 60 µs, ≤ 40 KiB per connection, none
lost or duplicated; sendMessage → subscriber p50 ≤ 5 ms; server CPU per sendMessage ≤ 2 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import math
import multiprocessing
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tests.benchmarks.baseline import Checkout, baseline_checkout, current_checkout

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The commit before shared subscriptions and the lean sendMessage (issue 12).
DEFAULT_BASELINE = "7be0c42"
PROTOCOL = "graphql-transport-ws"
READY_TIMEOUT = 30.0
GRACEFUL_SECONDS = 5
CLK_TCK = os.sysconf("SC_CLK_TCK")

# --------------------------------------------------------------------------- (b)'s relay app


def create_relay_app() -> Any:
    """A Starlette app: /relay/{channel} subscribes to the channel through our Broadcaster and
    forwards every message to the websocket. `uvicorn --factory` builds it in the subprocess."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    from realtime.broadcast import RESYNC, Broadcaster

    broadcast = Broadcaster(os.environ["RELAY_BROADCAST_URL"])

    async def relay(websocket: WebSocket) -> None:
        await websocket.accept()
        async with broadcast.subscribe(websocket.path_params["channel"]) as subscriber:
            await websocket.send_text("ready")
            with contextlib.suppress(WebSocketDisconnect):
                async for event in subscriber:
                    if event.message != RESYNC:
                        await websocket.send_text(event.message)

    async def healthz(request: Any) -> PlainTextResponse:
        return PlainTextResponse("ok")

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async with broadcast:
            yield

    return Starlette(
        routes=[WebSocketRoute("/relay/{channel}", relay), Route("/healthz", healthz)],
        lifespan=lifespan,
    )


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle (any process), from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / CLK_TCK


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class Process:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    async def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, GRACEFUL_SECONDS + 10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)


async def wait_ready(process: Process, path: str) -> None:
    import httpx

    deadline = time.monotonic() + READY_TIMEOUT
    last = "no answer"
    async with httpx.AsyncClient(base_url=process.http_url, timeout=2) as http:
        while time.monotonic() < deadline:
            if process.process.poll() is not None:
                raise RuntimeError(
                    f"{process.name} exited with {process.process.returncode}:\n"
                    f"{process.log_path.read_text(errors='replace')[-4000:]}"
                )
            try:
                response = await http.get(path)
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text}"
            except httpx.TransportError as error:
                last = repr(error)
            await asyncio.sleep(0.1)
    raise RuntimeError(
        f"{process.name} not ready within {READY_TIMEOUT} s ({last}):\n"
        f"{process.log_path.read_text(errors='replace')[-4000:]}"
    )


@contextlib.asynccontextmanager
async def started(
    name: str,
    command: list[str],
    env: dict[str, str],
    log_dir: Path,
    ready_path: str,
    *,
    cwd: Path = PROJECT_ROOT,
) -> AsyncIterator[Process]:
    port = free_port()
    log_path = log_dir / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(  # noqa: ASYNC220 - a long-lived server: Popen returns at once, the handle is polled
            [*command, "--port", str(port)],
            cwd=cwd,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    process = Process(name=name, process=popen, port=port, log_path=log_path)
    try:
        await wait_ready(process, ready_path)
        yield process
    finally:
        await process.stop()


def marketplace_server(
    name: str,
    database_url: str,
    redis_url: str,
    log_dir: Path,
    *,
    migrate: bool,
    tree: Checkout,
    **env: str,
) -> Any:
    """`marketplace serve` of `tree` (this checkout or the baseline's), run from its root."""
    return started(
        f"{name}-{tree.label}",
        [
            str(tree.marketplace),
            "serve",
            "--graceful-timeout",
            str(GRACEFUL_SECONDS),
            *([] if migrate else ["--no-migrate"]),
        ],
        {
            "DATABASE_URL": database_url,
            "BROADCAST_URL": redis_url,
            "PASSWORD_HASHING": "fast",
            "LOG_JSON": "false",
            **env,
        },
        log_dir,
        "/readyz",
        cwd=tree.root,
    )


async def migrate(tree: Checkout, database_url: str) -> None:
    """`marketplace migrate` of `tree`: each tree runs on a database of its own schema."""
    done = await asyncio.to_thread(
        subprocess.run,
        [str(tree.marketplace), "migrate"],
        cwd=tree.root,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"migrating {tree.label} failed:\n{done.stdout!r}\n{done.stderr!r}")


def relay_server(redis_url: str, log_dir: Path) -> Any:
    return started(
        "relay",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "tests.benchmarks.bench_realtime:create_relay_app",
            "--host",
            "127.0.0.1",
            "--ws",
            "websockets-sansio",
            "--log-level",
            "warning",
        ],
        {"RELAY_BROADCAST_URL": redis_url},
        log_dir,
        "/healthz",
    )


@contextlib.asynccontextmanager
async def fresh_database(base_url: str) -> AsyncIterator[str]:
    import asyncpg

    name = f"bench_realtime_{uuid.uuid4().hex[:10]}"
    scheme, _, rest = base_url.partition("://")
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    admin_url = f"{scheme}://{authority}/postgres"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"{scheme}://{authority}/{name}"
    finally:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


# --------------------------------------------------------------------------- GraphQL


SIGN_UP = """mutation ($input: SignUpInput!) {
  signUp(input: $input) { token user { id } userErrors { field message code } } }"""
CREATE_CLIENT_PROFILE = """mutation ($input: ClientProfileInput!) {
  createClientProfile(input: $input) { userErrors { field message code } } }"""
CREATE_FREELANCER_PROFILE = """mutation ($input: FreelancerProfileInput!) {
  createFreelancerProfile(input: $input) { userErrors { field message code } } }"""
POST_JOB = """mutation ($input: PostJobInput!) {
  postJob(input: $input) { job { id } userErrors { field message code } } }"""
SUBMIT_PROPOSAL = """mutation ($input: SubmitProposalInput!) {
  submitProposal(input: $input) { proposal { id } userErrors { field message code } } }"""
START_INTERVIEW = """mutation ($input: StartInterviewInput!) {
  startInterview(input: $input) {
    interview { id lastMessage { id body cursor } } userErrors { field message code } } }"""
SEND_MESSAGE = """mutation ($input: SendMessageInput!) {
  sendMessage(input: $input) { message { id cursor } userErrors { field message code } } }"""
MESSAGE_BODIES = """subscription ($interviewId: ID!, $after: String) {
  messageAdded(interviewId: $interviewId, after: $after) { body cursor } }"""


class Api:
    """GraphQL over HTTP to one server, on one kept-alive connection."""

    def __init__(self, base_url: str) -> None:
        import httpx

        self.http = httpx.AsyncClient(base_url=base_url, timeout=60)

    async def close(self) -> None:
        await self.http.aclose()

    async def mutate(
        self,
        query: str,
        input: dict[str, Any],
        token: str | None = None,
        *,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        headers = {
            "accept": "application/graphql-response+json",
            "content-type": "application/json",
        }
        if token:
            headers["authorization"] = f"Bearer {token}"
        if request_id:
            headers["x-request-id"] = request_id
        response = await self.http.post(
            "/graphql",
            headers=headers,
            content=orjson.dumps({"query": query, "variables": {"input": input}}),
        )
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.text}")
        body = orjson.loads(response.content)
        if "errors" in body:
            raise RuntimeError(body)
        (payload,) = body["data"].values()
        if payload["userErrors"]:
            raise RuntimeError(payload)
        return payload


@dataclass
class Chat:
    client_token: str
    freelancer_token: str
    interview_id: str
    first_cursor: str

    @property
    def channel(self) -> str:
        raw = base64.urlsafe_b64decode(self.interview_id + "=" * (-len(self.interview_id) % 4))
        return "interview:" + raw.decode().split(":", 1)[1]

    async def send(self, api: Api, body: str, request_id: str | None = None) -> dict[str, Any]:
        return (
            await api.mutate(
                SEND_MESSAGE,
                {"interviewId": self.interview_id, "body": body},
                self.client_token,
                request_id=request_id,
            )
        )["message"]


async def open_chat(api: Api) -> Chat:
    async def sign_up(name: str) -> str:
        payload = await api.mutate(
            SIGN_UP,
            {
                "email": f"bench-{uuid.uuid4().hex[:10]}@example.com",
                "password": "correct-horse-battery",
                "displayName": name,
            },
        )
        return payload["token"]

    client, freelancer = await asyncio.gather(sign_up("Bench Client"), sign_up("Bench Freelancer"))
    await api.mutate(
        CREATE_CLIENT_PROFILE, {"description": "Benchmarks.", "companyName": "Acme"}, client
    )
    await api.mutate(
        CREATE_FREELANCER_PROFILE,
        {
            "title": "GraphQL developer",
            "overview": "Strawberry and Tortoise.",
            "skills": ["python", "graphql"],
            "hourlyRate": "50",
        },
        freelancer,
    )
    job = (
        await api.mutate(
            POST_JOB,
            {
                "title": f"Benchmark chat {uuid.uuid4().hex[:6]}",
                "description": "Fan-out.",
                "skills": ["python", "graphql"],
                "budgetType": "FIXED",
                "budget": "500",
                "experienceLevel": "EXPERT",
            },
            client,
        )
    )["job"]
    proposal = (
        await api.mutate(
            SUBMIT_PROPOSAL,
            {"jobId": job["id"], "coverLetter": "I have built this before.", "bidAmount": "450"},
            freelancer,
        )
    )["proposal"]
    interview = (
        await api.mutate(
            START_INTERVIEW, {"proposalId": proposal["id"], "message": "Hello"}, client
        )
    )["interview"]
    return Chat(
        client_token=client,
        freelancer_token=freelancer,
        interview_id=interview["id"],
        first_cursor=interview["lastMessage"]["cursor"],
    )


async def graphql_socket(ws_url: str, token: str, *, compression: str | None) -> Any:
    from websockets.asyncio.client import connect

    connection = await connect(
        ws_url,
        subprotocols=[PROTOCOL],
        open_timeout=60,
        ping_interval=None,
        compression=compression,
        max_queue=None,
    )
    await connection.send(
        orjson.dumps(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        ).decode()
    )
    async with asyncio.timeout(60):
        ack = orjson.loads(await connection.recv())
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"no connection_ack: {ack}")
    return connection


async def subscribe_live(connection: Any, chat: Chat, marker: str) -> None:
    """Subscribe after the message before `marker`; returns once the marker has been replayed."""
    await connection.send(
        orjson.dumps(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {
                    "query": MESSAGE_BODIES,
                    "variables": {"interviewId": chat.interview_id, "after": chat.first_cursor},
                },
            }
        ).decode()
    )
    async with asyncio.timeout(120):
        while True:
            message = orjson.loads(await connection.recv())
            if message.get("type") == "ping":
                await connection.send('{"type":"pong"}')
                continue
            if message.get("type") != "next" or "errors" in message["payload"]:
                raise RuntimeError(f"subscription failed: {message}")
            if message["payload"]["data"]["messageAdded"]["body"] == marker:
                return


# --------------------------------------------------------------------------- statistics


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: with 10 values p99 is the largest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


@dataclass
class Latency:
    name: str
    samples: list[float]
    note: str = ""
    # CPU seconds the server process (relay or marketplace) used per message, all messages
    # (warm-up included) over their count; None where there is no server.
    server_cpu: float | None = None

    @property
    def p50(self) -> float:
        return percentile(self.samples, 50)

    @property
    def p99(self) -> float:
        return percentile(self.samples, 99)


# --------------------------------------------------------------------------- latency


class Arrivals:
    """Receipt times by message key, for a reader task to fill and the sender to wait on."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[float]] = {}

    def expect(self, key: str) -> asyncio.Future[float]:
        future = asyncio.get_running_loop().create_future()
        self.waiting[key] = future
        return future

    def arrived(self, key: str, at: float) -> None:
        future = self.waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result(at)


def envelope(key: str) -> str:
    """A payload shaped and sized like a message event."""
    return orjson.dumps(
        {
            "type": "message",
            "cursor": 1,
            "id": str(uuid.uuid4()),
            "interview_id": str(uuid.uuid4()),
            "sender_id": str(uuid.uuid4()),
            "body": key,
            "created_at": "2026-11-01T12:00:00.000000+00:00",
        }
    ).decode()


async def bench_redis(redis_url: str, warmup: int, count: int) -> Latency:
    from redis import asyncio as aioredis

    channel = f"bench:{uuid.uuid4().hex}"
    publisher = aioredis.Redis.from_url(redis_url)
    subscriber = aioredis.Redis.from_url(redis_url)
    pubsub = subscriber.pubsub()
    await pubsub.subscribe(channel)
    arrivals = Arrivals()

    async def read() -> None:
        async for message in pubsub.listen():
            at = time.monotonic()
            if message["type"] == "message":
                arrivals.arrived(orjson.loads(message["data"])["body"], at)

    reader = asyncio.create_task(read())
    samples = []
    try:
        for index in range(warmup + count):
            key = f"a{index}"
            arrived = arrivals.expect(key)
            started_at = time.monotonic()
            await publisher.publish(channel, envelope(key))
            at = await asyncio.wait_for(arrived, 10)
            if index >= warmup:
                samples.append(at - started_at)
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await pubsub.aclose()
        await subscriber.aclose()
        await publisher.aclose()
    return Latency("(a) redis-py publish → redis-py subscriber", samples)


async def bench_relay(
    redis_url: str, log_dir: Path, warmup: int, count: int, compression: str | None
) -> Latency:
    from redis import asyncio as aioredis
    from websockets.asyncio.client import connect

    channel = f"bench:{uuid.uuid4().hex}"
    publisher = aioredis.Redis.from_url(redis_url)
    async with (
        relay_server(redis_url, log_dir) as relay,
        connect(
            f"ws://127.0.0.1:{relay.port}/relay/{channel}",
            ping_interval=None,
            compression=compression,
        ) as websocket,
    ):
        assert await websocket.recv() == "ready"
        arrivals = Arrivals()

        async def read() -> None:
            async for raw in websocket:
                arrivals.arrived(orjson.loads(raw)["body"], time.monotonic())

        reader = asyncio.create_task(read())
        samples = []
        cpu_before = cpu_seconds(relay.pid)
        try:
            for index in range(warmup + count):
                key = f"b{index}"
                arrived = arrivals.expect(key)
                started_at = time.monotonic()
                await publisher.publish(channel, envelope(key))
                at = await asyncio.wait_for(arrived, 10)
                if index >= warmup:
                    samples.append(at - started_at)
            relay_cpu = (cpu_seconds(relay.pid) - cpu_before) / (warmup + count)
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
    await publisher.aclose()
    return Latency(
        "(b) redis-py publish → Broadcaster → plain websocket", samples, server_cpu=relay_cpu
    )


async def bench_graphql(
    tree: Checkout,
    database_url: str,
    redis_url: str,
    log_dir: Path,
    warmup: int,
    count: int,
    compression: str | None,
) -> list[Latency]:
    from redis import asyncio as aioredis
    from websockets.asyncio.client import connect

    async with (
        marketplace_server(
            "latency", database_url, redis_url, log_dir, migrate=False, tree=tree
        ) as server,
        relay_server(redis_url, log_dir) as relay,
    ):
        api = Api(server.http_url)
        chat = await open_chat(api)
        marker = f"marker {uuid.uuid4().hex[:8]}"
        await chat.send(api, marker)
        connection = await graphql_socket(
            server.ws_url, chat.freelancer_token, compression=compression
        )
        await subscribe_live(connection, chat, marker)
        # (b) on the same mutations: (b)'s relay, subscribed to the interview's channel, beside
        # the GraphQL subscriber; both receive every sendMessage's event.
        relay_socket = await connect(
            f"ws://127.0.0.1:{relay.port}/relay/{chat.channel}",
            ping_interval=None,
            compression=compression,
        )
        assert await relay_socket.recv() == "ready"
        # The tap: when the server's publish reached Redis (as a subscriber there sees it).
        tap_client = aioredis.Redis.from_url(redis_url)
        tap = tap_client.pubsub()
        await tap.subscribe(chat.channel)
        received, tapped, relayed = Arrivals(), Arrivals(), Arrivals()

        async def read_relay() -> None:
            async for raw in relay_socket:
                relayed.arrived(orjson.loads(raw)["body"], time.monotonic())

        async def read() -> None:
            async for raw in connection:
                at = time.monotonic()
                message = orjson.loads(raw)
                if message.get("type") == "next":
                    received.arrived(message["payload"]["data"]["messageAdded"]["body"], at)

        async def read_tap() -> None:
            async for message in tap.listen():
                at = time.monotonic()
                if message["type"] == "message":
                    tapped.arrived(orjson.loads(message["data"])["body"], at)

        readers = [
            asyncio.create_task(read()),
            asyncio.create_task(read_tap()),
            asyncio.create_task(read_relay()),
        ]
        publisher = aioredis.Redis.from_url(redis_url)
        from_start, from_response, from_redis, round_trip, from_publish = [], [], [], [], []
        relay_from_start = []
        try:
            cpu_before = cpu_seconds(server.pid)
            for index in range(warmup + count):
                key = f"c{index}"
                arrived, published = received.expect(key), tapped.expect(key)
                forwarded = relayed.expect(key)
                started_at = time.monotonic()
                await chat.send(api, key)
                responded_at = time.monotonic()
                at = await asyncio.wait_for(arrived, 10)
                tapped_at = await asyncio.wait_for(published, 10)
                relayed_at = await asyncio.wait_for(forwarded, 10)
                if index >= warmup:
                    from_start.append(at - started_at)
                    relay_from_start.append(relayed_at - started_at)
                    from_response.append(at - responded_at)
                    from_redis.append(at - tapped_at)
                    round_trip.append(responded_at - started_at)
            # (c') no mutation: this process publishes a message event itself, as in (b), on
            # the interview's channel, with cursors above every stored one.
            mutation_cpu = (cpu_seconds(server.pid) - cpu_before) / (warmup + count)
            cpu_before = cpu_seconds(server.pid)
            interview_uuid = chat.channel.split(":", 1)[1]
            for index in range(warmup + count):
                key = f"p{index}"
                arrived = received.expect(key)
                started_at = time.monotonic()
                await publisher.publish(
                    chat.channel,
                    orjson.dumps(
                        {
                            "type": "message",
                            "cursor": 2**40 + index,
                            "id": str(uuid.uuid4()),
                            "interview_id": interview_uuid,
                            "sender_id": str(uuid.uuid4()),
                            "body": key,
                            "created_at": "2026-11-01T12:00:00+00:00",
                        }
                    ).decode(),
                )
                at = await asyncio.wait_for(arrived, 10)
                if index >= warmup:
                    from_publish.append(at - started_at)
            publish_cpu = (cpu_seconds(server.pid) - cpu_before) / (warmup + count)
        finally:
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            await tap.aclose()
            await tap_client.aclose()
            await publisher.aclose()
            await connection.close()
            await relay_socket.close()
            await api.close()
    return [
        Latency(
            "(b) sendMessage request start → Broadcaster → plain websocket",
            relay_from_start,
            "the same mutations as (c), at the same time",
        ),
        Latency(
            "(c) sendMessage request start → GraphQL subscriber",
            from_start,
            "includes the mutation: auth, transaction + COMMIT, publish",
            server_cpu=mutation_cpu,
        ),
        Latency(
            "(c) from the mutation's HTTP response → subscriber",
            from_response,
            "negative: the event arrived before the mutation's own response",
        ),
        Latency(
            "(c) from the publish reaching Redis → subscriber",
            from_redis,
            "delivery path, but behind the mutation's own tail on the server's loop",
        ),
        Latency("    sendMessage HTTP round trip (for reference)", round_trip),
        Latency(
            "(c') redis-py publish → GraphQL subscriber (no mutation)",
            from_publish,
            "same publisher and client as (b): the GraphQL layer's own cost",
            server_cpu=publish_cpu,
        ),
    ]


# --------------------------------------------------------------------------- sendMessage alone


@dataclass
class Mutation:
    """sendMessage with nobody subscribed: what the mutation itself costs the server."""

    round_trips: list[float]
    # Server CPU seconds per mutation (user + system), over all the measured ones.
    server_cpu: float
    # SQL statements per request (the token lookup included), as the server logged them.
    statements: list[int]


async def bench_send_message(
    tree: Checkout, database_url: str, redis_url: str, log_dir: Path, warmup: int, count: int
) -> Mutation:
    async with marketplace_server(
        "mutation", database_url, redis_url, log_dir, migrate=False, tree=tree
    ) as server:
        api = Api(server.http_url)
        try:
            chat = await open_chat(api)
            for index in range(warmup):
                await chat.send(api, f"warm-up {index}")
            cpu_before = cpu_seconds(server.pid)
            round_trips = []
            for index in range(count):
                started_at = time.monotonic()
                await chat.send(api, f"alone {index}")
                round_trips.append(time.monotonic() - started_at)
            server_cpu = (cpu_seconds(server.pid) - cpu_before) / count
        finally:
            await api.close()
    # The statements, on a server logging its SQL (which costs it time, so measured apart): the
    # lines of the tortoise.db_client logger carrying each request's own id. The first message
    # of a conversation also notifies; the next ones find that notification still unread.
    async with marketplace_server(
        "statements", database_url, redis_url, log_dir, migrate=False, tree=tree, LOG_LEVEL="DEBUG"
    ) as server:
        api = Api(server.http_url)
        try:
            chat = await open_chat(api)
            ids = [f"bench-send-{uuid.uuid4().hex[:12]}" for _ in range(5)]
            for request_id in ids:
                await chat.send(api, "counted", request_id=request_id)
        finally:
            await api.close()
        await asyncio.sleep(0.5)
        log = server.log_path.read_text(errors="replace").splitlines()
        statements = [
            sum(1 for line in log if f"[{request_id}] tortoise.db_client:" in line)
            for request_id in ids
        ]
    return Mutation(round_trips=round_trips, server_cpu=server_cpu, statements=statements)


# --------------------------------------------------------------------------- fan-out clients


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@dataclass
class ClientJob:
    urls: list[str]  # one per connection
    token: str
    interview_id: str
    first_cursor: str
    marker: str
    compression: str | None
    open_concurrency: int


def client_process(pipe: Any, job: ClientJob) -> None:
    raise_fd_limit()
    try:
        import uvloop

        run = uvloop.run
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        run = asyncio.run
    with contextlib.suppress(KeyboardInterrupt):
        run(client_main(pipe, job))


class LeanSocket(asyncio.Protocol):
    """A client websocket on websockets' sans-I/O protocol, for the fan-out's many connections.

    Until `on_text` is set, messages wait for recv(); from then on each is handled as it is
    parsed, in data_received, with no task woken per message. With the asyncio client (a task
    per connection, woken for every message) the clients took four times the servers' CPU per
    delivery, and the time to the last delivery measured the clients rather than the servers.
    """

    def __init__(self, url: str, compression: str | None) -> None:
        from websockets.client import ClientProtocol
        from websockets.extensions.permessage_deflate import enable_client_permessage_deflate
        from websockets.typing import Subprotocol
        from websockets.uri import parse_uri

        self.protocol = ClientProtocol(
            parse_uri(url),
            subprotocols=[Subprotocol(PROTOCOL)],
            extensions=enable_client_permessage_deflate(None) if compression else None,
            max_size=None,
        )
        self.transport: Any = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.inbox: list[str] = []
        self.waiter: asyncio.Future[None] | None = None
        self.on_text: Any = None
        self.lost = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.protocol.send_request(self.protocol.connect())
        self.flush()

    def data_received(self, data: bytes) -> None:
        from websockets.frames import Frame, Opcode
        from websockets.http11 import Response

        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                if not self.opened.done():
                    if self.protocol.handshake_exc is not None:
                        self.opened.set_exception(self.protocol.handshake_exc)
                    else:
                        self.opened.set_result(None)
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                text = bytes(event.data).decode()
                if self.on_text is not None:
                    self.on_text(text)
                else:
                    self.inbox.append(text)
                    self.wake()
        self.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during the handshake"))
        self.wake()

    def wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data and self.transport is not None and not self.transport.is_closing():
                self.transport.write(data)

    def send_now(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        self.flush()

    async def send(self, text: str) -> None:
        self.send_now(text)

    async def recv(self) -> str:
        while not self.inbox:
            if self.lost:
                raise ConnectionError("connection lost")
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return self.inbox.pop(0)

    async def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            with contextlib.suppress(Exception):
                self.protocol.send_close()
                self.flush()
            self.transport.close()


async def lean_socket(url: str, token: str, *, compression: str | None) -> LeanSocket:
    from websockets.uri import parse_uri

    uri = parse_uri(url)
    _, socket = await asyncio.get_running_loop().create_connection(
        lambda: LeanSocket(url, compression), uri.host, uri.port
    )
    async with asyncio.timeout(60):
        await socket.opened
        await socket.send(
            orjson.dumps(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
            ).decode()
        )
        ack = orjson.loads(await socket.recv())
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"no connection_ack: {ack}")
    return socket


async def client_main(pipe: Any, job: ClientJob) -> None:
    """N connections in this process; reports to the orchestrator over `pipe`."""
    chat = Chat(
        client_token="",
        freelancer_token=job.token,
        interview_id=job.interview_id,
        first_cursor=job.first_cursor,
    )
    arrivals: dict[str, list[float]] = {}
    complete: dict[str, asyncio.Event] = {}
    errors: list[str] = []
    total = len(job.urls)
    gate = asyncio.Semaphore(job.open_concurrency)
    connections: list[Any] = []
    # Exactly once: what each connection has received, and what arrived again.
    received: list[set[str]] = [set() for _ in job.urls]
    live: list[bool] = [False for _ in job.urls]
    duplicated: dict[str, int] = {}

    def arrived(body: str, at: float, index: int) -> None:
        seen = received[index]
        if body in seen:
            duplicated[body] = duplicated.get(body, 0) + 1
            return
        seen.add(body)
        times = arrivals.setdefault(body, [])
        times.append(at)
        if len(times) == total:
            complete.setdefault(body, asyncio.Event()).set()

    settled = 0
    all_settled = asyncio.Event()

    def settle() -> None:
        nonlocal settled
        settled += 1
        if settled == total:
            all_settled.set()

    async def run(url: str, index: int) -> None:
        try:
            async with gate:
                connection = await lean_socket(url, job.token, compression=job.compression)
                connections.append(connection)
                await subscribe_live(connection, chat, job.marker)
        except Exception as error:
            failures.append(repr(error))
            settle()
            raise
        live[index] = True
        arrived(job.marker, time.monotonic(), index)
        settle()

        def handle(raw: str) -> None:
            at = time.monotonic()
            message = orjson.loads(raw)
            kind = message.get("type")
            if kind == "next":
                payload = message["payload"]
                if "errors" in payload:
                    errors.append(str(payload["errors"]))
                else:
                    arrived(payload["data"]["messageAdded"]["body"], at, index)
            elif kind == "ping":
                connection.send_now('{"type":"pong"}')
            else:
                errors.append(str(message))

        # From here on each message is handled as it is parsed (see LeanSocket).
        waiting, connection.inbox = connection.inbox, []
        for raw in waiting:
            handle(raw)
        connection.on_text = handle

    failures: list[str] = []
    started_at = time.monotonic()
    tasks = [asyncio.create_task(run(url, index)) for index, url in enumerate(job.urls)]
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(600):
            await all_settled.wait()
    pipe.send(
        ("ready", len(arrivals.get(job.marker, [])), time.monotonic() - started_at, failures[:3])
    )
    try:
        while True:
            command = await asyncio.to_thread(pipe.recv)
            if command[0] == "expect":
                _, body, timeout = command
                event = complete.setdefault(body, asyncio.Event())
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await event.wait()
                times = arrivals.get(body, [])
                lost = sum(
                    1 for index, seen in enumerate(received) if live[index] and body not in seen
                )
                pipe.send(
                    (
                        "got",
                        body,
                        len(times),
                        min(times, default=math.nan),
                        statistics.median(times) if times else math.nan,
                        max(times, default=math.nan),
                        errors[:3],
                        lost,
                    )
                )
                arrivals.pop(body, None)
            elif command[0] == "tally":
                pipe.send(("tally", sum(duplicated.values()), sorted(duplicated)[:5]))
            elif command[0] == "close":
                break
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(
            *(connection.close() for connection in connections), return_exceptions=True
        )
        pipe.send(("closed",))


# --------------------------------------------------------------------------- fan-out


@dataclass
class FanOut:
    tree: str
    lost: int  # (connection, message) pairs never delivered within the wait
    duplicated: int  # deliveries of a message a connection already had
    subscribers: int
    delivered: int
    expected: int
    setup_seconds: float
    last: list[float]
    median: list[float]
    response: list[float]
    server_cpu: float
    client_cpu: float
    machine_cpu: float  # every process, over the same windows
    busy_wall: float  # the windows' wall time: mutation start to last delivery, summed
    elapsed: float
    rss_before_kib: list[int]
    rss_after_kib: list[int]
    rss_end_kib: list[int]
    notes: list[str] = field(default_factory=list)

    @property
    def per_connection_kib(self) -> float:
        return (sum(self.rss_after_kib) - sum(self.rss_before_kib)) / self.subscribers

    @property
    def per_core_second(self) -> float:
        return self.delivered / self.server_cpu if self.server_cpu else math.nan


def start_py_spy(py_spy: str, server: Process, log_dir: Path) -> subprocess.Popen[bytes]:
    """py-spy recording a server during the measured fan-out messages (collapsed stacks)."""
    output = log_dir / f"{server.name}-{server.pid}.py-spy.txt"
    print(f"py-spy: {output}", flush=True)
    return subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(server.pid),
            "--format",
            "raw",
            "--rate",
            "250",
            "--nonblocking",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def recv_from(pipe: Any, timeout: float) -> Any:
    if not await asyncio.to_thread(pipe.poll, timeout):
        raise TimeoutError("a client process did not answer")
    return pipe.recv()


async def bench_fanout(
    tree: Checkout,
    subscribers: int,
    database_url: str,
    redis_url: str,
    log_dir: Path,
    *,
    messages: int,
    client_procs: int,
    compression: str | None,
    open_concurrency: int,
    gap: float,
    py_spy: str | None,
) -> FanOut:
    async with contextlib.AsyncExitStack() as stack:
        first = await stack.enter_async_context(
            marketplace_server(
                f"fanout{subscribers}-a", database_url, redis_url, log_dir, migrate=False, tree=tree
            )
        )
        second = await stack.enter_async_context(
            marketplace_server(
                f"fanout{subscribers}-b", database_url, redis_url, log_dir, migrate=False, tree=tree
            )
        )
        servers = [first, second]
        api = Api(first.http_url)
        stack.push_async_callback(api.close)
        chat = await open_chat(api)
        marker = f"marker {uuid.uuid4().hex[:8]}"
        await chat.send(api, marker)
        # Warm-up: a few subscriptions on each server (first-use costs are not per connection).
        warm = [
            await graphql_socket(server.ws_url, chat.freelancer_token, compression=compression)
            for server in servers
            for _ in range(5)
        ]
        await asyncio.gather(*(subscribe_live(connection, chat, marker) for connection in warm))
        await chat.send(api, "warm-up")
        await asyncio.gather(*(connection.close() for connection in warm))
        await asyncio.sleep(1.0)
        rss_before = [rss_kib(server.pid) for server in servers]

        urls = [servers[index % 2].ws_url for index in range(subscribers)]
        shares = [urls[index::client_procs] for index in range(client_procs)]
        context = multiprocessing.get_context("spawn")
        pipes, processes = [], []
        for share in shares:
            parent, child = context.Pipe()
            process = context.Process(
                target=client_process,
                args=(
                    child,
                    ClientJob(
                        urls=share,
                        token=chat.freelancer_token,
                        interview_id=chat.interview_id,
                        first_cursor=chat.first_cursor,
                        marker=marker,
                        compression=compression,
                        open_concurrency=open_concurrency,
                    ),
                ),
                daemon=True,
            )
            process.start()
            pipes.append(parent)
            processes.append(process)

        async def stop_clients() -> None:
            for pipe in pipes:
                with contextlib.suppress(Exception):
                    pipe.send(("close",))
            for process in processes:
                await asyncio.to_thread(process.join, 30)
                if process.is_alive():
                    process.kill()

        stack.push_async_callback(stop_clients)
        notes: list[str] = []
        readies = [await recv_from(pipe, 900) for pipe in pipes]
        live = sum(ready[1] for ready in readies)
        setup = max(ready[2] for ready in readies)
        for ready in readies:
            notes.extend(ready[3])
        if live != subscribers:
            notes.append(f"only {live} of {subscribers} subscriptions live")
        await asyncio.sleep(2.0)
        rss_after = [rss_kib(server.pid) for server in servers]

        lost = 0

        async def one(body: str) -> tuple[float, float, float, int, list[str]]:
            nonlocal lost
            for pipe in pipes:
                pipe.send(("expect", body, 60.0))
            started_at = time.monotonic()
            await chat.send(api, body)
            responded_at = time.monotonic()
            gots = [await recv_from(pipe, 90) for pipe in pipes]
            count = sum(got[2] for got in gots)
            last = max(got[5] for got in gots)
            # The median delivery: of the per-process medians, weighted alike (close enough).
            median = statistics.median(got[4] for got in gots)
            problems = [error for got in gots for error in got[6]]
            lost += sum(got[7] for got in gots)
            return (
                last - started_at,
                median - started_at,
                responded_at - started_at,
                count,
                problems,
            )

        await one("fan-out warm-up")
        await asyncio.sleep(gap)
        client_pids = [process.pid for process in processes]

        def cpu() -> tuple[float, float, float]:
            return (
                sum(cpu_seconds(server.pid) for server in servers),
                sum(cpu_seconds(pid) for pid in client_pids),
                machine_busy_seconds(),
            )

        profilers = [start_py_spy(py_spy, server, log_dir) for server in servers] if py_spy else []
        started_at = time.monotonic()
        last, median, response, delivered = [], [], [], 0
        server_cpu = client_cpu = machine_cpu = wall = 0.0
        for index in range(messages):
            # CPU from the mutation's start to the last delivery, not over the idle gaps.
            server_before, client_before, machine_before = cpu()
            wall_before = time.monotonic()
            latency, middle, round_trip, count, problems = await one(f"fan-out {index}")
            server_after, client_after, machine_after = cpu()
            wall += time.monotonic() - wall_before
            server_cpu += server_after - server_before
            client_cpu += client_after - client_before
            machine_cpu += machine_after - machine_before
            last.append(latency)
            median.append(middle)
            response.append(round_trip)
            delivered += count
            notes.extend(problems)
            if count != live:
                notes.append(f"message {index}: {count} of {live} delivered")
            await asyncio.sleep(gap)
        elapsed = time.monotonic() - started_at
        for profiler in profilers:
            profiler.send_signal(signal.SIGINT)
            await asyncio.to_thread(profiler.wait, 60)
        rss_end = [rss_kib(server.pid) for server in servers]
        # Anything that arrived twice, the marker's replay and the warm-up included, late
        # arrivals too.
        await asyncio.sleep(1.0)
        duplicated = 0
        for pipe in pipes:
            pipe.send(("tally",))
        for pipe in pipes:
            tally = await recv_from(pipe, 30)
            duplicated += tally[1]
            if tally[1]:
                notes.append(f"duplicated: {tally[2]}")
        return FanOut(
            tree=tree.label,
            lost=lost,
            duplicated=duplicated,
            subscribers=subscribers,
            delivered=delivered,
            expected=live * messages,
            setup_seconds=setup,
            last=last,
            median=median,
            response=response,
            server_cpu=server_cpu,
            client_cpu=client_cpu,
            machine_cpu=machine_cpu,
            busy_wall=wall,
            elapsed=elapsed,
            rss_before_kib=rss_before,
            rss_after_kib=rss_after,
            rss_end_kib=rss_end,
            notes=sorted(set(notes))[:10],
        )


# --------------------------------------------------------------------------- report


def report_latency(results: list[Latency]) -> None:
    print("\n## Latency, one subscriber (ms)\n")
    print(
        "| path | n | p50 | p99 | server CPU / message (µs) | note |\n|---|---:|---:|---:|---:|---|"
    )
    for result in results:
        cpu = f"{result.server_cpu * 1e6:.0f}" if result.server_cpu is not None else ""
        print(
            f"| {result.name} | {len(result.samples)} | {ms(result.p50)} | "
            f"{ms(result.p99)} | {cpu} | {result.note} |"
        )

    def named(prefix: str) -> Latency | None:
        return next((result for result in results if result.name.startswith(prefix)), None)

    b, b_mutation = named("(b) redis-py"), named("(b) sendMessage")
    pairs = [
        ("(c)", named("(c) sendMessage"), "(b) on the same mutations", b_mutation),
        ("(c from Redis)", named("(c) from the publish"), "(b)", b),
        ("(c')", named("(c')"), "(b)", b),
    ]
    for label, result, base_label, base in pairs:
        if result is None or base is None:
            continue
        ratio = result.p50 / base.p50
        print(
            f"{label}/{base_label} p50 = {ms(result.p50)} / {ms(base.p50)} = {ratio:.2f} "
            f"(goal ≤ 1.5: {'met' if ratio <= 1.5 else 'MISSED'})"
        )


def report_fanout(results: list[FanOut], compression: str | None) -> None:
    print(f"\n## Fan-out over 2 server processes (client compression: {compression or 'none'})\n")
    print(
        "| tree | subscribers | messages | delivered | lost | duplicated | p50 to last (ms) | "
        "p99 to last (ms) | p50 median delivery (ms) | mutation p50 (ms) | server CPU s | "
        "deliveries / core-s | client CPU s | RSS before → after (MiB) | KiB / connection | "
        "setup s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for result in results:
        before = sum(result.rss_before_kib) / 1024
        after = sum(result.rss_after_kib) / 1024
        print(
            f"| {result.tree} | {result.subscribers} | {len(result.last)} | {result.delivered}/"
            f"{result.expected} | {result.lost} | {result.duplicated} | "
            f"{ms(percentile(result.last, 50))} | "
            f"{ms(percentile(result.last, 99))} | {ms(percentile(result.median, 50))} | "
            f"{ms(percentile(result.response, 50))} | {result.server_cpu:.2f} | "
            f"{result.per_core_second:,.0f} | {result.client_cpu:.2f} | "
            f"{before:.1f} → {after:.1f} (end {sum(result.rss_end_kib) / 1024:.1f}) | "
            f"{result.per_connection_kib:.1f} | {result.setup_seconds:.1f} |"
        )
    for result in results:
        name = f"{result.tree} N={result.subscribers}"
        print(f"\n{name}: last-delivery latencies (ms): " + ", ".join(map(ms, result.last)))
        if result.notes:
            print(f"{name} notes: " + "; ".join(result.notes))
        others = result.machine_cpu - result.server_cpu - result.client_cpu
        print(
            f"{name}: during the measured windows ({result.busy_wall:.1f} s wall) the machine "
            f"was busy {result.machine_cpu:.1f} core-s: servers {result.server_cpu:.1f}, "
            f"clients {result.client_cpu:.1f}, everything else (Redis, PostgreSQL, other "
            f"processes) {others:.1f}"
        )


def report_mutations(results: dict[str, Mutation]) -> None:
    print("\n## sendMessage alone (nobody subscribed)\n")
    print("| tree | n | round trip p50 (ms) | p99 (ms) | server CPU / mutation (ms) | statements |")
    print("|---|---:|---:|---:|---:|---|")
    for tree, result in results.items():
        print(
            f"| {tree} | {len(result.round_trips)} | {ms(percentile(result.round_trips, 50))} | "
            f"{ms(percentile(result.round_trips, 99))} | {result.server_cpu * 1000:.2f} | "
            f"{statements(result)} |"
        )


def statements(result: Mutation) -> str:
    low, high = min(result.statements), max(result.statements)
    return f"{low}" if low == high else f"{low}–{high}"


def report_side_by_side(
    trees: list[Checkout],
    latencies: dict[str, list[Latency]],
    mutations: dict[str, Mutation],
    fanouts: list[FanOut],
) -> None:
    """The issue's goals, each tree in a column, all measured in this run."""
    labels = [tree.label for tree in trees]
    rows: list[tuple[str, list[str], str]] = []
    for subscribers in sorted({result.subscribers for result in fanouts}):
        by_tree = {r.tree: r for r in fanouts if r.subscribers == subscribers}

        def cell(label: str, show: Any, by_tree: dict[str, FanOut] = by_tree) -> str:
            return show(by_tree[label]) if label in by_tree else "–"

        prefix = f"{subscribers:,} subscribers:"
        goals = subscribers == 5000
        rows += [
            (
                f"{prefix} p50 to last delivery (ms)",
                [cell(label, lambda r: ms(percentile(r.last, 50))) for label in labels],
                "",
            ),
            (
                f"{prefix} p99 to last delivery (ms)",
                [cell(label, lambda r: ms(percentile(r.last, 99))) for label in labels],
                "≤ 300" if goals else "",
            ),
            (
                f"{prefix} server CPU per delivery (µs)",
                [cell(label, lambda r: f"{1e6 / r.per_core_second:.1f}") for label in labels],
                "≤ 60" if goals else "",
            ),
            (
                f"{prefix} KiB per connection",
                [cell(label, lambda r: f"{r.per_connection_kib:.1f}") for label in labels],
                "≤ 40" if goals else "",
            ),
            (
                f"{prefix} lost / duplicated",
                [cell(label, lambda r: f"{r.lost} / {r.duplicated}") for label in labels],
                "0 / 0",
            ),
        ]

    def named(label: str, prefix: str) -> Latency | None:
        return next((r for r in latencies.get(label, []) if r.name.startswith(prefix)), None)

    def latency_cell(label: str) -> str:
        result = named(label, "(c) sendMessage")
        return ms(result.p50) if result else "–"

    rows.append(
        ("sendMessage → subscriber p50 (ms)", [latency_cell(label) for label in labels], "≤ 5")
    )
    rows.append(
        (
            "sendMessage server CPU per mutation (ms)",
            [
                f"{mutations[label].server_cpu * 1000:.2f}" if label in mutations else "–"
                for label in labels
            ],
            "≤ 2",
        )
    )
    rows.append(
        (
            "sendMessage SQL statements per request (token lookup included)",
            [statements(mutations[label]) if label in mutations else "–" for label in labels],
            "≤ 4 + 1",
        )
    )
    print("\n## Side by side (one run; goals from issue 12)\n")
    print("| measurement | " + " | ".join(labels) + " | goal |")
    print("|---|" + "---:|" * len(labels) + "---|")
    for name, cells, goal in rows:
        print(f"| {name} | " + " | ".join(cells) + f" | {goal} |")


# --------------------------------------------------------------------------- main


def database_base_url() -> str:
    return (
        os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or "postgres://postgres@127.0.0.1:5432"
    )


async def run(args: argparse.Namespace) -> None:
    redis_url = os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/7"
    compression = None if args.compression == "none" else args.compression
    log_dir = Path(tempfile.mkdtemp(prefix="bench_realtime_"))
    trees = [current_checkout()]
    if args.baseline != "none":
        trees.insert(0, baseline_checkout(args.baseline))
    print(
        f"PostgreSQL {database_base_url()}, Redis {redis_url}, logs in {log_dir}; trees: "
        + ", ".join(f"{tree.label} ({tree.root})" for tree in trees),
        flush=True,
    )
    shared: list[Latency] = []
    latencies: dict[str, list[Latency]] = {}
    mutations: dict[str, Mutation] = {}
    fanouts: list[FanOut] = []
    load_at_start = load_average()
    async with contextlib.AsyncExitStack() as stack:
        # A database per tree, migrated by that tree: each runs on its own schema.
        databases = {}
        for tree in trees:
            databases[tree.label] = await stack.enter_async_context(
                fresh_database(database_base_url())
            )
            await migrate(tree, databases[tree.label])

        def alternating(round_number: int) -> list[Checkout]:
            # Alternating which tree goes first, so that a drift in the machine's load does not
            # always weigh on the same one.
            return trees if round_number % 2 == 0 else trees[::-1]

        if not args.skip_latency:
            print("latency (a) ...", flush=True)
            shared.append(await bench_redis(redis_url, args.warmup, args.messages))
            print("latency (b) ...", flush=True)
            shared.append(
                await bench_relay(redis_url, log_dir, args.warmup, args.messages, compression)
            )
            for tree in alternating(0):
                print(f"latency (c), {tree.label} ...", flush=True)
                latencies[tree.label] = await bench_graphql(
                    tree,
                    databases[tree.label],
                    redis_url,
                    log_dir,
                    args.warmup,
                    args.messages,
                    compression,
                )
            for tree in alternating(1):
                print(f"sendMessage alone, {tree.label} ...", flush=True)
                mutations[tree.label] = await bench_send_message(
                    tree, databases[tree.label], redis_url, log_dir, args.warmup, args.messages
                )
        if not args.skip_fanout:
            for index, subscribers in enumerate(args.fanout):
                for tree in alternating(index):
                    print(f"fan-out to {subscribers}, {tree.label} ...", flush=True)
                    fanouts.append(
                        await bench_fanout(
                            tree,
                            subscribers,
                            databases[tree.label],
                            redis_url,
                            log_dir,
                            messages=args.fanout_messages,
                            client_procs=args.client_procs,
                            compression=compression,
                            open_concurrency=args.open_concurrency,
                            gap=args.gap,
                            py_spy=args.py_spy,
                        )
                    )
    print(
        f"\nmachine: {os.cpu_count()} cores; Python {sys.version.split()[0]}; load average "
        f"at the start {load_at_start}, at the end {load_average()}"
    )
    for tree in trees:
        if tree.label in latencies:
            print(f"\n# {tree.label}")
            report_latency(shared + latencies[tree.label])
    if mutations:
        report_mutations(mutations)
    if fanouts:
        report_fanout(fanouts, compression)
    report_side_by_side(trees, latencies, mutations, fanouts)
    if not args.keep_logs and not args.py_spy:
        shutil.rmtree(log_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--messages", type=int, default=200, help="latency samples per path (default 200)"
    )
    parser.add_argument(
        "--warmup", type=int, default=20, help="latency messages before the samples (default 20)"
    )
    parser.add_argument(
        "--fanout",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1000, 5000],
        help="subscriber counts (default 1000,5000)",
    )
    parser.add_argument(
        "--fanout-messages",
        type=int,
        default=10,
        help="measured messages per fan-out size (default 10)",
    )
    parser.add_argument(
        "--client-procs", type=int, default=2, help="client processes for the fan-out (default 2)"
    )
    parser.add_argument(
        "--open-concurrency",
        type=int,
        default=100,
        help="connections being opened at once, per client process",
    )
    parser.add_argument(
        "--gap", type=float, default=0.5, help="seconds between fan-out messages (default 0.5)"
    )
    parser.add_argument(
        "--compression",
        choices=["deflate", "none"],
        default="deflate",
        help="the websocket client's permessage-deflate offer (default deflate)",
    )
    parser.add_argument(
        "--py-spy",
        metavar="PATH",
        help="py-spy binary: record both servers during the measured fan-out "
        "messages, into the log directory (implies --keep-logs)",
    )
    parser.add_argument(
        "--baseline",
        default=DEFAULT_BASELINE,
        help="the commit to measure beside this tree, in the same run (default "
        f"{DEFAULT_BASELINE}, before shared subscriptions); `none` for this tree alone",
    )
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-fanout", action="store_true")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    raise_fd_limit()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
