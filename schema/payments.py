from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import strawberry

from models.money import from_cents
from models.payments import orm
from models.payments.ledger import Fees
from models.payments.orm import Posting
from models.payments.wallet import WalletBalance
from resolvers.context import Info
from resolvers.pages import page_request
from schema.contracts import Contract, contract_or_none
from schema.core import (
    Connection,
    Node,
    UserError,
    build_connection,
    described_field,
    encode_global_id,
)
from schema.milestones import Milestone, milestone_or_none

# Domain enums, marked as GraphQL enums in place (strawberry.enum returns the class it marks)
# and bound by plain assignment, which mypy reads as a type alias.
TransactionKind = orm.TransactionKind
strawberry.enum(TransactionKind, name="TransactionKind")


@strawberry.type(description="One line of the viewer's ledger. Signed: money in is positive.")
class Transaction(Node):
    id: strawberry.ID
    kind: TransactionKind
    amount: Decimal
    balance_after: Decimal
    memo: str
    created_at: datetime
    contract_id: strawberry.Private[UUID | None]
    milestone_id: strawberry.Private[UUID | None]

    @classmethod
    def from_row(cls, row: Posting) -> Transaction:
        entry = row.entry
        return cls(
            id=encode_global_id("Transaction", row.public_id),
            kind=orm.TransactionKind(entry.kind),
            amount=from_cents(row.amount_cents),
            balance_after=from_cents(row.balance_after_cents),
            memo=entry.memo,
            created_at=row.created_at,
            contract_id=entry.contract_id,
            milestone_id=entry.milestone_id,
        )

    @strawberry.field
    async def contract(self, info: Info) -> Contract | None:
        return await contract_or_none(info, self.contract_id)

    @strawberry.field
    async def milestone(self, info: Info) -> Milestone | None:
        return await milestone_or_none(info, self.milestone_id)


@strawberry.type
class Wallet:
    available: Decimal = strawberry.field(description="Available to spend or withdraw.")
    in_escrow: Decimal = strawberry.field(
        description="Held in escrow for the viewer's contracts as a client."
    )
    currency: str
    account_id: strawberry.Private[int | None]

    @classmethod
    def from_balance(cls, balance: WalletBalance) -> Wallet:
        return cls(
            available=balance.available,
            in_escrow=balance.in_escrow,
            currency=balance.currency,
            account_id=balance.account_id,
        )

    @described_field("Newest first.")
    async def transactions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Transaction]:
        queryset = (
            Posting.filter(account_id=self.account_id).select_related("entry")
            if self.account_id is not None
            else Posting.filter(id__in=[])
        )
        return await build_connection(
            queryset,
            page_request(first, after, last, before),
            Transaction.from_row,
            keys=("id",),
            descending=True,
        )


@strawberry.type(
    description="What a payment of this amount costs the client and nets the "
    "freelancer under the current fees. The client's marketplace fee "
    "is charged on funding and is not refunded."
)
class FeeQuote:
    amount: Decimal
    client_fee: Decimal
    client_pays: Decimal
    freelancer_fee: Decimal
    freelancer_receives: Decimal

    @classmethod
    def from_fees(cls, fees: Fees) -> FeeQuote:
        return cls(
            amount=fees.amount,
            client_fee=fees.client_fee,
            client_pays=fees.client_pays,
            freelancer_fee=fees.freelancer_fee,
            freelancer_receives=fees.freelancer_receives,
        )


@strawberry.input(
    description="Money-moving inputs take an optional idempotencyKey: a retry "
    "with the same key returns the first result and moves nothing."
)
class AddFundsInput:
    amount: Decimal
    idempotency_key: str | None = None


@strawberry.input
class WithdrawFundsInput:
    amount: Decimal
    idempotency_key: str | None = None


@strawberry.type
class WalletPayload:
    wallet: Wallet | None
    user_errors: list[UserError]
