"""The schedule with the fewest preemptions among those that run the same trace.

A reduced search (dpor, stateful) keeps one execution per trace, not always the one a
person reads most easily. Every schedule that orders the dependent steps of an
execution the same way (same variable and one writes, or same lock; and each thread's
own order) is the same trace: it reaches the same state and shows the same findings.
So a shorter counterexample can be looked for among those orderings alone, without
running the program: depth first, continuing the running thread whenever its next step
is ready, with iterative deepening on the number of preemptions (a switch away from a
thread that could have run, as the engine counts them).
"""

from __future__ import annotations

from ..objects.dependence import dependent

#: Search nodes one call may visit before it gives up (and the trace stays as it was).
NODE_BUDGET = 20_000
#: Longer executions are left as they are: the search recurses once per step.
MAX_EVENTS = 400


def fewest_preemptions(events: list[tuple], final: list, reentrant: dict, below: int,
                       dependent=dependent, thread_index: dict | None = None,
                       keep: tuple[int, int] | None = None) -> list[int] | None:
    """A schedule of ``events``' trace with fewer than ``below`` preemptions, or None.

    ``events`` are the engine's ``(thread, step, value, enabled)``; ``final`` is the step
    each thread was left waiting on at the end (None once it returned), which decides
    whether it could run after its last event; ``reentrant`` maps each lock to whether
    it is an RLock; ``dependent`` is the program's dependence (objects' footprints), and
    ``thread_index`` numbers threads by name, so a spawned thread's steps stay after the
    spawn that started it and a join after the joined thread's last step. The last event stays last when its execution failed there (the
    caller passes ``events`` so): nothing may follow a step that ended the run. ``keep`` is a
    pair ``(first, then)`` of positions the schedule must also run in that order, as if they
    were dependent (None if no schedule of the trace does).

    >>> from explorer import read, write
    >>> A, B = 0, 1
    >>> events = [(A, read("x"), 0, [0, 1]), (B, read("y"), 0, [0, 1]),
    ...           (A, write("x", 1), None, [0, 1]), (B, write("y", 1), None, [1])]
    >>> fewest_preemptions(events, [None, None], {}, below=2)   # independent: no switch needed
    [0, 0, 1, 1]
    >>> fewest_preemptions(events, [None, None], {}, below=4, keep=(3, 0))  # B's write first
    [1, 1, 0, 0]
    >>> fewest_preemptions(events, [None, None], {}, below=4, keep=(2, 0)) is None  # A's own order
    True
    """
    n = len(events)
    if n == 0 or n > MAX_EVENTS or below <= 0:
        return None
    k = len(final)
    mine: list[list[int]] = [[] for _ in range(k)]
    needs = [0] * n  # per event, the bitmask of the earlier events it must follow
    started: dict[int, int] = {}  # thread -> the spawn event that started it
    for j, (thread, step, _value, _enabled) in enumerate(events):
        mask = 0
        for i in range(j):
            if events[i][0] == thread or dependent(events[i][1], step):
                mask |= 1 << i
        if not mine[thread] and thread in started:
            mask |= 1 << started[thread]
        kind = step[0]
        if thread_index is not None and (kind == "spawn" or kind == "join"):
            other = thread_index.get(step[1])
            if other is not None and kind == "spawn":
                started[other] = j
            elif other is not None and other < k and mine[other]:
                mask |= 1 << mine[other][-1]
        needs[j] = mask
        mine[thread].append(j)
    if keep is not None:
        first, then = keep
        if _before(needs, then, first):
            return None  # the trace runs ``then`` before ``first``, and so does every schedule of it
        needs[then] |= 1 << first
    budget = [NODE_BUDGET]

    def next_step(thread: int, done: list[int]):
        at = done[thread]
        return events[mine[thread][at]][1] if at < len(mine[thread]) else final[thread]

    def can_run(thread: int, step, owner: dict) -> bool:
        if step is None:
            return False
        if step[0] != "acquire":
            return True
        holder = owner.get(step[1])
        return holder is None or (holder == thread and reentrant.get(step[1], False))

    def search(done: list[int], taken: int, owner: dict, depth: dict, last: int, left: int,
               order: list[int], seen: set) -> list[int] | None:
        if len(order) == n:
            return list(order)
        budget[0] -= 1
        if budget[0] < 0:
            return None
        memo = (taken, last, left)
        if memo in seen:
            return None
        seen.add(memo)
        ready = [t for t in range(k) if done[t] < len(mine[t]) and needs[mine[t][done[t]]] & ~taken == 0]
        could_continue = last >= 0 and can_run(last, next_step(last, done), owner)
        # the running thread first (free), then the others (a preemption if it could have run)
        for thread in sorted(ready, key=lambda t: t != last):
            cost = 1 if thread != last and could_continue else 0
            if cost > left:
                continue
            j = mine[thread][done[thread]]
            step = events[j][1]
            lock = step[1]
            saved = (owner.get(lock), depth.get(lock, 0))
            if step[0] == "acquire":
                owner[lock], depth[lock] = thread, saved[1] + 1
            elif step[0] == "release" and saved[0] == thread:
                depth[lock] = saved[1] - 1
                if depth[lock] == 0:
                    owner[lock] = None
            elif step[0] == "release":
                owner[lock], depth[lock] = None, 0
            done[thread] += 1
            order.append(thread)
            found = search(done, taken | (1 << j), owner, depth, thread, left - cost, order, seen)
            order.pop()
            done[thread] -= 1
            if step[0] in ("acquire", "release"):
                owner[lock], depth[lock] = saved
            if found is not None:
                return found
        return None

    for bound in range(below):
        found = search([0] * k, 0, {}, {}, -1, bound, [], set())
        if found is not None or budget[0] < 0:
            return found
    return None


def _before(needs: list[int], earlier: int, later: int) -> bool:
    """Whether event ``earlier`` must come before ``later``: it is among what ``later``
    needs, or what that needs, and so on."""
    seen = 0
    frontier = needs[later]
    while frontier:
        bit = frontier & -frontier
        frontier ^= bit
        if not seen & bit:
            seen |= bit
            frontier |= needs[bit.bit_length() - 1] & ~seen
    return bool(seen >> earlier & 1)


class Precedence:
    """Which events of one execution every schedule of its trace runs in the same order:
    those linked by a chain of dependent steps, each thread's own order, a spawn before
    the spawned thread's steps and a thread's last step before a join of it. The steps
    before and after an event are worked out once per event asked about, in one pass.

    >>> from explorer import read, write
    >>> A, B = 0, 1
    >>> events = [(A, write("x", 1), None, [0, 1]), (B, write("y", 1), None, [0, 1]),
    ...           (A, read("y"), 1, [0, 1]), (B, read("x"), 1, [1])]
    >>> order = Precedence(events, dependent)
    >>> order.forced(1, 2), order.forced(0, 3)   # dependent: never the other way round
    (True, True)
    >>> order.forced(0, 1), order.forced(0, 2)   # B may write y first; A runs its own steps in order
    (False, True)
    """

    __slots__ = ("_after", "_before", "dependent", "events", "thread_index")

    def __init__(self, events: list[tuple], dependent=dependent, thread_index: dict | None = None) -> None:
        self.events = events
        self.dependent = dependent
        self.thread_index = thread_index
        self._after: dict[int, bytearray] = {}  # position -> per position, whether it must follow
        self._before: dict[int, bytearray] = {}  # position -> per position, whether it must precede

    def forced(self, first: int, then: int) -> bool:
        """Whether every schedule of the trace runs event ``first`` before ``then`` (``first < then``)."""
        after = self._after.get(first)
        if after is not None:
            return bool(after[then])
        before = self._before.get(then)
        if before is not None:
            return bool(before[first])
        if len(self._after) <= len(self._before):
            after = self._after[first] = self._reach(first, 1)
            return bool(after[then])
        before = self._before[then] = self._reach(then, -1)
        return bool(before[first])

    def _reach(self, origin: int, direction: int) -> bytearray:
        """Per position, whether it is linked to ``origin`` in ``direction`` (1: after it)."""
        events, dependent, thread_index = self.events, self.dependent, self.thread_index
        reached = bytearray(len(events))
        reached[origin] = 1
        threads = {events[origin][0]}  # threads with a linked step: all their steps that way are linked
        steps: dict = {}  # the distinct steps linked so far (equal steps are dependent with the same steps)
        others: list = []  # and those that cannot be told apart by hashing

        def link(step) -> None:
            kind = step[0]
            key = (kind, step[1]) if kind == "read" or kind == "write" else step
            try:
                steps.setdefault(key, step)
            except TypeError:
                others.append(step)

        def ends(step):  # the thread a spawn starts or a join waits for, if the program knows it
            kind = step[0]
            if thread_index is None or (kind != "spawn" and kind != "join"):
                return None, None
            return kind, thread_index.get(step[1])

        link(events[origin][1])
        kind, other = ends(events[origin][1])
        if other is not None and (kind == "spawn") == (direction > 0):
            threads.add(other)
        stop = len(events) if direction > 0 else -1
        for position in range(origin + direction, stop, direction):
            thread, step = events[position][0], events[position][1]
            kind, other = ends(step)
            linked = (thread in threads
                      or (other is not None and other in threads and (kind == "join") == (direction > 0))
                      or any(dependent(mine, step) for mine in steps.values())
                      or any(dependent(mine, step) for mine in others))
            if linked:
                reached[position] = 1
                threads.add(thread)
                link(step)
                if other is not None and (kind == "spawn") == (direction > 0):
                    threads.add(other)
        return reached
