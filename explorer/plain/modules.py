"""The program's own modules: names bound at import to what a run patches, and threading
objects made at import, before any run.

``from threading import Lock`` or ``from time import sleep`` at the top of a module binds
the real function before any patching; for the length of a run such names point at the
patched ones. A threading object made at import (a module global: a ``Lock``, ``RLock``,
``Event``, ``Condition``, ``Semaphore``, ``BoundedSemaphore``, ``Barrier``, ``Queue``,
``LifoQueue``, ``PriorityQueue``, ``SimpleQueue``, ``Thread`` or ``ThreadPoolExecutor``)
would be shared by every run: each run gets a fresh one under the global's name instead,
starting in the state the real one is in when the search starts (:class:`Fresh`), as a
model in exploration and as a real object on a crosscheck's real threads. One that no
fresh one can reproduce (a lock held, a thread started, a pool that has run a task) is
refused with a message that says how to fix it, where the program's code reaches it.
Searches on several OS threads at once share the modules: a global stays bound to a
stand-in until the last run that bound it has ended (:func:`_bind`).

Each kind's own module (locks, events, conditions, semaphores, barriers, queues, threads,
executor) says how, in three functions: ``at_import(obj)`` reads the state a fresh one
starts from (a tuple), or says why none can (words that follow "made at import");
``stand_in(runtime, name, state, twin)`` makes this run's model of it, and
``afresh(name, state, twin)`` a real one, where ``twin(other)`` is this run's stand-in
for another object made at import (a condition's lock), or None where that is no module
global.
"""

from __future__ import annotations

import _thread
import _threading_local
import ast
import concurrent.futures
import functools
import os
import queue
import sys
import threading
import time
import types

from ..errors import ScenarioError
from . import barriers, clock, conditions, events, executor, locks, queues, semaphores, threads
from .locals import twin

__all__ = ["Fresh", "Plan", "bind_afresh", "filled", "plan_module_globals", "reached_globals",
           "rebind_module_globals", "user_modules"]

_LOCAL = _thread._local  # threading.local, which a run patches


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


#: The type of an object made at import that stands in fresh -> its kind's module, and the
#: kind's name in messages. Exactly these: a subclass's instance may hold more (a Timer's
#: event, a subclass's own attributes), and is refused.
_KINDS = {
    locks.LOCK_TYPES[0]: (locks, "Lock"), **{kind: (locks, "RLock") for kind in locks.LOCK_TYPES[1:]},
    threading.Event: (events, "Event"), threading.Condition: (conditions, "Condition"),
    threading.Semaphore: (semaphores, "Semaphore"), threading.BoundedSemaphore: (semaphores, "BoundedSemaphore"),
    threading.Barrier: (barriers, "Barrier"), queue.Queue: (queues, "Queue"), queue.LifoQueue: (queues, "LifoQueue"),
    queue.PriorityQueue: (queues, "PriorityQueue"), queue.SimpleQueue: (queues, "SimpleQueue"),
    threading.Thread: (threads, "Thread"),
    concurrent.futures.ThreadPoolExecutor: (executor, "ThreadPoolExecutor"),
}
#: What is refused when made at import and not of one of those exact types.
_REFUSED = (threading.Condition, threading.Semaphore, threading.Barrier, threading.Event, queue.Queue,
            threading.Thread, concurrent.futures.ThreadPoolExecutor)


class Fresh:
    """A threading object made at import that every run makes anew: ``kind`` (the module
    of its kind) makes it from ``state`` (what ``kind.at_import`` read of ``original``
    when the search began), named ``name`` (its global's)."""

    __slots__ = ("kind", "name", "original", "state")

    def __init__(self, kind, name: str, original: object, state: tuple) -> None:
        self.kind = kind
        self.name = name
        self.original = original
        self.state = state

    def __repr__(self) -> str:
        return f"Fresh({self.name!r}, {type(self.original).__name__})"


class Plan:
    """What each run does to the program's modules, made once per search: ``bindings``
    holds ``(module, name, what)``, ``what`` being the stand-in of a patched function or
    class, ``("local", the threading.local made at import)`` or a :class:`Fresh`, one for
    every global bound to the same object; ``fresh`` finds a Fresh by its original's id."""

    __slots__ = ("_names", "_refused", "bindings", "fresh")

    def __init__(self) -> None:
        self.bindings: list[tuple] = []
        self.fresh: dict[int, Fresh] = {}
        self._names: set[str] = set()  # the names the Fresh go by
        self._refused: dict[int, str] = {}  # id of an object -> why no fresh one can stand in for it

    def take(self, kind, module, name: str, value: object) -> Fresh | str:
        """The Fresh of ``value``, a global of ``module`` that module ``kind`` makes afresh
        (one for every global bound to it), or why no fresh one can stand in for it."""
        key = id(value)
        found = self.fresh.get(key) or self._refused.get(key)
        if found is None:
            state = kind.at_import(value)
            if state.__class__ is not tuple:
                found = self._refused[key] = f"made at import {state}"
            else:
                if name in self._names:  # a lock of that name in another module: another object
                    name = f"{module.__name__}.{name}"
                self._names.add(name)
                found = self.fresh[key] = Fresh(kind, name, value, state)
        return found

    def twins(self, make) -> types.FunctionType:
        """``twin(original)``: the object ``make(fresh, twin)`` made for ``original`` in this
        run (made once, at its first call), or None where it is no module global."""
        made: dict[int, object] = {}

        def twin(original):
            key = id(original)
            found = made.get(key)
            if found is None:
                fresh = self.fresh.get(key)
                if fresh is None:
                    return None
                found = made[key] = make(fresh, twin)
            return found
        return twin


def plan_module_globals(modules, reached: set | None = None, others=(), refuse: bool = True) -> Plan:
    """What each run does to ``modules`` (the program's own) and ``others`` (other modules
    of the user's). With ``refuse``, raises ScenarioError for an object made at import that
    no fresh one can stand in for, in ``modules``, where the program's code may reach it
    (``reached``: :func:`reached_globals`; None: any); anywhere else such an object is left
    as it is. A thread made at import is made afresh only from ``modules``: it takes a
    number (``Thread-1``) before main's threads, which another module's must not."""
    replacements = _replacements()
    plan = Plan()
    for own, group in ((True, modules), (False, others)):
        for module in group:
            for name, value in _as_found(module).items():
                # refused only where the program may use it: its own modules' globals that its
                # code reaches; another module of the user's (a set Event a crosscheck's real runs
                # left behind) is left as it is
                binding = refuse and own and (reached is None or (module.__name__, name) in reached)
                stand_in = replacements.get(id(value))
                if stand_in is not None:
                    plan.bindings.append((module, name, stand_in))
                    continue
                found = _KINDS.get(type(value))
                if found is not None:
                    kind, shown = found
                    if not own and kind is threads and id(value) not in plan.fresh:
                        continue
                    fresh = plan.take(kind, module, name, value)
                    if fresh.__class__ is Fresh:
                        plan.bindings.append((module, name, fresh))
                    elif binding:
                        raise ScenarioError(f"{_shown(module, name)} is {_a(shown)} {fresh}")
                elif type(value) is _LOCAL or isinstance(value, _threading_local.local):
                    if binding:
                        plan.bindings.append((module, name, ("local", value)))  # a subclass's: its class is hooked
                elif binding and isinstance(value, _REFUSED):
                    raise ScenarioError(
                        f"{_shown(module, name)} is {_a(type(value).__name__)} made at import, before the "
                        f"exploration: every run would share it and its state. Make it inside the program "
                        f"(in main, or in the __init__ of a tracked class)")
    return plan


def _as_found(module) -> dict:
    """A module's globals, each object made at import as itself: not the stand-in that a
    run under way (of a search on another OS thread) may have bound it to now."""
    with _BOUND_LOCK:  # (a stand-in is bound and unbound under it)
        return {name: _STANDING.get(id(value), (value,))[0] for name, value in list(vars(module).items())}


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "AEIOU" else f"a {kind}"


def rebind_module_globals(runtime, plan: Plan, patches) -> None:
    """Carry out a plan for one run: fresh stand-ins for the objects made at import."""
    fresh = plan.twins(lambda made, twin_of: made.kind.stand_in(runtime, made.name, made.state, twin_of))
    for module, name, action in plan.bindings:
        if action.__class__ is Fresh:
            _bind(module, name, fresh(action.original), action.original, patches)
            continue
        if action.__class__ is tuple:  # ("local", the threading.local made at import)
            action = twin(action[1], runtime)
        # (main_thread() and the functions patched for a run too: a search on another OS
        # thread that finds the global so takes it for what it stands in for, and puts that
        # back, not this run's stand-in, which would outlive every run)
        with _BOUND_LOCK:
            found = vars(module).get(name)
            original = _STANDING.get(id(found), (found,))[0]
        _bind(module, name, action, original, patches)


#: ``(id of a module, global name)`` -> ``[runs under way that bound it, the stand-ins they
#: bound it to]``: runs of searches on other OS threads too, the last bound held now.
_BOUND: dict[tuple[int, str], list] = {}
#: id of a stand-in in ``_BOUND`` -> (the object made at import it stands in for, how many
#: bindings hold it: one stand-in, main_thread()'s, may stand in several globals at once).
_STANDING: dict[int, tuple[object, int]] = {}
_BOUND_LOCK = threading.Lock()


def _bind(module, name: str, stand_in: object, original: object, patches) -> None:
    """Bind a global made at import to this run's stand-in, and, once the last run that
    bound it has ended, to the original again: a run's end puts back neither the original
    while another search's run still uses the global, nor a stand-in once none does."""
    key = (id(module), name)
    with _BOUND_LOCK:
        entry = _BOUND.setdefault(key, [0, []])
        entry[0] += 1
        entry[1].append(stand_in)
        held = _STANDING.get(id(stand_in))
        _STANDING[id(stand_in)] = (original, 1 if held is None else held[1] + 1)
        setattr(module, name, stand_in)

    def unbind() -> None:
        with _BOUND_LOCK:
            entry[0] -= 1
            if entry[0] == 0:  # till then the global may hold this run's stand-in, for another run
                del _BOUND[key]
                setattr(module, name, original)
                for ended in entry[1]:
                    original_, held = _STANDING.pop(id(ended), (None, 1))
                    if held > 1:
                        _STANDING[id(ended)] = (original_, held - 1)
    patches.then(unbind)


def bind_afresh(plan: Plan, patches) -> list:
    """Bind each global made at import that a run makes anew to a real one made afresh in
    the state the original had when the search began, till ``patches`` are restored: what
    one run on real threads (a crosscheck's, plain/real.py) starts from. Returns them."""
    fresh = plan.twins(lambda made, twin_of: made.kind.afresh(made.name, made.state, twin_of))
    made = {}
    for module, name, action in plan.bindings:
        if action.__class__ is Fresh:
            real = made[id(action)] = fresh(action.original)
            _bind(module, name, real, action.original, patches)
    return list(made.values())


def user_modules(modules) -> list:
    """Every module of the user's loaded now but ``modules`` (not the standard library's,
    not an installed package's, not explorer's): a lock one of them made at import and
    holds across a step would otherwise stop the exploring thread."""
    own = {id(module) for module in modules}
    installed = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix, _OWN_DIR})
    found = []
    for name, module in list(sys.modules.items()):
        if id(module) in own or name.partition(".")[0] in _SYSTEM:
            continue
        path = getattr(module, "__file__", None)
        if path is None or not os.path.abspath(path).startswith(installed):
            found.append(module)
    return found


_SYSTEM = frozenset(sys.builtin_module_names) | frozenset(sys.stdlib_module_names) | {"explorer"}
_OWN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


#: Names through which code reaches a module's globals without naming them: where the
#: program's code uses one, every global of its modules counts as reached.
_DYNAMIC = frozenset({"globals", "vars", "getattr", "eval", "exec", "__import__", "import_module", "modules",
                      "__dict__"})


def reached_globals(roots, modules) -> set | None:
    """``(module name, global name)`` of each global of ``modules`` that the code of
    ``roots`` (functions and classes) may reach: the names its code objects load, followed
    through the functions and classes of those modules they name (their bases, methods,
    properties, defaults, closures and class attributes; a thread's target and arguments,
    a barrier's action, a queue's items, made at import) and the code nested in them. None
    where the code may reach globals without naming them (``globals()``, ``getattr``, a
    module of the program named as an object): then every global counts."""
    own = {module.__name__: _as_found(module) for module in modules}
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
        elif type(thing) in _KINDS:  # what a thread, a barrier or a queue made at import will run or hand out
            parts = _runs(thing)
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


def _runs(made) -> list:
    """The code and values an object made at import hands the program's threads: a
    thread's target and arguments, a barrier's action, a queue's items."""
    if isinstance(made, threading.Thread):  # (a thread that has run has none left)
        return [getattr(made, "_target", None), *getattr(made, "_args", ()), *getattr(made, "_kwargs", {}).values()]
    if isinstance(made, threading.Barrier):
        return [made._action]
    return list(made.queue) if isinstance(made, queue.Queue) else []


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
    it; what a run changes inside an object, a list's items, stays changed). An object made
    at import is itself, not the stand-in another search's run may have bound to it now."""
    return [(module, _as_found(module)) for module in modules]


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
        with _BOUND_LOCK:  # a global another search's run has bound to its stand-in stays so (_bind)
            for name, value in before.items():
                if namespace.get(name, before) is not value and (id(module), name) not in _BOUND:
                    namespace[name] = value
