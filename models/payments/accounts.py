"""The accounts of the people and contracts money moves between."""

from __future__ import annotations

from typing import cast
from uuid import UUID

from models.payments.journal import account
from models.payments.ledger import escrow_key, wallet_key
from models.payments.orm import Account, AccountKind


async def wallet(user_id: UUID) -> Account:
    return await account(wallet_key(user_id), AccountKind.WALLET, user_id=user_id)


async def escrow(contract_id: UUID) -> Account:
    return await account(escrow_key(contract_id), AccountKind.ESCROW, contract_id=contract_id)


async def wallet_balance(user_id: UUID) -> int:
    # flat=True yields the values themselves; Tortoise types them as tuples (tortoise-orm#1112).
    found = cast(
        list[int],
        await Account.filter(key=wallet_key(user_id)).values_list("balance_cents", flat=True),
    )
    return found[0] if found else 0
