"""Final values that can be counted: a run's attributes and returns as hashable values
that compare by value and read like the originals.

A plain program's attributes hold lists, dicts, sets, other tracked objects and
threading objects; final states and outcomes are counted by value, so each is frozen
when its run completes: a list becomes a :class:`FrozenList` (shown ``[1, 2]``), a dict
a :class:`FrozenDict`, a set a ``frozenset``, a tracked or threading object its name
(``FakeDatabase#1``), and any other object compared by identity its class's name.
"""

from __future__ import annotations

from ..objects.base import HIDDEN

__all__ = ["FrozenDict", "FrozenList", "Named", "ObjectName", "freeze"]

_ATOMS = frozenset({int, float, str, bytes, bool, type(None), complex})


class FrozenList(tuple):
    """A list's items at the end of a run."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"[{', '.join(map(repr, self))}]"


class FrozenDict(tuple):
    """A dict's ``(key, value)`` items at the end of a run, in insertion order."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in self) + "}"


class Named(str):
    """An object that compares by identity, by the name explorer gave it (or its class's)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


class ObjectName(Named):
    """A threading object (or a future) written to an attribute, by its name: the value a
    ``write`` step carries, equal in every run (the object is another in each)."""

    __slots__ = ()


def freeze(value: object, runtime, depth: int = 0) -> object:
    kind = value.__class__
    if kind in _ATOMS or value is HIDDEN:
        return value
    if depth > 20:
        return Named(f"<{kind.__name__}>")
    if kind is list:
        return FrozenList(freeze(item, runtime, depth + 1) for item in value)
    if kind is tuple:
        return tuple(freeze(item, runtime, depth + 1) for item in value)
    if kind is dict:
        return FrozenDict((freeze(k, runtime, depth + 1), freeze(v, runtime, depth + 1)) for k, v in value.items())
    if kind is set or kind is frozenset:
        return frozenset(freeze(item, runtime, depth + 1) for item in value)
    name = runtime.name_of(value)
    if name is not None:
        return Named(name)
    try:
        hash(value)
    except Exception:  # noqa: BLE001 - unhashable: shown by class
        return Named(f"<{kind.__name__}>")
    if kind.__eq__ is object.__eq__:  # compared by identity: every run makes another
        return Named(f"<{kind.__name__}>")
    return value
