"""The view's lane for one operation POSTed as JSON (schema/http.py) answers exactly as
Strawberry's own run does: the same status, headers and bytes, for good requests and bad ones,
and it is the way such requests take."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import orjson
import pytest

from schema.http import GraphQLView
from tests.factories import PASSWORD, make_user

GRAPHQL_RESPONSE = "application/graphql-response+json"
SEARCH = """
query Search($query: String) {
  jobs(first: 2, filter: {query: $query}) { edges { node { title } } pageInfo { hasNextPage } }
}
"""
VIEWER = "{ viewer { user { email displayName } unreadNotificationCount } }"
LOG_IN = """
mutation($email: String!, $password: String!) {
  logIn(input: {email: $email, password: $password}) { token userErrors { code field } }
}
"""
UNKNOWN_TEXT = "{ skills(first: 1) { slug } }"


def persisted(text: str) -> dict[str, Any]:
    sha256 = hashlib.sha256(text.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256}}


def as_json(body: object) -> bytes:
    return orjson.dumps(body)


# (id, body bytes, headers, whether the lane answers it)
CASES: list[Any] = [
    pytest.param(
        as_json({"query": SEARCH, "variables": {"query": "python"}}), {}, True, id="query"
    ),
    pytest.param(
        as_json({"query": SEARCH, "operationName": "Search"}),
        {"accept": GRAPHQL_RESPONSE},
        True,
        id="named-operation",
    ),
    pytest.param(as_json({"query": VIEWER}), {"authorization": "TOKEN"}, True, id="viewer"),
    pytest.param(
        as_json({"query": VIEWER}), {"authorization": "Bearer nope"}, True, id="bad-token"
    ),
    pytest.param(
        as_json({"query": LOG_IN, "variables": {"email": "EMAIL", "password": "wrong-password"}}),
        {},
        True,
        id="mutation-user-error",
    ),
    pytest.param(
        as_json({"query": "{ skills(first: 2) { slug }"}),
        {"accept": GRAPHQL_RESPONSE},
        True,
        id="syntax-error-graphql-response",
    ),
    pytest.param(
        as_json({"query": "{ skills(first: 2) { slug }"}), {}, True, id="syntax-error-legacy"
    ),
    pytest.param(
        as_json(
            {
                "query": "query($first: Int) { freelancers(first: $first) { totalCount } }",
                "variables": {"first": "abc"},
            }
        ),
        {"accept": GRAPHQL_RESPONSE},
        True,
        id="variable-does-not-coerce",
    ),
    pytest.param(
        as_json({"query": "{ skills(first: 1000) { slug } }"}), {}, True, id="page-too-large"
    ),
    pytest.param(as_json({"query": SEARCH, "operationName": "Nope"}), {}, True, id="no-such-op"),
    pytest.param(as_json({"variables": {}}), {}, True, id="no-query"),
    pytest.param(
        as_json({"query": "subscription { notificationAdded { id } }"}),
        {"accept": GRAPHQL_RESPONSE},
        True,
        id="subscription",
    ),
    pytest.param(
        as_json({"query": SEARCH}), {"accept": "text/plain"}, True, id="unacceptable-accept"
    ),
    pytest.param(
        as_json({"query": SEARCH}),
        {"content-type": "application/json; charset=utf-8"},
        True,
        id="json-with-charset",
    ),
    pytest.param(
        as_json({"extensions": persisted(UNKNOWN_TEXT)}), {}, True, id="persisted-unknown"
    ),
    pytest.param(
        as_json({"query": UNKNOWN_TEXT, "extensions": persisted("{ other }")}),
        {"accept": GRAPHQL_RESPONSE},
        True,
        id="persisted-mismatch",
    ),
    # Strawberry's run answers these: the lane leaves them to it.
    pytest.param(as_json({"query": 42}), {}, False, id="query-not-text"),
    pytest.param(as_json({"query": SEARCH, "variables": []}), {}, False, id="variables-list"),
    pytest.param(as_json({"query": SEARCH, "extensions": "x"}), {}, False, id="extensions-text"),
    pytest.param(as_json([{"query": SEARCH}]), {}, False, id="batch"),
    pytest.param(as_json(42), {}, False, id="number"),
    pytest.param(b"{not json", {}, False, id="not-json"),
    pytest.param(b'{"query": "\xff"}', {}, False, id="not-utf8"),
    pytest.param(
        as_json({"query": SEARCH}), {"content-type": "text/plain"}, False, id="not-json-type"
    ),
    pytest.param(
        as_json({"query": SEARCH}),
        {"content-type": "application/json-patch+json"},
        False,
        id="other-json-type",
    ),
]


async def answer(
    http: httpx.AsyncClient, body: bytes, headers: dict[str, str]
) -> tuple[int, list[tuple[str, str]], bytes]:
    response = await http.post(
        "/graphql", content=body, headers={"content-type": "application/json", **headers}
    )
    kept = [(name, value) for name, value in response.headers.items() if name != "x-request-id"]
    return response.status_code, kept, response.content


@pytest.mark.parametrize(("body", "headers", "in_lane"), CASES)
async def test_the_lane_answers_as_strawberrys_run(
    http: httpx.AsyncClient, db: Any, monkeypatch: pytest.MonkeyPatch, body, headers, in_lane
) -> None:
    # given
    session = await make_user()
    body = body.replace(b"EMAIL", session.user.email.encode())
    if headers.get("authorization") == "TOKEN":
        headers = {**headers, "authorization": f"Bearer {session.token}"}
    runs = 0
    strawberry_run = GraphQLView.run

    async def counted_run(self: GraphQLView, request: Any, *args: Any) -> Any:
        nonlocal runs
        runs += 1
        return await strawberry_run(self, request, *args)

    monkeypatch.setattr(GraphQLView, "run", counted_run)
    # when
    by_lane = await answer(http, body, headers)
    lane_runs = runs

    async def no_lane(self: GraphQLView, request: Any) -> None:
        return None

    monkeypatch.setattr(GraphQLView, "_plain_json_operation", no_lane)
    by_run = await answer(http, body, headers)
    # then
    assert by_lane == by_run
    assert runs == lane_runs + 1
    assert lane_runs == (0 if in_lane else 1)


async def test_a_log_in_through_the_lane_signs_in(http: httpx.AsyncClient, db: Any) -> None:
    session = await make_user()
    variables = {"email": session.user.email, "password": PASSWORD}
    response = await http.post("/graphql", json={"query": LOG_IN, "variables": variables})
    token = response.json()["data"]["logIn"]["token"]
    viewer = await http.post(
        "/graphql", json={"query": VIEWER}, headers={"authorization": f"Bearer {token}"}
    )
    assert viewer.json() == {
        "data": {
            "viewer": {
                "user": {"email": session.user.email, "displayName": session.user.display_name},
                "unreadNotificationCount": 0,
            }
        }
    }


async def test_a_json_media_type_in_capitals_is_json(http: httpx.AsyncClient, db: Any) -> None:
    # Media types are case-insensitive (RFC 9110, 8.3.1); Strawberry's run refused this with
    # 400 "Unsupported content type".
    response = await http.post(
        "/graphql",
        content=as_json({"query": "{ skills(first: 1) { slug } }"}),
        headers={"content-type": "Application/JSON; Charset=UTF-8"},
    )
    assert response.status_code == 200
    [skill] = response.json()["data"]["skills"]
    assert skill["slug"]
