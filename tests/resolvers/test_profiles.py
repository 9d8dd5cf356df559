"""Freelancer and client profiles, the skill catalog, search, and node lookups."""

import pytest

from tests.conftest import count_statements
from tests.factories import make_client, make_freelancer, make_user

CREATE_FREELANCER = """
mutation($input: FreelancerProfileInput!) {
  createFreelancerProfile(input: $input) {
    profile { id title hourlyRate availability location skills { slug name } user { email } }
    userErrors { field message code }
  }
}"""
UPDATE_FREELANCER = """
mutation($input: UpdateFreelancerProfileInput!) {
  updateFreelancerProfile(input: $input) {
    profile { title overview hourlyRate location skills { slug } }
    userErrors { field message code }
  }
}"""
ADD_PORTFOLIO = """
mutation($input: PortfolioItemInput!) {
  addPortfolioItem(input: $input) { item { id title url } userErrors { field code } }
}"""
CREATE_CLIENT = """
mutation($input: ClientProfileInput!) {
  createClientProfile(input: $input) {
    profile { id companyName description website user { displayName } }
    userErrors { field code }
  }
}"""
UPDATE_CLIENT = """
mutation($input: UpdateClientProfileInput!) {
  updateClientProfile(input: $input) { profile { companyName website } userErrors { field code } }
}"""
FREELANCERS = """
query($first: Int, $after: String, $filter: FreelancerFilter) {
  freelancers(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id title hourlyRate
      skills { slug }
      portfolio { title }
      user { displayName freelancerProfile { title } clientProfile { companyName } }
    }
  }
}"""


async def test_a_user_creates_a_freelancer_profile_with_catalog_skills(gql, db):
    ada = await make_user(email="ada@example.com")
    data = await gql.execute(
        CREATE_FREELANCER,
        {
            "input": {
                "title": "Python developer",
                "overview": "APIs and data pipelines",
                "hourlyRate": "85.5",
                "skills": ["Python", "graphql", "PostgreSQL"],
                "location": "Lisbon",
            }
        },
        token=ada.token,
    )
    payload = data["createFreelancerProfile"]
    assert payload["userErrors"] == []
    assert payload["profile"]["hourlyRate"] == "85.50"
    assert payload["profile"]["availability"] == "FULL_TIME"
    assert [s["slug"] for s in payload["profile"]["skills"]] == ["python", "graphql", "postgresql"]
    assert payload["profile"]["user"]["email"] == "ada@example.com"


async def test_unknown_skill_and_second_profile_are_user_errors(gql, db):
    ada = await make_user()
    bad = await gql.execute(
        CREATE_FREELANCER,
        {"input": {"title": "T", "overview": "O", "skills": ["python", "basket weaving"]}},
        token=ada.token,
    )
    assert bad["createFreelancerProfile"]["userErrors"][0]["field"] == ["input", "skills", "1"]
    assert bad["createFreelancerProfile"]["profile"] is None
    ok_input = {"input": {"title": "T", "overview": "O", "skills": ["python"]}}
    await gql.execute(CREATE_FREELANCER, ok_input, token=ada.token)
    again = await gql.execute(CREATE_FREELANCER, ok_input, token=ada.token)
    assert again["createFreelancerProfile"]["userErrors"][0]["code"] == "ALREADY_EXISTS"


async def test_update_changes_only_the_fields_sent_and_null_clears_optional_ones(gql, db):
    session, _ = await make_freelancer(skills=["python"], hourly_rate="40.00", location="Oslo")
    data = await gql.execute(
        UPDATE_FREELANCER,
        {"input": {"title": "Senior Python developer", "location": None, "skills": ["rust", "go"]}},
        token=session.token,
    )
    profile = data["updateFreelancerProfile"]["profile"]
    assert profile == {
        "title": "Senior Python developer",
        "overview": "I build APIs.",
        "hourlyRate": "40.00",
        "location": None,
        "skills": [{"slug": "rust"}, {"slug": "go"}],
    }
    refused = await gql.execute(UPDATE_FREELANCER, {"input": {"title": None}}, token=session.token)
    assert refused["updateFreelancerProfile"]["userErrors"][0]["field"] == ["input", "title"]


async def test_updating_a_profile_you_do_not_have_is_not_found(gql, db):
    session = await make_user()
    data = await gql.execute(UPDATE_FREELANCER, {"input": {"title": "x"}}, token=session.token)
    assert data["updateFreelancerProfile"]["userErrors"][0]["code"] == "NOT_FOUND"


async def test_portfolio_items_need_http_urls(gql, db):
    session, _ = await make_freelancer()
    ok = await gql.execute(
        ADD_PORTFOLIO,
        {
            "input": {
                "title": "Shop",
                "description": "An online shop",
                "url": "https://shop.example",
            }
        },
        token=session.token,
    )
    assert ok["addPortfolioItem"]["item"]["url"] == "https://shop.example"
    bad = await gql.execute(
        ADD_PORTFOLIO,
        {"input": {"title": "Shop", "description": "x", "url": "javascript:alert(1)"}},
        token=session.token,
    )
    assert bad["addPortfolioItem"]["userErrors"] == [
        {"field": ["input", "url"], "code": "VALIDATION"}
    ]


async def test_one_user_may_hold_both_profiles(gql, db):
    session, _ = await make_freelancer()
    created = await gql.execute(
        CREATE_CLIENT,
        {
            "input": {
                "companyName": "Acme",
                "description": "We build rockets",
                "website": "https://acme.example",
            }
        },
        token=session.token,
    )
    assert created["createClientProfile"]["userErrors"] == []
    updated = await gql.execute(UPDATE_CLIENT, {"input": {"website": None}}, token=session.token)
    assert updated["updateClientProfile"]["profile"] == {"companyName": "Acme", "website": None}
    data = await gql.execute(
        "{ viewer { user { freelancerProfile { title } clientProfile { companyName } } } }",
        token=session.token,
    )
    assert data["viewer"]["user"] == {
        "freelancerProfile": {"title": "Python developer"},
        "clientProfile": {"companyName": "Acme"},
    }


async def test_profile_mutations_need_sign_in(gql, db):
    body = await gql.execute_raw(CREATE_CLIENT, {"input": {"description": "x"}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_search_filters_by_skill_rate_text_and_availability(gql, db):
    await make_freelancer(skills=["python"], hourly_rate="30.00", title="Django expert")
    await make_freelancer(
        skills=["rust", "go"],
        hourly_rate="120.00",
        title="Systems engineer",
        availability="PART_TIME",
    )
    await make_freelancer(skills=["figma"], hourly_rate=None, title="Designer")

    async def titles(filter_: dict) -> list[str]:
        data = await gql.execute(FREELANCERS, {"first": 10, "filter": filter_})
        return sorted(node["title"] for node in data["freelancers"]["nodes"])

    assert await titles({"skills": ["go", "figma"]}) == ["Designer", "Systems engineer"]
    assert await titles({"minHourlyRate": "50"}) == ["Systems engineer"]
    assert await titles({"maxHourlyRate": "50"}) == ["Django expert"]
    assert await titles({"query": "django"}) == ["Django expert"]
    assert await titles({"query": "rust"}) == ["Systems engineer"]  # matches a skill name
    assert await titles({"availability": "PART_TIME"}) == ["Systems engineer"]
    assert await titles({"minRating": 4.0}) == []  # nobody has been reviewed yet


async def test_search_pages_through_every_profile_once(gql, db):
    for index in range(7):
        await make_freelancer(title=f"Freelancer {index}")
    seen, after = [], None
    while True:
        data = await gql.execute(FREELANCERS, {"first": 3, "after": after})
        page = data["freelancers"]
        assert page["totalCount"] == 7
        seen += [node["title"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"Freelancer {index}" for index in reversed(range(7))]


@pytest.mark.parametrize("page_sizes", [(5, 50)])
async def test_statement_count_does_not_grow_with_page_size(gql, db, page_sizes):
    for index in range(50):
        session, _ = await make_freelancer(skills=["python", "go"], title=f"F{index}")
        await gql.execute(
            ADD_PORTFOLIO, {"input": {"title": "P", "description": "D"}}, token=session.token
        )
    counts = []
    for size in page_sizes:
        with count_statements() as counter:
            data = await gql.execute(FREELANCERS, {"first": size})
        assert len(data["freelancers"]["nodes"]) == size
        counts.append(counter.count)
    print(f"statements for freelancers(first: 5/50) with skills, portfolio, user: {counts}")
    assert counts[0] == counts[1]
    # page, count, skills, portfolio, users, both profiles by user
    assert counts[0] <= 7


async def test_skills_catalog_is_searchable(gql, db):
    data = await gql.execute('{ skills(query: "script", first: 5) { name slug } }')
    assert {"name": "TypeScript", "slug": "typescript"} in data["skills"]
    assert all("script" in skill["name"].lower() for skill in data["skills"])


async def test_node_and_nodes_find_each_type_and_null_for_unknown_ids(gql, db):
    session, _profile = await make_freelancer()
    _, _client = await make_client()
    data = await gql.execute(
        """{ viewer { user { id freelancerProfile { id } } } }""", token=session.token
    )
    user_id = data["viewer"]["user"]["id"]
    profile_id = data["viewer"]["user"]["freelancerProfile"]["id"]
    found = await gql.execute(
        """
      query($ids: [ID!]!) { nodes(ids: $ids) {
        __typename id
        ... on FreelancerProfile { title }
      } }""",
        {"ids": [user_id, profile_id, "bm9wZQ", "!!!"]},
    )
    assert [n and n["__typename"] for n in found["nodes"]] == [
        "User",
        "FreelancerProfile",
        None,
        None,
    ]
    assert found["nodes"][1]["title"] == "Python developer"
