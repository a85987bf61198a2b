"""Depth first over the schedules, with sleep sets, cutting a run at a state already visited.

The search cannot restore a state (generators cannot be copied: every execution
replays from the start, up to the deepest branch left), but it can recognise one.
``choose`` also receives the engine's key of the current state (``needs_state``):
equal keys mean equal futures, for the program and for every detector
(:mod:`explorer._engine.state_keys` gives the argument; a thread's part is read from
its generator's frames where that is sound, :mod:`explorer._engine.frames`), and the
pending steps. Past the replayed prefix, a run that reaches a state already visited
can only repeat what was explored from it, so it is abandoned (counted as pruned, not
as an execution) and the search backtracks as :class:`.Exhaustive` does.

Sleep sets, combined with the visited states as Godefroid showed sound (*Partial-Order
Methods for the Verification of Concurrent Systems*, 1996, ch. 6): after a thread's
step has been explored from a state, the thread sleeps in its siblings' subtrees until
a step dependent with its pending one runs (the dependence of
:mod:`explorer.objects.dependence`, as dpor's). A state is stored with the sleep set it
was explored with; reached again with a sleep set that leaves awake only threads that
were awake then, the run is cut; otherwise the threads asleep then and awake now are
explored from it, and the stored set shrinks to the intersection.

Why the verdicts are those of exhaustive exploration: no run reaches a state twice
(step counts only grow), every reachable state is visited (sleep sets remove
transitions, never states), and a step not taken from a state is taken from another
state of the same Mazurkiewicz trace, whose final state, deadlock and findings
(races by their two accesses, lost updates, errors, lock-order edges) are those of
the trace. A step that leads into a visited state is still taken, so the search notes
what the cut run shows (and runs it to its end when that is new, for a whole trace).
What differs from ``"exhaustive"`` is how often: ``executions``, the per-outcome
counts and each finding's ``occurrences`` count only the runs made, and a finding's
trace may have more preemptions. With symmetry, counts are per symmetry class.

Storage, as SPIN's: each key is numbered part by part (collapse compression), and by
default only the 64-bit hash of the numbers is kept (hash compaction);
:meth:`Stateful.collision_probability` says how likely a state was missed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable

from .._engine.model_graph import ModelGraph, Unsupported
from ..objects.dependence import dependence, dependent
from ..settings import DEFAULT_MAX_STEPS
from .base import Abandon
from .exhaustive import Exhaustive


class Stateful(Exhaustive):
    """:class:`.Exhaustive` plus a set of the states visited (see the module docstring).

    ``symmetry``: threads built from the same function with the same arguments are
    interchangeable, and states equal up to swapping them are one. ``exact``: keep each
    state's whole key rather than its 64-bit fingerprint. ``max_states``: stop, incomplete,
    once that many states are stored.
    """

    __slots__ = ("base", "dependent", "exact", "extra", "following", "full", "graph", "keep", "last", "max_states",
                 "max_steps", "only", "parts", "replayed", "sleeping", "start", "symmetry", "visited", "walk")

    needs_state = True
    reduced = True  # one run stands for many: the search looks for shorter traces after

    def __init__(self, *, symmetry: bool = True, exact: bool = False, max_states: int | None = None,
                 max_steps: int = DEFAULT_MAX_STEPS, graph: bool = True, start: tuple | None = None,
                 keep: dict | None = None) -> None:
        # A work unit of a parallel search (what split() handed back): ("walk", prefix) for the
        # graph walk, ("run", path) for a path it owed, ("replay", choices, branches, sleeping).
        # ``keep``: the worker's visited states, kept across the units it runs.
        super().__init__(start[1:3] if start is not None and start[0] == "replay" else None)
        self.start = start
        self.keep = keep
        self.only = None  # the one path a ("run", path) unit runs
        # The graph walk (explorer/_engine/model_graph.py) when the program is one it covers
        # (bind decides): it hands out the paths to run; otherwise runs replay, below.
        self.walk = graph
        self.graph = None
        self.following: list[int] = []
        self.last: int | None = None
        self.max_steps = max_steps
        # state (its fingerprint, or its compressed key) -> the sleep set it was explored with,
        # a bitmask of threads in the key's numbering
        self.visited: dict = {}
        self.parts: dict = {}  # each part of a key seen -> its number (see _compressed)
        self.symmetry = symmetry
        self.exact = exact
        self.max_states = max_states
        self.full = False
        self.sleeping: list[int] = [0]  # the sleep set at each position of the current run
        if start is not None and start[0] == "replay":
            self.sleeping = list(start[3])
        self.replayed = 0  # steps run again to reach a branch point: what not copying costs
        self.dependent = dependent  # bind() gives the program's own
        self.base = (0, 0, 0)  # states, values resent, steps walked past: a kept walk's, before this unit
        self.extra = {"states": 0, "resent": 0, "bytes": 0.0}  # the units' of a parallel search

    def bind(self, program) -> None:
        self.dependent = dependence(program.footprint)
        self.graph = None
        keep, start = self.keep, self.start
        if keep is not None:  # a unit: the worker's states, and its walk, are kept for its next units
            self.visited = keep.setdefault("visited", {})
            self.parts = keep.setdefault("parts", {})
            self.graph = keep.get("graph")
        if self.walk and self.graph is None and (start is None or start[0] != "replay"):
            try:
                self.graph = ModelGraph(program, symmetry=self.symmetry, exact=self.exact,
                                        max_states=self.max_states, max_steps=self.max_steps)
            except Unsupported:
                pass
            if keep is not None:
                keep["graph"] = self.graph
        if self.graph is not None:
            graph = self.graph
            self.base = (len(graph.visited), graph.resent, graph.pruned)
            if start is not None and start[0] == "run":
                self.only = list(start[1])
            elif start is not None:
                try:
                    graph.restart(list(start[1]))
                except Unsupported:  # the walk does not cover this program after all: replay below it
                    self.graph = None
        else:
            self.base = (len(self.visited), 0, 0)
        if self.graph is None and start is not None and start[0] != "replay":
            # below a path of the walk, by replaying: the whole subtree, its sleep sets empty
            Exhaustive.__init__(self, (tuple(start[1]), ()))
            self.sleeping = [0] * (len(start[1]) + 1)
            self.start = ("replay", tuple(start[1]), (), tuple(self.sleeping))

    def begin(self) -> bool:
        if self.only is not None:  # a path the walk owed, handed out as a unit of its own
            if self.only == ():
                return False
            self.following, self.only = self.only, ()
            self.position = 0
            self.last = None
            return True
        if self.graph is not None:
            try:
                schedule = self.graph.next_schedule()
            except Unsupported:  # met a step the walk does not cover: explore by replaying
                self.graph = None
            else:
                if schedule is None:
                    self.full = self.graph.full
                    return False
                self.following = schedule
                self.position = 0
                self.last = None
                return True
        if self.full:
            return False
        return Exhaustive.begin(self)

    def choose(self, enabled: list[int], state: Callable[[], Hashable], pending: list) -> int:
        position = self.position
        if self.graph is not None:  # a path the walk handed out, then on without preemptions
            self.position = position + 1
            following = self.following
            if position < len(following):
                thread = following[position]
                if thread not in enabled:  # the scenario is not what the walk took it for:
                    self.graph = None      # explore it by replaying, which says why
                    self.position = 0
                    raise Abandon
            else:
                thread = self.last if self.last in enabled else enabled[0]
            self.last = thread
            return thread
        replaying = self.replaying
        if position < replaying:
            self.replayed += 1
            self.position = position + 1
            thread = self.choices[position]
            if position == replaying - 1:  # the branch taken now: its earlier siblings sleep
                asleep = self.sleeping[position]
                if self.branches and self.branches[-1][0] == position:  # (a unit's prefix has none)
                    branch = self.branches[-1]
                    for sibling in branch[1][:branch[2]]:
                        asleep |= 1 << sibling
                self._step(position, asleep, pending, thread)
            return thread
        asleep = self.sleeping[position]
        try:
            key = self._compressed(state())
            if not self.exact:
                key = hash(key)  # a fingerprint, as SPIN's hash compaction stores
            hash(key)
        except Exception:  # holds a value that cannot be hashed or compared: never cached
            key = None
        awake = [thread for thread in enabled if not asleep >> thread & 1]
        if key is not None:
            numbering = getattr(state, "__self__", None)
            perm = None if numbering is None else numbering.perm
            mine = asleep if perm is None else _renumbered(asleep, perm)
            stored = self.visited.get(key)
            if stored is None:
                if self.max_states is not None and len(self.visited) >= self.max_states:
                    self.full = True
                    raise Abandon
                self.visited[key] = mine
            elif stored & ~mine == 0:  # explored before with no more threads awake than now
                raise Abandon
            else:  # explored before with some of the threads awake now asleep: those remain
                self.visited[key] = stored & mine
                left = stored & ~mine
                if perm is not None:
                    left = _renumbered(left, _inverse(perm))
                awake = [thread for thread in awake if left >> thread & 1]
        if not awake:  # every enabled thread sleeps: whatever follows was explored elsewhere
            raise Abandon
        self.position = position + 1
        if len(awake) > 1:
            self.branches.append([position, awake, 0])
        thread = awake[0]
        self.choices.append(thread)
        self._step(position, asleep, pending, thread)
        return thread

    def _step(self, position: int, asleep: int, pending: list, thread: int) -> None:
        """The sleep set after ``thread`` takes its step: the sleeping threads whose pending
        steps commute with it (a dependent step wakes a thread up)."""
        after = 0
        if asleep:
            taken = pending[thread]
            dependent = self.dependent
            bits = asleep & ~(1 << thread)
            while bits:
                bit = bits & -bits
                other = bit.bit_length() - 1
                step = pending[other] if other < len(pending) else None
                if step is not None and not dependent(step, taken):
                    after |= bit
                bits ^= bit
        sleeping = self.sleeping
        del sleeping[position + 1:]
        sleeping.append(after)

    def end(self) -> None:
        if self.graph is not None:
            return
        Exhaustive.end(self)
        del self.sleeping[self.replaying:]  # the branch point's own set stays

    def split(self) -> list[tuple]:
        """Hand back what is left, in exploration order, as starts of new searches
        (``Stateful(start=...)``), and stop: the graph walk's untried branches as paths to
        walk on from (after the path it owes the search, if any), or, replaying, the
        branches as :meth:`.Exhaustive.split` has them, with their sleep sets."""
        graph = self.graph
        if graph is not None:
            if self.only is not None or self.full:
                return []
            owed = [("run", tuple(graph.path))] if graph.owed else []
            starts = owed + [("walk", tuple(prefix)) for prefix in graph.split()]
            self.only = ()  # nothing left here: begin() says so
            graph.handed = None
            return starts
        if self.done or self.full:
            return []
        self.done = True
        branches = self.branches
        sleeping = tuple(self.sleeping[:self.replaying])
        cut = next((n for n, (_position, awake, tried) in enumerate(branches) if tried + 1 < len(awake)), None)
        here = [list(b) for b in branches]
        if cut is not None:
            position, awake, tried = branches[cut]
            here[cut][1] = awake[:tried + 1]
        starts = [("replay", tuple(self.choices[:self.replaying]), tuple(tuple(b) for b in here), sleeping)]
        if cut is not None:
            prefix = tuple(self.choices[:position])
            for j in range(tried + 1, len(awake)):
                starts.append(("replay", prefix + (awake[j],), ((position, tuple(awake[:j + 1]), j),),
                               sleeping[:position + 1]))
        return starts

    def counters(self) -> dict:
        """What a unit of a parallel search adds to the whole search's figures."""
        states = self.states - self.extra["states"] - self.base[0]
        return {"states": states, "resent": self.resent - self.extra["resent"] - self.base[1],
                "replayed": self.replayed, "bytes": self.bytes_per_state() * states, "full": self.full}

    def absorb(self, counters: dict) -> None:
        self.extra["states"] += counters["states"]
        self.extra["resent"] += counters["resent"]
        self.extra["bytes"] += counters["bytes"]
        self.replayed += counters["replayed"]
        self.full = self.full or counters["full"]

    def _compressed(self, key: tuple) -> tuple:
        """The key as a tuple of small ints, one per part (the variables, the objects, each
        thread, the detectors' summaries), each part stored once in ``parts`` and numbered
        there: SPIN's collapse compression. Parts repeat across states, so this stores far
        less than whole keys; and it is exact (parts are compared by equality), so the
        fingerprint of the numbers is as good as a 64-bit hash of random input, which a
        hash of the parts themselves is not (in Python ``hash(-1) == hash(-2)``)."""
        parts = self.parts
        numbered = []
        tokens, objects, threads, stale, races = key
        for part in (tokens, objects, *threads, stale, races):
            number = parts.get(part)
            if number is None:
                number = parts[part] = len(parts)
            numbered.append(number)
        return tuple(numbered)

    @property
    def incomplete_reason(self) -> str | None:
        if not self.full:
            return None
        return (f"stopped at max_states={self.max_states}: the states beyond it were not explored; "
                f"pass a larger max_states")

    @property
    def states(self) -> int:
        """How many distinct states were stored (per symmetry class with ``symmetry``); in a
        parallel search, by all the workers (each keeps its own)."""
        return (len(self.graph.visited) if self.graph is not None else len(self.visited)) + self.extra["states"]

    @property
    def resent(self) -> int:
        """Values the graph walk sent again to bring a generator to a state it left."""
        return (self.graph.resent if self.graph is not None else 0) + self.extra["resent"]

    @property
    def walked_past(self) -> int:
        """Steps of the graph walk into a state already visited (the replaying search counts
        its own as pruned executions); a unit of a parallel search counts its own."""
        return self.graph.pruned - self.base[2] if self.graph is not None else 0

    def bytes_per_state(self) -> float:
        """What the visited set takes per state stored: the set's table and its entries."""
        if self.extra["states"]:  # a parallel search's: weighed by the states each stored
            own = self.states - self.extra["states"]
            return ((self._bytes_per_state() * own + self.extra["bytes"]) / self.states) if self.states else 0.0
        return self._bytes_per_state()

    def _bytes_per_state(self) -> float:
        stored = self.graph if self.graph is not None else self
        n = len(stored.visited)
        if not n:
            return 0.0
        table = sys.getsizeof(stored.visited) + sys.getsizeof(stored.parts)
        entries = _sampled_bytes(stored.visited)
        parts = _sampled_bytes(stored.parts) * len(stored.parts)
        if self.graph is not None:  # the walk's own tables: local states, what each step makes
            graph = self.graph
            table += sum(sys.getsizeof(t) for t in (graph.locals, graph.info, graph.memo, graph.accesses))
            parts += _sampled_bytes(graph.locals) * len(graph.locals)
        return (table + parts) / n + entries

    def collision_probability(self) -> float:
        """The chance that two of the states stored share a fingerprint, so that one of them
        was taken for the other and not explored: about n(n-1)/2 over 2**64 (0 when exact)."""
        if self.exact:
            return 0.0
        n = self.states
        return min(1.0, n * (n - 1) / 2 / 2.0 ** 64)


def _renumbered(mask: int, perm: list[int]) -> int:
    """A bitmask of threads with thread ``i`` called ``perm[i]``."""
    moved = 0
    while mask:
        bit = mask & -mask
        moved |= 1 << perm[bit.bit_length() - 1]
        mask ^= bit
    return moved


def _inverse(perm: list[int]) -> list[int]:
    inverse = [0] * len(perm)
    for i, j in enumerate(perm):
        inverse[j] = i
    return inverse


def _sampled_bytes(stored, sample: int = 200) -> float:
    """The mean size of what a set or dict holds (a dict's keys), nested tuples counted
    once per item, measured on a sample."""
    import itertools

    total = 0
    taken = 0
    for item in itertools.islice(stored, sample):
        total += _deep_size(item, set())
        taken += 1
    return total / max(taken, 1)


def _deep_size(value: object, seen: set) -> int:
    if id(value) in seen:
        return 0
    seen.add(id(value))
    size = sys.getsizeof(value)
    if isinstance(value, (tuple, frozenset, list)):
        size += sum(_deep_size(item, seen) for item in value)
    return size
