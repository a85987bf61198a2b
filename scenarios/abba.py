"""The ABBA deadlock, and its fix by lock ordering.

Thread A takes lock ``a`` then ``b``; thread B takes ``b`` then ``a``. If each gets
its first lock before the other's second, both wait forever: A holds ``a`` and
waits for ``b``, B holds ``b`` and waits for ``a``. Taking locks in one global
order (always ``a`` before ``b``) makes the cycle impossible.
"""

from functools import partial

from explorer import Scenario, acquire, read, release, write


def move(first, second):
    yield acquire(first)
    yield acquire(second)
    count = yield read("moves")
    yield write("moves", count + 1)
    yield release(second)
    yield release(first)


abba_deadlock = Scenario(
    "ABBA deadlock",
    variables={"moves": 0},
    locks=["a", "b"],
    threads={"A": partial(move, "a", "b"), "B": partial(move, "b", "a")},
)

abba_ordered = Scenario(
    "ABBA fixed by lock ordering",
    variables={"moves": 0},
    locks=["a", "b"],
    threads={"A": partial(move, "a", "b"), "B": partial(move, "a", "b")},
)
