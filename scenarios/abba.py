"""The ABBA deadlock, and its fix by lock ordering.

Thread A takes lock ``a`` then ``b``; thread B takes ``b`` then ``a``. If each gets
its first lock before the other's second, both wait forever: A holds ``a`` and
waits for ``b``, B holds ``b`` and waits for ``a``. Taking locks in one global
order (always ``a`` before ``b``) makes the cycle impossible, and so does a common
``gate`` lock around both: the lock-order graph still has the cycle a -> b -> a, but
its two edges are taken under the same gate, so they can never run at once.
"""

from functools import partial

from explorer import Expect, Scenario, acquire, read, release, write


def move(first, second):
    yield acquire(first)
    yield acquire(second)
    count = yield read("moves")
    yield write("moves", count + 1)
    yield release(second)
    yield release(first)


def gated_move(first, second):
    """The ABBA moves, each inside a common ``gate`` lock: the opposite orders never meet."""
    yield acquire("gate")
    yield from move(first, second)
    yield release("gate")


abba_deadlock = Scenario(
    "ABBA deadlock",
    variables={"moves": 0},
    locks=["a", "b"],
    threads={"A": partial(move, "a", "b"), "B": partial(move, "b", "a")},
    expect=Expect(outcomes=[{"moves": 2}], findings={"deadlock", "lock-order-cycle"}, deadlock=True),
)

abba_ordered = Scenario(
    "ABBA fixed by lock ordering",
    variables={"moves": 0},
    locks=["a", "b"],
    threads={"A": partial(move, "a", "b"), "B": partial(move, "a", "b")},
    expect=Expect(outcomes=[{"moves": 2}], findings=set(), deadlock=False),
)

abba_gated = Scenario(
    "ABBA behind a gate lock",
    variables={"moves": 0},
    locks=["gate", "a", "b"],
    threads={"A": partial(gated_move, "a", "b"), "B": partial(gated_move, "b", "a")},
    expect=Expect(outcomes=[{"moves": 2}], findings=set(), deadlock=False),
)
