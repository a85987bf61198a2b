"""The networkx classes explorer's graphs are made of: networkx's own, plus how they show
in a notebook (an SVG picture; a short repr). Everything networkx does with a graph works
the same on these."""

from __future__ import annotations

import networkx as nx

from ._conveniences import provided


class _Shown:
    def _repr_svg_(self) -> str | None:
        return provided("graph_svg")(self)

    def __repr__(self) -> str:
        kind = self.graph.get("kind", "explorer")
        return f"<{kind} graph: {self.number_of_nodes()} nodes, {self.number_of_edges()} edges>"


class DiGraph(_Shown, nx.DiGraph):
    """A ``networkx.DiGraph`` that draws itself in a notebook."""


class MultiDiGraph(_Shown, nx.MultiDiGraph):
    """A ``networkx.MultiDiGraph`` that draws itself in a notebook."""
