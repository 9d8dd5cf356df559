"""Pages and subtrees answered by PostgreSQL as JSON (schema/execution/sql.py) answer byte for
byte what the fields' resolvers answer through graphql-core.

Every field that sql_types.py maps is selected at least once, on data with the awkward values:
nulls, negative amounts, timestamps with and without microseconds, a rating mean that falls on
a half hundredth, text with quotes, backslashes and non-ASCII letters. On PostgreSQL the SQL
path must have been taken (a fallback would pass vacuously); elsewhere it never is.
"""

from __future__ import annotations

import httpx
import pytest

from models.base import utc_now
from models.contracts.orm import Contract, Milestone
from models.profiles.orm import FreelancerProfile
from models.reviews.reputation import rating_average
from schema import build_schema
from schema.execution import outcomes, sql_types
from schema.execution.sql_types import (
    TYPES,
    Children,
    Embedded,
    FirstPage,
    Linked,
    Related,
)
from tests.resolvers import test_batch_executor as batch
from tests.resolvers.test_batch_executor import same_answer, seed

both = batch.both  # the fixture: two apps, with and without the batch executor


def selection(type_name: str) -> str:
    """Every mapped field of the type, aliased once, and everything it links to."""
    parts = ["__typename"]
    for name, renderer in TYPES[type_name].fields.items():
        if isinstance(renderer, Related | Children | Embedded | Linked):
            parts.append(f"{name} {{ {selection(renderer.type_name)} }}")
        elif isinstance(renderer, FirstPage):
            node = selection(renderer.type_name)
            parts.append(
                f"{name}(first: 2) {{ __typename edges {{ __typename cursor node {{ {node} }} }} }}"
            )
        else:
            parts.append(name)
    parts.append(f"again: {next(iter(TYPES[type_name].fields))}")
    return " ".join(parts)


CONTRACTS = "{ viewer { contracts(first: 25) { edges { node { %s } } } } }" % selection("Contract")
JOBS = '{ jobs(first: 20, filter: {query: "kestrel"}) { nodes { %s } } }' % selection("Job")
# `totalCount` is not read in SQL: the page is the resolver's, the nodes below it one statement.
CONTRACTS_COUNTED = (
    "{ viewer { contracts(first: 25) { totalCount edges { node { %s } } } } }"
    % selection("Contract")
)
JOBS_COUNTED = (
    '{ jobs(first: 20, filter: {query: "kestrel"}) { totalCount nodes { %s } } }' % selection("Job")
)
CURSORS = """
query ($first: Int!) { viewer { contracts(first: $first) {
  pageInfo { startCursor endCursor hasNextPage hasPreviousPage }
  edges { cursor node { title events(first: 2) { edges { cursor node { kind cursor } } } } }
} } }
"""
AFTER = (
    "query ($after: String) { viewer { contracts(first: 5, after: $after) { nodes { title } } } }"
)


async def awkward_values() -> None:
    """Values whose text PostgreSQL and Python could write differently."""
    contract = await Contract.filter(title="Contract 2").get()
    await Contract.filter(id=contract.id).update(
        title='O\'Brien "quoted" \\ back\nslash, Zoë, 東京',
        ended_at=utc_now().replace(microsecond=0),
        offer_expires_at=utc_now().replace(microsecond=1),
    )
    await Milestone.filter(contract_id=contract.id).update(amount_cents=5)
    freelancer = await FreelancerProfile.get(id=contract.freelancer_id)
    # 107 / 40 = 2.675: a tie at the hundredth (the float quotient is just under it)
    await FreelancerProfile.filter(id=freelancer.id).update(
        rating_count=40, rating_overall_sum=107, rating_quality_sum=80, rating_deadlines_sum=199
    )


async def test_every_mapped_field_answers_as_its_resolver(both, db):
    # given
    people = await seed()
    await awkward_values()
    before = outcomes["sql page"]
    # when
    contracts = await same_answer(both, CONTRACTS, token=people["client"].token)
    jobs = await same_answer(both, JOBS)
    # then
    assert "errors" not in contracts and "errors" not in jobs
    edges = contracts["data"]["viewer"]["contracts"]["edges"]
    assert len(edges) == 23
    tie = [e["node"] for e in edges if e["node"]["title"].startswith("O'Brien")]
    assert tie[0]["freelancer"]["rating"]["overall"] == 2.68
    assert len(jobs["data"]["jobs"]["nodes"]) >= 3
    taken = outcomes["sql page"] - before
    assert taken == (2 if db.backend == "postgres" else 0)  # the contracts, the jobs


async def test_nodes_below_a_counted_page_answer_as_their_resolvers(both, db):
    # given
    people = await seed()
    await awkward_values()
    before = outcomes["sql subtree"], outcomes["sql page"]
    # when
    await same_answer(both, CONTRACTS_COUNTED, token=people["client"].token)
    await same_answer(both, JOBS_COUNTED)
    # then: the pages by their resolvers, the nodes of each in one statement
    subtrees, pages = outcomes["sql subtree"] - before[0], outcomes["sql page"] - before[1]
    assert (subtrees, pages) == ((2, 0) if db.backend == "postgres" else (0, 0))


async def test_cursors_written_in_sql_are_the_resolvers_and_lead_on(both, db):
    # given: 23 contracts, pages of 5
    people = await seed()
    token = people["client"].token
    before = outcomes["sql page"]
    # when: the first page, with every cursor, then the pages after it by its end cursor
    first = await same_answer(both, CURSORS, {"first": 5}, token=token)
    page = first["data"]["viewer"]["contracts"]
    titles = [edge["node"]["title"] for edge in page["edges"]]
    after = page["pageInfo"]["endCursor"]
    while after is not None:
        more = await same_answer(
            both,
            CURSORS.replace("first: $first", "first: 5, after: $after").replace(
                "$first: Int!", "$after: String"
            ),
            {"after": after},
            token=token,
        )
        next_page = more["data"]["viewer"]["contracts"]
        titles += [edge["node"]["title"] for edge in next_page["edges"]]
        after = next_page["pageInfo"]["endCursor"] if next_page["pageInfo"]["hasNextPage"] else None
    # then: every contract once, in order; each edge's cursor leads to the rest
    assert len(titles) == len(set(titles)) == 23
    second = await same_answer(both, AFTER, {"after": page["edges"][0]["cursor"]}, token=token)
    assert [n["title"] for n in second["data"]["viewer"]["contracts"]["nodes"]] == titles[1:6]
    assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
    # every page in SQL: the first, the four after it, and the one after the first edge
    assert outcomes["sql page"] - before == (6 if db.backend == "postgres" else 0)


async def test_an_empty_page_has_no_cursors(both, db):
    people = await seed()
    found = await same_answer(both, CURSORS, {"first": 5}, token=people["nameless"].token)
    page = found["data"]["viewer"]["contracts"]
    assert page["edges"] == []
    assert page["pageInfo"]["startCursor"] is None and page["pageInfo"]["endCursor"] is None


PAGE = "{ title milestones { amount } }"


@pytest.mark.parametrize(
    ("query", "signed_in", "in_sql"),
    [
        # more than the page, fewer than the page, both ways of naming nodes, typenames
        (
            "{ viewer { contracts(first: 5) { __typename pageInfo { __typename hasNextPage "
            "hasPreviousPage } edges { __typename node %s } all: nodes { title } } } }" % PAGE,
            True,
            True,
        ),
        (
            "{ viewer { contracts(first: 50) { pageInfo { hasNextPage } nodes %s } } }" % PAGE,
            True,
            True,
        ),
        ("{ viewer { contracts(status: ACTIVE) { nodes %s } } }" % PAGE, True, True),
        (
            '{ jobs(filter: {query: "zzzz"}) { pageInfo { hasNextPage } nodes { title } } }',
            False,
            True,
        ),
        # pages the resolver writes otherwise: from the end, a signed-in search, skills, ranking
        ("{ viewer { contracts(last: 3) { nodes %s } } }" % PAGE, True, False),
        ('{ jobs(filter: {query: "kestrel"}) { nodes { title } } }', True, False),
        (
            '{ jobs(filter: {skills: ["python"]}) { nodes { title skills { slug } } } }',
            False,
            False,
        ),
        (
            '{ jobs(filter: {query: "kestrel"}, orderBy: {field: RELEVANCE}) { nodes { title } } }',
            False,
            False,
        ),
        # refused arguments: the resolver's error
        ("{ viewer { contracts(first: 0) { nodes { title } } } }", True, False),
        ("{ viewer { contracts(first: 2, last: 2) { nodes { title } } } }", True, False),
    ],
)
async def test_pages_answer_as_their_resolvers(both, db, query, signed_in, in_sql):
    people = await seed()
    before = outcomes["sql page"]
    await same_answer(both, query, token=people["client"].token if signed_in else None)
    assert outcomes["sql page"] - before == (1 if in_sql and db.backend == "postgres" else 0)


@pytest.mark.parametrize(
    "query",
    [
        # a field without a mapping below the page: completed in Python, same answer
        "{ viewer { contracts(first: 5) { nodes { title totalAmount freelancer { title } } } } }",
        "{ viewer { contracts(first: 5) { nodes { title client { user { email } } } } } }",
        # a page other than the first, a page with cursors, a page by variable
        "{ viewer { contracts(first: 5) { nodes { events(last: 2) { nodes { kind } } } } } }",
        "{ viewer { contracts(first: 5) { nodes { events(first: 2) { edges { cursor } } } } } }",
        "{ viewer { contracts(first: 5) { nodes { events(first: 2) { pageInfo { hasNextPage } } } } } }",
        "{ viewer { contracts(first: 5) { nodes { events(first: 0) { edges { node { kind } } } } } } }",
    ],
)
async def test_what_sql_does_not_map_is_answered_in_python_alike(both, db, query):
    people = await seed()
    await same_answer(both, query, token=people["client"].token)


def test_every_mapped_field_is_a_plain_field_of_its_type():
    schema = build_schema(batch_execution=True)
    for sql_type in TYPES.values():
        definition = schema.get_type_by_name(sql_type.name)
        assert definition is not None, sql_type.name
        graphql_names = {f.graphql_name or _camel(f.python_name): f for f in definition.fields}
        for name in sql_type.fields:
            field = graphql_names.get(name)
            assert field is not None, f"{sql_type.name}.{name}"
            # a permission would be skipped by SQL
            assert not field.permission_classes and not field.extensions, f"{sql_type.name}.{name}"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


@pytest.mark.parametrize(
    ("total", "count", "mean"),
    [(0, 0, None), (5, 1, 5.0), (14, 3, 4.67), (13, 3, 4.33), (107, 40, 2.68), (9, 2, 4.5)],
)
def test_a_rating_mean_is_rounded_half_up_on_the_exact_quotient(total, count, mean):
    assert rating_average(total, count) == mean


async def test_sql_reads_off_leaves_every_level_to_python(db):
    from app import create_app
    from settings import get_settings

    # given: an app with SQL_READS=false
    people = await seed()
    app = create_app(
        get_settings().model_copy(update={"broadcast_url": "memory://", "sql_reads": False}),
        manage_database=False,
    )
    before = outcomes["sql page"], outcomes["sql subtree"], outcomes["batched"]
    # when
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            answer = await client.post(
                "/graphql",
                json={"query": CONTRACTS},
                headers={"authorization": f"Bearer {people['client'].token}"},
            )
    # then: answered, by the batch executor, without a statement of sql.py
    assert answer.status_code == 200 and "errors" not in answer.json()
    after = outcomes["sql page"], outcomes["sql subtree"], outcomes["batched"]
    assert after[:2] == before[:2]
    assert after[2] == before[2] + 1


async def test_a_read_that_fails_in_sql_is_logged_and_answered_in_python(
    both, db, monkeypatch, caplog
):
    # given: a mapping gone wrong (a column that does not exist), in apps built after it
    monkeypatch.setitem(TYPES["Skill"].fields, "slug", sql_types.Plain("no_such_column"))
    await seed()
    query = '{ jobs(filter: {query: "kestrel"}) { nodes { title skills { slug } } } }'
    failed = sum(count for key, count in outcomes.items() if key.startswith("failed"))
    # when
    with caplog.at_level("WARNING", logger="marketplace.execution"):
        found = await same_answer(both, query)
    # then: the resolvers' answer, and on PostgreSQL the failure where it can be seen
    assert any(node["skills"] for node in found["data"]["jobs"]["nodes"])
    failed_now = sum(count for key, count in outcomes.items() if key.startswith("failed"))
    if db.backend == "postgres":
        assert failed_now == failed + 1
        assert "a read written in SQL failed" in caplog.text
        assert "no_such_column" in caplog.text
    else:
        assert failed_now == failed
