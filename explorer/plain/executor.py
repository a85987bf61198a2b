"""``concurrent.futures.ThreadPoolExecutor`` and its futures in plain code: the
vocabulary's pool (objects/pool.py).

Patched in place for a run: ``submit`` is a step that hands back a :class:`PlainFuture`;
``shutdown`` (and so the ``with`` block's end) another; ``map`` is the executor's own,
over them. A pool is named as ``concurrent.futures`` names it (``ThreadPoolExecutor-0``,
counted per creating thread; or its ``thread_name_prefix``), its workers
``ThreadPoolExecutor-0_0``, ``_1``..., its futures ``ThreadPoolExecutor-0#1``, ``#2``...
A task's exception that nobody reads is an ``error`` finding: the notebook's executor
swallowed a ``TypeError`` and printed 0; explorer names it.
"""

from __future__ import annotations

import concurrent.futures
import os

from ..objects import ThreadPool
from ..steps import Op
from .runtime import Call, NotModelled, current, maker, step, wait_for_end

__all__ = ["PlainFuture", "install"]

_NAME = "_explorer_name"
_FUTURES = "_explorer_futures"  # the names of the futures of the tasks submitted to a pool


class ExecutorPool(ThreadPool):
    """The vocabulary's pool, its workers named as ``concurrent.futures`` names them."""

    __slots__ = ()
    separator = "_"


class PlainFuture:
    """The future of a task submitted in a run: ``result`` and ``exception`` wait for the
    task (a step); ``done`` asks whether it has ended (a step)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def result(self, timeout=None):
        if timeout is not None:
            raise NotModelled("Future.result(timeout): a timeout on a future is not modelled yet")
        return wait_for_end(Op("result", self.name), self.name)

    def exception(self, timeout=None):
        try:
            self.result(timeout)
        except (NotModelled, concurrent.futures.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001 - what the task raised, handed back
            return exc
        return None

    def done(self) -> bool:
        return step(Op("done", self.name))

    def cancel(self) -> bool:
        return step(Op("cancel", self.name))  # True while no worker has taken the task

    def cancelled(self) -> bool:
        return step(Op("cancelled", self.name))

    def add_done_callback(self, fn) -> None:
        raise NotModelled("Future.add_done_callback is not modelled yet; call result() instead")

    def running(self) -> bool:
        raise NotModelled("Future.running() is not modelled yet; call done() or result() instead")

    @property
    def _condition(self):
        # the first thing concurrent.futures.wait() and as_completed() touch of a future
        raise NotModelled("concurrent.futures.wait() and as_completed() are not modelled yet; "
                          "call each future's result() in turn instead")

    def __repr__(self) -> str:
        return f"<explorer Future {self.name}>"


def install(patches) -> None:
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
        if initializer is not None:
            raise NotModelled("ThreadPoolExecutor(initializer=...) is not modelled yet")
        runtime = here.runtime
        if thread_name_prefix:
            name = thread_name_prefix
        else:
            n = runtime.count("ThreadPoolExecutor", here.label, start=0)
            name = f"ThreadPoolExecutor-{n}" if here.label == "main" else f"ThreadPoolExecutor-{n}@{here.label}"
        self.__dict__[_NAME] = name
        self._max_workers = max_workers
        runtime.new_object(name, ExecutorPool(max_workers), self)

    def submit(self, fn, /, *args, **kwargs):
        name = self.__dict__.get(_NAME)
        if name is None:
            return real_submit(self, fn, *args, **kwargs)
        here = current()
        call = Call(here.runtime, fn, args, kwargs, None, None, here.clock)
        future = step(Op("submit", name, call, ()), here)
        self.__dict__.setdefault(_FUTURES, []).append(future)
        call.label = future  # current_thread() in the task: its worker, known when one takes it
        made = PlainFuture(future)
        here.runtime.name_object(made, future)
        return made

    def shutdown(self, wait=True, *, cancel_futures=False):
        name = self.__dict__.get(_NAME)
        if name is None:
            return real_shutdown(self, wait, cancel_futures=cancel_futures)
        if cancel_futures:
            raise NotModelled("shutdown(cancel_futures=True) is not modelled yet")
        if not wait:
            step(Op("shutdown", name, False))
            return
        here = current()
        step(Op("shutdown", name), here)
        ended = here.runtime.ended_at  # every task has ended: the time of the last to end
        here.clock = max([here.clock] + [ended[f] for f in self.__dict__.get(_FUTURES, ()) if f in ended])

    patches.set(cls, "__init__", __init__)
    patches.set(cls, "submit", submit)
    patches.set(cls, "shutdown", shutdown)
