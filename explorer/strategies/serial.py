"""Running threads one after another, in a given order: the serial executions."""

from __future__ import annotations

from collections.abc import Sequence


class Unordered(Exception):  # noqa: N818 - a signal: no serial order covers this run
    """Only threads outside the order can run: threads started during the run, which
    a search cut short (a state budget) had not met when the orders were made."""


class Serial:
    """One execution that runs the first thread of ``order`` that can run, at every step.

    So each thread runs to its end before the next starts, unless it blocks on a
    lock no later thread will release (then the next one runs).
    """

    def __init__(self, order: Sequence[int]) -> None:
        self.order = tuple(order)
        self.started = False

    def begin(self) -> bool:
        if self.started:
            return False
        self.started = True
        return True

    def choose(self, enabled: list[int]) -> int:
        for thread in self.order:
            if thread in enabled:
                return thread
        raise Unordered

    def end(self) -> None:
        pass
