"""The contract between the search loop and a strategy."""

from __future__ import annotations

from typing import Protocol


class Strategy(Protocol):
    """Decides the order threads run in, one execution at a time.

    The search loop calls ``begin()`` before each execution; ``False`` means the
    strategy has nothing left to explore. During the execution it calls
    ``choose(enabled)`` before every step: ``enabled`` lists the indices of the
    threads that can run now, in thread order, and is never empty; the strategy
    returns one of them. ``end()`` follows each execution, whether it completed,
    deadlocked or failed.

    Executions are deterministic: the same choices from the start give the same
    enabled sets (the engine checks this and reports nondeterminism otherwise).

    A strategy whose ``needs_state`` is true is called as ``choose(enabled, state)``:
    ``state()`` returns an opaque hashable key of the current state, equal for two
    states only when everything explorer can observe from them on is equal (see
    ``explorer/_engine/state_keys.py``). It costs a little per call, so call it only
    where it is needed.

    A strategy may also have ``repeats(previous)``: called just before an execution
    (after ``begin()``), it says how many of its first choices are the previous
    execution's (at most ``previous``, the number of events that one had). The engine
    takes those threads itself, and the first ``choose`` call comes after them.
    """

    def begin(self) -> bool: ...

    def choose(self, enabled: list[int]) -> int: ...

    def end(self) -> None: ...


class DepthFirst:
    """What a depth-first search over schedules shares (exhaustive and bounded search):
    each execution replays the previous one's choices (``choices``) up to its deepest
    point with an untried alternative, then takes that alternative (``replaying`` is
    that point plus one)."""

    __slots__ = ()

    def begin(self) -> bool:
        self.position = 0
        return not self.done

    def repeats(self, previous: int) -> int:
        """How many leading choices of the coming execution are the last one's (whose
        ``previous`` events the engine has): it takes those threads without asking
        (``Execution.run``'s ``repeat``), and the first ``choose`` comes after them."""
        shared = min(self.replaying - 1, previous) if self.replaying else 0
        self.position = shared
        return shared


class Abandon(Exception):  # noqa: N818 - a signal, not an error
    """Raised by ``choose`` to give up the current execution: it can only repeat one
    already explored (the search counts it as pruned, not as an execution)."""
