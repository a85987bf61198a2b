"""Writing graphs to files: DOT, GraphML, node-link JSON, and pictures (SVG, PNG, PDF).

>>> import networkx as nx
>>> graph = nx.DiGraph(kind="lock-order")
>>> graph.add_edge("a", "b", thread="A", held=("a",))
>>> print(to_dot(graph))
digraph "lock-order" {
  "a";
  "b";
  "a" -> "b" [label="A", thread="A", held="('a',)"];
}
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ._files import write_text as _write_text
from ._text import shown
from .errors import InvalidArgument

__all__ = ["FORMATS", "to_dot", "to_node_link", "write_graph"]

#: File suffixes :func:`write_graph` understands.
FORMATS = (".dot", ".gv", ".graphml", ".json", ".svg", ".png", ".pdf")


def write_graph(graph, file, **options) -> Path:
    """Write one of explorer's graphs to ``file``; the suffix picks the format.

    ``.dot``/``.gv`` (Graphviz text), ``.graphml``, ``.json`` (networkx node-link),
    or a picture: ``.svg``, ``.png``, ``.pdf`` (drawn with matplotlib; ``options`` go to
    the drawing function, such as ``path=`` for a state graph's counterexample). The
    file is replaced atomically.
    """
    path = Path(file)
    suffix = path.suffix.lower()
    if suffix in (".dot", ".gv"):
        return _write_text(path, to_dot(graph) + "\n")
    if suffix == ".graphml":
        import networkx as nx

        return _write_text(path, "\n".join(nx.generate_graphml(_scalar_attributes(graph))) + "\n")
    if suffix == ".json":
        return _write_text(path, json.dumps(to_node_link(graph), indent=1, allow_nan=False) + "\n")
    if suffix in (".svg", ".png", ".pdf"):
        from . import pictures

        draw = {
            "state": pictures.draw_state_graph,
            "lock-order": pictures.draw_lock_order_graph,
            "happens-before": pictures.draw_happens_before,
        }.get(graph.graph.get("kind"))
        if draw is None:
            raise InvalidArgument(f"cannot draw a graph of kind {graph.graph.get('kind')!r}; explorer "
                                  f"draws state, lock-order and happens-before graphs")
        return pictures.save_figure(draw(graph, **options), path)
    raise InvalidArgument(f"cannot write a graph to {str(path)!r}: unknown suffix {path.suffix!r}; "
                          f"use one of {', '.join(FORMATS)}")


def to_dot(graph) -> str:
    """Graphviz DOT text for a graph; every attribute becomes a quoted string, and an
    edge's ``label`` (or else its ``thread``) is shown."""
    directed = graph.is_directed()
    lines = [f"{'digraph' if directed else 'graph'} {_quote(graph.graph.get('kind', 'explorer'))} {{"]
    styled = graph.graph.get("kind") == "state"
    for node, data in graph.nodes(data=True):
        if styled:
            data = {**data, **_state_style(data)}
        lines.append(f"  {_quote(node)}{_attributes(data, label_from=None)};")
    arrow = "->" if directed else "--"
    for u, v, data in graph.edges(data=True):
        lines.append(f"  {_quote(u)} {arrow} {_quote(v)}{_attributes(data, label_from='thread')};")
    lines.append("}")
    return "\n".join(lines)


def to_node_link(graph) -> dict:
    """The graph as networkx's node-link dictionary, with every value made JSON-safe."""
    import networkx as nx

    return _json_safe(nx.node_link_data(graph, edges="links"))


def _state_style(data: dict) -> dict:
    """Graphviz styling of a state: terminals ringed, bad ones filled vermilion."""
    style = {}
    if data.get("terminal"):
        style["shape"] = "doublecircle" if data["terminal"] == "completed" else "doubleoctagon"
        if data.get("outcome"):
            style["xlabel"] = data["outcome"]
    if data.get("bad"):
        style.update(style="filled", fillcolor="#D55E00", fontcolor="white")
    elif data.get("initial"):
        style.update(style="filled", fillcolor="#56B4E9")
    return style


def _attributes(data: dict, label_from: str | None) -> str:
    items = dict(data)
    if "label" not in items and label_from is not None and label_from in items:
        items = {"label": items[label_from], **items}
    if not items:
        return ""
    return " [" + ", ".join(f"{_id(key)}={_quote(_text(value))}" for key, value in items.items()) + "]"


def _id(key: object) -> str:
    text = str(key)
    return text if text.isidentifier() else _quote(text)


def _quote(value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def _text(value: object) -> str:
    return value if isinstance(value, str) else shown(value)


def _scalar_attributes(graph):
    """A copy whose attributes GraphML can hold: str, int, float, bool; others as their repr."""
    copy = graph.copy()
    copy.graph = {k: _scalar(v) for k, v in graph.graph.items()}
    for _, data in copy.nodes(data=True):
        data.update({k: _scalar(v) for k, v in data.items()})
    for *_, data in copy.edges(data=True):
        data.update({k: _scalar(v) for k, v in data.items()})
    mapping = {node: node if isinstance(node, (str, int)) else repr(node) for node in copy.nodes}
    return copy if all(k == v for k, v in mapping.items()) else _relabel(copy, mapping)


def _relabel(graph, mapping):
    import networkx as nx

    return nx.relabel_nodes(graph, mapping)


def _scalar(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool) and shown(value).startswith("<"):
        return shown(value)  # too many digits for str(), which GraphML needs
    if isinstance(value, bool | int | str) or (isinstance(value, float) and not math.isnan(value)):
        return value
    if value is None:
        return ""
    return shown(value)


def _json_safe(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool) and shown(value).startswith("<"):
        return shown(value)  # too many digits for JSON's decimal form
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else shown(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return shown(value)
