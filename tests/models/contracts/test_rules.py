"""Every edge of the contract and milestone state machines, walked exhaustively.

The tables below are the specification (what the API contract and the product say); the first
tests check models/contracts/rules.py holds exactly these tables, the walks then check that the
functions built on them allow exactly what the tables allow and refuse everything else the way
the code promises: an action with no edge (or not for this contract type, or not while the
contract is in this status) is INVALID_STATE; an edge that exists for another party is
FORBIDDEN. No database.
"""

from __future__ import annotations

import itertools

import pytest

from models.contracts import rules
from models.contracts.orm import ContractStatus, ContractType, MilestoneStatus
from models.contracts.rules import ContractAction, MilestoneAction, Party
from models.errors import DomainError, ErrorCode
from schema import contract_enums as schema_contracts

CS, CA, MS, MA = ContractStatus, ContractAction, MilestoneStatus, MilestoneAction
C, F, STAFF, SYSTEM = Party.CLIENT, Party.FREELANCER, Party.STAFF, Party.SYSTEM
BOTH = frozenset({C, F})

# (status, action) -> (who may, status after)
SPEC_CONTRACT: dict[
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
SPEC_ONLY_FOR = {
    CA.ADD_MILESTONE: ContractType.FIXED,
    CA.LOG_TIME: ContractType.HOURLY,
    CA.APPROVE_TIMESHEET: ContractType.HOURLY,
}
SPEC_MILESTONE: dict[tuple[MilestoneStatus, MilestoneAction], tuple[Party, MilestoneStatus]] = {
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
# A dispute freezes every milestone action; a pause stops new work but not settling escrow.
SPEC_WHILE = {
    MA.FUND: {CS.ACTIVE},
    MA.SUBMIT: {CS.ACTIVE},
    MA.REQUEST_CHANGES: {CS.ACTIVE},
    MA.APPROVE: {CS.ACTIVE, CS.PAUSED},
    MA.REFUND: {CS.ACTIVE, CS.PAUSED},
    MA.AUTO_RELEASE: {CS.ACTIVE, CS.PAUSED},
}
INTERNAL_CONTRACT_ACTIONS = {CA.EXPIRE_OFFER, CA.RESOLVE_DISPUTE}
INTERNAL_MILESTONE_ACTIONS = {MA.AUTO_RELEASE}
PARTIES_OR_NOBODY = [*Party, None]


def ids(value: object) -> str:
    return str(getattr(value, "value", value))


# ---------------------------------------------------------------- the tables themselves


def test_the_contract_table_is_the_specified_one():
    assert rules.CONTRACT_TRANSITIONS == SPEC_CONTRACT
    assert rules.ONLY_FOR == SPEC_ONLY_FOR


def test_the_milestone_tables_are_the_specified_ones():
    assert rules.MILESTONE_TRANSITIONS == SPEC_MILESTONE
    assert {
        action: set(statuses) for action, statuses in rules.MILESTONE_ACTIONS_WHILE.items()
    } == SPEC_WHILE
    assert set(rules.MILESTONE_ACTIONS_WHILE) == set(MilestoneAction)


def test_public_actions_are_the_api_enums_in_the_same_order():
    assert set(rules.PUBLIC_CONTRACT_ACTIONS) == set(ContractAction) - INTERNAL_CONTRACT_ACTIONS
    assert set(rules.PUBLIC_MILESTONE_ACTIONS) == set(MilestoneAction) - INTERNAL_MILESTONE_ACTIONS
    assert [a.value for a in rules.PUBLIC_CONTRACT_ACTIONS] == [
        a.value for a in schema_contracts.ContractAction
    ]
    assert [a.value for a in rules.PUBLIC_MILESTONE_ACTIONS] == [
        a.value for a in schema_contracts.MilestoneAction
    ]


def test_no_terminal_status_has_a_way_out_but_review():
    for status in (CS.DECLINED, CS.WITHDRAWN, CS.EXPIRED):
        assert not any(key[0] == status for key in rules.CONTRACT_TRANSITIONS), status
    for status in (CS.COMPLETED, CS.CANCELLED):
        assert {key[1] for key in rules.CONTRACT_TRANSITIONS if key[0] == status} == {CA.REVIEW}
    for status in (MS.PAID, MS.REFUNDED, MS.CANCELLED):
        assert not any(key[0] == status for key in rules.MILESTONE_TRANSITIONS), status


# ---------------------------------------------------------------- contract walk


def expected_contract(
    status: ContractStatus, action: ContractAction, party: Party, contract_type: ContractType
) -> ContractStatus | ErrorCode:
    entry = SPEC_CONTRACT.get((status, action))
    only = SPEC_ONLY_FOR.get(action)
    if entry is None or (only is not None and only != contract_type):
        return ErrorCode.INVALID_STATE
    if party not in entry[0]:
        return ErrorCode.FORBIDDEN
    return entry[1]


CONTRACT_CASES = list(itertools.product(ContractStatus, ContractAction, Party, ContractType))


@pytest.mark.parametrize(
    ("status", "action", "party", "contract_type"),
    CONTRACT_CASES,
    ids=["-".join(map(ids, case)) for case in CONTRACT_CASES],
)
def test_contract_transition(status, action, party, contract_type):
    expected = expected_contract(status, action, party, contract_type)
    if isinstance(expected, ErrorCode):
        with pytest.raises(DomainError) as error:
            rules.contract_transition(status, action, party, contract_type)
        assert error.value.code == expected
        assert error.value.message
    else:
        assert rules.contract_transition(status, action, party, contract_type) == expected


def test_contract_transition_accepts_plain_strings_as_stored():
    assert rules.contract_transition("OFFERED", CA.ACCEPT_OFFER, F, "HOURLY") == CS.ACTIVE
    with pytest.raises(DomainError) as error:
        rules.contract_transition("ACTIVE", CA.LOG_TIME, F, "FIXED")
    assert error.value.code == ErrorCode.INVALID_STATE


def test_the_walk_covers_every_allowed_edge():
    allowed = {
        (status, action, party, contract_type)
        for status, action, party, contract_type in CONTRACT_CASES
        if not isinstance(expected_contract(status, action, party, contract_type), ErrorCode)
    }
    # Each table row, once per party that may and per contract type it applies to.
    assert len(allowed) == sum(
        len(parties) * (1 if action in SPEC_ONLY_FOR else len(ContractType))
        for (_, action), (parties, _) in SPEC_CONTRACT.items()
    )


@pytest.mark.parametrize("party", PARTIES_OR_NOBODY, ids=ids)
@pytest.mark.parametrize("contract_type", list(ContractType), ids=ids)
@pytest.mark.parametrize("status", list(ContractStatus), ids=ids)
def test_allowed_contract_actions_agree_with_the_table(status, contract_type, party):
    allowed = rules.allowed_contract_actions(status, contract_type, party)
    expected = (
        []
        if party is None
        else [
            action
            for action in ContractAction
            if action not in INTERNAL_CONTRACT_ACTIONS
            and not isinstance(expected_contract(status, action, party, contract_type), ErrorCode)
        ]
    )
    assert allowed == expected
    # What a button offers is what the server accepts, and nothing it refuses.
    for action in allowed:
        rules.contract_transition(status, action, party, contract_type)


@pytest.mark.parametrize(
    ("status", "contract_type", "expected"),
    [
        (
            CS.OFFERED,
            ContractType.FIXED,
            {C: [CA.WITHDRAW_OFFER], F: [CA.ACCEPT_OFFER, CA.DECLINE_OFFER]},
        ),
        (
            CS.ACTIVE,
            ContractType.FIXED,
            {
                C: [CA.ADD_MILESTONE, CA.PAUSE, CA.END, CA.OPEN_DISPUTE],
                F: [CA.END, CA.OPEN_DISPUTE],
            },
        ),
        (
            CS.ACTIVE,
            ContractType.HOURLY,
            {
                C: [CA.APPROVE_TIMESHEET, CA.PAUSE, CA.END, CA.OPEN_DISPUTE],
                F: [CA.LOG_TIME, CA.END, CA.OPEN_DISPUTE],
            },
        ),
        (
            CS.PAUSED,
            ContractType.FIXED,
            {C: [CA.RESUME, CA.END, CA.OPEN_DISPUTE], F: [CA.END, CA.OPEN_DISPUTE]},
        ),
        (
            CS.PAUSED,
            ContractType.HOURLY,
            {
                C: [CA.APPROVE_TIMESHEET, CA.RESUME, CA.END, CA.OPEN_DISPUTE],
                F: [CA.END, CA.OPEN_DISPUTE],
            },
        ),
        (CS.DISPUTED, ContractType.FIXED, {C: [], F: [], STAFF: []}),
        (CS.COMPLETED, ContractType.HOURLY, {C: [CA.REVIEW], F: [CA.REVIEW], STAFF: []}),
        (CS.CANCELLED, ContractType.FIXED, {C: [CA.REVIEW], F: [CA.REVIEW]}),
        (CS.EXPIRED, ContractType.FIXED, {C: [], F: []}),
    ],
)
def test_allowed_contract_actions_examples(status, contract_type, expected):
    for party, actions in expected.items():
        assert rules.allowed_contract_actions(status, contract_type, party) == actions, party


# ---------------------------------------------------------------- milestone walk


def expected_milestone(
    status: MilestoneStatus, action: MilestoneAction, party: Party, contract_status: ContractStatus
) -> MilestoneStatus | ErrorCode:
    entry = SPEC_MILESTONE.get((status, action))
    if entry is None:
        return ErrorCode.INVALID_STATE
    if entry[0] != party:
        return ErrorCode.FORBIDDEN
    if contract_status not in SPEC_WHILE[action]:
        return ErrorCode.INVALID_STATE
    return entry[1]


MILESTONE_CASES = list(itertools.product(MilestoneStatus, MilestoneAction, Party, ContractStatus))


@pytest.mark.parametrize(
    ("status", "action", "party", "contract_status"),
    MILESTONE_CASES,
    ids=["-".join(map(ids, case)) for case in MILESTONE_CASES],
)
def test_milestone_transition(status, action, party, contract_status):
    expected = expected_milestone(status, action, party, contract_status)
    if isinstance(expected, ErrorCode):
        with pytest.raises(DomainError) as error:
            rules.milestone_transition(status, action, party, contract_status)
        assert error.value.code == expected
        assert error.value.message
    else:
        assert rules.milestone_transition(status, action, party, contract_status) == expected


def test_the_milestone_walk_covers_every_allowed_edge():
    allowed = [
        case for case in MILESTONE_CASES if not isinstance(expected_milestone(*case), ErrorCode)
    ]
    assert len(allowed) == sum(len(SPEC_WHILE[action]) for _, action in SPEC_MILESTONE)


@pytest.mark.parametrize(
    "contract_status", [CS.OFFERED, CS.DISPUTED, CS.COMPLETED, CS.CANCELLED, CS.EXPIRED], ids=ids
)
def test_no_milestone_moves_unless_the_contract_is_active_or_paused(contract_status):
    for status, action, party in itertools.product(MilestoneStatus, MilestoneAction, Party):
        with pytest.raises(DomainError):
            rules.milestone_transition(status, action, party, contract_status)


@pytest.mark.parametrize("party", PARTIES_OR_NOBODY, ids=ids)
@pytest.mark.parametrize("contract_status", list(ContractStatus), ids=ids)
@pytest.mark.parametrize("status", list(MilestoneStatus), ids=ids)
def test_allowed_milestone_actions_agree_with_the_table(status, contract_status, party):
    allowed = rules.allowed_milestone_actions(status, contract_status, party)
    expected = (
        []
        if party is None
        else [
            action
            for action in MilestoneAction
            if action not in INTERNAL_MILESTONE_ACTIONS
            and not isinstance(
                expected_milestone(status, action, party, contract_status), ErrorCode
            )
        ]
    )
    assert allowed == expected
    for action in allowed:
        rules.milestone_transition(status, action, party, contract_status)


@pytest.mark.parametrize(
    ("status", "contract_status", "expected"),
    [
        (MS.PENDING, CS.ACTIVE, {C: [MA.FUND], F: []}),
        (MS.PENDING, CS.PAUSED, {C: [], F: []}),
        (MS.FUNDED, CS.ACTIVE, {C: [MA.APPROVE], F: [MA.SUBMIT, MA.REFUND]}),
        (MS.FUNDED, CS.PAUSED, {C: [MA.APPROVE], F: [MA.REFUND]}),
        (MS.SUBMITTED, CS.ACTIVE, {C: [MA.REQUEST_CHANGES, MA.APPROVE], F: [MA.REFUND]}),
        (MS.SUBMITTED, CS.DISPUTED, {C: [], F: [], STAFF: []}),
        (MS.CHANGES_REQUESTED, CS.ACTIVE, {C: [MA.APPROVE], F: [MA.SUBMIT, MA.REFUND]}),
        (MS.PAID, CS.ACTIVE, {C: [], F: []}),
    ],
)
def test_allowed_milestone_actions_examples(status, contract_status, expected):
    for party, actions in expected.items():
        assert rules.allowed_milestone_actions(status, contract_status, party) == actions, party


# ---------------------------------------------------------------- ending


@pytest.mark.parametrize(
    ("paid_cents", "status"), [(0, CS.CANCELLED), (1, CS.COMPLETED), (50_000, CS.COMPLETED)]
)
def test_end_status_depends_on_whether_anything_was_paid(paid_cents, status):
    assert rules.end_status(paid_cents) == status
