"""Random walks: each execution picks uniformly among the enabled threads, from a seed.

A sample, not a proof: the result says so. The same seed gives the same executions.
Executions come in units of :data:`UNIT`, each drawn from its own generator
(:func:`unit_random`), so a parallel search can hand units to different workers and
still make exactly the executions a serial one makes.
"""

from __future__ import annotations

import random

#: Executions per unit of a sampling search.
UNIT = 256


def unit_random(seed: int, unit: int) -> random.Random:
    """The generator of unit ``unit`` of a sampling search seeded ``seed``: independent
    of every other unit's and every other seed's."""
    return random.Random(f"explorer:{seed}:{unit}")


class RandomWalk:
    """Seeded random schedules (the search's ``max_executions`` stops it); with ``unit``,
    only that unit's ``executions`` (a work unit of a parallel search)."""

    __slots__ = ("left", "only", "rng", "seed", "unit")

    incomplete_reason = "a random sample of schedules, not all of them"

    def __init__(self, seed: int, unit: int | None = None, executions: int = UNIT) -> None:
        self.seed = seed
        self.only = unit is not None
        self.unit = 0 if unit is None else unit
        self.rng = unit_random(seed, self.unit)
        self.left = executions

    def begin(self) -> bool:
        if not self.left:
            if self.only:
                return False
            self.unit += 1
            self.rng = unit_random(self.seed, self.unit)
            self.left = UNIT
        self.left -= 1
        return True

    def choose(self, enabled: list[int]) -> int:
        return enabled[self.rng.randrange(len(enabled))] if len(enabled) > 1 else enabled[0]

    def end(self) -> None:
        return None
