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
import ast
import concurrent.futures
import functools
import os
import queue
import threading
import time
import types

from ..errors import ScenarioError
from . import clock, events, executor, locks, queues, threads
from .locals import twin

__all__ = ["filled", "plan_module_globals", "reached_globals", "rebind_module_globals"]

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
    id(threading.main_thread): (threads, "main_thread"), id(threading.main_thread()): (threads, "MAIN"),
    id(threading.enumerate): (threads, "enumerate_threads"), id(threading.active_count): (threads, "active_count"),
    id(concurrent.futures.wait): (executor, "wait"), id(concurrent.futures.as_completed): (executor, "as_completed"),
}
_KEEP = (threading.Lock, threading.RLock, time.sleep, time.time, time.monotonic, time.perf_counter,
         threading.current_thread, threading.get_ident, queue.SimpleQueue,
         threading.main_thread, threading.main_thread(), threading.enumerate,
         threading.active_count, concurrent.futures.wait, concurrent.futures.as_completed)  # their ids stay theirs


def _replacements() -> dict[int, object]:
    """id of an original -> what stands for it while a run is under way."""
    return {key: getattr(module, name) for key, (module, name) in _ORIGINALS.items()}


_REFUSED = (threading.Condition, threading.Semaphore, threading.Barrier, queue.Queue, threading.Thread,
            concurrent.futures.ThreadPoolExecutor)


def plan_module_globals(modules, refuse: bool = True, reached: set | None = None) -> list[tuple]:
    """What each run does to the program's modules: ``(module, name, stand_in)`` for a name
    bound to a patched function or class, ``(module, name, kind)`` with kind ``"Lock"``,
    ``"RLock"`` or ``"Event"`` for an object made at import. Made once per search;
    raises ScenarioError for an object made at import that cannot stand in fresh (with
    ``refuse``: the program's own modules; other modules of the user's are left alone),
    and that the program's code may reach (``reached``: :func:`reached_globals`; None:
    any)."""
    replacements = _replacements()
    plan = []
    for module in modules:
        for name, value in list(vars(module).items()):
            # refused only where the program may use it: its own modules' globals that its
            # code reaches; another module of the user's (a set Event a crosscheck's real runs
            # left behind) is left as it is
            binding = refuse and (reached is None or (module.__name__, name) in reached)
            if not binding and isinstance(value, (_LOCAL, _threading_local.local, *_REFUSED)):
                continue  # another program's object: this one never names it
            stand_in = replacements.get(id(value))
            if stand_in is not None:
                plan.append((module, name, stand_in))
                continue
            kind = type(value)
            if kind is _LOCK_TYPE or kind in _RLOCK_TYPES:
                reentrant = kind is not _LOCK_TYPE
                if _held(value):
                    if not binding:
                        continue
                    raise ScenarioError(
                        f"{_shown(module, name)} is a {'RLock' if reentrant else 'Lock'} made at import and "
                        f"held now; every run starts from it, so it must be free when the exploration starts")
                plan.append((module, name, "RLock" if reentrant else "Lock"))
            elif kind is threading.Event:
                if value.is_set():
                    if not binding:
                        continue
                    raise ScenarioError(f"{_shown(module, name)} is an Event made at import and set now; "
                                        f"every run starts from it, so it must be clear when the exploration starts")
                plan.append((module, name, "Event"))
            elif kind is _LOCAL or isinstance(value, _threading_local.local):
                plan.append((module, name, ("local", value)))  # a subclass's instance: its class is hooked
            elif isinstance(value, _REFUSED):
                raise ScenarioError(
                    f"{_shown(module, name)} is a {kind.__name__} made at import, before the exploration: every "
                    f"run would share it and its state. Make it inside the program (in main, or in the "
                    f"__init__ of a tracked class)")
    return plan


#: Names through which code reaches a module's globals without naming them: where the
#: program's code uses one, every global of its modules counts as reached.
_DYNAMIC = frozenset({"globals", "vars", "getattr", "eval", "exec", "__import__", "import_module", "modules",
                      "__dict__"})


def reached_globals(roots, modules) -> set | None:
    """``(module name, global name)`` of each global of ``modules`` that the code of
    ``roots`` (functions and classes) may reach: the names its code objects load, followed
    through the functions and classes of those modules they name (their bases, methods,
    properties, defaults, closures and class attributes) and the code nested in them. None
    where the code may reach globals without naming them (``globals()``, ``getattr``, a
    module of the program named as an object): then every global counts."""
    own = {module.__name__: vars(module) for module in modules}
    reached: set = set()
    seen: set = set()  # ids of everything taken, objects held by defaults and class attributes too
    codes = []

    def take(thing) -> bool:
        """Queue what ``thing`` runs; False where it is one of the program's modules."""
        if id(thing) in seen:
            return True
        seen.add(id(thing))
        if type(thing) is type(threading):
            return thing.__name__ not in own
        parts = []
        if isinstance(thing, type):
            for klass in thing.__mro__:
                if klass.__module__ in own:
                    parts += vars(klass).values()
        elif isinstance(thing, property):
            parts = [thing.fget, thing.fset, thing.fdel]
        elif isinstance(thing, (list, tuple, set, frozenset)):
            parts = list(thing)  # a table of handlers, a list of workers
        elif isinstance(thing, dict):
            parts = [*thing.keys(), *thing.values()]
        elif isinstance(thing, types.FunctionType):
            parts = [getattr(thing, "__wrapped__", None)]
            if thing.__module__ in own:
                codes.append((thing.__module__, thing.__code__))
                parts += [*(thing.__defaults__ or ()), *(thing.__kwdefaults__ or {}).values(),
                          *(cell.cell_contents for cell in thing.__closure__ or () if filled(cell))]
        elif isinstance(thing, (types.MethodType, staticmethod, classmethod, functools.partial)):
            parts = [getattr(thing, "__func__", None) or getattr(thing, "func", None),
                     *getattr(thing, "args", ()), *(getattr(thing, "keywords", None) or {}).values()]
        elif type(thing).__module__ in own:  # an instance made at import: its class and what it holds
            parts = [type(thing), *_attributes(thing)]
        return all(part is None or take(part) for part in parts)

    for root in roots:
        if root is not None and not take(root):
            return None
    while codes:
        module, code = codes.pop()
        names = own[module]
        for name in code.co_names:
            if name in _DYNAMIC:
                return None
            if name in names:
                reached.add((module, name))
                if not take(names[name]):
                    return None
        for const in code.co_consts:
            if hasattr(const, "co_names"):
                codes.append((module, const))
    # an object a default, a closure or a class attribute holds is reached whatever its name
    reached.update((module, name) for module, names in own.items() for name, value in names.items()
                   if id(value) in seen)
    return reached


def _attributes(thing) -> list:
    """What an instance holds in its ``__dict__`` (none where it has no plain one)."""
    try:
        return list(vars(thing).values())
    except TypeError:  # __slots__, or no __dict__
        return [getattr(thing, name, None) for klass in type(thing).__mro__
                for name in getattr(klass, "__slots__", ()) if isinstance(name, str)]


def filled(cell) -> bool:
    """Whether a closure's cell holds a value (an empty one raises when read)."""
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def _shown(module, name: str) -> str:
    """A module's global as its author knows it: the global's name and where it is assigned
    (the file and line), not the name under which explorer's loader imported the file."""
    path = getattr(module, "__file__", None)
    if not path or not os.path.isfile(path):
        return f"{module.__name__}.{name}"
    line = _assigned_at(path, name)
    return f"global {name} ({os.path.basename(path)}{'' if line is None else f':{line}'})"


def _assigned_at(path: str, name: str) -> int | None:
    """The line of the first module-level assignment to ``name`` in the file, if it reads."""
    try:
        with open(path, encoding="utf-8") as source:
            tree = ast.parse(source.read())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
        for target in targets:
            if any(isinstance(part, ast.Name) and part.id == name for part in ast.walk(target)):
                return node.lineno
    return None


def module_bindings(modules) -> list[tuple]:
    """``(module, its globals as bound now)`` for each module: what :func:`put_back_bindings`
    puts back after a run, so that every run, and the code after a search, starts from the
    globals the search started from (a run that rebinds ``hits += 1`` leaves it as it found
    it; what a run changes inside an object, a list's items, stays changed)."""
    return [(module, dict(vars(module))) for module in modules]


def put_back_bindings(bindings: list[tuple]) -> None:
    """Rebind each module's globals as :func:`module_bindings` found them, and drop the
    ones a run added (but a submodule a run imported, which its package keeps)."""
    for module, before in bindings:
        namespace = vars(module)
        now = list(namespace.items())  # one copy: a daemon thread left running may add a global meanwhile
        if len(now) == len(before) and all(before.get(name, before) is value for name, value in now):
            continue
        for name, value in now:
            if name not in before and not isinstance(value, types.ModuleType):  # a submodule imported stays the package's
                del namespace[name]
        for name, value in before.items():
            if namespace.get(name, before) is not value:
                namespace[name] = value


def rebind_module_globals(runtime, plan: list[tuple], patches) -> None:
    """Carry out a plan for one run: fresh stand-ins for the objects made at import."""
    for module, name, action in plan:
        if action == "Lock" or action == "RLock":
            action = locks.global_lock(runtime, name, action == "RLock")
        elif action == "Event":
            action = events.global_event(runtime, name)
        elif action.__class__ is tuple:  # ("local", the threading.local made at import)
            action = twin(action[1], runtime)
        patches.set(module, name, action)


def _held(lock) -> bool:
    if lock.acquire(blocking=False):
        lock.release()
        return False
    return True

