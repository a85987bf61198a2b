"""Lock-order cycles: potential deadlocks, whether or not an explored execution deadlocked.

A thread that acquires lock M while holding lock L adds the edge L -> M to the
lock-order graph. A cycle L1 -> L2 -> ... -> L1 whose edges come from different
threads, and whose edges share no held lock (a common "gate" lock would keep the
threads from being inside the cycle at once), can deadlock. This is the Goodlock
condition (Havelund 2000; Bensalem and Havelund 2005).
"""

from __future__ import annotations

from itertools import product

from ..findings import RawFinding

#: Longest lock cycle looked for; longer ones are rare and their number explodes.
MAX_CYCLE = 8
#: Combinations of edge instances tried per cycle of locks before giving up on it.
MAX_COMBINATIONS = 10_000


def lock_order_edges(events: list[tuple]) -> dict[tuple, int]:
    """``{(held, acquired, thread, locks held then): position}`` for one execution.

    The position is the acquisition's first occurrence. Re-acquiring a held
    (re-entrant) lock adds no edge.

    >>> from explorer import acquire, release
    >>> events = [(0, acquire("a"), None, [0]), (0, acquire("b"), None, [0]),
    ...           (0, release("b"), None, [0]), (0, release("a"), None, [0])]
    >>> lock_order_edges(events)
    {('a', 'b', 0, ('a',)): 1}
    """
    held: dict[int, dict[str, int]] = {}
    edges: dict[tuple, int] = {}
    for position, (thread, step, _value, _enabled) in enumerate(events):
        kind = step[0]
        if kind == "acquire":
            mine = held.setdefault(thread, {})
            lock = step[1]
            if lock in mine:
                mine[lock] += 1
                continue
            if mine:
                holding = tuple(sorted(mine))
                for before in mine:
                    edges.setdefault((before, lock, thread, holding), position)
            mine[lock] = 1
        elif kind == "release":
            mine = held.get(thread)
            lock = step[1]
            if mine and lock in mine:
                mine[lock] -= 1
                if not mine[lock]:
                    del mine[lock]
    return edges


class LockOrderEdges:
    """:func:`lock_order_edges` of a search's executions one after another, each call
    analysing only the events past the prefix it shares with the previous call's (see
    :class:`.lost_update.LostUpdateKeys`: each position's change is undone back to it).

    >>> from explorer import acquire, release
    >>> edges = LockOrderEdges()
    >>> first = [(0, acquire("a"), None, [0]), (0, acquire("b"), None, [0]),
    ...          (0, release("b"), None, [0]), (0, release("a"), None, [0])]
    >>> edges.of(first, 0)
    {('a', 'b', 0, ('a',)): 1}
    >>> edges.of(first[:1] + [(0, release("a"), None, [0])], 1)
    {}
    """

    __slots__ = ("edges", "events", "held", "undo")

    def __init__(self) -> None:
        self.events: list[tuple] = []  # the events of the last call
        self.held: dict[int, dict[str, int]] = {}
        self.edges: dict[tuple, int] = {}
        # per position analysed: None, or for a step on a lock (the thread's held locks
        # before it, or None for a re-entrant acquire or inner release, the edges it added)
        self.undo: list = []

    def of(self, events: list[tuple], agreed: int) -> dict[tuple, int]:
        """``lock_order_edges(events)``, where ``events[:agreed]`` equal the last call's events."""
        undo = self.undo
        if agreed < len(undo):
            self._rewind(agreed)
        held, edges = self.held, self.edges
        append = undo.append
        for position in range(len(undo), len(events)):
            thread, step = events[position][0], events[position][1]
            kind = step[0]
            if kind == "acquire":
                mine = held.get(thread)
                if mine is None:
                    mine = held[thread] = {}
                lock = step[1]
                if lock in mine:
                    mine[lock] += 1
                    append((None, ()))
                    continue
                added = ()
                if mine:
                    holding = tuple(sorted(mine))
                    added = []
                    for before in mine:
                        edge = (before, lock, thread, holding)
                        if edge not in edges:
                            edges[edge] = position
                            added.append(edge)
                append((dict(mine), added))
                mine[lock] = 1
            elif kind == "release":
                mine = held.get(thread)
                lock = step[1]
                if mine and lock in mine:
                    if mine[lock] > 1:
                        mine[lock] -= 1
                        append((None, ()))
                    else:
                        append((dict(mine), ()))
                        del mine[lock]
                else:
                    append(None)
            else:
                append(None)
        self.events = events
        return edges

    def _rewind(self, agreed: int) -> None:
        """Undo the last call's positions from its end back to ``agreed``."""
        events, undo, held, edges = self.events, self.undo, self.held, self.edges
        for position in range(len(undo) - 1, agreed - 1, -1):
            change = undo[position]
            if change is None:
                continue
            before, added = change
            thread, step = events[position][0], events[position][1]
            if before is None:  # a re-entrant acquire, or the release of an inner one
                held[thread][step[1]] += 1 if step[0] == "release" else -1
            else:
                held[thread] = before
                for edge in reversed(added):
                    del edges[edge]
        del undo[agreed:]


def potential_deadlocks(edges) -> list[list[tuple]]:
    """The lock-order cycles that can deadlock, each as its list of edges, reported once.

    ``edges`` are keys as :func:`lock_order_edges` makes them, gathered over executions.

    >>> ab, ba = ("a", "b", 0, ("a",)), ("b", "a", 1, ("b",))
    >>> potential_deadlocks([ab, ba])
    [[('a', 'b', 0, ('a',)), ('b', 'a', 1, ('b',))]]
    >>> potential_deadlocks([("a", "b", 0, ("a", "g")), ("b", "a", 1, ("b", "g"))])  # gated by g
    []
    """
    if not edges:
        return []
    import networkx as nx

    between: dict[tuple[str, str], list[tuple]] = {}
    for edge in sorted(set(edges), key=repr):
        between.setdefault((edge[0], edge[1]), []).append(edge)
    locks = nx.DiGraph(list(between))
    found = []
    for cycle in nx.simple_cycles(locks, length_bound=MAX_CYCLE):
        if len(cycle) < 2:
            continue
        start = cycle.index(min(cycle))
        cycle = cycle[start:] + cycle[:start]
        options = [between[cycle[i], cycle[(i + 1) % len(cycle)]] for i in range(len(cycle))]
        chosen = _feasible(options)
        if chosen is not None:
            found.append(chosen)
    found.sort(key=lambda chosen: (len(chosen), [edge[0] for edge in chosen]))
    return found


def _feasible(options: list[list[tuple]]) -> list[tuple] | None:
    """One choice of an edge per step of the cycle from distinct threads with disjoint held
    locks, or None."""
    for tried, chosen in enumerate(product(*options)):
        if tried >= MAX_COMBINATIONS:
            return None
        threads = [edge[2] for edge in chosen]
        if len(set(threads)) != len(threads):
            continue
        held = [set(edge[3]) for edge in chosen]
        if all(not (held[i] & held[j]) for i in range(len(held)) for j in range(i + 1, len(held))):
            return list(chosen)
    return None


def cycle_finding(chosen: list[tuple], names: tuple[str, ...], positions: dict[tuple, int] | None,
                  events: list[tuple]) -> RawFinding:
    """The finding for one potential deadlock; ``positions`` place its edges in ``events``
    (None when no single explored execution contains them all)."""
    locks = [edge[0] for edge in chosen]
    parts = []
    marks = {}
    for edge in chosen:
        held, lock, thread = edge[0], edge[1], names[edge[2]]
        others = [name for name in edge[3] if name != held]
        also = f" (and {', '.join(repr(o) for o in others)})" if others else ""
        parts.append(f"{thread} acquires {lock!r} while holding {held!r}{also}")
        if positions is not None:
            marks[positions[edge]] = f"acquires {lock} holding {held}"
    cycle_text = " -> ".join(locks + locks[:1])
    message = (f"lock-order cycle {cycle_text}: {'; '.join(parts)}. Run at the same time, these "
               f"threads can deadlock. Acquire the locks in one global order to fix it")
    if positions is None:
        message += (" (no explored execution takes all these locks; the trace shows the first "
                    "acquisition)")
    key = ("lock-order-cycle", tuple(locks))
    details = {"cycle": locks + locks[:1], "edges": [(e[0], e[1], names[e[2]], e[3]) for e in chosen],
               "marks": marks, "steps": positions and [positions[e] for e in chosen],
               "position": len(events)}
    return RawFinding("lock-order-cycle", "error", None, key, message, details)


def with_locations(finding):
    """A lock-order-cycle finding whose message says where each acquisition is; others unchanged."""
    steps = finding.details.get("steps") if finding.kind == "lock-order-cycle" else None
    if not steps:
        return finding
    from dataclasses import replace

    events = finding.trace.events
    where = [f"{events[i].thread} at {events[i].location}" for i in steps if events[i].location]
    if not where:
        return finding
    return replace(finding, message=f"{finding.message}. The acquisitions: {', '.join(where)}")
