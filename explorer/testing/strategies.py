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

import numbers
import string
from collections.abc import Iterator, Sequence

from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from .._engine.execution import Execution as _Run
from .._engine.program import Program
from ..errors import InvalidArgument
from ..explore import replay
from ..results import Execution
from ..scenario import LOCK_KINDS, Scenario
from ..steps import acquire, read, release, write

__all__ = ["StraightLine", "executions", "scenarios", "schedules"]

#: Generated threads are named "A", "B", ... in order, so there are at most 26 of them.
THREAD_NAMES = tuple(string.ascii_uppercase)

#: The constants a generated write adds to the value its thread last read.
DEFAULT_VALUES = st.integers(-2, 2)

#: "One more step (or thread)?": yes two times in three, so threads are not mostly one
#: step long; shrinks to no.
_ONE_MORE = st.integers(0, 2).map(bool)

_SHORT = {"read": "r", "write": "w", "acquire": "acq", "release": "rel"}


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
    """

    __slots__ = ("ops",)

    def __init__(self, ops: Sequence[tuple]) -> None:
        self.ops = tuple(tuple(op) for op in ops)

    def __call__(self) -> Iterator:
        return self._run()

    def _run(self):
        register = 0
        for op in self.ops:
            kind = op[0]
            if kind == "read":
                register = yield read(op[1])
            elif kind == "write":
                yield write(op[1], register + op[2])
            elif kind == "acquire":
                yield acquire(op[1])
            else:
                yield release(op[1])
        return register

    def __str__(self) -> str:
        parts = []
        source = None  # the variable the register was last read from
        for op in self.ops:
            if op[0] == "read":
                source = op[1]
                parts.append(f"r {op[1]}")
            elif op[0] == "write":
                constant = op[2]
                if source is None:
                    value = str(constant)
                else:
                    value = source + (f"+{constant}" if constant > 0 else f"-{-constant}" if constant < 0 else "")
                parts.append(f"w {op[1]}={value}")
            else:
                parts.append(f"{_SHORT[op[0]]} {op[1]}")
        return ", ".join(parts) or "-"

    def __repr__(self) -> str:
        return f"StraightLine({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StraightLine) and other.ops == self.ops

    def __hash__(self) -> int:
        return hash(self.ops)


def scenarios(
    *,
    threads: int | range | SearchStrategy[int] = range(1, 4),
    max_steps_per_thread: int = 4,
    variables: Sequence[str] = ("x", "y"),
    locks: Sequence[str] = ("l", "m"),
    lock_kinds: str | Sequence[str] = LOCK_KINDS,
    well_nested: bool = False,
    values: SearchStrategy[int] = DEFAULT_VALUES,
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
    """
    thread_counts = _thread_counts(threads)
    steps = _positive_int("max_steps_per_thread", max_steps_per_thread)
    variables = _names("variables", variables)
    locks = _names("locks", locks)
    if not variables and not locks:
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
        bodies = {}
        for name in THREAD_NAMES[:count]:
            bodies[name] = StraightLine(_ops(draw, steps, variables, lock_kind, values, well_nested))
        program = " | ".join(f"{name}: {body}" for name, body in bodies.items())
        return Scenario(program, variables=dict.fromkeys(variables, 0), locks=lock_kind, threads=bodies)

    return scenario()


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
    names = program.thread_names
    alternatives = len(names) - 1  # the most threads a step can switch to

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


def _lock_kinds(lock_kinds: object) -> tuple[str, ...]:
    kinds = (lock_kinds,) if isinstance(lock_kinds, str) else lock_kinds
    if (not isinstance(kinds, Sequence) or not kinds
            or any(not isinstance(kind, str) or kind not in LOCK_KINDS for kind in kinds)):
        raise InvalidArgument(
            f"scenarios(): lock_kinds must be one of {list(LOCK_KINDS)} or a non-empty list of "
            f"them to draw each lock's kind from; got {lock_kinds!r}"
        )
    return tuple(dict.fromkeys(kinds))
