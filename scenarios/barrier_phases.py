"""Phases with a ``Barrier``: nobody starts phase two until everyone has finished phase one.

Three workers each fill in their own cell (phase one), wait at ``Barrier(3)``, then
read their right-hand neighbour's cell (phase two). ``Barrier.wait`` sends back the
arrival index, 0 to 2, different for each thread in one round. Since every arrival
happens before any departure, each worker reads its neighbour's phase-one value, in
every schedule, and there is no race between a cell's write and its read.

Without the barrier a worker may read its neighbour's cell before it is filled in.
With one party short (``Barrier(3)`` but two workers) nobody ever leaves the barrier:
a deadlock whose message says how many parties arrived.
"""

from functools import partial

from explorer import Barrier, Expect, Scenario, read, wait, write

CELLS = ("cell0", "cell1", "cell2")


def worker(me, neighbour, barrier=True):
    yield write(me, me.upper())
    index = (yield wait("phase")) if barrier else None
    seen = yield read(neighbour)
    return index, seen


def saw_phase_one(outcome):
    return all(seen for _index, seen in outcome.returns.values())


def _workers(count, barrier=True):
    return {f"W{i}": partial(worker, CELLS[i], CELLS[(i + 1) % count], barrier) for i in range(count)}


barrier_phases = Scenario(
    "barrier phases",
    variables=dict.fromkeys(CELLS, ""),
    objects={"phase": Barrier(3)},
    threads=_workers(3),
    check=saw_phase_one,
    expect=Expect(outcomes=[dict(zip(CELLS, ("CELL0", "CELL1", "CELL2")))], findings=set(), deadlock=False),
)

phases_without_barrier = Scenario(
    "phases without a barrier",
    variables=dict.fromkeys(CELLS, ""),
    threads=_workers(3, barrier=False),
    check=saw_phase_one,
    expect=Expect(outcomes=[dict(zip(CELLS, ("CELL0", "CELL1", "CELL2")))], findings={"invariant", "nonserializable", "race"},
                  deadlock=False),
)

barrier_one_party_short = Scenario(
    "barrier, one party short",
    variables=dict.fromkeys(CELLS, ""),
    objects={"phase": Barrier(3)},
    threads=_workers(2),
    expect=Expect(outcomes=[], findings={"deadlock"}, deadlock=True),
)
