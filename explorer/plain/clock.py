"""``time`` in plain code: virtual time.

``time.sleep`` is a ``sleep`` step (objects/clock.py): a point where another thread may
run, taking no real time. Each thread keeps its own clock, which starts at its
parent's when it is started and moves by its own sleeps and timeouts, and to the end
time of a thread it joins or a task whose result it waits for (:func:`wait_for_end`);
``time.monotonic()`` and ``time.perf_counter()`` read it, ``time.time()`` adds it to the
second the search started. So a program that sleeps a second in a loop explores in
microseconds, and what a thread reads of the time depends only on the run's steps (a
run stays reproducible). Outside a program's threads the real functions answer.

Every call with a timeout that gives up leaves the clock just past its deadline
(:func:`timed_out`), and one that succeeds leaves it where it was: the step decided
which, and time does not order the steps.
"""

from __future__ import annotations

import math
import threading
import time

from ..steps import Op
from .runtime import ThreadGreenlet, current, step, taking

__all__ = ["install", "monotonic", "perf_counter", "sleep", "time_", "timed", "timed_out", "wait",
           "wait_for_end"]

_real = {name: getattr(time, name) for name in
         ("sleep", "time", "monotonic", "perf_counter", "time_ns", "monotonic_ns", "perf_counter_ns")}


def sleep(seconds: float) -> None:
    here = current()
    if here is None:
        return _real["sleep"](seconds)
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    here.clock += seconds
    step(Op("sleep", "time", seconds), here)
    return None


def time_() -> float:
    here = current()
    return _real["time"]() if here is None else here.runtime.epoch + here.clock


def monotonic() -> float:
    here = current()
    return _real["monotonic"]() if here is None else here.clock


def perf_counter() -> float:
    here = current()
    return _real["perf_counter"]() if here is None else here.clock


def _ns(seconds) -> int:
    return int(seconds * 1_000_000_000)


def timed_out(here: ThreadGreenlet, start: float, timeout: float) -> None:
    """A call that began at ``start`` on ``here``'s clock gave up after ``timeout``: the
    clock reads just past its deadline (or later, if it already does: a task it waited for
    ended later). A real call that times out ends after its deadline, never on it, so a
    loop that waits ``deadline - monotonic()`` and stops once that is below zero (CPython's
    ``as_completed``) stops, where a clock left on the deadline made it wait 0 s for ever,
    and one left where it was made a loop on ``lock.acquire(timeout=...)`` spin."""
    here.clock = max(here.clock, math.nextafter(start + timeout, math.inf))


def timed(what: tuple, timeout: float | None, gave_up: type[BaseException] | tuple = ()):
    """``step(what)``, a call that gives up after ``timeout`` seconds (None: it never does).
    It gave up when it raised ``gave_up`` (a queue's ``Empty`` or ``Full``) or, given none
    (``()``), sent back False (a lock's, a semaphore's, a condition's or an event's): then
    the whole timeout has gone by on the thread's clock (:func:`timed_out`)."""
    if timeout is None:
        return step(what)
    here = taking(what)
    start = here.clock
    try:
        done = step(what, here)
    except gave_up:
        timed_out(here, start, timeout)
        raise
    if done is False and not gave_up:
        timed_out(here, start, timeout)
    return done


def wait(name: str, timeout: float | None):
    """A condition's or an event's ``wait(timeout)``: the step, and, when the timeout fired,
    the timeout gone by (``wait_for`` loops read it)."""
    if timeout is None:
        return step(Op("wait", name))
    timeout = max(timeout, 0)
    return timed(Op("wait", name, timeout), timeout)


def wait_for_end(what: tuple, label: str, timeout: float | None = None):
    """``step(what)``, a join or a future's ``result`` or ``exception``: the thread then reads
    on its clock at least the time of the thread or task ``label`` when it ended (three
    threads that each sleep a second, joined, took a second), or, if the step gave up, the
    timeout gone by. A future cancelled, or a join refused, waited for nothing."""
    here = taking(what)
    start = here.clock
    ended_at = here.runtime.ended_at
    gave_up = False
    try:
        out = step(what, here)
        gave_up = timeout is not None and label not in ended_at  # a join gives up by returning
        return out
    except TimeoutError:
        # a future's result(timeout) gave up while its task had not ended, or had not yet
        # stored its value (its end is noted first), unless the task itself raised it
        gave_up = not here.runtime.run.objects[label].done
        raise
    finally:
        ended = ended_at.get(label)
        if gave_up:
            timed_out(here, start, timeout)
        elif ended is not None:
            ended = max(here.clock, ended)
            # a timed join ends by the timeout at the latest (time does not order the steps:
            # exploration lets the thread end first, however long it sleeps)
            here.clock = ended if timeout is None else min(ended, here.clock + timeout)


def install(patches) -> None:
    patches.set(threading, "_time", monotonic)  # Condition.wait_for's deadline, and Barrier's
    patches.set(time, "sleep", sleep)
    patches.set(time, "time", time_)
    patches.set(time, "monotonic", monotonic)
    patches.set(time, "perf_counter", perf_counter)
    patches.set(time, "time_ns", lambda: _real["time_ns"]() if current() is None else _ns(time_()))
    patches.set(time, "monotonic_ns", lambda: _real["monotonic_ns"]() if current() is None else _ns(monotonic()))
    patches.set(time, "perf_counter_ns",
                lambda: _real["perf_counter_ns"]() if current() is None else _ns(perf_counter()))
