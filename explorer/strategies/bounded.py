"""Preemption bounding (CHESS): every schedule with at most k preemptions, each once.

A preemption is a switch away from a thread that could have continued. Most
concurrency bugs need very few (the lost update needs one), and the number of
schedules with at most k preemptions grows polynomially, not exponentially, with
the number of steps (Musuvathi and Qadeer, PLDI 2007).
"""

from __future__ import annotations

from .base import DepthFirst


class Bounded(DepthFirst):
    """Depth first over schedules with at most ``preemptions`` preemptions.

    At each point the first choice continues the running thread (no preemption) if
    it can, else the lowest enabled thread; the alternatives are the other enabled
    threads, each costing a preemption when the running thread could have continued.
    ``pruned`` counts alternatives skipped for the bound; when it stays 0 the search
    was exhaustive after all, and :attr:`incomplete_reason` is None.
    """

    __slots__ = ("bound", "branches", "choices", "done", "position", "pruned", "replaying", "spent")

    def __init__(self, preemptions: int, start: tuple | None = None) -> None:
        self.bound = preemptions
        self.choices: list[int] = []
        self.spent: list[int] = []  # preemptions used up to and including each step
        self.branches: list[list] = []  # [position, alternatives, tried, used before, cost]
        self.position = 0
        self.replaying = 0
        self.done = False
        self.pruned = 0
        if start is not None:  # a work unit of a parallel search: what split() handed back
            choices, spent, branches = start
            self.choices, self.spent = list(choices), list(spent)
            self.branches, self.replaying = [list(b) for b in branches], len(choices)

    @property
    def incomplete_reason(self) -> str | None:
        if not self.pruned:
            return None
        return (f"bounded to schedules with at most {self.bound} preemptions "
                f"({self.pruned} branches beyond the bound were not explored)")

    def choose(self, enabled: list[int]) -> int:
        position = self.position
        self.position = position + 1
        if position < self.replaying:
            return self.choices[position]
        last = self.choices[-1] if self.choices else None
        used = self.spent[-1] if self.spent else 0
        runs_on = last in enabled
        first = last if runs_on else enabled[0]
        others = [t for t in enabled if t != first]
        if others:
            cost = 1 if runs_on else 0
            if used + cost <= self.bound:
                self.branches.append([position, others, -1, used, cost])
            else:
                self.pruned += len(others)
        self.choices.append(first)
        self.spent.append(used)
        return first

    def end(self) -> None:
        branches = self.branches
        while branches:
            branch = branches[-1]
            position, others, tried, used, cost = branch
            tried += 1
            if tried < len(others):
                branch[2] = tried
                del self.choices[position:]
                del self.spent[position:]
                self.choices.append(others[tried])
                self.spent.append(used + cost)
                self.replaying = position + 1
                return
            branches.pop()
        self.done = True

    def split(self) -> list[tuple]:
        """Hand back what is left to explore, in exploration order, as starts of new
        searches (``Bounded(k, start)``), and stop: as :meth:`.Exhaustive.split`."""
        branches = self.branches
        if self.done:
            return []
        self.done = True
        cut = next((n for n, branch in enumerate(branches) if branch[2] + 1 < len(branch[1])), None)
        now = (tuple(self.choices[:self.replaying]), tuple(self.spent[:self.replaying]))
        if cut is None:
            return [now + (tuple(tuple(b) for b in branches),)]
        position, others, tried, used, cost = branches[cut]
        here = [list(b) for b in branches]
        here[cut][1] = others[:tried + 1]
        starts = [now + (tuple(tuple(b) for b in here),)]
        prefix, spent = tuple(self.choices[:position]), tuple(self.spent[:position])
        starts += [(prefix + (thread,), spent + (used + cost,), ()) for thread in others[tried + 1:]]
        return starts

    def counters(self) -> dict:
        """What a unit of a parallel search adds to the whole search's figures."""
        return {"pruned": self.pruned}

    def absorb(self, counters: dict) -> None:
        self.pruned += counters["pruned"]

