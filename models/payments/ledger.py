"""The double-entry ledger's rules, pure: no database here.

Invariants (tests check them after every money test and in a property-based test):
1. Every journal entry's postings sum to zero; so do all postings together.
2. No wallet and no escrow account is ever below zero (the platform's fee account only grows;
   the EXTERNAL account is the outside world and goes negative as money comes in).
3. Each account's cached balance equals the sum of its postings.
4. A contract's escrow balance = funded − released − refunded, from its milestone and
   timesheet movements.
5. A milestone is released or refunded at most once: the entry's unique key says so to the
   database, not just to the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from models.money import from_cents, round_cents, to_cents


@dataclass(frozen=True)
class Line:
    account_key: str
    amount_cents: int


def balanced(lines: list[Line]) -> bool:
    return sum(line.amount_cents for line in lines) == 0 and all(
        line.amount_cents != 0 for line in lines
    )


def fee_cents(amount_cents: int, rate: Decimal) -> int:
    """A fee on an amount, half-up to the cent, once per entry."""
    return to_cents(round_cents(Decimal(amount_cents) / 100 * rate))


@dataclass(frozen=True, slots=True)
class Fees:
    """What a payment of `amount` costs the client and nets the freelancer."""

    amount: Decimal
    client_fee: Decimal
    client_pays: Decimal
    freelancer_fee: Decimal
    freelancer_receives: Decimal


def fees_on(amount_cents: int, client_rate: Decimal, freelancer_rate: Decimal) -> Fees:
    client_fee = fee_cents(amount_cents, client_rate)
    freelancer_fee = fee_cents(amount_cents, freelancer_rate)
    return Fees(
        amount=from_cents(amount_cents),
        client_fee=from_cents(client_fee),
        client_pays=from_cents(amount_cents + client_fee),
        freelancer_fee=from_cents(freelancer_fee),
        freelancer_receives=from_cents(amount_cents - freelancer_fee),
    )


def fee_returned_cents(charged_cents: int, refunded_cents: int, amount_cents: int) -> int:
    """The part of a charged fee that goes back with `refunded_cents` of `amount_cents`: pro
    rata to the charged fee itself (not the rate now, which may have changed since), half-up
    to the cent, never more than was charged."""
    if amount_cents <= 0 or charged_cents <= 0:
        return 0
    share = Decimal(charged_cents) * min(refunded_cents, amount_cents) / amount_cents
    return min(charged_cents, int(share.to_integral_value(rounding=ROUND_HALF_UP)))


def wallet_key(user_id: object) -> str:
    return f"wallet:{user_id}"


def escrow_key(contract_id: object) -> str:
    return f"escrow:{contract_id}"


PLATFORM_KEY = "platform:fees"
EXTERNAL_KEY = "external:world"

# Accounts that must never go below zero.
NON_NEGATIVE_PREFIXES = ("wallet:", "escrow:")


def must_stay_non_negative(account_key: str) -> bool:
    return account_key.startswith(NON_NEGATIVE_PREFIXES)
