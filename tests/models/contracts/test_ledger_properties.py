"""The ledger under random sequences of money actions, by the right people and the wrong ones.

Hypothesis draws a world (a fixed-price contract with a few milestones and an hourly contract
between the same client and freelancer, plus a staff member and a stranger) and then up to 25
operations: deposits, withdrawals, funding, submitting, approving, refunding, disputes and their
resolution, logged hours and approved timesheets, pauses and endings, with idempotency keys now
and then. A small model predicts each operation's outcome and every balance. After each step:

* the operation succeeded exactly when the model said it would; a refusal is a DomainError
  and changes nothing: no entry, no posting, no status;
* every balance (both wallets, the platform's fees, each contract's escrow) and every status is
  what the model says;
* the platform's fee revenue is the client's fees on escrow not refunded (returned pro rata
  on a dispute split) plus the freelancer's service fees; a refund returns the fee charged;
* the ledger's invariants hold (tests/ledger.py): postings sum to zero per entry, no wallet or
  escrow below zero, cached balances equal their postings, escrow = funded - paid - refunded.

The test is an async `@given` test: pytest-asyncio runs each example on the session's loop,
where Tortoise's connections live. Each example starts from an empty database (the `db`
fixture only cleans once per test). Runs on SQLite, and on PostgreSQL when configured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from models.actors import Actor, actor_for
from models.contracts import actions, disputes, hourly, milestones
from models.contracts.orm import (
    Contract,
    ContractStatus,
    ContractType,
    Dispute,
    Milestone,
    MilestoneStatus,
)
from models.errors import DomainError
from models.jobs.actions import post_job
from models.payments import wallet
from models.payments.accounts import wallet_balance
from models.payments.ledger import PLATFORM_KEY, escrow_key
from models.payments.orm import Account, JournalEntry, Posting
from models.proposals.actions import submit_proposal
from settings import get_settings
from tests.conftest import Database, empty_tables
from tests.contracts_factory import make_contract
from tests.factories import make_user
from tests.ledger import assert_ledger_invariants

MS, CS = MilestoneStatus, ContractStatus
MONDAY = date(2026, 1, 5)
TODAY = MONDAY + timedelta(days=30)
WEEKLY_LIMIT_HOURS = 20
ACTORS = ("client", "freelancer", "staff", "stranger")
KEYS = (None, None, None, "key-1", "key-2")
IN_ESCROW = (MS.FUNDED, MS.SUBMITTED, MS.CHANGES_REQUESTED)

# (status, action) -> (who, status after); and the contract statuses each action needs.
MILESTONE_RULES = {
    (MS.PENDING, "fund"): ("client", MS.FUNDED),
    (MS.FUNDED, "submit"): ("freelancer", MS.SUBMITTED),
    (MS.CHANGES_REQUESTED, "submit"): ("freelancer", MS.SUBMITTED),
    (MS.SUBMITTED, "request_changes"): ("client", MS.CHANGES_REQUESTED),
    **{(status, "approve"): ("client", MS.PAID) for status in IN_ESCROW},
    **{(status, "refund"): ("freelancer", MS.REFUNDED) for status in IN_ESCROW},
}
MILESTONE_WHILE = {
    "fund": {CS.ACTIVE},
    "submit": {CS.ACTIVE},
    "request_changes": {CS.ACTIVE},
    "approve": {CS.ACTIVE, CS.PAUSED},
    "refund": {CS.ACTIVE, CS.PAUSED},
}
OPERATION_NAMES = {
    "fund": "fundMilestone",
    "approve": "approveMilestone",
    "refund": "refundMilestone",
    "add_funds": "addFunds",
    "withdraw": "withdrawFunds",
    "approve_timesheet": "approveTimesheet",
}


def half_up(cents: int, rate: Decimal) -> int:
    """The model's own fee arithmetic (not the code's): exact fractions, half-up to the cent."""
    return math.floor(Fraction(cents) * Fraction(str(rate)) + Fraction(1, 2))


def client_fee(cents: int) -> int:
    return half_up(cents, get_settings().client_fee_rate)


def service_fee(cents: int) -> int:
    return half_up(cents, get_settings().freelancer_fee_rate)


def money(cents: int) -> Decimal:
    return Decimal(cents) / 100


@dataclass
class ContractModel:
    id: Any
    kind: ContractType
    status: ContractStatus = CS.ACTIVE
    funded: int = 0
    paid: int = 0
    refunded: int = 0
    milestones: list[tuple[Any, int]] = field(default_factory=list)  # (id, amount)
    statuses: list[MilestoneStatus] = field(default_factory=list)
    # hourly: week -> (logged centihours, amount owed in cents), and the weeks paid
    weeks: dict[int, tuple[int, int]] = field(default_factory=dict)
    paid_weeks: set[int] = field(default_factory=set)

    @property
    def escrow(self) -> int:
        return self.funded - self.paid - self.refunded


@dataclass
class World:
    actors: dict[str, Actor]
    fixed: ContractModel
    hourly_contract: ContractModel
    rate_cents: int
    wallets: dict[str, int]
    platform: int = 0
    # the client's marketplace fee charged per fixed milestone (by index), and what the
    # platform keeps of each side's fees: platform == client fees kept + freelancer fees
    client_fees: dict[int, int] = field(default_factory=dict)
    client_fees_kept: int = 0
    freelancer_fees: int = 0
    keys: dict[tuple[str, str], str] = field(default_factory=dict)
    dispute: tuple[Any, int, int | None, bool] | None = None  # (id, frozen, milestone, open)

    def charge_client_fee(self, index: int, amount: int) -> None:
        self.wallets["client"] -= amount + client_fee(amount)
        self.platform += client_fee(amount)
        self.client_fees[index] = client_fee(amount)
        self.client_fees_kept += client_fee(amount)

    def refund(self, index: int, refunded: int, amount: int) -> None:
        """Escrow back to the client with the fee pro rata, half-up, never more than charged."""
        charged = self.client_fees.get(index, 0)
        returned = min(charged, math.floor(Fraction(charged * refunded, amount) + Fraction(1, 2)))
        self.wallets["client"] += refunded + returned
        self.platform -= returned
        self.client_fees_kept -= returned

    def pay_freelancer(self, released: int) -> None:
        self.wallets["freelancer"] += released - service_fee(released)
        self.platform += service_fee(released)
        self.freelancer_fees += service_fee(released)

    def role(self, name: str) -> str | None:
        return name if name in ("client", "freelancer") else None

    def contract(self, which: str) -> ContractModel:
        return self.fixed if which == "fixed" else self.hourly_contract


# --- building a world -------------------------------------------------------------------------


async def hourly_contract(client: Actor, freelancer: Actor, rate_cents: int) -> Contract:
    job = await post_job(
        client,
        {
            "title": "Ongoing help",
            "description": "Hours, weekly",
            "skills": ["python"],
            "budget_type": "FIXED",
            "budget": Decimal(500),
            "experience_level": "EXPERT",
        },
    )
    proposal, _ = await submit_proposal(
        freelancer,
        job.id,
        cover_letter="By the hour",
        bid_amount=Decimal(450),
        estimated_duration_days=10,
    )
    contract, _ = await actions.send_offer(
        client,
        proposal.id,
        title="Hours",
        terms="Weekly",
        contract_type=ContractType.HOURLY,
        milestones=None,
        hourly_rate=money(rate_cents),
        weekly_limit_hours=WEEKLY_LIMIT_HOURS,
        deadline=None,
    )
    contract, _ = await actions.accept_offer(freelancer, contract.id)
    return contract


async def build_world(data: st.DataObject) -> World:
    amounts = data.draw(
        st.lists(st.integers(500, 40_000), min_size=1, max_size=3), label="milestone cents"
    )
    funds = data.draw(st.sampled_from(["1000.00", "300.00", "20.00", None]), label="funds")
    rate_cents = data.draw(st.integers(1000, 9999), label="hourly rate cents")
    contract, client, freelancer, *_ = await make_contract(
        milestones=[str(money(cents)) for cents in amounts], client_funds=funds
    )
    rows = await Milestone.filter(contract_id=contract.id).order_by("position")
    hours = await hourly_contract(client, freelancer, rate_cents)
    staff = await actor_for((await make_user(is_staff=True)).user)
    stranger = await actor_for((await make_user()).user)
    world = World(
        actors={"client": client, "freelancer": freelancer, "staff": staff, "stranger": stranger},
        fixed=ContractModel(
            id=contract.id,
            kind=ContractType.FIXED,
            milestones=[(row.id, row.amount_cents) for row in rows],
            statuses=[MS.PENDING] * len(rows),
        ),
        hourly_contract=ContractModel(id=hours.id, kind=ContractType.HOURLY),
        rate_cents=rate_cents,
        wallets={
            "client": int(Decimal(funds or 0) * 100),
            "freelancer": 0,
            "staff": 0,
            "stranger": 0,
        },
    )
    # Some milestones start out funded, so escrow, approvals and disputes come early.
    for index in range(data.draw(st.integers(0, len(rows)), label="funded at the start")):
        amount = world.fixed.milestones[index][1]
        if world.wallets["client"] >= amount + client_fee(amount):
            await milestones.fund_milestone(client, rows[index].id)
            world.charge_client_fee(index, amount)
            world.fixed.funded += amount
            world.fixed.statuses[index] = MS.FUNDED
    return world


# --- the operations: each predicts, in the model, whether it succeeds, then acts ---------------


def pick(data: st.DataObject, count: int, useful: list[int], label: str) -> int:
    """An index below count: three times in four one of the useful ones, when there are any."""
    if useful and data.draw(st.integers(0, 3), label=f"{label} is useful") < 3:
        return data.draw(st.sampled_from(useful), label=label)
    return data.draw(st.integers(0, count - 1), label=label)


def key_outcome(world: World, who: str, key: str | None, operation: str) -> bool | None:
    """True: a replay (succeeds, moves nothing); False: the key was used for another
    operation (refused); None: no earlier result, the operation runs."""
    if key is None or (who, key) not in world.keys:
        return None
    return world.keys[(who, key)] == OPERATION_NAMES[operation]


def remember_key(world: World, who: str, key: str | None, operation: str) -> None:
    if key is not None:
        world.keys[(who, key)] = OPERATION_NAMES[operation]


def contract_action_allowed(model: ContractModel, party: str | None, action: str) -> bool:
    if party is None:
        return False
    live = model.status in (CS.ACTIVE, CS.PAUSED)
    return {
        "pause": model.status == CS.ACTIVE and party == "client",
        "resume": model.status == CS.PAUSED and party == "client",
        "end": live and model.escrow == 0,
        "dispute": live,
        "log_time": model.kind == ContractType.HOURLY
        and model.status == CS.ACTIVE
        and party == "freelancer",
        "approve_timesheet": model.kind == ContractType.HOURLY and live and party == "client",
    }[action]


def op_add_funds(world: World, data: st.DataObject, who: str) -> tuple[bool, Any]:
    cents = data.draw(
        st.sampled_from([100_000, 25_000, 1]) | st.integers(1, 200_000), label="deposit cents"
    )
    key = data.draw(st.sampled_from(KEYS), label="key")
    replay = key_outcome(world, who, key, "add_funds")
    if replay is None:
        world.wallets[who] += cents
        remember_key(world, who, key, "add_funds")
    return replay is not False, wallet.add_funds(world.actors[who], money(cents), key)


def op_withdraw(world: World, data: st.DataObject, who: str) -> tuple[bool, Any]:
    balance = world.wallets[who]
    cents = data.draw(
        st.sampled_from([balance or 1, balance // 2 or 1, balance + 1]) | st.integers(1, 150_000),
        label="withdrawal cents",
    )
    key = data.draw(st.sampled_from(KEYS), label="key")
    replay = key_outcome(world, who, key, "withdraw")
    ok = replay if replay is not None else world.wallets[who] >= cents
    if replay is None and ok:
        world.wallets[who] -= cents
        remember_key(world, who, key, "withdraw")
    return ok, wallet.withdraw_funds(world.actors[who], money(cents), key)


def op_milestone(world: World, data: st.DataObject, who: str, action: str) -> tuple[bool, Any]:
    model = world.fixed
    index = pick(
        data,
        len(model.milestones),
        [i for i, status in enumerate(model.statuses) if (status, action) in MILESTONE_RULES],
        "milestone",
    )
    key = (
        data.draw(st.sampled_from(KEYS), label="key")
        if action in ("fund", "approve", "refund")
        else None
    )
    milestone_id, amount = model.milestones[index]
    actor = world.actors[who]
    call = {
        "fund": lambda: milestones.fund_milestone(actor, milestone_id, key),
        "approve": lambda: milestones.approve_milestone(actor, milestone_id, key),
        "refund": lambda: milestones.refund_milestone(actor, milestone_id, key),
        "submit": lambda: milestones.submit(actor, milestone_id, "Done", []),
        "request_changes": lambda: milestones.request_changes(actor, milestone_id, "Not yet"),
    }[action]()
    replay = key_outcome(world, who, key, action) if key else None
    if replay is not None:
        return replay, call
    rule = MILESTONE_RULES.get((model.statuses[index], action))
    ok = rule is not None and world.role(who) == rule[0] and model.status in MILESTONE_WHILE[action]
    if ok and action == "fund":
        ok = world.wallets["client"] >= amount + client_fee(amount)
    if not ok:
        return False, call
    assert rule is not None
    model.statuses[index] = rule[1]
    if action == "fund":
        world.charge_client_fee(index, amount)
        model.funded += amount
    elif action == "approve":
        world.pay_freelancer(amount)
        model.paid += amount
    elif action == "refund":
        world.refund(index, amount, amount)
        model.refunded += amount
    if key:
        remember_key(world, who, key, action)
    return True, call


def op_contract(world: World, data: st.DataObject, who: str, action: str) -> tuple[bool, Any]:
    which = data.draw(st.sampled_from(["fixed", "hourly"]), label="contract")
    model = world.contract(which)
    actor = world.actors[who]
    call = {
        "pause": lambda: actions.pause_contract(actor, model.id),
        "resume": lambda: actions.resume_contract(actor, model.id),
        "end": lambda: actions.end_contract(actor, model.id),
    }[action]()
    if not contract_action_allowed(model, world.role(who), action):
        return False, call
    model.status = {
        "pause": CS.PAUSED,
        "resume": CS.ACTIVE,
        "end": CS.COMPLETED if model.paid else CS.CANCELLED,
    }[action]
    return True, call


def op_open_dispute(world: World, data: st.DataObject, who: str) -> tuple[bool, Any]:
    which = "hourly" if data.draw(st.integers(0, 3), label="contract") == 3 else "fixed"
    model = world.contract(which)
    index = None
    if which == "fixed" and data.draw(st.booleans(), label="one milestone"):
        index = pick(
            data,
            len(model.milestones),
            [i for i, status in enumerate(model.statuses) if status in IN_ESCROW],
            "disputed milestone",
        )
    milestone_id = model.milestones[index][0] if index is not None else None
    call = disputes.open_dispute(world.actors[who], model.id, milestone_id, "Not as agreed")
    if not contract_action_allowed(model, world.role(who), "dispute"):
        return False, call
    if index is not None:
        if model.statuses[index] not in IN_ESCROW:
            return False, call
        frozen = model.milestones[index][1]
    else:
        frozen = model.escrow
    if frozen <= 0:
        return False, call
    model.status = CS.DISPUTED

    async def opened() -> Any:
        dispute, events = await call
        world.dispute = (dispute.id, frozen, index, True)
        return dispute, events

    return True, opened()


def op_resolve(world: World, data: st.DataObject, who: str) -> tuple[bool, Any] | None:
    if world.dispute is None:
        return None
    dispute_id, frozen, index, is_open = world.dispute
    release = data.draw(st.integers(0, frozen), label="release cents")
    wrong_sum = data.draw(st.booleans(), label="parts do not add up") and data.draw(st.booleans())
    refund = frozen - release + (1 if wrong_sum else 0)
    call = disputes.resolve_dispute(
        world.actors[who], dispute_id, release=money(release), refund=money(refund), note="Split"
    )
    if who != "staff" or not is_open or wrong_sum:
        return False, call
    model = world.fixed
    positions = (
        [index]
        if index is not None
        else [i for i, status in enumerate(model.statuses) if status in IN_ESCROW]
    )
    remaining = release
    for i in positions:
        amount = model.milestones[i][1]
        released = min(amount, remaining)
        remaining -= released
        world.pay_freelancer(released)
        if amount - released:
            world.refund(i, amount - released, amount)
        model.statuses[i] = MS.PAID if released else MS.REFUNDED
    model.paid += release
    model.refunded += frozen - release
    model.status = CS.ACTIVE
    world.dispute = (dispute_id, frozen, index, False)
    return True, call


def op_log_time(world: World, data: st.DataObject, who: str) -> tuple[bool, Any]:
    model = world.hourly_contract
    week = data.draw(st.integers(0, 2), label="week")
    day = MONDAY + timedelta(weeks=week, days=data.draw(st.integers(0, 6), label="weekday"))
    centihours = data.draw(st.integers(1, 1200), label="centihours")
    call = hourly.log_time(
        world.actors[who], model.id, day, money(centihours), "Worked", today=TODAY
    )
    logged, owed = model.weeks.get(week, (0, 0))
    if (
        not contract_action_allowed(model, world.role(who), "log_time")
        or week in model.paid_weeks
        or logged + centihours > WEEKLY_LIMIT_HOURS * 100
    ):
        return False, call
    model.weeks[week] = (
        logged + centihours,
        owed + math.floor(Fraction(centihours * world.rate_cents, 100) + Fraction(1, 2)),
    )
    return True, call


def op_approve_timesheet(world: World, data: st.DataObject, who: str) -> tuple[bool, Any]:
    model = world.hourly_contract
    week = pick(data, 3, [week for week in model.weeks if week not in model.paid_weeks], "week")
    key = data.draw(st.sampled_from(KEYS), label="key")
    call = hourly.approve_timesheet(
        world.actors[who], model.id, MONDAY + timedelta(weeks=week), key
    )
    replay = key_outcome(world, who, key, "approve_timesheet")
    if replay is not None:
        return replay, call
    owed = 0 if week in model.paid_weeks else model.weeks.get(week, (0, 0))[1]
    if (
        not contract_action_allowed(model, world.role(who), "approve_timesheet")
        or not owed
        or world.wallets["client"] < owed + client_fee(owed)
    ):
        return False, call
    world.wallets["client"] -= owed + client_fee(owed)
    world.wallets["freelancer"] += owed - service_fee(owed)
    world.platform += client_fee(owed) + service_fee(owed)
    # hourly pay is never refunded: its client fee stays with the platform
    world.client_fees_kept += client_fee(owed)
    world.freelancer_fees += service_fee(owed)
    model.funded += owed
    model.paid += owed
    model.paid_weeks.add(week)
    remember_key(world, who, key, "approve_timesheet")
    return True, call


# How often each operation is drawn: the escrow's path more often than what ends a contract.
WEIGHTS = {
    "add_funds": 5,
    "withdraw": 3,
    "fund": 8,
    "submit": 6,
    "request_changes": 2,
    "approve": 6,
    "refund": 3,
    "pause": 1,
    "resume": 2,
    "end": 1,
    "open_dispute": 4,
    "resolve_dispute": 4,
    "log_time": 5,
    "approve_timesheet": 4,
}
WEIGHTED = st.sampled_from([name for name, weight in WEIGHTS.items() for _ in range(weight)])


# Who may do each operation: drawn three times in four, so that sequences get somewhere; any of
# the four people otherwise, the wrong ones included.
RIGHT_ACTORS = {
    "add_funds": ("client", "freelancer"),
    "withdraw": ("client", "freelancer"),
    "fund": ("client",),
    "submit": ("freelancer",),
    "request_changes": ("client",),
    "approve": ("client",),
    "refund": ("freelancer",),
    "pause": ("client",),
    "resume": ("client",),
    "end": ("client", "freelancer"),
    "open_dispute": ("client", "freelancer"),
    "resolve_dispute": ("staff",),
    "log_time": ("freelancer",),
    "approve_timesheet": ("client",),
}


def actors_for(operation: str) -> st.SearchStrategy[str]:
    return st.integers(0, 3).flatmap(
        lambda roll: st.sampled_from(ACTORS if roll == 3 else RIGHT_ACTORS[operation])
    )


def plan(world: World, data: st.DataObject, operation: str, who: str) -> tuple[bool, Any] | None:
    if operation == "add_funds":
        return op_add_funds(world, data, who)
    if operation == "withdraw":
        return op_withdraw(world, data, who)
    if operation in ("fund", "submit", "request_changes", "approve", "refund"):
        return op_milestone(world, data, who, operation)
    if operation in ("pause", "resume", "end"):
        return op_contract(world, data, who, operation)
    if operation == "open_dispute":
        return op_open_dispute(world, data, who)
    if operation == "resolve_dispute":
        return op_resolve(world, data, who)
    if operation == "log_time":
        return op_log_time(world, data, who)
    return op_approve_timesheet(world, data, who)


# --- comparing the database with the model -----------------------------------------------------


async def ledger_size() -> tuple[int, int]:
    return await JournalEntry.all().count(), await Posting.all().count()


async def assert_matches(world: World, step: str) -> None:
    for name, actor in world.actors.items():
        assert await wallet_balance(actor.user_id) == world.wallets[name], (step, name)
    platform = await Account.filter(key=PLATFORM_KEY).values_list("balance_cents", flat=True)
    assert (platform[0] if platform else 0) == world.platform, step
    assert world.platform == world.client_fees_kept + world.freelancer_fees, step
    for model in (world.fixed, world.hourly_contract):
        row = await Contract.get(id=model.id)
        assert (
            ContractStatus(row.status),
            row.funded_cents,
            row.paid_cents,
            row.refunded_cents,
        ) == (model.status, model.funded, model.paid, model.refunded), (step, model.kind)
        escrow = await Account.filter(key=escrow_key(model.id)).values_list(
            "balance_cents", flat=True
        )
        assert (escrow[0] if escrow else 0) == model.escrow, (step, model.kind)
    statuses = (
        await Milestone.filter(contract_id=world.fixed.id)
        .order_by("position")
        .values_list("status", flat=True)
    )
    assert [MilestoneStatus(status) for status in statuses] == world.fixed.statuses, step
    if world.dispute is not None:
        dispute = await Dispute.get(id=world.dispute[0])
        assert (dispute.status == "OPEN") == world.dispute[3], step


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
async def test_random_money_operations_keep_the_ledger_whole(
    db: Database, data: st.DataObject
) -> None:
    await empty_tables(db)  # what the `db` fixture does after a test, for each example
    world = await build_world(data)
    await assert_matches(world, "setup")
    await assert_ledger_invariants()
    steps = data.draw(st.integers(10, 25), label="steps")
    for number in range(steps):
        operation = data.draw(WEIGHTED, label="operation")
        who = data.draw(actors_for(operation), label="actor")
        planned = plan(world, data, operation, who)
        if planned is None:
            continue
        expected, call = planned
        event(f"{operation}: {'done' if expected else 'refused'}")
        step = f"step {number}: {operation} by the {who}"
        before = await ledger_size()
        try:
            await call
        except DomainError as error:
            assert not expected, f"{step} was refused: {error.code} {error.message}"
            assert await ledger_size() == before, f"{step} was refused but moved money"
        else:
            assert expected, f"{step} succeeded; the model expected a refusal"
        await assert_matches(world, step)
        await assert_ledger_invariants()
