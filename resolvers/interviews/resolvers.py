from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from tortoise.expressions import Q

from models.events import Published
from models.interviews import actions
from models.interviews.orm import Interview as InterviewRow
from models.interviews.orm import Message as MessageRow
from models.pagination import PageRequest
from realtime import channels
from resolvers.actors import signed_in_actor, signed_in_user
from resolvers.context import Info
from resolvers.errors import Outcome, PublicError, attempt
from resolvers.ids import decode_id, parse_global_id
from resolvers.pages import Listing, listing
from resolvers.publish import publish
from resolvers.streams import REPLAY_PAGE, StreamPlan, after_cursor, signed_in_now, viewer_source
from resolvers.uploads import incoming_files


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


async def start_interview(
    info: Info, proposal_id: str, message: str | None
) -> Outcome[InterviewRow]:
    async def run() -> tuple[InterviewRow, list[Published]]:
        proposal = decode_id(proposal_id, "Proposal", field=["input", "proposalId"])
        return await actions.start_interview(await signed_in_actor(info), proposal, message)

    result, problems = await attempt(run())
    if result is None:
        return None, problems
    interview, events = result
    await publish(info, events)
    return interview, []


async def send_message(
    info: Info, interview_id: str, body: str, attachments: Sequence[object] | None
) -> Outcome[MessageRow]:
    async def run() -> tuple[MessageRow, list[Published]]:
        interview = decode_id(interview_id, "Interview", field=["input", "interviewId"])
        files = incoming_files(attachments, ["input", "attachments"])
        return await actions.send_message(signed_in_user(info), interview, body, files)

    result, problems = await attempt(run())
    if result is None:
        return None, problems
    message, events = result
    await publish(info, events)
    return message, []


async def mark_interview_read(info: Info, interview_id: str) -> Outcome[InterviewRow]:
    async def run() -> InterviewRow:
        interview = decode_id(interview_id, "Interview", field=["input", "interviewId"])
        return await actions.mark_read(await signed_in_actor(info), interview)

    return await attempt(run())


async def viewer_interviews(info: Info, request: PageRequest) -> Listing[InterviewRow]:
    user = info.context.user
    assert user is not None
    queryset = InterviewRow.filter(Q(client_id=user.id) | Q(freelancer_id=user.id))
    return await listing(queryset, request, descending=True)


# ---------------------------------------------------------------- subscriptions


async def message_stream(info: Info, interview_id: str, after: str | None) -> StreamPlan:
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

    return StreamPlan(
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
