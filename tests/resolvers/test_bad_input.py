"""Hostile or careless input: every case is a clear error for the client, never a crash, and the
server answers the next request normally."""

from __future__ import annotations

import base64
import time
import uuid
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
from graphql import get_introspection_query

from models.profiles.orm import ClientProfile, FreelancerProfile
from models.users.orm import User
from tests.factories import PASSWORD, make_client, make_freelancer, make_user
from tests.resolvers.marketplace_support import make_job

GRAPHQL_RESPONSE = "application/graphql-response+json"

SIGN_UP = """
mutation($input: SignUpInput!) {
  signUp(input: $input) { token user { id } userErrors { field code message } }
}
"""
LOG_IN = """
mutation($input: LogInInput!) {
  logIn(input: $input) { token userErrors { field code message } }
}
"""
CREATE_FREELANCER = """
mutation($input: FreelancerProfileInput!) {
  createFreelancerProfile(input: $input) {
    profile { id title hourlyRate } userErrors { field code message }
  }
}
"""
UPDATE_FREELANCER = """
mutation($input: UpdateFreelancerProfileInput!) {
  updateFreelancerProfile(input: $input) {
    profile { id title hourlyRate } userErrors { field code message }
  }
}
"""
CREATE_CLIENT = """
mutation($input: ClientProfileInput!) {
  createClientProfile(input: $input) { profile { id } userErrors { field code message } }
}
"""
NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Skill { slug } } }"
FREELANCERS = """
query($first: Int, $last: Int, $after: String, $filter: FreelancerFilter) {
  freelancers(first: $first, last: $last, after: $after, filter: $filter) {
    totalCount nodes { title } pageInfo { endCursor hasNextPage }
  }
}
"""


# ---------------------------------------------------------------- helpers


async def assert_still_serving(gql: Any) -> None:
    """The server answers a normal request after the bad one."""
    data = await gql.execute("{ skills(first: 1) { slug } }")
    assert len(data["skills"]) == 1


class _Client:
    """`execute` for an extra HTTP client (another client address)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"accept": GRAPHQL_RESPONSE},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


def global_id(type_name: str, pk: Any) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def only_user_error(payload: dict[str, Any]) -> dict[str, Any]:
    [error] = payload["userErrors"]
    return error


def request_error(response: httpx.Response) -> dict[str, Any]:
    """The single error of a request refused before execution: 400, and no `data` at all."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    return error


def field_error(body: dict[str, Any], path: list[str]) -> dict[str, Any]:
    """The single error of a field that failed while the request itself was fine."""
    [error] = body["errors"]
    assert error["path"] == path
    return error


def nested_fragments(levels: int, width: int, leaf: str) -> str:
    """F0 holds `leaf`; each next fragment spreads the previous one `width` times."""
    fragments = [f"fragment F0 on Query {{ {leaf} }}"]
    fragments += [
        f"fragment F{level} on Query {{ {' '.join([f'...F{level - 1}'] * width)} }}"
        for level in range(1, levels + 1)
    ]
    return f"{{ ...F{levels} }}\n" + "\n".join(fragments)


async def viewer_freelancer_profile(gql: Any, token: str) -> dict[str, Any] | None:
    data = await gql.execute(
        "{ viewer { user { freelancerProfile { title hourlyRate } } } }", token=token
    )
    return data["viewer"]["user"]["freelancerProfile"]


# ---------------------------------------------------------------- global IDs


@pytest.mark.parametrize(
    "bad_id",
    [
        pytest.param("!!!", id="punctuation"),
        pytest.param("", id="empty"),
        pytest.param(base64.b64encode(bytes(range(200, 248))).decode(), id="random-base64"),
        pytest.param(base64.urlsafe_b64encode(b"\xff\xfe\x00garbage").decode(), id="binary"),
        pytest.param(global_id("Contract", uuid.uuid4()), id="unknown-type"),
        pytest.param(global_id("User", "not-a-uuid"), id="not-a-uuid"),
        pytest.param(global_id("User", ""), id="no-pk"),
        pytest.param(global_id("Skill", uuid.uuid4()), id="no-such-skill"),
        pytest.param("A" * 5000, id="very-long"),
        pytest.param("\u00fc\u00df\U0001f600", id="non-ascii"),
    ],
)
async def test_a_malformed_or_unknown_global_id_finds_nothing(gql, bad_id):
    # when
    body = await gql.execute_raw(NODE, {"id": bad_id})
    # then
    assert body == {"data": {"node": None}}
    await assert_still_serving(gql)


async def test_an_id_of_another_type_never_passes_for_the_expected_one(gql, db):
    # given
    session = await make_user()
    user_id = global_id("User", session.user.id)
    skill = (await gql.execute("{ skills(first: 1) { id slug } }"))["skills"][0]
    skill_pk = base64.urlsafe_b64decode(skill["id"] + "==").decode().partition(":")[2]
    # when
    as_itself = await gql.execute(NODE, {"id": user_id})
    user_pk_as_skill = await gql.execute(NODE, {"id": global_id("Skill", session.user.id)})
    skill_pk_as_user = await gql.execute(NODE, {"id": global_id("User", skill_pk)})
    # then: the User ID finds the User (not a Skill), and neither pk passes for the other type
    assert as_itself["node"] == {"__typename": "User", "id": user_id}
    assert user_pk_as_skill["node"] is None
    assert skill_pk_as_user["node"] is None


async def test_nodes_answers_null_for_each_bad_id_and_refuses_too_many(gql, db):
    # given
    session = await make_user()
    user_id = global_id("User", session.user.id)
    # when
    mixed = await gql.execute(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": ["!!!", user_id, global_id("Skill", session.user.id)]},
    )
    too_many = await gql.execute_raw(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [user_id] * 101}
    )
    # then
    assert mixed["nodes"] == [None, {"id": user_id}, None]
    assert field_error(too_many, ["nodes"])["extensions"]["code"] == "BAD_USER_INPUT"
    await assert_still_serving(gql)


# ---------------------------------------------------------------- text


async def test_a_500_character_display_name_is_refused_and_no_account_is_made(gql, db):
    # when
    data = await gql.execute(
        SIGN_UP,
        {"input": {"email": "long@example.com", "password": PASSWORD, "displayName": "x" * 500}},
    )
    # then
    assert data["signUp"]["token"] is None
    error = only_user_error(data["signUp"])
    assert (error["code"], error["field"]) == ("VALIDATION", ["input", "displayName"])
    assert not await User.filter(email="long@example.com").exists()
    await assert_still_serving(gql)


async def test_a_10000_character_title_is_refused_and_no_profile_is_made(gql, db):
    # given
    session = await make_user()
    # when
    data = await gql.execute(
        CREATE_FREELANCER,
        {"input": {"title": "t" * 10_000, "overview": "I build APIs.", "skills": ["python"]}},
        token=session.token,
    )
    # then
    assert data["createFreelancerProfile"]["profile"] is None
    error = only_user_error(data["createFreelancerProfile"])
    assert (error["code"], error["field"]) == ("VALIDATION", ["input", "title"])
    assert await viewer_freelancer_profile(gql, session.token) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "t" * 10_000),
        ("overview", "o" * 5001),
        ("location", "l" * 121),
        ("title", "   "),
    ],
)
async def test_an_update_with_bad_text_changes_nothing(gql, db, field, value):
    # given
    session, _ = await make_freelancer(title="Python developer")
    # when
    data = await gql.execute(UPDATE_FREELANCER, {"input": {field: value}}, token=session.token)
    # then
    error = only_user_error(data["updateFreelancerProfile"])
    assert (error["code"], error["field"]) == ("VALIDATION", ["input", field])
    assert await viewer_freelancer_profile(gql, session.token) == {
        "title": "Python developer",
        "hourlyRate": "50.00",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("companyName", "c" * 121),
        ("description", "d" * 5001),
        ("website", "javascript:alert(1)"),
        ("website", "https://" + "a" * 3000 + ".com"),
    ],
)
async def test_a_client_profile_with_bad_text_is_not_created(gql, db, field, value):
    # given
    session = await make_user()
    # when
    data = await gql.execute(
        CREATE_CLIENT, {"input": {"description": "We hire.", field: value}}, token=session.token
    )
    # then
    error = only_user_error(data["createClientProfile"])
    assert (error["code"], error["field"]) == ("VALIDATION", ["input", field])
    assert await ClientProfile.all().count() == 0


async def test_an_unknown_or_absurdly_long_skill_name_is_a_user_error(gql, db):
    # given
    session = await make_user()
    # when
    data = await gql.execute(
        CREATE_FREELANCER,
        {"input": {"title": "Dev", "overview": "I build APIs.", "skills": ["python", "y" * 100]}},
        token=session.token,
    )
    # then
    error = only_user_error(data["createFreelancerProfile"])
    assert (error["code"], error["field"]) == ("VALIDATION", ["input", "skills", "1"])
    assert await viewer_freelancer_profile(gql, session.token) is None
    await assert_still_serving(gql)


# ---------------------------------------------------------------- emails and passwords


@pytest.mark.parametrize(
    "email",
    [
        "plainaddress",
        "@example.com",
        "alice@",
        "alice@localhost",
        "alice smith@example.com",
        "alice@exa mple.com",
        "alice@@example.com",
        "a" * 250 + "@example.com",
        "",
    ],
)
async def test_an_invalid_email_is_refused_with_its_field(gql, db, email):
    # when
    data = await gql.execute(
        SIGN_UP, {"input": {"email": email, "password": PASSWORD, "displayName": "Alice"}}
    )
    # then
    assert data["signUp"]["token"] is None
    error = only_user_error(data["signUp"])
    assert (error["code"], error["field"]) == ("VALIDATION", ["input", "email"])
    assert await User.all().count() == 0


@pytest.mark.parametrize(
    "password",
    [
        "short",
        "password123",
        "aaaaaaaaaaaa",
        "abababababab",
        "p" * 129,
        "my-alice.smith-secret",
    ],
)
async def test_a_weak_password_is_refused_with_its_field(gql, db, password):
    # when
    data = await gql.execute(
        SIGN_UP,
        {
            "input": {
                "email": "alice.smith@example.com",
                "password": password,
                "displayName": "Alice",
            }
        },
    )
    # then
    assert data["signUp"]["token"] is None
    error = only_user_error(data["signUp"])
    assert (error["code"], error["field"]) == ("VALIDATION", ["input", "password"])
    assert await User.all().count() == 0


# ---------------------------------------------------------------- money

BAD_RATES = [
    pytest.param("-5", id="negative"),
    pytest.param("-0.01", id="negative-cent"),
    pytest.param("0", id="zero"),
    pytest.param("1.005", id="fraction-of-a-cent"),
    pytest.param("1e3", id="exponent"),
    pytest.param("NaN", id="nan"),
    pytest.param("Infinity", id="infinity"),
    pytest.param("12345678901234567890", id="20-digits"),
    pytest.param(12345678901234567890, id="20-digit-json-number"),
    pytest.param("1000.00", id="above-maximum"),
]
NOT_NUMBERS = [
    pytest.param("abc", id="letters"),
    pytest.param("", id="empty"),
    pytest.param("12,50", id="comma"),
    pytest.param("$50", id="currency-sign"),
    pytest.param(True, id="boolean"),
]


@pytest.mark.parametrize("rate", BAD_RATES)
async def test_a_bad_hourly_rate_is_refused_and_no_profile_is_made(gql, db, rate):
    # given
    session = await make_user()
    # when
    data = await gql.execute(
        CREATE_FREELANCER,
        {
            "input": {
                "title": "Dev",
                "overview": "I build APIs.",
                "skills": ["python"],
                "hourlyRate": rate,
            }
        },
        token=session.token,
    )
    # then
    assert data["createFreelancerProfile"]["profile"] is None
    error = only_user_error(data["createFreelancerProfile"])
    assert (error["code"], error["field"]) == ("VALIDATION", ["input", "hourlyRate"])
    assert await FreelancerProfile.all().count() == 0


@pytest.mark.parametrize("rate", BAD_RATES)
async def test_a_bad_hourly_rate_leaves_the_profile_unchanged(gql, db, rate):
    # given
    session, _ = await make_freelancer(hourly_rate="50.00")
    # when
    data = await gql.execute(
        UPDATE_FREELANCER, {"input": {"hourlyRate": rate, "title": "New"}}, token=session.token
    )
    # then
    error = only_user_error(data["updateFreelancerProfile"])
    assert (error["code"], error["field"]) == ("VALIDATION", ["input", "hourlyRate"])
    assert await viewer_freelancer_profile(gql, session.token) == {
        "title": "Python developer",
        "hourlyRate": "50.00",
    }


@pytest.mark.parametrize("rate", NOT_NUMBERS)
async def test_an_hourly_rate_that_is_not_a_number_is_a_400(gql, db, rate):
    # given
    session, _ = await make_freelancer(hourly_rate="50.00")
    # when
    response = await gql.post(
        UPDATE_FREELANCER, {"input": {"hourlyRate": rate}}, token=session.token
    )
    # then
    assert "$input" in request_error(response)["message"]
    assert (await viewer_freelancer_profile(gql, session.token))["hourlyRate"] == "50.00"


async def test_a_valid_hourly_rate_given_as_a_json_number_is_accepted(gql, db):
    # given
    session, _ = await make_freelancer(hourly_rate="50.00")
    # when
    data = await gql.execute(
        UPDATE_FREELANCER, {"input": {"hourlyRate": 62.5}}, token=session.token
    )
    # then
    assert data["updateFreelancerProfile"]["profile"]["hourlyRate"] == "62.50"


@pytest.mark.parametrize(
    ("bounds", "found"),
    [
        ({"minHourlyRate": "1e30"}, 0),
        ({"minHourlyRate": "1e999999999"}, 0),
        ({"minHourlyRate": "99999999999999999999999"}, 0),
        ({"maxHourlyRate": "1e30"}, 1),
        ({"maxHourlyRate": "99999999999999999999999"}, 1),
        ({"minHourlyRate": "0.0000001"}, 1),
    ],
)
async def test_huge_rate_bounds_in_a_search_filter_like_any_bound_above_every_rate(
    gql, db, bounds, found
):
    # given
    await make_freelancer(hourly_rate="999.99")
    # when
    data = await gql.execute(FREELANCERS, {"first": 5, "filter": bounds})
    # then
    assert data["freelancers"]["totalCount"] == found


JOBS_COUNT = "query($filter: JobFilter) { jobs(first: 5, filter: $filter) { totalCount } }"


@pytest.mark.parametrize(
    ("bounds", "finds_it"),
    [
        ({"minBudget": "99999999999999999999999.99"}, False),
        ({"minBudget": "1e30"}, False),
        ({"minBudget": "1e999999999"}, False),
        ({"maxBudget": "99999999999999999999999.99"}, True),
        ({"maxBudget": "1e999999999"}, True),
        ({"minBudget": "10000000.00"}, True),
        ({"minBudget": "10000000.01"}, False),
        ({"maxBudget": "10000000.00"}, True),
    ],
)
async def test_huge_budget_bounds_in_a_job_search_like_any_bound_above_every_budget(
    gql, db, bounds, finds_it
):
    # given: a job with the largest budget there can be
    client, _ = await make_client()
    await make_job(client, budget=Decimal("10000000.00"))
    # when
    data = await gql.execute(JOBS_COUNT, {"filter": bounds})
    # then
    assert data["jobs"]["totalCount"] == (1 if finds_it else 0)


@pytest.mark.parametrize("bounds", [{"minHourlyRate": "-1"}, {"maxHourlyRate": "NaN"}])
async def test_a_negative_or_nan_rate_bound_is_bad_user_input(gql, db, bounds):
    # when
    body = await gql.execute_raw(FREELANCERS, {"first": 5, "filter": bounds})
    # then
    error = field_error(body, ["freelancers"])
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == ["filter", *bounds]


async def test_an_absurdly_long_skill_in_a_search_filter_matches_nothing(gql, db):
    # given
    await make_freelancer(skills=["python"])
    # when
    data = await gql.execute(FREELANCERS, {"first": 5, "filter": {"skills": ["y" * 10_000]}})
    both = await gql.execute(
        FREELANCERS, {"first": 5, "filter": {"skills": ["y" * 10_000, "python"]}}
    )
    # then
    assert data["freelancers"]["totalCount"] == 0
    assert both["freelancers"]["totalCount"] == 1


async def test_an_absurdly_long_skill_in_a_job_search_matches_nothing(gql, db):
    # given
    client, _ = await make_client()
    await make_job(client, skills=["python"])
    # when
    data = await gql.execute(JOBS_COUNT, {"filter": {"skills": ["w" * 61]}})
    both = await gql.execute(JOBS_COUNT, {"filter": {"skills": ["y" * 10_000, "python"]}})
    # then
    assert data["jobs"]["totalCount"] == 0
    assert both["jobs"]["totalCount"] == 1


# ---------------------------------------------------------------- NUL characters


@pytest.mark.parametrize(
    ("query", "variables", "signed_in"),
    [
        pytest.param(
            SIGN_UP,
            {
                "input": {
                    "email": "nul@example.com",
                    "password": PASSWORD,
                    "displayName": "Ann\x00Lee",
                }
            },
            False,
            id="display-name",
        ),
        pytest.param(
            LOG_IN,
            {"input": {"email": "a\x00@example.com", "password": "x"}},
            False,
            id="log-in-email",
        ),
        pytest.param(
            CREATE_CLIENT, {"input": {"description": "We\x00hire"}}, True, id="description"
        ),
        pytest.param(FREELANCERS, {"filter": {"query": "py\x00thon"}}, False, id="search"),
        pytest.param(
            'mutation { createClientProfile(input: {description: "We\\u0000hire"}) '
            "{ profile { id } } }",
            {},
            True,
            id="literal",
        ),
    ],
)
async def test_text_with_a_nul_character_is_refused_on_every_database(
    gql, db, query, variables, signed_in
):
    # given
    token = (await make_user()).token if signed_in else None
    # when
    response = await gql.post(query, variables, token=token)
    # then
    error = request_error(response)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "NUL" in error["message"]
    assert await ClientProfile.all().count() == 0
    assert not await User.filter(email="nul@example.com").exists()
    await assert_still_serving(gql)


# ---------------------------------------------------------------- pagination


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"first": 1000}, "first"),
        ({"first": 101}, "first"),
        ({"first": 0}, "first"),
        ({"first": -1}, "first"),
        ({"last": -1}, "last"),
        ({"last": 0}, "last"),
        ({"first": 2, "last": 2}, "first"),
    ],
)
async def test_an_out_of_range_page_size_is_bad_user_input(gql, db, variables, argument):
    # when
    body = await gql.execute_raw(FREELANCERS, variables)
    # then
    error = field_error(body, ["freelancers"])
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert f"`{argument}`" in error["message"]
    await assert_still_serving(gql)


@pytest.mark.parametrize(
    "after",
    [
        pytest.param("!!!", id="punctuation"),
        pytest.param(cursor([1, 2]), id="untagged"),
        pytest.param(cursor({"a": 1}), id="object"),
        pytest.param(cursor([["d", "2020-01-01T00:00:00+00:00"]]), id="too-few-keys"),
        pytest.param(cursor([["s", "x"], ["s", "y"]]), id="strings-for-a-date-and-a-uuid"),
        pytest.param(
            cursor([["d", "2020-01-01T00:00:00+00:00"], ["s", "\x00"]]), id="nul-for-a-uuid"
        ),
        pytest.param(cursor([["i", 2**62], ["i", 5]]), id="integers"),
        pytest.param(cursor([["d", "not a date"], ["u", str(uuid.uuid4())]]), id="bad-date"),
        pytest.param(
            cursor([["d", "2020-01-01T00:00:00"], ["u", str(uuid.uuid4())]]),
            id="date-without-offset",
        ),
        pytest.param(
            cursor([["d", "0001-01-01T00:00:00+23:59"], ["u", str(uuid.uuid4())]]),
            id="date-before-year-1-in-utc",
        ),
        pytest.param(
            cursor([["d", "9999-12-31T23:59:59-23:59"], ["u", str(uuid.uuid4())]]),
            id="date-after-year-9999-in-utc",
        ),
    ],
)
async def test_a_forged_cursor_is_bad_user_input(gql, db, after):
    # given
    await make_freelancer()
    # when
    body = await gql.execute_raw(FREELANCERS, {"first": 2, "after": after})
    # then
    error = field_error(body, ["freelancers"])
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "Invalid cursor"
    await assert_still_serving(gql)


async def test_a_bad_page_size_beside_rows_other_fields_share_fails_only_as_bad_input(gql, db):
    # given: each profile's portfolio is asked for twice; the second time, beside a field that
    # fails at once (graphql-core then cancels that field's pending siblings)
    await make_freelancer()
    query = """{ freelancers(first: 5) {
      edges { node { portfolio { id } } }
      nodes { portfolio { id } reviews(first: -1) { totalCount } }
    } }"""
    # when
    body = await gql.execute_raw(query)
    # then: the bad page size is the only error; the portfolio load it cancelled is not
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["path"] == ["freelancers", "nodes", 0, "reviews"]
    await assert_still_serving(gql)


async def test_a_real_cursor_still_pages(gql, db):
    # given
    for title in ("First", "Second", "Third"):
        await make_freelancer(title=title)
    # when
    first = await gql.execute(FREELANCERS, {"first": 2})
    rest = await gql.execute(
        FREELANCERS, {"first": 2, "after": first["freelancers"]["pageInfo"]["endCursor"]}
    )
    # then
    assert [n["title"] for n in first["freelancers"]["nodes"]] == ["Third", "Second"]
    assert [n["title"] for n in rest["freelancers"]["nodes"]] == ["First"]


# ---------------------------------------------------------------- document limits


def nested_query(depth: int) -> str:
    """`{ viewer { user { freelancerProfile { user { ... { id } } } } } }`, `depth` fields deep
    (not counting the leaf `id`), for depth >= 2."""
    names = (["viewer"] + ["user", "freelancerProfile"] * depth)[:depth]
    return "{ " + " { ".join(names) + " { id" + " }" * depth + " }"


async def test_a_query_30_levels_deep_is_refused(gql):
    # when
    response = await gql.post(nested_query(30))
    # then
    assert "exceeds maximum operation depth of 12" in request_error(response)["message"]
    await assert_still_serving(gql)


async def test_the_depth_limit_is_12_levels(gql):
    # when
    at_limit = await gql.post(nested_query(12))
    beyond = await gql.post(nested_query(13))
    # then
    assert at_limit.status_code == 200
    assert at_limit.json() == {"data": {"viewer": None}}
    assert "exceeds maximum operation depth of 12" in request_error(beyond)["message"]


async def test_200_aliases_are_refused_and_30_are_fine(gql):
    # given
    aliased = "{ %s }" % " ".join(f"a{i}: skills(first: 1) {{ slug }}" for i in range(200))
    allowed = "{ %s }" % " ".join(f"a{i}: skills(first: 1) {{ slug }}" for i in range(30))
    # when
    refused = await gql.post(aliased)
    fine = await gql.post(allowed)
    # then
    assert request_error(refused)["message"] == "200 aliases found. Allowed: 30"
    assert fine.status_code == 200
    assert len(fine.json()["data"]) == 30


async def test_more_than_5000_tokens_are_refused(gql):
    # given
    query = "{ %s }" % " ".join(["__typename"] * 5001)
    # when
    response = await gql.post(query)
    # then
    assert "more than 5000 tokens" in request_error(response)["message"]
    await assert_still_serving(gql)


@pytest.mark.parametrize(
    ("query", "variables", "cost"),
    [
        pytest.param(
            nested_fragments(3, 10, "freelancers(first: 100) { totalCount }"),
            {},
            100_000,
            id="fragments",
        ),
        pytest.param(
            "{ %s }" % " ".join(["freelancers(first: 100) { totalCount }"] * 501),
            {},
            50_100,
            id="repeated-fields",
        ),
        pytest.param(
            "query($n: Int) { freelancers(first: $n) { totalCount } }",
            {"n": 60_000},
            60_000,
            id="variable-page-size",
        ),
    ],
)
async def test_a_query_that_could_return_over_50000_nodes_is_refused_before_it_runs(
    gql, db, query, variables, cost
):
    # given
    await make_freelancer()
    # when
    response = await gql.post(query, variables)
    # then
    error = request_error(response)
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": cost, "limit": 50_000}
    await assert_still_serving(gql)


def proposals_all_the_way_down(levels: int) -> str:
    """`{ viewer { proposals { nodes { job { proposals { nodes { job ... { id } } } } } } } }`:
    `levels` fields deep, a connection of the default page size every third level."""
    names = (["viewer"] + ["proposals", "nodes", "job"] * levels)[:levels]
    return "{ " + " { ".join(names) + " { __typename" + " }" * levels + " }"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        # 16 nested connections of 20: 20^16 nodes, beyond any 64-bit integer
        pytest.param(proposals_all_the_way_down(50), {}, id="50-levels-deep"),
        pytest.param(
            "query($n: Int) { viewer { proposals(first: $n) { nodes { job {"
            " proposals(first: $n) { totalCount } } } } } }",
            {"n": 2**64 - 1},
            id="two-64-bit-page-sizes",
        ),
        pytest.param(
            "{ freelancers(first: 123456789012345678901234567890) { totalCount } }",
            {},
            id="a-30-digit-literal-page-size",
        ),
    ],
)
@pytest.mark.parametrize("accept", ["application/json", GRAPHQL_RESPONSE])
async def test_an_astronomically_costly_query_is_refused_with_a_reportable_cost(
    gql, query, variables, accept
):
    # when
    response = await gql.post(query, variables, headers={"accept": accept})
    # then
    assert response.status_code == (400 if accept == GRAPHQL_RESPONSE else 200)
    [error] = response.json()["errors"]
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "cost": 2**31 - 1,
        "limit": 50_000,
    }
    assert error["message"] == (
        "This query could return 2147483647 nodes or more; the limit is 50000. "
        "Ask for smaller pages."
    )
    await assert_still_serving(gql)


async def test_a_query_just_under_the_node_limit_runs(gql, db):
    # given
    await make_freelancer()
    query = "{ %s }" % " ".join(
        f"a{i}: freelancers(first: 100) {{ totalCount }}" for i in range(30)
    )
    # when
    data = await gql.execute(query)
    # then
    assert data["a0"] == {"totalCount": 1}


def mutually_spreading_fragments(count: int) -> str:
    """`count` fragments, each spreading every other one: a cycle, with count! paths."""
    fragments = [
        f"fragment F{i} on Query {{ __typename "
        + " ".join(f"...F{j}" for j in range(count) if j != i)
        + " }"
        for i in range(count)
    ]
    return "{ ...F0 }\n" + "\n".join(fragments)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        # 70 spreads in 1 KB that stand for 10^7 fields
        pytest.param(
            nested_fragments(7, 10, "__typename"), "QUERY_TOO_COMPLEX", id="nested-spreads"
        ),
        # 110 spreads whose paths number 11!
        pytest.param(mutually_spreading_fragments(11), None, id="mutually-spreading"),
    ],
)
async def test_fragments_that_expand_exponentially_are_refused_at_once(gql, query, code):
    # given
    started = time.perf_counter()
    # when
    response = await gql.post(query)
    # then
    assert time.perf_counter() - started < 5
    error = request_error(response)
    assert error.get("extensions", {}).get("code") == code
    await assert_still_serving(gql)


async def test_a_fragment_heavy_introspection_query_still_runs(gql):
    # given: what GraphiQL and code generators send, fragments nested nine levels deep
    query = get_introspection_query(descriptions=True)
    # when
    data = await gql.execute(query)
    # then
    assert data["__schema"]["queryType"]["name"] == "Query"


async def test_a_long_chain_of_fragments_is_refused_cleanly(gql):
    # given
    chain = [f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(600)]
    query = "{ ...F0 }\n" + "\n".join(chain) + "\nfragment F600 on Query { __typename }"
    # when
    response = await gql.post(query)
    # then
    error = request_error(response)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "recursion" not in error["message"]
    await assert_still_serving(gql)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ ...Missing }", "Unknown fragment 'Missing'."),
        ("query A { ...Missing } query B { __typename }", "Unknown fragment 'Missing'."),
        (
            "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
            "Cannot spread fragment 'A' within itself",
        ),
    ],
)
async def test_unknown_and_cyclic_fragments_are_validation_errors(gql, query, message):
    # when
    response = await gql.post(query)
    # then
    assert response.status_code == 400
    assert any(error["message"].startswith(message) for error in response.json()["errors"])
    await assert_still_serving(gql)


# ---------------------------------------------------------------- request bodies


async def test_a_2_mib_body_is_413(http, gql):
    # given
    body = b'{"query": "{ __typename }", "padding": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    # when
    response = await http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    # then
    assert response.status_code == 413
    await assert_still_serving(gql)


async def test_a_2_mib_body_streamed_without_a_length_is_413(http, gql):
    # given
    async def chunks():
        yield b'{"query": "{ __typename }", "padding": "'
        for _ in range(32):
            yield b"x" * 65536
        yield b'"}'

    # when
    response = await http.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    # then
    assert response.status_code == 413
    await assert_still_serving(gql)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            b'{"query": "{ __typename }", "operationName": "\xff\xfe"}', id="invalid-utf-8"
        ),
        pytest.param(
            b'{"query": "{ __typename }", "variables": {"v": '
            + b"[" * 100_000
            + b"]" * 100_000
            + b"}}",
            id="nested-100000-deep",
        ),
        pytest.param(b'{"query": "{ __typename }"', id="truncated"),
        pytest.param(b"{query: '{ __typename }'}", id="not-json"),
        pytest.param(b"", id="empty"),
        pytest.param(b'"{ __typename }"', id="a-string"),
        pytest.param(b"42", id="a-number"),
        pytest.param(b"null", id="null"),
        pytest.param(b"true", id="a-boolean"),
    ],
)
async def test_a_body_that_is_not_a_json_object_is_400(http, gql, body):
    # when
    response = await http.post(
        "/graphql",
        content=body,
        headers={"content-type": "application/json", "accept": GRAPHQL_RESPONSE},
    )
    # then
    assert response.status_code == 400
    await assert_still_serving(gql)


@pytest.mark.parametrize("variables", ["[[[[[[[[", "[" * 5000 + "]" * 5000, "42", "[1]"])
async def test_get_variables_that_are_not_a_json_object_are_400(http, gql, variables):
    # when
    response = await http.get(
        "/graphql", params={"query": "{ __typename }", "variables": variables}
    )
    # then
    assert response.status_code == 400
    await assert_still_serving(gql)


# ---------------------------------------------------------------- log-in rate limits


async def log_in(client: Any, email: str, password: str) -> dict[str, Any]:
    data = await client.execute(LOG_IN, {"input": {"email": email, "password": password}})
    return data["logIn"]


async def test_five_wrong_passwords_lock_the_email_even_for_the_right_one(gql, db):
    # given
    await make_user(email="victim@example.com")
    bystander = await make_user()
    for _ in range(5):
        failed = await log_in(gql, "victim@example.com", "wrong-password-123")
        assert only_user_error(failed)["code"] == "VALIDATION"
    # when
    locked = await log_in(gql, "victim@example.com", PASSWORD)
    other = await log_in(gql, bystander.user.email, PASSWORD)
    # then
    assert locked["token"] is None
    assert only_user_error(locked)["code"] == "RATE_LIMITED"
    assert other["token"] and other["userErrors"] == []


async def test_the_lock_is_by_email_however_it_is_written(gql, db):
    # given
    await make_user(email="victim@example.com")
    for spelling in ("victim@example.com", "VICTIM@example.com", " Victim@Example.COM ") * 2:
        await log_in(gql, spelling, "wrong-password-123")
    # when
    locked = await log_in(gql, "victim@example.com", PASSWORD)
    # then
    assert only_user_error(locked)["code"] == "RATE_LIMITED"


async def test_twenty_failures_from_one_address_lock_that_address(gql, app, db):
    # given
    await make_user(email="real@example.com")
    for number in range(20):
        failed = await log_in(gql, f"guess{number}@example.com", "wrong-password-123")
        assert only_user_error(failed)["code"] == "VALIDATION"
    # when
    locked = await log_in(gql, "real@example.com", PASSWORD)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        elsewhere = await log_in(_Client(other), "real@example.com", PASSWORD)
    # then
    assert locked["token"] is None
    assert only_user_error(locked)["code"] == "RATE_LIMITED"
    assert elsewhere["token"] and elsewhere["userErrors"] == []
