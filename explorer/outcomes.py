"""Read-only, hashable mappings for final states and outcomes.

>>> from explorer import State
>>> s = State({"x": 1, "y": 2})
>>> s["x"], dict(s), s == {"x": 1, "y": 2}, str(s)
(1, {'x': 1, 'y': 2}, True, 'x=1, y=2')
"""

from __future__ import annotations

import cmath
import dataclasses
import decimal
import math
import operator
from collections.abc import Iterator, Mapping

from ._text import shown
from .objects.base import HIDDEN

__all__ = ["Outcome", "State"]

_ONE_TYPE = frozenset({int, str, type(None)})  # two equal values of these are of one type


def outcome_key(values: tuple, returns: tuple) -> tuple:
    """An execution's final values and returns as a key that tells apart what ``==`` merges
    and merges what it tells apart: ``(values, returns)``, with each value's shape after
    them where one is not an int, a string or None (``1``, ``True`` and ``1.0`` are equal,
    print apart, and are three outcomes; so are ``0.0`` and ``-0.0``), and every NaN as
    one NaN (each run makes its own, and NaN is not even equal to itself)."""
    if _ONE_TYPE.issuperset(map(type, values)) and _ONE_TYPE.issuperset(map(type, returns)):
        return (values, returns)
    values, returns = tuple(map(_one_nan, values)), tuple(map(_one_nan, returns))
    return (values, returns, tuple(map(_shape, values + returns)))


_NAN = float("nan")
_NEGATIVE_NAN = -_NAN
_OTHER_NANS: dict[tuple, object] = {}  # (complex or Decimal, repr) -> the one NaN of that repr
_NAN_HOLDERS: dict[tuple, object] = {}  # (frozen dataclass, its fields' values) -> the one such value


def _one_nan(value: object) -> object:
    """``value`` with each NaN in it (or in its tuples, frozensets, named tuples and frozen
    dataclasses) replaced by a shared NaN object, by sign: two NaNs are then one value to
    a dict. ``value`` itself where it holds none."""
    cls = value.__class__
    if cls is float:
        if not math.isnan(value):
            return value
        return _NAN if math.copysign(1.0, value) > 0 else _NEGATIVE_NAN
    if cls is tuple:
        return tuple(map(_one_nan, value))
    if cls is frozenset:
        return frozenset(map(_one_nan, value))
    if cls is complex or cls is decimal.Decimal:
        if not (cmath.isnan(value) if cls is complex else value.is_nan()):
            return value
        return _OTHER_NANS.setdefault((cls, repr(value)), value)
    if isinstance(value, tuple) and hasattr(cls, "_make"):  # a named tuple
        items = tuple(map(_one_nan, value))
        if all(map(operator.is_, items, value)):
            return value
        try:
            return cls._make(items)
        except Exception:  # noqa: BLE001 - a _make of its own that refuses: keep the value as it is
            return value
    fields = _compared_fields(cls)
    if fields:
        changed = {}
        for name in fields:
            item = getattr(value, name)
            shared = _one_nan(item)
            if shared is not item:
                changed[name] = shared
        if changed:
            try:
                shared = dataclasses.replace(value, **changed)
            except Exception:  # noqa: BLE001 - an __init__ or __post_init__ that refuses
                return value
            # One object for each such value: from 3.13 a dataclass's ``==`` compares its
            # fields one by one (NaN == NaN is False), not as tuples do, by identity first;
            # it still says True for the object itself.
            try:
                return _NAN_HOLDERS.setdefault((cls, *(getattr(shared, name) for name in fields)), shared)
            except TypeError:  # a field that cannot be hashed: the value stays its own
                return shared
    return value


def _shape(value: object) -> object:
    """What of ``value`` its equality leaves out: its type, a float's sign, and the same for
    what a tuple, a frozenset, a named tuple or a frozen dataclass holds."""
    cls = value.__class__
    if cls is float:
        return (float, math.copysign(1.0, value))
    if cls is complex:
        return (complex, math.copysign(1.0, value.real), math.copysign(1.0, value.imag))
    if cls is tuple:
        return (tuple, *map(_shape, value))
    if cls is frozenset:
        return (frozenset, frozenset((item, _shape(item)) for item in value))
    if isinstance(value, tuple) and hasattr(cls, "_make"):
        return (cls, *map(_shape, value))
    fields = _compared_fields(cls)
    if fields:
        return (cls, *(_shape(getattr(value, name)) for name in fields))
    return cls


def _compared_fields(cls: type) -> tuple[str, ...]:
    """The fields ``==`` compares of a frozen dataclass with the ``__eq__`` the decorator
    wrote; () for any other class (its ``==`` is its own)."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or not params.eq:
        return ()
    return tuple(field.name for field in dataclasses.fields(cls) if field.compare)


class State(Mapping):
    """A final shared state: variable name -> value, immutable and hashable.

    Equal to any mapping with the same items, so ``state == {"x": 1}`` works;
    keys keep the scenario's declaration order. Two states are one only with values of
    the same types (and float signs), as a program tells them apart: ``State(x=1)``,
    ``State(x=True)`` and ``State(x=1.0)`` are three final states, each counted apart,
    while ``State(x=1) == {"x": 1.0}``. Every NaN is one value here.
    """

    __slots__ = ("_hash", "_names", "_values")

    def __init__(self, items: Mapping[str, object] | None = None, /, **kwargs: object) -> None:
        items = dict(items or {}, **kwargs)
        self._init(tuple(items), tuple(items.values()))

    @classmethod
    def _from(cls, names: tuple[str, ...], values: tuple) -> State:
        made = cls.__new__(cls)
        if len(names) != len(values) or any(value is HIDDEN for value in values):
            # a plain program's run: attributes it never set (or set in other runs only) are absent
            pairs = [(name, value) for name, value in zip(names, values) if value is not HIDDEN]
            names, values = tuple(name for name, _ in pairs), tuple(value for _, value in pairs)
        made._init(names, values)
        return made

    def _init(self, names: tuple[str, ...], values: tuple) -> None:
        if not _ONE_TYPE.issuperset(map(type, values)):
            values = tuple(map(_one_nan, values))  # each run's NaN is another object
        self._names = names
        self._values = values
        self._hash = hash(frozenset(zip(names, values)))

    def __getitem__(self, name: str) -> object:
        try:
            return self._values[self._names.index(name)]
        except ValueError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, State):
            # two final states are one only if their values are of the same types too
            # (``State(x=1) != State(x=True)``); against a plain mapping, ``==`` decides
            if self._hash != other._hash:
                return False
            mine, theirs = dict(self.items()), dict(other.items())
            return mine == theirs and all(
                value is theirs[name] or _shape(value) == _shape(theirs[name]) for name, value in mine.items())
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        if all(name.isidentifier() for name in self._names):
            return f"{type(self).__name__}({', '.join(f'{n}={shown(v)}' for n, v in self.items())})"
        return f"{type(self).__name__}({dict(self.items())!r})"

    def __str__(self) -> str:
        return ", ".join(f"{name}={shown(value)}" for name, value in self.items())

    def __reduce__(self):
        return (type(self)._from, (self._names, self._values))


class Outcome(State):
    """A final state together with every thread's return value, jcstress style.

    ``outcome["x"]`` is a variable, ``outcome["A"]`` thread A's return value
    (``None`` if it returned nothing); ``outcome.state`` and ``outcome.returns``
    split the two.
    """

    __slots__ = ("_split",)

    @classmethod
    def _of(cls, state: State, threads: tuple[str, ...], returns: tuple) -> Outcome:
        """``returns`` lines up with ``threads``; a thread not started in the run, or a pool's
        worker, has ``HIDDEN`` there and is left out."""
        if len(threads) != len(returns) or HIDDEN in returns:
            pairs = [(name, value) for name, value in zip(threads, returns) if value is not HIDDEN]
            threads, returns = tuple(name for name, _ in pairs), tuple(value for _, value in pairs)
        made = cls.__new__(cls)
        made._init(state._names + threads, state._values + returns)
        made._split = len(state._names)
        return made

    def __init__(self, state: Mapping[str, object], returns: Mapping[str, object]) -> None:
        state = State(state)
        returns = dict(returns)
        self._init(state._names + tuple(returns), state._values + tuple(returns.values()))
        self._split = len(state)

    @property
    def state(self) -> State:
        return State._from(self._names[: self._split], self._values[: self._split])

    @property
    def returns(self) -> State:
        return State._from(self._names[self._split :], self._values[self._split :])

    def __reduce__(self):
        return (Outcome, (dict(self.state), dict(self.returns)))
