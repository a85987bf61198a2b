"""The lost update: ``counter += 1`` is a read and a write, and another thread can run between them.

Two threads each add one to ``x``. Of the 6 interleavings of their 4 steps, 4 end
with ``x == 1``: both threads read 0 before either writes, so one write is lost.
Holding a lock around the read and the write leaves 2 interleavings (A first or B
first), both ending with ``x == 2``; so does one atomic ``update`` step (below).
"""

from explorer import Expect, Scenario, acquire, read, release, update, write


def increment():
    value = yield read("x")
    yield write("x", value + 1)


def locked_increment():
    yield acquire("lock")
    value = yield read("x")
    yield write("x", value + 1)
    yield release("lock")


lost_update = Scenario(
    "lost update",
    variables={"x": 0},
    threads={"A": increment, "B": increment},
    expect=Expect(
        outcomes=[{"x": 1}, {"x": 2}],
        findings={"lost-update", "nonserializable", "race"},
        deadlock=False),
)

locked_counter = Scenario(
    "locked counter",
    variables={"x": 0},
    locks=["lock"],
    threads={"A": locked_increment, "B": locked_increment},
    expect=Expect(outcomes=[{"x": 2}], findings=set(), deadlock=False),
)


def atomic_increment():
    """The increment as one atomic step: what ``list.append`` or ``next(itertools.count())``
    are under the GIL, and what ``x += 1`` on a shared variable is not."""
    yield update("x", lambda value: value + 1)


atomic_counter = Scenario(
    "counter made safe with update",
    variables={"x": 0},
    threads={"A": atomic_increment, "B": atomic_increment},
    expect=Expect(outcomes=[{"x": 2}], findings=set(), deadlock=False),
)
