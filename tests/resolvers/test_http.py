"""GraphQL over HTTP as a client sees it: media types, status codes, methods, request ids,
masking of crashes, and the UNAUTHENTICATED convention."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from models.profiles.orm import ClientProfile
from models.users.orm import User
from schema import node_registry as nodes
from schema.requestlog import RequestIdFilter
from tests.asgi_websocket import ASGIWebSocket
from tests.factories import PASSWORD, make_user

GRAPHQL_RESPONSE = "application/graphql-response+json"
LEGACY = "application/json"
VALID = "{ skills(first: 2) { slug } }"

# Request errors: the document or its variables are refused before anything runs.
REQUEST_ERRORS = [
    pytest.param({"query": "{ skills(first: 2) { slug }"}, "Syntax Error", id="unparsable"),
    pytest.param({"query": "{ skills(first: 2) { slug nope } }"}, "nope", id="unknown-field"),
    pytest.param(
        {
            "query": "query($first: Int) { freelancers(first: $first) { totalCount } }",
            "variables": {"first": "abc"},
        },
        "$first",
        id="variable-does-not-coerce",
    ),
]

CREATE_CLIENT_PROFILE = """
mutation { createClientProfile(input: {description: "We hire."}) {
  profile { id } userErrors { code } } }
"""


async def post(
    http: httpx.AsyncClient,
    body: dict[str, Any],
    *,
    accept: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    all_headers = dict(headers or {})
    if accept is not None:
        all_headers["accept"] = accept
    return await http.post("/graphql", json=body, headers=all_headers)


async def post_without_accept(http: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    request = http.build_request("POST", "/graphql", json=body)
    del request.headers["accept"]  # httpx sends `Accept: */*` unless told otherwise
    return await http.send(request)


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


# ---------------------------------------------------------------- application/graphql-response+json


async def test_valid_query_answers_in_the_graphql_response_media_type(http):
    # when
    response = await post(http, {"query": VALID}, accept=GRAPHQL_RESPONSE)
    # then
    assert response.status_code == 200
    assert media_type(response) == GRAPHQL_RESPONSE
    body = response.json()
    assert "errors" not in body
    assert len(body["data"]["skills"]) == 2


@pytest.mark.parametrize(("body", "mentioned"), REQUEST_ERRORS)
async def test_request_errors_are_400_without_data_in_the_graphql_response_media_type(
    http, body, mentioned
):
    # when
    response = await post(http, body, accept=GRAPHQL_RESPONSE)
    # then
    assert response.status_code == 400
    assert media_type(response) == GRAPHQL_RESPONSE
    payload = response.json()
    assert "data" not in payload
    assert len(payload["errors"]) >= 1
    assert mentioned in payload["errors"][0]["message"]


# ---------------------------------------------------------------- application/json (legacy)


async def test_valid_query_answers_in_json_for_legacy_clients(http):
    # when
    response = await post(http, {"query": VALID}, accept=LEGACY)
    # then
    assert response.status_code == 200
    assert media_type(response) == LEGACY
    assert len(response.json()["data"]["skills"]) == 2


@pytest.mark.parametrize(("body", "mentioned"), REQUEST_ERRORS)
async def test_request_errors_are_200_without_data_for_legacy_clients(http, body, mentioned):
    # when
    response = await post(http, body, accept=LEGACY)
    # then
    assert response.status_code == 200
    assert media_type(response) == LEGACY
    payload = response.json()
    assert "data" not in payload
    assert mentioned in payload["errors"][0]["message"]


async def test_no_accept_header_means_json(http):
    # when
    valid = await post_without_accept(http, {"query": VALID})
    invalid = await post_without_accept(http, {"query": "{ nope }"})
    # then
    assert (valid.status_code, media_type(valid)) == (200, LEGACY)
    assert "skills" in valid.json()["data"]
    assert (invalid.status_code, media_type(invalid)) == (200, LEGACY)
    assert "data" not in invalid.json()


async def test_accept_anything_means_json(http):
    # when
    response = await post(http, {"query": VALID}, accept="*/*")
    # then
    assert (response.status_code, media_type(response)) == (200, LEGACY)


async def test_the_client_preference_decides_between_both_media_types(http):
    # when
    prefers_json = await post(
        http, {"query": "{ nope }"}, accept=f"{GRAPHQL_RESPONSE};q=0.5, {LEGACY}"
    )
    prefers_graphql = await post(
        http, {"query": "{ nope }"}, accept=f"{LEGACY};q=0.4, {GRAPHQL_RESPONSE}"
    )
    # then
    assert (prefers_json.status_code, media_type(prefers_json)) == (200, LEGACY)
    assert (prefers_graphql.status_code, media_type(prefers_graphql)) == (400, GRAPHQL_RESPONSE)


@pytest.mark.parametrize("accept", ["text/csv", "application/xml", f"{LEGACY};q=0"])
async def test_a_media_type_we_cannot_produce_is_406(http, accept):
    # when
    by_post = await post(http, {"query": VALID}, accept=accept)
    by_get = await http.get("/graphql", params={"query": VALID}, headers={"accept": accept})
    # then
    assert by_post.status_code == 406
    assert by_get.status_code == 406
    assert GRAPHQL_RESPONSE in by_post.text


# ---------------------------------------------------------------- methods


async def test_a_query_can_be_sent_with_get(http):
    # when
    response = await http.get(
        "/graphql",
        params={"query": "query($n: Int) { skills(first: $n) { slug } }", "variables": '{"n": 3}'},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    # then
    assert response.status_code == 200
    assert media_type(response) == GRAPHQL_RESPONSE
    assert len(response.json()["data"]["skills"]) == 3


async def test_a_mutation_sent_with_get_is_405_and_does_nothing(http, gql, db):
    # given
    sign_up = (
        'mutation { signUp(input: {email: "get@example.com", password: "%s", '
        'displayName: "Via Get"}) { token } }' % PASSWORD
    )
    # when
    response = await http.get(
        "/graphql", params={"query": sign_up}, headers={"accept": GRAPHQL_RESPONSE}
    )
    # then
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert not await User.filter(email="get@example.com").exists()
    # and the same mutation over POST works
    data = await gql.execute(sign_up)
    assert data["signUp"]["token"]


async def test_a_mutation_chosen_by_operation_name_over_get_is_405(http):
    # given
    document = "query Read { __typename } mutation Write { logOut { ok } }"
    # when
    read = await http.get("/graphql", params={"query": document, "operationName": "Read"})
    write = await http.get("/graphql", params={"query": document, "operationName": "Write"})
    # then
    assert read.status_code == 200
    assert read.json()["data"] == {"__typename": "Query"}
    assert write.status_code == 405
    assert write.headers["allow"] == "POST"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        pytest.param(b"query={ skills { slug } }", "application/x-www-form-urlencoded", id="form"),
        pytest.param(b"{ skills { slug } }", "application/graphql", id="graphql"),
        pytest.param(b"{ skills { slug } }", "text/plain", id="text"),
        pytest.param(b'{"query": "{ skills { slug } }"}', None, id="none"),
    ],
)
async def test_an_unsupported_content_type_is_a_client_error(http, gql, content, content_type):
    # given
    headers = {"content-type": content_type} if content_type else {}
    # when
    response = await http.post("/graphql", content=content, headers=headers)
    # then
    assert 400 <= response.status_code < 500
    assert "content type" in response.text.lower()
    assert (await gql.execute(VALID))["skills"]


MULTIPART = (
    b'--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
    b'{"query": "{ skills { slug } }"}\r\n--b--\r\n'
)


async def test_multipart_requests_must_force_a_cors_preflight(http):
    # A browser form may post multipart/form-data to another site unasked; it cannot add a header.
    # when
    refused = await http.post(
        "/graphql", content=MULTIPART, headers={"content-type": "multipart/form-data; boundary=b"}
    )
    accepted = await http.post(
        "/graphql",
        content=MULTIPART,
        headers={
            "content-type": "multipart/form-data; boundary=b",
            "apollo-require-preflight": "true",
        },
    )
    # then
    assert refused.status_code == 400
    assert "Apollo-Require-Preflight" in refused.text
    assert accepted.status_code == 200
    assert accepted.json()["data"]["skills"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            {"query": "query A { __typename }", "operationName": "Missing"},
            'Unknown operation named "Missing".',
            id="unknown-operation-name",
        ),
        pytest.param({"variables": {}}, "No GraphQL query found in the request", id="no-query"),
    ],
)
@pytest.mark.parametrize("accept", [LEGACY, GRAPHQL_RESPONSE])
async def test_a_request_without_an_operation_to_run_is_a_graphql_error(
    http, gql, body, message, accept
):
    # when
    response = await post(http, body, accept=accept)
    # then
    assert response.status_code == 400
    assert media_type(response) == accept
    [error] = response.json()["errors"]
    assert error["message"].startswith(message)
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert "data" not in response.json()
    assert (await gql.execute(VALID))["skills"]


SUBSCRIPTION = "subscription { notificationAdded { id } }"


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
async def test_a_subscription_over_http_is_refused_not_run(
    http, gql, db, error_log, method, signed_in
):
    # given
    headers = {"accept": GRAPHQL_RESPONSE}
    if signed_in:
        headers["authorization"] = f"Bearer {(await make_user()).token}"
    # when
    if method == "GET":
        response = await http.get("/graphql", params={"query": SUBSCRIPTION}, headers=headers)
    else:
        response = await post(http, {"query": SUBSCRIPTION}, headers=headers)
    # then
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert "websocket" in error["message"]
    assert not error_log.records


# ---------------------------------------------------------------- request ids


async def test_every_response_carries_a_request_id(http):
    # when
    responses = [
        await post(http, {"query": VALID}, accept=GRAPHQL_RESPONSE),  # 200
        await post(http, {"query": "{ nope }"}, accept=GRAPHQL_RESPONSE),  # 400
        await http.get("/graphql", params={"query": "mutation { logOut { ok } }"}),  # 405
        await post(http, {"query": VALID}, accept="text/csv"),  # 406
        await http.post(
            "/graphql",
            content=b"x" * (2 * 1024 * 1024),
            headers={"content-type": "application/json"},
        ),  # 413
    ]
    # then
    assert [r.status_code for r in responses] == [200, 400, 405, 406, 413]
    ids = [r.headers.get("x-request-id") for r in responses]
    assert all(ids)
    assert len(set(ids)) == len(ids)


async def test_a_client_supplied_request_id_is_echoed(http):
    # when
    response = await post(http, {"query": VALID}, headers={"X-Request-ID": "checkout-7f3a-42"})
    # then
    assert response.headers["x-request-id"] == "checkout-7f3a-42"


@pytest.mark.parametrize("given", ["has spaces in it", "a" * 65, "new\u00e9line"])
async def test_an_unusable_client_request_id_is_replaced(http, given):
    # when
    response = await http.post(
        "/graphql", json={"query": VALID}, headers={"X-Request-ID": given.encode("latin-1")}
    )
    # then
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    assert request_id and request_id != given
    assert request_id.isalnum()


# ---------------------------------------------------------------- unexpected errors


@pytest.fixture
def error_log(caplog):
    # Production attaches RequestIdFilter to the log handler (configure_logging); so does this.
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.ERROR, logger="marketplace.errors")
    return caplog


def assert_masked(response: httpx.Response, error_log: Any, path: list[str]) -> None:
    request_id = response.headers["x-request-id"]
    assert response.status_code == 200
    errors = response.json()["errors"]
    assert errors == [
        {
            "message": "Internal server error",
            "locations": errors[0]["locations"],
            "path": path,
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        }
    ]
    for leak in ("secret detail", "RuntimeError", "Traceback", ".py"):
        assert leak not in response.text
    logged = [r for r in error_log.records if r.levelno >= logging.ERROR]
    assert len(logged) == 1
    assert logged[0].request_id == request_id
    assert logged[0].exc_info is not None
    assert str(logged[0].exc_info[1]) == "secret detail"


async def test_a_crash_in_a_query_is_masked_logged_and_spares_the_rest(
    http, gql, monkeypatch, error_log
):
    # given
    skill_id = (await gql.execute("{ skills(first: 1) { id } }"))["skills"][0]["id"]

    async def crash(info: Any, pk: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setitem(nodes.NODE_LOADERS, "Skill", crash)
    # when
    response = await post(
        http,
        {
            "query": "query($id: ID!) { node(id: $id) { id } skills(first: 1) { slug } }",
            "variables": {"id": skill_id},
        },
        accept=GRAPHQL_RESPONSE,
        headers={"X-Request-ID": "support-ticket-42"},
    )
    # then
    assert response.headers["x-request-id"] == "support-ticket-42"
    assert_masked(response, error_log, ["node"])
    data = response.json()["data"]
    assert data["node"] is None
    assert len(data["skills"]) == 1


async def test_a_crash_in_a_mutation_is_masked_and_logged(http, gql, monkeypatch, error_log):
    # given
    from models.users import actions

    async def crash(**kwargs: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(actions, "sign_up", crash)
    # when
    response = await post(
        http,
        {
            "query": 'mutation { signUp(input: {email: "c@example.com", '
            f'password: "{PASSWORD}", displayName: "C"}}) '
            "{ token } }"
        },
        accept=LEGACY,
    )
    # then
    assert_masked(response, error_log, ["signUp"])
    assert response.json()["data"] is None


async def test_the_server_answers_normally_after_a_crash(http, gql, monkeypatch, error_log):
    # given
    skill_id = (await gql.execute("{ skills(first: 1) { id } }"))["skills"][0]["id"]

    async def crash(info: Any, pk: Any) -> Any:
        raise RuntimeError("secret detail")

    with monkeypatch.context() as patch:
        patch.setitem(nodes.NODE_LOADERS, "Skill", crash)
        await gql.post("query($id: ID!) { node(id: $id) { id } }", {"id": skill_id})
    # when
    data = await gql.execute("query($id: ID!) { node(id: $id) { id } }", {"id": skill_id})
    # then
    assert data["node"] == {"id": skill_id}


# ---------------------------------------------------------------- UNAUTHENTICATED


def assert_unauthenticated(body: dict[str, Any]) -> None:
    assert body["data"] is None
    [error] = body["errors"]
    assert error["path"] == ["createClientProfile"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_mutation_needing_sign_in_without_a_token_is_unauthenticated(gql, db):
    # when
    body = await gql.execute_raw(CREATE_CLIENT_PROFILE)
    # then
    assert_unauthenticated(body)
    assert await ClientProfile.all().count() == 0


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not-a-token-we-issued",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "a" * 600,
    ],
)
async def test_a_mutation_needing_sign_in_with_an_invalid_token_is_unauthenticated(
    http, db, authorization
):
    # when
    response = await post(
        http,
        {"query": CREATE_CLIENT_PROFILE},
        accept=GRAPHQL_RESPONSE,
        headers={"authorization": authorization},
    )
    # then
    assert response.status_code == 200
    assert_unauthenticated(response.json())
    assert await ClientProfile.all().count() == 0


async def test_a_logged_out_token_is_unauthenticated(gql, db):
    # given
    session = await make_user()
    assert (await gql.execute("mutation { logOut { ok } }", token=session.token))["logOut"]["ok"]
    # when
    body = await gql.execute_raw(CREATE_CLIENT_PROFILE, token=session.token)
    # then
    assert_unauthenticated(body)
    assert await ClientProfile.all().count() == 0


# ---------------------------------------------------------------- answers that cannot be encoded


def unencodable_skill(info: Any, pk: Any) -> Any:
    """A bug's answer: text with a lone surrogate, which no JSON encoder may write."""
    from schema.profiles import Skill

    async def load() -> Any:
        return Skill(id="U2tpbGw6eA", name="Broken", slug="\ud800")

    return load()


DEEP_PROPOSALS = "{ viewer { " + "proposals { nodes { job { " * 16 + "id" + " } } }" * 16 + " } }"


@pytest.mark.parametrize("accept", [LEGACY, GRAPHQL_RESPONSE])
async def test_an_answer_the_encoder_refuses_is_a_masked_error_not_a_500(
    http, gql, monkeypatch, error_log, accept
):
    # given
    skill_id = (await gql.execute("{ skills(first: 1) { id } }"))["skills"][0]["id"]
    monkeypatch.setitem(nodes.NODE_LOADERS, "Skill", unencodable_skill)
    # when
    response = await post(
        http,
        {
            "query": "query($id: ID!) { node(id: $id) { ... on Skill { slug } } }",
            "variables": {"id": skill_id},
        },
        accept=accept,
    )
    # then
    request_id = response.headers["x-request-id"]
    assert response.status_code == 200
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "Internal server error",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            }
        ],
    }
    [logged] = [r for r in error_log.records if r.levelno >= logging.ERROR]
    assert logged.request_id == request_id
    assert "surrogates" in str(logged.exc_info[1])
    monkeypatch.undo()
    assert (await gql.execute("{ skills(first: 1) { id } }"))["skills"][0]["id"] == skill_id


async def test_an_answer_the_encoder_refuses_is_a_masked_error_on_a_websocket(
    app, gql, monkeypatch, error_log
):
    # given
    skill_id = (await gql.execute("{ skills(first: 1) { id } }"))["skills"][0]["id"]
    monkeypatch.setitem(nodes.NODE_LOADERS, "Skill", unencodable_skill)
    async with ASGIWebSocket(app) as socket:
        await socket.initialise()
        # when
        await socket.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {
                    "query": "query($id: ID!) { node(id: $id) { ... on Skill { slug } } }",
                    "variables": {"id": skill_id},
                },
            }
        )
        answer = await socket.receive_json()
        completed = await socket.receive_json()
        # then: the operation ends with the masked error, and the socket goes on serving
        await socket.send_json(
            {"id": "2", "type": "subscribe", "payload": {"query": "{ __typename }"}}
        )
        after = await socket.receive_json()
    assert answer["type"] == "next" and answer["id"] == "1"
    [error] = answer["payload"]["errors"]
    assert answer["payload"]["data"] is None
    assert error["message"] == "Internal server error"
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert completed == {"id": "1", "type": "complete"}
    assert after == {"id": "2", "type": "next", "payload": {"data": {"__typename": "Query"}}}


async def test_a_query_too_costly_to_count_is_refused_on_a_websocket(app):
    # given
    async with ASGIWebSocket(app) as socket:
        await socket.initialise()
        # when
        await socket.send_json(
            {"id": "deep", "type": "subscribe", "payload": {"query": DEEP_PROPOSALS}}
        )
        refused = await socket.receive_json()
        await socket.send_json(
            {"id": "2", "type": "subscribe", "payload": {"query": "{ __typename }"}}
        )
        after = await socket.receive_json()
    # then
    assert refused["type"] == "error" and refused["id"] == "deep"
    [error] = refused["payload"]
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": 2**31 - 1, "limit": 50_000}
    assert after["payload"] == {"data": {"__typename": "Query"}}
