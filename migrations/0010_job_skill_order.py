from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0009_one_waiting_message")]

    initial = False

    operations = [
        ops.AddIndex("JobSkill", Index(fields=["job_id", "position", "skill_id"])),
    ]
