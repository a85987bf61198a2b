"""``threading.Condition`` in plain code: the vocabulary's condition (objects/condition.py).

Patched in place on the class for the length of a run, so ``from threading import
Condition`` works too; a condition made outside a program's threads keeps threading's
own code. ``Condition()`` has its own RLock; ``Condition(lock)`` shares a lock the
program made. ``wait_for`` is threading's own loop over the patched ``wait``.

A condition made at import stands in fresh for each run: over the very stand-in of its
lock where that lock is a module global too (so ``with lock:`` and ``with cond:`` exclude
each other), else over a fresh lock of its own of the same kind.
"""

from __future__ import annotations

import sys
import threading

from .._text import shown
from ..errors import ScenarioError
from ..objects import Condition as ConditionDeclaration
from ..steps import Acquire, Op, acquire, release
from . import clock
from .locks import LOCK_TYPES, PlainLock, global_lock, held, waiters
from .runtime import maker, step

__all__ = ["afresh", "at_import", "install", "stand_in"]

_NAME = "_explorer_name"


def install(patches) -> None:
    cls = threading.Condition
    original = {attr: cls.__dict__.get(attr) for attr in
                ("__init__", "__enter__", "__exit__", "wait", "notify", "notify_all", "notifyAll", "__repr__")}

    def __init__(self, lock=None):
        here = maker()
        if here is None:
            return original["__init__"](self, lock)
        if lock is not None and not isinstance(lock, PlainLock):
            raise ScenarioError(
                f"Condition({lock!r}): its lock was made before the exploration (or is not a "
                f"threading lock); make the lock inside the program too")
        runtime = here.runtime
        name = runtime.object_name("Condition", here, sys._getframe(1))
        self.__dict__[_NAME] = name
        runtime.new_object(name, ConditionDeclaration(None if lock is None else lock.name), self)

    def own(method):
        """``method`` for a condition made in a run, threading's own for any other."""
        name_of = method.__name__
        real = original.get(name_of)

        def patched(self, *args, **kwargs):
            name = self.__dict__.get(_NAME)
            if name is None:
                return real(self, *args, **kwargs)
            return method(self, name, *args, **kwargs)
        patched.__name__ = name_of
        return patched

    def acquire_(self, *args, **kwargs):  # class level: a real condition has its own, per instance
        return _acquire(self.__dict__[_NAME], *args, **kwargs)

    def release_(self):
        step(release(self.__dict__[_NAME]))

    @own
    def __enter__(self, name):
        return _acquire(name)

    @own
    def __exit__(self, name, *exc_info):
        step(release(name))

    @own
    def wait(self, name, timeout=None):
        return clock.wait(name, timeout)

    @own
    def notify(self, name, n=1):
        step(Op("notify", name, n))

    @own
    def notify_all(self, name):
        step(Op("notify_all", name))

    @own
    def __repr__(self, name):
        return f"<explorer Condition {name}>"

    for method in (__init__, __enter__, __exit__, wait, notify, notify_all, __repr__):
        patches.set(cls, method.__name__, method)
    acquire_.__name__, release_.__name__ = "acquire", "release"  # threading's: a thread's target names it
    patches.set(cls, "acquire", acquire_)
    patches.set(cls, "release", release_)


def _acquire(name: str, blocking: bool = True, timeout: float = -1) -> bool:
    if not blocking:
        return step(Acquire(name, False))
    if timeout is not None and timeout >= 0:
        return clock.timed(Acquire(name, True, timeout), timeout)
    step(acquire(name))
    return True


# ---- made at import (modules.py) ------------------------------------------------------------


def at_import(condition) -> tuple | str:
    """``(its lock, whether that is an RLock)``, or why no fresh one can be in its state."""
    lock = condition._lock  # threading's own state, read once per search
    if type(lock) not in LOCK_TYPES:
        return (f"over {shown(lock)}, which is no threading Lock or RLock; make the condition inside the program "
                f"(in main, or in the __init__ of a tracked class)")
    if held(lock):
        return ("and its lock is held now; every run starts from it, so the lock must be free when the "
                "exploration starts")
    if condition._waiters:
        return (f"and {waiters(len(condition._waiters))} on it now; every run starts from it, so "
                f"none may wait when the exploration starts")
    return (lock, type(lock) is not LOCK_TYPES[0])


def stand_in(runtime, name: str, state: tuple, twin):
    lock, reentrant = state
    shared = twin(lock)  # the lock's stand-in, where the lock is a module global too
    if shared is None and not reentrant:
        shared = global_lock(runtime, f"{name}._lock", False)  # a Lock of its own, named as threading keeps it
    made = threading.Condition.__new__(threading.Condition)
    made.__dict__[_NAME] = name
    runtime.new_object(name, ConditionDeclaration(None if shared is None else shared.name), made)
    return made


def afresh(name: str, state: tuple, twin) -> threading.Condition:
    lock, reentrant = state
    shared = twin(lock)
    if shared is None:
        shared = threading.RLock() if reentrant else threading.Lock()
    return threading.Condition(shared)
