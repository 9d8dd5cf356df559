from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from strawberry.file_uploads import Upload

from models.interviews import orm
from models.interviews.orm import Message as MessageRow
from models.pagination import cursor_of
from resolvers.context import Info
from resolvers.loaders import referenced
from resolvers.pages import page_request
from schema import refs
from schema.attachments import Attachment, attachments_of
from schema.core import (
    Connection,
    Node,
    UserError,
    described_field,
    encode_global_id,
    nested_connection,
)
from schema.jobs import Job
from schema.proposals import Proposal
from schema.users import User

# Domain enums, marked as GraphQL enums in place (strawberry.enum returns the class it marks)
# and bound by plain assignment, which mypy reads as a type alias.
InterviewStatus = orm.InterviewStatus
strawberry.enum(InterviewStatus, name="InterviewStatus")

STREAM_KEYS = ("seq",)


@strawberry.type
class Message(Node):
    id: strawberry.ID
    body: str
    created_at: datetime
    cursor: str = strawberry.field(
        description=("The cursor of this message within its interview, for `messageAdded(after:)`.")
    )
    interview_id: strawberry.Private[UUID]
    sender_id: strawberry.Private[UUID]
    seq: strawberry.Private[int]
    # Known from a published event; None: loaded when asked for.
    known_attachments: strawberry.Private[list[Attachment] | None] = None

    @classmethod
    def from_row(cls, row: orm.Message) -> Message:
        return cls(
            id=encode_global_id("Message", row.public_id),
            body=row.body,
            created_at=row.created_at,
            cursor=cursor_of(row.seq),
            interview_id=row.interview_id,
            sender_id=row.sender_id,
            seq=row.seq,
        )

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any]) -> Message:
        """Built from the published event alone: no database read per subscriber."""
        return cls(
            id=encode_global_id("Message", UUID(envelope["id"])),
            body=envelope["body"],
            created_at=datetime.fromisoformat(envelope["created_at"]),
            cursor=cursor_of(int(envelope["cursor"])),
            interview_id=UUID(envelope["interview_id"]),
            sender_id=UUID(envelope["sender_id"]),
            seq=int(envelope["cursor"]),
            known_attachments=[
                Attachment.from_envelope(item) for item in envelope.get("attachments", ())
            ],
        )

    @described_field("Files sent with the message, in the order they were given.")
    async def attachments(self, info: Info) -> list[Attachment]:
        if self.known_attachments is not None:
            return self.known_attachments
        return attachments_of(await info.context.loaders.attachments_by_message.load(self.seq))

    @strawberry.field
    async def interview(self, info: Info) -> Interview:
        return Interview.from_row(
            await referenced(info.context.loaders.interview, self.interview_id)
        )

    @strawberry.field
    async def sender(self, info: Info) -> User:
        return User.from_row(await referenced(info.context.loaders.user, self.sender_id))


@refs.registered
@strawberry.type(
    description=(
        "A conversation between a job's client and one freelancer; it carries on into the contract."
    )
)
class Interview(Node):
    id: strawberry.ID
    status: InterviewStatus
    created_at: datetime
    pk: strawberry.Private[UUID]
    job_id: strawberry.Private[UUID]
    proposal_id: strawberry.Private[UUID | None]
    client_id: strawberry.Private[UUID]
    freelancer_id: strawberry.Private[UUID]
    last_message_seq: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: orm.Interview) -> Interview:
        return cls(
            id=encode_global_id("Interview", row.id),
            status=orm.InterviewStatus(row.status),
            created_at=row.created_at,
            pk=row.id,
            job_id=row.job_id,
            proposal_id=row.proposal_id,
            client_id=row.client_id,
            freelancer_id=row.freelancer_id,
            last_message_seq=row.last_message_seq,
        )

    @strawberry.field
    async def job(self, info: Info) -> Job:
        return Job.from_row(await referenced(info.context.loaders.job, self.job_id))

    @strawberry.field
    async def proposal(self, info: Info) -> Proposal | None:
        if self.proposal_id is None:
            return None
        row = await info.context.loaders.proposal.load(self.proposal_id)
        return Proposal.from_row(row) if row else None

    @strawberry.field
    async def client(self, info: Info) -> User:
        return User.from_row(await referenced(info.context.loaders.user, self.client_id))

    @strawberry.field
    async def freelancer(self, info: Info) -> User:
        return User.from_row(await referenced(info.context.loaders.user, self.freelancer_id))

    @described_field("Oldest first; `last: 20` gives the newest page.")
    async def messages(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Message]:
        return await nested_connection(
            info,
            MessageRow,
            "interview_id",
            self.pk,
            page_request(first, after, last, before),
            Message.from_row,
            keys=STREAM_KEYS,
        )

    @strawberry.field
    async def last_message(self, info: Info) -> Message | None:
        if self.last_message_seq is None:
            return None
        row = await info.context.loaders.message_by_seq.load(self.last_message_seq)
        return Message.from_row(row) if row else None

    @described_field("Messages from the other party that the viewer has not read.")
    async def unread_count(self, info: Info) -> int:
        user = info.context.user
        if user is None:
            return 0
        return await info.context.loaders.unread_messages(user.id).load(self.pk)


@strawberry.input
class StartInterviewInput:
    proposal_id: strawberry.ID
    message: str | None = None


@strawberry.type
class InterviewPayload:
    interview: Interview | None
    user_errors: list[UserError]


@strawberry.input
class SendMessageInput:
    interview_id: strawberry.ID
    body: str = strawberry.field(description="May be empty when files are attached.")
    attachments: list[Upload] | None = strawberry.field(
        default=None,
        description=(
            "Up to 5 files, sent as a GraphQL multipart request (see the README: Attachments)."
        ),
    )


@strawberry.type
class MessagePayload:
    message: Message | None
    user_errors: list[UserError]


@strawberry.input
class MarkInterviewReadInput:
    interview_id: strawberry.ID
