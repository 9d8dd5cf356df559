"""Who may do what to a proposal in which status.

The walk over every (status, action, role) follows `rules.TRANSITIONS`, the single table the
actions consult; the moves written out below are the core of that table, checked on their own
so that an edit to the table cannot quietly change them.
"""

import pytest

from models.errors import InvalidState, ValidationFailed
from models.proposals import rules
from models.proposals.orm import ProposalStatus
from models.proposals.rules import ProposalAction, Role

S = ProposalStatus
A = ProposalAction
FINAL = (S.HIRED, S.DECLINED, S.WITHDRAWN)

# (status, action) -> (the only role that may, status after)
CORE = {
    (S.SUBMITTED, A.WITHDRAW): (Role.FREELANCER, S.WITHDRAWN),
    (S.SHORTLISTED, A.WITHDRAW): (Role.FREELANCER, S.WITHDRAWN),
    (S.INTERVIEWING, A.WITHDRAW): (Role.FREELANCER, S.WITHDRAWN),
    (S.SUBMITTED, A.SHORTLIST): (Role.CLIENT, S.SHORTLISTED),
    (S.SUBMITTED, A.DECLINE): (Role.CLIENT, S.DECLINED),
    (S.SHORTLISTED, A.DECLINE): (Role.CLIENT, S.DECLINED),
    (S.INTERVIEWING, A.DECLINE): (Role.CLIENT, S.DECLINED),
    (S.SUBMITTED, A.START_INTERVIEW): (Role.CLIENT, S.INTERVIEWING),
    (S.SHORTLISTED, A.START_INTERVIEW): (Role.CLIENT, S.INTERVIEWING),
    (S.SUBMITTED, A.HIRE): (Role.SYSTEM, S.HIRED),
    (S.SHORTLISTED, A.HIRE): (Role.SYSTEM, S.HIRED),
    (S.INTERVIEWING, A.HIRE): (Role.SYSTEM, S.HIRED),
    (S.SUBMITTED, A.CLOSE_JOB): (Role.SYSTEM, S.DECLINED),
    (S.SHORTLISTED, A.CLOSE_JOB): (Role.SYSTEM, S.DECLINED),
    (S.INTERVIEWING, A.CLOSE_JOB): (Role.SYSTEM, S.DECLINED),
}
# Moves that must stay impossible.
NEVER = [
    (S.SHORTLISTED, A.SHORTLIST),
    (S.INTERVIEWING, A.SHORTLIST),
    (S.INTERVIEWING, A.START_INTERVIEW),
    *[(status, action) for status in FINAL for action in ProposalAction],
]


@pytest.mark.parametrize(("key", "entry"), list(CORE.items()), ids=str)
def test_core_moves(key, entry):
    assert rules.TRANSITIONS[key] == entry


@pytest.mark.parametrize("key", NEVER, ids=str)
def test_impossible_moves(key):
    assert key not in rules.TRANSITIONS


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("action", list(ProposalAction), ids=str)
@pytest.mark.parametrize("status", list(ProposalStatus), ids=str)
def test_every_status_action_and_role(status, action, role):
    entry = rules.TRANSITIONS.get((status, action))
    if entry is not None and entry[0] == role:
        assert rules.transition(status, action, role) == entry[1]
        assert rules.transition(status.value, action, role) == entry[1]
    else:
        with pytest.raises(InvalidState) as error:
            rules.transition(status, action, role)
        assert error.value.code == "INVALID_STATE"


def test_each_move_belongs_to_exactly_one_role():
    for (status, action), (role, _) in rules.TRANSITIONS.items():
        others = [other for other in Role if other != role]
        for other in others:
            with pytest.raises(InvalidState):
                rules.transition(status, action, other)


@pytest.mark.parametrize("status", FINAL, ids=str)
def test_hired_declined_and_withdrawn_are_final(status):
    for action in ProposalAction:
        for role in Role:
            with pytest.raises(InvalidState):
                rules.transition(status, action, role)


@pytest.mark.parametrize("role", [*Role, None], ids=str)
@pytest.mark.parametrize("status", list(ProposalStatus), ids=str)
def test_allowed_actions_per_role_and_status(status, role):
    allowed = rules.allowed_actions(status, role)
    expected = [
        action
        for action in rules.PUBLIC_ACTIONS
        if role is not None and rules.TRANSITIONS.get((status, action), (None,))[0] == role
    ]
    assert allowed == expected
    # offered means possible for that role, and only public actions are offered
    for action in allowed:
        assert action in rules.PUBLIC_ACTIONS
        rules.transition(status, action, role)
    if status in FINAL or role in (None, Role.SYSTEM):
        assert allowed == []
    if role == Role.FREELANCER and status not in FINAL:
        assert allowed == [A.WITHDRAW]
    if role == Role.CLIENT:
        assert A.WITHDRAW not in allowed
        core = [
            action for (s, action), (who, _) in CORE.items() if s == status and who == Role.CLIENT
        ]
        assert set(core) <= set(allowed)


def test_system_moves_are_never_offered():
    for status in ProposalStatus:
        for role in Role:
            offered = rules.allowed_actions(status, role)
            assert A.HIRE not in offered and A.CLOSE_JOB not in offered


@pytest.mark.parametrize(
    ("days", "ok"), [(None, True), (1, True), (730, True), (0, False), (731, False), (-5, False)]
)
def test_estimated_duration(days, ok):
    if ok:
        assert rules.check_duration(days) == days
    else:
        with pytest.raises(ValidationFailed) as error:
            rules.check_duration(days)
        assert error.value.field == ["input", "estimatedDurationDays"]
