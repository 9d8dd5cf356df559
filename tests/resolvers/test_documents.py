"""Documents parsed once and shared: the same answers, the same refusals, bounded memory."""

from __future__ import annotations

from schema import documents
from tests.resolvers.test_bad_input import nested_query
from tests.resolvers.test_http import GRAPHQL_RESPONSE, VALID, post


async def test_a_repeated_document_answers_the_same_from_the_shared_parse(http, db):
    first = await post(http, {"query": VALID}, accept=GRAPHQL_RESPONSE)
    again = await post(http, {"query": VALID}, accept=GRAPHQL_RESPONSE)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert any(query == VALID for query, _ in documents._documents)


async def test_a_syntax_error_is_reported_every_time_and_never_kept(http):
    broken = "{ skills(first: 2) { slug }"
    for _ in range(2):
        response = await post(http, {"query": broken}, accept=GRAPHQL_RESPONSE)
        assert response.status_code == 400
        assert "Syntax Error" in response.json()["errors"][0]["message"]
    assert all(query != broken for query, _ in documents._documents)


async def test_variables_are_not_part_of_the_shared_document(http, db):
    query = "query ($n: Int) { skills(first: $n) { slug } }"
    one = await post(http, {"query": query, "variables": {"n": 1}}, accept=GRAPHQL_RESPONSE)
    two = await post(http, {"query": query, "variables": {"n": 2}}, accept=GRAPHQL_RESPONSE)
    assert len(one.json()["data"]["skills"]) == 1
    assert len(two.json()["data"]["skills"]) == 2


async def test_the_shared_documents_are_bounded_in_number_and_size(http):
    for index in range(documents.MAX_CACHED_DOCUMENTS + 20):
        await post(http, {"query": f"{{ n{index}: __typename }}"}, accept=GRAPHQL_RESPONSE)
    long_query = "{ __typename\n#%s\n}" % ("x" * documents.MAX_CACHED_QUERY_CHARS)
    response = await post(http, {"query": long_query}, accept=GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"__typename": "Query"}}
    assert len(documents._documents) <= documents.MAX_CACHED_DOCUMENTS
    assert all(query != long_query for query, _ in documents._documents)


async def test_a_repeated_refused_document_is_refused_the_same_way_every_time(http, db):
    # Validation is remembered per shared document: the second answer comes from memory.
    refused = [
        "{ skills(first: 2) { noSuchField } }",
        nested_query(13),
        "{ " + " ".join(f"a{i}: skills(first: 1) {{ slug }}" for i in range(31)) + " }",
        '{ jobs(first: 2, query: "nul \\u0000") { totalCount } }',
    ]
    for query in refused:
        first = await post(http, {"query": query}, accept=GRAPHQL_RESPONSE)
        again = await post(http, {"query": query}, accept=GRAPHQL_RESPONSE)
        assert first.status_code == again.status_code == 400, first.text
        assert again.json() == first.json()
        assert "data" not in first.json() and first.json()["errors"]
        assert any(known == query for known, _ in documents._documents)


async def test_a_valid_shared_document_is_still_held_to_the_page_cost_of_its_variables(http, db):
    query = "query ($n: Int) { freelancers(first: $n) { totalCount } }"
    fine = await post(http, {"query": query, "variables": {"n": 5}}, accept=GRAPHQL_RESPONSE)
    costly = await post(http, {"query": query, "variables": {"n": 60_000}}, accept=GRAPHQL_RESPONSE)
    assert fine.status_code == 200, fine.text
    assert costly.status_code == 400
    assert costly.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_what_one_schema_allows_is_not_remembered_for_another(monkeypatch):
    # Both schemas share the parsed document; each keeps its own verdict on it.
    import schema as schema_package
    from settings import get_settings

    deep = nested_query(5)
    lenient = schema_package.build_schema()
    strict_settings = get_settings().model_copy(update={"max_query_depth": 3})
    monkeypatch.setattr(schema_package, "get_settings", lambda: strict_settings)
    strict = schema_package.build_schema()
    for schema, refused in ((lenient, False), (strict, True), (lenient, False), (strict, True)):
        result = await schema.execute(deep)
        messages = [error.message for error in result.errors or []]
        assert any("exceeds maximum operation depth of 3" in m for m in messages) is refused
