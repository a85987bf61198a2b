"""The reachable global states of a program, and the steps between them.

A global state is the shared values, each lock's holder and depth, and for each
thread what determines its future: for a running thread the steps it has taken and
the values its reads returned (a deterministic thread's generator is a function of
exactly that), for a finished one its return value. Equal states reached by
different paths are one state, so the two-thread counter's interleavings fold into
the familiar lattice.

The locals of a suspended generator would merge more states, but CPython keeps part
of a generator's state on its value stack (``(yield read("a")) + (yield read("b"))``
holds the first value there), where no API can see it; merging on locals would be
unsound, so we do not.

Generators cannot be copied, so a state is expanded by replaying the path to it:
each edge costs one run of at most the path's length.
"""

from __future__ import annotations

from ..errors import GraphTooLarge, NondeterminismError
from .execution import COMPLETED, Execution
from .frames import Opaque, value_token
from .program import Program

FINISHED = "finished"


class _Reached(Exception):
    """Raised from the chooser to stop a run once it reaches the state being looked for."""


class StateSpace:
    """Nodes (int ids, 0 the initial state) with their attributes, and labelled edges."""

    def __init__(self) -> None:
        self.nodes: list[dict] = []
        self.edges: list[tuple[int, int, int, object, object]] = []  # (from, to, thread, step, value)


#: Steps the state graph's replays may take in all: each edge replays its path from the
#: start, so a path as deep as max_steps (a thread polling in a loop) costs its depth
#: squared, minutes for one path of 10,000 steps, before max_states is reached.
MAX_REPLAYED = 2_000_000


def explore_states(program: Program, *, max_states: int, max_steps: int) -> StateSpace:
    """Every reachable state, by depth-first search with one replay per edge.

    Raises :class:`GraphTooLarge` beyond ``max_states`` states, or once the replays
    have taken :data:`MAX_REPLAYED` steps.
    """
    space = StateSpace()
    ids: dict = {}
    replayed = [0]
    def snapshot(run: Execution, status: str | None, enabled: list[int]) -> tuple[tuple, dict]:
        k = len(run.pending)  # a run may have started threads
        histories: list[list] = [[] for _ in range(k)]
        for thread, step, value, _enabled in run.events:
            histories[thread].append((step, value))
        threads = []
        for i in range(k):
            if run.pending[i] is None and status != "failed":
                threads.append((FINISHED, _hashable(run.returns[i])))
            else:
                threads.append(_hashable(tuple(histories[i])))
        values = tuple(run.values.values())
        holders = tuple(run.owner.values())
        key = (_hashable(values), holders, tuple(run.depth.values()), _hashable(run.object_keys()),
               tuple(threads), status)
        attrs = {
            "depth": len(run.events),
            "counts": tuple(len(h) for h in histories),
            "values": values,
            "holders": tuple(None if h is None else program.thread_names[h] for h in holders),
            "terminal": status,
            "enabled": tuple(enabled),
            "returns": tuple(run.returns),
            "findings": tuple(raw.kind for raw in run.findings if raw.severity == "error"),
        }
        return key, attrs

    def add(key: tuple, attrs: dict) -> tuple[int, bool]:
        node = ids.get(key)
        if node is not None:
            return node, False
        if len(space.nodes) >= max_states:
            raise GraphTooLarge(
                f"scenario {program.scenario.name!r} has more than max_states={max_states} "
                f"reachable states; explorer.graphs.state_graph(scenario, max_states=N) builds a "
                f"larger one, or look at a finding's trace (its swimlane) instead. A thread that "
                f"loops without end makes the state space infinite."
            )
        node = ids[key] = len(space.nodes)
        space.nodes.append(attrs)
        return node, True

    def run(path: list[int]) -> tuple[tuple, dict, tuple | None]:
        """Follow ``path``; the state it reaches, and the event of its last step."""
        replayed[0] += len(path)
        if replayed[0] > MAX_REPLAYED:
            raise GraphTooLarge(
                f"scenario {program.scenario.name!r}'s state graph is out of reach: it is built by "
                f"running each state's path from the start, and after {len(space.nodes):,} states "
                f"its paths run {len(path):,} steps deep ({MAX_REPLAYED:,} steps run in all). A "
                f"thread that polls in a loop makes paths as deep as max_steps: pass a smaller "
                f"max_steps, or look at a finding's trace instead.")
        execution = Execution(program)
        reached: list = []

        def choose(enabled: list[int]) -> int:
            position = len(execution.events)
            if position < len(path):
                thread = path[position]
                if thread not in enabled:
                    raise NondeterminismError(
                        f"scenario {program.scenario.name!r} is nondeterministic: thread "
                        f"{program.thread_names[thread]!r} was enabled at step {position + 1} of "
                        f"this schedule before and is not now"
                    )
                return thread
            reached.append(snapshot(execution, None, enabled))
            raise _Reached

        try:
            status = execution.run(choose, max_steps)
        except _Reached:
            key, attrs = reached[0]
        else:
            key, attrs = snapshot(execution, "completed" if status is COMPLETED else status, [])
        return key, attrs, execution.events[len(path) - 1] if path else None

    key, attrs, _ = run([])
    root, _ = add(key, attrs)
    stack = [(root, [])]
    while stack:
        node, path = stack.pop()
        for thread in reversed(space.nodes[node]["enabled"]):
            step_path = path + [thread]
            key, attrs, event = run(step_path)
            child, new = add(key, attrs)
            space.edges.append((node, child, thread, event[1], event[2]))
            if new and attrs["terminal"] is None:
                stack.append((child, step_path))
    return space


def _hashable(value: object) -> object:
    """``value`` as a node's key holds it: by its token where it has one (``1``, ``1.0`` and
    ``True`` are three states), else by its hash, or by its text where it has none."""
    try:
        return value_token(value)
    except (Opaque, RecursionError):
        pass
    try:
        hash(value)
    except TypeError:
        return ("unhashable", repr(value))
    return value
