"""realtime.presence: who is live on an interview, across processes, with nothing stored.

PartyState's rules are checked with an explicit clock. Presence itself runs for real, on
in-process pub/sub and on a real Redis, with short intervals; two Presence objects stand for two
server processes (each with its own origin, as each process has).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, aclosing
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest

from realtime import channels
from realtime.broadcast import Broadcaster
from realtime.presence import PartyState, Presence
from tests.realtime.test_broadcast import bounded, broadcast_url
from tests.redis_server import running_redis

ALICE = uuid.uuid4()
BOB = uuid.uuid4()
# Short, so that expiry is seen within a test; the proportions are the production ones'.
PROBE_EVERY = 0.25
TTL = 0.6
GRACE = 0.2
FIRST_ANSWER = 0.3
OPTIONS: dict[str, Any] = {
    "probe_every": PROBE_EVERY,
    "ttl": TTL,
    "grace": GRACE,
    "first_answer_within": FIRST_ANSWER,
}
# A change must be seen within this (the TTL, plus a busy machine's delays).
NOTICE = 3.0


def announcement(origin: str, seq: int, *users: UUID) -> dict[str, Any]:
    return {"origin": origin, "seq": seq, "users": [str(user) for user in users]}


# ---------------------------------------------------------------- PartyState: the rules


def test_a_user_is_online_while_a_fresh_announcement_lists_them() -> None:
    state = PartyState(ALICE, ttl=6.0, grace=1.0)
    assert not state.online(now=0.0)
    assert state.next_change(now=0.0) is None
    state.heard(announcement("a", 1, ALICE, BOB), now=10.0)
    assert state.online(now=10.0)
    assert state.online(now=15.9)
    assert state.next_change(now=15.9) == 16.0
    # nobody answered for the TTL: the process may be dead
    assert not state.online(now=16.0)
    assert state.next_change(now=16.0) is None


def test_an_answer_renews_and_a_process_letting_go_turns_the_user_offline_after_the_grace() -> None:
    state = PartyState(ALICE, ttl=6.0, grace=1.0)
    state.heard(announcement("a", 1, ALICE), now=0.0)
    state.heard(announcement("a", 2, ALICE), now=5.0)
    state.heard(announcement("a", 3, ALICE), now=9.0)
    assert state.online(now=14.0)
    state.heard(announcement("a", 4, BOB), now=10.5)
    assert state.next_change(now=10.5) == 11.5
    assert state.online(now=11.4)
    assert not state.online(now=11.5)
    # and saying it again does not prolong it
    state.heard(announcement("a", 5, BOB), now=11.2)
    assert not state.online(now=11.5)


def test_a_user_let_go_of_and_held_again_within_the_grace_never_looks_offline() -> None:
    # a page reloading: its socket closes on process A, the new one opens on process B
    state = PartyState(ALICE, ttl=6.0, grace=1.0)
    state.heard(announcement("a", 1, ALICE), now=0.0)
    state.heard(announcement("a", 2), now=3.0)
    state.heard(announcement("b", 1, ALICE), now=3.8)
    assert all(state.online(now=t) for t in (3.0, 3.5, 3.9, 4.0, 9.0))
    assert not state.online(now=9.8)


def test_the_user_stays_online_while_any_process_holds_them() -> None:
    state = PartyState(ALICE, ttl=6.0, grace=0.0)
    state.heard(announcement("a", 1, ALICE), now=0.0)
    state.heard(announcement("b", 1, ALICE), now=1.0)
    state.heard(announcement("a", 2), now=2.0)
    assert state.online(now=2.0)
    assert state.next_change(now=2.0) == 7.0
    assert not state.online(now=7.0)


def test_an_announcement_overtaken_by_a_later_one_of_its_process_is_ignored() -> None:
    state = PartyState(ALICE, ttl=6.0, grace=0.0)
    state.heard(announcement("a", 5), now=0.0)
    state.heard(announcement("a", 4, ALICE), now=0.1)  # published earlier, arrived later
    assert not state.online(now=0.1)


def test_a_process_that_never_held_the_user_cannot_make_them_look_present() -> None:
    state = PartyState(ALICE, ttl=6.0, grace=1.0)
    state.heard(announcement("a", 1, BOB), now=0.0)
    state.heard(announcement("a", 2), now=0.5)
    assert not state.online(now=0.5)


@pytest.mark.parametrize(
    "garbage",
    [{}, {"origin": "a"}, {"origin": "a", "seq": "x", "users": []}, {"seq": 1, "users": []}],
)
def test_messages_that_are_not_announcements_change_nothing(garbage: dict[str, Any]) -> None:
    state = PartyState(ALICE, ttl=6.0, grace=0.0)
    state.heard(announcement("a", 1, ALICE), now=0.0)
    state.heard(garbage, now=1.0)
    assert state.online(now=1.0)


# ---------------------------------------------------------------- Presence: processes


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


Process = Callable[[], Awaitable[Presence]]


@pytest.fixture
async def process(backend: str) -> AsyncIterator[Process]:
    """Starts a "server process": a Presence on a broadcaster of its own (Redis), or on the one
    in-process bus they must share (memory)."""
    async with AsyncExitStack() as stack:
        shared: Broadcaster | None = None

        async def start() -> Presence:
            nonlocal shared
            if backend == "redis" or shared is None:
                broadcaster = await stack.enter_async_context(Broadcaster(broadcast_url(backend)))
                shared = broadcaster
            return await stack.enter_async_context(Presence(shared, **OPTIONS))

        yield start


class Watcher:
    """A watch running in the background, with what it said and when."""

    def __init__(self, presence: Presence, interview: UUID, user: UUID, **options: Any) -> None:
        self.states: asyncio.Queue[tuple[bool, float]] = asyncio.Queue()
        self.started = time.monotonic()
        self._task = asyncio.create_task(self._run(presence.watch(interview, user, **options)))

    async def _run(self, stream: AsyncIterator[bool]) -> None:
        async with aclosing(stream):  # type: ignore[type-var]
            async for online in stream:
                self.states.put_nowait((online, time.monotonic()))

    async def next(self, within: float = NOTICE) -> tuple[bool, float]:
        async with asyncio.timeout(within):
            return await self.states.get()

    async def quiet(self, wait: float) -> None:
        await asyncio.sleep(wait)
        assert self.states.empty(), self.states.get_nowait()

    @property
    def done(self) -> bool:
        return self._task.done()

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


@pytest.fixture
async def watchers() -> AsyncIterator[list[Watcher]]:
    started: list[Watcher] = []
    yield started
    for watcher in started:
        await watcher.stop()


@bounded
async def test_a_watcher_hears_at_once_that_a_user_held_elsewhere_is_online(
    process: Process, watchers: list[Watcher]
) -> None:
    # given Alice live on an interview in process A
    a, b = await process(), await process()
    interview = uuid.uuid4()
    async with a.holding(interview, ALICE):
        # when Bob starts watching her from process B
        watcher = Watcher(b, interview, ALICE)
        watchers.append(watcher)
        # then the first thing he hears is that she is online, without waiting for the timeout
        online, at = await watcher.next()
        assert online
        assert at - watcher.started < FIRST_ANSWER
        # and nothing more while she stays, though probes come and go
        await watcher.quiet(TTL * 2)
    left = time.monotonic()
    # when she leaves, he hears it after the grace, well before the TTL would tell
    online, at = await watcher.next()
    assert not online
    assert GRACE <= at - left < TTL


@bounded
async def test_nobody_there_is_offline_first_then_online_when_they_come(
    process: Process, watchers: list[Watcher]
) -> None:
    a, b = await process(), await process()
    interview = uuid.uuid4()
    # given Bob watching Alice, who is nowhere
    watcher = Watcher(b, interview, ALICE)
    watchers.append(watcher)
    online, at = await watcher.next()
    assert not online
    assert at - watcher.started >= FIRST_ANSWER
    # when she holds another interview, or Bob holds this one, nothing changes
    async with a.holding(uuid.uuid4(), ALICE), a.holding(interview, BOB):
        await watcher.quiet(TTL * 1.5)
        # when she comes to this interview
        async with a.holding(interview, ALICE):
            assert (await watcher.next())[0] is True


@bounded
async def test_a_user_held_twice_stays_online_until_the_last_hold_ends(
    process: Process, watchers: list[Watcher]
) -> None:
    a, b, c = await process(), await process(), await process()
    interview = uuid.uuid4()
    watcher = Watcher(c, interview, ALICE)
    watchers.append(watcher)
    assert (await watcher.next())[0] is False
    async with AsyncExitStack() as on_a:
        # given Alice holding the interview twice in A and once in B
        await on_a.enter_async_context(a.holding(interview, ALICE))
        await on_a.enter_async_context(a.holding(interview, ALICE))
        assert (await watcher.next())[0] is True
        async with b.holding(interview, ALICE):
            await on_a.aclose()
            # then A letting go of her entirely leaves her online: B holds her
            assert a.held(interview) == set()
            await watcher.quiet(TTL * 2)
    # and the last hold ending turns her offline
    assert (await watcher.next())[0] is False


@bounded
async def test_a_process_that_dies_without_a_word_turns_its_users_offline_within_the_ttl(
    process: Process, watchers: list[Watcher]
) -> None:
    # given Alice held in process A, which then stops answering without letting go of her
    # (killed: its sockets vanish, nobody says goodbye)
    a, b = await process(), await process()
    interview = uuid.uuid4()
    holding = a.holding(interview, ALICE)
    await holding.__aenter__()
    watcher = Watcher(b, interview, ALICE)
    watchers.append(watcher)
    assert (await watcher.next())[0] is True
    await a.__aexit__(None, None, None)
    died = time.monotonic()
    # then Bob hears she is offline, within the TTL of A's last answer
    online, at = await watcher.next()
    assert not online
    assert at - died <= TTL + 0.3


@bounded
async def test_a_control_event_on_another_channel_ends_the_watch(
    process: Process, watchers: list[Watcher], backend: str
) -> None:
    a = await process()
    control = f"test-control-{uuid.uuid4().hex}"
    watcher = Watcher(
        a,
        uuid.uuid4(),
        ALICE,
        also=[control],
        closes=lambda envelope: envelope.get("type") == "bye",
    )
    watchers.append(watcher)
    assert (await watcher.next())[0] is False
    await a._broadcast.publish(control, orjson.dumps({"type": "other"}).decode())
    await a._broadcast.publish(control, "not json")
    await asyncio.sleep(0.2)
    assert not watcher.done
    await a._broadcast.publish(control, orjson.dumps({"type": "bye"}).decode())
    async with asyncio.timeout(NOTICE):
        while not watcher.done:
            await asyncio.sleep(0.01)


async def test_after_redis_restarts_presence_is_told_again(
    tmp_path: Path, watchers: list[Watcher]
) -> None:
    # given Alice held in A and watched from B, through a Redis of the test's own
    async with running_redis(tmp_path) as redis, AsyncExitStack() as stack:
        a_bus = await stack.enter_async_context(Broadcaster(redis.url))
        b_bus = await stack.enter_async_context(Broadcaster(redis.url))
        a = await stack.enter_async_context(Presence(a_bus, **OPTIONS))
        b = await stack.enter_async_context(Presence(b_bus, **OPTIONS))
        interview = uuid.uuid4()
        holding = a.holding(interview, ALICE)
        await holding.__aenter__()
        watcher = Watcher(b, interview, ALICE)
        watchers.append(watcher)
        assert (await watcher.next())[0] is True
        # when Redis restarts (in a crash, as fast as it may)
        await redis.stop()
        await redis.start()
        # then, whatever Bob was told meanwhile, he ends up told that she is online, and it
        # stays so (A answers his probes again)
        last = True
        settled_since = time.monotonic()
        async with asyncio.timeout(10):
            while not (last and time.monotonic() - settled_since > TTL * 3):
                try:
                    last, settled_since = await watcher.next(within=0.1)
                except TimeoutError:
                    pass
        # and her leaving reaches him, live
        await holding.__aexit__(None, None, None)
        assert (await watcher.next())[0] is False


@bounded
async def test_a_burst_of_subscriptions_coming_and_going_costs_one_announcement(
    process: Process,
) -> None:
    # given somebody listening to an interview's announcements
    a = await process()
    interview = uuid.uuid4()
    async with a._broadcast.subscribe(channels.presence(interview)) as listener:
        # when 50 subscriptions of Alice and Bob start at once (a server restart's reconnects)
        async with AsyncExitStack() as burst:
            for number in range(50):
                await burst.enter_async_context(a.holding(interview, ALICE if number % 2 else BOB))
            # then one announcement tells both
            first = orjson.loads((await asyncio.wait_for(listener.get(), NOTICE)).message)
            assert sorted(first["users"]) == sorted([str(ALICE), str(BOB)])
            await asyncio.sleep(0.3)
            assert listener._queue.empty()  # type: ignore[attr-defined]
        # and when they all end at once, one more says nobody is left
        last = orjson.loads((await asyncio.wait_for(listener.get(), NOTICE)).message)
        assert last["users"] == [] and last["seq"] > first["seq"]
        await asyncio.sleep(0.3)
        assert listener._queue.empty()  # type: ignore[attr-defined]
