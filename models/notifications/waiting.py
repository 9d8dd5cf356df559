"""At most one unread MESSAGE_RECEIVED per conversation and recipient, kept by the database.

sendMessage coalesces its notifications: while the recipient has an unread one for the
conversation, no other is made. On PostgreSQL sendMessage is a single statement, whose snapshot
is taken before it waits for the interview's row lock: a NOT EXISTS would miss the notification
a sender before it committed meanwhile, where a unique index's check sees it (ON CONFLICT DO
NOTHING). The index is DDL the ORM cannot describe: the migration and the test database setup
create it.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

ONE_WAITING_MESSAGE = (
    "CREATE UNIQUE INDEX IF NOT EXISTS notifications_one_waiting_message "
    "ON notifications (user_id, subject_id) WHERE kind = 'MESSAGE_RECEIVED' AND read_at IS NULL"
)
# The index's columns and predicate, as an INSERT's ON CONFLICT names it.
ON_WAITING_MESSAGE = (
    "ON CONFLICT (user_id, subject_id) WHERE kind = 'MESSAGE_RECEIVED' AND read_at IS NULL "
    "DO NOTHING"
)


async def create_notification_structures(client: BaseDBAsyncClient) -> None:
    await client.execute_script(ONE_WAITING_MESSAGE)
