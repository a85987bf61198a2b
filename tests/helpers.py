"""Scenario pieces several test modules share."""

from explorer import Scenario, acquire, release


def take(first, second):
    """Acquire two locks in the order given, then release them."""
    yield acquire(first)
    yield acquire(second)
    yield release(second)
    yield release(first)


def abba():
    """The ABBA deadlock: A takes a then b, B takes b then a."""
    return Scenario("abba", locks=["a", "b"],
                    threads={"A": lambda: take("a", "b"), "B": lambda: take("b", "a")})
