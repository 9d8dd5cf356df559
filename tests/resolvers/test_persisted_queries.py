"""Automatic persisted queries (Apollo's protocol) over POST and GET, and which answers HTTP
caches may keep."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import orjson

from tests.factories import make_client
from tests.resolvers.marketplace_support import make_job

OPEN_JOBS = "query OpenJobs { jobs(first: 5) { edges { node { title client { companyName } } } } }"
LOG_OUT = "mutation LogOut { logOut { ok } }"
JSON = {"accept": "application/json"}
GRAPHQL_RESPONSE = {"accept": "application/graphql-response+json"}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(text)}}


async def post(
    http: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    return await http.post("/graphql", json=body, headers=headers or JSON)


async def get(
    http: httpx.AsyncClient, params: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    encoded = {k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in params.items()}
    return await http.get("/graphql", params=encoded, headers=headers or JSON)


async def a_job_on_the_board() -> None:
    client, _ = await make_client(company_name="Persisted Co")
    await make_job(client, title="Cache me")


def assert_not_found(response: httpx.Response) -> None:
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["message"] == "PersistedQueryNotFound"
    assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert response.headers["cache-control"] == "no-store"


# ---------------------------------------------------------------- the protocol


async def test_an_unknown_hash_asks_for_the_text(http, db):
    # when
    by_post = await post(http, {"extensions": persisted(OPEN_JOBS)})
    by_get = await get(http, {"extensions": persisted(OPEN_JOBS)})
    # then: both ways, Apollo's error (200, so that the client retries with the text)
    assert_not_found(by_post)
    assert_not_found(by_get)
    # and so do clients that accept anything (GraphiQL is for GETs without a query or a hash)
    assert_not_found(await get(http, {"extensions": persisted(OPEN_JOBS)}, {"accept": "*/*"}))


async def test_hash_and_text_register_the_text_and_the_hash_alone_then_runs_it(http, db):
    # given
    await a_job_on_the_board()
    # when: the client retries with the text
    registered = await post(http, {"query": OPEN_JOBS, "extensions": persisted(OPEN_JOBS)})
    # then: it ran, and from now on the hash stands for it, over POST and over GET
    expected = {
        "jobs": {
            "edges": [{"node": {"title": "Cache me", "client": {"companyName": "Persisted Co"}}}]
        }
    }
    assert registered.json() == {"data": expected}
    by_post = await post(http, {"extensions": persisted(OPEN_JOBS)})
    by_get = await get(http, {"extensions": persisted(OPEN_JOBS)})
    assert by_post.json() == {"data": expected}
    assert by_get.status_code == 200
    assert by_get.json() == {"data": expected}


async def test_a_text_registered_over_get_runs_by_hash_over_post(http, db):
    # when
    await get(http, {"query": OPEN_JOBS, "extensions": persisted(OPEN_JOBS)})
    response = await post(http, {"extensions": persisted(OPEN_JOBS)})
    # then
    assert response.json() == {"data": {"jobs": {"edges": []}}}


async def test_a_hash_that_is_not_the_texts_is_refused_and_registers_nothing(http, db):
    # given: the hash of another document
    wrong = persisted("{ skills { slug } }")
    # when
    legacy = await post(http, {"query": OPEN_JOBS, "extensions": wrong})
    modern = await post(http, {"query": OPEN_JOBS, "extensions": wrong}, GRAPHQL_RESPONSE)
    # then: nothing ran; 200 for application/json clients, 400 for graphql-response+json ones
    for response in (legacy, modern):
        body = response.json()
        assert "data" not in body
        assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    assert (legacy.status_code, modern.status_code) == (200, 400)
    # and the hash still stands for nothing
    assert_not_found(await post(http, {"extensions": wrong}))


async def test_a_malformed_persisted_query_extension_is_refused_with_a_code(http, db):
    for extension in (
        {"version": 2, "sha256Hash": sha256(OPEN_JOBS)},
        {"version": 1, "sha256Hash": "not-a-hash"},
        {"version": 1},
        "yes",
    ):
        response = await post(http, {"extensions": {"persistedQuery": extension}})
        assert response.status_code == 200
        assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_INVALID"


async def test_a_persisted_mutation_is_refused_over_get(http, db):
    # given: a mutation registered over POST (it runs there: no token, so it is refused)
    await post(http, {"query": LOG_OUT, "extensions": persisted(LOG_OUT)})
    # when: sent by hash, or by hash and text, over GET
    by_hash = await get(http, {"extensions": persisted(LOG_OUT)})
    with_text = await get(http, {"query": LOG_OUT, "extensions": persisted(LOG_OUT)})
    # then: 405, as a mutation over GET always is
    for response in (by_hash, with_text):
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert response.headers["cache-control"] == "no-store"


# ---------------------------------------------------------------- HTTP caching


async def test_an_anonymous_get_of_public_data_may_be_kept_by_http_caches(http, db):
    # given
    await a_job_on_the_board()
    await post(http, {"query": OPEN_JOBS, "extensions": persisted(OPEN_JOBS)})
    # when
    by_hash = await get(http, {"extensions": persisted(OPEN_JOBS)})
    by_text = await get(http, {"query": OPEN_JOBS})
    # then
    for response in (by_hash, by_text):
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=60"
        assert response.headers["vary"] == "Accept, Authorization"


VIEWER_DOCUMENTS = [
    "{ viewer { user { displayName } } }",
    "query Mine { jobs(first: 5) { edges { node { title myProposal { status } } } } }",
    "{ jobs(first: 5) { nodes { ...Mine } } } fragment Mine on Job { myProposal { status } }",
    "{ jobs(first: 5) { nodes { client { user { email } } } } }",
    '{ node(id: "x") { ... on Contract { allowedActions canReview myReview { overall } } } }',
    OPEN_JOBS,  # public data, but asked with a token below: about whoever sent it
]


async def test_no_answer_about_the_viewer_is_ever_marked_cacheable(http, db):
    # given: a signed-in client with a job on the board
    client, _ = await make_client()
    await make_job(client, title="Mine")
    signed_in = {**JSON, "authorization": f"Bearer {client.token}"}
    responses = []
    for document in VIEWER_DOCUMENTS:
        for headers in (JSON, signed_in):
            if document == OPEN_JOBS and headers is JSON:
                continue  # the one cacheable case, tested above
            # when: asked every way
            responses.append(await get(http, {"query": document}, headers))
            responses.append(await post(http, {"query": document}, headers))
            await post(http, {"query": document, "extensions": persisted(document)}, headers)
            responses.append(await get(http, {"extensions": persisted(document)}, headers))
    # then: none may be stored by any cache
    assert responses
    for response in responses:
        assert response.headers["cache-control"] == "no-store", response.request.url


async def test_errors_and_posts_are_never_cacheable(http, db):
    # when
    failing = await get(http, {"query": "{ jobs(first: 500) { nodes { title } } }"})
    invalid = await get(http, {"query": "{ nope }"})
    posted = await post(http, {"query": OPEN_JOBS})
    # then
    assert failing.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    for response in (failing, invalid, posted):
        assert response.headers["cache-control"] == "no-store"
