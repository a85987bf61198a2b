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


class SeedUnits:
    """Where a sampling search is in its units: the unit drawn from (``unit``, its ``rng``),
    the executions left in it, and, for a work unit of a parallel search (``only``), the
    executions left after it: a work unit may run several units, one after another, as a
    serial search runs them."""

    __slots__ = ("left", "only", "rest", "rng", "seed", "unit")

    def __init__(self, seed: int, unit: int | None, executions: int) -> None:
        self.seed = seed
        self.only = unit is not None
        self.unit = 0 if unit is None else unit
        self.rng = unit_random(seed, self.unit)
        self.left = min(executions, UNIT)
        self.rest = executions - self.left

    def take(self) -> bool:
        """Count one execution; False when a work unit has none left. Moves on to the
        next unit (a fresh ``rng``) where this one is spent."""
        if not self.left:
            if self.only and not self.rest:
                return False
            self.unit += 1
            self.rng = unit_random(self.seed, self.unit)
            self.left = min(self.rest, UNIT) if self.only else UNIT
            self.rest -= self.left if self.only else 0
        self.left -= 1
        return True


class RandomWalk:
    """Seeded random schedules (the search's ``max_executions`` stops it); with ``unit``,
    only ``executions`` from that unit on (a work unit of a parallel search)."""

    __slots__ = ("units",)

    incomplete_reason = "a random sample of schedules, not all of them"

    def __init__(self, seed: int, unit: int | None = None, executions: int = UNIT) -> None:
        self.units = SeedUnits(seed, unit, executions)

    def begin(self) -> bool:
        return self.units.take()

    def choose(self, enabled: list[int]) -> int:
        return enabled[self.units.rng.randrange(len(enabled))] if len(enabled) > 1 else enabled[0]

    def end(self) -> None:
        return None
