"""The package's shape: imports flow one way, from records and objects up to reports."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parent.parent / "explorer"

#: The modules that word, write, build and draw the records (they hand the records their
#: conveniences through explorer/_conveniences.py instead of being imported by them).
RENDERINGS = {"explorer.render", "explorer.json_format", "explorer.graphs", "explorer.notebook",
              "explorer.report_html", "explorer.pictures"}
#: What a person gets back and looks at, and what it is made of.
RECORDS = {"explorer.findings", "explorer.results", "explorer.scenario", "explorer.expect",
           "explorer.outcomes", "explorer._graph_types", "explorer.crosscheck", "explorer.stepping"}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> nx.DiGraph:
    """Module -> module it imports, wherever the import is: at the top, inside a function,
    or under ``if TYPE_CHECKING:`` (a type annotation is a dependency too)."""
    graph = nx.DiGraph()
    for path in PACKAGE.rglob("*.py"):
        module = _module(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        tree = ast.parse(path.read_text())
        graph.add_node(module)
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or not node.level:
                continue
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                relative = Path(*candidate.split(".")[1:])
                exists = (PACKAGE / relative).with_suffix(".py").exists() or (PACKAGE / relative).is_dir()
                imported = candidate if exists else target
                if imported != module:
                    graph.add_edge(module, imported)
    return graph


def test_the_package_has_no_import_cycles():
    graph = import_graph()
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert not cycles, f"modules importing each other in a circle: {cycles}"


def test_the_records_import_nothing_that_words_writes_or_draws_them():
    graph = import_graph()
    for record in RECORDS:
        above = RENDERINGS & nx.descendants(graph, record)
        assert not above, f"{record} reaches {sorted(above)}"


def test_every_convenience_of_the_records_is_provided_once_the_package_is_imported():
    import explorer  # noqa: F401
    from explorer._conveniences import _PROVIDED, SLOTS

    assert {name: function.__module__ for name, function in _PROVIDED.items()} == SLOTS
    assert set(SLOTS.values()) <= RENDERINGS


def test_the_objects_and_the_steps_import_nothing_above_them():
    graph = import_graph()
    for module in [m for m in graph if m.startswith("explorer.objects") or m == "explorer.steps"]:
        above = [t for t in nx.descendants(graph, module)
                 if t.startswith(("explorer._engine", "explorer.strategies", "explorer.detectors"))]
        assert not above, f"{module} reaches {above}"


def test_no_strategy_or_detector_names_a_kind_of_object():
    """Adding a kind is adding a module in explorer/objects: the strategies and detectors
    ask the objects (footprints, lock roles, recorded happens-before edges) instead."""
    kinds = {"semaphore", "condition", "barrier", "queue", "threadpool", "pool", "future"}
    for folder in ("strategies", "detectors"):
        for path in (PACKAGE / folder).glob("*.py"):
            named = {word for word in _code_words(ast.parse(path.read_text()))
                     if kinds & set(re.split(r"[^a-z]+", word.lower()))}
            assert not named, f"{path.name} names {sorted(named)}"


def _code_words(tree: ast.AST) -> set[str]:
    """Names, attributes, imports and one-word strings in code: docstrings, comments and
    messages left out."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    words = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            words.add(node.id)
        elif isinstance(node, ast.Attribute):
            words.add(node.attr)
        elif isinstance(node, ast.alias):
            words.add(node.name)
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
              and not any(c.isspace() for c in node.value)):  # a kind's name as data, not prose
            words.add(node.value)
    return words
