"""``time`` in plain code: virtual time.

``time.sleep`` is a ``sleep`` step (objects/clock.py): a point where another thread may
run, taking no real time. Each thread keeps its own clock, which starts at its
parent's when it is started and moves by its own sleeps and timeouts, and to the end
time of a thread it joins or a task whose result it waits for (runtime.wait_for_end);
``time.monotonic()`` and ``time.perf_counter()`` read it, ``time.time()`` adds it to the
second the search started. So a program that sleeps a second in a loop explores in
microseconds, and what a thread reads of the time depends only on the run's steps (a
run stays reproducible). Outside a program's threads the real functions answer.
"""

from __future__ import annotations

import math
import threading
import time

from ..steps import Op
from .runtime import current, step

__all__ = ["install", "monotonic", "perf_counter", "sleep", "time_"]

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


def wait(name: str, timeout: float | None):
    """A condition's or an event's ``wait(timeout)``: the step, and, when the timeout fired,
    the whole timeout gone by on the thread's clock (``wait_for`` loops read it), and a
    tick more: a real wait that times out ends after its deadline, never on it, so a loop
    that waits ``deadline - monotonic()`` and stops once that is below zero (CPython's
    ``as_completed``) stops, where a clock that stood still made it wait 0 s for ever."""
    if timeout is None:
        return step(Op("wait", name))
    here = current()
    timeout = max(timeout, 0)
    woken = step(Op("wait", name, timeout), here)
    if not woken:
        here.clock = math.nextafter(here.clock + timeout, math.inf)
    return woken


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
