"""Read-only, hashable mappings for final states and outcomes.

>>> from explorer import State
>>> s = State({"x": 1, "y": 2})
>>> s["x"], dict(s), s == {"x": 1, "y": 2}, str(s)
(1, {'x': 1, 'y': 2}, True, 'x=1, y=2')
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ._text import shown
from .objects.base import HIDDEN

__all__ = ["Outcome", "State"]


class State(Mapping):
    """A final shared state: variable name -> value, immutable and hashable.

    Equal to any mapping with the same items, so ``state == {"x": 1}`` works;
    keys keep the scenario's declaration order.
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
            return self._hash == other._hash and dict(self.items()) == dict(other.items())
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
