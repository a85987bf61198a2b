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

from .._engine.fingerprint_set import FingerprintSet
from .._engine.model_graph import ForeignRelease, ModelGraph, Unsupported
from .._engine.race_sites import MAX_WALKS, SitesGrew
from .._engine.seats import SeatsBroken
from .._engine.state_keys import inverse, renumbered_mask
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

    __slots__ = ("base", "dependent", "ended", "exact", "extra", "fatal", "following", "full", "graph", "keep", "last",
                 "max_states", "max_steps", "parts", "paths", "replayed", "shared", "sites", "sleeping", "stable", "start",
                 "symmetry", "visited", "walk")

    needs_state = True
    reduced = True  # one run stands for many: the search looks for shorter traces after
    repeats = None  # its replays are chosen with state keys: every step is asked (no short path)

    def __init__(self, *, symmetry: bool = True, exact: bool = False, max_states: int | None = None,
                 max_steps: int = DEFAULT_MAX_STEPS, graph: bool = True, stable: bool = False,
                 shared=None, start: tuple | None = None, keep: dict | None = None, sites: dict | None = None) -> None:
        super().__init__()
        # A parallel search (docs/architecture.md, Parallel search): ``stable``, keys every
        # process computes alike; ``shared``, the workers' table of visited states
        # (explorer/_engine/shared_visited.py); ``start``, a work unit's (what split() handed
        # back); ``keep``, what a worker keeps for its next units (its walk: local states
        # learned, what it handed out, the states it knows).
        self.stable = stable or shared is not None
        self.sites = sites  # a worker's: the sites the coordinator let epochs go against (race_sites)
        self.shared = shared
        self.start = start
        self.keep = keep
        self.base = (0, 0, 0)  # a kept walk's states, values resent, steps walked past, before this unit
        self.extra = {"states": 0, "resent": 0, "bytes": 0.0}  # the other units' of a parallel search
        # The graph walk (explorer/_engine/model_graph.py) when the program is one it covers
        # (bind decides): it hands out the paths to run; otherwise runs replay, below.
        self.walk = graph
        self.graph = None
        self.paths: set = set()  # the paths walks handed out: a walk begun again skips those run
        self.ended: str | None = None  # how the last run ended (the search says)
        self.fatal: dict[int, int] = {}  # position -> the threads whose step failed there (bits)
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
        self.replayed = 0  # steps run again to reach a branch point: what not copying costs
        self.dependent = dependent  # bind() gives the program's own

    def bind(self, program) -> None:
        self.dependent = dependence(program.footprint, program.touches_everything if program.spurious else None)
        self.graph = None
        keep, start = self.keep if self.keep is not None else {}, self.start
        kept = None
        if self.walk and not keep.get("replays"):
            self.graph = kept = keep.get("graph")
            if self.graph is None:
                try:
                    self.graph = self._walk(program, seats=True, known_sites=self.sites,
                                            strict_sites=self.sites is not None)
                except Unsupported:
                    pass
                else:
                    if self.shared is not None:
                        self.graph.share(self.shared)
                keep["graph"] = self.graph
        graph = self.graph
        if graph is not None:
            if graph is kept:  # what the worker's earlier units stored is theirs to count
                self.base = (graph_states(graph), graph.resent, graph.pruned)
            if start is not None:
                try:
                    graph.restart(start)
                except Unsupported:
                    self.graph = None
        if self.graph is None and start is not None:
            self._replay_below(start, keep)

    @property
    def race_paths(self) -> dict:
        """The walk's races by their pair of sites, each with the path that showed it."""
        return self.graph.race_paths if self.graph is not None else {}

    def _walk(self, program, seats: bool, releases_first: bool = True, **sites) -> ModelGraph:
        """The graph walk of ``program``; with seat moves unless ``seats`` is False, or they
        fail their check as its threads start (:mod:`explorer._engine.seats`), and with
        releases first unless ``releases_first`` is False, or a thread starts at a release
        of a lock it does not hold (:class:`ForeignRelease`); ``sites``: what an earlier
        walk learned of its races' sites (:mod:`explorer._engine.race_sites`)."""
        while True:
            try:
                return ModelGraph(program, symmetry=self.symmetry, exact=self.exact, max_states=self.max_states,
                                  max_steps=self.max_steps, stable=self.stable, seats=seats,
                                  releases_first=releases_first, **sites)
            except SitesGrew:  # a worker's first step at a line its coordinator did not learn:
                raise  # the search runs serially (walking again would meet it again)
            except ForeignRelease:
                releases_first = False
            except SeatsBroken:
                seats = False

    def _walk_again(self, broken: SeatsBroken) -> None:
        """A seat move failed its check as the walk went, a thread came to release a lock
        it does not hold, or to access a variable at a site not seen before once races
        there were let go (``broken``): walk again from the start without seats, without
        releases first, or knowing that site (:mod:`explorer._engine.race_sites`; after
        ``MAX_WALKS`` such walks, letting no race go). The runs made stand (each was a
        run of the program); what the first walk counted (its steps into states visited,
        the values it sent again) is kept in ``base``, negated, so that ``walked_past``
        and ``resent`` go on from it; ``states`` counts the new walk's."""
        old = self.graph
        foreign = isinstance(broken, ForeignRelease)
        grew = isinstance(broken, SitesGrew)
        walks = old.race_sites.walks + grew
        self.graph = graph = self._walk(old.program, seats=old.seated and (foreign or grew),
                                        releases_first=old.releases_first and not foreign,
                                        known_sites=old.race_sites.sites, drops=walks < MAX_WALKS)
        graph.race_sites.walks = walks
        graph.race_paths.update(old.race_paths)  # the runs made stand: so do the races they showed
        states, resent, pruned = self.base
        self.base = (states, resent - old.resent, pruned - old.pruned)
        graph.limit = old.limit - old.pruned - old.runs

    @property
    def seat_moves(self) -> tuple:
        """The seat moves the graph walk merged states by (:mod:`explorer._engine.seats`)."""
        return self.graph.moves if self.graph is not None else ()

    def _replay_below(self, start: tuple, keep: dict) -> None:
        """A unit whose program the walk does not cover after all explores by replaying, with
        states of its own and sleep sets empty along its path, the whole subtree that holds
        what it was to explore: below its path's point ``cut``, or below its path."""
        keep["replays"] = True  # and so do the worker's next units
        keep.pop("graph", None)
        path, _tried, cut, _owed, _sleeps = start
        prefix = tuple(path[:cut + 1]) if cut is not None else tuple(path)
        Exhaustive.__init__(self, (prefix, ()))
        self.sleeping = [0] * (len(prefix) + 1)

    def begin(self) -> bool:
        if self.graph is not None:
            try:
                while True:  # a second walk again may drop what the first kept (seats, releases first)
                    try:
                        schedule = self.graph.next_schedule()
                    except SeatsBroken as broken:
                        if self.stable:  # other processes merged states by the moves: the
                            raise        # coordinator explores serially instead
                        self._walk_again(broken)
                        continue
                    if schedule is None:
                        break
                    path = tuple(schedule)
                    if path not in self.paths:  # (the same path runs the same run)
                        self.paths.add(path)
                        break
                    self.graph.runs -= 1  # not run: not counted against max_executions
            except Unsupported:  # met a step the walk does not cover: explore by replaying
                self.graph = None
                if self.start is not None:
                    self._replay_below(self.start, self.keep if self.keep is not None else {})
            else:
                if schedule is None:
                    self.full = self.graph.full
                    return False  # done, or paused at a unit's time (see pause_at)
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
                if self.branches and self.branches[-1][0] == position:  # (a unit's path has none)
                    branch = self.branches[-1]
                    fatal = self.fatal.get(position, 0)
                    for sibling in branch[1][:branch[2]]:
                        if not fatal >> sibling & 1:  # a step that ended its run sleeps nowhere:
                            asleep |= 1 << sibling  # where the others stood then shows (closing)
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
            mine = asleep if perm is None else renumbered_mask(asleep, perm)
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
                    left = renumbered_mask(left, inverse(perm))
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

    def going_on(self, ran: int) -> int | None:
        """The thread the graph walk saw take step ``ran + 1`` of the path it handed out, when
        the run ended after ``ran`` steps short of that path's end (a thread that raises, or
        stops, only in later runs), else None. A replaying search compares runs instead."""
        following = self.following
        if self.graph is not None and ran < len(following):
            return following[ran]
        return None

    def end(self) -> None:
        if self.graph is not None:
            return
        if self.ended not in (None, "completed", "deadlocked", "abandoned") and self.position:
            at = self.position - 1  # the run failed at its last step
            self.fatal[at] = self.fatal.get(at, 0) | 1 << self.choices[at]
        Exhaustive.end(self)
        del self.sleeping[self.replaying:]  # the branch point's own set stays
        for at in [at for at in self.fatal if at >= self.replaying]:
            del self.fatal[at]

    @property
    def splittable(self) -> bool:
        """Whether :meth:`split` can hand out what is left now: the graph walk of a search
        whose keys every process computes alike, with no budget of states (the first
        states stored, in serial order, would differ). A replaying search explores alone."""
        return self.graph is not None and self.stable and not self.exact and self.max_states is None

    def pause_at(self, when: float, hungry=None, early: float = 0.0) -> None:
        """Let the graph walk stop at ``when`` (monotonic), between two states, so that a
        unit's time is kept even where no path is handed out for long, or from ``early`` on
        once ``hungry[0]`` is set (a worker is idle); ``paused`` says so."""
        if self.splittable:
            self.graph.pause, self.graph.hungry, self.graph.early = when, hungry, early

    @property
    def paused(self) -> bool:
        return self.graph is not None and self.graph.paused

    def split(self) -> list[tuple]:
        """Hand back what the graph walk has left, in its order, as starts of new searches
        (``Stateful(start=...)``), and stop: between executions, when ``splittable``."""
        assert self.splittable, "[explorer internal bug] split() of a stateful search that cannot split"
        return self.graph.split()  # the walk is left with nothing: begin() says so

    def counters(self) -> dict:
        """What a unit of a parallel search adds to the whole search's figures."""
        graph = self.graph
        if graph is None:
            return {"states": len(self.visited), "resent": 0, "replayed": self.replayed,
                    "bytes": self.bytes_per_state() * len(self.visited)}
        states = graph_states(graph) - self.base[0]
        # measured again only when the walk has doubled since: it samples tables, at milliseconds a time
        measured, per_state = graph.bytes_measured
        if len(graph.visited) >= 2 * measured:
            graph.bytes_measured = measured, per_state = len(graph.visited), self._bytes_per_state()
        return {"states": states, "resent": graph.resent - self.base[1], "replayed": self.replayed,
                "bytes": per_state * states}

    def absorb(self, counters: dict) -> None:
        self.extra["states"] += counters["states"]
        self.extra["resent"] += counters["resent"]
        self.extra["bytes"] += counters["bytes"]
        self.replayed += counters["replayed"]

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
                f"pass a larger max_states (--max-states N)")

    @property
    def states(self) -> int:
        """How many distinct states were stored (per symmetry class with ``symmetry``); in a
        parallel search, by every unit (each state once, but for states two workers took
        on at once or kept to themselves)."""
        own = graph_states(self.graph) - self.base[0] if self.graph is not None else len(self.visited)
        return own + self.extra["states"]

    @property
    def resent(self) -> int:
        """Values the graph walk sent again to bring a generator to a state it left."""
        return (self.graph.resent - self.base[1] if self.graph is not None else 0) + self.extra["resent"]

    def limit_runs(self, limit: int) -> None:
        """Stop once ``limit`` runs are made (``max_executions``): executions, and runs cut at
        a state visited; the graph walk counts each step into a visited state as one such
        run, and each path it hands out. Without it, a search whose runs end in states
        visited would never reach a budget of executions (the graph walk, or replays that
        keep meeting states met before, run on to the end)."""
        if self.graph is not None:
            self.graph.limit = limit

    @property
    def budget_spent(self) -> bool:
        """Whether the graph walk stopped at :meth:`limit_runs`'s budget."""
        return self.graph is not None and self.graph.spent

    @property
    def walked_past(self) -> int:
        """Steps of the graph walk into a state already visited (the replaying search counts
        its own as pruned executions); a unit of a parallel search counts its own."""
        return self.graph.pruned - self.base[2] if self.graph is not None else 0

    def bytes_per_state(self) -> float:
        """What the visited set takes per state stored: the set's table and its entries; in
        a parallel search, each unit's weighed by the states it stored."""
        if self.extra["states"]:
            own = self.states - self.extra["states"]
            return (self._bytes_per_state() * own + self.extra["bytes"]) / self.states if self.states else 0.0
        return self._bytes_per_state()

    def _bytes_per_state(self) -> float:
        stored = self.graph if self.graph is not None else self
        n = len(stored.visited)
        if not n:
            return 0.0
        visited = stored.visited
        if isinstance(visited, FingerprintSet):  # the graph walk's fingerprints: a flat table
            table, entries = visited.nbytes + sys.getsizeof(stored.parts), 0.0
        else:
            table, entries = sys.getsizeof(visited) + sys.getsizeof(stored.parts), _sampled_bytes(visited)
        parts = _sampled_bytes(stored.parts) * len(stored.parts)
        if self.graph is not None:  # the walk's own tables: local states, what each step makes
            graph = self.graph
            table += sum(sys.getsizeof(t) for t in (graph.locals, graph.info, graph.memo, graph.accesses,
                                                    graph.elements, graph.summaries))
            for numbered in (graph.locals, graph.elements, graph.summaries):
                parts += _sampled_bytes(numbered) * len(numbered)
        return (table + parts) / n + entries

    def collision_probability(self) -> float:
        """The chance that two of the states stored share a fingerprint, so that one of them
        was taken for the other and not explored: about n(n-1)/2 over 2**64 (0 when exact)."""
        if self.exact:
            return 0.0
        n = self.states
        return min(1.0, n * (n - 1) / 2 / 2.0 ** 64)


def graph_states(graph: ModelGraph) -> int:
    """The states a graph walk took on itself (not those it learned another worker had)."""
    return len(graph.visited) - graph.foreign


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
