"""A plain program on real threads: the very same ``main``, run as written, for crosscheck.

:class:`RealThreads` runs a :func:`explorer.program` scenario's ``main`` on a real OS
thread, again and again, with ``threading``, ``queue`` and ``concurrent.futures`` left
as they are: the locks, threads and executors are the real ones, so a crosscheck checks
the model against the code itself, with no twin to write. Each run gives what
exploration counts: main's return value under ``"main"``, every other thread's return
(``None``) under the name exploration gives it, and the final attributes of the tracked
instances, named as exploration names them (``FakeDatabase#1.value``).

For the length of a crosscheck (``with RealThreads(...)``), and undone however it ends:

- each tracked class gets a ``__setattr__`` that, on a run's thread, notes which
  instance the write is to and which attribute it writes, then writes. An instance is
  named when a run's thread first writes one of its attributes (in its ``__init__``,
  as a rule): ``FakeDatabase#1`` the first that ``main`` wrote, ``FakeDatabase#1@T0``
  the first that thread ``T0`` did. Attributes written are the final state, frozen as
  exploration freezes them (freezing.py); one holding a threading object is left out;
- ``time.sleep`` (and a name bound to it in the program's modules) sleeps
  ``uniform(0, min(seconds, 2 ms))`` on a run's threads, so that runs are quick and
  their interleavings diverse (``sleep(2)`` would make every run take two seconds and
  the same order); on any other thread it is the real one;
- ``threading.main_thread()`` (and a name bound to it, or to the thread it gives, in the
  program's modules) gives, on a run's threads, the thread ``main`` runs on, as
  exploration gives ``main``'s;
- ``threading.excepthook`` records an exception that ends a run's thread (and does not
  print it); ``threading.setprofile`` sets a hook that, at a new thread's first call,
  notes it as the run's and removes itself, so nothing is profiled;
- each threading object made at import that exploration makes afresh for each run
  (modules.py: a free ``Lock``, a ``Semaphore``, a ``Queue`` and its items, a ``Thread``
  not started...) is made afresh, as a real one in the same state, for each run here too,
  under its global's name in the module: otherwise a run would start from what the last
  one left in it (an ``Event`` set, a lock a deadlocked run holds).

``main`` runs on a daemon thread named ``MainThread`` (the name ``current_thread()``
gives in exploration), and the threads it starts inherit its daemon flag, so a run that
never ends keeps nothing alive. What the program itself asks for is kept apart: the flag
they inherit is a truthy stand-in for "not a daemon" (it prints as ``False``), while one
the program sets (``daemon=True``, ``thread.daemon = True``, or inherited from a thread
so made) is its own. A run ends when every thread it started has ended (a pool's worker
waiting for a task that will never come counts as ended, as the interpreter's exit
would end it), or once ``main`` has returned, when only threads the program made
daemons are left: exploration ends such a run there, as the interpreter would. A run is a deadlock when its threads have not all
ended within ``timeout`` seconds, or sooner, when for ``SETTLE`` seconds none of them has
moved and none waits in a call with a timeout; its threads are left blocked (daemons,
taken off ``concurrent.futures``' list of workers to join at exit).

What is approximate, since nothing else of ``threading`` is patched: an instance is named at
its first write here, at its first read or write in exploration; ``threading`` and
``concurrent.futures`` number the threads and pools they name afresh in each run
(``Thread-1 (worker)``, ``ThreadPoolExecutor-0_0``), as exploration numbers them, each
thread's apart (a thread that thread ``T0`` makes is ``T0/Thread-1`` in both; one a
pool's task makes is named after the task's future in exploration, and here after the
worker's thread); threads that ``main`` starts are
daemons here (``main`` runs on one) and not in exploration, so a program that tests a
thread's ``daemon`` flag it did not set finds it true (printed, it reads ``False``); an
instance first written inside a pool's task is named after the worker's thread, where
exploration names it after the task's future; a thread subclass whose ``run`` returns
a value returns ``None`` here. Such a run shows as an unexpected outcome, and its label
says the names. A thread that sits for ``SETTLE`` seconds in a C call with a timeout
(``lock.acquire(timeout=5)``) or in a long computation in C is taken for deadlocked.
"""

from __future__ import annotations

import _thread
import _threading_local
import concurrent.futures
import concurrent.futures.thread as _pool_threads
import itertools
import linecache
import os
import queue
import sys
import sysconfig
import threading
import time

from ..objects.clock import MAX_REAL_SLEEP
from ..outcomes import Outcome, State
from ..real_threads import COMPLETED, DEADLOCKED, FAILED
from .freezing import freeze
from .modules import bind_afresh, module_bindings, plan_module_globals, put_back_bindings, user_modules
from .patches import Patches
from .tracking import _DATA, _classify

__all__ = ["MAX_SLEEP", "SETTLE", "RealThreads", "RealRun", "program_parts"]

#: The longest a ``time.sleep`` of the program sleeps on a run's thread.
MAX_SLEEP = MAX_REAL_SLEEP
#: How long a run's threads must all sit still, none in a wait with a timeout, for the
#: run to be a deadlock before its timeout.
SETTLE = 0.25
#: How often the supervisor looks at a run's threads.
POLL = 0.01

_real_sleep = time.sleep
_real_main_thread = threading.main_thread
_real_enumerate = threading.enumerate
_real_active_count = threading.active_count
_STDLIB = (os.path.normcase(sysconfig.get_paths()["stdlib"]),
           os.path.normcase(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
_THREADING_FILES = {os.path.normcase(module.__file__)
                    for module in (threading, queue, concurrent.futures.thread, concurrent.futures._base)}
_THREADING_TYPES = (type(threading.Lock()), type(threading.RLock()), threading.Condition, threading.Semaphore,
                    threading.Event, threading.Barrier, threading.Thread, queue.Queue, queue.SimpleQueue,
                    concurrent.futures.Executor)
_DEFAULT_NAME = "Thread-"

#: The run under way (one at a time; a crosscheck runs them one after another).
_RUN: RealRun | None = None
#: The profile function ``threading`` gave new threads before the crosscheck.
_PROFILE = None


class _Inherited:
    """The daemon flag the threads of a run inherit from ``main``'s runner, where the
    program gave none: truthy, so each starts as a real daemon and a run left blocked
    keeps nothing alive, and not ``True``, so that the supervisor tells it from a daemon
    the program asked for (:meth:`RealThreads._wait`)."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "False"


#: What ``threading.Thread`` copies from ``current_thread().daemon`` on a run's threads.
_INHERITED = _Inherited()


def _daemon_asked(thread: threading.Thread) -> bool:
    """Whether the program made ``thread`` a daemon (not merely inherited the runner's flag)."""
    daemonic = getattr(thread, "_daemonic", False)
    return daemonic is not _INHERITED and bool(daemonic)


def program_parts(scenario) -> tuple:
    """``("main", main)`` for a program's long form, ``("short", setup, threads, check)``
    for its short form: what its ``main`` thread runs, dug out of the scenario."""
    config = scenario.plain
    if config.main is None:  # the short form's main speaks in steps: run its parts instead
        return ("short", config.setup, config.threads, config.check)
    return ("main", config.main)


class RealRun:
    """One run on real threads: which threads are its own, what they wrote, how it ended.

    ``status`` is ``COMPLETED``, ``DEADLOCKED`` or ``FAILED``; ``errors`` holds
    ``(thread, exception)`` in the order they happened (thread names as exploration gives
    them); ``stuck``, for a deadlock, ``(thread, where it waits, None)`` per thread.
    """

    def __init__(self, rng) -> None:
        self.rng = rng
        self.before = frozenset(threading.enumerate())
        self.runner: threading.Thread | None = None
        self.started: list[threading.Thread] = []  # in the order they started (the runner first)
        self.twins: list[threading.Thread] = []  # threads made at import, made afresh before main starts
        self.members: set[threading.Thread] = set()
        self.workers: set[threading.Thread] = set()
        self.instances: dict[int, tuple] = {}  # id -> (object, thread, class name, n, attributes written)
        self.counts: dict[tuple, int] = {}
        self.lock = threading.Lock()
        self.returned: object = None
        self.raised: list[tuple[threading.Thread, BaseException]] = []
        self.moves = 0  # sleeps and writes so far: a run that sleeps is not deadlocked
        self.status: str | None = None
        self.stuck: tuple = ()
        self.errors: list[tuple[str, BaseException]] = []
        self._labels: dict[threading.Thread, str] = {}
        self._final: Outcome | None = None
        # N of each name threading gave (Thread-N) -> the thread that made it: exploration
        # numbers a thread's threads apart from main's (T0/Thread-1)
        self.makers: dict[int, threading.Thread] = {}

    # ---- what the hooks tell it ---------------------------------------------------------

    def adopt(self, thread: threading.Thread) -> None:
        """A thread that started during the run: the run's own."""
        if getattr(thread, "_target", None) is _pool_threads._worker:  # noqa: SLF001
            self.workers.add(thread)
        self.started.append(thread)
        self.members.add(thread)

    def wrote(self, obj: object, attr: str, thread: threading.Thread) -> None:
        self.moves += 1
        found = self.instances.get(id(obj))
        if found is None:
            with self.lock:
                found = self.instances.get(id(obj))
                if found is None:
                    kind = type(obj).__name__
                    n = self.counts[thread, kind] = self.counts.get((thread, kind), 0) + 1
                    found = self.instances[id(obj)] = (obj, thread, kind, n, {})
        found[4][attr] = None

    # ---- names --------------------------------------------------------------------------

    def labels(self) -> dict[threading.Thread, str]:
        """Each thread's name as exploration gives it (see the module docstring)."""
        if self._labels:
            return self._labels
        labels = {self.runner: "main"}
        # a thread made at import counts whether it starts or not: exploration numbers main's
        # threads after it (Thread-2 (worker)) in either case
        numbered = sorted((t for t in dict.fromkeys([*self.twins, *self.started])
                           if t not in self.workers and _number(t) is not None), key=_number)
        by_maker: dict[threading.Thread | None, list[threading.Thread]] = {}
        for thread in numbered:  # main's, made at import, or made by one of the run's threads
            maker = self.makers.get(_number(thread))
            by_maker.setdefault(maker if maker in self.members and maker is not self.runner else None,
                                []).append(thread)
        renumbered = {t: (maker, f"Thread-{n}{t.name[len(_DEFAULT_NAME) + len(str(_number(t))):]}")
                      for maker, made in by_maker.items() for n, t in enumerate(made, 1)}
        taken = {"main"}
        for thread in self.started:  # a thread's maker started before it, and is labelled first
            if thread is self.runner:
                continue
            maker, wanted = renumbered.get(thread, (None, thread.name))
            if maker is not None:
                wanted = f"{labels.get(maker, maker.name)}/{wanted}"
            name, n = wanted, 1
            while name in taken:
                n += 1
                name = f"{wanted}#{n}"
            taken.add(name)
            labels[thread] = name
        self._labels = labels
        return labels

    def name_of(self, obj: object) -> str | None:
        """A tracked instance's name, for freeze."""
        found = self.instances.get(id(obj))
        if found is None:
            return None
        _obj, thread, kind, n, _attrs = found
        label = self.labels().get(thread, thread.name)
        return f"{kind}#{n}" if label == "main" else f"{kind}#{n}@{label}"

    # ---- how it ended ---------------------------------------------------------------------

    def outcome(self) -> Outcome:
        """Final attributes and every thread's return, as exploration counts an outcome."""
        if self._final is not None:
            return self._final
        state = {}
        for obj, _maker, _kind, _n, attrs in self.instances.values():
            name = self.name_of(obj)
            for attr in attrs:
                try:
                    value = getattr(obj, attr)
                except AttributeError:  # deleted: absent, as in exploration
                    continue
                if not isinstance(value, _THREADING_TYPES):
                    state[f"{name}.{attr}"] = freeze(value, self)
        labels = self.labels()
        returns = {"main": freeze(self.returned, self)}
        returns.update((labels[t], None) for t in self.started  # a daemon the run's end left running: no return
                       if t is not self.runner and t not in self.workers and not (_daemon_asked(t) and t.is_alive()))
        self._final = Outcome(State(state), returns)
        return self._final


def _counting(run: RealRun):
    """``threading._counter`` for one run: from 1, noting which thread each number went to."""
    count = itertools.count(1).__next__

    def counter() -> int:
        n = count()
        run.makers[n] = threading.current_thread()
        return n
    return counter


def _number(thread: threading.Thread) -> int | None:
    """N in a name ``threading`` gave (``Thread-N`` or ``Thread-N (target)``), else None."""
    name = thread.name
    if not name.startswith(_DEFAULT_NAME):
        return None
    digits = name[len(_DEFAULT_NAME):].partition(" ")[0]
    return int(digits) if digits.isdigit() and digits[0] != "0" else None


class RealThreads:
    """The hooks of a crosscheck on real threads (see the module docstring), and its runs.

    ``with RealThreads(scenario, timeout=2.0) as real: run = real.run(rng)``
    """

    def __init__(self, scenario, *, timeout: float) -> None:
        self.scenario = scenario
        self.config = scenario.plain
        self.parts = program_parts(scenario)
        self.timeout = timeout
        self._patches: Patches | None = None
        self._profile = None
        self._excepthook = None
        self._bindings: list | None = None  # the program's globals as the crosscheck found them
        self._mains: list[tuple] = []  # (module, name) of globals bound to the interpreter's main thread
        self._locals: list[tuple] = []  # (threading.local made at import, main's attributes then)
        self._plan = None  # the threading objects made at import that each run makes afresh (modules.Plan)

    def __enter__(self) -> RealThreads:
        global _PROFILE
        patches = self._patches = Patches()
        try:
            for cls in self.config.track:
                if not any(other is not cls and issubclass(cls, other) for other in self.config.track):
                    _hook(cls, patches)
            patches.set(time, "sleep", _sleep)
            patches.set(threading, "main_thread", _main_thread)
            patches.set(threading, "enumerate", _enumerate)
            patches.set(threading, "active_count", _active_count)
            main, self._mains, self._locals = _real_main_thread(), [], []
            for module in self.config.modules:
                for name, value in list(vars(module).items()):
                    if isinstance(value, (_thread._local, _threading_local.local)):
                        # made at import: main has its attributes there, as in exploration
                        self._locals.append((value, dict(value.__dict__)))
                    if value is _real_sleep:
                        patches.set(module, name, _sleep)
                    elif value is _real_main_thread:
                        patches.set(module, name, _main_thread)
                    elif value is _real_enumerate or value is _real_active_count:
                        patches.set(module, name, _enumerate if value is _real_enumerate else _active_count)
                    elif value is main:  # MAIN = threading.main_thread() at import: each run's main (run)
                        self._mains.append((module, name))
            _PROFILE = self._profile = threading.getprofile()
            self._excepthook = threading.excepthook
            threading.setprofile(_joined)
            threading.excepthook = _excepthook
            # each run starts from the program's globals as they are now (its sleeps shortened), as in exploration
            self._bindings = module_bindings(self.config.modules)
            own = self.config.modules
            self._plan = plan_module_globals(own, others=user_modules(own), refuse=False)  # exploration refuses
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        global _RUN
        _RUN = None
        if self._excepthook is not None:
            threading.excepthook = self._excepthook
            threading.setprofile(self._profile)
            self._excepthook = None
        if self._bindings is not None:  # before the patches come off: they are part of it
            put_back_bindings(self._bindings)
            self._bindings = None
        if self._patches is not None:
            patches, self._patches = self._patches, None
            patches.restore()

    def run(self, rng) -> RealRun:
        """One run, from main's start to its end, a deadlock or the timeout."""
        global _RUN
        run = _RUN = RealRun(rng)
        runner = threading.Thread(target=self._main, args=(run,), name="MainThread", daemon=True)
        runner._daemonic = _INHERITED  # a daemon to the interpreter, not one main asked for
        run.runner = runner
        run.members.add(runner)  # before it starts: its first steps are the run's
        run.started.append(runner)
        for module, name in self._mains:  # as exploration binds them to its main (put back below)
            setattr(module, name, runner)
        # threading and concurrent.futures number the threads and pools they name from 1 and
        # 0 in each process; each run starts them afresh, so that a name the program reads
        # (Thread-1 (worker), ThreadPoolExecutor-0_0) is the one exploration gives
        counters = threading._counter, _pool_threads.ThreadPoolExecutor._counter
        threading._counter = _counting(run)
        _pool_threads.ThreadPoolExecutor._counter = itertools.count().__next__
        twins = Patches()
        started = time.monotonic()
        try:
            self._make_afresh(run, twins)
            runner.start()
            ended = self._wait(run, started)
        finally:
            _RUN = None
            threading._counter, _pool_threads.ThreadPoolExecutor._counter = counters
            twins.restore()
            if self._bindings is not None:
                put_back_bindings(self._bindings)
        labels = run.labels()
        run.errors = [(labels.get(thread, thread.name), exc) for thread, exc in run.raised]
        if run.errors:
            run.status = FAILED
        elif ended:
            run.status = COMPLETED
        else:
            run.status = DEADLOCKED
        if not ended:
            run.stuck = tuple(sorted(_waits(run, labels)))
            _forget(run)
        return run

    def _make_afresh(self, run: RealRun, twins: Patches) -> None:
        """Bind each global made at import that a run makes afresh to a fresh real one: a
        thread among them is numbered before main's threads, as in exploration, and, not
        made a daemon by the program, inherits the runner's flag as main's threads do."""
        for made in bind_afresh(self._plan, twins):
            if isinstance(made, threading.Thread):
                run.twins.append(made)
                if not made._daemonic:
                    made._daemonic = _INHERITED

    def _main(self, run: RealRun) -> None:
        try:
            for local, attributes in self._locals:  # main runs on this thread, not the importing one
                own = local.__dict__
                own.clear()
                own.update(attributes)
            if self.parts[0] == "main":
                run.returned = self.parts[1]()
            else:
                run.returned = _short_form(*self.parts[1:])
        except BaseException as exc:  # noqa: BLE001 - main's exception is the run's result
            run.raised.append((threading.current_thread(), exc))

    def _wait(self, run: RealRun, started: float) -> bool:
        """Whether every thread of the run ended (or idles as a pool's worker) in time."""
        deadline = started + self.timeout
        still = None  # (what the threads were doing, since when)
        while True:
            live = [t for t in threading.enumerate() if t not in run.before]
            if not live:
                return True
            frames = sys._current_frames()  # noqa: SLF001 - where each thread is, to see it sit still
            busy = [t for t in live if not _idle_worker(t, frames.get(t.ident))]
            if not busy:
                return True
            now = time.monotonic()
            if now > deadline:
                return False
            where = (run.moves, tuple((t.ident, _position(frames.get(t.ident))) for t in busy))
            if still is None or still[0] != where or any(frames.get(t.ident) is None for t in busy):
                # (a thread started but not running yet, which a loaded machine may hold back
                # past SETTLE, is on its way: Thread.start() waits for it in a wait that would
                # look like a deadlock)
                still = (where, now)
            elif not run.runner.is_alive() and all(_daemon_asked(t) and _blocked(frames.get(t.ident)) for t in busy):
                # only daemons the program made are left, each blocked in a wait with no timeout
                # and none moved since the last look: the interpreter would end them at exit, and
                # here they stay blocked (one still running would go on into the next run: the
                # run waits for it to block, or is given up at its timeout)
                return True
            elif now - still[1] > SETTLE and not any(_timed_wait(frames.get(t.ident)) for t in busy):
                return False
            busy[0].join(POLL)


def _short_form(setup, threads: dict, check):
    """The short form's main, on real threads: each thread started under its name, joined."""
    shared = setup() if setup is not None else None
    started = []
    for name, fn in threads.items():
        thread = threading.Thread(target=fn, args=(shared,) if setup is not None else (), name=name)
        thread.start()
        started.append(thread)
    for thread in started:
        thread.join()
    return None if check is None else bool(check(shared))


# ---- the hooks ------------------------------------------------------------------------------


def _hook(cls: type, patches: Patches) -> None:
    set_original = cls.__setattr__
    kinds: dict = {}
    current_thread = threading.current_thread

    def __setattr__(self, attr, value):
        run = _RUN
        if run is not None and attr[:2] != "__":
            klass = self.__class__
            kind = kinds.get((klass, attr))
            if kind is None:
                kind = kinds[klass, attr] = _classify(klass, attr)
            if kind is _DATA:
                thread = current_thread()
                if thread in run.members:
                    run.wrote(self, attr, thread)
        return set_original(self, attr, value)

    patches.set(cls, "__setattr__", __setattr__)


def _sleep(seconds):
    run = _RUN
    if run is None or threading.current_thread() not in run.members:
        return _real_sleep(seconds)
    run.moves += 1
    return _real_sleep(run.rng.uniform(0, min(seconds, MAX_SLEEP)))


_sleep.__name__ = "sleep"  # time's: Thread(target=time.sleep) is "Thread-1 (sleep)", as exploration names it


def _main_thread():
    """``threading.main_thread()``: on a run's threads, the thread ``main`` runs on, as in
    exploration (``current_thread() is main_thread()`` is true in ``main``)."""
    run = _RUN
    if run is None or run.runner is None or threading.current_thread() not in run.members:
        return _real_main_thread()
    return run.runner


def _enumerate():
    """``threading.enumerate()``: on a run's threads, the run's threads only (its runner is
    the program's MainThread), as in exploration, not the crosscheck's own."""
    run = _RUN
    if run is None or threading.current_thread() not in run.members:
        return _real_enumerate()
    return [thread for thread in _real_enumerate() if thread in run.members]


def _active_count():
    run = _RUN
    if run is None or threading.current_thread() not in run.members:
        return _real_active_count()
    return len(_enumerate())


def _joined(frame, event, arg):
    """``threading``'s profile hook, at a new thread's first call: the thread is the run's."""
    sys.setprofile(_PROFILE)
    run = _RUN
    thread = threading.current_thread()
    if run is not None and thread not in run.before:
        run.adopt(thread)


def _excepthook(args) -> None:
    run = _RUN
    if run is not None and args.thread in run.members:
        run.raised.append((args.thread, args.exc_value))
        return
    (threading.__excepthook__)(args)


# ---- what the supervisor sees -------------------------------------------------------------------


def _position(frame) -> tuple:
    return (None, None) if frame is None else (id(frame.f_code), frame.f_lasti)


def _idle_worker(thread: threading.Thread, frame) -> bool:
    """A pool's worker waiting in ``work_queue.get`` for a task that is not there."""
    if frame is None or frame.f_code is not _pool_threads._worker.__code__:  # noqa: SLF001
        return False
    work_queue = frame.f_locals.get("work_queue")
    return work_queue is not None and work_queue.empty()


def _blocked(frame) -> bool:
    """Whether a thread waits in a ``threading`` or ``queue`` call given no timeout (an
    event's, a condition's, a queue's): only another thread can end its wait."""
    return (frame is not None and os.path.normcase(frame.f_code.co_filename) in _THREADING_FILES
            and not _timed_wait(frame))


def _timed_wait(frame) -> bool:
    """Whether a thread waits in a ``threading`` or ``queue`` call given a timeout."""
    while frame is not None:
        if os.path.normcase(frame.f_code.co_filename) in _THREADING_FILES:
            timeout = frame.f_locals.get("timeout")
            if isinstance(timeout, int | float) and timeout >= 0:
                return True
        frame = frame.f_back
    return False


def _waits(run: RealRun, labels: dict) -> list[tuple[str, str, None]]:
    """Where each of a deadlocked run's threads waits: its innermost line of the program's own code."""
    frames = sys._current_frames()  # noqa: SLF001
    found = []
    for thread in threading.enumerate():
        if thread in run.before or _idle_worker(thread, frames.get(thread.ident)):
            continue
        frame = innermost = frames.get(thread.ident)
        while frame is not None and os.path.normcase(frame.f_code.co_filename).startswith(_STDLIB):
            frame = frame.f_back
        frame = frame or innermost
        if frame is None:
            where = "?"
        else:
            line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
            where = f"{line} ({os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno})"
        found.append((labels.get(thread, thread.name), where, None))
    return found


def _forget(run: RealRun) -> None:
    """A deadlocked run's pool workers: off the list the interpreter joins at exit."""
    with _pool_threads._global_shutdown_lock:  # noqa: SLF001
        for thread in [t for t in list(_pool_threads._threads_queues) if t not in run.before]:  # noqa: SLF001
            _pool_threads._threads_queues.pop(thread, None)  # noqa: SLF001
