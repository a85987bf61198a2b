"""Depth first over every schedule, cutting a run once it reaches a state already visited.

The search cannot restore a state (generators cannot be copied: every execution
replays from the start), but it can recognise one. ``choose`` also receives the
engine's key of the current state (``needs_state``): equal keys mean equal futures,
for the program and for every detector (:mod:`explorer._engine.state_keys` gives the
argument). Past the replayed prefix, a run that reaches a state already visited can
only repeat what was explored from it the first time, so it is abandoned (counted
as pruned, not as an execution) and the search backtracks as :class:`.Exhaustive` does.

Why the verdicts are those of exhaustive exploration: no run reaches a state twice
(histories only grow, and finished threads stay finished), and a state is added to the visited set on the run that first reaches it,
which goes on from it and leaves a branch point for each other enabled thread, so
every reachable state is visited and every step from it is taken exactly once. Final
states and deadlocks are states; every finding is shown by a step from a state (its
key fixes which); a step that leads into a visited state is still taken, so the
search notes what the cut run shows (and runs it to its end when that is new, for a
whole trace). What differs from ``"exhaustive"`` is how often: ``executions``, the
per-outcome counts and each finding's ``occurrences`` count only the runs made, and a
finding's trace may have more preemptions.

Not combined with DPOR: sleep sets assume every trace of a state is continued, which a
visited set breaks (the classic pitfall of stateful partial order reduction).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable

from .base import Abandon
from .exhaustive import Exhaustive


class Stateful(Exhaustive):
    """:class:`.Exhaustive` plus a set of the states visited (see the module docstring).

    ``symmetry``: threads built from the same function with the same arguments are
    interchangeable, and states equal up to swapping them are one. ``exact``: keep each
    state's whole key rather than its 64-bit fingerprint. ``max_states``: stop, incomplete,
    once that many states are stored.
    """

    __slots__ = ("exact", "full", "max_states", "parts", "symmetry", "visited")

    needs_state = True
    reduced = True  # one run stands for many: the search looks for shorter traces after

    def __init__(self, *, symmetry: bool = True, exact: bool = False, max_states: int | None = None) -> None:
        super().__init__()
        self.visited: set = set()
        self.parts: dict = {}  # each part of a key seen -> its number (see _compressed)
        self.symmetry = symmetry
        self.exact = exact
        self.max_states = max_states
        self.full = False

    def begin(self) -> bool:
        if self.full:
            return False
        return Exhaustive.begin(self)

    def choose(self, enabled: list[int], state: Callable[[], Hashable]) -> int:
        if self.position >= self.replaying:  # a state this run is the first of its prefix to reach
            try:
                key = self._compressed(state())
                if not self.exact:
                    key = hash(key)  # a fingerprint, as SPIN's hash compaction stores
                seen = key in self.visited
                if not seen:
                    visited = self.visited
                    if self.max_states is not None and len(visited) >= self.max_states:
                        self.full = True
                        raise Abandon
                    visited.add(key)
            except Abandon:
                raise
            except Exception:  # holds a value that cannot be hashed or compared: never cached
                seen = False
            if seen:
                raise Abandon
        return Exhaustive.choose(self, enabled)

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
        """How many distinct states were stored (per symmetry class with ``symmetry``)."""
        return len(self.visited)

    def bytes_per_state(self) -> float:
        """What the visited set takes per state stored: the set's table and its entries."""
        n = len(self.visited)
        if not n:
            return 0.0
        table = sys.getsizeof(self.visited) + sys.getsizeof(self.parts)
        entries = _sampled_bytes(self.visited)
        parts = _sampled_bytes(self.parts) * len(self.parts)
        return (table + parts) / n + entries

    def collision_probability(self) -> float:
        """The chance that two of the states stored share a fingerprint, so that one of them
        was taken for the other and not explored: about n(n-1)/2 over 2**64 (0 when exact)."""
        if self.exact:
            return 0.0
        n = len(self.visited)
        return min(1.0, n * (n - 1) / 2 / 2.0 ** 64)


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
