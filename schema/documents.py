"""Parsed documents shared by the requests and subscriptions that send the same text, and what
is known about each of them: whether it is valid, and the checks that depend on it alone."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema
from strawberry.schema.schema import validate_document

# Frontends send a small set of fixed documents; thousands of sockets subscribed with the same
# one then hold a single syntax tree (with its token list) instead of one each. Long texts are
# never kept, so that unique large queries cannot fill memory.
MAX_CACHED_QUERY_CHARS = 8_000
MAX_CACHED_DOCUMENTS = 256

T = TypeVar("T")

_documents: OrderedDict[Hashable, DocumentNode] = OrderedDict()
# id() of a document in `_documents` -> what has been worked out about it. An entry lives exactly
# as long as its document is cached, so an id is never reused while it is here.
_facts: dict[int, dict[Hashable, Any]] = {}


def is_shared(document: DocumentNode) -> bool:
    """Whether the document is one of the shared ones, kept while it is here."""
    return id(document) in _facts


def remembered(document: DocumentNode, fact: Hashable, work_out: Callable[[], T]) -> T:
    """`work_out()` once per shared document; every time for a document that is not shared."""
    facts = _facts.get(id(document))
    if facts is None:
        return work_out()
    if fact not in facts:
        facts[fact] = work_out()
    # A fact is always worked out by the same function, so what is stored has its type.
    return cast(T, facts[fact])


def shared_document(context: Any) -> Hashable | None:
    """Before parsing: serves a document parsed before. Strawberry parses (and reports syntax
    errors) otherwise; the key returned is then given to `keep_document` once it has.

    Unlike Strawberry's ParserCache, parsing itself stays Strawberry's, so a syntax error is
    still reported as one, and the parse options (the token limit) are part of the key.
    """
    query = context.query
    if query is None or len(query) > MAX_CACHED_QUERY_CHARS or context.graphql_document is not None:
        return None
    key = (query, tuple(sorted(context.parse_options.items())))
    document = _documents.get(key)
    if document is None:
        return key
    _documents.move_to_end(key)
    context.graphql_document = document
    return None


def keep_document(context: Any, key: Hashable) -> None:
    """After parsing: shares the document Strawberry parsed, under `shared_document`'s key."""
    if context.graphql_document is not None:
        _documents[key] = context.graphql_document
        _facts[id(context.graphql_document)] = {}
        if len(_documents) > MAX_CACHED_DOCUMENTS:
            _, evicted = _documents.popitem(last=False)
            _facts.pop(id(evicted), None)


class Verdicts:
    """One schema's validation results for the shared documents, made with the schema (its
    rules too) and dropped with it."""

    def __init__(self, extra_rules: tuple[type[ASTValidationRule], ...] = ()) -> None:
        self.extra_rules = extra_rules
        # id(document) -> (the document, the rules it was validated with, its errors). Holding
        # the document keeps its id from being reused while the entry lives.
        self._known: OrderedDict[int, tuple[DocumentNode, tuple[Any, ...], list[GraphQLError]]] = (
            OrderedDict()
        )

    def errors(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        rules = (*rules, *self.extra_rules)
        if id(document) not in _facts:  # not shared: validated every time, never kept
            return validate_document(schema, document, rules)
        known = self._known.get(id(document))
        if known is not None and known[0] is document and known[1] == rules:
            self._known.move_to_end(id(document))
            return known[2]
        errors = validate_document(schema, document, rules)
        self._known[id(document)] = (document, rules, errors)
        self._known.move_to_end(id(document))
        if len(self._known) > MAX_CACHED_DOCUMENTS:
            self._known.popitem(last=False)
        return errors


def validate(context: Any, verdicts: Verdicts) -> None:
    """Validates a shared document once, with graphql-core's rules, Strawberry's and the extra
    rules of `verdicts`.

    Validation depends on the schema, the document and the rules only, never on variables. Done
    per request it cost every subscription a few thousand short-lived objects in reference
    cycles (graphql-core's visitors), which only a full garbage collection frees: with
    thousands of sockets subscribing that was kilobytes of memory per connection.
    """
    document = context.graphql_document
    if document is not None and context.pre_execution_errors is None:
        # Strawberry skips its own validation once this is set, [] included.
        context.pre_execution_errors = list(
            verdicts.errors(context.schema._schema, document, context.validation_rules)
        )
