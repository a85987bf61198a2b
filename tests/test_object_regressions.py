"""Regressions that the property tests over every kind of object (test_object_properties.py)
found, each shrunk by hypothesis and by hand to its smallest scenario."""

from explorer import Scenario, acquire, explore, release

from .helpers import assert_complete_strategies_agree


def try_then_release():
    taken = yield acquire("m", blocking=False)
    if taken:
        yield release("m")
    return taken


def take_and_release():
    yield acquire("m")
    yield release("m")


def test_dpor_reverses_a_try_acquire_and_a_later_blocking_acquire_of_the_same_lock():
    # dpor ran one execution (A's try takes the lock first) and never tried B first, where
    # A's try gives up: it missed the outcome A=False.
    scenario = Scenario("try, then acquire", locks={"m": "lock"},
                        threads={"A": try_then_release, "B": take_and_release})
    assert_complete_strategies_agree(scenario)
    assert {outcome["A"] for outcome in explore(scenario, strategy="dpor").outcomes} == {True, False}
