"""A scenario: shared variables, locks, and the threads that use them.

>>> from explorer import Scenario, read, write
>>> def increment():
...     value = yield read("x")
...     yield write("x", value + 1)
>>> Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})
Scenario('counter', variables={'x': 0}, locks={}, threads=['A', 'B'])
"""

from __future__ import annotations

import sys
from decimal import Decimal
from collections.abc import Callable, Mapping
from types import MappingProxyType, ModuleType

from ._text import shown
from .errors import ScenarioError, ScenarioTypeError
from .expect import Expect
from .objects import Declaration, LockDeclaration

__all__ = ["LOCK_KINDS", "Scenario"]

#: The lock kinds a scenario may declare, named after the ``threading`` class each models.
LOCK_KINDS = ("lock", "rlock")


class Scenario:
    """A named concurrency scenario, validated once when it is made.

    ``variables`` maps each shared variable to its initial value; values must be
    hashable, because final states are counted by value (use a tuple, not a list).
    ``locks`` maps each lock to ``"lock"`` (``threading.Lock``) or ``"rlock"``
    (``threading.RLock``); a list or tuple of names declares plain locks.
    ``objects`` maps names to the other kinds of shared object (:mod:`explorer.objects`):
    ``Semaphore(2)``, ``BoundedSemaphore(1)``, ``Condition("lock")``, ``Event()``,
    ``Barrier(3)``, ``Queue(maxsize=2)``, ``ThreadPool(max_workers=2)``; with
    ``spurious_wakeups=True`` a condition's wait may also return without a notify, as
    Python's documentation allows.
    ``threads`` maps each thread's name to a zero-argument callable that returns a
    generator yielding steps; ``functools.partial`` and lambdas supply arguments.
    Threads are scheduled in the order given here wherever an order is needed.
    ``invariant(state)`` is checked on every final state and ``check(outcome)`` on
    every outcome (state plus return values); returning false or raising
    ``AssertionError`` makes an ``invariant`` finding. ``expect`` states what the
    scenario teaches (:class:`explorer.Expect`); ``pytest`` checks it for every scenario
    in the files it is given.
    """

    __slots__ = ("check", "declarations", "expect", "invariant", "locks", "name", "objects", "source",
                 "spurious_wakeups", "threads", "variables")

    def __init__(
        self,
        name: str,
        *,
        threads: Mapping[str, Callable[[], object]],
        variables: Mapping[str, object] | None = None,
        locks: Mapping[str, str] | list[str] | tuple[str, ...] | None = None,
        invariant: Callable[[Mapping[str, object]], bool] | None = None,
        check: Callable[[Mapping[str, object]], bool] | None = None,
        expect: Expect | None = None,
        objects: Mapping[str, Declaration] | None = None,
        spurious_wakeups: bool = False,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ScenarioTypeError(
                f"Scenario name must be a non-empty string, got {name!r}; "
                f"the name appears in every report, so make it say what the scenario shows"
            )
        self.name = name
        where = f"Scenario {name!r}"
        variables = _as_mapping(where, "variables", {} if variables is None else variables)
        for var, value in variables.items():
            _check_name(where, "variable", var)
            _check_value(where, var, value)
        self.variables = MappingProxyType(dict(variables))
        self.locks = MappingProxyType(_lock_kinds(where, locks))
        objects = _as_mapping(where, "objects", {} if objects is None else objects)
        for obj, declaration in objects.items():
            _check_name(where, "object", obj)
            if not isinstance(declaration, Declaration):
                raise ScenarioTypeError(
                    f"{where}: object {obj!r} is declared as {shown(declaration)}; objects= takes "
                    f"explorer's declarations, such as Semaphore(2), Condition('lock'), Event(), "
                    f"Barrier(3), Queue(maxsize=2) or ThreadPool(max_workers=2)")
        self.objects = MappingProxyType(dict(objects))
        declarations: dict[str, Declaration] = {
            lock: LockDeclaration(kind == "rlock") for lock, kind in self.locks.items()}
        declarations.update(objects)
        self.declarations = MappingProxyType(declarations)
        for obj, declaration in objects.items():
            declaration.check(obj, declarations, where)
        if not isinstance(spurious_wakeups, bool):
            raise ScenarioTypeError(f"{where}: spurious_wakeups must be True or False, got {spurious_wakeups!r}")
        self.spurious_wakeups = spurious_wakeups
        threads = _as_mapping(where, "threads", threads)
        if not threads:
            raise ScenarioError(
                f"{where} has no threads; give at least one, e.g. threads={{'A': body}} "
                f"where body is a generator function"
            )
        for thread, body in threads.items():
            _check_name(where, "thread", thread)
            if not callable(body):
                raise ScenarioTypeError(
                    f"{where}: thread {thread!r} is {body!r}, which is not callable. Give the "
                    f"generator function itself (threads={{{thread!r}: increment}}), not the "
                    f"result of calling it; use functools.partial or a lambda for arguments."
                )
        self.threads = MappingProxyType(dict(threads))
        for field, predicate in (("invariant", invariant), ("check", check)):
            if predicate is not None and not callable(predicate):
                raise ScenarioTypeError(
                    f"{where}: {field} must be a function taking the final "
                    f"{'state' if field == 'invariant' else 'outcome'} and returning True when it is "
                    f"acceptable, got {predicate!r}"
                )
        self.invariant = invariant
        self.check = check
        if expect is not None and not isinstance(expect, Expect):
            raise ScenarioTypeError(
                f"{where}: expect must be an explorer.Expect, such as Expect(findings=set()) for "
                f"'no findings', got {expect!r}")
        self.expect = expect
        _check_distinct(where, self)
        caller = sys._getframe(1)
        self.source = f"{caller.f_code.co_filename}:{caller.f_lineno}"

    @property
    def thread_names(self) -> tuple[str, ...]:
        return tuple(self.threads)

    def __repr__(self) -> str:
        objects = f"objects={dict(self.objects)!r}, " if self.objects else ""
        return (
            f"Scenario({self.name!r}, variables={dict(self.variables)!r}, "
            f"locks={dict(self.locks)!r}, {objects}threads={list(self.threads)!r})"
        )

    def __setattr__(self, attr: str, value: object) -> None:
        if hasattr(self, "source"):
            raise AttributeError(f"a Scenario is read-only once made; build a new one to change {attr!r}")
        object.__setattr__(self, attr, value)

    def __reduce__(self):
        """Pickled field by field (a parallel exploration sends scenarios to its workers),
        read-only mappings as dicts."""
        fields = {}
        for cls in type(self).__mro__:
            for attr in getattr(cls, "__slots__", ()):
                if hasattr(self, attr) and attr not in fields:
                    value = getattr(self, attr)
                    fields[attr] = (True, dict(value)) if isinstance(value, MappingProxyType) else (False, value)
        return _unpickled, (type(self), fields)


def _unpickled(cls: type, fields: dict) -> Scenario:
    scenario = object.__new__(cls)
    for attr, (proxied, value) in fields.items():
        object.__setattr__(scenario, attr, MappingProxyType(value) if proxied else value)
    return scenario


def _as_mapping(where: str, field: str, value: object) -> Mapping:
    if not isinstance(value, Mapping):
        raise ScenarioTypeError(
            f"{where}: {field} must be a dict mapping names to values, got "
            f"{type(value).__name__} {value!r}"
        )
    return value


def _check_name(where: str, what: str, name: object) -> None:
    if not isinstance(name, str) or not name:
        raise ScenarioTypeError(
            f"{where}: every {what} name must be a non-empty string, got {name!r} "
            f"({type(name).__name__}); steps refer to {what}s by these names"
        )


def compared_by_identity(value: object) -> bool:
    """Whether ``value`` is an object whose class has no ``==`` of its own (a ``__hash__`` of
    its own does not make it a value) and whose attributes can change: no value, since each
    run that makes one makes another, unequal to the last (the engine and the tallies refuse
    such values in states too)."""
    kind = type(value)
    return (kind.__eq__ is object.__eq__ and hasattr(value, "__dict__")
            and not callable(value) and not isinstance(value, ModuleType))


def _check_value(where: str, var: str, value: object) -> None:
    """An initial value must be hashable and compare by value: explorer never copies it."""
    try:
        hash(value)
    except Exception as exc:  # noqa: BLE001 - a user's __hash__ may raise anything
        problem = "is not hashable" if isinstance(exc, TypeError) else f"fails to hash ({type(exc).__name__})"
        raise ScenarioTypeError(
            f"{where}: variable {var!r} starts as {shown(value)} (class {type(value).__name__}), "
            f"which {problem}. Explorer counts final states by value, so shared "
            f"values must be hashable and never mutated in place: use a tuple instead "
            f"of a list, a frozenset instead of a set."
        ) from None
    kind = type(value)
    if compared_by_identity(value):
        raise ScenarioTypeError(
            f"{where}: variable {var!r} starts as {shown(value)}, an object of class {kind.__name__} "
            f"compared by identity whose attributes can change. Every execution starts from this same object "
            f"(explorer never copies values), so a change made in one execution would leak into the "
            f"next, and equal states would not count as equal: use a frozen dataclass "
            f"(@dataclass(frozen=True)), a namedtuple or a tuple, and write a new value instead of "
            f"changing it in place."
        )
    try:
        equal = bool(value == value)  # noqa: PLR0124 - the comparison itself is what is checked
    except Exception as exc:  # noqa: BLE001 - a user's __eq__ (or its result's __bool__) may raise anything
        raise ScenarioTypeError(
            f"{where}: variable {var!r} starts as {shown(value)} (class {kind.__name__}), whose == raised "
            f"{type(exc).__name__}. Explorer counts final states by value, so shared values must equal "
            f"themselves and compare without raising."
        ) from None
    if not equal and not isinstance(value, (float, complex, Decimal)):  # NaN: one value, as in final states
        raise ScenarioTypeError(
            f"{where}: variable {var!r} starts as {shown(value)} (class {kind.__name__}), which is not equal "
            f"to itself. Explorer counts final states by value, so shared values must equal themselves."
        )


def _lock_kinds(where: str, locks: object) -> dict[str, str]:
    if locks is None:
        return {}
    if isinstance(locks, (list, tuple)):
        for lock in locks:
            _check_name(where, "lock", lock)
        if len(set(locks)) != len(locks):
            raise ScenarioError(f"{where}: lock names must be distinct, got {list(locks)!r}")
        return {lock: "lock" for lock in locks}
    locks = _as_mapping(where, "locks", locks)
    kinds = {}
    for lock, kind in locks.items():
        _check_name(where, "lock", lock)
        normal = kind.lower() if isinstance(kind, str) else kind
        if normal not in LOCK_KINDS:
            raise ScenarioError(
                f"{where}: lock {lock!r} has kind {kind!r}; the kinds are 'lock' "
                f"(threading.Lock, not re-entrant) and 'rlock' (threading.RLock, re-entrant)"
            )
        kinds[lock] = normal
    return kinds


def _a(what: str) -> str:
    return f"an {what}" if what[0] in "aeiou" else f"a {what}"


def _check_distinct(where: str, scenario: Scenario) -> None:
    seen: dict[str, str] = {}
    for what, names in (("variable", scenario.variables), ("lock", scenario.locks),
                        ("object", scenario.objects), ("thread", scenario.threads)):
        for name in names:
            if name in seen:
                raise ScenarioError(
                    f"{where}: {name!r} names both {_a(seen[name])} and {_a(what)}. Give each "
                    f"variable, lock and thread its own name: outcomes and traces list them "
                    f"side by side."
                )
            seen[name] = what
