"""Budgets and options for exploring, validated once on entry."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

from ._engine.watchdog import DEFAULT_STEP_TIMEOUT
from .errors import InvalidArgument

__all__ = ["DEFAULT_MAX_STEPS", "DEFAULT_STEP_TIMEOUT", "Settings"]

#: Steps one thread may take in one execution before it counts as an endless loop.
DEFAULT_MAX_STEPS = 10_000


@dataclass(frozen=True, slots=True)
class Settings:
    """``max_executions``: stop after this many executions (None: no limit).
    ``max_steps``: steps one thread may take in one execution; a thread that wants
    more is a ``max-steps`` finding and the execution is cut (default 10,000).
    ``time_limit``: seconds (None: no limit), kept within about a second at any size:
    the clock is checked before every step, inside the strategy's own work, and while the
    result is assembled; a step whose own code is still running just after it is
    interrupted. The result is then ``complete=False``, ``stop_reason="time_limit"``.
    ``step_timeout``: seconds one step's code (a thread's Python code between two
    yields) may run before a watchdog thread interrupts it (default 10; None: no
    watchdog); a step that hangs is a ``step-timeout`` finding and the search stops.
    Hitting any of them makes the result say ``complete=False``.
    ``progress``: called as ``progress(executions, steps, seconds)`` about every
    1,024 executions, for a progress display (None: nothing).
    """

    max_executions: int | None = None
    max_steps: int = DEFAULT_MAX_STEPS
    time_limit: float | None = None
    step_timeout: float | None = DEFAULT_STEP_TIMEOUT
    progress: Callable[[int, int, float], None] | None = None

    def __post_init__(self) -> None:
        _count("max_executions", self.max_executions, optional=True)
        _count("max_steps", self.max_steps, optional=False)
        for name in ("time_limit", "step_timeout"):
            limit = getattr(self, name)
            if limit is not None and (isinstance(limit, bool) or not isinstance(limit, numbers.Real)
                                      or not limit > 0):
                raise InvalidArgument(f"{name} must be a positive number of seconds or None, got {limit!r}")
            try:
                limit is None or float(limit)
            except OverflowError:  # the watchdog and the deadline count seconds in floats
                raise InvalidArgument(f"{name} is more seconds than a float holds; give None for no limit") from None
        if self.progress is not None and not callable(self.progress):
            raise InvalidArgument(f"progress must be a function of (executions, steps, seconds), "
                                  f"got {self.progress!r}")


    @property
    def step_limit(self) -> float | None:
        """Seconds the watchdog lets one step run before it is a ``step-timeout`` finding. The
        time limit does not shorten it: a budget is not a bug, so a step still running at the
        time limit ends the search as ``time_limit`` (incomplete), not as a finding."""
        return self.step_timeout


def _count(name: str, value: object, *, optional: bool) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        none = " or None for no limit" if optional else ""
        raise InvalidArgument(f"{name} must be a positive whole number{none}, got {value!r}")
