"""The program's own modules: names bound at import to what a run patches, and threading
objects made at import, before any run.

``from threading import Lock`` or ``from time import sleep`` at the top of a module binds
the real function before any patching; for the length of a run such names point at the
patched ones. A ``Lock``, ``RLock`` or ``Event`` made at import (a module global) is
shared by every run: each run gets a fresh model of it under the global's name, starting
as the real one is (which must be unlocked, or unset); any other threading object made
at import is refused with a message that says how to fix it.
"""

from __future__ import annotations

import _thread
import _threading_local
import queue
import threading
import time

from ..errors import ScenarioError
from . import clock, events, locks, queues, threads

__all__ = ["plan_module_globals", "rebind_module_globals"]

_LOCK_TYPE = type(threading.Lock())
_LOCAL = _thread._local  # threading.local, which a run patches
_RLOCK_TYPES = tuple({type(threading.RLock()), threading._PyRLock})  # noqa: SLF001 - both RLock kinds


# The originals, taken when explorer is imported, before any run patches them: a module
# that did ``from time import sleep`` holds these.
_ORIGINALS = {
    id(threading.Lock): (locks, "Lock"), id(threading.RLock): (locks, "RLock"),
    id(time.sleep): (clock, "sleep"), id(time.time): (clock, "time_"), id(time.monotonic): (clock, "monotonic"),
    id(time.perf_counter): (clock, "perf_counter"), id(threading.current_thread): (threads, "current_thread"),
    id(threading.get_ident): (threads, "get_ident"), id(queue.SimpleQueue): (queues, "SimpleQueue"),
}
_KEEP = (threading.Lock, threading.RLock, time.sleep, time.time, time.monotonic, time.perf_counter,
         threading.current_thread, threading.get_ident, queue.SimpleQueue)  # their ids stay theirs


def _replacements() -> dict[int, object]:
    """id of an original -> what stands for it while a run is under way."""
    return {key: getattr(module, name) for key, (module, name) in _ORIGINALS.items()}


_REFUSED = (threading.Condition, threading.Semaphore, threading.Barrier, queue.Queue)


def plan_module_globals(modules, refuse: bool = True) -> list[tuple]:
    """What each run does to the program's modules: ``(module, name, stand_in)`` for a name
    bound to a patched function or class, ``(module, name, kind)`` with kind ``"Lock"``,
    ``"RLock"`` or ``"Event"`` for an object made at import. Made once per search;
    raises ScenarioError for an object made at import that cannot stand in fresh (with
    ``refuse``: the program's own modules; other modules of the user's are left alone)."""
    replacements = _replacements()
    plan = []
    for module in modules:
        for name, value in list(vars(module).items()):
            stand_in = replacements.get(id(value))
            if stand_in is not None:
                plan.append((module, name, stand_in))
                continue
            kind = type(value)
            if kind is _LOCK_TYPE or kind in _RLOCK_TYPES:
                reentrant = kind is not _LOCK_TYPE
                if _held(value):
                    raise ScenarioError(
                        f"{module.__name__}.{name} is a {'RLock' if reentrant else 'Lock'} made at import and "
                        f"held now; every run starts from it, so it must be free when the exploration starts")
                plan.append((module, name, "RLock" if reentrant else "Lock"))
            elif kind is threading.Event:
                if value.is_set():
                    raise ScenarioError(f"{module.__name__}.{name} is an Event made at import and set now; "
                                        f"every run starts from it, so it must be clear when the exploration starts")
                plan.append((module, name, "Event"))
            elif refuse and isinstance(value, (_LOCAL, _threading_local.local)):
                raise ScenarioError(
                    f"{module.__name__}.{name} is a threading.local() made at import: threading.local is not "
                    f"modelled yet (a program's threads share one OS thread, so its values would be shared "
                    f"between them, silently); keep per-thread values in locals or arguments")
            elif refuse and isinstance(value, _REFUSED):
                raise ScenarioError(
                    f"{module.__name__}.{name} is a {kind.__name__} made at import, before the exploration: every "
                    f"run would share it and its state. Make it inside the program (in main, or in the "
                    f"__init__ of a tracked class)")
    return plan


def rebind_module_globals(runtime, plan: list[tuple], patches) -> None:
    """Carry out a plan for one run: fresh stand-ins for the objects made at import."""
    for module, name, action in plan:
        if action == "Lock" or action == "RLock":
            action = locks.global_lock(runtime, name, action == "RLock")
        elif action == "Event":
            action = events.global_event(runtime, name)
        patches.set(module, name, action)


def _held(lock) -> bool:
    if lock.acquire(blocking=False):
        lock.release()
        return False
    return True

