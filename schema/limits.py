"""Guards that run before execution: query cost, and masking of unexpected errors after it
(run by schema/guards.py)."""

from __future__ import annotations

import logging
from typing import Any

from graphql import (
    BREAK,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    Visitor,
    get_named_type,
    visit,
)

from schema.documents import remembered
from schema.requestlog import request_id_var
from settings import get_settings

logger = logging.getLogger("marketplace.errors")


def limit_cost(context: Any) -> None:
    """GitHub-style: each connection multiplies the nodes its parents may return.

    Runs before validation: a document too costly to run is refused before any resolver starts.
    """
    document = context.graphql_document
    if document is None or context.pre_execution_errors is not None:
        return
    refusal = remembered(document, "fragments", lambda: _fragment_expansion_error(document))
    if refusal is None:
        limit = get_settings().max_query_nodes
        ceiling = max(COST_CEILING, limit + 1)

        def cost() -> int:
            return _document_cost(
                context.schema._schema,
                document,
                context.operation_name,
                context.variables or {},
                ceiling,
            )

        # Only the variables given to `first:`/`last:` change the cost: without any, a shared
        # document's cost is worked out once per operation and limits.
        if remembered(document, "page-size variables", lambda: _page_size_variables(document)):
            cost_found = cost()
        else:
            cost_found = remembered(document, ("cost", context.operation_name, ceiling), cost)
        if cost_found > limit:
            could_return = (
                f"{cost_found} nodes or more" if cost_found >= ceiling else f"{cost_found} nodes"
            )
            refusal = GraphQLError(
                f"This query could return {could_return}; the limit is {limit}. "
                "Ask for smaller pages.",
                extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost_found, "limit": limit},
            )
    if refusal is not None:
        context.pre_execution_errors = [refusal]


class _PageSizeVariables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_argument(self, node: Any, *_: Any) -> Any:
        if node.name.value in ("first", "last") and isinstance(node.value, VariableNode):
            self.found = True
            return BREAK
        return None


def _page_size_variables(document: Any) -> bool:
    """Whether any `first:` or `last:` of the document is given by a variable."""
    finder = _PageSizeVariables()
    visit(document, finder)
    return finder.found


# The cost is counted exactly up to here and reported as this beyond: a product of page sizes
# over a few dozen levels (or one huge `first:`) passes any 64-bit integer, which the JSON
# encoder refuses, and no client needs more than "over two billion" to see it must shrink pages.
# GraphQL's own Int stops here too.
COST_CEILING = 2**31 - 1


# Fragments are expanded where they are spread, so a small document can stand for a huge one
# (ten fragments each spreading the previous one ten times: 10^10 fields). Execution merges the
# repeats, but the cost walk below and Strawberry's depth and alias limiters walk every
# expansion, and recurse once per level. This check runs first, in time linear in the document.
MAX_EXPANDED_SELECTIONS = 10_000
MAX_SELECTION_NESTING = 64


class _Refused(Exception):
    def __init__(self, error: GraphQLError) -> None:
        self.error = error


def _fragment_expansion_error(document: Any) -> GraphQLError | None:
    """Why the document's fragments cannot be expanded safely, or None when they can.

    Also refuses spreads of unknown fragments and fragment cycles, which validation would refuse
    anyway, because Strawberry's depth limiter runs first and does not expect them.
    """
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    # Per fragment: (selections once expanded, nesting); None while being measured.
    measured: dict[str, tuple[int, int] | None] = {}

    def too_complex(message: str) -> _Refused:
        return _Refused(GraphQLError(message, extensions={"code": "QUERY_TOO_COMPLEX"}))

    def measure(selection_set: SelectionSetNode, level: int) -> tuple[int, int]:
        if level > MAX_SELECTION_NESTING:
            raise too_complex(
                f"Selections and fragments are nested more than "
                f"{MAX_SELECTION_NESTING} levels deep."
            )
        count, nesting = 0, 0
        for selection in selection_set.selections:
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in fragments:
                    raise _Refused(GraphQLError(f"Unknown fragment '{name}'.", selection))
                if name not in measured:
                    measured[name] = None
                    measured[name] = measure(fragments[name].selection_set, level + 1)
                found = measured[name]
                if found is None:
                    raise _Refused(
                        GraphQLError(f"Cannot spread fragment '{name}' within itself.", selection)
                    )
                size, depth = found
            elif isinstance(selection, FieldNode | InlineFragmentNode) and (
                selection.selection_set is not None
            ):
                size, depth = measure(selection.selection_set, level + 1)
            else:
                size, depth = 0, 0
            count += 1 + size
            nesting = max(nesting, 1 + depth)
            if count > MAX_EXPANDED_SELECTIONS:
                raise too_complex(
                    f"This query expands to more than {MAX_EXPANDED_SELECTIONS} "
                    "fields once its fragments are spread; spread fewer."
                )
            if nesting > MAX_SELECTION_NESTING:
                raise too_complex(
                    f"Selections and fragments are nested more than "
                    f"{MAX_SELECTION_NESTING} levels deep."
                )
        return count, nesting

    try:
        total = 0
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                total += measure(definition.selection_set, 1)[0]
                if total > MAX_EXPANDED_SELECTIONS:
                    raise too_complex(
                        f"This query expands to more than {MAX_EXPANDED_SELECTIONS}"
                        " fields once its fragments are spread; spread fewer."
                    )
    except _Refused as refused:
        return refused.error
    return None


def _document_cost(
    schema: Any,
    document: Any,
    operation_name: str | None,
    variables: dict[str, Any],
    ceiling: int,
) -> int:
    """The nodes the operation could return, counted up to `ceiling` (saturating there)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    total = 0
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name and (definition.name is None or definition.name.value != operation_name):
            continue
        root = schema.get_root_type(definition.operation)
        if root is not None:
            total = max(
                total,
                _selection_cost(
                    _Walk(schema, fragments, variables, ceiling),
                    definition.selection_set,
                    root,
                    1,
                    frozenset(),
                ),
            )
    return total


class _Walk:
    """What the cost walk needs at every level, and its saturating arithmetic."""

    def __init__(
        self,
        schema: Any,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        ceiling: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.ceiling = ceiling

    def add(self, a: int, b: int) -> int:
        return min(a + b, self.ceiling)

    def times(self, a: int, b: int) -> int:
        return min(a * b, self.ceiling)

    def page_size(self, field: FieldNode) -> int:
        for argument in field.arguments or ():
            if argument.name.value in ("first", "last"):
                value = argument.value
                if isinstance(value, IntValueNode):
                    # A literal of any length: clamp before converting a thousand digits.
                    digits = value.value.lstrip("-")
                    if value.value.startswith("-"):
                        return 0
                    if len(digits) > len(str(self.ceiling)):
                        return self.ceiling
                    return min(int(digits), self.ceiling)
                if isinstance(value, VariableNode):
                    given = self.variables.get(value.name.value)
                    if isinstance(given, int) and not isinstance(given, bool):
                        return min(max(given, 0), self.ceiling)
        return get_settings().default_page_size


def _selection_cost(
    walk: _Walk,
    selection_set: SelectionSetNode | None,
    parent: Any,
    multiplier: int,
    seen: frozenset[str],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            fields = (
                parent.fields
                if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType))
                else {}
            )
            definition = fields.get(selection.name.value)
            if definition is None:
                continue
            child = get_named_type(definition.type)
            child_multiplier = multiplier
            if child.name.endswith("Connection"):
                child_multiplier = walk.times(multiplier, walk.page_size(selection))
                total = walk.add(total, child_multiplier)
            cost = _selection_cost(walk, selection.selection_set, child, child_multiplier, seen)
        elif isinstance(selection, InlineFragmentNode):
            condition = (
                walk.schema.get_type(selection.type_condition.name.value)
                if selection.type_condition
                else parent
            )
            cost = _selection_cost(
                walk, selection.selection_set, condition or parent, multiplier, seen
            )
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = walk.fragments.get(name)
            if fragment is None or name in seen:
                continue
            condition = walk.schema.get_type(fragment.type_condition.name.value) or parent
            cost = _selection_cost(
                walk, fragment.selection_set, condition, multiplier, seen | {name}
            )
        else:
            continue
        total = walk.add(total, cost)
    return total


def refuse_nul_characters(context: Any) -> None:
    """PostgreSQL text cannot hold U+0000 (SQLite can): a string containing it, in a variable or
    a literal, is refused like a value that does not coerce, before any resolver runs, instead of
    failing in the database as an internal error."""
    if context.pre_execution_errors is None and (
        _has_nul(context.variables) or _document_has_nul(context.graphql_document)
    ):
        context.pre_execution_errors = [
            GraphQLError(
                "Text must not contain the NUL character (U+0000).",
                extensions={"code": "BAD_USER_INPUT"},
            )
        ]


def _has_nul(value: object) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class _NulFinder(Visitor):
    found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        if "\x00" in node.value:
            self.found = True
            return BREAK
        return None


def _document_has_nul(document: Any) -> bool:
    if document is None:
        return False

    def search() -> bool:
        finder = _NulFinder()
        visit(document, finder)
        return finder.found

    return remembered(document, "nul", search)


def is_unexpected(error: GraphQLError) -> bool:
    """Code crashed, as opposed to a deliberate error (ours, Strawberry's or graphql-core's).

    A crash in a resolver has a path. A crash before execution (an extension) has neither a
    path nor a location in the document; errors of parsing, validation and variable coercion
    point at the document, and are the client's doing.
    """
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    return error.path is not None or not error.nodes


def masked(error: GraphQLError, *, where: str | None = None) -> GraphQLError:
    request_id = request_id_var.get()
    logger.error(
        "Unexpected error in %s",
        where or ".".join(map(str, error.path or [])),
        exc_info=error.original_error,
    )
    return GraphQLError(
        "Internal server error",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    )


def mask_unexpected_errors(result: Any) -> None:
    """Logs a crash with the request id and shows the client only that id."""
    if result is not None and getattr(result, "errors", None):
        result.errors = [masked(e) if is_unexpected(e) else e for e in result.errors]
