"""A bank transfer: money must be conserved, and the locks must not deadlock.

Two accounts hold 100 each; one thread moves 10 from checking to savings while
another moves 20 back. Unlocked, an interleaved read-modify-write can create or
destroy money (the total ends away from 200). Locking the source account, then the
destination, conserves money but deadlocks when the two transfers go in opposite
directions. Locking both accounts in a fixed order (by name) does both.
"""

from functools import partial

from explorer import Expect, Scenario, acquire, read, release, write


def transfer(source, target, amount):
    balance = yield read(source)
    yield write(source, balance - amount)
    balance = yield read(target)
    yield write(target, balance + amount)


def locked_transfer(source, target, amount, *, ordered):
    first, second = (source, target)
    if ordered:
        first, second = sorted((source, target))
    yield acquire(f"{first} lock")
    yield acquire(f"{second} lock")
    yield from transfer(source, target, amount)
    yield release(f"{second} lock")
    yield release(f"{first} lock")


def _bank(name, body, expect):
    return Scenario(
        name,
        variables={"checking": 100, "savings": 100},
        locks=["checking lock", "savings lock"],
        threads={
            "to savings": partial(body, "checking", "savings", 10),
            "to checking": partial(body, "savings", "checking", 20),
        },
        expect=expect,
    )


bank_transfer_unlocked = _bank("bank transfer, unlocked", transfer,
                               Expect(findings={"lost-update", "nonserializable", "race"}, deadlock=False))
bank_transfer_deadlock = _bank("bank transfer, source lock first", partial(locked_transfer, ordered=False),
                               Expect(outcomes=[{"checking": 110, "savings": 90}],
                                      findings={"deadlock", "lock-order-cycle"}, deadlock=True))
bank_transfer_ordered = _bank("bank transfer, locks in order", partial(locked_transfer, ordered=True),
                              Expect(outcomes=[{"checking": 110, "savings": 90}], findings=set(), deadlock=False))
