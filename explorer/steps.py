"""The step vocabulary: these are the only values a scenario may yield.

A thread body is a generator. Each ``yield`` hands the scheduler exactly one
step, which it executes atomically; the value sent back is the value read
(for :func:`read`) or ``None``. Python code between two yields runs atomically
together with the step before it.

>>> def increment():
...     value = yield read("x")
...     yield write("x", value + 1)
>>> read("x"), write("x", 1), acquire("l"), release("l")
(read('x'), write('x', 1), acquire('l'), release('l'))

Steps are immutable tuples tagged with their kind, so two steps are equal
exactly when they do the same thing. Anything else a thread yields is an
``error`` finding that names the thread, the step and the value.
"""

from __future__ import annotations

__all__ = ["Acquire", "Read", "Release", "Step", "Write", "acquire", "read", "release", "write"]


class Step(tuple):
    """Base of the four step types; ``step.kind`` and ``step.target`` name what it does."""

    __slots__ = ()

    @property
    def kind(self) -> str:
        return self[0]

    @property
    def target(self) -> str:
        """The variable or lock the step operates on."""
        return self[1]

    def __repr__(self) -> str:
        return f"{self[0]}({', '.join(map(repr, self[1:]))})"


class Read(Step):
    """Read a shared variable; the scheduler sends its current value back."""

    __slots__ = ()

    def __new__(cls, var: str) -> Read:
        return tuple.__new__(cls, ("read", var))


class Write(Step):
    """Write ``value`` to a shared variable."""

    __slots__ = ()

    def __new__(cls, var: str, value: object) -> Write:
        return tuple.__new__(cls, ("write", var, value))

    @property
    def value(self) -> object:
        return self[2]


class Acquire(Step):
    """Acquire a lock; the thread blocks while another thread holds it."""

    __slots__ = ()

    def __new__(cls, lock: str) -> Acquire:
        return tuple.__new__(cls, ("acquire", lock))


class Release(Step):
    """Release a lock the thread holds."""

    __slots__ = ()

    def __new__(cls, lock: str) -> Release:
        return tuple.__new__(cls, ("release", lock))


# Name-only steps are interned: a thread yields them at every step, and a dict
# lookup is far cheaper than building a tuple each time.
_reads: dict[str, Read] = {}
_acquires: dict[str, Acquire] = {}
_releases: dict[str, Release] = {}


def _check_name(function: str, what: str, name: object) -> None:
    if not isinstance(name, str):
        raise TypeError(
            f"{function}() takes the name of a {what} as a string, got {name!r} "
            f"({type(name).__name__}); write {function}('x') with the name you declared "
            f"in the Scenario"
        )


def read(var: str) -> Read:
    """The step that reads shared variable ``var``: ``value = yield read("x")``."""
    try:
        return _reads[var]
    except (KeyError, TypeError):
        _check_name("read", "shared variable", var)
        step = _reads[var] = Read(var)
        return step


def write(var: str, value: object) -> Write:
    """The step that writes ``value`` to shared variable ``var``: ``yield write("x", 1)``."""
    if var.__class__ is not str:
        _check_name("write", "shared variable", var)
    return Write(var, value)


def acquire(lock: str) -> Acquire:
    """The step that acquires ``lock``, blocking while another thread holds it."""
    try:
        return _acquires[lock]
    except (KeyError, TypeError):
        _check_name("acquire", "lock", lock)
        step = _acquires[lock] = Acquire(lock)
        return step


def release(lock: str) -> Release:
    """The step that releases ``lock``, which the thread must hold."""
    try:
        return _releases[lock]
    except (KeyError, TypeError):
        _check_name("release", "lock", lock)
        step = _releases[lock] = Release(lock)
        return step
