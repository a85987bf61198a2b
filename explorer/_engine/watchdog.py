"""The per-step time limit: a thread that interrupts a step whose code never yields.

A generator stuck in ``while True: pass`` never returns control to the scheduler, and
pure Python cannot pre-empt it from the same thread. The watchdog is a second thread
that watches the running execution's event log; when no step has been taken for
``limit`` seconds, it raises :class:`StepTimeout` in the exploring thread with
``PyThreadState_SetAsyncExc``. The exception surfaces inside the stuck generator, the
engine captures it like any other exception a thread raises, and it becomes a
``step-timeout`` finding naming the scenario, the thread, the step and the line.

It also keeps the search's ``time_limit`` (:class:`Deadline`). The engine and the
strategies check a flag the watchdog raises at the deadline, at points where stopping
leaves nothing half-done: before each step of an execution, and inside long strategy
work (dpor's race analysis). A step whose own code is still running a moment after
the deadline is interrupted with :class:`TimeLimitReached`, which the engine passes
up like Ctrl-C: a budget is not a bug, so it is never a ``step-timeout`` finding.

What this guards, and what it cannot: Python code that loops or recurses without a
step is interrupted (CPython checks for the exception between bytecodes). A step
blocked inside one C call (``time.sleep``, I/O, a real lock's ``acquire``) is
interrupted only when that call returns. On an interpreter without
``ctypes.pythonapi`` (PyPy) there is no watchdog, and only ``max_steps`` and the
budgets checked between executions apply.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from _thread import get_ident  # the real one: a plain program's runs patch threading.get_ident

from . import real_blocking

try:
    import ctypes

    _set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
except (ImportError, AttributeError):  # not CPython
    _set_async_exc = None

#: Seconds one step's code (a thread's Python code between two yields) may run by default.
DEFAULT_STEP_TIMEOUT = 10.0

#: thread id -> the execution that thread is running (set by Execution.run)
RUNNING: dict[int, object] = {}


class TimeLimitReached(KeyboardInterrupt):
    """The search's ``time_limit`` has passed: the search stops, and its result is incomplete.

    A ``KeyboardInterrupt``, so that every place that lets Ctrl-C through a thread body
    (the engine, a body's ``except Exception``) lets the time limit through as well.
    """


class Deadline:
    """The time limit of the search running in one thread.

    ``passed[0]`` turns True once the watchdog sees ``at`` go by; code on the exploring
    thread checks it and raises :class:`TimeLimitReached` where stopping is clean.
    ``at`` may be moved (the result's assembly gets a short grace after the search).
    """

    __slots__ = ("at", "passed")

    def __init__(self, at: float | None) -> None:
        self.at = at
        self.passed = [False]

    def extend(self, seconds: float) -> None:
        """A new deadline ``seconds`` from now, not yet passed."""
        self.at = time.monotonic() + seconds
        self.passed[0] = False

    def check(self) -> None:
        """Raise :class:`TimeLimitReached` if the deadline has passed."""
        if self.passed[0] or (self.at is not None and time.monotonic() >= self.at):
            self.passed[0] = True
            raise TimeLimitReached


#: thread id -> the deadline of the search that thread runs (set by the search)
DEADLINES: dict[int, Deadline] = {}
#: the deadline of a thread that runs no search: never passed
NO_DEADLINE = Deadline(None)


def check_deadline() -> None:
    """Raise :class:`TimeLimitReached` if the calling thread's search is past its time limit.
    Cheap enough for a loop over a long execution's events (call it every few hundred)."""
    deadline = DEADLINES.get(get_ident())
    if deadline is not None and deadline.passed[0]:
        raise TimeLimitReached


#: ``[True]`` once Ctrl-C is pressed while an explore() runs on the main thread (:func:`ctrl_c_noted`).
CTRL_C = [False]


@contextlib.contextmanager
def ctrl_c_noted(at_once: bool = True):
    """Note Ctrl-C in :data:`CTRL_C` (yielded), and raise KeyboardInterrupt as Python does.
    A thread's code may unwind that exception through steps (a ``with lock:`` releases
    the lock) or catch it, and its run would go on to an end the same schedule did not
    reach before, reported as nondeterminism: so the search reads the flag too, between
    two executions. With ``at_once`` False, Ctrl-C only raises the flag: for code that
    runs real threads, where a KeyboardInterrupt raised at once lands inside threading's
    own locks (a thread starting, an event's wait) and can leave one half released.
    Only on the main thread, and only over Python's own handler: a nested explore()
    shares the outer one's flag, anyone else's handler is left alone."""
    if not _on_main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield ctrl_c_flag()
        return

    def press(signum, frame):
        CTRL_C[0] = True
        if at_once:
            signal.default_int_handler(signum, frame)

    CTRL_C[0] = False
    signal.signal(signal.SIGINT, press)
    try:
        yield CTRL_C
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        CTRL_C[0] = False


@contextlib.contextmanager
def ctrl_c_held(again: bool = True):
    """Ctrl-C held back for the time of the block, then delivered to the handler it was
    meant for: around a few quick steps that must be done whole or not at all (a file
    made, and known to whoever removes it; a worker process started and told what to
    run), where a KeyboardInterrupt between two of them leaves something behind. With
    ``again`` False it is not delivered after: for the cleanup of a search that Ctrl-C
    (or SIGTERM, which a CI job's timeout sends twice) is stopping already."""
    if not _on_main_thread() or signal.getsignal(signal.SIGINT) is None:
        yield  # Ctrl-C lands on the main thread only; a handler set outside Python is left alone
        return
    pressed = []
    before = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)
    if pressed and again:
        signal.raise_signal(signal.SIGINT)


#: The interpreter's main thread (a plain program's runs patch threading.main_thread).
_MAIN = threading.main_thread().ident


def _on_main_thread() -> bool:
    """Whether the calling OS thread is the main one, where signals land."""
    return get_ident() == _MAIN


def ctrl_c_flag() -> list[bool]:
    """:data:`CTRL_C` for a search on the main thread, where Ctrl-C lands; a flag never
    raised for one on another thread, which Ctrl-C does not stop (as in Python)."""
    return CTRL_C if _on_main_thread() else [False]


class StepTimeout(BaseException):
    """Raised inside a thread body whose step ran longer than ``seconds``.

    A ``BaseException``, so that a body's ``except Exception`` does not swallow it.
    """

    seconds: float = 0.0
    #: how the body is blocked in a real threading object (real_blocking.py), or None
    blocked: str | None = None


class Watchdog:
    """``with Watchdog(limit):`` interrupts the calling thread's stuck steps, and marks its
    search's :class:`Deadline` passed at the time limit; a no-op when both are ``None``."""

    # A pending interrupt is never cleared: PyThreadState_SetAsyncExc(id, NULL) leaves the
    # eval loop's "pending" flag set in CPython 3.11, which makes traced code (hypothesis,
    # coverage) spin. The interrupt is only sent after `limit` seconds without a step and
    # lands within microseconds, in the stuck step, so none is left pending at the end.

    #: Seconds past the deadline a step's own code may go on before it is interrupted.
    SLOW_STEP_GRACE = 0.25

    def __init__(self, limit: float | None, deadline: Deadline | None = None) -> None:
        self.limit = limit
        self.deadline = deadline
        self.fired = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._target = get_ident()
        self._previous: Deadline | None = None

    def __enter__(self) -> Watchdog:
        if self.deadline is not None:
            self._previous = DEADLINES.get(self._target)
            DEADLINES[self._target] = self.deadline
        if self.limit is not None or self.deadline is not None:
            timeout = type("StepTimeout", (StepTimeout,), {"seconds": self.limit})
            self._thread = threading.Thread(target=self._watch, args=(self._target, timeout),
                                            name="explorer-watchdog", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.deadline is not None:
            if self._previous is None:
                DEADLINES.pop(self._target, None)
            else:
                DEADLINES[self._target] = self._previous  # a nested explore() has returned

    def _watch(self, target: int, timeout: type[StepTimeout]) -> None:
        poll = 0.5 if self.limit is None else min(max(self.limit / 8, 0.005), 0.5)
        if self.deadline is not None:
            poll = min(poll, 0.05)
        seen: tuple | None = None
        since = time.monotonic()
        while not self._stop.wait(poll):
            run = RUNNING.get(target)
            now = time.monotonic()
            if self._past_deadline(target, run, now):
                continue
            if self.limit is None or _set_async_exc is None:
                continue
            if run is None or run.status is not None:
                seen, since = None, now
                continue
            progress = (id(run), len(run.events))
            if progress != seen:
                seen, since = progress, now
            elif RUNNING.get(target) is run and run.status is None and (
                    now - since >= self.limit or (now - since >= min(self.limit, 0.1) and real_blocking.KNOWN
                                                  and real_blocking.stuck_at_known_site(target))):
                if self._interrupt(target, timeout, only_if_blocked=now - since < self.limit):
                    self.fired += 1
                    since = now  # a body that swallows it is interrupted again after another limit

    def _interrupt(self, target: int, exception: type[BaseException], only_if_blocked: bool = False) -> bool:
        """Raise ``exception`` in the exploring thread; if it is blocked in a real threading
        object (real_blocking.py), say so in the finding and release what it waits on, so that
        the exception lands. Returns whether it was raised."""
        blocked = real_blocking.diagnose(target)
        if only_if_blocked and (blocked is None or blocked.free is None):
            return False
        if blocked is not None and issubclass(exception, StepTimeout):
            exception = type("StepTimeout", (exception,), {"blocked": blocked.message})
        _set_async_exc(ctypes.c_ulong(target), ctypes.py_object(exception))
        if blocked is not None and blocked.free is not None:
            try:
                blocked.free.release()
            except RuntimeError:  # released meanwhile: the acquire has returned already
                pass
        return True

    def _past_deadline(self, target: int, run: object, now: float) -> bool:
        """Mark the deadline passed when it is; interrupt a step still running well past it.
        True once the deadline is past: the step timeout no longer applies."""
        deadline = self.deadline
        if deadline is None or deadline.at is None or now < deadline.at:
            return False
        if not deadline.passed[0]:
            deadline.passed[0] = True
            self._late = (id(run), len(run.events)) if run is not None else None
            return True
        if (run is not None and run.status is None and _set_async_exc is not None
                and now >= deadline.at + self.SLOW_STEP_GRACE and RUNNING.get(target) is run
                and self._late == (id(run), len(run.events))):
            self._interrupt(target, TimeLimitReached)
            deadline.at = now + self.SLOW_STEP_GRACE  # again later, if the body swallows it
        return True
