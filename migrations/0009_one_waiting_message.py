from tortoise import migrations
from tortoise.migrations import operations as ops


async def create_waiting_message_index(apps, schema_editor):
    # At most one unread MESSAGE_RECEIVED per conversation and recipient (sendMessage relies on
    # it on PostgreSQL; see models/notifications/waiting.py).
    from models.notifications.waiting import create_notification_structures

    await create_notification_structures(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [("models", "0008_attachments")]

    initial = False

    operations = [
        ops.RunPython(create_waiting_message_index),
    ]
