"""The ledger's invariants, checked against the database (see models/payments/ledger.py)."""

from __future__ import annotations

from collections import defaultdict

from models.contracts.orm import Contract
from models.payments.ledger import escrow_key, must_stay_non_negative
from models.payments.orm import Account, Posting


async def assert_ledger_invariants() -> None:
    postings = await Posting.all().values("entry_id", "account_id", "amount_cents")
    by_entry: dict[int, int] = defaultdict(int)
    by_account: dict[int, int] = defaultdict(int)
    for posting in postings:
        by_entry[posting["entry_id"]] += posting["amount_cents"]
        by_account[posting["account_id"]] += posting["amount_cents"]
    assert all(total == 0 for total in by_entry.values()), "an entry does not balance"
    accounts = {account.id: account for account in await Account.all()}
    for account_id, account in accounts.items():
        assert account.balance_cents == by_account.get(account_id, 0), (
            f"{account.key}: cached {account.balance_cents} != postings "
            f"{by_account.get(account_id, 0)}"
        )
        if must_stay_non_negative(account.key):
            assert account.balance_cents >= 0, f"{account.key} is negative"
    keyed = {account.key: account.balance_cents for account in accounts.values()}
    for contract in await Contract.all():
        escrow = contract.funded_cents - contract.paid_cents - contract.refunded_cents
        assert keyed.get(escrow_key(contract.id), 0) == escrow, (
            f"contract {contract.id}: escrow {keyed.get(escrow_key(contract.id), 0)} != "
            f"funded - paid - refunded {escrow}"
        )
