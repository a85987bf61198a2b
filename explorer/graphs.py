"""Graphs of what a scenario can do, as networkx graphs.

- :func:`state_graph`: every reachable global state, and the steps between them;
- :func:`lock_order_graph`: which locks were taken while holding which, cycles marked;
- :func:`happens_before_graph`: one trace's events, ordered by program order and locks,
  with its data races.

>>> from explorer import Scenario, read, write
>>> def increment():
...     value = yield read("x")
...     yield write("x", value + 1)
>>> counter = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})
>>> graph = state_graph(counter)
>>> len(graph), sorted(data["outcome"] for _, data in graph.nodes(data=True) if data["terminal"])
(12, ['x=1', 'x=2'])

Each graph exports with :func:`explorer.export.write_graph` (DOT, GraphML, JSON, SVG, PNG).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._conveniences import provides
from ._engine.program import Program
from ._engine.state_space import explore_states
from ._text import shown
from .errors import ScheduleError
from .outcomes import outcome_key
from .settings import DEFAULT_MAX_STEPS, Settings

if TYPE_CHECKING:
    import networkx as nx

    from .findings import Trace
    from .results import ExplorationResult
    from .scenario import Scenario

__all__ = ["DEFAULT_MAX_STATES", "happens_before_graph", "lock_order_graph", "path_of", "state_graph"]

#: States :func:`state_graph` builds before it stops and says the scenario is too large.
DEFAULT_MAX_STATES = 20_000


@provides
def state_graph(scenario: Scenario, *, max_states: int = DEFAULT_MAX_STATES,
                max_steps: int = DEFAULT_MAX_STEPS) -> nx.DiGraph:
    """The reachable global states of ``scenario`` (a ``networkx.DiGraph``).

    Nodes are ints, ``0`` the initial state, with attributes ``depth`` (steps from
    the start), ``counts`` (steps per thread), ``values`` (shared values in the
    scenario's order), ``holders`` (each lock's holder or None), ``initial``,
    ``terminal`` (None, ``completed``, ``deadlocked``, ``failed`` or ``truncated``),
    ``outcome`` (text, for completed states), ``findings`` (kinds shown there), ``bad``
    (a terminal state that shows a finding) and ``label``. Edges carry ``thread``,
    ``step`` and ``label``. Two paths to equal states (same values, lock holders, and
    threads that have taken the same steps and read the same values, or finished with
    the same result) meet in one node. Raises :class:`explorer.errors.GraphTooLarge`
    beyond ``max_states``.
    """
    from . import _graph_types as _types

    from ._engine.search import outcome_findings
    from .explore import _check_scenario

    _check_scenario(scenario)
    Settings(max_steps=max_steps)
    program = Program(scenario)
    with program.session():
        space = explore_states(program, max_states=max_states, max_steps=max_steps)
    names, var_names = program.thread_names, program.var_names

    completed = {}
    for node, attrs in enumerate(space.nodes):
        if attrs["terminal"] == "completed":
            # keyed as the search keys outcomes: 1, True and 1.0 apart, NaNs as one
            completed[node] = outcome_key(tuple(attrs["values"]), tuple(attrs["returns"]))
    flagged: dict = {}
    for key, raw in outcome_findings(program, sorted(set(completed.values()), key=shown), max_steps):
        flagged.setdefault(key, []).append(raw.kind)

    graph = _types.DiGraph(kind="state", scenario=scenario.name, threads=names, variables=var_names,
                       locks=program.lock_names)
    for node, attrs in enumerate(space.nodes):
        findings = list(attrs["findings"])
        outcome = None
        if node in completed:
            parts = [f"{n}={shown(v)}" for n, v in zip(var_names, attrs["values"])]
            parts += [f"{n} returned {shown(v)}" for n, v in zip(names, attrs["returns"]) if v is not None]
            outcome = ", ".join(parts) or "(no variables)"
            findings += flagged.get(completed[node], [])
        if attrs["terminal"] == "deadlocked":
            findings.append("deadlock")
        label = ", ".join(f"{n}={shown(v)}" for n, v in zip(var_names, attrs["values"]))
        held = [f"{lock}:{holder}" for lock, holder in zip(program.lock_names, attrs["holders"]) if holder]
        if held:
            label += ("\n" if label else "") + " ".join(held)
        graph.add_node(node, depth=attrs["depth"], counts=attrs["counts"], values=attrs["values"],
                       holders=attrs["holders"], initial=node == 0, terminal=attrs["terminal"],
                       outcome=outcome, findings=tuple(dict.fromkeys(findings)),
                       bad=attrs["terminal"] is not None and bool(findings), label=label)
    from .findings import Event

    for source, target, thread, step, value in space.edges:
        event = Event(0, names[thread], step[0], step[1], step[2] if step[0] == "write" else value)
        graph.add_edge(source, target, thread=names[thread], step=event.describe(),
                       label=f"{names[thread]}: {event.describe()}")
    return graph


def path_of(graph: nx.DiGraph, schedule: Sequence[str] | Trace) -> list[int]:
    """The nodes a schedule (or a finding's trace) walks through in a state graph, from 0.

    >>> from explorer import Scenario, read, write
    >>> def increment():
    ...     value = yield read("x")
    ...     yield write("x", value + 1)
    >>> graph = state_graph(Scenario("c", variables={"x": 0}, threads={"A": increment, "B": increment}))
    >>> [graph.nodes[n]["depth"] for n in path_of(graph, ["A", "B", "A", "B"])]
    [0, 1, 2, 3, 4]
    """
    schedule = getattr(schedule, "schedule", schedule)
    node, path = 0, [0]
    for position, thread in enumerate(schedule):
        step = next((v for _, v, d in graph.out_edges(node, data=True) if d["thread"] == thread), None)
        if step is None:
            raise ScheduleError(f"schedule position {position} names thread {thread!r}, which cannot "
                                f"take a step from state {node} of this state graph")
        node = step
        path.append(node)
    return path


@provides
def lock_order_graph(result: ExplorationResult) -> nx.MultiDiGraph:
    """Which lock each thread acquired while holding which, over all explored executions.

    An edge ``held -> acquired`` carries ``thread``, ``location`` (of the acquire) and
    ``held`` (every lock held then); edges and locks on a reported lock-order cycle
    have ``in_cycle=True``, and ``graph.graph["cycles"]`` lists those cycles.
    """
    from . import _graph_types as _types

    cycles = [list(f.details["cycle"][:-1]) for f in result.findings if f.kind == "lock-order-cycle"]
    cycle_edges = {(f_edge[0], f_edge[1], f_edge[2], tuple(f_edge[3]))
                   for f in result.findings if f.kind == "lock-order-cycle" for f_edge in f.details["edges"]}
    graph = _types.MultiDiGraph(kind="lock-order", scenario=result.scenario.name, cycles=cycles)
    in_cycle = {lock for cycle in cycles for lock in cycle}
    for lock in result.scenario.locks:
        graph.add_node(lock, in_cycle=lock in in_cycle)
    for edge in result.lock_order:
        held, acquired, thread, holding, location = edge
        graph.add_edge(held, acquired, thread=thread, location=location, held=holding,
                       in_cycle=(held, acquired, thread, holding) in cycle_edges)
    return graph


def happens_before_graph(trace: Trace) -> nx.DiGraph:
    """One trace's events as nodes, with ``relation`` edges: ``program-order`` (a thread's
    consecutive steps), ``lock`` (a release to the next acquire of that lock by another
    thread) and ``race`` (conflicting accesses that neither orders).

    >>> from explorer import Scenario, replay, read, write
    >>> def increment():
    ...     value = yield read("x")
    ...     yield write("x", value + 1)
    >>> scenario = Scenario("c", variables={"x": 0}, threads={"A": increment, "B": increment})
    >>> graph = happens_before_graph(replay(scenario, ["A", "B", "A", "B"]).trace)
    >>> sorted((u, v) for u, v, d in graph.edges(data=True) if d["relation"] == "race")
    [(0, 3), (1, 2), (2, 3)]
    """
    from . import _graph_types as _types

    from .detectors.races import unordered_pairs

    graph = _types.DiGraph(kind="happens-before", threads=tuple(trace.threads))
    last: dict[str, int] = {}
    released: dict[str, tuple[int, str]] = {}
    for event in trace.events:
        graph.add_node(event.index, thread=event.thread, label=event.describe(), location=event.location,
                       mark=trace.marks.get(event.index))
        before = last.get(event.thread)
        if before is not None:
            graph.add_edge(before, event.index, relation="program-order")
        last[event.thread] = event.index
        if event.kind == "release":
            released[event.target] = (event.index, event.thread)
        elif event.kind == "acquire" and event.target in released:
            source, holder = released[event.target]
            if holder != event.thread:
                graph.add_edge(source, event.index, relation="lock", lock=event.target)
    pairs = unordered_pairs([(e.thread, e.kind, e.target) for e in trace.events])
    for first, second in pairs:
        graph.add_edge(first, second, relation="race", variable=trace.events[first].target)
    return graph
