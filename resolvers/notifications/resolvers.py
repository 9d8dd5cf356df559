from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models.notifications import actions
from models.notifications.actions import notification_event
from models.notifications.orm import Notification as NotificationRow
from models.pagination import PageRequest
from realtime import channels
from resolvers.context import Info
from resolvers.ids import parse_global_id
from resolvers.pages import Listing, listing
from resolvers.streams import REPLAY_PAGE, StreamPlan, after_cursor, signed_in_now, viewer_source


async def viewer_notifications(
    info: Info, request: PageRequest, unread_only: bool | None
) -> Listing[NotificationRow]:
    assert info.context.user is not None
    queryset = NotificationRow.filter(user_id=info.context.user.id)
    if unread_only:
        queryset = queryset.filter(read_at=None)
    return await listing(queryset, request, keys=("seq",), descending=True)


async def unread_notification_count(info: Info) -> int:
    assert info.context.user is not None
    return await actions.unread_count(info.context.user.id)


async def mark_notifications_read(info: Info, global_ids: Sequence[str] | None) -> int:
    """Marks the viewer's notifications of these ids (all, when none are given) read; the
    count of those still unread."""
    assert info.context.user is not None
    ids = []
    for global_id in global_ids or []:
        parsed = parse_global_id(global_id)
        if parsed and parsed[0] == "Notification":
            ids.append(parsed[1])
    if global_ids and not ids:
        # Ids that are not notifications of this user mark nothing, as unknown ones would.
        return await actions.unread_count(info.context.user.id)
    return await actions.mark_read(info.context.user.id, ids or None)


async def notification_stream(info: Info, after: str | None) -> StreamPlan:
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

    return StreamPlan(
        source=viewer_source(
            [channels.user(user.id)],
            accept=lambda envelope, channel: envelope.get("type") == "notification",
            fetch_after=fetch_after,
        ),
        scope=None,
        latest=latest,
        after=after_seq,
    )
