from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry

from models.notifications import orm
from models.pagination import cursor_of
from resolvers.context import Info
from schema.core import Node, UserError, described_field, encode_global_id
from schema.node_registry import resolve_node

# Domain enums, marked as GraphQL enums in place (strawberry.enum returns the class it marks)
# and bound by plain assignment, which mypy reads as a type alias.
NotificationKind = orm.NotificationKind
strawberry.enum(NotificationKind, name="NotificationKind")


@strawberry.type
class Notification(Node):
    id: strawberry.ID
    kind: NotificationKind
    title: str
    read: bool
    created_at: datetime
    cursor: str = strawberry.field(description="For `notificationAdded(after:)`.")
    subject_type: strawberry.Private[str | None]
    subject_global_id: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: orm.Notification) -> Notification:
        return cls(
            id=encode_global_id("Notification", row.public_id),
            kind=orm.NotificationKind(row.kind),
            title=row.title,
            read=row.read_at is not None,
            created_at=row.created_at,
            cursor=cursor_of(row.seq),
            subject_type=row.subject_type,
            subject_global_id=encode_global_id(row.subject_type, row.subject_id)
            if row.subject_type and row.subject_id
            else None,
        )

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any]) -> Notification:
        """Built from the published event alone: no database read per subscriber."""
        subject_type, subject_id = envelope.get("subject_type"), envelope.get("subject_id")
        return cls(
            id=encode_global_id("Notification", UUID(envelope["id"])),
            kind=orm.NotificationKind(envelope["kind"]),
            title=envelope["title"],
            read=bool(envelope["read"]),
            created_at=datetime.fromisoformat(envelope["created_at"]),
            cursor=cursor_of(int(envelope["cursor"])),
            subject_type=subject_type,
            subject_global_id=encode_global_id(subject_type, UUID(subject_id))
            if subject_type and subject_id
            else None,
        )

    @described_field(
        "The object it is about: a Job, Proposal, Interview, Contract, Milestone, Review or "
        "Dispute; null if the viewer may no longer see it."
    )
    async def subject(self, info: Info) -> Node | None:
        if self.subject_global_id is None:
            return None
        subject: Node | None = await resolve_node(info, self.subject_global_id)
        return subject


@strawberry.input
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Empty or absent: all."
    )


@strawberry.type
class MarkNotificationsReadPayload:
    unread_notification_count: int
    user_errors: list[UserError]
