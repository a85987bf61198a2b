"""``threading.Semaphore`` and ``BoundedSemaphore`` in plain code: the vocabulary's
semaphores (objects/semaphore.py), patched in place on the classes for a run."""

from __future__ import annotations

import sys
import threading

from ..objects import BoundedSemaphore as BoundedDeclaration
from ..objects import Semaphore as SemaphoreDeclaration
from ..steps import Acquire, Op, acquire, release
from .runtime import maker, step

__all__ = ["install"]

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
            return step(Acquire(name, True, max(timeout, 0)))
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
