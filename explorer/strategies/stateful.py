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

from collections.abc import Callable, Hashable

from .base import Abandon
from .exhaustive import Exhaustive


class Stateful(Exhaustive):
    """:class:`.Exhaustive` plus a set of the states visited (see the module docstring)."""

    __slots__ = ("visited",)

    needs_state = True
    reduced = True  # one run stands for many: the search looks for shorter traces after

    def __init__(self) -> None:
        super().__init__()
        self.visited: set = set()

    def choose(self, enabled: list[int], state: Callable[[], Hashable]) -> int:
        if self.position >= self.replaying:  # a state this run is the first of its prefix to reach
            key = state()
            try:
                seen = key in self.visited
                if not seen:
                    self.visited.add(key)
            except Exception:  # holds a value that cannot be hashed or compared: never cached
                seen = False
            if seen:
                raise Abandon
        return Exhaustive.choose(self, enabled)
