"""The notification feed every domain writes to. Inserting returns the event to publish."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from models.base import utc_now
from models.events import Published, user_channel
from models.notifications.orm import Notification, NotificationKind


async def notify(
    user_id: UUID,
    kind: NotificationKind,
    title: str,
    *,
    subject_type: str | None = None,
    subject_id: UUID | None = None,
) -> tuple[Notification, Published]:
    """Call inside the action's transaction; publish the returned event after it commits."""
    row = await Notification.create(
        user_id=user_id,
        kind=kind,
        title=title[:200],
        subject_type=subject_type,
        subject_id=subject_id,
    )
    return row, notification_event(row)


def notification_event(row: Notification) -> Published:
    return Published(
        channel=user_channel(row.user_id),
        payload={
            "type": "notification",
            "cursor": row.seq,
            "id": str(row.public_id),
            "kind": row.kind.value if hasattr(row.kind, "value") else row.kind,
            "title": row.title,
            "subject_type": row.subject_type,
            "subject_id": str(row.subject_id) if row.subject_id else None,
            "read": row.read_at is not None,
            "created_at": row.created_at.isoformat(),
        },
    )


async def mark_read(user_id: UUID, public_ids: Sequence[UUID] | None) -> int:
    """Mark the user's notifications read (all when no ids); returns the unread count after."""
    unread = Notification.filter(user_id=user_id, read_at=None)
    if public_ids:
        unread = unread.filter(public_id__in=list(public_ids))
    await unread.update(read_at=utc_now())
    return await unread_count(user_id)


async def unread_count(user_id: UUID) -> int:
    return await Notification.filter(user_id=user_id, read_at=None).count()
