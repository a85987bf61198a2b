"""``threading.Semaphore`` and ``BoundedSemaphore`` in plain code: the vocabulary's
semaphores (objects/semaphore.py), patched in place on the classes for a run. One made
at import stands in fresh for each run, with the permits it has now (a bounded one keeps
its initial value as its bound)."""

from __future__ import annotations

import sys
import threading

from ..objects import BoundedSemaphore as BoundedDeclaration
from ..objects import Semaphore as SemaphoreDeclaration
from ..steps import Acquire, Op, acquire, release
from . import clock
from .locks import held, waiters
from .runtime import maker, step

__all__ = ["afresh", "at_import", "install", "stand_in"]

_NAME = "_explorer_name"


def install(patches) -> None:
    for cls, declare in ((threading.Semaphore, SemaphoreDeclaration), (threading.BoundedSemaphore, BoundedDeclaration)):
        _install(patches, cls, declare)


def _install(patches, cls, declare) -> None:
    init, real_acquire, real_release = cls.__init__, cls.acquire, cls.release

    def __init__(self, value=1):
        here = maker()
        if here is None:
            return init(self, value)
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        runtime = here.runtime
        name = runtime.object_name(cls.__name__, here, sys._getframe(1))
        self.__dict__[_NAME] = name
        runtime.new_object(name, declare(value), self)

    def acquire_(self, blocking=True, timeout=None):
        name = self.__dict__.get(_NAME)
        if name is None:
            return real_acquire(self, blocking, timeout)
        if not blocking:
            if timeout is not None:
                raise ValueError("can't specify timeout for non-blocking acquire")
            return step(Acquire(name, False))
        if timeout is not None:
            timeout = max(timeout, 0)
            return clock.timed(Acquire(name, True, timeout), timeout)
        step(acquire(name))
        return True

    def release_(self, n=1):
        name = self.__dict__.get(_NAME)
        if name is None:
            return real_release(self, n)
        if n < 1:
            raise ValueError("n must be one or more")
        # one step for all n permits, as threading adds them under its lock: no thread sees
        # some of them given back and not the others
        step(release(name) if n == 1 else Op("release", name, n))

    def __exit__(self, *exc_info):
        release_(self)

    acquire_.__name__, release_.__name__ = "acquire", "release"  # threading's: a thread's target names it
    patches.set(cls, "__init__", __init__)
    patches.set(cls, "acquire", acquire_)
    patches.set(cls, "__enter__", acquire_)
    patches.set(cls, "release", release_)
    patches.set(cls, "__exit__", __exit__)


# ---- made at import (modules.py) ------------------------------------------------------------


def at_import(semaphore) -> tuple | str:
    """``(class, permits now, bound or None)``, or why no fresh one can be in its state."""
    inner = semaphore._cond  # threading's own state, read once per search
    if inner._waiters:
        return (f"and {waiters(len(inner._waiters))} for a permit now; every run starts from it, so "
                f"none may wait when the exploration starts")
    if held(inner._lock):
        return ("and in the middle of an acquire or a release now (another thread holds its lock); "
                "every run starts from it, so nothing may use it when the exploration starts")
    bounded = type(semaphore) is threading.BoundedSemaphore
    return (type(semaphore), semaphore._value, semaphore._initial_value if bounded else None)


def stand_in(runtime, name: str, state: tuple, twin):
    cls, value, bound = state
    made = cls.__new__(cls)
    made.__dict__[_NAME] = name
    if bound is None:
        runtime.new_object(name, SemaphoreDeclaration(value), made)
    else:
        runtime.new_object(name, BoundedDeclaration(bound), made).taken(value)
    return made


def afresh(name: str, state: tuple, twin) -> threading.Semaphore:
    _cls, value, bound = state
    if bound is None:
        return threading.Semaphore(value)
    made = threading.BoundedSemaphore(bound)
    made._value = value  # its permits taken, as the original's are
    return made
