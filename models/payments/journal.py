"""Writing the ledger: balanced entries, applied to cached balances by conditional updates.

Call inside the transaction that makes the state change the money pays for.
"""

from __future__ import annotations

from uuid import UUID

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.errors import DomainError, ErrorCode
from models.payments.ledger import (
    EXTERNAL_KEY,
    PLATFORM_KEY,
    Line,
    balanced,
    must_stay_non_negative,
)
from models.payments.orm import Account, AccountKind, JournalEntry, Posting, TransactionKind


class InsufficientFunds(DomainError):
    code = ErrorCode.INSUFFICIENT_FUNDS


class AlreadyRecorded(Exception):
    """The entry's unique key exists: this movement already happened."""


async def account(
    key: str, kind: AccountKind, *, user_id: UUID | None = None, contract_id: UUID | None = None
) -> Account:
    """The account with this key, created on first use (a race is settled by the unique key)."""
    found = await Account.get_or_none(key=key)
    if found is not None:
        return found
    try:
        async with in_transaction():  # a savepoint inside the caller's transaction
            return await Account.create(
                key=key, kind=kind, user_id=user_id, contract_id=contract_id
            )
    except IntegrityError:
        return await Account.get(key=key)


async def platform_account() -> Account:
    return await account(PLATFORM_KEY, AccountKind.PLATFORM)


async def external_account() -> Account:
    return await account(EXTERNAL_KEY, AccountKind.EXTERNAL)


async def _apply(account_row: Account, amount_cents: int) -> int:
    """Add to the cached balance; refuse to take a wallet or escrow below zero. Returns the
    balance after, read in the same statement."""
    client = connections.get("default")
    guard = must_stay_non_negative(account_row.key) and amount_cents < 0
    if client.capabilities.dialect == "sqlite":
        sql = (
            "UPDATE accounts SET balance_cents = balance_cents + ? WHERE id = ?"
            + (" AND balance_cents + ? >= 0" if guard else "")
            + " RETURNING balance_cents"
        )
        params: list[object] = [amount_cents, account_row.id, *([amount_cents] if guard else [])]
    else:
        sql = (
            "UPDATE accounts SET balance_cents = balance_cents + $1 WHERE id = $2"
            + (" AND balance_cents + $1 >= 0" if guard else "")
            + " RETURNING balance_cents"
        )
        params = [amount_cents, account_row.id]
    # execute_query_dict fetches rows; execute_query drops RETURNING rows of an UPDATE on asyncpg.
    rows = await client.execute_query_dict(sql, params)
    if not rows:
        raise InsufficientFunds(
            "The wallet does not hold enough money for this"
            if account_row.kind == AccountKind.WALLET
            else "The escrow does not hold enough money for this"
        )
    return int(rows[0]["balance_cents"])


def lock_order(account_row: Account) -> tuple[bool, int]:
    """Wallets and escrows by id, then the shared accounts (platform fees, outside world).

    Every fee-paying transaction touches the platform account: were it locked before a wallet
    (ids alone would do that for every wallet created after it), a release holding the
    freelancer's wallet and waiting for the platform account would deadlock against a connects
    purchase of the same freelancer holding the platform account and waiting for the wallet.
    """
    return (not must_stay_non_negative(account_row.key), account_row.id)


async def lock(account_rows: list[Account]) -> None:
    """Row-lock these accounts now, in lock order, for a transaction writing several entries."""
    ids = [row.id for row in sorted(account_rows, key=lock_order)]
    for account_id in dict.fromkeys(ids):
        await Account.filter(id=account_id).select_for_update().first()


async def record(
    kind: TransactionKind,
    lines: list[tuple[Account, int]],
    *,
    memo: str = "",
    contract_id: UUID | None = None,
    milestone_id: UUID | None = None,
    unique_key: str | None = None,
    provider_reference: str | None = None,
) -> JournalEntry:
    """Write one balanced entry and move the balances, or raise and move nothing.

    Lock order: wallets and escrows by id, then the shared platform and external accounts
    (see `lock_order`). A transaction that writes several entries must not take a wallet or
    escrow after a shared account: such a one locks its accounts first with `lock`.
    """
    if not balanced([Line(acct.key, cents) for acct, cents in lines]):
        raise ValueError(f"unbalanced or empty lines in a {kind} entry: {lines}")
    try:
        async with in_transaction():  # a savepoint inside the caller's transaction
            entry = await JournalEntry.create(
                kind=kind,
                memo=memo[:200],
                contract_id=contract_id,
                milestone_id=milestone_id,
                unique_key=unique_key,
                provider_reference=provider_reference,
            )
    except IntegrityError as error:
        raise AlreadyRecorded(unique_key) from error
    postings = []
    for acct, cents in sorted(lines, key=lambda line: lock_order(line[0])):
        after = await _apply(acct, cents)
        postings.append(
            Posting(
                entry_id=entry.id, account_id=acct.id, amount_cents=cents, balance_after_cents=after
            )
        )
    await Posting.bulk_create(postings)
    return entry
