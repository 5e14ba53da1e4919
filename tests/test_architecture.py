"""The package layout shows the architecture: no import cycles, layers pointing one way,
no oversized modules.

The import graph is built with :mod:`ast` from every ``import`` / ``from … import``
statement anywhere in a module: at module level, inside functions and under
``if TYPE_CHECKING:`` (a deferred import is still a dependency). ``from mediation.x import
name`` is an edge to ``mediation.x.name`` when that is a module, else to ``mediation.x``.
Importing ``mediation.a.b`` is an edge to ``mediation.a.b`` only (not to the package
``mediation.a`` that Python runs first: that would make every package ``__init__`` that
re-exports its submodules a cycle).

Imports by name (``importlib.import_module("mediation.workflows.peoples")``, the lazy
exports of ``mediation/__init__.py``) are not statements and are not counted.

Layers, lowest first (a module may import its own layer and any lower one)::

    errors  <  domain, workflows  <  storage  <  engine  <  documents, reporting
            <  api, demo  <  commands, cli, docs

(``demo`` builds sample data through the engine and the documents, and the API offers it
as an action, so it sits beside the API, under the commands.)

The package itself (``mediation/__init__.py``) re-exports the API, so it counts as ``api``.

Run ``python tests/test_architecture.py`` to print the cycles, layer violations and
module sizes.
"""

from __future__ import annotations

import ast
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mediation"
MAX_LINES = 600

#: top-level part of ``mediation`` → layer rank. Modules of the same rank may import each
#: other (``domain`` ↔ ``workflows`` for instance), as long as no module cycle results.
LAYERS: dict[str, int] = {
    "errors": 0,
    "i18n": 0,  # the user's language: _() and the catalogs, stdlib only
    "locale": 0,  # the catalogs and their (dev-only) builder
    "_exports": 0,  # the public names and their modules: data, no imports
    "domain": 1,
    "workflows": 1,
    "storage": 2,
    "engine": 3,
    "documents": 4,
    "reporting": 4,
    "api": 5,
    "commands": 6,
    "cli": 6,
    "demo": 5,
    "docs": 6,
}

# -- allow-lists: what is known and still to fix, in files owned by others -----------------
# Each list only shrinks: an entry that no longer happens is reported as a warning ("remove
# it"), and anything not listed fails. Empty them as those files are reworked.

#: Import cycles still to break, each as the sorted modules of the cycle's component.
ALLOWED_CYCLES: set[tuple[str, ...]] = set()

#: Layer violations still to fix, as (importer, imported).
ALLOWED_LAYER_VIOLATIONS: set[tuple[str, str]] = set()

#: Modules allowed over MAX_LINES, besides the generated tables and migration revisions.
ALLOWED_LONG: set[str] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(name: str, path: Path, known: Iterable[str]) -> set[str]:
    """The ``mediation`` modules that module ``name`` imports, anywhere in its body."""
    known = set(known)
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, path.name == "__init__.py", node)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            # ``import mediation.a.b.c`` where c is a name, not a module: its module.
            while target and target not in known and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in known and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports_of(name, path, mods) for name, path in mods.items()}


def components(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted:
    the modules that import each other, directly or not."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(components)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One shortest cycle through the first module of each component."""
    return [_a_cycle(graph, set(c), c[0]) for c in components(graph)]


def _a_cycle(graph: dict[str, set[str]], members: set[str], start: str) -> list[str]:
    """A shortest path from ``start`` back to itself inside one component."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & members):
                if w == start:
                    return [*paths[v], start]
                if w not in paths:
                    paths[w] = [*paths[v], w]
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"{start} is in no cycle")  # pragma: no cover


def layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1] if len(parts) > 1 else "api")


def layer_violations(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    found = []
    for importer, targets in sorted(graph.items()):
        mine = layer(importer)
        if mine is None:
            continue
        for target in sorted(targets):
            theirs = layer(target)
            if theirs is not None and theirs > mine:
                found.append((importer, target))
    return found


def line_counts() -> dict[str, int]:
    return {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()
    }


def long_modules() -> dict[str, int]:
    return {
        name: n
        for name, n in line_counts().items()
        if n > MAX_LINES
        and name != "mediation.storage._tables"
        and not name.startswith("mediation.storage.migrations.versions.")
    }


# -- the tests ---------------------------------------------------------------------------


def _stale(name: str, entries: Iterable[object]) -> None:
    for entry in sorted(entries, key=str):
        warnings.warn(f"{name}: {entry!r} no longer happens: remove it", stacklevel=2)


def _describe(component: list[str], graph: dict[str, set[str]]) -> str:
    cycle = " → ".join(_a_cycle(graph, set(component), component[0]))
    edges = "\n".join(
        f"      {a} → {b}" for a in component for b in sorted(graph[a] & set(component))
    )
    return f"  {cycle}\n    every import inside the cycle:\n{edges}"


def test_every_module_has_a_layer() -> None:
    unplaced = [m for m in modules() if layer(m) is None]
    assert unplaced == [], f"modules in no layer (add them to LAYERS): {unplaced}"


def test_no_import_cycles() -> None:
    graph = import_graph()
    found = components(graph)
    new = [c for c in found if tuple(c) not in ALLOWED_CYCLES]
    assert new == [], "import cycles:\n" + "\n".join(_describe(c, graph) for c in new)
    _stale("ALLOWED_CYCLES", ALLOWED_CYCLES - {tuple(c) for c in found})


def test_layers_point_one_way() -> None:
    found = layer_violations(import_graph())
    new = [v for v in found if v not in ALLOWED_LAYER_VIOLATIONS]
    assert new == [], "imports from a higher layer:\n" + "\n".join(
        f"  {a} (layer {layer(a)}) → {b} (layer {layer(b)})" for a, b in new
    )
    _stale("ALLOWED_LAYER_VIOLATIONS", ALLOWED_LAYER_VIOLATIONS - set(found))


def test_no_module_over_the_limit() -> None:
    found = long_modules()
    new = {m: n for m, n in found.items() if m not in ALLOWED_LONG}
    assert new == {}, f"modules over {MAX_LINES} lines: {new}"
    _stale("ALLOWED_LONG", ALLOWED_LONG - set(found))


def test_the_graph_sees_every_import_statement() -> None:
    """Imports at module level, inside functions and under TYPE_CHECKING all count, and
    ``from package import module`` is an edge to the module."""
    graph = import_graph()
    assert "mediation.storage.store" in graph["mediation.engine.cases"]  # module level
    assert "mediation.engine.cases" in graph["mediation.engine.scheduler"]  # in a function
    assert "mediation.engine.controller" in graph["mediation.engine.guards"]  # TYPE_CHECKING
    assert "mediation.reporting.stats.queries" in graph["mediation.reporting.stats.compute"]


def test_the_checks_catch_what_they_look_for() -> None:
    """The cycle and layer checks on a made-up graph."""
    graph = {
        "mediation.domain.a": {"mediation.domain.b"},
        "mediation.domain.b": {"mediation.domain.c"},
        "mediation.domain.c": {"mediation.domain.a", "mediation.engine.x"},
        "mediation.engine.x": {"mediation.storage.y"},
        "mediation.storage.y": set(),
    }
    assert components(graph) == [["mediation.domain.a", "mediation.domain.b", "mediation.domain.c"]]
    assert cycles(graph) == [
        ["mediation.domain.a", "mediation.domain.b", "mediation.domain.c", "mediation.domain.a"]
    ]
    assert layer_violations(graph) == [("mediation.domain.c", "mediation.engine.x")]


if __name__ == "__main__":
    g = import_graph()
    print("cycles:")
    for c in components(g):
        print(_describe(c, g))
    print("layer violations:")
    for a, b in layer_violations(g):
        print(f"  {a} → {b}")
    print(f"modules over {MAX_LINES} lines:")
    for m, n in sorted(long_modules().items()):
        print(f"  {m}: {n}")
