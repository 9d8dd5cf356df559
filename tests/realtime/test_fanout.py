"""realtime.fanout.SharedStream on in-process pub/sub: members replay their own rows, then share
one rendering of each live event, with no gap, no duplicate, and revocations per member."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Hashable
from typing import Any

import orjson
import pytest

from realtime.broadcast import RESYNC, Broadcaster
from realtime.fanout import Member, SharedStream, Source
from realtime.stream import Envelope

TIMEOUT = 5.0


class Table:
    """Stored envelopes, as a model's `fetch_after` reads them."""

    def __init__(self) -> None:
        self.rows: list[Envelope] = []
        # Set while a test holds a replay at its first page.
        self.hold: asyncio.Event | None = None

    def add(self, cursor: int) -> Envelope:
        row = {"type": "message", "cursor": cursor, "body": f"message {cursor}"}
        self.rows.append(row)
        self.rows.sort(key=lambda stored: stored["cursor"])
        return row

    async def fetch_after(self, cursor: int | None) -> list[Envelope]:
        if self.hold is not None:
            await self.hold.wait()
        return [row for row in self.rows if cursor is None or row["cursor"] > cursor][:2]

    async def latest(self) -> int:
        return self.rows[-1]["cursor"] if self.rows else 0


class Recorder(Member[str]):
    __slots__ = ("ends", "got")

    def __init__(self, credential: Any = None, revocation: Hashable | None = None) -> None:
        super().__init__(credential, revocation)
        self.got: list[str] = []
        self.ends = 0

    def deliver(self, rendered: str) -> None:
        self.got.append(rendered)

    def end(self) -> None:
        self.ends += 1


@pytest.fixture
async def broadcast() -> AsyncIterator[Broadcaster]:
    async with Broadcaster("memory://") as connected:
        yield connected


class Scene:
    """A SharedStream over one channel and a table, counting its renderings."""

    def __init__(self, broadcast: Broadcaster, table: Table, *, allowed: set[Any]) -> None:
        self.broadcast = broadcast
        self.table = table
        self.channel = f"fanout-{uuid.uuid4().hex}"
        self.rendered: list[int] = []
        self.idle = asyncio.Event()

        async def render(envelope: Envelope) -> str:
            self.rendered.append(envelope["cursor"])
            return f"r{envelope['cursor']}"

        async def still_allowed(credential: Any) -> bool:
            return credential in allowed

        self.stream: SharedStream[str] = SharedStream(
            broadcast,
            Source(
                channels=(self.channel,),
                accept=lambda envelope, channel: envelope.get("type") == "message",
                fetch_after=table.fetch_after,
                revokes=lambda envelope: envelope.get("revoked"),
                still_allowed=still_allowed,
            ),
            render,
            on_idle=self.idle.set,
        )

    async def publish(self, message: Envelope | str) -> None:
        await self.broadcast.publish(
            self.channel, message if isinstance(message, str) else orjson.dumps(message).decode()
        )

    async def close(self) -> None:
        """Every member leaves, and the stream has stopped reading."""
        for member in list(self.stream._members):
            self.stream.leave(member)
        await eventually(lambda: self.channel not in self.broadcast._mailboxes)

    async def store_and_publish(self, cursor: int) -> None:
        await self.publish(self.table.add(cursor))

    async def replayed(self, member: Recorder, after: int | None) -> list[str]:
        """Joins, replays the member's own rows (rendered as the stream would), goes live."""
        self.stream.join(member)
        got = [
            f"r{envelope['cursor']}"
            async for envelope in self.stream.replay(member, after=after, latest=self.table.latest)
        ]
        member.got.extend(got)
        await self.stream.go_live(member)
        return got


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def eventually(condition: Any) -> None:
    async with asyncio.timeout(TIMEOUT):
        while not condition():
            await asyncio.sleep(0.005)


async def test_members_replay_their_own_rows_then_share_one_rendering_of_each_event(
    broadcast: Broadcaster,
) -> None:
    # given stored rows 1..3, a member resuming after 1 and one starting from now
    table = Table()
    for cursor in (1, 2, 3):
        table.add(cursor)
    scene = Scene(broadcast, table, allowed=set())
    resuming, fresh = Recorder(), Recorder()
    assert await scene.replayed(resuming, after=1) == ["r2", "r3"]
    assert await scene.replayed(fresh, after=None) == []

    # when two messages are stored and published
    await scene.store_and_publish(4)
    await scene.store_and_publish(5)

    # then both members get both, rendered once each
    await eventually(lambda: len(fresh.got) == 2 and len(resuming.got) == 4)
    assert resuming.got == ["r2", "r3", "r4", "r5"]
    assert fresh.got == ["r4", "r5"]
    assert scene.rendered == [4, 5]
    # and a late duplicate of a published event is dropped
    await scene.publish(table.rows[-1])
    await settle()
    assert fresh.got == ["r4", "r5"] and scene.rendered == [4, 5]
    await scene.close()


async def test_what_arrives_while_a_member_replays_is_handed_over_without_gap_or_duplicate(
    broadcast: Broadcaster,
) -> None:
    # given a live member, and a second one whose replay is held at its first page
    table = Table()
    table.add(1)
    scene = Scene(broadcast, table, allowed=set())
    live = Recorder()
    await scene.replayed(live, after=None)
    joining = Recorder()
    table.hold = asyncio.Event()
    replay = asyncio.create_task(scene.replayed(joining, after=0))
    await settle()

    # when messages are stored and published while it replays (2 and 3 before it reads them,
    # so it replays them and is also handed them)
    await scene.store_and_publish(2)
    await scene.store_and_publish(3)
    await eventually(lambda: live.got == ["r2", "r3"])
    table.hold.set()
    table.hold = None
    assert await replay == ["r1", "r2", "r3"]
    await scene.store_and_publish(4)

    # then it has every message once, in order
    await eventually(lambda: len(joining.got) == 4)
    await settle()
    assert joining.got == ["r1", "r2", "r3", "r4"]
    assert live.got == ["r2", "r3", "r4"]
    await scene.close()


async def test_a_revocation_ends_the_members_holding_that_credential_only(
    broadcast: Broadcaster,
) -> None:
    table = Table()
    scene = Scene(broadcast, table, allowed=set())
    revoked, other = Recorder(revocation="digest-a"), Recorder(revocation="digest-b")
    await scene.replayed(revoked, after=None)
    await scene.replayed(other, after=None)

    # when
    await scene.publish({"type": "token_revoked", "revoked": "digest-a"})
    await scene.store_and_publish(1)

    # then
    await eventually(lambda: other.got == ["r1"])
    assert revoked.ends == 1 and revoked.got == []
    assert other.ends == 0
    await scene.close()


async def test_after_a_reconnect_members_get_what_was_missed_once_unless_no_longer_allowed(
    broadcast: Broadcaster,
) -> None:
    # given two live members, one of whose credentials stopped being allowed
    table = Table()
    table.add(1)
    scene = Scene(broadcast, table, allowed={"token-a"})
    staying, dropped = Recorder(credential="token-a"), Recorder(credential="token-b")
    await scene.replayed(staying, after=None)
    await scene.replayed(dropped, after=None)
    await scene.store_and_publish(2)
    await eventually(lambda: staying.got == ["r2"])

    # when rows are committed while the backend is away (never published), then it resyncs
    for cursor in (3, 4, 5):
        table.add(cursor)
    await scene.publish(RESYNC)

    # then the allowed member gets them once, and the other has ended
    await eventually(lambda: staying.got == ["r2", "r3", "r4", "r5"])
    assert dropped.ends == 1 and dropped.got == ["r2"]
    # and a late publish of a replayed row is not delivered again
    await scene.publish(table.rows[3])
    await scene.publish(RESYNC)
    await scene.store_and_publish(6)
    await eventually(lambda: staying.got[-1:] == ["r6"])
    assert staying.got == ["r2", "r3", "r4", "r5", "r6"]
    await scene.close()


async def test_the_last_member_leaving_stops_the_stream_and_its_subscription(
    broadcast: Broadcaster,
) -> None:
    table = Table()
    scene = Scene(broadcast, table, allowed=set())
    first, second = Recorder(), Recorder()
    await scene.replayed(first, after=None)
    await scene.replayed(second, after=None)
    assert scene.channel in broadcast._mailboxes

    scene.stream.leave(first)
    assert not scene.idle.is_set()
    scene.stream.leave(second)

    assert scene.idle.is_set()
    await eventually(lambda: scene.channel not in broadcast._mailboxes)


async def test_a_live_only_stream_delivers_each_accepted_event_without_cursors(
    broadcast: Broadcaster,
) -> None:
    channel = f"live-{uuid.uuid4().hex}"
    other_channel = f"other-{uuid.uuid4().hex}"
    rendered: list[str] = []

    async def render(envelope: Envelope) -> str:
        rendered.append(envelope["name"])
        return envelope["name"]

    stream: SharedStream[str] = SharedStream(
        broadcast,
        Source(
            channels=(channel, other_channel),
            accept=lambda envelope, on: envelope.get("type") == "milestone" and on == channel,
        ),
        render,
    )
    member = Recorder()
    stream.join(member)
    await stream.subscribed()
    await stream.go_live(member)

    for on, name in ((other_channel, "elsewhere"), (channel, "m1"), (channel, "m1")):
        await broadcast.publish(on, orjson.dumps({"type": "milestone", "name": name}).decode())
    await eventually(lambda: len(member.got) == 2)
    assert member.got == ["m1", "m1"] and rendered == ["m1", "m1"]
    stream.leave(member)
    await eventually(lambda: channel not in broadcast._mailboxes)
