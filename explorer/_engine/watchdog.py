"""The per-step time limit: a thread that interrupts a step whose code never yields.

A generator stuck in ``while True: pass`` never returns control to the scheduler, and
pure Python cannot pre-empt it from the same thread. The watchdog is a second thread
that watches the running execution's event log; when no step has been taken for
``limit`` seconds, it raises :class:`StepTimeout` in the exploring thread with
``PyThreadState_SetAsyncExc``. The exception surfaces inside the stuck generator, the
engine captures it like any other exception a thread raises, and it becomes a
``step-timeout`` finding naming the scenario, the thread, the step and the line.

What this guards, and what it cannot: Python code that loops or recurses without a
step is interrupted (CPython checks for the exception between bytecodes). A step
blocked inside one C call (``time.sleep``, I/O, a real lock's ``acquire``) is
interrupted only when that call returns. On an interpreter without
``ctypes.pythonapi`` (PyPy) there is no watchdog, and only ``max_steps`` and the
budgets checked between executions apply.
"""

from __future__ import annotations

import threading
import time

try:
    import ctypes

    _set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
except (ImportError, AttributeError):  # not CPython
    _set_async_exc = None

#: Seconds one step's code (a thread's Python code between two yields) may run by default.
DEFAULT_STEP_TIMEOUT = 10.0

#: thread id -> the execution that thread is running (set by Execution.run)
RUNNING: dict[int, object] = {}


class StepTimeout(BaseException):
    """Raised inside a thread body whose step ran longer than ``seconds``.

    A ``BaseException``, so that a body's ``except Exception`` does not swallow it.
    """

    seconds: float = 0.0


class Watchdog:
    """``with Watchdog(limit):`` interrupts the calling thread's stuck steps; a no-op for ``None``."""

    # A pending interrupt is never cleared: PyThreadState_SetAsyncExc(id, NULL) leaves the
    # eval loop's "pending" flag set in CPython 3.11, which makes traced code (hypothesis,
    # coverage) spin. The interrupt is only sent after `limit` seconds without a step and
    # lands within microseconds, in the stuck step, so none is left pending at the end.

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.fired = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._target = threading.get_ident()

    def __enter__(self) -> Watchdog:
        if self.limit is not None and _set_async_exc is not None:
            timeout = type("StepTimeout", (StepTimeout,), {"seconds": self.limit})
            self._thread = threading.Thread(target=self._watch, args=(self._target, timeout),
                                            name="explorer-watchdog", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _watch(self, target: int, timeout: type[StepTimeout]) -> None:
        poll = min(max(self.limit / 8, 0.005), 0.5)
        seen: tuple | None = None
        since = time.monotonic()
        while not self._stop.wait(poll):
            run = RUNNING.get(target)
            now = time.monotonic()
            if run is None or run.status is not None:
                seen, since = None, now
                continue
            progress = (id(run), len(run.events))
            if progress != seen:
                seen, since = progress, now
            elif now - since >= self.limit and RUNNING.get(target) is run and run.status is None:
                _set_async_exc(ctypes.c_ulong(target), ctypes.py_object(timeout))
                self.fired += 1
                since = now  # a body that swallows it is interrupted again after another limit
