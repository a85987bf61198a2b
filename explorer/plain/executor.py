"""``concurrent.futures.ThreadPoolExecutor`` and its futures in plain code: the
vocabulary's pool (objects/pool.py).

Patched in place for a run: ``submit`` is a step that hands back a :class:`PlainFuture`;
``shutdown`` (and so the ``with`` block's end) another; ``map`` is the executor's own,
over them. A pool is named as ``concurrent.futures`` names it (``ThreadPoolExecutor-0``,
counted per creating thread; or its ``thread_name_prefix``), its workers
``ThreadPoolExecutor-0_0``, ``_1``..., its futures ``ThreadPoolExecutor-0#1``, ``#2``...
A task's exception that nobody reads is an ``error`` finding: the notebook's executor
swallowed a ``TypeError`` and printed 0; explorer names it. A pool made at import stands
in fresh for each run while it has run nothing: named after its ``thread_name_prefix``,
or, given none, after the global that holds it (its workers ``executor_0``...).
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import zlib

from ..objects import ThreadPool
from ..steps import Op
from . import clock
from .clock import wait_for_end
from .runtime import Call, NotModelled, current, maker, step
from .threads import Handle

__all__ = ["PlainFuture", "afresh", "at_import", "install", "stand_in"]

_NAME = "_explorer_name"
_FUTURES = "_explorer_futures"  # the names of the futures of the tasks submitted to a pool
_CALLED_BACK = "_explorer_called_back"  # a pool some of whose futures have done-callbacks


class ExecutorPool(ThreadPool):
    """The vocabulary's pool, its workers named as ``concurrent.futures`` names them;
    ``initialized``: with an ``initializer``, whose failure breaks the pool, and then
    ``submit`` and ``shutdown`` wait while a worker fails the tasks queued."""

    __slots__ = ("initialized",)
    _fields = ("max_workers", "initialized")
    separator = "_"

    def __init__(self, max_workers: int, initialized: bool = False) -> None:
        self.initialized = initialized
        super().__init__(max_workers)

    def may_block(self, name: str, step: tuple) -> bool:
        return super().may_block(name, step) or (self.initialized and step[0] in ("submit", "shutdown",
                                                                                    "cancel_next"))


class PlainFuture:
    """The future of a task submitted in a run: ``result`` and ``exception`` wait for the
    task (a step); ``done`` asks whether it has ended (a step)."""

    __slots__ = ("name", "pool")

    def __init__(self, name: str, pool=None) -> None:
        self.name = name
        self.pool = pool  # the executor it came from

    def result(self, timeout=None):
        return self._wait("result", timeout)

    def exception(self, timeout=None):
        return self._wait("exception", timeout)

    def _wait(self, kind: str, timeout):
        if timeout is None:
            return wait_for_end(Op(kind, self.name), self.name)
        # the timeout may run out at any point the task has not ended by (TimeoutError)
        timeout = max(timeout, 0)
        return wait_for_end(Op(kind, self.name, timeout), self.name, timeout)

    def done(self) -> bool:
        return step(Op("done", self.name))

    def cancel(self) -> bool:
        cancelled = step(Op("cancel", self.name))  # True while no worker has taken the task
        if cancelled.__class__ is tuple:  # (True, its done-callbacks): called here, as concurrent.futures does
            cancelled, callbacks = cancelled
            for callback in callbacks:
                self._call_back(callback.fn)
        return cancelled

    def cancelled(self) -> bool:
        return step(Op("cancelled", self.name))

    def add_done_callback(self, fn) -> None:
        """Kept till the task ends (its worker calls it) or is cancelled (the canceller
        does); called now, here, if it has ended already."""
        here = current()
        if self.pool is not None:
            self.pool.__dict__[_CALLED_BACK] = True
        if step(Op("add_done_callback", self.name, Call(here.runtime, fn, (self,), {}, self.name, None, here.clock)),
                here):
            self._call_back(fn)

    def _call_back(self, fn) -> None:
        try:
            fn(self)
        except Exception as exc:  # noqa: BLE001 - logged by concurrent.futures, reported by explorer
            step(Op("callback_raised", self.name, exc))

    def running(self) -> bool:
        return step(Op("running", self.name))

    @property
    def _condition(self):
        # the first thing the real concurrent.futures.wait() and as_completed() touch of a
        # future: reached only with futures of two kinds at once (below)
        raise NotModelled("concurrent.futures.wait() and as_completed() over a pool's futures together "
                          "with futures made by concurrent.futures.Future() are not modelled yet")

    def __hash__(self) -> int:
        # the same in every run and process: a set of futures (what wait() returns) is
        # iterated in one order, as the engine's replays need (ids would order it anew)
        return zlib.crc32(self.name.encode())

    def __repr__(self) -> str:
        return f"<explorer Future {self.name}>"


_real_wait = concurrent.futures.wait
_real_as_completed = concurrent.futures.as_completed


def _ours(fs) -> list[PlainFuture] | None:
    """``fs`` as a pool's futures in the order they were submitted, or None where the real
    function is called (outside a run, or with futures made by ``Future()``)."""
    fs = list(fs)
    if current() is None or not fs or not all(isinstance(f, PlainFuture) for f in fs):
        return None
    by_name = {f.name: f for f in fs}
    return [by_name[name] for name in sorted(by_name, key=_submitted)]


def _submitted(name: str) -> tuple:
    pool, _, number = name.rpartition("#")
    return (pool, int(number))


def _ended(names, timeout: float | None):
    """One step: those of the futures named ``names`` that have ended, in the order they
    ended (waiting for one, or with ``timeout``, giving up at any point); the thread's
    clock moves on as after a ``result()`` (what a timeout adds, the caller knows)."""
    what = Op("wait_any", names[0], names) if timeout is None else Op("wait_any", names[0], names, timeout)
    here = current()
    ended = step(what, here)
    times = here.runtime.ended_at
    here.clock = max([here.clock] + [times[name] for name in ended if name in times])
    return ended


def wait(fs, timeout=None, return_when=concurrent.futures.ALL_COMPLETED):
    """``concurrent.futures.wait`` on a pool's futures: a step each time it looks, until
    ``return_when`` holds (or, with a timeout, at whichever step it gives up)."""
    futures = _ours(fs)
    if futures is None:
        return _real_wait(fs, timeout, return_when)
    by_name = {f.name: f for f in futures}
    pending, done = [f.name for f in futures], []
    start = current().clock
    while pending:
        ended = _ended(tuple(pending), None if timeout is None else max(timeout, 0))
        done += ended
        pending = [name for name in pending if name not in ended]
        if timeout is not None:
            if not _returns_early(return_when, done, pending):  # it waited its timeout out
                clock.timed_out(current(), start, max(timeout, 0))
            break
        if ended and return_when == concurrent.futures.FIRST_COMPLETED:
            break
        if return_when == concurrent.futures.FIRST_EXCEPTION and any(_raised(name) for name in ended):
            break
    return concurrent.futures._base.DoneAndNotDoneFutures(
        {by_name[name] for name in done}, {by_name[name] for name in pending})


def _returns_early(return_when: str, done: list, pending: list) -> bool:
    """Whether ``concurrent.futures.wait`` with a timeout returns before it, ``done`` having
    ended: what it waits for has happened."""
    if not pending:
        return True
    if return_when == concurrent.futures.FIRST_COMPLETED:
        return bool(done)
    return return_when == concurrent.futures.FIRST_EXCEPTION and any(_raised(name) for name in done)


def _raised(name: str) -> bool:
    model = current().runtime.run.objects[name]
    return model.error is not None and not model.cancelled


def as_completed(fs, timeout=None):
    """``concurrent.futures.as_completed`` on a pool's futures: each as it ends, in the order
    they end (a step each time it waits); with a timeout, TimeoutError at any point."""
    futures = _ours(fs)
    if futures is None:
        return _real_as_completed(fs, timeout)
    return _completed(futures, timeout)


def _completed(futures: list[PlainFuture], timeout):
    by_name = {f.name: f for f in futures}
    pending = [f.name for f in futures]
    start = current().clock  # CPython's end_time is timeout + monotonic() at the first next()
    # those ended when it is called come in a set's order, by address: any order
    ended = _ended(tuple(pending), 0.0)
    if len(ended) > 1:
        here = current()
        ended = step(Op("collect", step(Op("shuffle", ended[0], ended), here)), here)
    pending = [name for name in pending if name not in ended]
    for name in ended:
        yield by_name[name]
    while pending:  # then each as it ends
        ended = _ended(tuple(pending), None if timeout is None else max(timeout, 0))
        if not ended:  # it waited what was left till end_time, and past it
            clock.timed_out(current(), start, timeout)
            raise TimeoutError(f"{len(pending)} (of {len(futures)}) futures unfinished")
        pending = [name for name in pending if name not in ended]
        for name in ended:
            yield by_name[name]


def install(patches) -> None:
    for module in (concurrent.futures, concurrent.futures._base):
        patches.set(module, "wait", wait)
        patches.set(module, "as_completed", as_completed)
    cls = concurrent.futures.ThreadPoolExecutor
    real_init, real_submit, real_shutdown = cls.__init__, cls.submit, cls.shutdown

    def __init__(self, max_workers=None, thread_name_prefix="", initializer=None, initargs=()):
        here = maker()
        if here is None:
            return real_init(self, max_workers, thread_name_prefix, initializer, initargs)
        if max_workers is None:
            max_workers = min(32, (os.cpu_count() or 1) + 4)  # as concurrent.futures chooses
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        runtime = here.runtime
        if thread_name_prefix:
            name = thread_name_prefix
        else:
            n = runtime.count("ThreadPoolExecutor", here.label, start=0)
            name = f"ThreadPoolExecutor-{n}" if here.label == "main" else f"ThreadPoolExecutor-{n}@{here.label}"
        model = _model(self, runtime, name, max_workers, initializer is not None)
        if initializer is not None:  # each worker calls it first, as itself
            initargs = tuple(initargs)
            model.initializer = lambda worker, shown, clock: Call(runtime, initializer, initargs, {}, worker,
                                                                  Handle(shown, label=worker), clock)

    def submit(self, fn, /, *args, **kwargs):
        name = self.__dict__.get(_NAME)
        if name is None:
            return real_submit(self, fn, *args, **kwargs)
        here = current()
        call = Call(here.runtime, fn, args, kwargs, None, None, here.clock)
        future = step(Op("submit", name, call, ()), here)
        self.__dict__.setdefault(_FUTURES, []).append(future)
        call.label = future  # current_thread() in the task: its worker, known when one takes it
        made = PlainFuture(future, self)
        here.runtime.name_object(made, future)
        return made

    def shutdown(self, wait=True, *, cancel_futures=False):
        name = self.__dict__.get(_NAME)
        if name is None:
            return real_shutdown(self, wait, cancel_futures=cancel_futures)
        cancel = ("cancel_futures",) if cancel_futures else ()  # those queued when it runs: any thread's
        if cancel and self.__dict__.get(_CALLED_BACK):
            raise NotModelled("shutdown(cancel_futures=True) of a pool whose futures have done-callbacks is not "
                              "modelled yet; cancel() them first")
        if not wait:
            step(Op("shutdown", name, False, *cancel))
            return
        here = current()
        step(Op("shutdown", name, True, *cancel) if cancel else Op("shutdown", name), here)
        ended = here.runtime.ended_at  # every task has ended: the time of the last to end
        here.clock = max([here.clock] + [ended[f] for f in self.__dict__.get(_FUTURES, ()) if f in ended])

    patches.set(cls, "__init__", __init__)
    patches.set(cls, "submit", submit)
    patches.set(cls, "shutdown", shutdown)


def _model(pool, runtime, name: str, max_workers: int, initialized: bool = False):
    """Make ``pool`` the stand-in of the model ``name`` (what its patched methods read);
    returns the model."""
    pool.__dict__[_NAME] = name
    pool._max_workers = max_workers
    return runtime.new_object(name, ExecutorPool(max_workers, initialized), pool)


# ---- made at import (modules.py) ------------------------------------------------------------

_NUMBERED = re.compile(r"ThreadPoolExecutor-\d+")  # the prefix concurrent.futures gives a pool given none


def at_import(pool) -> tuple | str:
    """``(max_workers, its thread_name_prefix or None)``, or why no fresh one can be in its state."""
    if pool._initializer is not None:  # concurrent.futures' own state, read once per search
        return ("with initializer=..., which plain code models only in a pool the program makes: make it "
                "inside the program (in main)")
    if pool._shutdown:
        return ("and shut down now; every run starts from it, so it must be open when the exploration starts: "
                "make it inside the program (in main)")
    if pool._threads or pool._broken:
        return ("and its worker threads started before the exploration (it was given a task); every run starts "
                "from it, so it must have run nothing when the exploration starts: submit to it only inside "
                "the program, or make it there")
    prefix = pool._thread_name_prefix
    return (pool._max_workers, None if _NUMBERED.fullmatch(prefix) else prefix)


def stand_in(runtime, name: str, state: tuple, twin):
    max_workers, prefix = state
    made = concurrent.futures.ThreadPoolExecutor.__new__(concurrent.futures.ThreadPoolExecutor)
    _model(made, runtime, prefix or name, max_workers)
    return made


def afresh(name: str, state: tuple, twin) -> concurrent.futures.ThreadPoolExecutor:
    max_workers, prefix = state
    # its workers named as exploration names them (executor_0), not by a process-wide count
    return concurrent.futures.ThreadPoolExecutor(max_workers, thread_name_prefix=prefix or name)
