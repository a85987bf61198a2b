"""Random walks: each execution picks uniformly among the enabled threads, from a seed.

A sample, not a proof: the result says so. The same seed gives the same executions.
"""

from __future__ import annotations

import random


class RandomWalk:
    """``executions`` seeded random schedules (the search's ``max_executions`` stops it)."""

    __slots__ = ("rng", "seed")

    incomplete_reason = "a random sample of schedules, not all of them"

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)

    def begin(self) -> bool:
        return True

    def choose(self, enabled: list[int]) -> int:
        return enabled[self.rng.randrange(len(enabled))] if len(enabled) > 1 else enabled[0]

    def end(self) -> None:
        return None
