"""``time.sleep`` in plain code: a point where another thread may run, and nothing else.

Time is virtual (explorer/plain/clock.py keeps each thread's clock): a ``sleep`` step
takes no time, touches no shared object, and so is independent of every other step;
it only lets the scheduler switch threads there, as a real sleep lets the OS.
"""

from __future__ import annotations

from .base import Declaration, Model


class SleepModel(Model):
    __slots__ = ()
    accepts = frozenset({"sleep"})

    def step(self, thread: int, step: tuple):
        self.run.gave_up(thread)  # time passed (sends back None): a yield, under fair schedules


class Sleeps(Declaration):
    """What a ``sleep`` step's target (``"time"``) declares: it touches nothing."""

    __slots__ = ()
    kind = "sleep"

    def footprint(self, name: str, step: tuple) -> tuple:
        return ()

    def may_yield(self, name: str, step: tuple) -> bool:
        return True

SLEEPS = Sleeps()
