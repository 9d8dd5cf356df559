from __future__ import annotations

from models.notifications import actions
from models.notifications.orm import Notification as NotificationRow
from resolvers.context import Info
from resolvers.ids import parse_global_id
from resolvers.pages import page_request
from schema.core import Connection, build_connection
from schema.notifications import (
    MarkNotificationsReadInput,
    MarkNotificationsReadPayload,
    Notification,
)


async def viewer_notifications(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    unread_only: bool | None = None,
) -> Connection[Notification]:
    assert info.context.user is not None
    queryset = NotificationRow.filter(user_id=info.context.user.id)
    if unread_only:
        queryset = queryset.filter(read_at=None)
    return await build_connection(
        queryset,
        page_request(first, after, last, before),
        Notification.from_row,
        keys=("seq",),
        descending=True,
    )


async def unread_notification_count(info: Info) -> int:
    assert info.context.user is not None
    return await actions.unread_count(info.context.user.id)


async def mark_notifications_read(
    info: Info, input: MarkNotificationsReadInput
) -> MarkNotificationsReadPayload:
    assert info.context.user is not None
    ids = []
    for global_id in input.ids or []:
        parsed = parse_global_id(global_id)
        if parsed and parsed[0] == "Notification":
            ids.append(parsed[1])
    if input.ids and not ids:
        # Ids that are not notifications of this user mark nothing, as unknown ones would.
        count = await actions.unread_count(info.context.user.id)
    else:
        count = await actions.mark_read(info.context.user.id, ids or None)
    return MarkNotificationsReadPayload(unread_notification_count=count, user_errors=[])
