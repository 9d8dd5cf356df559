"""Parsed documents shared by the requests and subscriptions that send the same text, and what
is known about each of them: whether it is valid, and the checks that depend on it alone."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any, TypeVar

from graphql import ASTValidationRule, DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

# Frontends send a small set of fixed documents; thousands of sockets subscribed with the same
# one then hold a single syntax tree (with its token list) instead of one each. Long texts are
# never kept, so that unique large queries cannot fill memory.
MAX_CACHED_QUERY_CHARS = 8_000
MAX_CACHED_DOCUMENTS = 256

T = TypeVar("T")

_documents: OrderedDict[tuple[str, tuple[tuple[str, Any], ...]], DocumentNode] = OrderedDict()
# id() of a document in `_documents` -> what has been worked out about it. An entry lives exactly
# as long as its document is cached, so an id is never reused while it is here.
_facts: dict[int, dict[Hashable, Any]] = {}


def remembered(document: DocumentNode, fact: Hashable, work_out: Callable[[], T]) -> T:
    """`work_out()` once per shared document; every time for a document that is not shared."""
    facts = _facts.get(id(document))
    if facts is None:
        return work_out()
    if fact not in facts:
        facts[fact] = work_out()
    return facts[fact]  # type: ignore[no-any-return]


class SharedDocuments(SchemaExtension):
    """Serves a document parsed before; Strawberry parses (and reports syntax errors) otherwise.

    Unlike Strawberry's ParserCache, parsing itself stays Strawberry's, so a syntax error is
    still reported as one, and the parse options (the token limit) are part of the key.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        key = None
        if query is not None and len(query) <= MAX_CACHED_QUERY_CHARS \
                and context.graphql_document is None:
            key = (query, tuple(sorted(context.parse_options.items())))
            document = _documents.get(key)
            if document is not None:
                _documents.move_to_end(key)
                context.graphql_document = document
                key = None
        yield
        if key is not None and context.graphql_document is not None:
            _documents[key] = context.graphql_document
            _facts[id(context.graphql_document)] = {}
            if len(_documents) > MAX_CACHED_DOCUMENTS:
                _, evicted = _documents.popitem(last=False)
                _facts.pop(id(evicted), None)


class ValidatedDocuments(SchemaExtension):
    """Validates a shared document once, with graphql-core's rules, Strawberry's and `extra_rules`.

    Validation depends on the schema, the document and the rules only, never on variables. Done
    per request it cost every subscription a few thousand short-lived objects in reference
    cycles (graphql-core's visitors), which only a full garbage collection frees: with
    thousands of sockets subscribing that was kilobytes of memory per connection. The rules
    must be made once (not per request) for the remembered result to be found again.
    """

    def __init__(self, extra_rules: tuple[type[ASTValidationRule], ...] = ()) -> None:
        self.extra_rules = extra_rules

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            rules = (*context.validation_rules, *self.extra_rules)
            errors: list[GraphQLError] = remembered(
                document, ("valid", context.schema._schema, rules),
                lambda: validate_document(context.schema._schema, document, rules))
            # Strawberry skips its own validation once this is set, [] included.
            context.pre_execution_errors = list(errors)
        yield
