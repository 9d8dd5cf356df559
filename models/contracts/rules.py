"""Contract and milestone rules as tables: (status, action) -> who may, and the status after.

`allowedActions` in the API reads the same tables, so what a button offers is what the server
accepts.
"""

from __future__ import annotations

from enum import StrEnum

from models.contracts.orm import ContractStatus, ContractType, MilestoneStatus
from models.errors import DomainError, ErrorCode, InvalidState


class Party(StrEnum):
    CLIENT = "CLIENT"
    FREELANCER = "FREELANCER"
    STAFF = "STAFF"
    SYSTEM = "SYSTEM"


class ContractAction(StrEnum):
    ACCEPT_OFFER = "ACCEPT_OFFER"
    DECLINE_OFFER = "DECLINE_OFFER"
    WITHDRAW_OFFER = "WITHDRAW_OFFER"
    EXPIRE_OFFER = "EXPIRE_OFFER"
    ADD_MILESTONE = "ADD_MILESTONE"
    LOG_TIME = "LOG_TIME"
    APPROVE_TIMESHEET = "APPROVE_TIMESHEET"
    PAUSE = "PAUSE"
    RESUME = "RESUME"
    END = "END"
    OPEN_DISPUTE = "OPEN_DISPUTE"
    RESOLVE_DISPUTE = "RESOLVE_DISPUTE"
    REVIEW = "REVIEW"


class MilestoneAction(StrEnum):
    FUND = "FUND"
    SUBMIT = "SUBMIT"
    REQUEST_CHANGES = "REQUEST_CHANGES"
    APPROVE = "APPROVE"
    REFUND = "REFUND"
    AUTO_RELEASE = "AUTO_RELEASE"


C, F, STAFF, SYSTEM = Party.CLIENT, Party.FREELANCER, Party.STAFF, Party.SYSTEM
CS, CA = ContractStatus, ContractAction
BOTH = frozenset({C, F})

# END's status after depends on money: COMPLETED when anything was paid, else CANCELLED
# (see end_status); the table says END is allowed and by whom.
CONTRACT_TRANSITIONS: dict[
    tuple[ContractStatus, ContractAction], tuple[frozenset[Party], ContractStatus]
] = {
    (CS.OFFERED, CA.ACCEPT_OFFER): (frozenset({F}), CS.ACTIVE),
    (CS.OFFERED, CA.DECLINE_OFFER): (frozenset({F}), CS.DECLINED),
    (CS.OFFERED, CA.WITHDRAW_OFFER): (frozenset({C}), CS.WITHDRAWN),
    (CS.OFFERED, CA.EXPIRE_OFFER): (frozenset({SYSTEM}), CS.EXPIRED),
    (CS.ACTIVE, CA.ADD_MILESTONE): (frozenset({C}), CS.ACTIVE),
    (CS.ACTIVE, CA.LOG_TIME): (frozenset({F}), CS.ACTIVE),
    (CS.ACTIVE, CA.APPROVE_TIMESHEET): (frozenset({C}), CS.ACTIVE),
    (CS.ACTIVE, CA.PAUSE): (frozenset({C}), CS.PAUSED),
    (CS.ACTIVE, CA.END): (BOTH, CS.COMPLETED),
    (CS.ACTIVE, CA.OPEN_DISPUTE): (BOTH, CS.DISPUTED),
    (CS.PAUSED, CA.RESUME): (frozenset({C}), CS.ACTIVE),
    (CS.PAUSED, CA.APPROVE_TIMESHEET): (frozenset({C}), CS.PAUSED),
    (CS.PAUSED, CA.END): (BOTH, CS.COMPLETED),
    (CS.PAUSED, CA.OPEN_DISPUTE): (BOTH, CS.DISPUTED),
    (CS.DISPUTED, CA.RESOLVE_DISPUTE): (frozenset({STAFF}), CS.ACTIVE),
    (CS.COMPLETED, CA.REVIEW): (BOTH, CS.COMPLETED),
    (CS.CANCELLED, CA.REVIEW): (BOTH, CS.CANCELLED),
}

# Which contract actions apply to which contract type (absent: both).
ONLY_FOR: dict[ContractAction, ContractType] = {
    CA.ADD_MILESTONE: ContractType.FIXED,
    CA.LOG_TIME: ContractType.HOURLY,
    CA.APPROVE_TIMESHEET: ContractType.HOURLY,
}

MS, MA = MilestoneStatus, MilestoneAction
MILESTONE_TRANSITIONS: dict[
    tuple[MilestoneStatus, MilestoneAction], tuple[Party, MilestoneStatus]
] = {
    (MS.PENDING, MA.FUND): (C, MS.FUNDED),
    (MS.FUNDED, MA.SUBMIT): (F, MS.SUBMITTED),
    (MS.FUNDED, MA.APPROVE): (C, MS.PAID),
    (MS.FUNDED, MA.REFUND): (F, MS.REFUNDED),
    (MS.SUBMITTED, MA.APPROVE): (C, MS.PAID),
    (MS.SUBMITTED, MA.REQUEST_CHANGES): (C, MS.CHANGES_REQUESTED),
    (MS.SUBMITTED, MA.REFUND): (F, MS.REFUNDED),
    (MS.SUBMITTED, MA.AUTO_RELEASE): (SYSTEM, MS.PAID),
    (MS.CHANGES_REQUESTED, MA.SUBMIT): (F, MS.SUBMITTED),
    (MS.CHANGES_REQUESTED, MA.APPROVE): (C, MS.PAID),
    (MS.CHANGES_REQUESTED, MA.REFUND): (F, MS.REFUNDED),
}

# Contract statuses in which each milestone action may happen. A dispute freezes them all.
MILESTONE_ACTIONS_WHILE: dict[MilestoneAction, frozenset[ContractStatus]] = {
    MA.FUND: frozenset({CS.ACTIVE}),
    MA.SUBMIT: frozenset({CS.ACTIVE}),
    MA.REQUEST_CHANGES: frozenset({CS.ACTIVE}),
    MA.APPROVE: frozenset({CS.ACTIVE, CS.PAUSED}),
    MA.REFUND: frozenset({CS.ACTIVE, CS.PAUSED}),
    MA.AUTO_RELEASE: frozenset({CS.ACTIVE, CS.PAUSED}),
}

PUBLIC_CONTRACT_ACTIONS = [
    a for a in ContractAction if a not in (CA.EXPIRE_OFFER, CA.RESOLVE_DISPUTE)
]
PUBLIC_MILESTONE_ACTIONS = [a for a in MilestoneAction if a != MA.AUTO_RELEASE]


DONE = {
    MA.FUND: "funded",
    MA.SUBMIT: "submitted",
    MA.REQUEST_CHANGES: "sent back for changes",
    MA.APPROVE: "approved",
    MA.REFUND: "refunded",
    MA.AUTO_RELEASE: "released",
}


def _words(value: str) -> str:
    return value.lower().replace("_", " ")


def contract_transition(
    status: ContractStatus, action: ContractAction, party: Party, contract_type: ContractType
) -> ContractStatus:
    entry = CONTRACT_TRANSITIONS.get((ContractStatus(status), action))
    only = ONLY_FOR.get(action)
    if entry is None or (only is not None and only != ContractType(contract_type)):
        raise InvalidState(
            f"Cannot {_words(action)} on a {_words(status)} {_words(contract_type)} contract"
        )
    if party not in entry[0]:
        raise DomainError(f"The {_words(party)} may not {_words(action)}", code=ErrorCode.FORBIDDEN)
    return entry[1]


def milestone_transition(
    status: MilestoneStatus, action: MilestoneAction, party: Party, contract_status: ContractStatus
) -> MilestoneStatus:
    entry = MILESTONE_TRANSITIONS.get((MilestoneStatus(status), action))
    if entry is None:
        raise InvalidState(f"A {_words(status)} milestone cannot be {DONE[action]}")
    if entry[0] != party:
        raise DomainError(
            f"Only the {_words(entry[0])} may {_words(action)} a milestone",
            code=ErrorCode.FORBIDDEN,
        )
    if ContractStatus(contract_status) not in MILESTONE_ACTIONS_WHILE[action]:
        raise InvalidState(
            f"Milestones cannot be {DONE[action]} while the contract is {_words(contract_status)}"
        )
    return entry[1]


def allowed_contract_actions(
    status: ContractStatus, contract_type: ContractType, party: Party | None
) -> list[ContractAction]:
    if party is None:
        return []
    allowed: list[ContractAction] = []
    for action in PUBLIC_CONTRACT_ACTIONS:
        entry = CONTRACT_TRANSITIONS.get((ContractStatus(status), action))
        only = ONLY_FOR.get(action)
        if entry and party in entry[0] and (only is None or only == contract_type):
            allowed.append(action)
    return allowed


def allowed_milestone_actions(
    status: MilestoneStatus, contract_status: ContractStatus, party: Party | None
) -> list[MilestoneAction]:
    if party is None:
        return []
    return [
        action
        for action in PUBLIC_MILESTONE_ACTIONS
        if (entry := MILESTONE_TRANSITIONS.get((MilestoneStatus(status), action)))
        and entry[0] == party
        and ContractStatus(contract_status) in MILESTONE_ACTIONS_WHILE[action]
    ]


def end_status(paid_cents: int) -> ContractStatus:
    """Ending a contract under which money was paid completes it; otherwise it is cancelled."""
    return ContractStatus.COMPLETED if paid_cents > 0 else ContractStatus.CANCELLED
