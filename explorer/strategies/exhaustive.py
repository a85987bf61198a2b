"""Depth-first enumeration of every schedule: the reference every other strategy must match."""

from __future__ import annotations

from .base import DepthFirst


class Exhaustive(DepthFirst):
    """Tries every enabled thread at every point, depth first, lowest thread first.

    Each execution replays the previous one's choices up to the deepest point
    with an untried alternative, then takes that alternative, then the lowest
    enabled thread from there on. Only points with two or more enabled threads
    are remembered, so forced steps cost one comparison.
    """

    __slots__ = ("branches", "choices", "done", "position", "replaying")

    def __init__(self, start: tuple | None = None) -> None:
        self.choices: list[int] = []  # the thread chosen at each step of the current execution
        self.branches: list[list] = []  # [position, enabled, index tried] per branch point, by depth
        self.position = 0
        self.replaying = 0  # how many leading choices to copy from ``choices``
        self.done = False
        if start is not None:  # a work unit of a parallel search: what split() handed back
            choices, branches = start
            self.choices, self.branches, self.replaying = list(choices), [list(b) for b in branches], len(choices)

    def choose(self, enabled: list[int]) -> int:
        position = self.position
        self.position = position + 1
        if position < self.replaying:
            return self.choices[position]
        if len(enabled) > 1:
            self.branches.append([position, enabled, 0])
        thread = enabled[0]
        self.choices.append(thread)
        return thread

    def end(self) -> None:
        branches = self.branches
        while branches:
            branch = branches[-1]
            position, enabled, tried = branch
            tried += 1
            if tried < len(enabled):
                branch[2] = tried
                del self.choices[position:]
                self.choices.append(enabled[tried])
                self.replaying = position + 1
                return
            branches.pop()
        self.done = True

    def split(self) -> list[tuple]:
        """Hand back what is left to explore, in exploration order, as starts of new
        searches (``Exhaustive(start)``), and stop: between executions only.

        The first start goes on from here, within the current branch of the shallowest
        point with untried alternatives; each of those alternatives follows as a start of
        its own, its prefix forced. Few starts, and the big subtrees among them.
        """
        branches = self.branches
        if self.done:
            return []
        self.done = True
        cut = next((n for n, (_position, enabled, tried) in enumerate(branches) if tried + 1 < len(enabled)),
                   None)
        if cut is None:  # only the next execution's branch is left, and what lies below it
            return [(tuple(self.choices[:self.replaying]), tuple(tuple(b) for b in branches))]
        position, enabled, tried = branches[cut]
        here = [list(b) for b in branches]
        here[cut][1] = enabled[:tried + 1]  # its later alternatives are handed out below
        starts = [(tuple(self.choices[:self.replaying]), tuple(tuple(b) for b in here))]
        prefix = tuple(self.choices[:position])
        starts += [(prefix + (thread,), ()) for thread in enabled[tried + 1:]]
        return starts

