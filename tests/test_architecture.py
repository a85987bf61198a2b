"""The package's shape: imports flow one way, from records and objects up to reports."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parent.parent / "explorer"

#: Thin conveniences on result records that call up into the renderings, imported inside the
#: method that needs them (``result.to_json()``, ``result.render()``, ``trace.render()``,
#: ``result.state_graph()``): the only imports allowed to point up the data flow.
CONVENIENCES = {
    ("explorer.results", "explorer.graphs"),
    ("explorer.results", "explorer.json_format"),
    ("explorer.results", "explorer.render"),
    ("explorer.findings", "explorer.render"),
    # how the records show in a notebook (``_repr_html_``, ``_repr_svg_``): explorer.notebook
    ("explorer.results", "explorer.notebook"),
    ("explorer.findings", "explorer.notebook"),
    ("explorer.crosscheck", "explorer.notebook"),
    ("explorer.pictures", "explorer.notebook"),
    ("explorer._graph_types", "explorer.notebook"),
}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """The ids of nodes under ``if TYPE_CHECKING:``: never imported at run time."""
    hidden = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            hidden.update(id(inner) for inner in ast.walk(node))
    return hidden


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for path in PACKAGE.rglob("*.py"):
        module = _module(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        tree = ast.parse(path.read_text())
        hidden = _type_checking_nodes(tree)
        graph.add_node(module)
        for node in ast.walk(tree):
            if id(node) in hidden or not isinstance(node, ast.ImportFrom) or not node.level:
                continue
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                relative = Path(*candidate.split(".")[1:])
                exists = (PACKAGE / relative).with_suffix(".py").exists() or (PACKAGE / relative).is_dir()
                imported = candidate if exists else target
                if imported != module and (module, imported) not in CONVENIENCES:
                    graph.add_edge(module, imported)
    return graph


def test_the_package_has_no_import_cycles():
    graph = import_graph()
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert not cycles, f"modules importing each other in a circle: {cycles}"


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
