"""sendMessage through the schema: what one chat line costs the database."""

from __future__ import annotations

from models.actors import actor_for
from models.interviews import actions as interviews
from schema.core import encode_global_id
from tests.conftest import Database, GraphQLClient, count_statements
from tests.factories import make_client, make_freelancer
from tests.resolvers.marketplace_support import make_job, make_proposal

SEND_MESSAGE = """
mutation ($input: SendMessageInput!) {
  sendMessage(input: $input) { message { id body cursor } userErrors { field message code } }
}"""


async def test_a_message_costs_the_token_lookup_and_at_most_four_statements(
    gql: GraphQLClient, db: Database
) -> None:
    # given an interview, and the freelancer's MESSAGE_RECEIVED for it already waiting
    client, _ = await make_client()
    freelancer, _ = await make_freelancer()
    proposal = await make_proposal(freelancer, await make_job(client))
    interview, _ = await interviews.start_interview(
        await actor_for(client.user), proposal.id, "Hello"
    )
    variables = {
        "input": {"interviewId": str(encode_global_id("Interview", interview.id)), "body": "Hi"}
    }
    await gql.execute(SEND_MESSAGE, variables, token=client.token)
    # when the client writes again
    with count_statements() as counter:
        data = await gql.execute(SEND_MESSAGE, variables, token=client.token)
    # then the message is stored, with one statement for the token and, for the message, one
    # on PostgreSQL and four in a transaction on SQLite
    assert data["sendMessage"]["message"]["body"] == "Hi"
    assert data["sendMessage"]["userErrors"] == []
    assert counter.count == 1 + (1 if db.backend == "postgres" else 4), "\n".join(
        counter.statements
    )
