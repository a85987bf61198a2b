"""What a plain program needs from one run: names for what its threads make, the patches
that make ``threading`` speak in steps, and final values that can be counted.

One :class:`PlainRuntime` serves a whole search (the engine's ``Program`` makes it);
``enter`` and ``exit`` bracket each run (``Execution.run``), so the patches are in
place exactly while the program's code can run, and are undone however the run ends.
"""

from __future__ import annotations

from contextlib import contextmanager
import linecache
import re
import threading
import time

from ..errors import NondeterminismError
from ..objects.base import HIDDEN
from . import barriers, clock, conditions, events, executor, locks, queues, semaphores, threads
from . import locals as locals_
from .freezing import Named, ObjectName, freeze
from .modules import (filled, module_bindings, plan_module_globals, put_back_bindings, reached_globals,
                      rebind_module_globals, user_modules)
from .patches import Patches
from .runtime import ThreadGreenlet
from .threads import Handle
from .tracking import hook, roots

__all__ = ["PlainRuntime", "active"]

#: The runtimes whose run is under way on each OS thread, innermost last.
_ACTIVE = threading.local()  # .stack: this OS thread's runtimes with a run under way

_SELF_ATTRIBUTE = re.compile(r"^\s*self\.([A-Za-z_]\w*)\s*(?::[^=]+)?=[^=]")


def _reachable_instances(config, tracked: tuple) -> dict[int, object]:
    """Tracked instances the program can reach without making them: its modules' globals,
    its functions' closures and defaults, and the items of containers held there (one
    level down). Such an instance outlives every run; the hooks refuse it by name."""
    if not tracked:
        return {}
    places: list = [vars(module).values() for module in config.modules]
    functions = [config.main, config.setup, config.check, *(config.threads or {}).values()]
    for fn in functions:
        fn = getattr(fn, "__func__", getattr(fn, "func", fn))
        places.append([cell.cell_contents for cell in getattr(fn, "__closure__", None) or ()
                       if filled(cell)])
        places.append(getattr(fn, "__defaults__", None) or ())
        places.append(getattr(getattr(fn, "__self__", None), "__dict__", {}).values())
    found = {}
    for place in places:
        for value in place:
            items = value.values() if isinstance(value, dict) else value \
                if isinstance(value, (list, tuple, set, frozenset)) else (value,)
            for item in items:
                if isinstance(item, tracked):
                    found[id(item)] = item
    return found


def _own(obj: object, attr: str) -> bool:
    """Whether ``attr`` is the instance's own (in its ``__dict__`` or a slot it filled)."""
    try:
        if attr in object.__getattribute__(obj, "__dict__"):
            return True
    except AttributeError:
        pass
    for klass in type(obj).__mro__:
        slot = klass.__dict__.get(attr)
        if slot is not None and hasattr(slot, "__set__") and not hasattr(slot, "fset"):
            try:
                slot.__get__(obj, type(obj))
            except AttributeError:
                return False
            return True
    return False


def active() -> PlainRuntime:
    return _ACTIVE.stack[-1]


# The patches are the process's, shared by every program exploring at the time (each
# patched function asks the greenlet running it which program it belongs to): installed
# by the first, undone by the last, under a real lock made before any patching.
_SHARED_LOCK = threading.Lock()
_SHARED: dict = {"users": 0, "patches": None}
_HOOKED: dict = {}  # tracked class -> [users, its Patches]


def _share(track) -> None:
    with _SHARED_LOCK:
        if _SHARED["users"] == 0:
            patches = Patches()
            try:
                for module in (threads, locals_, locks, conditions, semaphores, events, barriers, queues, executor,
                               clock):
                    module.install(patches)
            except BaseException:
                patches.restore()
                raise
            _SHARED["patches"] = patches
        _SHARED["users"] += 1
        for cls in roots(track):
            entry = _HOOKED.get(cls)
            if entry is None:
                patches = Patches()
                hook(cls, patches)
                entry = _HOOKED[cls] = [0, patches]
            entry[0] += 1


def _unshare(track) -> None:
    with _SHARED_LOCK:
        for cls in roots(track):
            entry = _HOOKED[cls]
            entry[0] -= 1
            if entry[0] == 0:
                del _HOOKED[cls]
                entry[1].restore()
        _SHARED["users"] -= 1
        if _SHARED["users"] == 0:
            patches, _SHARED["patches"] = _SHARED["patches"], None
            patches.restore()


class PlainRuntime:
    """The plain side of one search: configuration, and the state of the run under way."""

    def __init__(self, program, config) -> None:
        self.program = program
        self.config = config
        self.tracked = tuple(config.track)  # isinstance() of these: a tracked instance
        self.epoch = float(int(time.time()))  # time.time() at virtual time 0, the same in every run
        self.preexisting: dict[int, object] | None = None
        self.run = None
        self.instance_names: dict[int, str] = {}
        self.objects_named: dict[int, str] = {}  # id of a threading object -> its name
        self._keep: list = []
        self._counters: dict = {}
        self._threads_named: set = set()
        self.daemons_started = False
        self.class_valued: dict[str, tuple] = {}
        self.ended_at: dict[str, float] = {}
        self._patches: Patches | None = None  # the patches of the run under way (module globals)
        self._held: bool | None = None  # whether this runtime holds the shared patches (below)
        self._plan = None  # what each run does to the program's modules (modules.Plan)
        self._sessions = 0  # > 0 while a search keeps them in place between its runs
        self._bindings: list | None = None  # the program's globals as the search found them
        self.locals: dict = {}  # id of a threading.local -> its threads' attributes this run (locals.py)
        self.handles: dict = {}  # thread name -> the Thread object the run started under it

    # ---- a search's brackets ----------------------------------------------------------

    @contextmanager
    def session(self):
        """Keep the patches in place for a whole search: installing them costs more than a
        short run. Between runs, patched code outside a program's threads does the real thing."""
        if self._sessions == 0:
            _share(self.config.track)
            self._held = True
        self._sessions += 1
        try:
            yield
        finally:
            self._sessions -= 1
            if self._sessions == 0:
                self._held = None
                self._bindings = None  # the next search starts from the globals as they are then
                _unshare(self.config.track)

    # ---- a run's brackets -------------------------------------------------------------

    def enter(self, run) -> None:
        if self.preexisting is None:  # once per search: tracked objects that outlive every run
            self.preexisting = _reachable_instances(self.config, self.tracked)
        self.run = run
        self.instance_names = {}
        self.objects_named = {}
        self.handles = {}
        self._keep = []
        self._counters = {}
        self._threads_named = {"main"}
        self.daemons_started = False
        self.class_valued: dict[str, tuple] = {}  # variable -> (instance, attribute) read from its class
        self.ended_at: dict[str, float] = {}  # a thread's or task's label -> its clock when it ended
        stack = getattr(_ACTIVE, "stack", None)
        if stack is None:
            stack = _ACTIVE.stack = []
        stack.append(self)
        try:
            if self._held is None:  # a run on its own (a replay): patch for this run only
                _share(self.config.track)
                self._held = True
            if self._bindings is None:
                self._bindings = module_bindings(self.config.modules)
            self._patches = Patches()
            if self._plan is None:
                own = self.config.modules
                config = self.config
                roots = (config.main, config.setup, *(config.threads or {}).values(), config.check, *config.track)
                self._plan = plan_module_globals(own, reached=reached_globals(roots, own), others=user_modules(own))
            rebind_module_globals(self, self._plan, self._patches)
        except BaseException:
            self._close()
            raise

    def exit(self, run, status) -> None:
        try:
            if status == "completed":
                values = run.values
                for var, (obj, attr) in self.class_valued.items():
                    if not _own(obj, attr):  # never set on the instance: no attribute of its state
                        values[var] = HIDDEN
                made = self.objects_named
                for var, value in values.items():
                    # an attribute holding a lock or a queue is no part of the final state: the
                    # object's own state is in the run's models, and its name says nothing new
                    values[var] = HIDDEN if id(value) in made or value.__class__ is ObjectName \
                        else freeze(value, self)
                run.returns[:] = [freeze(value, self) for value in run.returns]
        finally:
            self._close()

    def _close(self) -> None:
        try:
            locals_.put_back(self)
            if self._patches is not None:
                self._patches.restore()
        finally:
            self._patches = None
            if self._bindings is not None:
                put_back_bindings(self._bindings)
                if self._sessions == 0:
                    self._bindings = None
            if self._sessions == 0 and self._held is not None:
                self._held = None
                _unshare(self.config.track)
            stack = getattr(_ACTIVE, "stack", [])
            if self in stack:
                stack.remove(self)
            self.run = None
            self._keep = []

    # ---- names ------------------------------------------------------------------------

    def count(self, kind: str, label: str, start: int = 1) -> int:
        """How many ``kind`` thread ``label`` has made in this run, this one included
        (counting from ``start``)."""
        key = (label, kind)
        n = self._counters[key] = self._counters.get(key, start - 1) + 1
        return n

    def fresh(self, kind: str, label: str) -> str:
        """``kind#n``: the n-th ``kind`` that thread ``label`` made in this run."""
        n = self.count(kind, label)
        return f"{kind}#{n}" if label == "main" else f"{kind}#{n}@{label}"

    def name_instance(self, obj: object, here: ThreadGreenlet) -> str | None:
        """The name of a tracked instance first touched now; None for one made before the search."""
        if id(obj) in self.preexisting:
            return None
        name = self.instance_names[id(obj)] = self.fresh(type(obj).__name__, here.label)
        self._keep.append(obj)  # its id stays its own for the run
        return name

    def object_name(self, kind: str, here: ThreadGreenlet, frame) -> str:
        """A name for a threading object made now: ``FakeDatabase#1._lock`` when the line
        making it assigns it to an attribute of a tracked instance, else ``Lock#1``."""
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
        found = _SELF_ATTRIBUTE.match(line)
        if found is not None:
            owner = self.instance_names.get(id(frame.f_locals.get("self")))
            if owner is not None:
                name = f"{owner}.{found.group(1)}"
                if name not in self.run.objects:
                    return name
        return self.fresh(kind, here.label)

    def thread_name(self, wanted: str) -> str:
        """``wanted``, or ``wanted#2``... when a thread of the run already has that name
        (``threading`` allows two threads one name; traces need them apart), a pool's
        worker among them, or an object of the run (the engine's names are one namespace)."""
        name, n = wanted, 1
        while name in self._threads_named or name in self.run.objects:
            n += 1
            name = f"{wanted}#{n}"
        self._threads_named.add(name)
        return name

    def task_handle(self, future: str) -> Handle:
        """What ``current_thread()`` returns in a pool's task: its worker."""
        model = self.run.objects.get(future)
        worker = getattr(model, "worker", None)
        if worker is None:
            return Handle(future)
        pool = self.run.objects.get(model.pool)  # named as concurrent.futures names it
        return Handle(getattr(pool, "shown", {}).get(worker, worker), label=worker)

    def token(self, value: object) -> object:
        """What a ``write`` of ``value`` carries: a tracked instance or a threading object by
        its name (so that the step, the trace and the state key are the same in every run,
        where the object is another), anything else as it is."""
        name = self.instance_names.get(id(value))
        if name is not None:
            return Named(name)
        name = self.objects_named.get(id(value))
        return value if name is None else ObjectName(name)

    def name_of(self, obj: object) -> str | None:
        """The name of a tracked instance or a threading object of this run, or None."""
        return self.instance_names.get(id(obj)) or self.objects_named.get(id(obj))

    # ---- what the run learns ------------------------------------------------------------

    def new_variable(self, var: str) -> None:
        self.program.register_variable(var)
        self.run.values.setdefault(var, HIDDEN)

    def new_object(self, name: str, declaration, obj: object):
        """Declare and make the model of a threading object the program made now (or made
        at import, modules.py); returns the model."""
        known = self.program.declarations.get(name)
        if known is not None and known != declaration:
            raise NondeterminismError(
                f"program {self.program.scenario.name!r} made {name!r} as {declaration!r} in this run and as "
                f"{known!r} in an earlier one; exploration assumes each thread makes the same objects "
                f"given the same values read")
        self.program.register_object(name, declaration)
        model = declaration.model(name, self.run)
        self.run.add_object(name, model)
        self.name_object(obj, name)
        return model

    def name_object(self, obj: object, name: str) -> None:
        self.objects_named[id(obj)] = name
        self._keep.append(obj)

