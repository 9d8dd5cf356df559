"""sendMessage's action: who may write, what it stores and announces, and what it costs."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from uuid import uuid4

import pytest

from models.actors import Actor
from models.errors import InvalidState, NotFound, ValidationFailed
from models.events import user_channel
from models.interviews import actions
from models.interviews.orm import Interview, InterviewStatus, Message
from models.notifications.orm import Notification, NotificationKind
from models.proposals import actions as proposals
from tests.conftest import count_statements
from tests.models.marketplace import client_actor, freelancer_actor, post
from tests.services import require_concurrent_postgres


async def open_interview() -> tuple[Actor, Actor, Interview]:
    client = await client_actor()
    freelancer = await freelancer_actor(connects=50)
    job = await post(client)
    proposal, _ = await proposals.submit_proposal(
        freelancer,
        job.id,
        cover_letter="I can do this.",
        bid_amount=Decimal("300.00"),
        estimated_duration_days=10,
    )
    interview, _ = await actions.start_interview(client, proposal.id, "Hello")
    return client, freelancer, interview


async def unread(user: Actor, interview: Interview) -> int:
    return (await actions.unread_counts(user.user_id, [interview.id])).get(interview.id, 0)


async def message_notifications(user: Actor) -> list[Notification]:
    return list(
        await Notification.filter(user_id=user.user_id, kind=NotificationKind.MESSAGE_RECEIVED)
    )


async def test_a_message_is_stored_in_sequence_and_announced_with_one_notification(db):
    # given an interview the client opened with "Hello"
    client, freelancer, interview = await open_interview()

    # when the client writes twice
    first, first_events = await actions.send_message(client, interview.id, "Are you there?")
    second, second_events = await actions.send_message(client, interview.id, "Hello?")

    # then both are stored in order, and the interview points at the newest
    stored = await Message.filter(interview_id=interview.id).order_by("seq")
    assert [m.body for m in stored] == ["Hello", "Are you there?", "Hello?"]
    assert first.seq < second.seq == stored[-1].seq
    row = await Interview.get(id=interview.id)
    assert row.last_message_seq == second.seq
    # the message event goes to the interview's channel, with the row's fields (and no files)
    event = first_events[0]
    assert event.channel == f"interview:{interview.id}"
    assert event.payload == {
        "type": "message",
        "cursor": first.seq,
        "id": str(first.public_id),
        "interview_id": str(interview.id),
        "sender_id": str(client.user_id),
        "body": "Are you there?",
        "created_at": first.created_at.isoformat(),
        "attachments": [],
    }
    # and the freelancer is told once per unread conversation, not once per message
    [notification] = await message_notifications(freelancer)
    assert [e.channel for e in first_events[1:]] == [user_channel(freelancer.user_id)]
    assert first_events[1].payload["cursor"] == notification.seq
    assert first_events[1].payload["kind"] == "MESSAGE_RECEIVED"
    assert len(second_events) == 1
    # the sender has read up to their own message; the other party has three unread
    assert await unread(client, interview) == 0
    assert await unread(freelancer, interview) == 3


async def test_a_reply_after_reading_notifies_again_and_counts_only_the_other_partys(db):
    client, freelancer, interview = await open_interview()
    await actions.send_message(client, interview.id, "First")
    await actions.mark_read(freelancer, interview.id)
    assert await unread(freelancer, interview) == 0

    # when the freelancer replies, then the client writes again
    _, reply_events = await actions.send_message(freelancer, interview.id, "Reply")
    await actions.send_message(client, interview.id, "Again")

    # then the client was told of the reply, and the freelancer has one new unread
    assert [e.payload["kind"] for e in reply_events[1:]] == ["MESSAGE_RECEIVED"]
    assert len(await message_notifications(client)) == 1
    assert len(await message_notifications(freelancer)) == 2
    assert await unread(freelancer, interview) == 1
    assert await unread(client, interview) == 0


async def test_strangers_closed_conversations_and_bad_bodies_are_refused_and_store_nothing(db):
    client, _, interview = await open_interview()
    stranger = await client_actor()
    before = await Message.filter(interview_id=interview.id).count()

    with pytest.raises(NotFound):
        await actions.send_message(stranger, interview.id, "Let me in")
    with pytest.raises(NotFound):
        await actions.send_message(client, uuid4(), "Nobody here")
    for body in ("", "   ", "x" * (actions.MESSAGE_MAX + 1)):
        with pytest.raises(ValidationFailed):
            await actions.send_message(client, interview.id, body)
    await Interview.filter(id=interview.id).update(status=InterviewStatus.CLOSED)
    with pytest.raises(InvalidState):
        await actions.send_message(client, interview.id, "Still there?")

    assert await Message.filter(interview_id=interview.id).count() == before


async def test_sending_costs_at_most_four_statements(db):
    # given an interview where the freelancer already has an unread MESSAGE_RECEIVED (the
    # common case), then one where they have not (a notification to insert)
    client, _, interview = await open_interview()
    await actions.send_message(client, interview.id, "warm-up")
    for _ in range(2):
        # when
        with count_statements() as counter:
            await actions.send_message(client, interview.id, "counted")
        # then: one statement on PostgreSQL, four in a transaction on SQLite
        assert counter.count == (1 if db.backend == "postgres" else 4), "\n".join(
            counter.statements
        )
        await Notification.all().delete()


async def test_concurrent_sends_commit_in_sequence_with_one_waiting_notification_each(db):
    require_concurrent_postgres(db.backend)
    # given both parties writing at once, ten messages each
    client, freelancer, interview = await open_interview()
    await actions.mark_read(freelancer, interview.id)

    # when
    sent = await asyncio.gather(
        *(
            actions.send_message(party, interview.id, f"{name} {n}")
            for n in range(10)
            for name, party in (("client", client), ("freelancer", freelancer))
        )
    )

    # then every message has its own cursor, and the interview points at the newest
    cursors = sorted(message.seq for message, _ in sent)
    assert len(set(cursors)) == 20
    assert (await Interview.get(id=interview.id)).last_message_seq == cursors[-1]
    # and each party has exactly one unread MESSAGE_RECEIVED, announced once
    for party in (client, freelancer):
        waiting = [n for n in await message_notifications(party) if n.read_at is None]
        assert len(waiting) == 1
        announced = [
            event
            for _, events in sent
            for event in events[1:]
            if event.channel == user_channel(party.user_id)
        ]
        assert [event.payload["cursor"] for event in announced] == [waiting[0].seq]
