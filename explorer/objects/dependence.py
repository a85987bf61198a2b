"""The dependence relation: which two steps of different threads do not commute.

It belongs to the objects: a step's *footprint* (``Declaration.footprint``) names the
objects it touches, and two steps are dependent exactly when they touch a common one,
except that two reads of a variable commute. DPOR, the witness shortening and the
state graph's notion of "the same trace" all take it from here.
"""

from __future__ import annotations

__all__ = ["dependence", "dependent", "touches_everything"]

_EVERYTHING = frozenset({"is_alive", "alive_threads", "end"})


def _timed_join(step: tuple) -> bool:
    return step[0] == "join" and len(step) > 2


def touches_everything(step: tuple) -> bool:
    """Whether a step is dependent with every step: what it sees is whether another thread
    has ended (``is_alive``, ``alive_threads``, a join with a timeout), or it ends the
    program (``end``)."""
    return step[0] in _EVERYTHING or _timed_join(step)


def dependent(a: tuple, b: tuple, footprint=None) -> bool:
    """Whether two steps of different threads do not commute.

    Two accesses of one variable are dependent unless both read; any other two steps
    are dependent when they touch a common object. ``footprint(step)`` names the
    objects a step touches (a condition's steps touch its lock too); by default a step
    touches just its target.

    >>> from explorer import read, write, acquire, release
    >>> dependent(read("x"), write("x", 1)), dependent(read("x"), read("x")), dependent(read("x"), write("y", 1))
    (True, False, False)
    >>> dependent(acquire("l"), release("l")), dependent(acquire("l"), acquire("m"))
    (True, False)
    """
    kind_a, kind_b = a[0], b[0]
    if kind_a in _EVERYTHING or kind_b in _EVERYTHING or _timed_join(a) or _timed_join(b):
        # what they see is whether another thread has ended, which no step of that thread
        # touches: they are dependent with every step (is_alive, a join with a timeout, and
        # a plain program's end, which stops its daemon threads wherever they are)
        return True
    access_a = kind_a == "read" or kind_a == "write"
    access_b = kind_b == "read" or kind_b == "write"
    if access_a and access_b:
        return a[1] == b[1] and (kind_a == "write" or kind_b == "write")
    if kind_a == "local" or kind_b == "local":
        return False
    if footprint is None:
        return a[1] == b[1]
    touched = (b[1],) if access_b else footprint(b)
    return any(name in touched for name in ((a[1],) if access_a else footprint(a)))


def dependence(footprint, everything=None):
    """:func:`dependent` for one program (its steps' ``footprint``), as one function of two
    steps: reads and writes decided inline, the hot case of every search. ``everything``,
    given, says of more steps that they are dependent with every step (under fair
    schedules, those that may yield: ``Program.touches_everything``)."""

    def dependent_here(a: tuple, b: tuple) -> bool:
        kind_a, kind_b = a[0], b[0]
        if (kind_a == "read" or kind_a == "write") and (kind_b == "read" or kind_b == "write"):
            return a[1] == b[1] and (kind_a == "write" or kind_b == "write")
        return dependent(a, b, footprint)

    if everything is None:
        return dependent_here

    def dependent_fairly(a: tuple, b: tuple) -> bool:
        return everything(a) or everything(b) or dependent_here(a, b)

    return dependent_fairly
