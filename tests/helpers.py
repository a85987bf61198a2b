"""Scenario pieces several test modules share."""

from pathlib import Path

from explorer import Scenario, acquire, release
from explorer.loading import load_scenarios


def library() -> list[Scenario]:
    """Every scenario in the bundled library, scenarios/."""
    found, failures = load_scenarios([Path(__file__).parent.parent / "scenarios"])
    assert not failures, failures
    return [scenario for _path, _name, scenario in found]


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
