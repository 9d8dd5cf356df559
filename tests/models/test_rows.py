"""models/rows.py gives what Tortoise's QuerySets give: the same rows, as the same instances."""

from __future__ import annotations

from typing import Any

from models.contracts.orm import Contract, ContractEvent, Milestone
from models.jobs.orm import JobSkill
from models.profiles.orm import FreelancerProfile
from models.rows import client_of, instances, select_in, select_in_joined
from models.users.orm import User
from tests.contracts_factory import make_contract
from tests.factories import make_client
from tests.resolvers.marketplace_support import make_job


def state(row: Any) -> dict[str, Any]:
    return dict(vars(row))


async def test_rows_become_the_instances_tortoise_makes(db):
    # given: contracts (nullable columns both set and null), milestones, events, profiles
    await make_contract(milestones=["100.00", "50.00"])
    await make_contract(hourly_rate="40.00")
    for model in (Contract, Milestone, ContractEvent, FreelancerProfile, User):
        client = client_of(model)
        # when
        _, rows = await client.execute_query(f'SELECT * FROM "{model._meta.db_table}"')
        made = instances(model, rows, client)
        # then: the same attributes, values and order as Tortoise's own conversion
        expected = [model._init_from_db(**row) for row in rows]
        assert [list(state(m).items()) for m in made] == [list(state(e).items()) for e in expected]
        assert made, model


async def test_select_in_answers_what_the_queryset_answers(db):
    # given
    first, *_ = await make_contract(milestones=["10.00", "20.00", "30.00"])
    second, *_ = await make_contract(milestones=["5.00", "6.00"])
    ids = [first.id, second.id]
    # when
    found = await select_in(Milestone, "contract_id", ids, order_by=("position", "-id"))
    # then
    expected = await Milestone.filter(contract_id__in=ids).order_by("position", "-id")
    assert [state(row) for row in found] == [state(row) for row in expected]
    assert await select_in(Milestone, "contract_id", []) == []


async def test_select_in_joined_sets_the_related_row_as_select_related_does(db):
    # given
    owner, _ = await make_client()
    job = await make_job(owner, skills=["python", "docker", "react"])
    # when
    found = await select_in_joined(JobSkill, "job_id", [job.id], "skill", order_by=("position",))
    # then
    expected = (
        await JobSkill.filter(job_id__in=[job.id]).select_related("skill").order_by("position")
    )
    assert [(state(row), state(row.skill)) for row in found] == [
        (state(row), state(row.skill)) for row in expected
    ]
    assert len(found) == 3
