from tortoise import migrations
from tortoise.migrations import operations as ops


async def reindex_jobs(apps, schema_editor):
    # PostgreSQL's index now splits host/version tokens ("node.js") the way searches do;
    # rebuild the vectors written before that.
    from models.jobs.search_index import POSTGRES_VECTOR, dialect

    if dialect(schema_editor.client) == "postgres":
        await schema_editor.client.execute_script(
            f"UPDATE jobs SET search_vector = {POSTGRES_VECTOR}"
        )


class Migration(migrations.Migration):
    dependencies = [("models", "0005_reputation")]

    initial = False

    operations = [
        ops.RunPython(reindex_jobs),
    ]
