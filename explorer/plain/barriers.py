"""``threading.Barrier`` in plain code: the vocabulary's barrier (objects/barrier.py),
patched in place on the class for a run. ``wait`` is modelled; an ``action``, a
default ``timeout``, ``reset``, ``abort`` and the ``n_waiting``/``broken`` counters are
not yet, and say so where the program uses them."""

from __future__ import annotations

import sys
import threading

from ..objects import Barrier as BarrierDeclaration
from ..steps import Op
from .runtime import NotModelled, maker, step

__all__ = ["install"]

_NAME = "_explorer_name"


def install(patches) -> None:
    cls = threading.Barrier
    real_init, real_wait, real_reset, real_abort = cls.__init__, cls.wait, cls.reset, cls.abort

    def __init__(self, parties, action=None, timeout=None):
        here = maker()
        if here is None:
            return real_init(self, parties, action, timeout)
        if action is not None or timeout is not None:
            raise NotModelled("Barrier(parties, action=..., timeout=...): explorer models a barrier's wait, "
                              "not its action or default timeout yet; give parties only")
        runtime = here.runtime
        name = runtime.object_name("Barrier", here, sys._getframe(1))
        self.__dict__[_NAME] = name
        self.__dict__["_parties"] = parties
        runtime.new_object(name, BarrierDeclaration(parties), self)

    def wait(self, timeout=None):
        name = self.__dict__.get(_NAME)
        if name is None:
            return real_wait(self, timeout)
        if timeout is not None:
            raise NotModelled("Barrier.wait(timeout): a barrier's timeout is not modelled yet")
        return step(Op("wait", name))

    def unmodelled(real, what):
        def patched(self, *args):
            if self.__dict__.get(_NAME) is None:
                return real(self, *args)
            raise NotModelled(f"Barrier.{what}() is not modelled yet; explorer models wait() only")
        return patched

    real_broken, real_waiting = cls.__dict__["broken"], cls.__dict__["n_waiting"]

    def broken(self):
        # no timeout, abort or reset is modelled, so a modelled barrier is never broken
        return real_broken.fget(self) if self.__dict__.get(_NAME) is None else False

    def n_waiting(self):
        if self.__dict__.get(_NAME) is None:
            return real_waiting.fget(self)
        raise NotModelled("Barrier.n_waiting is not modelled yet; explorer models wait() only")

    patches.set(cls, "__init__", __init__)
    patches.set(cls, "wait", wait)
    patches.set(cls, "broken", property(broken))
    patches.set(cls, "n_waiting", property(n_waiting))
    patches.set(cls, "reset", unmodelled(real_reset, "reset"))
    patches.set(cls, "abort", unmodelled(real_abort, "abort"))
