"""A step's objects as they were when it was taken, for comparing one run with the next.

An execution compares each event with the previous run's while both follow the same
schedule (execution.py): a thread that does something else given the same values is
nondeterministic. Most steps carry plain values, which compare as they are. But a
``spawn`` or ``submit`` may pass a thread a list or an object made afresh in every run
(``spawn("worker", worker, Account())``), a ``put`` may send one through a queue, and a
``get`` or ``result`` hands one back: such objects compare by identity (two runs'
``Account()`` are never equal), and a list given away may change after the step (the
parent appends to the log it gave its child), so the previous run's event no longer
shows what its step carried. Compared as they are, they made every run after the first
look nondeterministic.

:func:`as_taken` returns a step (or a value) whose such objects are replaced by
:class:`Taken`: their shape at this moment (the class by name, and the contents, an
object's attributes included) and their text, for traces. Two runs that pass equal
shapes take the same step. What is a value already (a number, a string, a function,
which steps compare by its code, a tuple of them) is kept as it is.
"""

from __future__ import annotations

from functools import partial

from .._text import SHOWN_LIMIT, shown
from ..steps import Op
from .frames import _ITERATORS, Opaque, value_token

#: Items that compare by value as they are.
_ATOMS = frozenset({str, int, bool, type(None), float, complex, bytes, range})
_DEPTH = 12  # deeper than this, a shape says only "deeper"


class Taken:
    """An object as a step carried it: equal to another with the same shape; shown as its
    text was then."""

    __slots__ = ("shape", "text")

    def __init__(self, shape: object, text: str) -> None:
        self.shape = shape
        self.text = text

    def __eq__(self, other: object) -> bool:
        return other.__class__ is Taken and self.shape == other.shape

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.shape)

    def __repr__(self) -> str:
        return self.text

    def __reduce__(self):
        return Taken, (self.shape, self.text)


def settled(item: object) -> bool:
    """Whether ``item`` compares between runs as it is (a value, a function, a tuple of them)."""
    cls = item.__class__
    if cls in _ATOMS or isinstance(item, (type, BaseException)) or hasattr(item, "__code__"):
        return True  # an exception: how the models' Raised and the cross-check compare it
    if cls is tuple:
        return all(settled(part) for part in item)
    if cls is partial:
        return settled(item.func) and settled(item.args) and not item.keywords
    if cls.__module__.startswith("explorer."):
        return True  # explorer's own records (plain code's object names) compare across runs
    if cls in _ITERATORS:
        return False  # a state key reads its position, but == compares it by identity
    try:
        value_token(item)  # a value all through: a frozenset, a frozen dataclass, a named tuple
    except Opaque:
        return False
    return True


def as_taken(item: object) -> object:
    """``item`` itself when it is :func:`settled`, else its :class:`Taken` record."""
    if settled(item):
        return item
    return Taken(_shape(item, 0, set()), _text(item))


def step_as_taken(step: Op) -> Op:
    """``step`` itself when every argument is :func:`settled`, else a copy that holds the
    unsettled ones as :class:`Taken`."""
    if all(settled(item) for item in step[2:]):
        return step
    return Op(step[0], step[1], *map(as_taken, step[2:]))


def _text(item: object, depth: int = 0) -> str:
    """How a trace shows ``item``: its repr, except that an object without a repr of its
    own shows its attributes, which tell two runs' objects apart (``<Account balance=1>``),
    in a tuple or list too."""
    cls = item.__class__
    if (cls is tuple or cls is list) and depth < 3 and len(item) <= 20:
        parts = [_text(part, depth + 1) for part in item]
        if cls is tuple:
            return _cut(f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})")
        return _cut(f"[{', '.join(parts)}]")
    attributes = getattr(item, "__dict__", None)
    if cls.__repr__ is object.__repr__ and isinstance(attributes, dict) and attributes:
        inside = " ".join(f"{name}={shown(value, 40)}" for name, value in list(attributes.items())[:8])
        return f"<{cls.__qualname__} {inside}{' ...' if len(attributes) > 8 else ''}>"
    return shown(item)


def _cut(text: str) -> str:
    if len(text) <= SHOWN_LIMIT:
        return text
    tail = f"...<{len(text):,} characters>"
    return text[:SHOWN_LIMIT - len(tail)] + tail


def _shape(item: object, depth: int, within: set) -> object:
    cls = item.__class__
    if cls is str or cls is int or cls is bool or item is None:
        return item
    if cls in _ATOMS:
        return (cls.__name__, repr(item))  # nan compares unequal to itself; its text does not
    name = f"{cls.__module__}.{cls.__qualname__}"  # not the class: it may travel between processes
    if isinstance(item, type):
        return ("class", f"{item.__module__}.{item.__qualname__}")
    code = getattr(item, "__code__", None)
    if code is not None:
        return ("function", getattr(item, "__module__", None), getattr(item, "__qualname__", name))
    if depth >= _DEPTH or id(item) in within:
        return (name, "...")
    within.add(id(item))
    try:
        if isinstance(item, partial):
            return (name, _shape(item.func, depth + 1, within), _shape(item.args, depth + 1, within),
                    _shape(item.keywords, depth + 1, within))
        if cls in _ITERATORS:  # where it stands over what it walks
            return (name, _shape(item.__reduce__()[1:], depth + 1, within))
        if isinstance(item, dict):
            return (name, tuple((_shape(key, depth + 1, within), _shape(value, depth + 1, within))
                                for key, value in list(item.items())))
        if isinstance(item, (set, frozenset)):
            return (name, frozenset(_shape(part, depth + 1, within) for part in list(item)))
        if isinstance(item, (tuple, list)) or cls.__name__ == "deque":
            return (name, tuple(_shape(part, depth + 1, within) for part in list(item)))
        attributes = getattr(item, "__dict__", None)
        if isinstance(attributes, dict):
            return (name, _shape(attributes, depth + 1, within))
        slots = [slot for kind in cls.__mro__ for slot in _names(kind.__dict__.get("__slots__", ()))
                 if slot not in ("__dict__", "__weakref__")]
        if slots:
            return (name, tuple(_shape(getattr(item, slot, None), depth + 1, within) for slot in slots))
        return (name,)  # a lock, a generator: by its class only
    except Exception:  # noqa: BLE001 - a user's container may refuse to be iterated
        return (name, "?")
    finally:
        within.discard(id(item))


def _names(slots: object) -> tuple:
    return (slots,) if isinstance(slots, str) else tuple(slots)
