"""``threading.Barrier`` in plain code: the vocabulary's barrier (objects/barrier.py),
patched in place on the class for a run. ``wait`` (its ``timeout`` and the barrier's
default one may run out at any point before the barrier fills, and break it), the
``action`` (run by the last party to arrive before anyone passes; if it raises, the
barrier breaks), ``abort`` (breaks it), ``reset`` (its waiters get BrokenBarrierError, and it
is whole again), ``broken`` and ``n_waiting`` are modelled. A barrier made at import
stands in fresh for each run, with its parties, action and timeout, while it is whole
and nobody waits at it."""

from __future__ import annotations

import sys
import threading

from ..objects import Barrier as BarrierDeclaration
from ..steps import Op
from . import clock
from .locks import waiters
from .runtime import maker, step, taking

__all__ = ["afresh", "at_import", "install", "stand_in"]

_NAME = "_explorer_name"


def install(patches) -> None:
    cls = threading.Barrier
    real_init, real_wait, real_reset, real_abort = cls.__init__, cls.wait, cls.reset, cls.abort

    def __init__(self, parties, action=None, timeout=None):
        here = maker()
        if here is None:
            return real_init(self, parties, action, timeout)
        runtime = here.runtime
        _model(self, runtime, runtime.object_name("Barrier", here, sys._getframe(1)), parties, action, timeout)

    def wait(self, timeout=None):
        name = self.__dict__.get(_NAME)
        if name is None:
            return real_wait(self, timeout)
        if timeout is None:
            timeout = self.__dict__["_timeout"]
        action = self.__dict__["_action"]
        if timeout is not None:
            timeout = max(timeout, 0)
        arrive = Op("wait", name, timeout, action is not None)
        here = taking(arrive)
        start = here.clock
        try:  # a timeout may run out at any point before the barrier fills: it breaks the barrier
            index = step(arrive, here)
        except threading.BrokenBarrierError:
            run = here.runtime.run  # its own timeout broke it, at the step just taken:
            if timeout is not None and run.objects[name].timed_out_at == run.position - 1:
                clock.timed_out(here, start, timeout)
            raise
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
    patches.set(cls, "abort", stepped(real_abort, "abort"))


def _model(barrier, runtime, name: str, parties: int, action, timeout) -> None:
    """Make ``barrier`` the stand-in of the model ``name`` (what its patched methods read)."""
    barrier.__dict__[_NAME] = name
    barrier.__dict__["_parties"] = parties
    barrier.__dict__["_action"] = action
    barrier.__dict__["_timeout"] = timeout
    runtime.new_object(name, BarrierDeclaration(parties), barrier)


# ---- made at import (modules.py) ------------------------------------------------------------

_FILLING, _BROKEN = 0, -2  # threading.Barrier's _state


def at_import(barrier) -> tuple | str:
    """``(parties, action, timeout)``, or why no fresh one can be in its state."""
    state, count = barrier._state, barrier._count  # threading's own state, read once per search
    if state == _BROKEN:
        return ("and broken now (by abort(), or a wait that timed out); every run starts from it, so it "
                "must be whole when the exploration starts")
    if count or state != _FILLING:
        return (f"and {waiters(max(count, 1))} at it now; every run starts from it, so none may wait "
                f"when the exploration starts")
    return (barrier._parties, barrier._action, barrier._timeout)


def stand_in(runtime, name: str, state: tuple, twin):
    made = threading.Barrier.__new__(threading.Barrier)
    _model(made, runtime, name, *state)
    return made


def afresh(name: str, state: tuple, twin) -> threading.Barrier:
    return threading.Barrier(*state)
