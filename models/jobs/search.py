"""Which jobs a viewer may list, filtered and ordered in the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from tortoise.expressions import Q, RawSQL, Subquery
from tortoise.queryset import QuerySet

from models.actors import Actor
from models.errors import ValidationFailed
from models.jobs import search_index
from models.jobs.orm import (
    BudgetType,
    ExperienceLevel,
    Invitation,
    Job,
    JobSkill,
    JobStatus,
    JobVisibility,
)
from models.jobs.rules import MAX_BUDGET_CENTS
from models.money import from_cents, to_cents
from models.pagination import SqlFilter
from models.profiles.catalog import SLUG_MAX_LENGTH, slugify

MAX_QUERY_LENGTH = 200


class JobOrderField(StrEnum):
    CREATED_AT = "CREATED_AT"
    BUDGET = "BUDGET"
    RELEVANCE = "RELEVANCE"


@dataclass(frozen=True)
class JobSearch:
    query: str | None = None
    skills: Sequence[str] | None = None
    budget_type: BudgetType | None = None
    min_budget: Decimal | None = None
    max_budget: Decimal | None = None
    experience_level: ExperienceLevel | None = None
    status: JobStatus | None = None
    client_id: object | None = None


@dataclass(frozen=True)
class JobListing:
    queryset: QuerySet[Job]
    keys: tuple[str, ...]
    descending: bool
    # The queryset's filter as SQL, when it is one simple enough to write here (see
    # models/pagination.SqlFilter): the public search page, asked anonymously.
    sql_filter: SqlFilter | None = None


def budget_bound_cents(bound: Decimal, name: str) -> int:
    """A budget bound of a search in cents. Budgets (and 40-hour weeks at the top rate) are at
    most MAX_BUDGET_CENTS, so every larger bound filters alike; capping it keeps "1e30" inside a
    64-bit column and "1e999999" cheap."""
    if not bound.is_finite() or bound < 0:
        raise ValidationFailed("Budget bounds must be non-negative numbers", field=["filter", name])
    return to_cents(bound) if bound <= from_cents(MAX_BUDGET_CENTS) else MAX_BUDGET_CENTS + 1


def _sql_filter(
    actor: Actor | None, search: JobSearch, status: JobStatus, terms: list[str]
) -> SqlFilter | None:
    """What `search_jobs` filters, in SQL, for an anonymous search without skills (the others
    keep the queryset alone). The same conditions, in the same form for the planner: the text
    search's status as a literal (search_index.only_matching), the rest as parameters. On
    PostgreSQL the search words are a parameter too, unlike the queryset's (Tortoise writes
    RawSQL as it is): with them in its text each new search was a new statement, prepared
    (a round trip), planned and cached by asyncpg in place of another, about three times the
    database's CPU of a search asked before. The GIN index serves the generic plan alike
    (tests/benchmarks/bench_job_search.py)."""
    if actor is not None or search.skills:
        return None
    parameters: list[object] = [JobVisibility.PUBLIC.value, JobStatus.DRAFT.value]
    conditions = ['"visibility" = {0}', 'NOT "status" = {1}']

    def parameter(value: object) -> str:
        parameters.append(value)
        return f"{{{len(parameters) - 1}}}"

    words_in_text = False
    if terms and search_index.dialect() != "sqlite":
        status_literal = JobStatus(status).value  # an enum member: nothing to escape
        words = parameter(search_index.tsquery(terms))
        conditions.append(
            f"(jobs.search_vector @@ to_tsquery('english', {words}) "
            f"AND jobs.status = '{status_literal}')"
        )
    else:
        words_in_text = bool(terms)
        conditions.append(f'"status" = {parameter(JobStatus(status).value)}')
        if terms:
            conditions.append(f'"id" IN {search_index.matching_ids_sql(terms)}')
    if search.budget_type is not None:
        conditions.append(f'"budget_type" = {parameter(BudgetType(search.budget_type).value)}')
    for name, bound, operator in (
        ("minBudget", search.min_budget, ">="),
        ("maxBudget", search.max_budget, "<="),
    ):
        if bound is not None:
            cents = budget_bound_cents(bound, name)
            conditions.append(f'"budget_sort_cents" {operator} {parameter(cents)}')
    if search.experience_level is not None:
        level = ExperienceLevel(search.experience_level).value
        conditions.append(f'"experience_level" = {parameter(level)}')
    if search.client_id is not None:
        conditions.append(f'"client_id" = {parameter(search.client_id)}')
    # SQLite's words are literals in the text: it is made for this request, not kept.
    return SqlFilter(" AND ".join(conditions), tuple(parameters), varies=words_in_text)


def visible_jobs(actor: Actor | None) -> QuerySet[Job]:
    """Jobs the actor may see: public non-drafts, their own jobs, and invite-only jobs they
    were invited to."""
    visible = Q(visibility=JobVisibility.PUBLIC) & ~Q(status=JobStatus.DRAFT)
    if actor is not None and actor.client_profile_id is not None:
        visible |= Q(client_id=actor.client_profile_id)
    if actor is not None and actor.freelancer_profile_id is not None:
        invited = Subquery(
            Invitation.filter(freelancer_id=actor.freelancer_profile_id).values("job_id")
        )
        visible |= Q(id__in=invited) & ~Q(status=JobStatus.DRAFT)
    return Job.filter(visible)


NEWEST_FIRST_KEYS = ("created_at", "id")


def _terms(search: JobSearch) -> list[str]:
    if search.query is None:
        return []
    if len(search.query) > MAX_QUERY_LENGTH:
        raise ValidationFailed(
            f"Search text is limited to {MAX_QUERY_LENGTH} characters", field=["filter", "query"]
        )
    return search_index.search_terms(search.query)


def _newest_first(order: JobOrderField | None, terms: list[str]) -> bool:
    """Whether a search lists its jobs newest first: unless ordered by budget, or by relevance
    to words it has (relevance without words is newest first)."""
    return not (order == JobOrderField.BUDGET or (order == JobOrderField.RELEVANCE and terms))


def search_statement(
    actor: Actor | None, search: JobSearch, order: JobOrderField | None, descending: bool = True
) -> tuple[tuple[str, ...], bool, SqlFilter] | None:
    """What `search_jobs` answers (keys, direction, filter in SQL) without building its
    queryset, when its filter is one in SQL; None when it is not. Raises as `search_jobs`."""
    status = search.status or JobStatus.OPEN
    terms = _terms(search)
    if not _newest_first(order, terms):
        return None
    sql_filter = _sql_filter(actor, search, status, terms)
    return None if sql_filter is None else (NEWEST_FIRST_KEYS, descending, sql_filter)


def search_jobs(
    actor: Actor | None, search: JobSearch, order: JobOrderField | None, descending: bool = True
) -> JobListing:
    status = search.status or JobStatus.OPEN
    queryset = visible_jobs(actor)
    terms = _terms(search)
    if terms:
        queryset = search_index.only_matching(queryset, terms, status=status)
    else:
        queryset = queryset.filter(status=status)
    if search.skills:
        # A slug longer than the column cannot match, and PostgreSQL refuses to compare it.
        slugs = [
            slug
            for slug in (slugify(name) for name in search.skills[:50])
            if len(slug) <= SLUG_MAX_LENGTH
        ]
        queryset = queryset.filter(
            id__in=Subquery(JobSkill.filter(skill__slug__in=slugs).values("job_id"))
        )
    if search.budget_type is not None:
        queryset = queryset.filter(budget_type=search.budget_type)
    for name, bound, operator in (
        ("minBudget", search.min_budget, "gte"),
        ("maxBudget", search.max_budget, "lte"),
    ):
        if bound is not None:
            cents = budget_bound_cents(bound, name)
            queryset = queryset.filter(**{f"budget_sort_cents__{operator}": cents})
    if search.experience_level is not None:
        queryset = queryset.filter(experience_level=search.experience_level)
    if search.client_id is not None:
        queryset = queryset.filter(client_id=search.client_id)
    if _newest_first(order, terms):
        return JobListing(
            queryset, NEWEST_FIRST_KEYS, descending, _sql_filter(actor, search, status, terms)
        )
    if order == JobOrderField.BUDGET:
        return JobListing(queryset, ("budget_sort_cents", "created_at", "id"), descending)
    ranked = queryset.annotate(relevance=RawSQL(search_index.rank_sql(terms)))
    return JobListing(ranked, ("relevance", "created_at", "id"), descending)
