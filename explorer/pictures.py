"""Pictures of explorer's graphs and traces, drawn with matplotlib alone.

Each ``draw_*`` function returns a :class:`matplotlib.figure.Figure` on its own Agg
canvas: nothing goes through ``pyplot``, so no global figure or GUI is touched and
the functions work headless and from several threads. Write pictures with
:func:`save_figure`: it applies the settings that keep SVG text as text and make the
same picture give the same bytes (``figure.savefig`` alone would not), and writes
SVG, PNG or PDF atomically.

Colours come from the Okabe-Ito palette, which stays distinct under the common
kinds of colour blindness; shapes repeat what colours say, so a grey-scale print
still reads. Vermillion always means "this is the problem": a counterexample path,
a lock-order cycle, a race, a marked step.

>>> import tempfile, pathlib
>>> from explorer import replay
>>> from scenarios.counter import lost_update
>>> figure = draw_swimlane(replay(lost_update, ["A", "B", "A", "B"]).trace)
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> save_figure(figure, folder / "lost-update.svg").read_text().count("write x = 1")
2
"""

from __future__ import annotations

import math
import os
import textwrap
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Patch
from matplotlib.path import Path as CurvePath
from matplotlib.textpath import TextToPath

from ._conveniences import provided
from ._files import write_atomically
from ._text import shown
from .errors import GraphTooLarge, InvalidArgument

if TYPE_CHECKING:
    import networkx as nx

    from .findings import Trace

__all__ = [
    "draw_happens_before",
    "draw_lock_order_graph",
    "draw_state_graph",
    "draw_swimlane",
    "save_figure",
]

# Okabe & Ito, "Color Universal Design" (2008).
BLACK = "#000000"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
#: The colour of what a picture points at: a counterexample, a cycle, a race, a marked step.
HIGHLIGHT = VERMILLION
GREY = "#8C8C8C"
DARK = "#333333"
#: Thread colours in thread order; yellow is left out, it is unreadable on white.
THREAD_COLOURS = (BLUE, ORANGE, GREEN, PURPLE, SKY, BLACK)

_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
_PNG_DPI = 150
_RC = {
    "svg.fonttype": "none",  # text stays text: searchable, selectable, editable on a slide
    "svg.hashsalt": "explorer.pictures",  # fixed ids, so the same picture gives the same bytes
    "font.family": "sans-serif",  # SVG names DejaVu Sans, then any sans-serif face the viewer has
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9,
    "axes.unicode_minus": False,
}
# rc_context changes matplotlib's global rcParams for its duration; one picture at a time.
_RC_LOCK = threading.RLock()
_TITLE_SIZE = 13
_SUBTITLE_SIZE = 9.5
_PAD = 0.2  # inches around everything


# ---------------------------------------------------------------------------------------------
# Public functions


def draw_state_graph(graph: nx.DiGraph, *, path: Sequence[int] | None = None, max_nodes: int = 400,
                     title: str | None = None, paths: Sequence[Sequence[int]] = (),
                     collapse_above: int | None = None) -> Figure:
    """Every state of a scenario, one row per step taken, the initial state at the top.

    ``graph`` is a state graph (``kind="state"``, as :func:`explorer.graphs.state_graph`
    builds). A node's x is its step counts projected so that two threads make the
    classic interleaving diamond: thread A's steps go left, B's go right. ``path``
    (node ids from 0, e.g. a counterexample) is drawn thick in the highlight colour, and so
    is each of ``paths`` (say, the trace of every finding).

    With ``collapse_above``, a graph of more states than that, drawn with paths, keeps only
    the states on the paths and the steps that leave them (the choices not taken), and the
    title says how many states are left out: the way to each finding stays readable.

    Above ``max_nodes`` states only the states on paths from the start to a finding
    (a bad or deadlocked end) are drawn, and the title says so; if even those are
    more than ``max_nodes``, :class:`~explorer.errors.GraphTooLarge` is raised before
    any layout work.

    >>> import networkx as nx
    >>> graph = nx.DiGraph(kind="state", scenario="one step", threads=("A",), variables=("x",), locks=())
    >>> graph.add_node(0, depth=0, counts=(0,), values=(0,), holders=(), initial=True, terminal=None,
    ...                outcome=None, bad=False, findings=(), label="x=0")
    >>> graph.add_node(1, depth=1, counts=(1,), values=(1,), holders=(), initial=False,
    ...                terminal="completed", outcome="x=1", bad=False, findings=(), label="x=1")
    >>> graph.add_edge(0, 1, thread="A", step="write x = 1", label="A: write x = 1")
    >>> draw_state_graph(graph, path=[0, 1]).texts[0].get_text()
    "Every state of 'one step'"
    """
    _require_graph(graph, "state", directed=True, multi=False)
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise InvalidArgument(f"max_nodes must be a positive int, not {max_nodes!r}")
    if 0 not in graph:
        raise InvalidArgument("a state graph needs node 0, the initial state; this one has none. "
                              "Build it with explorer.graphs.state_graph(scenario)")
    path = _check_path(graph, path)
    others = [_check_path(graph, other) for other in paths]
    total = graph.number_of_nodes()
    note = None
    walked = set(path).union(*others)
    if collapse_above is not None and total > collapse_above and len(walked) > 1:
        keep = walked | {after for node in walked for after in graph.succ[node]}
        if len(keep) < total:
            graph = graph.subgraph(keep)
            note = f"showing {len(keep)} of {total} states: the paths to the findings and the steps off them"
    if graph.number_of_nodes() > max_nodes:
        keep = _on_paths_to_findings(graph, path)
        if len(keep) <= 1:
            raise GraphTooLarge(
                f"the state graph has {total} states, more than max_nodes={max_nodes}, and no state "
                f"leads to a finding, so there is nothing smaller to draw; pass a larger max_nodes "
                f"(drawing thousands of states is slow and unreadable)")
        if len(keep) > max_nodes:
            raise GraphTooLarge(
                f"the state graph has {total} states and {len(keep)} of them lie on paths to findings, "
                f"both more than max_nodes={max_nodes}; pass a larger max_nodes, or draw a finding's "
                f"swimlane instead (draw_swimlane(finding.trace))")
        graph = graph.subgraph(keep)
        note = f"showing {len(keep)} of {total} states: paths to findings"
    with _style():
        return _StatePicture(graph, path, note, title, others).draw()


def draw_lock_order_graph(graph: nx.MultiDiGraph, *, title: str | None = None) -> Figure:
    """Which lock was taken while holding which: locks on a circle, an arrow ``held -> taken``
    per thread and place, the edges of a potential-deadlock cycle thick in the highlight colour.

    >>> import networkx as nx
    >>> graph = nx.MultiDiGraph(kind="lock-order", scenario="abba", cycles=[["a", "b"]])
    >>> graph.add_node("a", in_cycle=True); graph.add_node("b", in_cycle=True)
    >>> _ = graph.add_edge("a", "b", thread="A", location="abba.py:16", held=("a",), in_cycle=True)
    >>> _ = graph.add_edge("b", "a", thread="B", location="abba.py:16", held=("b",), in_cycle=True)
    >>> [t.get_text() for t in draw_lock_order_graph(graph).axes[0].texts][:2]
    ['a', 'b']
    """
    _require_graph(graph, "lock-order", directed=True, multi=None)
    with _style():
        return _draw_lock_order(graph, title)


def draw_happens_before(graph: nx.DiGraph, *, title: str | None = None) -> Figure:
    """One trace's events in lanes, one row per thread, time left to right: program order
    along a lane, lock hand-offs between lanes, races as dashed highlighted links.

    >>> import networkx as nx
    >>> graph = nx.DiGraph(kind="happens-before", threads=("A", "B"))
    >>> graph.add_node(0, thread="A", label="write x = 1", location=None, mark="racing write")
    >>> graph.add_node(1, thread="B", label="read x -> 1", location=None, mark="racing read")
    >>> graph.add_edge(0, 1, relation="race")
    >>> len(draw_happens_before(graph).axes)
    1
    """
    _require_graph(graph, "happens-before", directed=True, multi=False)
    with _style():
        return _draw_happens_before(graph, title)


def draw_swimlane(trace: Trace, *, title: str | None = None, replay: str | None = None) -> Figure:
    """A trace as swimlanes: one row per thread, one box per step left to right, the
    finding's marked steps highlighted, locks held drawn as bars under the holder's steps,
    and threads still blocked at the end shown as ``BLOCKED acquire l``. Long traces wrap
    onto several bands. Under the title, a trace of 40 steps or fewer shows the line that
    replays it: ``replay`` (a search's with its settings, ``explorer.render.replay_for(result)(trace)``),
    else ``replay(scenario, [...])``.

    >>> from explorer import replay
    >>> from scenarios.abba import abba_deadlock
    >>> figure = draw_swimlane(replay(abba_deadlock, ["A", "B"]).trace)
    >>> sorted(t.get_text() for t in figure.axes[0].texts if t.get_text().startswith("BLOCKED"))
    ['BLOCKED\\nacquire a', 'BLOCKED\\nacquire b']
    """
    from .findings import Trace

    if not isinstance(trace, Trace):
        raise InvalidArgument(f"draw_swimlane needs an explorer Trace (a finding's .trace or an "
                              f"execution's .trace), not {type(trace).__name__}")
    if len(trace.events) > MAX_SWIMLANE_STEPS:
        raise InvalidArgument(f"a trace of {len(trace.events):,} steps is too long to draw as swimlanes "
                              f"(at most {MAX_SWIMLANE_STEPS:,} steps, {MAX_SWIMLANE_STEPS // 12} bands); its "
                              f"text, trace.render(), shows a polling loop's repeated steps as one row")
    with _style():
        return _draw_swimlane(trace, title, replay)


#: The longest trace :func:`draw_swimlane` draws: a band holds about a dozen steps, and a
#: polling loop that ran to max_steps (10,000) would take minutes to draw and no one to read.
MAX_SWIMLANE_STEPS = 600


def save_figure(figure: Figure, path: str | os.PathLike) -> Path:
    """Write ``figure`` to ``path`` and return it as a :class:`~pathlib.Path`; the suffix
    (``.svg``, ``.png``, ``.pdf``) picks the format. The file appears whole or not at all:
    it is written next to its destination and renamed into place. PNGs are 150 dpi;
    SVG keeps text as text and is byte-for-byte the same for the same figure.

    >>> import tempfile, pathlib
    >>> from matplotlib.figure import Figure
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "empty.png"
    >>> save_figure(Figure(), target).read_bytes()[:4]
    b'\\x89PNG'
    """
    target = Path(path)
    fmt = _FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise InvalidArgument(f"cannot tell the picture format of {str(target)!r}: the suffix must be one "
                              f"of {', '.join(_FORMATS)}")
    if not isinstance(figure, Figure):
        raise InvalidArgument(f"save_figure needs a matplotlib Figure, such as draw_swimlane returns, "
                              f"not {type(figure).__name__}")
    metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}, "png": {}}[fmt]
    dpi = _PNG_DPI if fmt == "png" else None

    def write(stream) -> None:
        with _style():
            figure.savefig(stream, format=fmt, dpi=dpi, metadata=metadata)

    return write_atomically(target, write)


# ---------------------------------------------------------------------------------------------
# Checks


def _require_graph(graph, kind: str, *, directed: bool, multi: bool | None) -> None:
    import networkx as nx

    if not isinstance(graph, nx.Graph):
        raise InvalidArgument(f"expected a networkx graph of kind {kind!r}, not {type(graph).__name__}")
    found = graph.graph.get("kind")
    if found != kind:
        raise InvalidArgument(f"expected a {kind!r} graph but this one has kind={found!r}; each draw_* "
                              f"function takes the graph of its own kind (see explorer.graphs)")
    if graph.is_directed() != directed or (multi is not None and graph.is_multigraph() != multi):
        raise InvalidArgument(f"a {kind!r} graph must be a networkx "
                              f"{'MultiDiGraph' if multi else 'DiGraph'}, not {type(graph).__name__}")


def _check_path(graph, path) -> list[int]:
    if path is None:
        return []
    path = list(path)
    if path and path[0] != 0:
        raise InvalidArgument(f"a path must start at node 0, the initial state; this one starts at {path[0]!r}")
    for position, (source, target) in enumerate(pairwise(path)):
        if not graph.has_edge(source, target):
            raise InvalidArgument(f"path position {position}: there is no step from state {source!r} to "
                                  f"{target!r} in this graph; use explorer.graphs.path_of(graph, trace)")
    if path and len(path) == 1 and path[0] not in graph:
        raise InvalidArgument("the path names node 0, which this graph does not have")
    return path


def _on_paths_to_findings(graph, path: list[int]) -> set:
    """Nodes reachable from 0 that can reach a bad or deadlocked end, plus the path's nodes."""
    targets = [node for node, data in graph.nodes(data=True)
               if data.get("terminal") is not None and (data.get("bad") or data.get("terminal") == "deadlocked")]
    forward = _reach(graph.succ, [0])
    backward = _reach(graph.pred, targets)
    return (forward & backward) | set(path)


def _reach(adjacency, starts) -> set:
    seen = set(starts)
    queue = deque(starts)
    while queue:
        for other in adjacency[queue.popleft()]:
            if other not in seen:
                seen.add(other)
                queue.append(other)
    return seen


# ---------------------------------------------------------------------------------------------
# Drawing helpers: every picture is laid out in inches, with one data unit one inch.


@contextmanager
def _style() -> Iterator[None]:
    with _RC_LOCK, matplotlib.rc_context(_RC):
        yield


@lru_cache(maxsize=4096)
def _text_size(text: str, size: float, bold: bool = False) -> tuple[float, float]:
    """Width and height in inches of ``text`` at ``size`` points, one line per ``\\n``."""
    font = FontProperties(family="DejaVu Sans", size=size, weight="bold" if bold else "normal")
    lines = text.split("\n")
    width = max(_TEXT_TO_PATH.get_text_width_height_descent(line or " ", font, ismath=False)[0]
                for line in lines)
    return width / 72, len(lines) * size * 1.25 / 72


_TEXT_TO_PATH = TextToPath()


def _tint(colour: str, amount: float) -> str:
    """``colour`` mixed with white: 0 is white, 1 the colour itself."""
    rgb = matplotlib.colors.to_rgb(colour)
    return matplotlib.colors.to_hex([1 - amount * (1 - c) for c in rgb])


def _thread_colours(threads) -> dict[str, str]:
    return {thread: THREAD_COLOURS[i % len(THREAD_COLOURS)] for i, thread in enumerate(threads)}


def _wrap_title(text: str, width: float, size: float) -> str:
    """``text`` broken between words into lines that fit ``width`` inches, less the margins."""
    room = width - 2 * _PAD
    lines = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            wider = f"{current} {word}" if current else word
            if current and _text_size(wider, size, True)[0] > room:
                lines.append(current)
                current = word
            else:
                current = wider
        lines.append(current)
    return "\n".join(lines)


class Picture(Figure):
    """A matplotlib ``Figure`` that shows itself in a notebook as SVG, with no
    ``%matplotlib inline`` needed and no pyplot."""

    def _repr_svg_(self) -> str:
        return provided("figure_svg")(self)


class _Sheet:
    """A figure whose drawing area is measured in inches, with a title on top and a legend below.

    Content spans ``x0..x1`` and ``y0..y1`` (y grows upward); the figure is widened to
    fit the title and the legend, never squeezed.
    """

    def __init__(self, x0, x1, y0, y1, *, title: str, subtitle: str = "", legend=(), min_width=4.0):
        content = x1 - x0
        self.legend = list(legend)
        legend_widths = [_text_size(label, 8.5)[0] + 0.55 for _, label in self.legend]
        longest = max(_text_size(title, _TITLE_SIZE, True)[0], _text_size(subtitle, _SUBTITLE_SIZE)[0])
        width = max(content + 2 * _PAD, min_width, min(max(legend_widths, default=0) * 3, 7.0),
                    min(longest + 2 * _PAD, 9.0))
        title = _wrap_title(title, width, _TITLE_SIZE)
        subtitle = _wrap_title(subtitle, width, _SUBTITLE_SIZE) if subtitle else ""
        title_h = _text_size(title, _TITLE_SIZE)[1] + (_text_size(subtitle, _SUBTITLE_SIZE)[1] if subtitle
                                                       else 0)
        columns, rows = 1, 0
        if self.legend:
            columns = len(self.legend)
            while columns > 1 and sum(sorted(legend_widths)[-columns:]) > width - 2 * _PAD:
                columns -= 1
            rows = math.ceil(len(self.legend) / columns)
        legend_h = rows * 0.24 + (0.15 if rows else 0)
        height = (y1 - y0) + title_h + legend_h + 3 * _PAD
        extra = (width - content) / 2
        self.figure = Picture(figsize=(width, height), dpi=100)
        FigureCanvasAgg(self.figure)
        bottom = (legend_h + _PAD) / height
        self.axes = self.figure.add_axes((0, bottom, 1, (y1 - y0) / height))
        self.axes.set_xlim(x0 - extra, x1 + extra)
        self.axes.set_ylim(y0, y1)
        self.axes.set_axis_off()
        top = 1 - _PAD / height
        self.figure.text(0.5, top, title, ha="center", va="top", fontsize=_TITLE_SIZE, weight="bold")
        if subtitle:
            below = top - _text_size(title, _TITLE_SIZE)[1] / height
            self.figure.text(0.5, below, subtitle, ha="center", va="top", fontsize=_SUBTITLE_SIZE,
                             color=DARK)
        if self.legend:
            self.figure.legend([handle for handle, _ in self.legend], [label for _, label in self.legend],
                               loc="lower center", bbox_to_anchor=(0.5, 0.5 * _PAD / height), ncols=columns,
                               frameon=False, fontsize=8.5, handlelength=2.2, columnspacing=1.4)


def _box(axes, x, y, width, height, *, face, edge, linewidth=1.0, zorder=3, hatch=None):
    return axes.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                  boxstyle="round,pad=0,rounding_size=0.05", facecolor=face, edgecolor=edge,
                                  linewidth=linewidth, zorder=zorder, hatch=hatch))


def _fit_text(text: str, width: float, size: float, *, bold: bool = False,
              minimum: float = 5.5) -> tuple[str, float]:
    """``text`` wrapped at its arrow or equals sign (else its middle space), and shrunk if need
    be, to fit ``width`` inches."""
    if "\n" not in text and _text_size(text, size, bold)[0] > width:
        for sep in (" -> ", " = "):
            if sep in text:
                head, tail = text.split(sep, 1)
                text = f"{head}\n{sep.strip()} {tail}"
                break
        else:
            spaces = [i for i, char in enumerate(text) if char == " "]
            if spaces:
                cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
                text = f"{text[:cut]}\n{text[cut + 1:]}"
    while size > minimum and _text_size(text, size, bold)[0] > width:
        size -= 0.5
    return text, size


# ---------------------------------------------------------------------------------------------
# The state graph

_LABEL_SIZE = 7.0
_EDGE_LABEL_SIZE = 6.5
_END_SIZE = 8.0
_MAX_LABELLED_EDGES = 40
# kind: (marker, face, edge, marker size in points, legend text)
_NODE_KINDS = {
    "initial": ("s", BLACK, BLACK, 9, "initial state"),
    "state": ("o", "white", DARK, 6, "state (shared values)"),
    "completed": ("o", GREEN, BLACK, 11, "completed: outcome"),
    "bad": ("D", VERMILLION, BLACK, 10, "outcome with a finding"),
    "deadlocked": ("X", PURPLE, BLACK, 13, "deadlock"),
    "failed": ("^", ORANGE, BLACK, 11, "failed (exception)"),
    "truncated": ("v", "white", DARK, 10, "stopped at max_steps"),
}


def _node_kind(data) -> str:
    terminal = data.get("terminal")
    if data.get("initial"):
        return "initial"
    if terminal == "deadlocked":
        return "deadlocked"
    if terminal is not None and data.get("bad"):
        return "bad"
    return terminal if terminal in _NODE_KINDS else "state"


class _StatePicture:
    def __init__(self, graph, path, note, title, others=()):
        self.graph = graph
        self.path = [node for node in path if node in graph]
        walks = [self.path] + [[node for node in other if node in graph] for other in others]
        self.walked_edges = {edge for walk in walks for edge in pairwise(walk)}
        self.walked_nodes = {node for walk in walks if len(walk) > 1 for node in walk}
        self.walks = sum(1 for walk in walks if len(walk) > 1)
        self.note = note
        self.title = title
        threads = list(graph.graph.get("threads", ()))
        threads += sorted({d.get("thread") for _, _, d in graph.edges(data=True)} - set(threads) - {None})
        self.threads = threads
        self.colours = _thread_colours(threads)
        self.labelled_edges = graph.number_of_edges() <= _MAX_LABELLED_EDGES
        self.show_values = graph.number_of_nodes() <= 150

    def draw(self) -> Figure:
        graph = self.graph
        texts = {node: self._node_text(node, data) for node, data in graph.nodes(data=True)}
        # Taller rows give edge labels more room; take the first height where none collide.
        tries = []
        for scale in ((1.0, 1.2, 1.45, 1.75) if self.labelled_edges else (1.0,)):
            positions = self._layout(texts, scale)
            labels, hits = self._place_labels(positions, texts) if self.labelled_edges else ({}, 0)
            tries.append((hits, scale, positions, labels))
            if hits == 0:
                break
        _, _, positions, labels = min(tries, key=lambda t: t[:2])
        xs = [x for x, _ in positions.values()]
        ys = [y for _, y in positions.values()]
        below = max((_text_size(texts[n], _END_SIZE)[1] for n in graph if self._is_end(n)), default=0)
        right = max((_text_size(texts[n], _LABEL_SIZE)[0] for n in graph if not self._is_end(n)), default=0)
        sheet = _Sheet(min(xs) - 0.5, max(xs) + max(0.5, right + 0.2), min(ys) - below - 0.2, max(ys) + 0.3,
                       title=self._title(), subtitle=self._subtitle(), legend=self._legend())
        axes = sheet.axes
        self._draw_edges(axes, positions, labels)
        self._draw_nodes(axes, positions, texts)
        return sheet.figure

    def _is_end(self, node) -> bool:
        return self.graph.nodes[node].get("terminal") is not None

    def _node_text(self, node, data) -> str:
        if data.get("terminal") is None:
            return self._values_text(data) if self.show_values or data.get("initial") else ""
        text = _wrap_items(str(data["outcome"])) if data.get("outcome") else self._values_text(data)
        findings = data.get("findings") or ()
        if data.get("terminal") == "deadlocked":
            findings = [kind for kind in findings if kind != "deadlock"]
            text = "deadlock" + (f"\n{text}" if text else "")
        elif data.get("terminal") in ("failed", "truncated"):
            text = data["terminal"] + (f"\n{text}" if text else "")
        if findings:
            text += ("\n" if text else "") + "\n".join(findings)
        return text

    def _values_text(self, data) -> str:
        """The shared values, then one line per lock held; the node's ``label`` if the graph does
        not name its variables and locks."""
        names, values = self.graph.graph.get("variables"), data.get("values")
        locks, holders = self.graph.graph.get("locks") or (), data.get("holders") or ()
        if names is None or values is None or len(names) != len(values) or len(locks) != len(holders):
            return _wrap_items(str(data.get("label") or ""))
        lines = [_wrap_items(", ".join(f"{name}={shown(value)}" for name, value in zip(names, values)))]
        lines += [f"{lock} held by {holder}" for lock, holder in zip(locks, holders) if holder is not None]
        return "\n".join(line for line in lines if line)

    def _extents(self, node, text) -> tuple[float, float]:
        """How far a node and its text reach left and right of the node's centre, in inches."""
        if self._is_end(node):
            half = max(0.13, _text_size(text, _END_SIZE, True)[0] / 2 if text else 0)
            return half, half
        if not text:
            return 0.07, 0.07
        return 0.1, 0.14 + _text_size(text, _LABEL_SIZE)[0]

    def _layout(self, texts, scale: float) -> dict:
        graph = self.graph
        count = max(len(self.threads), max((len(d.get("counts") or ()) for _, d in graph.nodes(data=True)),
                                           default=1))
        units = [0.0] if count == 1 else [-1 + 2 * i / (count - 1) for i in range(count)]
        extents = {node: self._extents(node, texts[node]) for node in graph}
        pad = 0.14 if self.show_values else 0.08
        inner = max([sum(extents[n]) + pad for n in graph if not self._is_end(n)] + [0.22])
        # Two different step counts at one depth are at least 2 / (threads - 1) units apart.
        unit = inner * max(1, count - 1) / 2
        row = 0.6
        if self.labelled_edges:
            row, unit = 0.95 * scale, max(unit, 0.85 * scale)
        layers: dict[int, list] = {}
        for node, data in graph.nodes(data=True):
            counts = tuple(data.get("counts") or ())
            ideal = unit * sum(c * u for c, u in zip(counts, units))
            layers.setdefault(data.get("depth", 0), []).append((ideal, counts, shown(data.get("values")), node))
        positions: dict = {}
        for depth in sorted(layers):
            members = []
            for ideal, counts, values, node in layers[depth]:
                # Nodes at one point (same counts, other values) go in the order of their parents,
                # which avoids most crossings; then they are pushed apart as little as possible.
                parents = [positions[p][0] for p in graph.pred[node] if p in positions]
                centre = sum(parents) / len(parents) if parents else ideal
                members.append((ideal, centre, counts, values, repr(node), node))
            members.sort(key=lambda m: m[:5])
            gaps = [extents[a[-1]][1] + extents[b[-1]][0] + pad for a, b in pairwise(members)]
            for x, member in zip(_spread([m[0] for m in members], gaps), members):
                positions[member[-1]] = (x, -depth)
        # Rows a little taller when the picture is wide, so that it is at most about twice as
        # wide as tall and the edges do not all lie flat.
        xs = [x for x, _ in positions.values()]
        depth = max(-y for _, y in positions.values()) or 1
        row = max(row, min(2.0, (max(xs) - min(xs)) / depth / 2.2))
        return {node: (x, y * row) for node, (x, y) in positions.items()}

    def _title(self) -> str:
        if self.title is not None:
            return self.title
        scenario = self.graph.graph.get("scenario")
        return f"Every state of {scenario!r}" if scenario else "Every state of the scenario"

    def _subtitle(self) -> str:
        graph = self.graph
        ends = [d for _, d in graph.nodes(data=True) if d.get("terminal") is not None]
        bad = sum(1 for d in ends if d.get("bad") or d.get("terminal") == "deadlocked")
        states, steps = _count(graph.number_of_nodes(), "state"), _count(graph.number_of_edges(), "step")
        parts = [f"{states} joined by {steps}; {_count(len(ends), 'end state')}, {bad} showing a finding"]
        if self.note:
            parts.append(self.note)
        parts.append("time runs downward, one row per step"
                     + (" (labels: thread: step)" if self.labelled_edges else ""))
        if not self.show_values:
            parts.append("shared values of inner states omitted (too many states)")
        return "\n".join(parts)

    def _legend(self):
        kinds = {_node_kind(d) for _, d in self.graph.nodes(data=True)}
        legend = []
        for kind, (marker, face, edge, size, text) in _NODE_KINDS.items():
            if kind in kinds:
                legend.append((Line2D([], [], linestyle="", marker=marker, markerfacecolor=face,
                                      markeredgecolor=edge, markersize=size * 0.8), text))
        for thread in self.threads:
            legend.append((Line2D([], [], color=self.colours[thread], linewidth=2), f"step of {thread}"))
        if self.walked_edges:
            words = "counterexample path" if self.walks == 1 else "paths to findings"
            legend.append((Line2D([], [], color=HIGHLIGHT, linewidth=4), words))
        return legend

    def _draw_edges(self, axes, positions, labels) -> None:
        on_path = self.walked_edges
        segments, colours = [], []
        for source, target, data in sorted(self.graph.edges(data=True), key=lambda e: (repr(e[0]), repr(e[1]))):
            start, end = positions[source], positions[target]
            colour = self.colours.get(data.get("thread"), GREY)
            if (source, target) in on_path:
                axes.add_collection(LineCollection([[start, end]], colors=HIGHLIGHT, linewidths=4.5,
                                                   capstyle="round", zorder=2))
            if self.labelled_edges:
                axes.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9, color=colour,
                                               linewidth=1.4, shrinkA=6, shrinkB=7, zorder=2.5))
                text, (centre, _, angle) = labels[source, target]
                axes.text(*centre, text, fontsize=_EDGE_LABEL_SIZE, rotation=math.degrees(angle),
                          rotation_mode="anchor", ha="center", va="center", color=BLACK, zorder=4,
                          transform_rotates_text=True,
                          bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none",
                                "alpha": 0.9})
            else:
                segments.append([start, end])
                colours.append(colour)
        if segments:
            axes.add_collection(LineCollection(segments, colors=colours, linewidths=0.9, zorder=1.5))

    def _place_labels(self, positions, texts) -> tuple[dict, int]:
        """Each edge's label and its rectangle, and how many labels still overlap something."""
        taken = self._occupied(positions, texts)
        labels, hits = {}, 0
        # Short edges have the least room for their label: they choose first.
        edges = sorted(self.graph.edges(data=True), key=lambda e: (math.dist(positions[e[0]], positions[e[1]]),
                                                                   positions[e[0]], positions[e[1]]))
        for source, target, data in edges:
            text = str(data.get("label") or f"{data.get('thread')}: {data.get('step')}")
            box, overlaps = _label_spot(positions[source], positions[target], text, taken)
            taken.append(box)
            labels[source, target] = (text, box)
            hits += overlaps
        return labels, hits

    def _occupied(self, positions, texts) -> list:
        """Rectangles (centre, half sizes, angle) that edge labels must not cover: nodes and their texts."""
        boxes = []
        for node, (x, y) in positions.items():
            boxes.append(((x, y), (0.1, 0.1), 0.0))
            text = texts[node]
            if not text:
                continue
            if self._is_end(node):
                w, h = _text_size(text, _END_SIZE, True)
                boxes.append(((x, y - 0.16 - h / 2), (w / 2, h / 2), 0.0))
            else:
                w, h = _text_size(text, _LABEL_SIZE)
                boxes.append(((x + 0.12 + w / 2, y), (w / 2 + 0.02, h / 2), 0.0))
        return boxes

    def _draw_nodes(self, axes, positions, texts) -> None:
        graph = self.graph
        path_nodes = self.walked_nodes
        for node, data in sorted(graph.nodes(data=True), key=lambda item: repr(item[0])):
            x, y = positions[node]
            kind = _node_kind(data)
            marker, face, edge, size, _ = _NODE_KINDS[kind]
            if node in path_nodes:
                axes.plot([x], [y], marker="o", markersize=size + 6, color=HIGHLIGHT, linestyle="",
                          zorder=4.5)
            axes.plot([x], [y], marker=marker, markersize=size, markerfacecolor=face, markeredgecolor=edge,
                      markeredgewidth=0.9, linestyle="", zorder=5)
            text = texts[node]
            if not text:
                continue
            if data.get("terminal") is not None:
                colour = HIGHLIGHT if kind in ("bad", "deadlocked") else BLACK
                axes.text(x, y - 0.16, text, fontsize=_END_SIZE, ha="center", va="top", color=colour,
                          weight="bold", zorder=6, linespacing=1.1)
            else:
                axes.text(x + 0.12, y, text, fontsize=_LABEL_SIZE, ha="left", va="center", color=DARK,
                          zorder=6, linespacing=1.05,
                          bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none",
                                "alpha": 0.85})


def _label_spot(start, end, text, taken) -> tuple[tuple, int]:
    """Where a label goes along the edge ``start -> end``: the spot nearest the middle that
    overlaps none of the ``taken`` rectangles, on the edge if possible, else just beside it;
    with how many it overlaps (0 unless there is no free spot)."""
    (x0, y0), (x1, y1) = start, end
    angle = math.atan2(y1 - y0, x1 - x0)
    if angle > math.pi / 2:
        angle -= math.pi
    elif angle < -math.pi / 2:
        angle += math.pi
    w, h = _text_size(text, _EDGE_LABEL_SIZE)
    half = (w / 2 + 0.04, h / 2 + 0.01)
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    room = max(0.0, 0.5 - (half[0] + 0.06) / length)  # keep the label off the end nodes
    along = sorted({0.5 + room * k / 8 for k in range(-8, 9)}, key=lambda t: abs(t - 0.5))
    normal = (-math.sin(angle), math.cos(angle))
    best = None
    for shift in (0.0, half[1] + 0.02, -half[1] - 0.02):
        for t in along:
            centre = (x0 + t * (x1 - x0) + shift * normal[0], y0 + t * (y1 - y0) + shift * normal[1])
            box = (centre, half, angle)
            hits = sum(_overlap(box, other) for other in taken)
            if best is None or hits < best[1]:
                best = (box, hits)
            if hits == 0:
                return best
    return best


def _overlap(first, second) -> bool:
    """Whether two rotated rectangles ``(centre, (half width, half height), angle)`` overlap:
    they do unless one of their four edge directions separates them."""
    corners = []
    for (cx, cy), (hw, hh), angle in (first, second):
        c, s = math.cos(angle), math.sin(angle)
        corners.append([(cx + dx * c - dy * s, cy + dx * s + dy * c)
                        for dx, dy in ((-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh))])
    for _, _, angle in (first, second):
        for axis in ((math.cos(angle), math.sin(angle)), (-math.sin(angle), math.cos(angle))):
            a = [x * axis[0] + y * axis[1] for x, y in corners[0]]
            b = [x * axis[0] + y * axis[1] for x, y in corners[1]]
            if max(a) < min(b) or max(b) < min(a):
                return False
    return True


def _wrap_items(text: str, width: int = 22) -> str:
    """A ``name=value, name=value`` label on as few lines of about ``width`` characters as can
    hold it, breaking only between items."""
    lines = []
    for line in text.split("\n"):
        current = ""
        for item in line.split(", "):
            if current and len(current) + 2 + len(item) > width:
                lines.append(current + ",")
                current = ""
            if len(item) > width:  # an item too long for a line of its own: break it between words
                head, _, item = textwrap.fill(item, width, break_long_words=False).rpartition("\n")
                lines += [f"{current}, {head}" if current else head] if head else []
                current = "" if head else current
            current = f"{current}, {item}" if current else item
        lines.append(current)
    return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _spread(ideal: list[float], gaps: list[float]) -> list[float]:
    """Positions as close as possible (least squares) to the sorted ``ideal`` ones, in the same
    order, with ``gaps[i]`` at least between the i-th and the next: isotonic regression of the
    positions less their cumulative gaps, by pooling adjacent violators."""
    offsets = [0.0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    blocks: list[list[float]] = []  # [sum, count] of shifted positions
    for x, offset in zip(ideal, offsets):
        blocks.append([x - offset, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    shifted = [total / count for total, count in blocks for _ in range(int(count))]
    return [x + offset for x, offset in zip(shifted, offsets)]


# ---------------------------------------------------------------------------------------------
# The lock-order graph

def _draw_lock_order(graph, title) -> Figure:
    scenario = graph.graph.get("scenario")
    cycles = [list(cycle) for cycle in graph.graph.get("cycles") or ()]
    locks = list(graph.nodes)
    edges = sorted(graph.edges(keys=True, data=True),
                   key=lambda e: (repr(e[0]), repr(e[1]), str(e[3].get("thread")), str(e[3].get("location"))))
    labels = [_lock_edge_label(data) for *_, data in edges]
    longest = max((_text_size(label, 8)[0] for label in labels), default=0.5)
    radius = max([0.3] + [_text_size(str(lock), 12, True)[0] / 2 + 0.1 for lock in locks])
    count = len(locks)
    ring = 0.0 if count <= 1 else max(1.3, longest * 0.9, count * (radius + 0.2) / math.pi * 1.6)
    positions = {}
    for i, lock in enumerate(locks):  # clockwise from the left, so two locks sit side by side
        angle = math.pi - 2 * math.pi * i / max(count, 1)
        positions[lock] = (ring * math.cos(angle), ring * math.sin(angle))
    if title is None:
        title = f"Lock order in {scenario!r}" if scenario else "Lock order"
    if cycles:
        subtitle = "\n".join("potential deadlock: " + " \u2192 ".join(map(str, cycle + cycle[:1]))
                             for cycle in cycles)
    elif edges:
        subtitle = "no cycle: the threads take these locks in one order"
    else:
        subtitle = "no lock was taken while holding another"
    legend = []
    if edges:
        subtitle += "\nan arrow held \u2192 taken: a thread took the second lock while holding the first"
        legend.append((Line2D([], [], color=DARK, linewidth=1.4), "thread @ place of the acquire"))
    if any(data.get("in_cycle") for *_, data in edges):
        legend.append((Line2D([], [], color=HIGHLIGHT, linewidth=3), "edge of a cycle (potential deadlock)"))

    # Where every edge and its label go, before drawing, so the figure fits them all.
    groups: dict = {}
    for edge, label in zip(edges, labels):
        groups.setdefault(frozenset((repr(edge[0]), repr(edge[1]))), []).append((edge, label))
    shapes = []  # (u, v, data, label, rad or loop size, label centre)
    for group in groups.values():
        for index, ((u, v, _key, data), label) in enumerate(group):
            if u == v:
                size = 0.45 + 0.35 * index
                shapes.append((u, v, data, label, size, _loop_apex(positions[u], radius, size)))
                continue
            (x0, y0), (x1, y1) = positions[u], positions[v]
            length = math.hypot(x1 - x0, y1 - y0)
            offset = (index - (len(group) - 1) / 2) * min(0.5, 0.75 / length)
            rad = offset if repr(u) <= repr(v) else -offset  # arc3 bends to the left of its direction
            centre = ((x0 + x1) / 2 + 0.5 * rad * (y1 - y0), (y0 + y1) / 2 - 0.5 * rad * (x1 - x0))
            shapes.append((u, v, data, label, rad, centre))
    xs = [x for x, _ in positions.values()] or [0.0]
    ys = [y for _, y in positions.values()] or [0.0]
    bounds = [min(xs) - radius - 0.3, max(xs) + radius + 0.3, min(ys) - radius - 0.3, max(ys) + radius + 0.3]
    for *_, label, _, (cx, cy) in shapes:
        w, h = _text_size(label, 8)
        bounds = [min(bounds[0], cx - w / 2 - 0.2), max(bounds[1], cx + w / 2 + 0.2),
                  min(bounds[2], cy - h / 2 - 0.2), max(bounds[3], cy + h / 2 + 0.2)]
    sheet = _Sheet(*bounds, title=title, subtitle=subtitle, legend=legend)
    axes = sheet.axes
    circles = {}
    in_cycle_locks = {lock for cycle in cycles for lock in cycle}
    for lock in locks:
        hot = graph.nodes[lock].get("in_cycle") or lock in in_cycle_locks
        circle = Circle(positions[lock], radius, facecolor=_tint(HIGHLIGHT, 0.18) if hot else "#EEEEEE",
                        edgecolor=HIGHLIGHT if hot else DARK, linewidth=2.5 if hot else 1.2, zorder=3)
        axes.add_patch(circle)
        circles[lock] = circle
        axes.text(*positions[lock], str(lock), ha="center", va="center", fontsize=12, weight="bold", zorder=4)
    for u, v, data, label, bend, centre in shapes:
        hot = bool(data.get("in_cycle"))
        colour, width = (HIGHLIGHT, 2.6) if hot else (DARK, 1.3)
        if u == v:
            _self_loop(axes, positions[u], radius, bend, colour, width)
        else:
            axes.add_patch(FancyArrowPatch(positions[u], positions[v], connectionstyle=f"arc3,rad={bend}",
                                           arrowstyle="-|>", mutation_scale=16, color=colour, linewidth=width,
                                           patchA=circles[u], patchB=circles[v], shrinkA=2, shrinkB=2,
                                           zorder=2))
        axes.text(*centre, label, ha="center", va="center", fontsize=8, zorder=5,
                  color=HIGHLIGHT if hot else BLACK,
                  bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": colour,
                        "linewidth": 0.8})
    return sheet.figure


def _lock_edge_label(data) -> str:
    thread = data.get("thread")
    location = data.get("location")
    if not location:
        return str(thread)
    from ._text import cell_location

    return f"{thread} @ {os.path.basename(cell_location(str(location)))}"


def _outward(centre) -> tuple[float, float]:
    """The unit vector from the middle of the circle layout through ``centre`` (up for the middle)."""
    x, y = centre
    length = math.hypot(x, y)
    return (x / length, y / length) if length > 1e-9 else (0.0, 1.0)


def _loop_apex(centre, radius, size) -> tuple[float, float]:
    dx, dy = _outward(centre)
    return centre[0] + dx * (radius + size), centre[1] + dy * (radius + size)


def _self_loop(axes, centre, radius, size, colour, width) -> None:
    """A loop on the outer side of a lock: a thread took a lock it already held (a reentrant lock)."""
    (x, y), (dx, dy) = centre, _outward(centre)
    px, py = -dy, dx

    def at(along, across):
        return x + dx * along + px * across, y + dy * along + py * across

    start, end = at(radius * 0.8, -radius * 0.6), at(radius * 0.8, radius * 0.6)
    reach = radius + size * 1.33  # a cubic's middle reaches three quarters of its control points
    curve = CurvePath([start, at(reach, -size), at(reach, size), end],
                      [CurvePath.MOVETO, CurvePath.CURVE4, CurvePath.CURVE4, CurvePath.CURVE4])
    axes.add_patch(FancyArrowPatch(path=curve, arrowstyle="-|>", mutation_scale=14, color=colour,
                                   linewidth=width, zorder=2))


# ---------------------------------------------------------------------------------------------
# Lanes: shared by the happens-before graph and the swimlane

_BOX_HEIGHT = 0.42
_STEP_SIZE = 9.0


def _lane_labels(axes, threads, lane_y, colours, left) -> None:
    for thread in threads:
        axes.text(left, lane_y[thread], str(thread), ha="right", va="center", fontsize=12, weight="bold",
                  color=colours[thread])


def _column_width(texts, size, *, least, most) -> float:
    return min(most, max([least] + [_text_size(t, size)[0] + 0.2 for t in texts]))


# ---------------------------------------------------------------------------------------------
# The happens-before graph

_RELATION_STYLE = {  # relation: colour, line style, arrow, bow side, legend
    "program-order": (GREY, "-", "-|>", 0, "program order"),
    "lock": (BLUE, "-", "-|>", 1, "lock hand-off: release \u2192 next acquire"),
    "race": (HIGHLIGHT, "--", "-", -1, "race: conflicting accesses, unordered"),
}


def _draw_happens_before(graph, title) -> Figure:
    threads = list(graph.graph.get("threads") or ())
    threads += sorted({str(d.get("thread")) for _, d in graph.nodes(data=True)} - set(map(str, threads)))
    colours = _thread_colours(threads)
    events = sorted(graph.nodes, key=lambda n: (n if isinstance(n, int) else 0, repr(n)))
    column = {node: i for i, node in enumerate(events)}
    texts = {node: str(graph.nodes[node].get("label") or node) for node in events}
    marks = {node: str(graph.nodes[node]["mark"]) for node in events if graph.nodes[node].get("mark")}
    width = max(_column_width(texts.values(), _STEP_SIZE, least=0.9, most=1.7),
                min(1.7, max([_text_size(m, 7.5, True)[0] + 0.3 for m in marks.values()] + [0])))
    if len(events) * width > 24:  # long traces: narrower columns, wrapped and smaller text
        width = max(0.8, 24 / len(events))
    boxes = {}
    for node in events:
        text, size = _fit_text(texts[node], width - 0.16, _STEP_SIZE)
        mark = _fit_text(marks[node], width - 0.16, 7.5, bold=True) if node in marks else None
        height = _text_size(text, size)[1] + (_text_size(*mark)[1] if mark else 0) + 0.14
        boxes[node] = (text, size, mark, max(_BOX_HEIGHT, height))
    tallest = max([box[3] for box in boxes.values()] + [_BOX_HEIGHT])
    boxes = {node: (text, size, mark, tallest) for node, (text, size, mark, _) in boxes.items()}
    lane_h = tallest + 0.75
    lane_y = {thread: -i * lane_h for i, thread in enumerate(threads)}
    x = {node: (column[node] + 0.5) * width for node in events}
    y = {node: lane_y.get(str(graph.nodes[node].get("thread")), 0) for node in events}
    label_w = max([_text_size(str(t), 12, True)[0] for t in threads] + [0.3]) + 0.3
    relations = {d.get("relation") for *_, d in graph.edges(data=True)}
    races = sum(1 for *_, d in graph.edges(data=True) if d.get("relation") == "race")
    if title is None:
        title = "Happens-before in one trace"
    subtitle = (f"{len(events)} steps of threads {', '.join(map(str, threads))}; "
                f"{races} racing pair{'s' if races != 1 else ''} of steps\n"
                "time runs left to right; a step happens before every step its arrows lead to")
    legend = [(Line2D([], [], color=style[0], linestyle=style[1], linewidth=2 if key == "race" else 1.4),
               style[4]) for key, style in _RELATION_STYLE.items() if key in relations]
    if relations - set(_RELATION_STYLE):
        legend.append((Line2D([], [], color=DARK, linestyle=":", linewidth=1.2), "other relation"))
    if marks:
        legend.append((Patch(facecolor="white", edgecolor=HIGHLIGHT, linewidth=2.5), "step of the finding"))
    top = 0.3 + lane_h / 2
    right = len(events) * width + 0.1
    sheet = _Sheet(-label_w, right, min(lane_y.values(), default=0) - lane_h / 2, top, title=title,
                   subtitle=subtitle, legend=legend)
    axes = sheet.axes
    _lane_bands(axes, threads, lane_y, lane_h, -label_w + 0.05, right)
    _lane_labels(axes, threads, lane_y, colours, -0.12)
    axes.text(-0.12, top - 0.15, "step", ha="right", va="center", fontsize=7.5, color=GREY)
    patches = {}
    for node in events:
        colour = colours.get(str(graph.nodes[node].get("thread")), GREY)
        text, size, mark, height = boxes[node]
        axes.text(x[node], top - 0.15, str(node + 1 if isinstance(node, int) else node), ha="center",
                  va="center", fontsize=7.5, color=GREY)
        patch = FancyBboxPatch((x[node] - (width - 0.12) / 2, y[node] - height / 2), width - 0.12, height,
                               boxstyle="round,pad=0,rounding_size=0.05", facecolor=_tint(colour, 0.15),
                               edgecolor=HIGHLIGHT if mark else colour, linewidth=2.5 if mark else 1.0,
                               zorder=3)
        axes.add_patch(patch)
        patches[node] = patch
        if mark:
            mark_h = _text_size(*mark)[1]
            axes.text(x[node], y[node] + mark_h / 2 - 0.02, text, ha="center", va="center", fontsize=size,
                      zorder=4, linespacing=1.05)
            axes.text(x[node], y[node] - height / 2 + 0.06, mark[0], ha="center", va="bottom",
                      fontsize=mark[1], color=HIGHLIGHT, style="italic", weight="bold", zorder=4,
                      linespacing=1.0)
        else:
            axes.text(x[node], y[node], text, ha="center", va="center", fontsize=size, zorder=4,
                      linespacing=1.05)
    for u, v, data in sorted(graph.edges(data=True), key=lambda e: (column[e[0]], column[e[1]])):
        relation = data.get("relation")
        colour, style, arrow, side, _ = _RELATION_STYLE.get(relation, (DARK, ":", "-|>", 1, ""))
        length = math.dist((x[u], y[u]), (x[v], y[v])) or 1.0
        if relation == "program-order":
            rad = 0.0
        elif y[u] == y[v]:
            rad = -min(0.5, 0.8 / length)  # two steps of one lane: arc over the steps between them
        else:
            rad = side * min(0.3, 0.5 / length)  # the bow stays within about a quarter inch
        axes.add_patch(FancyArrowPatch((x[u], y[u]), (x[v], y[v]), patchA=patches[u], patchB=patches[v],
                                       connectionstyle=f"arc3,rad={rad}", arrowstyle=arrow, mutation_scale=12,
                                       color=colour, linestyle=style,
                                       linewidth=1.8 if relation == "race" else 1.3, shrinkA=1, shrinkB=1,
                                       zorder=2 if relation == "program-order" else 2.5))
        if relation == "lock" and data.get("lock") is not None:
            mx = (x[u] + x[v]) / 2 + 0.5 * rad * (y[v] - y[u])
            my = (y[u] + y[v]) / 2 - 0.5 * rad * (x[v] - x[u])
            axes.text(mx, my, str(data["lock"]), fontsize=7.5, ha="center", va="center", color=BLUE,
                      style="italic", zorder=6,
                      bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})
    return sheet.figure


def _lane_bands(axes, threads, lane_y, lane_h, left, right) -> None:
    for i, thread in enumerate(threads):
        if i % 2 == 0:
            axes.add_patch(FancyBboxPatch((left, lane_y[thread] - lane_h / 2), right - left, lane_h,
                                          boxstyle="square,pad=0", facecolor="#F4F4F4", edgecolor="none",
                                          zorder=0))


# ---------------------------------------------------------------------------------------------
# The swimlane

_MAX_WIDTH = 16.0  # inches of steps per band before the trace wraps onto another band
_STEP_LINES = 3  # lines a step's label may take; the rest is cut with "…" (the whole shows on hover)
_STEP_MIN_SIZE = 7.5  # points: a label shrinks no further, it wraps or is cut instead
_THREAD_WIDTH = 2.6  # inches a thread's name may take at the left; a longer one is cut in the middle
_BAR_HEIGHT = 0.16
_BAR_COLOUR = "#555555"


def _draw_swimlane(trace, title, replay=None) -> Figure:
    threads = [str(t) for t in trace.threads]
    threads += sorted({e.thread for e in trace.events} - set(threads))
    colours = _thread_colours(threads)
    events = list(trace.events)
    blocked = {str(t): lock for t, lock in trace.blocked.items()}
    columns = len(events) + (1 if blocked else 0)
    waiting = trace.waiting
    texts = [e.describe() for e in events] + [f"BLOCKED\n{waiting.get(t) or f'acquire {lock}'}"
                                              for t, lock in blocked.items()]
    width = _column_width(texts, _STEP_SIZE, least=1.0, most=2.0)
    labels = [_step_label(text, width - 0.18) for text in texts[:len(events)]]
    box_h = max([_BOX_HEIGHT] + [lines * size * 1.2 / 72 + 0.14 for _, size, lines in labels])
    names = {t: _middle_cut(t, _THREAD_WIDTH, 12, bold=True) for t in threads}
    label_w = max([_text_size(names[t], 12, True)[0] for t in threads] + [0.3]) + 0.3
    per_band = max(6, int(_MAX_WIDTH / width))
    bands = max(1, math.ceil(columns / per_band))
    per_band = math.ceil(columns / bands) if columns else 1

    holds = _lock_holds(events, blocked, columns)
    levels = _stack(holds)
    depth = {thread: 1 + max([level for (t, *_), level in zip(holds, levels) if t == thread], default=-1)
             for thread in threads}
    marks = {index: str(text) for index, text in trace.marks.items()}
    mark_h = 0.32 if marks else 0.0
    lane_h = {t: 0.25 + mark_h + box_h + 0.08 + depth[t] * (_BAR_HEIGHT + 0.05) + 0.12 for t in threads}
    header = 0.35
    band_h = header + sum(lane_h.values())
    band_gap = 0.35
    total_h = bands * band_h + (bands - 1) * band_gap

    if title is None:
        title = f"One interleaving of thread{'s' if len(threads) != 1 else ''} {', '.join(threads)}"
    switches = sum(1 for a, b in pairwise(events) if a.thread != b.thread)
    subtitle = (f"{len(events)} step{'s' if len(events) != 1 else ''}, {switches} context "
                f"switch{'es' if switches != 1 else ''}, {trace.preemptions} "
                f"preemption{'s' if trace.preemptions != 1 else ''}")
    if blocked:
        subtitle += "\nends in deadlock: " + ", ".join(f"{t} waits for {lock}" for t, lock in blocked.items())
    if len(trace.schedule) <= 40:
        subtitle += "\n" + (replay or f"replay(scenario, {list(trace.schedule)!r})")
    legend = []
    if marks:
        legend.append((Patch(facecolor="white", edgecolor=HIGHLIGHT, linewidth=2.5), "step of the finding"))
    if holds:
        legend.append((Patch(facecolor=_BAR_COLOUR, edgecolor="none"), "lock held"))
    if switches:
        legend.append((Line2D([], [], color=GREY, linestyle=":", linewidth=1.2), "context switch"))
    if blocked:
        legend.append((Patch(facecolor=_tint(HIGHLIGHT, 0.12), edgecolor=HIGHLIGHT, hatch="///"),
                       "blocked at the end"))
    sheet = _Sheet(-label_w, per_band * width + 0.1, -total_h, 0, title=title, subtitle=subtitle,
                   legend=legend, min_width=5.0)
    axes = sheet.axes
    box_y, lane_top = {}, {}
    for band in range(bands):
        first = band * per_band
        shown = range(first, min(columns, first + per_band))
        top = -band * (band_h + band_gap)
        y = top - header
        for thread in threads:
            lane_top[band, thread] = y
            box_y[band, thread] = y - 0.25 - mark_h - box_h / 2
            y -= lane_h[thread]
        band_lane_y = {t: box_y[band, t] for t in threads}
        for i, thread in enumerate(threads):
            if i % 2 == 0:
                axes.add_patch(FancyBboxPatch((-label_w + 0.05, lane_top[band, thread] - lane_h[thread]),
                                              label_w - 0.05 + len(shown) * width, lane_h[thread],
                                              boxstyle="square,pad=0", facecolor="#F4F4F4", edgecolor="none",
                                              zorder=0))
        for thread in threads:
            name = axes.text(-0.12, band_lane_y[thread], names[thread], ha="right", va="center", fontsize=12,
                             weight="bold", color=colours[thread])
            if names[thread] != thread:
                _hover(sheet.figure, name, thread)
        axes.text(-0.12, top - header / 2, "step", ha="right", va="center", fontsize=7.5, color=GREY)
        for c in shown:
            cx = (c - first + 0.5) * width
            axes.text(cx, top - header / 2, str(c + 1) if c < len(events) else "end", ha="center",
                      va="center", fontsize=7.5, color=GREY)
        for c in shown:
            cx = (c - first + 0.5) * width
            if c < len(events):
                event = events[c]
                mark = marks.get(event.index)
                _step_box(axes, cx, box_y[band, event.thread], width, box_h, labels[c], texts[c],
                          colours[event.thread], mark, sheet.figure, f"{event.thread}: step {c + 1}")
                if c > first and events[c - 1].thread != event.thread:
                    _switch(axes, cx - width / 2, box_y[band, events[c - 1].thread], box_y[band, event.thread],
                            lane_top[band, threads[0]], lane_top[band, threads[-1]] - lane_h[threads[-1]])
            else:
                for thread, lock in blocked.items():
                    _blocked_box(axes, cx, box_y[band, thread], width, box_h,
                                 f"BLOCKED\n{trace.waiting.get(thread) or f'acquire {lock}'}")
        for (thread, lock, start, stop), level in zip(holds, levels):
            lo, hi = max(start, shown.start), min(stop, shown.stop - 1)
            if lo > hi:
                continue
            left = (lo - first) * width + 0.06
            right = (hi - first + 1) * width - 0.06
            bar_y = box_y[band, thread] - box_h / 2 - 0.1 - level * (_BAR_HEIGHT + 0.05)
            axes.add_patch(FancyBboxPatch((left, bar_y - _BAR_HEIGHT), right - left, _BAR_HEIGHT,
                                          boxstyle="round,pad=0,rounding_size=0.04", facecolor=_BAR_COLOUR,
                                          edgecolor="none", zorder=2))
            axes.text(left + 0.06, bar_y - _BAR_HEIGHT / 2, f"holds {lock}", ha="left", va="center",
                      fontsize=7, color="white", weight="bold", zorder=3)
    return sheet.figure


def _step_box(axes, x, y, width, height, label, text, colour, mark, figure, where) -> None:
    fitted, size, _lines = label
    box = _box(axes, x, y, width - 0.1, height, face=_tint(colour, 0.15),
               edge=HIGHLIGHT if mark else colour, linewidth=2.5 if mark else 1.0)
    words = axes.text(x, y, fitted, ha="center", va="center", fontsize=size, zorder=4, linespacing=1.1)
    hover = f"{where}: {text}" + (f" ({mark})" if mark else "")
    _hover(figure, box, hover)
    _hover(figure, words, hover)
    if mark:
        mark_text, mark_size = _fit_text(mark, width - 0.04, 7.5, bold=True)
        axes.text(x, y + height / 2 + 0.05, mark_text, ha="center", va="bottom", fontsize=mark_size,
                  color=HIGHLIGHT, style="italic", weight="bold", zorder=4, linespacing=1.0)


def _step_label(text: str, width: float) -> tuple[str, float, int]:
    """``(label, size, lines)``: a step's text broken before its ``->`` or ``=`` and wherever
    a line is full, in at most ``_STEP_LINES`` lines; the font shrinks from ``_STEP_SIZE``
    to ``_STEP_MIN_SIZE`` before the last line is cut with "…". A label never overflows its box."""
    size = _STEP_SIZE
    lines = _wrapped(text, width, size)
    while len(lines) > _STEP_LINES and size > _STEP_MIN_SIZE:
        size -= 0.5
        lines = _wrapped(text, width, size)
    if len(lines) > _STEP_LINES:
        lines = lines[:_STEP_LINES]
        last = lines[-1]
        while last and _text_size(last + "…", size)[0] > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return "\n".join(lines), size, len(lines)


def _wrapped(text: str, width: float, size: float) -> list[str]:
    """``text`` in lines of at most ``width`` inches: a new line before ``->`` or ``=``, then
    each line as long as fits, ending at a space, comma or underscore when one is near its end."""
    for sep in (" -> ", " = "):
        if sep in text and _text_size(text, size)[0] > width:
            head, tail = text.split(sep, 1)
            parts = [head, f"{sep.strip()} {tail}"]
            break
    else:
        parts = [text]
    lines = []
    for part in parts:
        while part:
            low, high = 1, len(part)  # the longest start of part that fits
            while low < high:
                middle = (low + high + 1) // 2
                if _text_size(part[:middle], size)[0] <= width:
                    low = middle
                else:
                    high = middle - 1
            cut = low
            if cut < len(part):
                soft = max(part.rfind(" ", 0, cut + 1), part.rfind(",", 0, cut) + 1,
                           part.rfind("_", 0, cut) + 1)
                if soft > cut // 2:
                    cut = soft
            lines.append(part[:cut].rstrip())
            part = part[cut:].lstrip()
    return lines


def _middle_cut(text: str, width: float, size: float, *, bold: bool = False) -> str:
    """``text``, or its start and end around "…" when it is wider than ``width`` inches."""
    if _text_size(text, size, bold)[0] <= width:
        return text
    def cut(keep: int) -> str:
        return f"{text[:(keep + 1) // 2]}…{text[len(text) - keep // 2:]}"

    keep = len(text)
    while keep > 2 and _text_size(cut(keep), size, bold)[0] > width:
        keep -= 1
    return cut(keep)


def _hover(figure, artist, text: str) -> None:
    """Give ``artist`` the full ``text`` that shows on hover in the SVG the report and notebooks
    embed (a ``<title>``; ``report_html._svg`` writes it)."""
    titles = figure.__dict__.setdefault("hover_titles", {})
    gid = f"hover-{len(titles) + 1}"
    artist.set_gid(gid)
    titles[gid] = text


def _blocked_box(axes, x, y, width, height, text) -> None:
    _box(axes, x, y, width - 0.1, height, face=_tint(HIGHLIGHT, 0.12), edge=HIGHLIGHT, linewidth=2.0,
         hatch="///")
    fitted, size = _fit_text(text, width - 0.18, 8.0, bold=True)
    axes.text(x, y, fitted, ha="center", va="center", fontsize=size, weight="bold", color=HIGHLIGHT,
              zorder=4, linespacing=1.0, bbox={"boxstyle": "round,pad=0.05", "facecolor": "white",
                                               "edgecolor": "none"})


def _switch(axes, x, y_from, y_to, top, bottom) -> None:
    """A context switch between two columns: a dotted rule and a hop from one lane to the other."""
    axes.plot([x, x], [bottom, top], color=GREY, linestyle=":", linewidth=1.0, zorder=1)
    axes.add_patch(FancyArrowPatch((x - 0.1, y_from), (x + 0.1, y_to), arrowstyle="-|>", mutation_scale=8,
                                   color=GREY, linewidth=1.0, connectionstyle="arc3,rad=0", zorder=1.5))


def _lock_holds(events, blocked, columns) -> list[tuple[str, str, int, int]]:
    """``(thread, lock, first column, last column)`` for every stretch a thread held a lock;
    a lock never released is held to the last column. A reentrant lock taken twice is held
    until its last release. An acquire that returned False (``blocking=False``, a timeout)
    took nothing. A condition's ``wait`` lets go of its lock until the ``wake`` that takes it
    back: the lock is the condition's own (acquired by the condition's name) or, where the
    trace does not name it, the one lock the waiting thread holds. (A trace does not say
    which objects are conditions: one that is woken or notified in it is; an Event's or a
    Barrier's ``wait`` lets go of nothing.)"""
    conditions = {e.target for e in events if e.kind in ("wake", "expire", "notify", "notify_all")}
    holds, open_since, depth, parked = [], {}, {}, {}
    for column, event in enumerate(events):
        key = (event.thread, event.target)
        if event.kind == "acquire" and event.value is not False:
            open_since.setdefault(key, column)
            depth[key] = depth.get(key, 0) + 1
        elif event.kind == "release" and key in open_since:
            depth[key] -= 1
            if depth[key] == 0:
                holds.append((event.thread, event.target, open_since.pop(key), column))
        elif event.kind == "wait":
            mine = [held for held in open_since if held[0] == event.thread]
            held = (key if key in open_since else
                    mine[0] if len(mine) == 1 and event.target in conditions else None)
            if held is not None:
                holds.append((event.thread, held[1], open_since.pop(held), column))
                parked[key] = (held, depth.pop(held))
        elif event.kind == "wake" and key in parked:
            held, parked_depth = parked.pop(key)
            open_since[held], depth[held] = column, parked_depth
    for (thread, lock), start in open_since.items():
        holds.append((thread, lock, start, columns - 1))
    holds.sort(key=lambda h: (h[2], h[0], h[1]))
    return holds


def _stack(holds) -> list[int]:
    """A level per hold so that one thread's overlapping holds sit on separate rows."""
    levels, ends = [], {}
    for thread, _lock, start, stop in holds:
        rows = ends.setdefault(thread, [])
        level = next((i for i, end in enumerate(rows) if end < start), len(rows))
        if level == len(rows):
            rows.append(stop)
        else:
            rows[level] = stop
        levels.append(level)
    return levels
