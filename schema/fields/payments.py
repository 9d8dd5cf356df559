"""Money: the viewer's wallet, deposits and payouts, connects bought with it, fee quotes."""

from __future__ import annotations

from decimal import Decimal

from models.errors import DomainError
from models.payments.wallet import WalletBalance
from resolvers.context import Info
from resolvers.contracts import mutations, queries
from schema.core import user_errors
from schema.payments import AddFundsInput, FeeQuote, Wallet, WalletPayload, WithdrawFundsInput
from schema.proposals import ConnectsPayload, PurchaseConnectsInput


def _wallet_payload(balance: WalletBalance | None, problems: list[DomainError]) -> WalletPayload:
    return WalletPayload(
        wallet=Wallet.from_balance(balance) if balance else None,
        user_errors=user_errors(problems),
    )


async def add_funds(info: Info, input: AddFundsInput) -> WalletPayload:
    return _wallet_payload(*await mutations.add_funds(info, input.amount, input.idempotency_key))


async def withdraw_funds(info: Info, input: WithdrawFundsInput) -> WalletPayload:
    return _wallet_payload(
        *await mutations.withdraw_funds(info, input.amount, input.idempotency_key)
    )


async def purchase_connects(info: Info, input: PurchaseConnectsInput) -> ConnectsPayload:
    bought, problems = await mutations.purchase_connects(
        info, input.quantity, input.idempotency_key
    )
    if bought is None:
        return ConnectsPayload(
            connects_balance=None, wallet=None, user_errors=user_errors(problems)
        )
    balance, wallet = bought
    return ConnectsPayload(
        connects_balance=balance, wallet=Wallet.from_balance(wallet), user_errors=[]
    )


def fee_quote(amount: Decimal) -> FeeQuote:
    return FeeQuote.from_fees(queries.fee_quote(amount))
