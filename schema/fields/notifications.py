"""Notifications: the viewer's list, its unread count, and marking them read."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from resolvers.context import Info
from resolvers.notifications import resolvers as notifications
from resolvers.pages import page_request
from schema.core import Connection, connection_of
from schema.notifications import (
    MarkNotificationsReadInput,
    MarkNotificationsReadPayload,
    Notification,
)
from schema.streams import serve


async def viewer_notifications(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    unread_only: bool | None = None,
) -> Connection[Notification]:
    found = await notifications.viewer_notifications(
        info, page_request(first, after, last, before), unread_only
    )
    return connection_of(found, Notification.from_row)


async def unread_notification_count(info: Info) -> int:
    return await notifications.unread_notification_count(info)


async def mark_notifications_read(
    info: Info, input: MarkNotificationsReadInput
) -> MarkNotificationsReadPayload:
    count = await notifications.mark_notifications_read(info, input.ids)
    return MarkNotificationsReadPayload(unread_notification_count=count, user_errors=[])


async def notification_added(
    info: Info, after: str | None = None
) -> AsyncGenerator[Notification, None]:
    plan = await notifications.notification_stream(info, after)
    async for notification in serve(info, plan, Notification.from_envelope):
        yield notification
