from __future__ import annotations

from collections.abc import Awaitable
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q

from models.contracts.events import contract_channel, event_envelope
from models.contracts.orm import Contract as ContractRow
from models.contracts.orm import ContractEvent as ContractEventRow
from models.contracts.orm import ContractStatus
from models.errors import DomainError
from models.money import parse_amount
from models.pagination import FirstPageQuery, PageRequest, SqlFilter
from models.payments.ledger import Fees, fees_on
from realtime import channels
from resolvers.context import Context, Info
from resolvers.contracts.visibility import visible_contract
from resolvers.errors import PublicError
from resolvers.ids import parse_global_id
from resolvers.pages import Listing, listing, page_query
from resolvers.prefetch import first_page_request, load_all, node_selections
from resolvers.streams import (
    REPLAY_PAGE,
    StreamPlan,
    after_cursor,
    signed_in_now,
    viewer_source,
)
from settings import get_settings

# A contract's events are ordered by their stream sequence; the prefetch and the field it loads
# for (Contract.events) must use the same keys.
EVENT_KEYS = ("seq",)


async def viewer_contracts(
    info: Info, request: PageRequest, status: ContractStatus | None = None
) -> Listing[ContractRow]:
    found = await contracts_of_viewer(info.context, request, status)
    await prefetch_contracts(info, found.page.rows)
    return found


async def contracts_of_viewer(
    context: Context, request: PageRequest, status: ContractStatus | None = None
) -> Listing[ContractRow]:
    """The page alone; its contracts' relations are loaded by whoever reads them."""
    user = context.user
    assert user is not None
    queryset = ContractRow.filter(Q(client_user_id=user.id) | Q(freelancer_user_id=user.id))
    if status is not None:
        queryset = queryset.filter(status=ContractStatus(status))
    return await listing(
        queryset, request, descending=True, sql_filter=_viewer_filter(context, status)
    )


def contracts_of_viewer_query(
    context: Context, request: PageRequest, status: ContractStatus | None = None
) -> FirstPageQuery[ContractRow] | None:
    """`contracts_of_viewer`'s statement, for whoever answers its page in one (see page_query).
    Its filter alone: a QuerySet made only to be dropped was 3 % of the dashboard's CPU."""
    return page_query(
        ContractRow, request, descending=True, sql_filter=_viewer_filter(context, status)
    )


def _viewer_filter(context: Context, status: ContractStatus | None) -> SqlFilter:
    """The viewer's contracts in SQL: the same rows as contracts_of_viewer's queryset."""
    user = context.user
    assert user is not None
    parties = '("client_user_id" = {0} OR "freelancer_user_id" = {0})'
    if status is None:
        return SqlFilter(parties, (user.id,))
    return SqlFilter(f'{parties} AND "status" = {{1}}', (user.id, ContractStatus(status).value))


async def prefetch_contracts(info: Info, rows: list[ContractRow]) -> None:
    """What the page's selection asks of its contracts, loaded for all of them at once."""
    if not rows:
        return
    selected = node_selections(info)
    loaders = info.context.loaders
    ids = [row.id for row in rows]
    loads: list[Awaitable[Any]] = []
    if "freelancer" in selected:
        loads.append(loaders.freelancer_profile.load_many([row.freelancer_id for row in rows]))
    if "client" in selected:
        loads.append(loaders.client_profile.load_many([row.client_id for row in rows]))
    if "job" in selected:
        loads.append(loaders.job.load_many([row.job_id for row in rows]))
    if "milestones" in selected or "totalAmount" in selected:
        loads.append(loaders.milestones_by_contract.load_many(ids))
    events = selected.get("events")
    request = first_page_request(events) if events is not None else None
    if request is not None:
        settings = get_settings()
        try:
            request = request.validated(
                default_size=settings.default_page_size, max_size=settings.max_page_size
            )
        except DomainError:
            request = None  # the field itself reports it
    if request is not None:
        page = loaders.page_per_parent(ContractEventRow, "contract_id", EVENT_KEYS, False, request)
        loads.append(page.load_many(ids))
    await load_all(loads)


def fee_quote(amount: Decimal) -> Fees:
    try:
        cents = parse_amount(amount, field=["amount"])
    except DomainError as error:
        raise PublicError(error.message, "BAD_USER_INPUT") from error
    settings = get_settings()
    return fees_on(cents, settings.client_fee_rate, settings.freelancer_fee_rate)


# ---------------------------------------------------------------- subscriptions


async def _contract_for_subscription(info: Info, contract_id: str | None) -> ContractRow | None:
    if contract_id is None:
        return None
    parsed = parse_global_id(contract_id)
    row = await visible_contract(info, parsed[1]) if parsed and parsed[0] == "Contract" else None
    if row is None:
        raise PublicError("No Contract with this ID", "NOT_FOUND")
    return row


async def contract_event_stream(
    info: Info, contract_id: str | None, after: str | None
) -> StreamPlan:
    user = await signed_in_now(info)
    contract = await _contract_for_subscription(info, contract_id)
    after_seq = after_cursor(after)

    def mine() -> Any:
        if contract is not None:
            return ContractEventRow.filter(contract_id=contract.id)
        return ContractEventRow.filter(
            Q(contract__client_user_id=user.id) | Q(contract__freelancer_user_id=user.id)
        )

    async def fetch_after(cursor: int | None) -> list[dict[str, Any]]:
        query = mine()
        if cursor is not None:
            query = query.filter(seq__gt=cursor)
        return [event_envelope(row) for row in await query.order_by("seq").limit(REPLAY_PAGE)]

    async def latest() -> int:
        row = await mine().order_by("-seq").first()
        return row.seq if row else 0

    # One contract: its own channel; all of them: the viewer's channel, where every contract
    # event of theirs is also published (contracts made later included).
    user_channel = channels.user(user.id)
    channel = contract_channel(contract.id) if contract else user_channel
    return StreamPlan(
        source=viewer_source(
            [channel, user_channel],
            accept=lambda envelope, on: (
                envelope.get("type") == "contract_event"
                and (contract is None or envelope.get("contract_id") == str(contract.id))
            ),
            fetch_after=fetch_after,
        ),
        scope=contract.id if contract else None,
        latest=latest,
        after=after_seq,
    )


async def milestone_stream(info: Info, contract_id: str | None) -> StreamPlan:
    """Live only: each milestone as it is after each change."""
    user = await signed_in_now(info)
    contract = await _contract_for_subscription(info, contract_id)
    user_channel = channels.user(user.id)
    channel = contract_channel(contract.id) if contract else user_channel
    return StreamPlan(
        source=viewer_source(
            [channel, user_channel],
            # Milestones arrive on the contract's channel and on the parties' own channels;
            # take them from the one this stream is about.
            accept=lambda envelope, on: envelope.get("type") == "milestone" and on == channel,
        ),
        scope=contract.id if contract else None,
    )
