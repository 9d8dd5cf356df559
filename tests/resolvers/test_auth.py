"""Signing up, in and out through the API."""

from tests.factories import PASSWORD, make_user

SIGN_UP = """
mutation($input: SignUpInput!) {
  signUp(input: $input) { token user { id displayName email } userErrors { field message code } }
}"""
LOG_IN = """
mutation($input: LogInInput!) {
  logIn(input: $input) { token user { email } userErrors { field message code } }
}"""
LOG_OUT = "mutation { logOut { ok userErrors { code } } }"
VIEWER = "{ viewer { user { id email displayName } } }"


async def test_sign_up_returns_a_token_that_signs_the_viewer_in(gql, db):
    # when
    data = await gql.execute(
        SIGN_UP, {"input": {"email": "ada@example.com", "password": PASSWORD, "displayName": "Ada"}}
    )
    # then
    payload = data["signUp"]
    assert payload["userErrors"] == []
    assert payload["user"]["email"] == "ada@example.com"
    viewer = await gql.execute(VIEWER, token=payload["token"])
    assert viewer["viewer"]["user"] == payload["user"]


async def test_sign_up_twice_with_one_email_is_already_exists(gql, db):
    await make_user(email="ada@example.com")
    data = await gql.execute(
        SIGN_UP, {"input": {"email": "ADA@example.com", "password": PASSWORD, "displayName": "Ada"}}
    )
    assert data["signUp"]["token"] is None
    assert data["signUp"]["userErrors"] == [
        {
            "field": ["input", "email"],
            "code": "ALREADY_EXISTS",
            "message": "An account with this email already exists",
        }
    ]


async def test_log_in_and_log_out(gql, db):
    await make_user(email="ada@example.com")
    # when
    data = await gql.execute(LOG_IN, {"input": {"email": "ada@example.com", "password": PASSWORD}})
    token = data["logIn"]["token"]
    # then
    assert data["logIn"]["user"]["email"] == "ada@example.com"
    assert (await gql.execute(VIEWER, token=token))["viewer"] is not None
    assert (await gql.execute(LOG_OUT, token=token))["logOut"]["ok"] is True
    assert (await gql.execute(VIEWER, token=token))["viewer"] is None


async def test_wrong_password_is_a_user_error_without_a_token(gql, db):
    await make_user(email="ada@example.com")
    data = await gql.execute(
        LOG_IN, {"input": {"email": "ada@example.com", "password": "not-the-password"}}
    )
    assert data["logIn"]["token"] is None
    assert [e["code"] for e in data["logIn"]["userErrors"]] == ["VALIDATION"]


async def test_anonymous_viewer_is_null_and_log_out_is_unauthenticated(gql, db):
    assert (await gql.execute(VIEWER))["viewer"] is None
    body = await gql.execute_raw(LOG_OUT)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_email_is_visible_to_its_owner_only(gql, db):
    ada = await make_user(email="ada@example.com")
    grace = await make_user(email="grace@example.com")
    query = "query($id: ID!) { node(id: $id) { ... on User { email displayName } } }"
    ada_id = (await gql.execute(VIEWER, token=ada.token))["viewer"]["user"]["id"]
    assert (await gql.execute(query, {"id": ada_id}, token=ada.token))["node"][
        "email"
    ] == "ada@example.com"
    assert (await gql.execute(query, {"id": ada_id}, token=grace.token))["node"]["email"] is None
    assert (await gql.execute(query, {"id": ada_id}))["node"]["email"] is None
