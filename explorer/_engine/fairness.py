"""Fair schedules (``explore(..., fair=True)``): a thread that yields lets the others run.

CHESS's fair scheduler (Musuvathi and Qadeer, "Fair stateless model checking", PLDI
2008), as loom's ``yield_now`` does it. A *yield* is a step after which time has passed
for its thread: a ``sleep``, or a timed step whose timeout fired (a model says so with
``run.gave_up(thread)``). Per thread ``t``:

- ``starved[t]``: the threads schedulable at every step since ``t``'s last yield (or
  since ``t`` started) that have taken no step since;
- ``owed[t]``: set from ``starved[t]`` (less ``t``) when ``t`` yields; a thread's step
  takes it out of every ``owed`` set.

``t`` is schedulable while no thread of ``owed[t]`` is enabled. So a thread that timed
out, and times out again while another thread could run and took no step, waits for
that one to step: a polling loop no longer starves the thread it polls for, and its
schedules end.

Why some thread is always schedulable when one is enabled: ``u`` in ``owed[t]`` means
``u`` has taken no step since ``t`` last yielded (a step takes it out), and ``u``'s own
last yield was a step of ``u``, so it came before ``t``'s. Along ``t -> u`` the times
of the last yields strictly fall, so the relation has no cycle, and the enabled thread
whose last yield is the earliest (or that never yielded, owing nobody) owes no enabled
thread. ``starved`` is taken from the schedulable set, not the enabled one, so that
``t`` owes ``u`` only if ``u`` was schedulable when ``t`` yielded (and at every step
before, back to ``t``'s previous yield): ``t`` never waits for a thread that fairness
itself held back.

Sets are bit masks over thread numbers; ``EVERY`` (-1, all bits) is the empty
intersection. The run's bookkeeping costs nothing unless ``fair`` is on.
"""

from __future__ import annotations

__all__ = ["EVERY", "Fairness"]

EVERY = -1


class Fairness:
    """One run's ``starved`` and ``owed`` masks, one entry per thread number."""

    __slots__ = ("born", "owed", "starved")

    def __init__(self, k: int) -> None:
        self.starved = [EVERY] * k
        self.owed = [0] * k
        self.born = 0  # the threads started by the step being executed

    def grow(self, k: int, started: int) -> None:
        """Thread ``started`` starts during the step being executed (of ``k`` threads now):
        it owes nobody, and its first stretch begins after that step."""
        more = k - len(self.owed)
        if more > 0:
            self.starved.extend([EVERY] * more)
            self.owed.extend([0] * more)
        self.owed[started] = 0
        self.born |= 1 << started

    def schedulable(self, enabled: list[int]) -> list[int]:
        """The enabled threads that owe no enabled thread (never empty when ``enabled`` is not)."""
        mask = 0
        for i in enabled:
            mask |= 1 << i
        owed = self.owed
        chosen = [i for i in enabled if not owed[i] & mask]
        assert chosen or not enabled, "[explorer internal bug] fairness held back every enabled thread"
        return chosen

    def stepped(self, schedulable: list[int], thread: int, yielded: bool) -> None:
        """``thread`` took a step, chosen from ``schedulable``; ``yielded``: time passed for it."""
        mask = 0
        for i in schedulable:
            mask |= 1 << i
        keep = ~(1 << thread)
        mask &= keep
        starved, owed = self.starved, self.owed
        for i in range(len(starved)):
            starved[i] &= mask
            owed[i] &= keep
        if self.born:
            for i in range(len(starved)):
                if self.born >> i & 1:
                    starved[i] = EVERY
            self.born = 0
        if yielded:
            owed[thread] = starved[thread]
            starved[thread] = EVERY

    def key(self) -> tuple:
        """Its part of a state key: what it still decides about the schedules ahead."""
        return tuple(self.starved), tuple(self.owed)
