# FEE_REFUND joins the journal kinds: a VARCHAR(24) holds it, so only the column comment changes.
from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from models.payments.orm import TransactionKind


class Migration(migrations.Migration):
    dependencies = [("models", "0006_reindex_job_search")]

    initial = False

    operations = [
        ops.AlterField(
            model_name="JournalEntry",
            name="kind",
            field=fields.CharEnumField(
                description="DEPOSIT: DEPOSIT\nWITHDRAWAL: WITHDRAWAL\nESCROW_FUND: ESCROW_FUND\nESCROW_RELEASE: ESCROW_RELEASE\nESCROW_REFUND: ESCROW_REFUND\nSERVICE_FEE: SERVICE_FEE\nHOURLY_PAYMENT: HOURLY_PAYMENT\nCONNECTS_PURCHASE: CONNECTS_PURCHASE\nFEE_REFUND: FEE_REFUND",
                enum_type=TransactionKind,
                max_length=24,
            ),
        ),
    ]
