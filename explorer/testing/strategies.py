"""Hypothesis strategies for explorer: random scenarios, and random complete schedules of one.

Exhaustive exploration stops being practical somewhere around a few threads of a
handful of steps each. :func:`schedules` lets hypothesis search a scenario too big
to enumerate, and shrink a failing schedule to one with few preemptions
(:func:`executions` replays each one for you); :func:`scenarios` makes random
straight-line scenarios, to test explorer itself or code that consumes its results.

>>> from hypothesis import find, settings
>>> from explorer import Scenario, read, replay, write
>>> from explorer.testing import strategies as xst
>>> def increment():
...     value = yield read("x")
...     yield write("x", value + 1)
>>> counter = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})
>>> find(xst.schedules(counter), lambda schedule: replay(counter, schedule).final_state["x"] == 1,
...      settings=settings(database=None))
['A', 'B', 'B', 'A']

This module imports hypothesis, so only code that uses hypothesis imports it.
"""

from __future__ import annotations

import functools
import numbers
import queue
import string
import threading
from collections.abc import Iterator, Sequence

from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from .._engine.execution import Execution as _Run
from .._engine.program import Program
from ..errors import InvalidArgument
from ..explore import replay
from ..results import Execution
from ..objects import Barrier, BoundedSemaphore, Condition, Event, Queue, Semaphore, ThreadPool
from ..scenario import LOCK_KINDS, Scenario
from ..steps import (
    acquire, clear_event, get, is_set, join, notify, notify_all, put, read, release, result, set_event,
    shutdown, sleep, spawn, submit, task_done, update, wait, write,
)

__all__ = ["OBJECT_KINDS", "TYPED_VALUES", "GeneratedError", "StraightLine", "executions", "scenarios", "schedules"]

#: Generated threads are named "A", "B", ... in order, so there are at most 26 of them.
THREAD_NAMES = tuple(string.ascii_uppercase)

#: The constants a generated write adds to the value its thread last read.
DEFAULT_VALUES = st.integers(-2, 2)

#: "One more step (or thread)?": yes two times in three, so threads are not mostly one
#: step long; shrinks to no.
_ONE_MORE = st.integers(0, 2).map(bool)

_SHORT = {"read": "r", "write": "w", "acquire": "acq", "release": "rel"}

#: The kinds of shared object ``scenarios(objects=...)`` can add to variables and locks, and
#: the name each is declared under in a generated scenario.
OBJECT_KINDS = ("update", "semaphore", "condition", "event", "barrier", "queue", "thread", "pool", "typed")

#: What a ``("store", var, value)`` op writes with ``objects=`` kind ``"typed"``: values
#: equal under ``==`` to others (``True == 1 == 1.0``, ``0.0 == -0.0``) but of other types
#: or signs, which print apart and which a program can tell apart, and NaN, unequal even
#: to itself (a thread that adds to a NaN it read writes a new NaN object in every run).
TYPED_VALUES = (True, False, 1.0, 0.0, -0.0, float("nan"))
_OBJECT_NAMES = {"semaphore": "sem", "condition": "cond", "event": "go", "barrier": "phase",
                 "queue": "jobs", "pool": "pool"}

#: The timeout generated timed steps carry; time is not modelled, so any number would do.
_TIMEOUT = 0.1

#: How an ``acquire``, ``get``, ``put`` or ``wait`` op blocks, and its mark in the op's text.
_MODES = {None: "", "nowait": "?", "timeout": "~"}


class GeneratedError(Exception):
    """What a generated task's ``("raise",)`` op raises (with the task's register)."""


def _plus(constant: int, value: int) -> int:
    return value + constant


class StraightLine:
    """A thread body that runs a fixed list of ops: a generated thread's program, kept readable.

    ``ops`` is a tuple of ``("read", var)``, ``("write", var, c)``, ``("acquire", lock)``
    and ``("release", lock)``. A read loads the value read into the thread's one
    register (0 at the start); ``("write", var, c)`` writes that register plus ``c``.
    The thread returns its register. ``str()`` gives the compact form used in
    generated scenarios' names, where ``w x=y+1`` means "write x as the value last
    read from y, plus 1".

    >>> body = StraightLine([("read", "x"), ("write", "x", 1), ("acquire", "l"), ("release", "l")])
    >>> str(body)
    'r x, w x=x+1, acq l, rel l'
    >>> generator = body()
    >>> next(generator), generator.send(5)
    (read('x'), write('x', 6))

    Scenarios drawn with ``objects=`` use more ops, each a fixed pattern of steps whose
    every value sent back is loaded into the register (a bool as 0 or 1), so a body is a
    deterministic function of what it receives, and every loop in it is bounded:

    - ``("update", var, c)``: ``update(var, old + c)``, loading the old value.
    - ``("store", var, value)``: writes ``value`` itself, one of :data:`TYPED_VALUES`
      (``True``, ``1.0``, ``-0.0``, NaN...); a later read loads it, so the register, and
      what it writes, returns or puts, may then be a bool or a float.
    - ``("acquire", name, mode)``: with ``mode`` ``"nowait"`` (``blocking=False``) or
      ``"timeout"``, loading True or False; ``name`` may be a lock, a semaphore or a
      condition, as may a ``release``'s.
    - ``("wait", name)``, ``("wait", name, "timeout")``: on a condition (which needs its
      lock held: without it, an ``error``), an event or a barrier; a broken barrier
      loads -1.
    - ``("notify", cond, n)``, ``("notify_all", cond)``, ``("set", event)``,
      ``("clear", event)``, ``("is_set", event)``, and with an event ``("sleep",)``
      (``sleep(0)``: a thread that polls gives way there under fair schedules).
    - ``("await", cond, var, tries, timed)``: the ``while`` loop of a consumer, at most
      ``tries`` waits: take the condition's lock, wait while ``var`` reads 0 (a timed
      wait that returns False ends the loop), release; loads the value read last.
    - ``("signal", cond, var, value, all)``: take the lock, write ``value`` to ``var``,
      ``notify`` (``notify_all`` if ``all``), release.
    - ``("put", queue, c, mode)`` puts the register plus ``c``; ``("get", queue, mode)``
      loads the item; a ``put``/``get`` that gives up (``queue.Full``/``queue.Empty``)
      loads -1. ``("task_done", queue)``, ``("join", queue or thread)``.
    - ``("spawn", name, body)`` starts thread ``name`` running another ``StraightLine``.
    - ``("submit", pool, body)`` submits ``body`` to the pool, ``("result", k)`` loads the
      result of this thread's ``k``-th future (-1 if the task raised), ``("shutdown",
      pool)``; ``("raise",)`` raises :class:`GeneratedError` (in tasks).

    >>> str(StraightLine([("await", "cond", "x", 2, False), ("put", "jobs", 1, "nowait"),
    ...                   ("spawn", "A1", StraightLine([("update", "y", 1)])), ("join", "A1")]))
    'await cond x (2), put? jobs=x+1, spawn A1{upd y+1}, join A1'
    """

    __slots__ = ("ops",)

    def __init__(self, ops: Sequence[tuple]) -> None:
        self.ops = tuple(tuple(op) for op in ops)

    def __call__(self) -> Iterator:
        return self._run()

    def _run(self):
        register = 0
        futures: list[str] = []
        for op in self.ops:
            kind = op[0]
            if kind == "read":
                register = yield read(op[1])
            elif kind == "write":
                yield write(op[1], register + op[2])
            elif kind == "acquire":
                if len(op) == 2 or op[2] is None:
                    yield acquire(op[1])
                else:
                    nowait = op[2] == "nowait"
                    register = int((yield acquire(op[1], blocking=not nowait, timeout=None if nowait else _TIMEOUT)))
            elif kind == "release":
                yield release(op[1])
            else:
                register = yield from _other(op, register, futures)
        return register

    def __str__(self) -> str:
        parts = []
        source = None  # what the register was last loaded from
        for op in self.ops:
            kind = op[0]
            if kind in ("write", "put"):
                value = _plus_text(source, op[2])
                parts.append(f"w {op[1]}={value}" if kind == "write" else f"put{_MODES[op[3]]} {op[1]}={value}")
            elif kind in ("read", "acquire", "release"):
                mode = _MODES[op[2]] if len(op) > 2 else ""
                parts.append(f"{_SHORT[kind]}{mode} {op[1]}")
            else:
                parts.append(_text(op))
            loaded = _loads(op)
            if loaded is not None:
                source = loaded
        return ", ".join(parts) or "-"

    def __repr__(self) -> str:
        return f"StraightLine({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StraightLine) and other.ops == self.ops

    def __hash__(self) -> int:
        return hash(self.ops)


def _loads(op: tuple) -> str | None:
    """What ``op`` loads the register from, as its text names it, or None if it loads nothing."""
    kind = op[0]
    if kind in ("read", "update", "wait", "is_set", "get"):
        return op[1]
    if kind == "await":
        return op[2]
    if kind == "result":
        return f"f{op[1]}"
    if kind in ("acquire", "put") and op[-1] is not None and len(op) > 2 + (kind == "put"):
        return op[1]
    return None


def _plus_text(source: str | None, constant: int) -> str:
    if source is None:
        return str(constant)
    return source + (f"+{constant}" if constant > 0 else f"-{-constant}" if constant < 0 else "")


def _text(op: tuple) -> str:
    kind = op[0]
    if kind == "update":
        return f"upd {op[1]}{'+' if op[2] >= 0 else '-'}{abs(op[2])}"
    if kind == "store":
        return f"w {op[1]}:={op[2]!r}"
    if kind == "wait":
        return f"wait{_MODES[op[2]] if len(op) > 2 else ''} {op[1]}"
    if kind == "notify":
        return f"notify {op[1]}" + (f" {op[2]}" if op[2] != 1 else "")
    if kind == "await":
        return f"await{'~' if op[4] else ''} {op[1]} {op[2]} ({op[3]})"
    if kind == "signal":
        return f"signal{'-all' if op[4] else ''} {op[1]} {op[2]}={op[3]}"
    if kind == "get":
        return f"get{_MODES[op[2]]} {op[1]}"
    if kind in ("spawn", "submit"):
        return f"{kind} {op[1]}{{{op[2]}}}"
    if kind == "result":
        return f"result f{op[1]}"
    if kind in ("raise", "sleep"):
        return kind
    return f"{kind} {op[1]}"  # notify_all, set, clear, is_set, task_done, join, shutdown


def _other(op: tuple, register: int, futures: list):
    """Run one op beyond read, write, acquire and release; returns the new register."""
    kind = op[0]
    if kind == "update":
        return (yield update(op[1], functools.partial(_plus, op[2])))
    if kind == "store":
        yield write(op[1], op[2])
        return register
    if kind == "wait":
        try:
            value = yield wait(op[1], _TIMEOUT if len(op) > 2 and op[2] else None)
        except threading.BrokenBarrierError:
            return -1
        return int(value)
    if kind == "notify":
        yield notify(op[1], op[2])
    elif kind == "notify_all":
        yield notify_all(op[1])
    elif kind == "set":
        yield set_event(op[1])
    elif kind == "clear":
        yield clear_event(op[1])
    elif kind == "is_set":
        return int((yield is_set(op[1])))
    elif kind == "sleep":
        yield sleep(0)
    elif kind == "await":
        _kind, cond, var, tries, timed = op
        yield acquire(cond)
        value = yield read(var)
        for _ in range(tries):  # a while loop, bounded
            if value != 0:
                break
            if not (yield wait(cond, _TIMEOUT if timed else None)):
                break  # the timeout fired: give up, with the value read before
            value = yield read(var)
        yield release(cond)
        return value
    elif kind == "signal":
        _kind, cond, var, value, everyone = op
        yield acquire(cond)
        yield write(var, value)
        yield notify_all(cond) if everyone else notify(cond)
        yield release(cond)
    elif kind == "put":
        mode = op[3]
        try:
            yield put(op[1], register + op[2], block=mode is None, timeout=_TIMEOUT if mode == "timeout" else None)
        except queue.Full:
            return -1
    elif kind == "get":
        mode = op[2]
        try:
            return (yield get(op[1], block=mode is None, timeout=_TIMEOUT if mode == "timeout" else None))
        except queue.Empty:
            return -1
    elif kind == "task_done":
        yield task_done(op[1])
    elif kind == "join":
        yield join(op[1])
    elif kind == "spawn":
        yield spawn(op[1], op[2])
    elif kind == "submit":
        futures.append((yield submit(op[1], op[2])))
    elif kind == "result":
        try:
            return (yield result(futures[op[1]]))
        except GeneratedError:
            return -1
    elif kind == "shutdown":
        yield shutdown(op[1])
    elif kind == "raise":
        raise GeneratedError(register)
    else:
        raise AssertionError(f"[explorer internal bug] a generated body has an unknown op {op!r}")
    return register


def scenarios(
    *,
    threads: int | range | SearchStrategy[int] = range(1, 4),
    max_steps_per_thread: int = 4,
    variables: Sequence[str] = ("x", "y"),
    locks: Sequence[str] = ("l", "m"),
    lock_kinds: str | Sequence[str] = LOCK_KINDS,
    well_nested: bool = False,
    values: SearchStrategy[int] = DEFAULT_VALUES,
    objects: str | Sequence[str] = (),
    max_steps: int | None = None,
) -> SearchStrategy[Scenario]:
    """Random :class:`~explorer.Scenario` s whose threads are straight-line programs.

    ``threads`` is how many threads ("A", "B", ...): an int, a ``range``, or a
    strategy of ints (at most 26). Each thread takes 1 to ``max_steps_per_thread``
    steps, each a read or write of one of ``variables`` (all start at 0) or an
    acquire or release of one of ``locks``, whose kinds are drawn from
    ``lock_kinds`` (``"lock"``, ``"rlock"``). A write writes the value the thread
    last read plus a constant drawn from ``values``. Each thread body is a
    :class:`StraightLine`, so ``scenario.threads["A"].ops`` is its program, and the
    scenario's name spells the whole program out (``"A: r x, w x=x+1 | B: acq l,
    rel l"``), so a failing example reads well. Examples shrink toward one thread
    of one read.

    With ``well_nested=False`` anything goes: a plain lock acquired twice deadlocks
    its own thread, and releasing a lock the thread does not hold is an ``error``
    finding. With ``well_nested=True`` every thread releases what it acquires, in
    reverse order, before it ends, and never acquires a plain lock it holds, so no
    execution has an ``error`` finding (threads can still deadlock each other).

    >>> from hypothesis import given, settings
    >>> from explorer import explore
    >>> @settings(max_examples=20, database=None, deadline=None)
    ... @given(scenarios(threads=2, max_steps_per_thread=3, well_nested=True))
    ... def test_well_nested_threads_raise_nothing(scenario):
    ...     assert not [f for f in explore(scenario).findings if f.kind == "error"]
    >>> test_well_nested_threads_raise_nothing()

    ``objects`` (``"all"``, or some of :data:`OBJECT_KINDS`: ``"update"``,
    ``"semaphore"``, ``"condition"``, ``"event"``, ``"barrier"``, ``"queue"``,
    ``"thread"``, ``"pool"``, ``"typed"``) lets threads use other kinds too: for each scenario up to
    three of them are drawn, with their declarations (a ``Semaphore`` or
    ``BoundedSemaphore`` of 0 to 2, a ``Condition`` over one of ``locks`` or its own,
    ``Event()``, ``Barrier(1 to 3)``, a ``Queue`` of maxsize 0 to 2 in any order, a
    ``ThreadPool`` of 1 or 2 workers) named ``sem``, ``cond``, ``go``, ``phase``,
    ``jobs`` and ``pool``, and ``spurious_wakeups`` drawn when there is a condition;
    ``"typed"`` adds writes of :data:`TYPED_VALUES` (``True`` beside ``1``, ``-0.0``
    beside ``0.0``, NaN), so outcomes equal under ``==`` but not alike meet.
    Ops that can block are drawn blocking, non-blocking or timed; threads spawn and join
    threads ("A1", ...), submit tasks, read their results and shut the pool down; a
    condition is used as a consumer's bounded ``while`` loop and a producer's notify, and
    misused too (a ``wait`` without its lock). :class:`StraightLine` lists the ops.
    Every loop is bounded, so every program ends (or deadlocks). Then
    ``max_steps_per_thread`` counts steps, an op costing as many as it may take, and
    ``max_steps`` (None for no limit) bounds the steps of all threads together, spawned
    threads and pool workers included, which keeps exhaustive enumeration quick: with
    ``max_steps=10`` it takes well under a second per program. The scenario's name
    ends with the declarations used (``"A: put jobs=1 | B: get jobs || jobs=Queue()"``).
    """
    thread_counts = _thread_counts(threads)
    steps = _positive_int("max_steps_per_thread", max_steps_per_thread)
    variables = _names("variables", variables)
    locks = _names("locks", locks)
    kinds_of_objects = _object_kinds(objects)
    total_steps = _positive_int("max_steps", max_steps, optional=True) if max_steps is not None else None
    if kinds_of_objects:
        clash = sorted(set(_OBJECT_NAMES[kind] for kind in kinds_of_objects if kind in _OBJECT_NAMES)
                       & set(variables + locks))
        if clash:
            raise InvalidArgument(
                f"scenarios(objects=...): {clash} named a variable or a lock, but generated objects "
                f"are declared under the names {sorted(_OBJECT_NAMES.values())}; pick other names")
        if well_nested:
            raise InvalidArgument(
                "scenarios(): well_nested=True keeps locks in order; it cannot be combined with "
                "objects=..., whose generated programs misuse objects on purpose (a wait without "
                "the lock, a task_done too many)")
    if not variables and not locks and not kinds_of_objects:
        raise InvalidArgument(
            "scenarios() needs at least one variable or lock for its threads to step on; "
            "got variables=() and locks=()"
        )
    clash = sorted(set(variables) & set(locks))
    if clash:
        raise InvalidArgument(
            f"scenarios(): {clash} named both a variable and a lock; a scenario needs each "
            f"name to mean one thing"
        )
    kinds = _lock_kinds(lock_kinds)
    if not isinstance(well_nested, bool):
        raise InvalidArgument(f"scenarios(): well_nested must be True or False, got {well_nested!r}")
    if not isinstance(values, SearchStrategy):
        raise InvalidArgument(
            f"scenarios(): values must be a hypothesis strategy of ints (the constants writes "
            f"add to the value read), such as st.integers(-2, 2); got {values!r}"
        )
    if well_nested and not variables and steps < 2:
        raise InvalidArgument(
            "scenarios(well_nested=True) with locks only needs max_steps_per_thread >= 2: "
            "the shortest such thread is an acquire and its release"
        )

    @st.composite
    def scenario(draw) -> Scenario:
        lock_kind = {lock: draw(st.sampled_from(kinds)) for lock in locks}
        if isinstance(thread_counts, range):
            # The optional threads each follow a "one more thread?" choice, so hypothesis
            # shrinks by deleting a whole thread, not just the last one.
            count = thread_counts[0]
            while count < thread_counts[-1] and draw(_ONE_MORE):
                count += 1
        else:
            count = draw(thread_counts)
            if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= len(THREAD_NAMES):
                raise InvalidArgument(
                    f"scenarios(): the threads strategy drew {count!r}; it must draw ints from 1 to "
                    f"{len(THREAD_NAMES)}"
                )
        if total_steps is not None:
            count = min(count, total_steps)
        if kinds_of_objects:
            return _object_scenario(draw, THREAD_NAMES[:count], steps, total_steps, variables, lock_kind,
                                    values, kinds_of_objects)
        bodies = {}
        left = total_steps if total_steps is not None else steps * count
        for index, name in enumerate(THREAD_NAMES[:count]):
            ops = _ops(draw, min(steps, left - (count - index - 1)), variables, lock_kind, values, well_nested)
            left -= len(ops)
            bodies[name] = StraightLine(ops)
        program = " | ".join(f"{name}: {body}" for name, body in bodies.items())
        return Scenario(program, variables=dict.fromkeys(variables, 0), locks=lock_kind, threads=bodies)

    return scenario()


#: The most ops a spawned thread's or a submitted task's body has.
_CHILD_OPS = 2

#: The ways a step that can block may be drawn: blocking, ``blocking=False`` (or
#: ``block=False``), or with a timeout.
_BLOCKING = st.sampled_from([None, "nowait", "timeout"])


def _object_scenario(draw, names: tuple, most: int, total: int, variables: tuple, lock_kind: dict, values,
                     kinds: tuple) -> Scenario:
    """A scenario whose threads use some of ``kinds`` of objects besides variables and locks.

    Up to three kinds are drawn for each scenario, so that the steps on each meet often
    (a ``result`` needs a ``submit`` before it, a ``notify`` a ``wait``).
    """
    kinds = tuple(draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=min(3, len(kinds)), unique=True)))
    objects: dict[str, object] = {}
    if "semaphore" in kinds:
        count = draw(st.integers(0, 2))
        objects["sem"] = BoundedSemaphore(count) if draw(st.booleans()) else Semaphore(count)
    if "condition" in kinds:
        objects["cond"] = Condition(draw(st.sampled_from((None,) + tuple(lock_kind))))
    if "event" in kinds:
        objects["go"] = Event()
    if "barrier" in kinds:
        objects["phase"] = Barrier(draw(st.integers(1, 3)))
    if "queue" in kinds:
        objects["jobs"] = Queue(maxsize=draw(st.integers(0, 2)),
                                order=draw(st.sampled_from(["fifo", "lifo", "priority"])))
    if "pool" in kinds:
        objects["pool"] = ThreadPool(max_workers=draw(st.integers(1, 2)))
    spurious = "condition" in kinds and draw(st.booleans())
    menu = _Menu(variables, tuple(lock_kind), objects, "update" in kinds, "thread" in kinds, names, values,
                 "typed" in kinds)
    bodies = {}
    left = total if total is not None else most * len(names)
    for index, name in enumerate(names):
        ops = _object_ops(draw, min(most, left - (len(names) - index - 1)), menu, name)
        left -= _steps(ops)
        bodies[name] = StraightLine(ops)
    used = set()
    for body in bodies.values():
        _collect_names(body, used)
    declared = {name: declaration for name, declaration in objects.items() if name in used}
    program = " | ".join(f"{name}: {body}" for name, body in bodies.items())
    if declared:
        program += " || " + ", ".join(f"{name}={declaration!r}" for name, declaration in declared.items())
    if spurious:
        program += " (spurious wakeups)"
    return Scenario(program, variables=dict.fromkeys(variables, 0), locks=lock_kind, threads=bodies,
                    objects=declared, spurious_wakeups=spurious)


def _collect_names(body: StraightLine, into: set) -> None:
    for op in body.ops:
        if op[0] in ("spawn", "submit"):
            _collect_names(op[2], into)
        if len(op) > 1 and isinstance(op[1], str):
            into.add(op[1])


class _Menu:
    """What a generated op may name: the scenario's variables, lock-like objects, and the rest."""

    __slots__ = ("barrier", "condition", "event", "lockish", "pool", "queue", "spawns", "threads", "typed",
                 "updates", "values", "variables")

    def __init__(self, variables: tuple, locks: tuple, objects: dict, updates: bool, spawns: bool,
                 threads: tuple, values, typed: bool = False) -> None:
        self.variables = variables
        self.condition = "cond" if "cond" in objects else None
        self.lockish = locks + tuple(name for name in ("sem", "cond") if name in objects)
        self.event = "go" if "go" in objects else None
        self.barrier = "phase" if "phase" in objects else None
        self.queue = "jobs" if "jobs" in objects else None
        self.pool = "pool" if "pool" in objects else None
        self.updates = updates
        self.spawns = spawns
        self.threads = threads
        self.values = values
        self.typed = typed

    def kinds(self, top: bool, task: bool, futures: int) -> list[str]:
        """The op kinds to draw from, simplest first: a top-level thread's, or a spawned
        thread's or task's (``top`` False), which neither spawns, submits nor joins threads."""
        kinds = ["read", "write"] if self.variables else []
        if self.updates and self.variables:
            kinds.append("update")
        if self.typed and self.variables:
            kinds.append("store")
        if self.lockish:
            kinds += ["acquire", "release"]
        if self.condition:
            kinds += ["wait", "notify", "notify_all"] + (["await", "signal"] if self.variables else [])
        elif self.event or self.barrier:
            kinds.append("wait")
        if self.event:
            kinds += ["set", "clear", "is_set", "sleep"]
        if self.queue:
            kinds += ["put", "get", "task_done", "join"]
        if top and self.spawns:
            kinds += ["spawn", "join"]
        if top and self.pool:
            kinds += ["submit", "shutdown"] + (["result"] * 3 if futures else [])  # the future's point
        if task:
            kinds += ["raise"] * 2
        return kinds


def _constant(draw, values) -> int:
    constant = draw(values)
    if isinstance(constant, bool) or not isinstance(constant, numbers.Integral):
        raise InvalidArgument(
            f"scenarios(): the values strategy drew {constant!r}; it must draw ints, "
            f"the constants a write adds to the value read"
        )
    return int(constant)


def _ops(draw, most: int, variables: tuple, lock_kind: dict, values, well_nested: bool) -> list:
    """One thread's ops, at least one and at most ``most``.

    A "one more step?" choice before each step after the first lets hypothesis shrink
    by deleting a step's choices outright. When well nested, ``held`` is the stack of
    locks the thread holds, and an acquire is only drawn if there is room left to
    release everything held, that lock included.
    """
    ops: list[tuple] = []
    held: list[str] = []
    locks = tuple(lock_kind)
    while len(ops) < most:
        room = most - len(ops)
        if (well_nested and held and room == len(held)) or (ops and not draw(_ONE_MORE)):
            break
        if well_nested:
            acquirable = [lock for lock in locks if lock_kind[lock] == "rlock" or lock not in held]
            can_acquire = bool(acquirable) and room >= len(held) + 2
            can_release = bool(held)
        else:
            acquirable = list(locks)
            can_acquire = can_release = bool(locks)
        kinds = (["read", "write"] if variables else []) + (["acquire"] if can_acquire else []) \
            + (["release"] if can_release else [])
        if not kinds:  # only locks, nothing held, and no room for an acquire and its release
            break
        kind = draw(st.sampled_from(kinds))
        if kind == "read":
            ops.append(("read", draw(st.sampled_from(variables))))
        elif kind == "write":
            constant = draw(values)
            if isinstance(constant, bool) or not isinstance(constant, numbers.Integral):
                raise InvalidArgument(
                    f"scenarios(): the values strategy drew {constant!r}; it must draw ints, "
                    f"the constants a write adds to the value read"
                )
            ops.append(("write", draw(st.sampled_from(variables)), constant))
        elif kind == "acquire":
            lock = draw(st.sampled_from(acquirable))
            if well_nested:
                held.append(lock)
            ops.append(("acquire", lock))
        elif well_nested:
            ops.append(("release", held.pop()))
        else:
            ops.append(("release", draw(st.sampled_from(locks))))
    ops += [("release", lock) for lock in reversed(held)]
    return ops


#: What each op costs in steps (at most), beyond any body it carries: a wait is the
#: wait and the wake-up; a submitted task adds the worker's take and finish, and the
#: take that ends the worker; a shutdown waits in a second step. A timed wait on the
#: condition and ``await`` are priced by :func:`_cost`.
_COST = {"wait": 2, "signal": 4, "submit": 4, "shutdown": 2}


def _object_ops(draw, budget: int, menu: _Menu, thread: str, *, top: bool = True, task: bool = False) -> list:
    """One thread's ops over the objects of ``menu``, taking at most ``budget`` steps together
    (at least one op, unless the thread has nothing it may step on).

    Spawned threads are named after their parent ("A1", "A2", ...); their bodies and
    submitted tasks have at most two ops and start no thread, so programs stay small.
    """
    ops: list[tuple] = []
    children: list[str] = []
    futures = 0
    while budget > 0:
        if ops and not draw(_ONE_MORE):
            break
        kinds = [kind for kind in menu.kinds(top, task, futures)
                 if _COST.get(kind, 1) + (kind == "await") * 5 <= budget]
        if not kinds:  # nothing it may step on, or nothing that fits
            break
        kind = draw(st.sampled_from(kinds))
        cost = _COST.get(kind, 1)
        if kind == "read":
            ops.append(("read", draw(st.sampled_from(menu.variables))))
        elif kind == "write":
            ops.append(("write", draw(st.sampled_from(menu.variables)), _constant(draw, menu.values)))
        elif kind == "update":
            ops.append(("update", draw(st.sampled_from(menu.variables)), _constant(draw, menu.values)))
        elif kind == "store":
            ops.append(("store", draw(st.sampled_from(menu.variables)), draw(st.sampled_from(TYPED_VALUES))))
        elif kind in ("acquire", "release"):
            target = draw(st.sampled_from(menu.lockish))
            ops.append((kind, target, draw(_BLOCKING)) if kind == "acquire" else (kind, target))
        elif kind == "wait":
            target = draw(st.sampled_from([t for t in (menu.condition, menu.event, menu.barrier) if t]))
            # a timed wait on a condition takes a step more: its expiry (or not) before the wake-up
            timed = draw(st.booleans()) and (target != menu.condition or budget >= 3)
            ops.append(("wait", target, "timeout") if timed else ("wait", target))
            cost = _cost(ops[-1])
        elif kind == "notify":
            ops.append(("notify", menu.condition, draw(st.integers(1, 2))))
        elif kind == "notify_all":
            ops.append((kind, menu.condition))
        elif kind == "await":
            tries = draw(st.integers(1, min(2, (budget - 3) // 3)))
            var = draw(st.sampled_from(menu.variables))
            timed = draw(st.booleans()) and 3 + 4 * tries <= budget  # a timed try costs 4
            ops.append(("await", menu.condition, var, tries, timed))
            cost = _cost(ops[-1])
        elif kind == "signal":
            ops.append(("signal", menu.condition, draw(st.sampled_from(menu.variables)),
                        _constant(draw, menu.values), draw(st.booleans())))
        elif kind in ("set", "clear", "is_set"):
            ops.append((kind, menu.event))
        elif kind == "sleep":
            ops.append(("sleep",))
        elif kind == "put":
            ops.append(("put", menu.queue, _constant(draw, menu.values), draw(_BLOCKING)))
        elif kind == "get":
            ops.append(("get", menu.queue, draw(_BLOCKING)))
        elif kind == "task_done":
            ops.append(("task_done", menu.queue))
        elif kind == "join":
            targets = children + ([menu.queue] if menu.queue else []) + (list(menu.threads) if top and menu.spawns else [])
            ops.append(("join", draw(st.sampled_from(targets))))
        elif kind == "spawn":
            child = f"{thread}{len(children) + 1}"
            children.append(child)
            body = _object_ops(draw, min(_CHILD_OPS, budget - 1), menu, child, top=False)
            cost += _steps(body)
            ops.append(("spawn", child, StraightLine(body)))
        elif kind == "submit":
            futures += 1
            # a step kept back where there is one, for the submitter to read the result
            body = _object_ops(draw, min(_CHILD_OPS, budget - cost - (budget - cost > 1)), menu, thread, top=False,
                               task=True)
            cost += _steps(body)
            ops.append(("submit", menu.pool, StraightLine(body)))
        elif kind == "result":
            ops.append(("result", draw(st.integers(0, futures - 1))))
        elif kind == "shutdown":
            ops.append(("shutdown", menu.pool))
        else:
            ops.append(("raise",))
        budget -= cost
    return ops


def _cost(op: tuple) -> int:
    """The most steps ``op`` takes, beyond any body it carries (:data:`_COST`): a timed
    wait on the condition takes its expiry (or not) as a step of its own, before the
    wake-up, so each try of a timed ``await`` costs 4."""
    kind = op[0]
    if kind == "await":
        return 3 + (4 if op[4] else 3) * op[3]
    if kind == "wait" and len(op) > 2 and op[1] == _OBJECT_NAMES["condition"]:
        return 3
    return _COST.get(kind, 1)


def _steps(ops: list) -> int:
    """The most steps ``ops`` take, as :func:`_cost` prices them."""
    total = 0
    for op in ops:
        total += _cost(op)
        if op[0] in ("spawn", "submit"):
            total += _steps(op[2].ops)
    return total


def schedules(scenario: Scenario, *, max_length: int | None = None) -> SearchStrategy[list[str]]:
    """Complete schedules of ``scenario``: lists of thread names, one per step, that
    :func:`explorer.replay` accepts as they are, ending when every thread has
    finished, deadlocked or failed.

    At every step one choice is drawn, whose simplest value means "no switch": the
    thread that just ran goes on if it can, else the first enabled thread in thread
    order takes over (as ``replay(..., extend=True)`` finishes a schedule). Other
    values switch to another enabled thread, earlier threads first. As a straight-line
    scenario takes as many choices as it takes steps, hypothesis shrinks a failing
    schedule by removing switches and moving the first one as late as it can: shrunk
    schedules have few preemptions, and the smallest of all runs A to the end, then
    B, ... How often a schedule switches is drawn per schedule, from most steps to
    about one step in eight. Every complete schedule can be drawn.

    ``max_length`` caps the number of steps: a drawn execution that runs longer is
    rejected, which bounds threads that spin. Leave it ``None`` for scenarios whose
    threads always finish (a thread that runs past 10,000 steps is then cut off,
    and replays as ``truncated``).

    >>> from explorer import Scenario, read, write
    >>> def increment():
    ...     value = yield read("x")
    ...     yield write("x", value + 1)
    >>> counter = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})
    >>> from hypothesis import find, settings
    >>> find(schedules(counter), lambda schedule: True, settings=settings(database=None))
    ['A', 'A', 'B', 'B']
    """
    if not isinstance(scenario, Scenario):
        raise InvalidArgument(
            f"schedules() takes a Scenario, got {type(scenario).__name__} {scenario!r}; build one "
            f"with Scenario(name, variables=..., locks=..., threads=...) or draw one from scenarios()"
        )
    if max_length is not None:
        _positive_int("max_length", max_length, optional=True)
    program = Program(scenario)
    alternatives = len(program.thread_names) - 1  # the most threads a step can switch to

    @st.composite
    def schedule(draw) -> list[str]:
        chosen: list[int] = []
        # A step's choice is a switch only in its top ``alternatives`` values, so the
        # higher the rarity, the fewer the switches; 0 is never a switch.
        rarity = draw(st.integers(0, 3))
        top = alternatives << rarity
        choice = st.integers(0, top)

        def choose(enabled: list[int]) -> int:
            if max_length is not None and len(chosen) >= max_length:
                assume(False)  # longer than max_length: not a schedule this strategy makes
            last = chosen[-1] if chosen else None
            thread = last if last in enabled else enabled[0]
            if alternatives:  # one choice per step, even without a choice to make, so shrinking
                value = draw(choice)  # compares schedules step by step
                switch = value - (top - alternatives) - 1
                if switch >= 0:
                    others = [i for i in enabled if i != thread]
                    if others:
                        thread = others[switch % len(others)]
            chosen.append(thread)
            return thread

        _Run(program).run(choose)
        names = program.thread_names  # with the threads the run started (spawn, a pool's workers)
        return [names[i] for i in chosen]

    return schedule()


def executions(scenario: Scenario, *, max_length: int | None = None) -> SearchStrategy[Execution]:
    """:func:`schedules` of ``scenario``, each replayed: :class:`~explorer.Execution` s to check.

    >>> from explorer import Scenario, read, write
    >>> def increment():
    ...     value = yield read("x")
    ...     yield write("x", value + 1)
    >>> counter = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, database=None)
    ... @given(executions(counter))
    ... def test_the_counter_ends_at_one_or_two(execution):
    ...     assert execution.final_state["x"] in (1, 2)
    >>> test_the_counter_ends_at_one_or_two()
    """
    return schedules(scenario, max_length=max_length).map(lambda schedule: replay(scenario, schedule))


def _positive_int(name: str, value: object, *, optional: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        none = " or None" if optional else ""
        raise InvalidArgument(f"{name} must be a positive whole number{none}, got {value!r}")
    return int(value)


def _thread_counts(threads: object) -> range | SearchStrategy[int]:
    """How many threads to generate: a range with step 1, or the user's strategy."""
    most = len(THREAD_NAMES)
    if isinstance(threads, SearchStrategy):
        return threads
    if isinstance(threads, range):
        if threads.step != 1 or not threads or threads[0] < 1 or threads[-1] > most:
            raise InvalidArgument(
                f"scenarios(): threads={threads!r} must be a non-empty range with step 1 "
                f"within 1 to {most}, such as range(1, 4) for one to three threads"
            )
        return threads
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or not 1 <= threads <= most:
        raise InvalidArgument(
            f"scenarios(): threads must be a number of threads from 1 to {most}, a range of them, "
            f"or a strategy of ints; got {threads!r}"
        )
    return range(int(threads), int(threads) + 1)


def _names(field: str, names: object) -> tuple[str, ...]:
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise InvalidArgument(
            f"scenarios(): {field} must be a list or tuple of names, such as ('x', 'y'), got "
            f"{type(names).__name__} {names!r}"
        )
    for name in names:
        if not isinstance(name, str) or not name:
            raise InvalidArgument(f"scenarios(): every name in {field} must be a non-empty string, got {name!r}")
        if name in THREAD_NAMES:
            raise InvalidArgument(
                f"scenarios(): {field} include {name!r}, a name generated threads may take "
                f"(they are named 'A' to 'Z'); use lower-case names such as 'x' or 'l'"
            )
    if len(set(names)) != len(names):
        raise InvalidArgument(f"scenarios(): {field} must be distinct, got {list(names)!r}")
    return tuple(names)


def _object_kinds(objects: object) -> tuple[str, ...]:
    kinds = OBJECT_KINDS if objects == "all" else objects
    if isinstance(kinds, str) or not isinstance(kinds, Sequence) or any(kind not in OBJECT_KINDS for kind in kinds):
        raise InvalidArgument(
            f"scenarios(): objects must be 'all' or a list of the kinds {list(OBJECT_KINDS)}; got {objects!r}")
    return tuple(dict.fromkeys(kinds))


def _lock_kinds(lock_kinds: object) -> tuple[str, ...]:
    kinds = (lock_kinds,) if isinstance(lock_kinds, str) else lock_kinds
    if (not isinstance(kinds, Sequence) or not kinds
            or any(not isinstance(kind, str) or kind not in LOCK_KINDS for kind in kinds)):
        raise InvalidArgument(
            f"scenarios(): lock_kinds must be one of {list(LOCK_KINDS)} or a non-empty list of "
            f"them to draw each lock's kind from; got {lock_kinds!r}"
        )
    return tuple(dict.fromkeys(kinds))
