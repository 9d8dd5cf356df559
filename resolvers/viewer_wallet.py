from __future__ import annotations

from uuid import UUID

from models.money import from_cents
from models.payments.ledger import wallet_key
from models.payments.orm import Account
from models.payments.wallet import WalletBalance, in_escrow_for_client
from settings import get_settings


async def wallet_of(user_id: UUID) -> WalletBalance:
    account = await Account.get_or_none(key=wallet_key(user_id))
    return WalletBalance(
        available=from_cents(account.balance_cents if account else 0),
        in_escrow=from_cents(await in_escrow_for_client(user_id)),
        currency=get_settings().currency,
        account_id=account.id if account else None,
    )
