"""``threading.Barrier`` in plain code: the vocabulary's barrier (objects/barrier.py),
patched in place on the class for a run. ``wait`` (its ``timeout`` and the barrier's
default one may run out at any point before the barrier fills, and break it), the
``action`` (run by the last party to arrive before anyone passes; if it raises, the
barrier breaks), ``abort`` (breaks it), ``reset`` (its waiters get BrokenBarrierError, and it
is whole again), ``broken`` and ``n_waiting`` are modelled."""

from __future__ import annotations

import sys
import threading

from ..objects import Barrier as BarrierDeclaration
from ..steps import Op
from .runtime import maker, step

__all__ = ["install"]

_NAME = "_explorer_name"


def install(patches) -> None:
    cls = threading.Barrier
    real_init, real_wait, real_reset, real_abort = cls.__init__, cls.wait, cls.reset, cls.abort

    def __init__(self, parties, action=None, timeout=None):
        here = maker()
        if here is None:
            return real_init(self, parties, action, timeout)
        runtime = here.runtime
        name = runtime.object_name("Barrier", here, sys._getframe(1))
        self.__dict__[_NAME] = name
        self.__dict__["_parties"] = parties
        self.__dict__["_action"] = action
        self.__dict__["_timeout"] = timeout
        runtime.new_object(name, BarrierDeclaration(parties), self)

    def wait(self, timeout=None):
        name = self.__dict__.get(_NAME)
        if name is None:
            return real_wait(self, timeout)
        if timeout is None:
            timeout = self.__dict__["_timeout"]
        action = self.__dict__["_action"]
        # a timeout may run out at any point before the barrier fills: it breaks the barrier
        index = step(Op("wait", name, None if timeout is None else max(timeout, 0), action is not None))
        if action is not None and index + 1 == self.__dict__["_parties"]:
            try:  # the last to arrive runs the action before anyone passes, as threading does
                action()
            except BaseException:
                step(Op("break", name))  # every waiter gets BrokenBarrierError; this one, the error
                raise
            step(Op("release", name))
        return index

    def stepped(real, kind):
        def patched(self):
            name = self.__dict__.get(_NAME)
            return real(self) if name is None else step(Op(kind, name))
        patched.__name__ = real.__name__  # threading's: a thread's target names it
        return patched

    real_broken, real_waiting = cls.__dict__["broken"], cls.__dict__["n_waiting"]

    def broken(self):
        name = self.__dict__.get(_NAME)
        return real_broken.fget(self) if name is None else step(Op("broken", name))

    def n_waiting(self):
        name = self.__dict__.get(_NAME)
        return real_waiting.fget(self) if name is None else step(Op("n_waiting", name))

    patches.set(cls, "__init__", __init__)
    patches.set(cls, "wait", wait)
    patches.set(cls, "broken", property(broken))
    patches.set(cls, "n_waiting", property(n_waiting))
    patches.set(cls, "reset", stepped(real_reset, "reset"))
    patches.set(cls, "abort", stepped(real_abort, "break"))
