"""PCT: probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte,
"A Randomized Scheduler with Probabilistic Guarantees of Finding Bugs", ASPLOS 2010).

Each execution gives the threads random distinct priorities and always runs the
highest-priority enabled thread; at ``depth - 1`` random steps it drops the running
thread's priority below all others. A bug of depth d among n threads and k steps is
found by one execution with probability at least 1 / (n * k^(d-1)).
"""

from __future__ import annotations

import random


class PCT:
    """Seeded PCT executions; ``depth`` is the bug depth aimed at (1 = no priority change)."""

    __slots__ = ("change_points", "depth", "length", "position", "priority", "rng", "seed")

    incomplete_reason = "a PCT sample of schedules, not all of them"

    def __init__(self, seed: int, depth: int = 3) -> None:
        self.seed = seed
        self.depth = depth
        self.rng = random.Random(seed)
        self.length = 16  # estimated steps per execution; grows to the longest seen
        self.priority: dict[int, float] = {}
        self.change_points: dict[int, int] = {}
        self.position = 0

    def begin(self) -> bool:
        self.position = 0
        self.priority = {}
        points = self.rng.sample(range(1, self.length + 1), min(self.depth - 1, self.length))
        # the i-th change point lowers the running thread to priority i (below every initial one)
        self.change_points = {point: rank for rank, point in enumerate(sorted(points))}
        return True

    def choose(self, enabled: list[int]) -> int:
        self.position += 1
        priority = self.priority
        for thread in enabled:
            if thread not in priority:
                priority[thread] = self.depth + self.rng.random()  # initial priorities exceed every change
        chosen = max(enabled, key=priority.__getitem__)
        rank = self.change_points.get(self.position)
        if rank is not None:
            priority[chosen] = rank + self.rng.random() * 0.5
            chosen = max(enabled, key=priority.__getitem__)
        return chosen

    def end(self) -> None:
        self.length = max(self.length, self.position)
