"""Interviews and their chat. Each action returns the events to publish after commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.actors import Actor
from models.attachments import actions as attachments
from models.attachments.orm import Attachment
from models.attachments.rules import MESSAGE_MAX_FILES
from models.attachments.storage import IncomingFile
from models.base import utc_now
from models.database import sql
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
from models.notifications.waiting import ON_WAITING_MESSAGE
from models.proposals import rules as proposal_rules
from models.proposals.orm import Proposal, ProposalStatus
from models.proposals.rules import ProposalAction, Role
from models.rows import instances

MESSAGE_MAX = 10_000


def interview_channel(interview_id: UUID) -> str:
    return f"interview:{interview_id}"


def message_event(message: Message, files: Sequence[Attachment] = ()) -> Published:
    return Published(
        channel=interview_channel(message.interview_id),
        payload={
            "type": "message",
            "cursor": message.seq,
            "id": str(message.public_id),
            "interview_id": str(message.interview_id),
            "sender_id": str(message.sender_id),
            "body": message.body,
            "created_at": message.created_at.isoformat(),
            # Subscribers build the message from this alone, its files included.
            "attachments": [attachments.envelope(row) for row in files],
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
            if proposal is None or proposal.job.client_id != actor.client_profile_id:
                if proposal is not None and proposal.freelancer_id == actor.freelancer_profile_id:
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
                proposal_id=proposal.id,
                client_id=actor.user_id,
                freelancer_id=proposal.freelancer.user_id,
            )
            if body is not None:
                message = await _append(interview, actor.user_id, body)
                events.append(message_event(message))
            _, event = await notify(
                interview.freelancer_id,
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
    read_column = "client_read_seq" if sender_id == interview.client_id else "freelancer_read_seq"
    # The sender has read everything up to their own message.
    await Interview.filter(id=interview.id).update(
        **{"last_message_seq": message.seq, read_column: message.seq}
    )
    interview.last_message_seq = message.seq
    return message


def _participant(actor: Actor, interview: Interview | None) -> Interview:
    if interview is None or actor.user_id not in (
        interview.client_id,
        interview.freelancer_id,
    ):
        raise NotFound("Interview", field=["input", "interviewId"])
    return interview


# sendMessage runs once per chat line, so it is written by hand rather than through the ORM's
# query builder (which cost more server CPU than the database did). It locks the interview (and
# reads who may write), inserts the message, moves the read positions, and inserts the
# notification unless an unread one for this conversation is waiting. On PostgreSQL that is one
# statement of data-modifying CTEs, its own transaction: no BEGIN and COMMIT round trips. SQLite
# has no such CTEs: four statements in a transaction.
_SEND = (
    "WITH interview AS ("
    "SELECT client_id, freelancer_id, status FROM interviews WHERE id = $2 FOR UPDATE), "
    "message AS ("
    "INSERT INTO messages (public_id, interview_id, sender_id, body, created_at) "
    "SELECT $1, $2, $3, $4, $5 FROM interview "
    "WHERE status = 'OPEN' AND $3 IN (client_id, freelancer_id) RETURNING seq), "
    # The sender has read everything up to their own message.
    "moved AS (UPDATE interviews SET last_message_seq = message.seq, "
    "client_read_seq = CASE WHEN interviews.client_id = $3 "
    "THEN message.seq ELSE interviews.client_read_seq END, "
    "freelancer_read_seq = CASE WHEN interviews.freelancer_id = $3 "
    "THEN message.seq ELSE interviews.freelancer_read_seq END "
    "FROM message WHERE interviews.id = $2), "
    # Coalesced: one unread MESSAGE_RECEIVED per conversation, not one per message.
    "notified AS ("
    "INSERT INTO notifications (public_id, user_id, kind, title, subject_type, subject_id, "
    "created_at) SELECT $6, CASE WHEN interview.client_id = $3 THEN interview.freelancer_id "
    "ELSE interview.client_id END, 'MESSAGE_RECEIVED', 'New message', 'Interview', $2, $5 "
    f"FROM interview, message {ON_WAITING_MESSAGE} RETURNING seq) "
    "SELECT client_id, freelancer_id, status, (SELECT seq FROM message) AS message_seq, "
    "(SELECT seq FROM notified) AS notification_seq FROM interview"
)
_LOCK_INTERVIEW = "SELECT client_id, freelancer_id, status FROM interviews WHERE id = $1"
_INSERT_MESSAGE = (
    "INSERT INTO messages (public_id, interview_id, sender_id, body, created_at) "
    "VALUES ($1, $2, $3, $4, $5) RETURNING seq"
)
_MOVE_READ_POSITIONS = {
    column: f"UPDATE interviews SET last_message_seq = $1, {column} = $1 WHERE id = $2"
    for column in ("client_read_seq", "freelancer_read_seq")
}
_NOTIFY = (
    "INSERT INTO notifications (public_id, user_id, kind, title, subject_type, subject_id, "
    "created_at) SELECT $1, $2, 'MESSAGE_RECEIVED', 'New message', 'Interview', $3, $4 "
    "WHERE NOT EXISTS (SELECT 1 FROM notifications WHERE user_id = $2 "
    "AND kind = 'MESSAGE_RECEIVED' AND subject_id = $3 AND read_at IS NULL) RETURNING seq"
)


async def _write(message: Message, notification_id: UUID) -> dict[str, Any] | None:
    """The message, the read positions and the coalesced notification, as `_SEND` returns them
    (None when there is no such interview). Runs on the current transaction when there is one."""
    client = connections.get("default")
    if client.capabilities.dialect == "sqlite":
        return await _send_apart(message, notification_id)
    rows = await client.execute_query_dict(
        _SEND,
        [
            str(message.public_id),
            str(message.interview_id),
            str(message.sender_id),
            message.body,
            message.created_at,
            str(notification_id),
        ],
    )
    return rows[0] if rows else None


def _sent(actor: Actor, message: Message, written: dict[str, Any] | None) -> dict[str, Any]:
    """What `_write` wrote, or the reason it wrote nothing; fills in the message's sequence."""
    if written is None or actor.user_id not in (
        UUID(str(written["client_id"])),
        UUID(str(written["freelancer_id"])),
    ):
        raise NotFound("Interview", field=["input", "interviewId"])
    if written["status"] != InterviewStatus.OPEN or written["message_seq"] is None:
        raise InvalidState("This conversation is closed")
    message.seq = int(written["message_seq"])
    message._saved_in_db = True
    return written


async def send_message(
    actor: Actor, interview_id: UUID, body: str, files: Sequence[IncomingFile] = ()
) -> tuple[Message, list[Published]]:
    accepted = attachments.accept(files, limit=MESSAGE_MAX_FILES, field=["input", "attachments"])
    # Files may speak for themselves: a message with attachments may have no text.
    body = "" if accepted and not body.strip() else _clean_body(body)
    # Made as a row is (models/rows.py): Tortoise's Model.__init__ was a tenth of the action.
    [message] = instances(
        Message,
        [
            {
                "seq": None,
                "public_id": uuid4(),
                "interview_id": interview_id,
                "sender_id": actor.user_id,
                "body": body,
                "created_at": utc_now(),
            }
        ],
    )
    notification_id = uuid4()
    stored: list[Attachment] = []
    if not accepted:
        # PostgreSQL: one statement, its own transaction (no BEGIN and COMMIT round trips).
        written = _sent(actor, message, await _write(message, notification_id))
    else:
        # The files' rows must commit with the message, or not at all.
        async with attachments.Placing(accepted) as placing, in_transaction():
            written = _sent(actor, message, await _write(message, notification_id))
            stored = await placing.store(uploader_id=actor.user_id, message_seq=message.seq)
    events = [message_event(message, stored)]
    if written["notification_seq"] is not None:
        client_id = UUID(str(written["client_id"]))
        notification = Notification(
            seq=int(written["notification_seq"]),
            public_id=notification_id,
            user_id=UUID(str(written["freelancer_id"]))
            if actor.user_id == client_id
            else client_id,
            kind=NotificationKind.MESSAGE_RECEIVED,
            title="New message",
            subject_type="Interview",
            subject_id=interview_id,
            read_at=None,
            created_at=message.created_at,
        )
        notification._saved_in_db = True
        events.append(notification_event(notification))
    return message, events


async def _send_apart(message: Message, notification_id: UUID) -> dict[str, Any] | None:
    """SQLite's sendMessage: the same steps as PostgreSQL's statement, in one transaction (one
    writer at a time: nothing can come between them)."""
    interview_id = str(message.interview_id)
    sender = message.sender_id
    async with in_transaction() as connection:
        rows = await connection.execute_query_dict(sql(connection, _LOCK_INTERVIEW), [interview_id])
        if not rows:
            return None
        written: dict[str, Any] = {**rows[0], "message_seq": None, "notification_seq": None}
        client_id, freelancer_id = (
            UUID(str(rows[0]["client_id"])),
            UUID(str(rows[0]["freelancer_id"])),
        )
        if rows[0]["status"] != InterviewStatus.OPEN or sender not in (client_id, freelancer_id):
            return written
        [inserted] = await connection.execute_query_dict(
            sql(connection, _INSERT_MESSAGE),
            [str(message.public_id), interview_id, str(sender), message.body, message.created_at],
        )
        written["message_seq"] = inserted["seq"]
        column = "client_read_seq" if sender == client_id else "freelancer_read_seq"
        await connection.execute_query(
            sql(connection, _MOVE_READ_POSITIONS[column]), [inserted["seq"], interview_id]
        )
        recipient = freelancer_id if sender == client_id else client_id
        notified = await connection.execute_query_dict(
            sql(connection, _NOTIFY),
            [str(notification_id), str(recipient), interview_id, message.created_at],
        )
        written["notification_seq"] = notified[0]["seq"] if notified else None
    return written


async def mark_read(actor: Actor, interview_id: UUID) -> Interview:
    async with in_transaction():
        interview = _participant(
            actor, await Interview.filter(id=interview_id).select_for_update().first()
        )
        column = (
            "client_read_seq" if actor.user_id == interview.client_id else "freelancer_read_seq"
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


async def message_events_after(
    interview_id: UUID, after_seq: int | None, limit: int = 500
) -> list[Published]:
    """The replay of `messageAdded(after:)`: the same events as were published live, files
    included (one more query per page)."""
    rows = await messages_after(interview_id, after_seq, limit)
    files = await attachments.by_owner("message_id", [row.seq for row in rows])
    return [message_event(row, files.get(row.seq, ())) for row in rows]
