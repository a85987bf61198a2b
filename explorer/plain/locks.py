"""``threading.Lock`` and ``threading.RLock`` in plain code: made in a run, they are the
vocabulary's locks (explorer/objects/lock.py) under a name (``FakeDatabase#1._lock``,
``Lock#1``), and each call is one step.

``threading.Lock`` is a C function, so it is replaced on the ``threading`` module (and
wherever a module imported it by name, modules.py) for the length of a run; outside a
program's threads it still makes a real lock. A lock made at import (a module global)
stands in fresh, and free, for each run (:func:`at_import`).
"""

from __future__ import annotations

import sys
import threading

from ..objects import LockDeclaration
from ..steps import Acquire, Op, acquire, release
from . import clock
from .runtime import maker, step

__all__ = ["LOCK_TYPES", "Lock", "PlainLock", "RLock", "afresh", "at_import", "global_lock", "held", "install",
           "stand_in", "waiters"]

_real_lock = threading.Lock
_real_rlock = threading.RLock
_LOCK_TYPE = type(_real_lock())
#: The types of a real Lock and RLock (both of RLock's kinds, C and Python).
LOCK_TYPES = (_LOCK_TYPE, *{type(_real_rlock()), threading._PyRLock})  # both RLock kinds


class PlainLock:
    """A lock made by an explored program: each call is a step on the model of that name."""

    __slots__ = ("__weakref__", "name")
    kind = "Lock"

    def __init__(self, name: str) -> None:
        self.name = name

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if timeout != -1:
            if not blocking:
                raise ValueError("can't specify a timeout for a non-blocking call")
            if timeout < 0:
                raise ValueError("timeout value must be a non-negative number")
            return clock.timed(Acquire(self.name, True, timeout), timeout)
        if not blocking:
            return step(Acquire(self.name, False))
        step(acquire(self.name))
        return True

    def release(self) -> None:
        step(release(self.name))

    def locked(self) -> bool:
        return step(Op("locked", self.name))

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<explorer {self.kind} {self.name}>"


class PlainRLock(PlainLock):
    __slots__ = ()
    kind = "RLock"


def _make(reentrant: bool):
    here = maker(3)
    if here is None:
        return _real_rlock() if reentrant else _real_lock()
    runtime = here.runtime
    kind = "RLock" if reentrant else "Lock"
    made = (PlainRLock if reentrant else PlainLock)("")
    made.name = runtime.object_name(kind, here, sys._getframe(2))
    runtime.new_object(made.name, LockDeclaration(reentrant), made)
    return made


def Lock():  # noqa: N802 - threading's name
    """``threading.Lock()``: a model lock in a program's thread, else a real one."""
    return _make(False)


def RLock(*args, **kwargs):  # noqa: N802 - threading's name
    """``threading.RLock()``: a model RLock in a program's thread, else a real one."""
    return _make(True)


def global_lock(runtime, name: str, reentrant: bool) -> PlainLock:
    """The stand-in, for one run, of a lock made at import as module global ``name``."""
    made = (PlainRLock if reentrant else PlainLock)(name)
    runtime.new_object(name, LockDeclaration(reentrant), made)
    return made


# ---- made at import (modules.py) ------------------------------------------------------------


def held(lock) -> bool:
    """Whether a real Lock or RLock is taken now, by any thread: this one too (an RLock it
    holds would let it take it again)."""
    owned = getattr(lock, "_is_owned", None)
    if owned is not None and owned():
        return True
    if lock.acquire(blocking=False):
        lock.release()
        return False
    return True


def waiters(n: int) -> str:
    """``n`` threads waiting on an object made at import, in words (threads that started
    before the exploration: a run's own threads are greenlets)."""
    return f"{'a thread' if n == 1 else f'{n} threads'} started before the exploration {'waits' if n == 1 else 'wait'}"


def at_import(lock) -> tuple | str:
    """Whether it is an RLock, or why no fresh lock can stand in for it."""
    if held(lock):
        return "and held now; every run starts from it, so it must be free when the exploration starts"
    return (type(lock) is not _LOCK_TYPE,)


def stand_in(runtime, name: str, state: tuple, twin) -> PlainLock:
    return global_lock(runtime, name, state[0])


def afresh(name: str, state: tuple, twin):
    return _real_rlock() if state[0] else _real_lock()


def install(patches) -> None:
    patches.set(threading, "Lock", Lock)
    patches.set(threading, "RLock", RLock)
