"""Check-then-act: a decision made on a value another thread changes before the act.

Two customers withdraw 70 from a balance of 100, each after checking that the
balance covers it. Unlocked, both can pass the check before either withdraws, and
the balance ends at -40. With the check and the withdrawal under one lock, exactly
one withdrawal succeeds and the balance ends at 30.
"""

from functools import partial

from explorer import Expect, Scenario, acquire, read, release, write


def withdraw(amount):
    balance = yield read("balance")
    if balance < amount:
        return "refused"
    balance = yield read("balance")
    yield write("balance", balance - amount)
    return "paid"


def locked_withdraw(amount):
    yield acquire("account")
    result = yield from withdraw(amount)
    yield release("account")
    return result


check_then_act = Scenario(
    "check-then-act overdraft",
    variables={"balance": 100},
    threads={"alice": partial(withdraw, 70), "bob": partial(withdraw, 70)},
    expect=Expect(
        outcomes=[{"balance": -40}, {"balance": 30}],
        findings={"lost-update", "nonserializable", "race"},
        deadlock=False),
)

check_then_act_locked = Scenario(
    "check-then-act under a lock",
    variables={"balance": 100},
    locks=["account"],
    threads={"alice": partial(locked_withdraw, 70), "bob": partial(locked_withdraw, 70)},
    expect=Expect(outcomes=[{"balance": 30}], findings=set(), deadlock=False),
)
