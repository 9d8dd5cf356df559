"""Interviews: starting one, its messages (sent, read, streamed) and the viewer's list."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from resolvers.context import Info
from resolvers.interviews import resolvers as interviews
from resolvers.pages import page_request
from schema.core import Connection, connection_of, user_errors
from schema.interviews import (
    Interview,
    InterviewPayload,
    MarkInterviewReadInput,
    Message,
    MessagePayload,
    SendMessageInput,
    StartInterviewInput,
)
from schema.streams import serve


async def start_interview(info: Info, input: StartInterviewInput) -> InterviewPayload:
    row, problems = await interviews.start_interview(info, input.proposal_id, input.message)
    return InterviewPayload(
        interview=Interview.from_row(row) if row else None, user_errors=user_errors(problems)
    )


async def send_message(info: Info, input: SendMessageInput) -> MessagePayload:
    row, problems = await interviews.send_message(
        info, input.interview_id, input.body, input.attachments
    )
    return MessagePayload(
        message=Message.from_row(row) if row else None, user_errors=user_errors(problems)
    )


async def mark_interview_read(info: Info, input: MarkInterviewReadInput) -> InterviewPayload:
    row, problems = await interviews.mark_interview_read(info, input.interview_id)
    return InterviewPayload(
        interview=Interview.from_row(row) if row else None, user_errors=user_errors(problems)
    )


async def viewer_interviews(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Interview]:
    found = await interviews.viewer_interviews(info, page_request(first, after, last, before))
    return connection_of(found, Interview.from_row)


async def message_added(
    info: Info, interview_id: strawberry.ID, after: str | None = None
) -> AsyncGenerator[Message, None]:
    plan = await interviews.message_stream(info, interview_id, after)
    async for message in serve(info, plan, Message.from_envelope):
        yield message
