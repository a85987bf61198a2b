"""PCT: probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte,
"A Randomized Scheduler with Probabilistic Guarantees of Finding Bugs", ASPLOS 2010).

Each execution gives the threads random distinct priorities and always runs the
highest-priority enabled thread; at ``depth - 1`` random steps (the change points) it
drops the running thread's priority below every priority given so far, so a thread
demoted later runs after one demoted earlier (as in the paper, Coyote and shuttle).
A bug of depth d among n threads and k steps is found by one execution with
probability at least 1 / (n * k^(d-1)); k is the longest execution seen so far in its unit: executions come in units of
:data:`.random_walk.UNIT`, each from its own seed, as random walks do.
"""

from __future__ import annotations

from .random_walk import UNIT, SeedUnits


class PCT:
    """Seeded PCT executions; ``depth`` is the bug depth aimed at (1 = no priority change)."""

    __slots__ = ("change_points", "depth", "length", "position", "priority", "units")

    incomplete_reason = "a PCT sample of schedules, not all of them"

    def __init__(self, seed: int, depth: int = 3, unit: int | None = None, executions: int = UNIT) -> None:
        self.depth = depth
        self.units = SeedUnits(seed, unit, executions)  # with unit: a work unit of a parallel search
        self.length = 1  # steps per execution: the longest seen so far in this unit
        self.priority: dict[int, float] = {}
        self.change_points: dict[int, int] = {}
        self.position = 0

    def begin(self) -> bool:
        units = self.units
        drawn_from = units.unit
        if not units.take():
            return False
        if units.unit != drawn_from:
            self.length = 1  # k is the longest execution seen in this unit
        self.position = 0
        self.priority = {}
        points = units.rng.sample(range(1, self.length + 1), min(self.depth - 1, self.length))
        # each change point lowers the running thread below every priority so far: the first to
        # depth - 1, the next to depth - 2, ..., all below the initial ones (depth and above)
        self.change_points = {point: self.depth - 1 - rank for rank, point in enumerate(sorted(points))}
        return True

    def choose(self, enabled: list[int]) -> int:
        self.position += 1
        priority = self.priority
        for thread in enabled:
            if thread not in priority:
                priority[thread] = self.depth + self.units.rng.random()  # initial priorities exceed every change
        chosen = max(enabled, key=priority.__getitem__)
        lowered = self.change_points.get(self.position)
        if lowered is not None:
            priority[chosen] = lowered
            chosen = max(enabled, key=priority.__getitem__)
        return chosen

    def end(self) -> None:
        self.length = max(self.length, self.position)
