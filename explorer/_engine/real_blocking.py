"""A thread body blocked in a real ``threading`` object: named from its stack, and set free.

Thread bodies take turns on one OS thread, the exploring one. A half-converted scenario
that keeps a real ``threading.Lock`` around its yields (``with self._lock: ...``) blocks
that thread for good as soon as a second body wants the lock the first still holds, and
so do a real ``Condition``, ``Event``, ``Semaphore``, ``Barrier`` or ``queue.Queue`` that
waits for another body: the other body can never run. Such a wait is inside one C call
(the lock's ``acquire``), which neither the watchdog's interrupt nor, off the main
thread, Ctrl-C can enter.

So when the watchdog finds a step stuck past ``step_timeout`` (or past the time limit, or
after Ctrl-C), it reads the stuck thread's stack (``sys._current_frames``): the innermost
frames in ``threading.py`` or ``queue.py`` name the object and the call, the first frame
outside them is the body's line. It then raises the interrupt *first* and releases the
lock the thread waits on *second*: the ``acquire`` returns, and the interrupt lands at
the next bytecode, in the body, where the engine captures it as a ``step-timeout``
finding whose message names the object, the thread and the line, with the fix (declare
the object in the scenario). The wait released is a ``Condition``'s private waiter lock
(what ``Event``, ``Semaphore``, ``Barrier`` and ``Queue`` wait on), or a plain ``Lock``
found, locked, among the body's locals, its ``self``'s attributes and its globals.

A body blocked in anything else (``time.sleep``, I/O, ``Thread.join``) is not freed:
the interrupt lands when the call returns. Sites found once are remembered, so a replay
of the same execution (for source lines) is freed at once instead of after another
``step_timeout``.
"""

from __future__ import annotations

import linecache
import os
import sys
import threading
from dataclasses import dataclass

from .driver import _short

_LIBRARY = {os.path.normcase(os.path.abspath(module.__file__)) for module in (threading, __import__("queue"))}
_LOCK_TYPES = (type(threading.Lock()),)

#: (file, line) of every body line found blocked in a real object, with its diagnosis
KNOWN: dict[tuple[str, int], str] = {}

_HINTS = {
    "Lock": "locks=['lock'] and yield acquire('lock') / release('lock')",
    "RLock": "locks={'lock': 'rlock'} and yield acquire('lock') / release('lock')",
    "Condition": "objects={'cond': explorer.Condition('lock')} and yield wait('cond') / notify('cond')",
    "Event": "objects={'ready': explorer.Event()} and yield set_event('ready') / wait('ready')",
    "Semaphore": "objects={'slots': explorer.Semaphore(2)} and yield acquire('slots') / release('slots')",
    "BoundedSemaphore": "objects={'slots': explorer.BoundedSemaphore(2)} and yield acquire('slots') / "
                        "release('slots')",
    "Barrier": "objects={'gate': explorer.Barrier(2)} and yield wait('gate')",
    "Queue": "objects={'q': explorer.Queue()} and yield put('q', item) / get('q')",
}


@dataclass(frozen=True)
class Blocked:
    """What a stuck thread waits on: ``message`` for the finding, ``free`` (a lock to release,
    or None when nothing can be released safely)."""

    message: str
    site: tuple[str, int]
    free: object | None


def diagnose(thread_id: int) -> Blocked | None:
    """The real ``threading`` object thread ``thread_id`` is blocked in, or None."""
    frame = sys._current_frames().get(thread_id)
    library = []
    while frame is not None and _in_library(frame):
        library.append(frame)
        frame = frame.f_back
    if frame is None:
        return None
    site = (frame.f_code.co_filename, frame.f_lineno)
    line = linecache.getline(*site).strip()
    where = f"{_short(site[0])}:{site[1]}" + (f" (`{line}`)" if line else "")
    if library:
        owner = library[-1].f_locals.get("self")  # the object the body called into
        kind = type(owner).__name__
        call = f"{kind}.{library[-1].f_code.co_name}() on `{_reached_as(owner, frame) or kind}`"
        free = library[0].f_locals.get("waiter") if library[0].f_code.co_name == "wait" else None
        if not isinstance(free, _LOCK_TYPES) or not free.locked():
            free = None
    else:
        found = _held_lock(frame, line)
        if found is None:
            return None
        kind, free = "Lock", found[1]
        call = f"Lock `{found[0]}`"
    message = (f"is blocked in a real threading.{call} at {where}, which waits for another thread "
               f"body: bodies take turns on one OS thread, so that body can never run. A real "
               f"threading object in a body is not modelled; declare it in the scenario "
               f"({_HINTS.get(kind, 'locks=[...] or objects={...}')}) and yield its steps instead")
    KNOWN[site] = message
    return Blocked(message, site, free)


def stuck_at_known_site(thread_id: int) -> bool:
    """Whether thread ``thread_id`` is blocked at a line already diagnosed (a replay)."""
    frame = sys._current_frames().get(thread_id)
    while frame is not None and _in_library(frame):
        frame = frame.f_back
    return frame is not None and (frame.f_code.co_filename, frame.f_lineno) in KNOWN


def _in_library(frame) -> bool:
    return os.path.normcase(os.path.abspath(frame.f_code.co_filename)) in _LIBRARY


def _held_lock(frame, line: str) -> tuple[str, object] | None:
    """A locked plain ``threading.Lock`` the body's line can reach, by the name it is reached:
    one whose name the line mentions first, else the only one."""
    candidates: list[tuple[str, object]] = []
    for name, value in list(frame.f_locals.items()):
        if isinstance(value, _LOCK_TYPES):
            candidates.append((name, value))
        else:
            for attribute, inner in list(getattr(value, "__dict__", {}).items())[:200]:
                if isinstance(inner, _LOCK_TYPES):
                    candidates.append((f"{name}.{attribute}", inner))
    for name in frame.f_code.co_names:
        value = frame.f_globals.get(name)
        if isinstance(value, _LOCK_TYPES):
            candidates.append((name, value))
    locked = [(name, lock) for name, lock in candidates if lock.locked()]
    named = [(name, lock) for name, lock in locked if name.split(".")[-1] in line]
    if named:
        return named[0]
    return locked[0] if len(locked) == 1 else None


def _reached_as(owner: object, frame) -> str | None:
    """The name the body reaches ``owner`` by: a local, a local's attribute, or a global."""
    for name, value in list(frame.f_locals.items()):
        if value is owner:
            return name
        for attribute, inner in list(getattr(value, "__dict__", {}).items())[:200]:
            if inner is owner:
                return f"{name}.{attribute}"
    return next((name for name in frame.f_code.co_names if frame.f_globals.get(name) is owner), None)


