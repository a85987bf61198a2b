"""``threading.Event`` in plain code: the vocabulary's event (objects/event.py), patched in
place on the class for a run; an Event made at import stands in fresh for each run."""

from __future__ import annotations

import sys
import threading

from ..objects import Event as EventDeclaration
from ..steps import Op
from . import clock
from .runtime import maker, step

__all__ = ["afresh", "at_import", "global_event", "install", "stand_in"]

_NAME = "_explorer_name"


def install(patches) -> None:
    cls = threading.Event
    real = {attr: getattr(cls, attr) for attr in ("__init__", "is_set", "set", "clear", "wait")}

    def __init__(self):
        here = maker()
        if here is None:
            return real["__init__"](self)
        runtime = here.runtime
        name = runtime.object_name("Event", here, sys._getframe(1))
        self.__dict__[_NAME] = name
        runtime.new_object(name, EventDeclaration(), self)

    def is_set(self):
        name = self.__dict__.get(_NAME)
        return real["is_set"](self) if name is None else step(Op("is_set", name))

    def set_(self):
        name = self.__dict__.get(_NAME)
        return real["set"](self) if name is None else step(Op("set_event", name))

    def clear(self):
        name = self.__dict__.get(_NAME)
        return real["clear"](self) if name is None else step(Op("clear_event", name))

    def wait(self, timeout=None):
        name = self.__dict__.get(_NAME)
        if name is None:
            return real["wait"](self, timeout)
        return clock.wait(name, timeout)

    set_.__name__ = "set"  # threading's name: Thread(target=event.set) is "Thread-1 (set)"
    patches.set(cls, "__init__", __init__)
    patches.set(cls, "is_set", is_set)
    patches.set(cls, "set", set_)
    patches.set(cls, "clear", clear)
    patches.set(cls, "wait", wait)


def global_event(runtime, name: str):
    """The stand-in, for one run, of an Event made at import as module global ``name``."""
    event = threading.Event.__new__(threading.Event)
    event.__dict__[_NAME] = name
    runtime.new_object(name, EventDeclaration(), event)
    return event


# ---- made at import (modules.py) ------------------------------------------------------------


def at_import(event) -> tuple | str:
    if event.is_set():
        return "and set now; every run starts from it, so it must be clear when the exploration starts"
    return ()


def stand_in(runtime, name: str, state: tuple, twin):
    return global_event(runtime, name)


def afresh(name: str, state: tuple, twin) -> threading.Event:
    return threading.Event()
