"""What a subscription costs its server process. Thousands of sockets per process are affordable
only if subscribing leaves nothing for the garbage collector: with full collections rare (see
app.tune_garbage_collector), objects in reference cycles stay in memory long after their
request, and they were most of a connection's memory.

The server runs in this process (uvicorn, real sockets on the loopback) so that the garbage
collector's findings can be read; what the test's own client leaves behind is told apart by
the module of each object's type.
"""

from __future__ import annotations

import asyncio
import gc
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from cli import WEBSOCKET_OPTIONS
from tests.e2e.chat_support import (
    MESSAGE_BODIES,
    Socket,
    cursor_before,
    live_subscription,
    open_chat,
    open_socket,
    socket_to,
)
from tests.e2e.conftest import Endpoint, free_port

SUBSCRIPTIONS = 20
# A subscription's own parts. uvicorn's HTTP protocol object, replaced by the websocket one at
# the upgrade, is left in a cycle of its own (three objects per connection, upstream).
SUBSCRIPTION_MODULES = (
    "graphql",
    "strawberry",
    "starlette",
    "realtime",
    "schema",
    "resolvers",
    "models",
    "auth",
    "tortoise",
)


@pytest.fixture
async def in_process_server(app: Any) -> AsyncIterator[Endpoint]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, lifespan="off", log_config=None, **WEBSOCKET_OPTIONS
        )
    )
    serving = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.01)
    yield Endpoint(port)
    server.should_exit = True
    await serving


async def test_subscribing_leaves_no_cyclic_garbage_in_the_server(
    in_process_server: Endpoint,
) -> None:
    server = in_process_server
    chat = await open_chat(server)
    async with socket_to(server, chat.freelancer.token) as socket:
        # First-use costs are not per subscription; and no HTTP request is made from here on.
        _, marker = await live_subscription(socket, chat)
    after = await cursor_before(chat, marker)
    sockets: list[Socket] = []
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(SUBSCRIPTIONS):
            socket = await open_socket(server, chat.freelancer.token)
            sockets.append(socket)
            operation = await socket.subscribe(
                MESSAGE_BODIES, {"interviewId": chat.interview_id, "after": after}
            )
            [replayed] = await operation.take(1)
            assert replayed["body"] == marker["body"]
        gc.collect()
        left = Counter(type(item).__module__ for item in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        for socket in sockets:
            await socket.close()
    ours = {
        module: count
        for module, count in left.items()
        if module.split(".")[0] in SUBSCRIPTION_MODULES
    }
    # Before documents were validated once: about 600 objects of graphql-core's validation
    # visitors per subscription.
    assert sum(ours.values()) < SUBSCRIPTIONS, ours
