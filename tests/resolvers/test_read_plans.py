"""How PostgreSQL reads the job search page: its jobs' skills come from an index alone."""

from __future__ import annotations

import ast
from datetime import timedelta

import pytest
from tortoise import connections

from models.base import utc_now
from models.jobs import search_index
from models.jobs.orm import Job, JobSkill
from models.profiles.orm import Skill
from tests.conftest import count_statements
from tests.factories import job_fields, make_client
from tests.resolvers.test_read_statements import SEARCH

JOBS = 150


async def jobs_with_skills(client_profile_id: object) -> None:
    now = utc_now()
    jobs = [
        Job(
            **job_fields(
                client_profile_id,
                f"{'kestrel' if index % 10 == 0 else 'osprey'} survey {index}",
                created_at=now - timedelta(minutes=index),
            )
        )
        for index in range(JOBS)
    ]
    await Job.bulk_create(jobs)
    skills = await Skill.all().order_by("slug").limit(3)
    await JobSkill.bulk_create(
        [
            # Positions against the skills' order, so that the order read is the position's.
            JobSkill(job_id=job.id, skill_id=skill.id, position=len(skills) - offset)
            for job in jobs
            for offset, skill in enumerate(skills)
        ]
    )
    await search_index.reindex_all()


async def test_the_search_page_reads_its_jobs_skills_from_an_index_alone(gql, db):
    if db.backend != "postgres":
        pytest.skip("the page is one statement on PostgreSQL only")
    # given: many jobs with three skills each, and the statistics and visibility map that
    # autovacuum keeps on a live database
    _, profile = await make_client()
    await jobs_with_skills(profile.id)
    client = connections.get("default")
    await client.execute_script("VACUUM ANALYZE job_skills")
    # when: the search page is asked
    with count_statements() as counter:
        data = await gql.execute(SEARCH, {"query": "kestrel"})
    # then: its jobs come with their skills in their order
    edges = data["jobs"]["edges"]
    assert len(edges) == JOBS // 10
    skills = await Skill.all().order_by("slug").limit(3)
    assert all(
        edge["node"]["skills"] == [{"name": s.name, "slug": s.slug} for s in reversed(skills)]
        for edge in edges
    )
    # and the statement read each job's skills by the (job, position, skill) index without
    # the table's rows: the unique (job, skill) index lacks the position, and a plan that
    # needs it scanned job_skills once per job listed
    (statement,) = counter.statements
    text, _, values = statement.rpartition(": [")
    _, rows = await client.execute_query(f"EXPLAIN {text}", ast.literal_eval(f"[{values}"))
    plan = "\n".join(row["QUERY PLAN"] for row in rows)
    assert "Index Only Scan using idx_job_skills_job_id" in plan, plan
    assert "Seq Scan on job_skills" not in plan, plan
