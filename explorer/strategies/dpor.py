"""Dynamic partial order reduction with sleep sets: one execution per Mazurkiewicz trace.

Two steps of different threads are *dependent* when they touch the same variable and
one writes, or take the same lock. Executions that differ only in the order of
independent steps are equivalent (one Mazurkiewicz trace), and every verdict explorer
gives (final states, deadlocks, lost updates, races, lock orders) is the same for all
of them, so one per trace is enough.

After each execution the strategy looks for *races*: a step and an earlier dependent
step of another thread with no other step ordered between them. For each, it makes
sure that one of the threads that can start the reversed order is tried just before
the earlier step (source sets, Abdulla, Aronis, Jonsson and Sagonas, POPL 2014; where
none of them can run there because of a held lock, every enabled thread is tried). Sleep sets (Godefroid 1996) keep each trace from being run twice: a thread
already explored at a point sleeps until a dependent step wakes it; an execution whose
every enabled thread sleeps is abandoned, counted as pruned, not as an execution.
Two acquires of one lock race (the one who gets the lock first may change); a release
and the acquire it lets through do not, since they cannot both be enabled.
"""

from __future__ import annotations

from .base import Abandon


def dependent(a: tuple, b: tuple) -> bool:
    """Whether two steps of different threads do not commute.

    >>> from explorer import read, write, acquire, release
    >>> dependent(read("x"), write("x", 1)), dependent(read("x"), read("x")), dependent(read("x"), write("y", 1))
    (True, False, False)
    >>> dependent(acquire("l"), release("l")), dependent(acquire("l"), acquire("m"))
    (True, False)
    """
    if a[1] != b[1]:
        return False
    kind_a, kind_b = a[0], b[0]
    if kind_a == "read" or kind_a == "write":
        return (kind_b == "read" or kind_b == "write") and (kind_a == "write" or kind_b == "write")
    return kind_b == "acquire" or kind_b == "release"


#: What a re-entrant acquire or release of a lock its thread holds is replaced by for the
#: race analysis: nobody else can touch the lock meanwhile, so it conflicts with nothing.
_LOCAL = ("local", None)


def _without_reentry(events: list[tuple[int, tuple]]) -> list[tuple[int, tuple]]:
    """``events`` with every re-entrant acquire and inner release made local.

    Follows who holds each lock as the engine does: any release of a plain Lock frees
    it, even by another thread (``threading`` allows that).
    """
    holder: dict[str, list] = {}  # lock -> [thread, depth]
    result = []
    for thread, step in events:
        kind = step[0]
        if kind == "acquire":
            held = holder.get(step[1])
            if held is not None and held[0] == thread:
                held[1] += 1
                step = _LOCAL
            else:
                holder[step[1]] = [thread, 1]
        elif kind == "release":
            held = holder.get(step[1])
            if held is not None and held[0] == thread and held[1] > 1:
                held[1] -= 1
                step = _LOCAL
            else:
                holder.pop(step[1], None)
        result.append((thread, step))
    return result


class _Point:
    """One step of the current execution: what could run, what ran, and what is left to try."""

    __slots__ = ("backtrack", "chosen", "done", "enabled", "fatal", "pending", "sleep")

    def __init__(self, enabled: list[int], pending: dict[int, tuple], chosen: int, sleep: frozenset) -> None:
        self.enabled = enabled
        self.pending = pending  # the step each enabled thread would take here
        self.chosen = chosen
        self.backtrack = {chosen}
        self.done: set[int] = set()
        self.fatal: set[int] = set()  # threads whose step here ended their execution (it failed)
        self.sleep = sleep


class DPOR:
    """Depth first over one execution per Mazurkiewicz trace (see the module docstring).

    ``choose`` also receives the engine's pending steps (``needs_pending``): which
    step each thread would take next, the only thing it needs to know about them.
    """

    needs_pending = True
    incomplete_reason = None

    def __init__(self) -> None:
        self.ended: str | None = None  # how the last execution ended; the search sets it
        self.points: list[_Point] = []
        self.replay = 0  # leading points whose choice is replayed as it is
        self.position = 0
        self.finished = False
        self.pending_now: list | None = None
        self.pruned = 0

    def begin(self) -> bool:
        self.position = 0
        return not self.finished

    def choose(self, enabled: list[int], pending: list) -> int:
        position = self.position
        self.position = position + 1
        self.pending_now = pending
        if position < self.replay:
            return self.points[position].chosen
        sleep = self._sleep_after(position)
        awake = [t for t in enabled if t not in sleep]
        if not awake:
            self.pruned += 1
            raise Abandon
        last = self.points[position - 1].chosen if position else None
        chosen = last if last in awake else awake[0]
        self.points.append(_Point(list(enabled), {t: pending[t] for t in enabled}, chosen, sleep))
        return chosen

    def _sleep_after(self, position: int) -> frozenset:
        """The sleeping threads at ``position``: those asleep or done before the last step
        whose pending step is independent of it."""
        if position == 0:
            return frozenset()
        before = self.points[position - 1]
        taken = before.pending[before.chosen]
        return frozenset(t for t in before.sleep | (before.done - before.fatal)
                         if t != before.chosen and not dependent(before.pending[t], taken))

    def end(self) -> None:
        executed = self.position if self.position <= len(self.points) else len(self.points)
        del self.points[executed:]
        failed = self.ended not in ("completed", "deadlocked", "abandoned")
        if failed and self.points:
            # A failing step ends the execution, so it conflicts with every other step: what
            # could have run instead is tried there, and the failing thread never sleeps.
            last = self.points[-1]
            last.fatal.add(last.chosen)
            last.backtrack.update(last.enabled)
        self._add_backtracking()
        points = self.points
        for index in range(len(points) - 1, -1, -1):
            point = points[index]
            point.done.add(point.chosen)
            left = sorted(point.backtrack - point.done - point.sleep)
            if left:
                point.chosen = left[0]
                del points[index + 1:]
                self.replay = index + 1
                return
            points.pop()
        self.finished = True

    def _add_backtracking(self) -> None:
        """Source-DPOR (Abdulla, Aronis, Jonsson, Sagonas, POPL 2014): for each race, make
        sure some thread that can start the reversed order is tried where the race began."""
        points = self.points
        events = _without_reentry([(p.chosen, p.pending[p.chosen]) for p in points])
        after: list[int] = []  # bitmask of the events that happen before each event
        last_of: dict[int, int] = {}
        for j, (thread, step) in enumerate(events):
            after.append(self._happens_before(events, j, thread, step, after, last_of))
            last_of[thread] = j
        for j, (thread, step) in enumerate(events):
            self._races_of(events, after, j, thread, step, after[j])
        pending = self.pending_now
        if pending is None:
            return
        for thread, step in enumerate(pending):  # steps left waiting when the execution ended
            if step is not None:
                before = self._happens_before(events, len(events), thread, step, after, last_of)
                self._races_of(events, after, len(events), thread, step, before)

    @staticmethod
    def _happens_before(events, j, thread, step, after, last_of, skip_lock: str | None = None) -> int:
        """The events before ``j`` that happen before it; with ``skip_lock``, ignoring the
        direct ordering through that lock by other threads (to see what else orders them)."""
        mask = 0
        previous = last_of.get(thread)
        if previous is not None:
            mask |= after[previous] | (1 << previous)
        for i in range(j):
            other, earlier = events[i]
            if other == thread or (mask >> i) & 1 or not dependent(earlier, step):
                continue
            if skip_lock is not None and earlier[1] == skip_lock and earlier[0] in ("acquire", "release"):
                continue
            mask |= after[i] | (1 << i)
        return mask

    def _races_of(self, events, after, j, thread, step, before: int) -> None:
        """Reverse every race of event ``j`` (or of a step left pending, at ``j == len(events)``)."""
        if step[0] == "acquire":
            # An acquire races with every earlier use of its lock by another thread that
            # nothing besides the lock orders before it: the release between two acquires
            # is how the lock orders them, so it is looked past (and a release by a thread
            # that does not hold the lock may let the acquire through earlier).
            last_of = {}
            for k in range(j):
                last_of[events[k][0]] = k
            alone = self._happens_before(events, j, thread, step, after, last_of, skip_lock=step[1])
            for i in range(j):
                other, earlier = events[i]
                if other != thread and earlier[0] in ("acquire", "release") and earlier[1] == step[1] \
                        and not (alone >> i) & 1:
                    self._reverse_race(events, after, i, j, thread, alone)
            return
        for i in range(j):
            other, earlier = events[i]
            if other == thread or not (before >> i) & 1 or not dependent(earlier, step):
                continue
            if any((after[k] >> i) & 1 for k in range(i + 1, j) if (before >> k) & 1):
                continue  # not an immediate race: another event lies between them
            self._reverse_race(events, after, i, j, thread, before)

    def _reverse_race(self, events, after, i: int, j: int, thread: int, before: int) -> None:
        """Make sure a thread that can start ``v`` (what does not depend on event ``i``,
        then ``thread``) is tried just before ``i``."""
        v = [k for k in range(i + 1, j) if not (after[k] >> i) & 1]
        v_mask = 0
        for k in v:
            v_mask |= 1 << k
        initials, seen = [], set()
        for k in v:
            owner = events[k][0]
            if owner not in seen:
                seen.add(owner)
                if not after[k] & v_mask:
                    initials.append(owner)
        if thread not in seen and not before & v_mask:
            initials.append(thread)
        self._reverse_with(i, initials)

    def _reverse_with(self, position: int, initials: list[int]) -> None:
        point = self.points[position]
        if point.backtrack.intersection(initials):
            return
        runnable = [t for t in initials if t in point.enabled]
        if runnable:
            point.backtrack.add(runnable[0])
        else:  # none can start here (a lock is held): be safe and try every thread
            point.backtrack.update(point.enabled)
