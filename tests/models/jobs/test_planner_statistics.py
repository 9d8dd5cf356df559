"""A rare word is searched through the full-text index, not by walking every open job."""

from datetime import timedelta

import pytest
from tortoise import connections

from models.base import utc_now
from models.jobs import search_index
from models.jobs.orm import BudgetType, ExperienceLevel, Job, JobStatus, JobVisibility
from models.jobs.search import JobSearch, search_jobs
from models.pagination import PageRequest, paginate
from models.planner import refresh_statistics
from tests.factories import make_client

JOBS = 2000
RARE = "hydrography"


async def bulk_jobs(client_profile_id) -> None:
    now = utc_now()
    await Job.bulk_create(
        [
            Job(
                client_id=client_profile_id,
                created_at=now - timedelta(minutes=index),
                updated_at=now,
                published_at=now,
                title=f"Job {index}",
                description=f"words and more words {RARE if index % 500 == 7 else ''}",
                budget_type=BudgetType.FIXED,
                budget_cents=10_000,
                budget_sort_cents=10_000,
                experience_level=ExperienceLevel.ENTRY,
                visibility=JobVisibility.PUBLIC,
                status=JobStatus.OPEN,
                connects_required=4,
                proposal_count=0,
                skill_names="Python",
            )
            for index in range(JOBS)
        ]
    )
    await search_index.reindex_all()


async def plan_of_rare_search() -> str:
    listing = search_jobs(None, JobSearch(query=RARE), None)
    sql = listing.queryset.order_by("-created_at", "-id").limit(21).sql(params_inline=True)
    _, rows = await connections.get("default").execute_query(f"EXPLAIN QUERY PLAN {sql}")
    return "\n".join(str(row["detail"]) for row in rows)


async def test_refreshed_statistics_send_a_rare_word_through_the_full_text_index(db):
    if db.backend != "sqlite":
        pytest.skip("PostgreSQL's autovacuum keeps its own statistics")
    # given many open jobs, four of them with a rare word, and no statistics yet
    _, client_profile = await make_client()
    await bulk_jobs(client_profile.id)
    assert "idx_jobs_status" in await plan_of_rare_search()  # every open job, walked
    # when the statistics are refreshed (each server process does it at start and hourly)
    await refresh_statistics()
    # then the search looks the few matches up by id instead, and finds the same jobs
    plan = await plan_of_rare_search()
    assert "sqlite_autoindex_jobs_1 (id=?)" in plan, plan
    assert "idx_jobs_status" not in plan, plan
    listing = search_jobs(None, JobSearch(query=RARE), None)
    page = await paginate(
        listing.queryset, PageRequest(first=20), keys=listing.keys, descending=listing.descending
    )
    assert [job.title for job in page.rows] == ["Job 7", "Job 507", "Job 1007", "Job 1507"]
