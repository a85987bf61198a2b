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
