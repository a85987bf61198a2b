"""``queue.Queue``, ``LifoQueue``, ``PriorityQueue`` and ``SimpleQueue`` in plain code:
the vocabulary's queue (objects/queue.py).

``Queue`` is patched in place for a run (its subclasses follow; the order comes from
the class: ``LifoQueue`` last in first out, ``PriorityQueue`` smallest first).
``put``, ``get``, ``task_done`` and ``join`` are steps, ``put_nowait``/``get_nowait``
their non-blocking forms, ``qsize``/``empty``/``full`` one step that reads the size.
``SimpleQueue`` is a C class: ``queue.SimpleQueue`` makes an unbounded FIFO model
instead, for the length of a run. A ``Queue``, ``LifoQueue`` or ``PriorityQueue`` made at
import stands in fresh for each run, holding the items it holds now, in its order, with
as many tasks not done; a ``SimpleQueue`` made at import, while it is empty (its items
cannot be read without taking them).
"""

from __future__ import annotations

import queue
import sys

from ..objects import Queue as QueueDeclaration
from ..steps import Op, get, put
from . import clock
from .locks import held, waiters
from .runtime import NotModelled, maker, step

__all__ = ["SimpleQueue", "afresh", "at_import", "install", "stand_in"]

_NAME = "_explorer_name"
_real_simple = queue.SimpleQueue


def _order(cls) -> str:
    if issubclass(cls, queue.PriorityQueue):
        return "priority"
    return "lifo" if issubclass(cls, queue.LifoQueue) else "fifo"


def install(patches) -> None:
    cls = queue.Queue
    real = {attr: cls.__dict__[attr] for attr in ("__init__", "put", "get", "task_done", "join", "qsize",
                                                  "empty", "full")}

    def __init__(self, maxsize=0):
        here = maker()
        if here is None:
            return real["__init__"](self, maxsize)
        runtime = here.runtime
        name = runtime.object_name(type(self).__name__, here, sys._getframe(1))
        self.__dict__[_NAME] = name
        self.maxsize = maxsize
        runtime.new_object(name, QueueDeclaration(maxsize, _order(type(self))), self)

    def same(attr, model):
        original = real[attr]

        def patched(self, *args, **kwargs):
            name = self.__dict__.get(_NAME)
            return original(self, *args, **kwargs) if name is None else model(name, *args, **kwargs)
        patched.__name__ = attr  # queue's: a thread's target names it (Thread-1 (put))
        return patched

    def put_(name, item, block=True, timeout=None):
        timeout = _timeout(block, timeout)
        clock.timed(put(name, item, block, timeout), timeout if block else None, queue.Full)

    def get_(name, block=True, timeout=None):
        return _get(name, block, timeout)

    patches.set(cls, "__init__", __init__)
    patches.set(cls, "put", same("put", put_))
    patches.set(cls, "get", same("get", get_))
    patches.set(cls, "task_done", same("task_done", lambda name: step(Op("task_done", name))))
    patches.set(cls, "join", same("join", lambda name: step(Op("join", name))))
    patches.set(cls, "qsize", same("qsize", lambda name: step(Op("qsize", name))))
    patches.set(cls, "empty", same("empty", lambda name: step(Op("qsize", name)) == 0))

    def full(self):
        name = self.__dict__.get(_NAME)
        if name is None:
            return real["full"](self)
        return 0 < self.maxsize <= step(Op("qsize", name))
    patches.set(cls, "full", full)

    def __getattr__(self, attr):  # only for what the instance lacks: a model has no internals
        if attr in _INTERNALS and self.__dict__.get(_NAME) is not None:
            raise NotModelled(f"{type(self).__name__}.{attr} is not modelled (a queue's internals): explorer "
                              f"models put, get, their _nowait forms, task_done, join, qsize, empty and full")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")
    patches.set(cls, "__getattr__", __getattr__)
    patches.set(queue, "SimpleQueue", SimpleQueue)


#: What ``queue.Queue`` keeps for itself, which a program may still read: its deque, its
#: lock and conditions, its count of tasks not done. A model holds none of them.
_INTERNALS = frozenset({"queue", "mutex", "not_empty", "not_full", "all_tasks_done", "unfinished_tasks"})


class _PlainSimpleQueue:
    """``queue.SimpleQueue()`` made by an explored program: an unbounded FIFO model."""

    __slots__ = ("__weakref__", "name")

    def __init__(self, name: str) -> None:
        self.name = name

    def put(self, item, block=True, timeout=None):
        step(put(self.name, item))

    put_nowait = put

    def get(self, block=True, timeout=None):
        return _get(self.name, block, timeout)

    def get_nowait(self):
        return self.get(False)

    def qsize(self):
        return step(Op("qsize", self.name))

    def empty(self):
        return self.qsize() == 0

    def __repr__(self) -> str:
        return f"<explorer SimpleQueue {self.name}>"


def SimpleQueue():  # noqa: N802 - queue's name
    here = maker()
    if here is None:
        return _real_simple()
    runtime = here.runtime
    made = _PlainSimpleQueue(runtime.object_name("SimpleQueue", here, sys._getframe(1)))
    runtime.new_object(made.name, QueueDeclaration(0), made)
    return made


def _get(name: str, block: bool, timeout):
    """A queue's ``get``: with ``block`` and a ``timeout``, one that raises ``Empty`` waited it out."""
    timeout = _timeout(block, timeout)
    return clock.timed(get(name, block, timeout), timeout if block else None, queue.Empty)


def _timeout(block: bool, timeout):
    """A queue call's timeout as the step takes it; a negative one raises, as queue's does
    (where the call blocks: without blocking, queue ignores it)."""
    if timeout is None:
        return None
    if block and timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")
    return max(timeout, 0)


# ---- made at import (modules.py) ------------------------------------------------------------


def at_import(made) -> tuple | str:
    """``(class, maxsize, items in its order, tasks not done)``, or why no fresh one can be
    in its state. Tasks not done count items put and not ``task_done``: a queue filled at
    import has as many as it holds, one whose items were taken and not marked done more."""
    if type(made) is _real_simple:
        if made.qsize():
            return ("and holding items now, which explorer cannot read without taking them; every run starts "
                    "from it, so it must be empty when the exploration starts: put them in inside the program")
        return (_real_simple,)
    waiting = sum(len(condition._waiters) for condition in  # threading's own state
                  (made.not_empty, made.not_full, made.all_tasks_done))
    if waiting:
        return (f"and {waiters(waiting)} in its get, put or join now; every run starts from it, so none "
                f"may wait when the exploration starts")
    if held(made.mutex):
        return ("and in the middle of a call now (another thread holds its lock); every run starts from it, "
                "so nothing may use it when the exploration starts")
    return (type(made), made.maxsize, tuple(made.queue), made.unfinished_tasks)


def stand_in(runtime, name: str, state: tuple, twin):
    if state[0] is _real_simple:
        made = _PlainSimpleQueue(name)
        runtime.new_object(name, QueueDeclaration(0), made)
        return made
    cls, maxsize, items, unfinished = state
    made = cls.__new__(cls)
    made.__dict__[_NAME] = name
    made.maxsize = maxsize
    runtime.new_object(name, QueueDeclaration(maxsize, _order(cls)), made).holding(items, unfinished)
    return made


def afresh(name: str, state: tuple, twin) -> queue.Queue:
    if state[0] is _real_simple:
        return _real_simple()
    cls, maxsize, items, unfinished = state
    made = cls(maxsize)
    made.queue.extend(items)  # a priority queue's heap as it was: a heap still
    made.unfinished_tasks = unfinished
    return made
