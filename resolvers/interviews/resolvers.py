from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any
from uuid import UUID

import strawberry
from tortoise.expressions import Q

from models.events import Published
from models.interviews import actions
from models.interviews.orm import Interview as InterviewRow
from models.interviews.orm import Message as MessageRow
from models.notifications.actions import notification_event
from models.notifications.orm import Notification as NotificationRow
from realtime import channels
from resolvers.actors import signed_in_actor, signed_in_user
from resolvers.context import Info
from resolvers.errors import PublicError
from resolvers.ids import decode_id, parse_global_id
from resolvers.pages import page_request
from resolvers.publish import publish
from resolvers.streams import REPLAY_PAGE, StreamPlan, after_cursor, signed_in_now, viewer_source
from resolvers.uploads import incoming_files
from schema.compat import attempt
from schema.core import Connection, build_connection
from schema.interviews import (
    Interview,
    InterviewPayload,
    MarkInterviewReadInput,
    Message,
    MessagePayload,
    SendMessageInput,
    StartInterviewInput,
)
from schema.notifications import Notification
from schema.streams import serve


async def visible_interview(info: Info, pk: UUID) -> InterviewRow | None:
    row = await info.context.loaders.interview.load(pk)
    user = info.context.user
    if row is None or user is None or user.id not in (row.client_id, row.freelancer_id):
        return None
    return row


async def visible_message(info: Info, public_id: UUID) -> MessageRow | None:
    row = await info.context.loaders.message.load(public_id)
    if row is None or await visible_interview(info, row.interview_id) is None:
        return None
    return row


async def start_interview(info: Info, input: StartInterviewInput) -> InterviewPayload:
    async def run() -> tuple[InterviewRow, list[Published]]:
        proposal_id = decode_id(input.proposal_id, "Proposal", field=["input", "proposalId"])
        return await actions.start_interview(
            await signed_in_actor(info), proposal_id, input.message
        )

    result, errors = await attempt(run())
    if result is None:
        return InterviewPayload(interview=None, user_errors=errors)
    interview, events = result
    await publish(info, events)
    return InterviewPayload(interview=Interview.from_row(interview), user_errors=[])


async def send_message(info: Info, input: SendMessageInput) -> MessagePayload:
    async def run() -> tuple[MessageRow, list[Published]]:
        interview_id = decode_id(input.interview_id, "Interview", field=["input", "interviewId"])
        files = incoming_files(input.attachments, ["input", "attachments"])
        return await actions.send_message(signed_in_user(info), interview_id, input.body, files)

    result, errors = await attempt(run())
    if result is None:
        return MessagePayload(message=None, user_errors=errors)
    message, events = result
    await publish(info, events)
    return MessagePayload(message=Message.from_row(message), user_errors=[])


async def mark_interview_read(info: Info, input: MarkInterviewReadInput) -> InterviewPayload:
    async def run() -> InterviewRow:
        interview_id = decode_id(input.interview_id, "Interview", field=["input", "interviewId"])
        return await actions.mark_read(await signed_in_actor(info), interview_id)

    row, errors = await attempt(run())
    return InterviewPayload(interview=Interview.from_row(row) if row else None, user_errors=errors)


async def viewer_interviews(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Interview]:
    user = info.context.user
    assert user is not None
    queryset = InterviewRow.filter(Q(client_id=user.id) | Q(freelancer_id=user.id))
    return await build_connection(
        queryset, page_request(first, after, last, before), Interview.from_row, descending=True
    )


# ---------------------------------------------------------------- subscriptions


async def message_added(
    info: Info, interview_id: strawberry.ID, after: str | None = None
) -> AsyncGenerator[Message, None]:
    user = await signed_in_now(info)
    parsed = parse_global_id(interview_id)
    interview = (
        await visible_interview(info, parsed[1]) if parsed and parsed[0] == "Interview" else None
    )
    if interview is None:
        raise PublicError("No Interview with this ID", "NOT_FOUND")
    after_seq = after_cursor(after)

    async def fetch_after(cursor: int | None) -> list[dict[str, Any]]:
        events = await actions.message_events_after(interview.id, cursor, limit=REPLAY_PAGE)
        return [event.payload for event in events]

    async def latest() -> int:
        row = await MessageRow.filter(interview_id=interview.id).order_by("-seq").first()
        return row.seq if row else 0

    plan = StreamPlan(
        source=viewer_source(
            [channels.interview(interview.id), channels.user(user.id)],
            accept=lambda envelope, channel: envelope.get("type") == "message",
            fetch_after=fetch_after,
        ),
        scope=interview.id,
        latest=latest,
        # Presence: the viewer is on the interview for as long as the subscription lives,
        # which, once handed to its shared stream, is longer than this generator.
        on_leave=info.context.presence.hold(interview.id, user.id),
        after=after_seq,
    )
    async for message in serve(info, plan, Message.from_envelope):
        yield message


async def notification_added(
    info: Info, after: str | None = None
) -> AsyncGenerator[Notification, None]:
    user = await signed_in_now(info)
    after_seq = after_cursor(after)

    async def fetch_after(cursor: int | None) -> list[dict[str, Any]]:
        query = NotificationRow.filter(user_id=user.id)
        if cursor is not None:
            query = query.filter(seq__gt=cursor)
        rows = await query.order_by("seq").limit(REPLAY_PAGE)
        return [notification_event(row).payload for row in rows]

    async def latest() -> int:
        row = await NotificationRow.filter(user_id=user.id).order_by("-seq").first()
        return row.seq if row else 0

    plan = StreamPlan(
        source=viewer_source(
            [channels.user(user.id)],
            accept=lambda envelope, channel: envelope.get("type") == "notification",
            fetch_after=fetch_after,
        ),
        scope=None,
        latest=latest,
        after=after_seq,
    )
    async for notification in serve(info, plan, Notification.from_envelope):
        yield notification
