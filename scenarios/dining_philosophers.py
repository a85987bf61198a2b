"""Dining philosophers: the deadlock of a cycle of locks, and the fix by ordering.

``n`` philosophers sit at a round table with one fork between each pair. Each takes
the fork on the left, then the one on the right, eats, and puts both down. If all
take their left fork at once, every right fork is taken: deadlock. If every
philosopher takes the lower-numbered of the two forks first, the last one reaches
for fork 0 first and the cycle cannot close.
"""

from functools import partial

from explorer import Expect, Scenario, acquire, release, write


def philosopher(seat, first, second):
    yield acquire(first)
    yield acquire(second)
    yield write(f"ate {seat}", True)
    yield release(second)
    yield release(first)


def dining(n, *, ordered):
    forks = [f"fork {i}" for i in range(n)]
    threads = {}
    for seat in range(n):
        left, right = seat, (seat + 1) % n
        if ordered:
            left, right = min(left, right), max(left, right)
        threads[f"P{seat}"] = partial(philosopher, seat, forks[left], forks[right])
    return Scenario(
        f"dining philosophers, {n}, {'ordered forks' if ordered else 'left fork first'}",
        variables={f"ate {seat}": False for seat in range(n)},
        locks=forks,
        threads=threads,
        expect=Expect(findings=set() if ordered else {"deadlock", "lock-order-cycle"}, deadlock=not ordered),
    )


dining_philosophers = dining(3, ordered=False)
dining_philosophers_ordered = dining(3, ordered=True)
