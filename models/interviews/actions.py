"""Interviews and their chat. Each action returns the events to publish after commit."""

from __future__ import annotations

import re
from collections.abc import Callable
from uuid import UUID, uuid4

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.actors import Actor
from models.base import utc_now
from models.errors import (
    AlreadyExists,
    DomainError,
    ErrorCode,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from models.events import Published
from models.interviews.orm import Interview, InterviewStatus, Message
from models.notifications.actions import notification_event, notify
from models.notifications.orm import Notification, NotificationKind
from models.proposals import rules as proposal_rules
from models.proposals.orm import Proposal, ProposalStatus
from models.proposals.rules import ProposalAction, Role

MESSAGE_MAX = 10_000


def interview_channel(interview_id: UUID) -> str:
    return f"interview:{interview_id}"


def message_event(message: Message) -> Published:
    return Published(
        channel=interview_channel(message.interview_id),
        payload={  # type: ignore[attr-defined]
            "type": "message",
            "cursor": message.seq,
            "id": str(message.public_id),
            "interview_id": str(message.interview_id),  # type: ignore[attr-defined]
            "sender_id": str(message.sender_id),  # type: ignore[attr-defined]
            "body": message.body,
            "created_at": message.created_at.isoformat(),
        },
    )


def _clean_body(body: str) -> str:
    if not body or not body.strip():
        raise ValidationFailed("A message must not be empty", field=["input", "body"])
    if len(body) > MESSAGE_MAX:
        raise ValidationFailed(
            f"A message is at most {MESSAGE_MAX} characters", field=["input", "body"]
        )
    return body


async def start_interview(
    actor: Actor, proposal_id: UUID, first_message: str | None
) -> tuple[Interview, list[Published]]:
    body = _clean_body(first_message) if first_message is not None else None
    events: list[Published] = []
    try:
        async with in_transaction():
            proposal = (
                await Proposal.filter(id=proposal_id)
                .select_for_update(of=("proposals",))
                .select_related("job__client", "freelancer")
                .first()
            )
            if proposal is None or proposal.job.client_id != actor.client_profile_id:  # type: ignore[attr-defined]
                if proposal is not None and proposal.freelancer_id == actor.freelancer_profile_id:  # type: ignore[attr-defined]
                    raise DomainError(
                        "Only the job's client starts an interview", code=ErrorCode.FORBIDDEN
                    )
                raise NotFound("Proposal", field=["input", "proposalId"])
            if await Interview.filter(proposal_id=proposal.id).exists():
                raise AlreadyExists(
                    "An interview for this proposal already exists", field=["input", "proposalId"]
                )
            proposal.status = proposal_rules.transition(
                ProposalStatus(proposal.status), ProposalAction.START_INTERVIEW, Role.CLIENT
            )
            proposal.updated_at = utc_now()
            await proposal.save(update_fields=["status", "updated_at"])
            interview = await Interview.create(
                job_id=proposal.job_id,
                proposal_id=proposal.id,  # type: ignore[attr-defined]
                client_id=actor.user_id,
                freelancer_id=proposal.freelancer.user_id,
            )  # type: ignore[attr-defined]
            if body is not None:
                message = await _append(interview, actor.user_id, body)
                events.append(message_event(message))
            _, event = await notify(
                interview.freelancer_id,  # type: ignore[attr-defined]
                NotificationKind.INTERVIEW_STARTED,
                f"{proposal.job.title}: the client wants to talk",
                subject_type="Interview",
                subject_id=interview.id,
            )
            events.append(event)
    except IntegrityError as error:
        raise AlreadyExists(
            "An interview for this proposal already exists", field=["input", "proposalId"]
        ) from error
    return interview, events


async def _append(interview: Interview, sender_id: UUID, body: str) -> Message:
    message = await Message.create(interview_id=interview.id, sender_id=sender_id, body=body)
    read_column = (
        "client_read_seq"
        if sender_id == interview.client_id  # type: ignore[attr-defined]
        else "freelancer_read_seq"
    )
    # The sender has read everything up to their own message.
    await Interview.filter(id=interview.id).update(
        **{"last_message_seq": message.seq, read_column: message.seq}
    )
    interview.last_message_seq = message.seq
    return message


def _participant(actor: Actor, interview: Interview | None) -> Interview:
    if interview is None or actor.user_id not in (
        interview.client_id,  # type: ignore[attr-defined]
        interview.freelancer_id,
    ):  # type: ignore[attr-defined]
        raise NotFound("Interview", field=["input", "interviewId"])
    return interview


# sendMessage runs once per chat line, so it is written as four statements in one transaction
# rather than through the ORM's query builder (which cost more server CPU than the database did):
# lock the interview and read who may write, insert the message, move the read positions, and
# insert the notification unless an unread one for this conversation is already waiting.
_LOCK_INTERVIEW = "SELECT client_id, freelancer_id, status FROM interviews WHERE id = $1"
_INSERT_MESSAGE = (
    "INSERT INTO messages (public_id, interview_id, sender_id, body, created_at) "
    "VALUES ($1, $2, $3, $4, $5) RETURNING seq"
)
# The sender has read everything up to their own message.
_MOVE_READ_POSITIONS = {
    column: f"UPDATE interviews SET last_message_seq = $1, {column} = $1 WHERE id = $2"
    for column in ("client_read_seq", "freelancer_read_seq")
}
# Coalesced: one unread MESSAGE_RECEIVED per conversation, not one per message. The interview's
# row lock makes the check and the insert one step for this conversation.
_NOTIFY_UNLESS_WAITING = (
    "INSERT INTO notifications (public_id, user_id, kind, title, subject_type, subject_id, "
    "created_at) SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS (SELECT 1 FROM "
    "notifications WHERE user_id = $8 AND kind = $9 AND subject_id = $10 AND read_at IS NULL) "
    "RETURNING seq"
)


def _dialect(client: BaseDBAsyncClient) -> Callable[[str], str]:
    """PostgreSQL's `$n` placeholders as SQLite's `?n`."""
    if client.capabilities.dialect == "sqlite":
        return lambda sql: re.sub(r"\$(\d+)", r"?\1", sql)
    return lambda sql: sql


async def send_message(
    actor: Actor, interview_id: UUID, body: str
) -> tuple[Message, list[Published]]:
    body = _clean_body(body)
    now = utc_now()
    async with in_transaction() as connection:
        sql = _dialect(connection)
        # The row lock serializes sends within one interview, so its messages commit in
        # sequence order (SQLite has one writer at a time anyway).
        lock = " FOR UPDATE" if connection.capabilities.dialect != "sqlite" else ""
        rows = await connection.execute_query_dict(sql(_LOCK_INTERVIEW) + lock, [str(interview_id)])
        row = rows[0] if rows else None
        client_id = UUID(str(row["client_id"])) if row else None
        freelancer_id = UUID(str(row["freelancer_id"])) if row else None
        if row is None or actor.user_id not in (client_id, freelancer_id):
            raise NotFound("Interview", field=["input", "interviewId"])
        if row["status"] != InterviewStatus.OPEN:
            raise InvalidState("This conversation is closed")
        message = Message(
            public_id=uuid4(),
            interview_id=interview_id,
            sender_id=actor.user_id,
            body=body,
            created_at=now,
        )
        rows = await connection.execute_query_dict(
            sql(_INSERT_MESSAGE),
            [str(message.public_id), str(interview_id), str(actor.user_id), body, now],
        )
        message.seq = int(rows[0]["seq"])
        message._saved_in_db = True
        is_client = actor.user_id == client_id
        await connection.execute_query(
            sql(_MOVE_READ_POSITIONS["client_read_seq" if is_client else "freelancer_read_seq"]),
            [message.seq, str(interview_id)],
        )
        events = [message_event(message)]
        recipient = freelancer_id if is_client else client_id
        notification = Notification(
            public_id=uuid4(),
            user_id=recipient,
            kind=NotificationKind.MESSAGE_RECEIVED,
            title="New message",
            subject_type="Interview",
            subject_id=interview_id,
            read_at=None,
            created_at=now,
        )
        kind = NotificationKind.MESSAGE_RECEIVED.value
        rows = await connection.execute_query_dict(
            sql(_NOTIFY_UNLESS_WAITING),
            [
                str(notification.public_id),
                str(recipient),
                kind,
                notification.title,
                notification.subject_type,
                str(interview_id),
                now,
                str(recipient),
                kind,
                str(interview_id),
            ],
        )
        if rows:
            notification.seq = int(rows[0]["seq"])
            notification._saved_in_db = True
            events.append(notification_event(notification))
    return message, events


async def mark_read(actor: Actor, interview_id: UUID) -> Interview:
    async with in_transaction():
        interview = _participant(
            actor, await Interview.filter(id=interview_id).select_for_update().first()
        )
        column = (
            "client_read_seq"
            if actor.user_id == interview.client_id  # type: ignore[attr-defined]
            else "freelancer_read_seq"
        )
        position = interview.last_message_seq or 0
        await Interview.filter(id=interview.id).update(**{column: position})
        setattr(interview, column, position)
        await Notification.filter(
            user_id=actor.user_id,
            kind=NotificationKind.MESSAGE_RECEIVED,
            subject_id=interview.id,
            read_at=None,
        ).update(read_at=utc_now())
    return interview


async def unread_counts(user_id: UUID, interview_ids: list[UUID]) -> dict[UUID, int]:
    """Messages from the other party after the user's read position, per interview; one query."""
    if not interview_ids:
        return {}
    client = connections.get("default")
    sqlite = client.capabilities.dialect == "sqlite"
    marks = ", ".join("?" if sqlite else f"${index + 2}" for index in range(len(interview_ids)))
    me = "?" if sqlite else "$1"
    sql = (
        "SELECT m.interview_id AS interview_id, COUNT(*) AS unread FROM messages m "
        "JOIN interviews i ON i.id = m.interview_id "
        f"WHERE m.interview_id IN ({marks}) AND m.sender_id <> {me} AND m.seq > "
        f"CASE WHEN i.client_id = {me} THEN i.client_read_seq ELSE i.freelancer_read_seq END "
        "GROUP BY m.interview_id"
    )
    # SQLite binds '?' in order of appearance (the ids, then `me` twice); PostgreSQL by number.
    params: list[object] = (
        [*map(str, interview_ids), str(user_id), str(user_id)]
        if sqlite
        else [user_id, *interview_ids]
    )
    _, rows = await client.execute_query(sql, params)
    return {UUID(str(row["interview_id"])): int(row["unread"]) for row in rows}


async def messages_after(
    interview_id: UUID, after_seq: int | None, limit: int = 500
) -> list[Message]:
    query = Message.filter(interview_id=interview_id)
    if after_seq is not None:
        query = query.filter(seq__gt=after_seq)
    return list(await query.order_by("seq").limit(limit))
