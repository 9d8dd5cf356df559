"""Imports flow one way: app -> schema -> resolvers -> models, with no circles.

Read from the source, so a deferred import inside a function counts as much as one at the top;
only imports under `if TYPE_CHECKING:` (annotations Strawberry resolves lazily) are left out.
README.md, Layout, says which package is which.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = (
    "app",
    "cli",
    "settings",
    "schema",
    "resolvers",
    "models",
    "realtime",
    "auth",
    "observability",
)
GRAPHQL = ("graphql", "strawberry")

Graph = dict[str, set[str]]


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, package: str) -> Iterator[tuple[str, list[str]]]:
    """(module, names imported from it) of every import statement outside
    `if TYPE_CHECKING:` blocks; no names for a plain `import module`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _imports(child, package)
            continue
        if isinstance(node, ast.Import):
            yield from ((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, [alias.name for alias in node.names]
        yield from _imports(node, package)


def import_graph(root: Path = ROOT) -> Graph:
    """Module -> the modules of ours and the GraphQL libraries it imports."""
    files: dict[str, Path] = {}
    for top in OURS:
        single = root / f"{top}.py"
        if single.exists():
            files[top] = single
        for path in sorted((root / top).rglob("*.py")) if (root / top).is_dir() else ():
            files[_module_name(path, root)] = path
    graph: Graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for base, names in _imports(ast.parse(path.read_text(), str(path)), package):
            # `from package import module` depends on the module, not on the package.
            modules = [f"{base}.{n}" for n in names if f"{base}.{n}" in files]
            if len(modules) < len(names) or not names:
                modules.append(base)
            for imported in modules:
                if imported in files:
                    found.add(imported)
                elif imported.split(".")[0] in GRAPHQL:
                    found.add(imported.split(".")[0])
        found.discard(name)
        graph[name] = found
    return graph


def _in(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def violations(graph: Graph) -> list[str]:
    """Each import that goes up a layer, as 'importer -> imported (rule)'."""
    rules: list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], str]] = [
        # (importers, forbidden, allowed exceptions among the forbidden, why)
        (
            ("models",),
            ("schema", "resolvers", "auth", "realtime", "app", "cli", "observability"),
            ("auth.crypto",),
            "the domain stands below the API, the policies and the push channels",
        ),
        (("models",), GRAPHQL, (), "the domain knows no GraphQL"),
        (
            ("realtime",),
            ("schema", "resolvers", "models", "auth", "app", "cli", "observability", *GRAPHQL),
            (),
            "push channels carry envelopes, not GraphQL or domain rows",
        ),
        (
            ("auth.crypto",),
            ("schema", "resolvers", "models", "realtime", "auth", "app", "cli", *GRAPHQL),
            ("auth.crypto",),
            "the password and token primitives import nothing of ours",
        ),
        (
            ("auth",),
            ("schema", "resolvers", "app", "cli", "observability"),
            (),
            "auth stands below the resolvers",
        ),
        (("resolvers",), ("schema", "app", "cli"), (), "resolvers return domain objects"),
        (("schema",), ("app", "cli"), (), "the schema does not know how it is served"),
        (("settings",), OURS, ("settings",), "settings import nothing of ours"),
    ]
    found = []
    for importer, imported in sorted(graph.items()):
        for module in sorted(imported):
            for importers, forbidden, allowed, why in rules:
                if (
                    _in(importer, *importers)
                    and _in(module, *forbidden)
                    and not _in(module, *allowed)
                    and not (importers == ("auth",) and _in(importer, "auth.crypto"))
                ):
                    found.append(f"{importer} -> {module} ({why})")
    return found


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.get(module, ()):
            if imported not in graph:
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_no_layer_imports_a_higher_one() -> None:
    assert violations(import_graph()) == []


def test_no_module_imports_itself_round_a_circle() -> None:
    assert cycles(import_graph()) == []


# ------------------------------------------------------------ the guard itself can fail


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"models/__init__.py": "", "models/a.py": "from schema.types import Job\n"},
            "models.a -> schema.types",
        ),
        (
            {"resolvers/__init__.py": "", "resolvers/a.py": "def f():\n    from schema import x\n"},
            "resolvers.a -> schema.x",
        ),
        (
            {"realtime/__init__.py": "", "realtime/a.py": "import graphql\n"},
            "realtime.a -> graphql",
        ),
        (
            {
                "auth/__init__.py": "",
                "auth/crypto/__init__.py": "",
                "auth/crypto/t.py": "import models.u\n",
            },
            "auth.crypto.t -> models.u",
        ),
        (
            {"models/__init__.py": "", "models/a.py": "from auth.policies import may\n"},
            "models.a -> auth.policies",
        ),
    ],
)
def test_an_upward_import_is_reported(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    _write(tmp_path, {"schema/__init__.py": "", "schema/types.py": "", "schema/x.py": "", **files})
    _write(tmp_path, {"models/u.py": "", "auth/policies.py": ""})
    assert any(line.startswith(expected + " ") for line in violations(import_graph(tmp_path)))


def test_models_may_use_the_crypto_primitives(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "models/__init__.py": "from auth.crypto.tokens import new_token\n",
            "auth/__init__.py": "",
            "auth/crypto/__init__.py": "",
            "auth/crypto/tokens.py": "import hashlib\n",
        },
    )
    assert violations(import_graph(tmp_path)) == []


def test_a_circle_is_reported_and_type_checking_imports_are_not(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "schema/__init__.py": "",
            "schema/a.py": "from schema.b import B\n",
            "schema/b.py": "from schema import c\n",
            "schema/c.py": "def f():\n    from schema.a import A\n",
            "schema/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from schema.e import E\n",
            "schema/e.py": "from schema.d import D\n",
        },
    )
    assert cycles(import_graph(tmp_path)) == [["schema.a", "schema.b", "schema.c"]]
