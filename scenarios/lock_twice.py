"""Acquiring a lock you already hold.

A ``threading.Lock`` does not know who holds it: a thread that acquires it a second
time waits for itself, forever. A ``threading.RLock`` counts its owner's
acquisitions, so a function holding it may call another that takes it again; it is
free once released as many times as acquired.
"""

from explorer import Expect, Scenario, acquire, read, release, write


def increment_twice_nested():
    yield acquire("lock")
    value = yield read("x")
    yield acquire("lock")  # e.g. a helper that also takes the lock
    yield write("x", value + 1)
    yield release("lock")
    yield release("lock")


lock_acquired_twice = Scenario(
    "Lock acquired twice",
    variables={"x": 0},
    locks={"lock": "lock"},
    threads={"A": increment_twice_nested},
    expect=Expect(outcomes=[], findings={"deadlock"}, deadlock=True),
)

rlock_acquired_twice = Scenario(
    "RLock acquired twice",
    variables={"x": 0},
    locks={"lock": "rlock"},
    threads={"A": increment_twice_nested, "B": increment_twice_nested},
    expect=Expect(outcomes=[{"x": 2}], findings=set(), deadlock=False),
)
