"""``time.sleep`` in plain code, and the ``sleep`` step: a point where another thread may
run, and nothing else.

Time is virtual (explorer/plain/clock.py keeps each thread's clock): a ``sleep`` step
takes no time, touches no shared object, and so is independent of every other step;
it only lets the scheduler switch threads there, as a real sleep lets the OS. On real
threads (:class:`SleepTwin`) the thread sleeps, at most 2 ms.
"""

from __future__ import annotations

import time

from .base import Declaration, Model, Twin


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

#: The longest a sleep sleeps on a cross-check's real threads, seconds.
MAX_REAL_SLEEP = 0.002


class SleepTwin(Twin):
    """A ``sleep`` step on real threads: the thread sleeps as long as the step says, at most
    :data:`MAX_REAL_SLEEP`, as plain code's ``time.sleep`` does in a cross-check, so that a
    thousand runs of a lesson that sleeps a second take seconds, not a quarter of an hour
    (time is not modelled: how long changes nothing exploration sees)."""

    __slots__ = ()
    accepts = SleepModel.accepts

    def step(self, thread: int, step: tuple):
        time.sleep(min(step[2], MAX_REAL_SLEEP))
