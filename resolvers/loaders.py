"""The per-request DataLoader container. Never module-level: a cache must not outlive its request."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from functools import cached_property
from typing import Any, TypeVar
from uuid import UUID

from strawberry.dataloader import DataLoader
from tortoise.functions import Count
from tortoise.models import Model

from models.attachments.actions import by_owner
from models.attachments.orm import Attachment
from models.contracts.orm import (
    Contract,
    ContractEvent,
    Dispute,
    Milestone,
    MilestoneSubmission,
    TimeEntry,
)
from models.interviews.actions import unread_counts
from models.interviews.orm import Interview, Message
from models.jobs.orm import Invitation, Job, JobSkill
from models.notifications.orm import Notification
from models.pagination import Page, PageRequest, condition_filter, first_pages
from models.payments.orm import Posting
from models.profiles.orm import (
    ClientProfile,
    FreelancerProfile,
    FreelancerSkill,
    PortfolioItem,
    Skill,
)
from models.proposals.orm import Proposal
from models.reviews.orm import Review
from models.reviews.reputation import client_counters, freelancer_counters, job_success_scores
from models.rows import select_in, select_in_joined
from models.users.orm import User
from resolvers.dataloader import SharedDataLoader

RowT = TypeVar("RowT", bound=Model)
ProfileT = TypeVar("ProfileT", FreelancerProfile, ClientProfile)
KeyT = TypeVar("KeyT")
ValueT = TypeVar("ValueT")


async def referenced(loader: DataLoader[KeyT, ValueT | None], key: KeyT) -> ValueT:
    """The row a non-null foreign key points at.

    Its constraint (RESTRICT or CASCADE) keeps that row as long as the one pointing at it, so a
    miss is a broken invariant, never something a client did.
    """
    row = await loader.load(key)
    if row is None:
        raise LookupError(f"A foreign key points at no row: {key}")
    return row


def by_key(
    model: type[RowT],
    key: str = "id",
    *,
    joined: str | None = None,
    on_rows: Callable[[list[RowT]], None] | None = None,
) -> DataLoader[Any, RowT | None]:
    """One `WHERE key IN (...)` query per batch (with the `joined` relation in the same query);
    None where nothing matches. `on_rows` sees each batch's rows."""

    column = model._meta.fields_db_projection.get(key, key)

    async def load(keys: Sequence[Hashable]) -> list[RowT | None]:
        rows = await (
            select_in_joined(model, column, list(keys), joined)
            if joined
            else select_in(model, column, list(keys))
        )
        if on_rows is not None:
            on_rows(rows)
        found = {getattr(row, key): row for row in rows}
        return [found.get(k) for k in keys]

    return SharedDataLoader(load_fn=load)


def grouped(load_rows: Callable[[list[Any]], Any], key: str) -> DataLoader[Any, list[Any]]:
    """All rows per key, in the order the query returns them."""

    async def load(keys: Sequence[Hashable]) -> list[list[Any]]:
        groups: dict[Hashable, list[Any]] = defaultdict(list)
        for row in await load_rows(list(keys)):
            groups[getattr(row, key)].append(row)
        return [groups.get(k, []) for k in keys]

    return SharedDataLoader(load_fn=load)


def attachments_by(column: str) -> DataLoader[Any, list[Attachment]]:
    """Each owner's attachments, in the order they were given; one query per batch."""

    async def load(keys: Sequence[Hashable]) -> list[list[Attachment]]:
        found = await by_owner(column, list(keys))
        return [found.get(key, []) for key in keys]

    return DataLoader(load_fn=load)


def one_per_key(load_rows: Callable[[list[Any]], Any], key: str) -> DataLoader[Any, Any]:
    """The single row per key (or None) that `load_rows` returns for a batch of keys."""

    async def load(keys: Sequence[Hashable]) -> list[Any]:
        found = {getattr(row, key): row for row in await load_rows(list(keys))}
        return [found.get(k) for k in keys]

    return SharedDataLoader(load_fn=load)


class Loaders:
    def __init__(self) -> None:
        # Loaders whose queries depend on who is asking, one per (kind, id).
        self._per_viewer: dict[tuple[str, UUID], DataLoader[Any, Any]] = {}
        # Loaders parameterized by model, column and page size.
        self._shared: dict[tuple[Any, ...], DataLoader[Any, Any]] = {}

    def page_per_parent(
        self,
        model: type[Model],
        parent_column: str,
        keys: tuple[str, ...],
        descending: bool,
        request: PageRequest,
        conditions: tuple[str, ...] = (),
    ) -> DataLoader[UUID, Page[Any]]:
        """One page of children for each parent: all parents of a request in one query."""
        key = ("page", model, parent_column, keys, descending, request, conditions)
        if key not in self._shared:

            async def load(parent_ids: Sequence[UUID]) -> list[Page[Any]]:
                pages = await first_pages(
                    model,
                    parent_column,
                    list(parent_ids),
                    request,
                    keys=keys,
                    descending=descending,
                    conditions=conditions,
                )
                return [pages[UUID(str(parent_id))] for parent_id in parent_ids]

            self._shared[key] = SharedDataLoader(load_fn=load)
        return self._shared[key]

    def count_per_parent(
        self, model: type[Model], parent_column: str, conditions: tuple[str, ...] = ()
    ) -> DataLoader[UUID, int]:
        key = ("count", model, parent_column, conditions)
        if key not in self._shared:

            async def load(parent_ids: Sequence[UUID]) -> list[int]:
                filters = dict(map(condition_filter, conditions))
                rows = (
                    await model.filter(**{f"{parent_column}__in": list(parent_ids)}, **filters)
                    .annotate(
                        # "pk" is not resolvable in an annotation grouped with .values()
                        count=Count(model._meta.pk_attr)
                    )
                    .group_by(parent_column)
                    .values(parent_column, "count")
                )
                counts = {UUID(str(row[parent_column])): row["count"] for row in rows}
                return [counts.get(UUID(str(parent_id)), 0) for parent_id in parent_ids]

            self._shared[key] = SharedDataLoader(load_fn=load)
        return self._shared[key]

    def my_proposal_by_job(self, freelancer_id: UUID) -> DataLoader[UUID, Proposal | None]:
        """The given freelancer's proposal on each job."""
        key = ("proposal", freelancer_id)
        if key not in self._per_viewer:
            self._per_viewer[key] = one_per_key(
                lambda ids: Proposal.filter(job_id__in=ids, freelancer_id=freelancer_id), "job_id"
            )
        return self._per_viewer[key]

    def my_invitation_by_job(self, freelancer_id: UUID) -> DataLoader[UUID, Invitation | None]:
        key = ("invitation", freelancer_id)
        if key not in self._per_viewer:
            self._per_viewer[key] = one_per_key(
                lambda ids: Invitation.filter(job_id__in=ids, freelancer_id=freelancer_id), "job_id"
            )
        return self._per_viewer[key]

    def unread_messages(self, user_id: UUID) -> DataLoader[UUID, int]:
        key = ("unread", user_id)
        if key not in self._per_viewer:

            async def load(ids: Sequence[UUID]) -> list[int]:
                counts = await unread_counts(user_id, list(ids))
                return [counts.get(i, 0) for i in ids]

            self._per_viewer[key] = SharedDataLoader(load_fn=load)
        return self._per_viewer[key]

    @cached_property
    def interview(self) -> DataLoader[UUID, Interview | None]:
        return by_key(Interview)

    @cached_property
    def interview_by_proposal(self) -> DataLoader[UUID, Interview | None]:
        return by_key(Interview, "proposal_id")

    @cached_property
    def message(self) -> DataLoader[UUID, Message | None]:
        return by_key(Message, "public_id")

    @cached_property
    def message_by_seq(self) -> DataLoader[int, Message | None]:
        return by_key(Message, "seq")

    @cached_property
    def attachments_by_message(self) -> DataLoader[int, list[Attachment]]:
        return attachments_by("message_id")

    @cached_property
    def attachments_by_proposal(self) -> DataLoader[UUID, list[Attachment]]:
        return attachments_by("proposal_id")

    @cached_property
    def attachments_by_submission(self) -> DataLoader[int, list[Attachment]]:
        return attachments_by("submission_id")

    @cached_property
    def job_success_score(self) -> DataLoader[UUID, int | None]:
        async def load(ids: Sequence[UUID]) -> list[int | None]:
            scores = await job_success_scores(list(ids))
            return [scores[UUID(str(i))] for i in ids]

        return SharedDataLoader(load_fn=load)

    @cached_property
    def freelancer_counters(self) -> DataLoader[UUID, tuple[int, int]]:
        async def load(ids: Sequence[UUID]) -> list[tuple[int, int]]:
            counters = await freelancer_counters(list(ids))
            return [counters[UUID(str(i))] for i in ids]

        return SharedDataLoader(load_fn=load)

    @cached_property
    def client_counters(self) -> DataLoader[UUID, tuple[int, int, int, bool]]:
        async def load(ids: Sequence[UUID]) -> list[tuple[int, int, int, bool]]:
            counters = await client_counters(list(ids))
            return [counters[UUID(str(i))] for i in ids]

        return SharedDataLoader(load_fn=load)

    @cached_property
    def review(self) -> DataLoader[UUID, Review | None]:
        return by_key(Review)

    @cached_property
    def reviews_by_contract(self) -> DataLoader[UUID, list[Review]]:
        """All of a contract's reviews, hidden ones included: callers filter by viewer."""
        return grouped(
            lambda ids: select_in(Review, "contract_id", ids, order_by=("created_at",)),
            "contract_id",
        )

    @cached_property
    def contract(self) -> DataLoader[UUID, Contract | None]:
        return by_key(Contract)

    @cached_property
    def milestone(self) -> DataLoader[UUID, Milestone | None]:
        return by_key(Milestone)

    @cached_property
    def milestones_by_contract(self) -> DataLoader[UUID, list[Milestone]]:
        return grouped(
            lambda ids: select_in(Milestone, "contract_id", ids, order_by=("position",)),
            "contract_id",
        )

    @cached_property
    def submissions_by_milestone(self) -> DataLoader[UUID, list[MilestoneSubmission]]:
        return grouped(
            lambda ids: select_in(MilestoneSubmission, "milestone_id", ids, order_by=("id",)),
            "milestone_id",
        )

    @cached_property
    def dispute(self) -> DataLoader[UUID, Dispute | None]:
        return by_key(Dispute)

    @cached_property
    def dispute_by_contract(self) -> DataLoader[UUID, Dispute | None]:
        """The contract's latest dispute."""
        return one_per_key(
            lambda ids: select_in(Dispute, "contract_id", ids, order_by=("created_at",)),
            "contract_id",
        )

    @cached_property
    def contract_event(self) -> DataLoader[UUID, ContractEvent | None]:
        return by_key(ContractEvent, "public_id")

    @cached_property
    def time_entry(self) -> DataLoader[UUID, TimeEntry | None]:
        return by_key(TimeEntry)

    @cached_property
    def posting(self) -> DataLoader[UUID, Posting | None]:
        return one_per_key(
            lambda ids: Posting.filter(public_id__in=ids).select_related("entry", "account"),
            "public_id",
        )

    @cached_property
    def job(self) -> DataLoader[UUID, Job | None]:
        return by_key(Job)

    @cached_property
    def proposal(self) -> DataLoader[UUID, Proposal | None]:
        return by_key(Proposal)

    @cached_property
    def invitation(self) -> DataLoader[UUID, Invitation | None]:
        return by_key(Invitation)

    @cached_property
    def notification(self) -> DataLoader[UUID, Notification | None]:
        return by_key(Notification, "public_id")

    @cached_property
    def skills_by_job(self) -> DataLoader[UUID, list[JobSkill]]:
        return grouped(
            lambda ids: select_in_joined(JobSkill, "job_id", ids, "skill", order_by=("position",)),
            "job_id",
        )

    @cached_property
    def user(self) -> DataLoader[UUID, User | None]:
        return by_key(User)

    @cached_property
    def event_actor(self) -> DataLoader[UUID, User | None]:
        # Kept apart from `user`: profiles prime `user` when their query returns, so actors
        # sharing it would cost a query or not depending on which query finished first.
        return by_key(User)

    @cached_property
    def skill(self) -> DataLoader[UUID, Skill | None]:
        return by_key(Skill)

    @cached_property
    def freelancer_profile(self) -> DataLoader[UUID, FreelancerProfile | None]:
        return self._profiles_with_users(FreelancerProfile)

    @cached_property
    def freelancer_profile_by_user(self) -> DataLoader[UUID, FreelancerProfile | None]:
        return by_key(FreelancerProfile, "user_id")

    @cached_property
    def client_profile(self) -> DataLoader[UUID, ClientProfile | None]:
        return self._profiles_with_users(ClientProfile)

    def _profiles_with_users(self, model: type[ProfileT]) -> DataLoader[UUID, ProfileT | None]:
        """Profiles joined with their users, which prime the user loader.

        Both profiles of a contract are usually shown with their user's name; loading the users
        after the profiles would batch them by whichever profile query finished first, so the
        statement count of a page would depend on timing.
        """

        def prime_users(rows: list[ProfileT]) -> None:
            for row in rows:
                self.user.prime(row.user_id, row.user)

        return by_key(model, joined="user", on_rows=prime_users)

    @cached_property
    def client_profile_by_user(self) -> DataLoader[UUID, ClientProfile | None]:
        return by_key(ClientProfile, "user_id")

    @cached_property
    def portfolio_item(self) -> DataLoader[UUID, PortfolioItem | None]:
        return by_key(PortfolioItem)

    @cached_property
    def skills_by_freelancer_profile(self) -> DataLoader[UUID, list[FreelancerSkill]]:
        return grouped(
            lambda ids: select_in_joined(
                FreelancerSkill, "profile_id", ids, "skill", order_by=("position",)
            ),
            "profile_id",
        )

    @cached_property
    def portfolio_by_freelancer_profile(self) -> DataLoader[UUID, list[PortfolioItem]]:
        return grouped(
            lambda ids: select_in(
                PortfolioItem, "profile_id", ids, order_by=("-created_at", "-id")
            ),
            "profile_id",
        )
