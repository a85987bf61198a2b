"""Scenario pieces and assertions several test modules share."""

import os
from pathlib import Path

from explorer import (
    Condition,
    Queue,
    Scenario,
    ThreadPool,
    acquire,
    explore,
    get,
    join,
    notify,
    put,
    read,
    release,
    replay,
    result,
    spawn,
    submit,
    wait,
    write,
)
from explorer.loading import load_scenarios

#: Set by tests/conftest.py when the deep tier runs (``--deep``, ``-m slow``).
DEEP = os.environ.get("EXPLORER_TESTS_DEEP") == "1"


def examples(deep: int) -> int:
    """A heavy generated test's number of examples: ``deep`` in the deep tier, half of it
    (at least 10) in the default one, which CI runs on two cores within its budget."""
    return deep if DEEP else max(deep // 2, 10)

#: Plain programs (scenarios/seed_notebook.py: their generator twins share the names and are
#: cheap) whose every interleaving is too many to enumerate one by one in a test, with
#: what was measured (explore(scenario, strategy="exhaustive", time_limit=60)). The
#: reduced strategies (dpor, stateful) still check them against each other and the Expect.
TOO_MANY_INTERLEAVINGS = {
    "ThreadPoolExecutor.map": "the seed notebook's executor.map as written (3 workers, 3 tasks that sleep): over "
                              "84,000 interleavings, unfinished after 60 s; dpor needs 4,424 runs, stateful 36",
    "FakeDatabase.locked_update": "the seed notebook's locked cell as written: 90,270 interleavings, about 40 s "
                                  "each time; enumerated once, in tests/test_plain_programs.py's slow tier, and left "
                                  "out of the library-wide tests to keep CI within its budget",
}


def library(exhaustive: bool = False) -> list[Scenario]:
    """Every scenario in the bundled library, scenarios/; with ``exhaustive``, those whose
    every interleaving a test can enumerate (TOO_MANY_INTERLEAVINGS says which not, and why)."""
    found, failures = load_scenarios([Path(__file__).parent.parent / "scenarios"])
    assert not failures, failures
    return [scenario for _path, _name, scenario in found if not (exhaustive and too_many(scenario))]


def too_many(scenario: Scenario) -> str | None:
    """Why a scenario's every interleaving is not enumerated in tests, or None."""
    return TOO_MANY_INTERLEAVINGS.get(scenario.name) if getattr(scenario, "plain", None) is not None else None


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


def overdraft():
    """Three withdrawals that check the balance, then read it again and pay: the invariant
    that it never goes negative is broken by two outcomes, balance -40 and -60 (in 12
    and 16 traces under dpor)."""
    def withdraw(amount):
        def thread():
            balance = yield read("balance")
            if balance < amount:
                return "refused"
            balance = yield read("balance")
            yield write("balance", balance - amount)
        return thread

    def never_negative(state):
        return state["balance"] >= 0

    return Scenario("overdraft", variables={"balance": 100}, invariant=never_negative,
                    threads={"alice": withdraw(70), "bob": withdraw(70), "carol": withdraw(20)})


def writes(var, value):
    """A thread that writes ``value`` to ``var``, once."""
    def body():
        yield write(var, value)
    return body


def _adds_one_to_x():
    value = yield read("x")
    yield write("x", value + 1)


def one_or_true():
    """A adds one to x (from 0), B writes True: serially x ends True (A first) or 2 (B
    first); only interleaved does A's 1 land last: the nonserializable outcome, equal
    under ``==`` to the serial True."""
    return Scenario("one or True", variables={"x": 0}, threads={"A": _adds_one_to_x, "B": writes("x", True)})


#: A preemption bound no generated program reaches: bounded search is then exhaustive.
LARGE_BOUND = 40


def verdicts(result):
    """What every complete strategy must give alike."""
    return (set(result.final_states), set(result.outcomes), result.deadlocked > 0,
            {finding.kind for finding in result.findings})


def assert_complete_strategies_agree(scenario):
    """dpor, stateful and bounded search with a bound beyond every schedule give exhaustive
    enumeration's final states, outcomes, deadlock presence and finding kinds; dpor runs no
    more executions, and bounded search runs exactly exhaustive's schedules."""
    exhaustive = explore(scenario, strategy="exhaustive")
    assert exhaustive.complete
    # agreeing is not enough where every run fails alike: a generated body that fails on an
    # op it was drawn with is a bug of the generator, not a program under test
    assert not [f.message for f in exhaustive.findings if "internal bug" in f.message], scenario.name
    expected = verdicts(exhaustive)
    dpor = explore(scenario, strategy="dpor")
    assert dpor.complete and verdicts(dpor) == expected
    assert dpor.executions <= exhaustive.executions
    stateful = explore(scenario, strategy="stateful")
    assert stateful.complete and verdicts(stateful) == expected
    bounded = explore(scenario, strategy="bounded", preemptions=LARGE_BOUND)
    assert bounded.complete and verdicts(bounded) == expected
    # every schedule, each once: the very counts of exhaustive enumeration
    assert bounded.executions == exhaustive.executions and bounded.outcomes == exhaustive.outcomes
    assert bounded.final_states == exhaustive.final_states


def assert_findings_replay(scenario, strategies=("exhaustive", "dpor", "stateful")):
    """Every finding each strategy reports replays from its trace to a finding with its message."""
    for strategy in strategies:
        for finding in explore(scenario, strategy=strategy).findings:
            execution = replay(scenario, finding.trace)
            if finding.kind == "lock-order-cycle" and finding.details["steps"] is None:
                # No single execution takes every edge of this cycle (its message says so);
                # the trace shows its first edge, which the replay must take.
                _held, acquired, thread, _holding = finding.details["edges"][0]
                assert (thread, acquired) in [(e.thread, e.target) for e in execution.events if e.kind == "acquire"]
                continue
            assert finding.message in {f.message for f in execution.findings}, (strategy, finding.message)


# ---- objects made afresh in each run and handed from thread to thread ---------------------------
# (test_exploration: no nondeterminism; test_parallel: the same on two workers)

class Account:
    """An object compared by identity, made afresh in every run."""

    def __init__(self, balance):
        self.balance = balance


def deposit(account):
    seen = yield read("total")
    yield write("total", seen + account.balance)


def _spawns_an_account():
    yield spawn("child", deposit, Account(2))
    yield join("child")


def _spawns_a_list_then_changes_it():
    log = [2]
    yield spawn("child", add_first, log)
    log.append(3)  # the child's step compared later must still see [2] as it was handed
    yield join("child")


def add_first(log):
    seen = yield read("total")
    yield write("total", seen + log[0])


def _puts_an_account():
    yield put("q", Account(2))


def _gets_an_account():
    account = yield get("q")
    seen = yield read("total")
    yield write("total", seen + account.balance)


def _submits_an_account():
    future = yield submit("pool", _balance, Account(2))
    balance = yield result(future)
    seen = yield read("total")
    yield write("total", seen + balance)


def _balance(account):
    return account.balance
    yield  # a generator: the pool runs it as a task


def adds_one():
    seen = yield read("total")
    yield write("total", seen + 1)


def adds(times):
    """A thread body that adds one to x ``times`` times, a read and then a write each."""
    def body():
        for _ in range(times):
            value = yield read("x")
            yield write("x", value + 1)
    return body


def spawning(parent: str = "main") -> Scenario:
    """``parent`` starts a child C; each adds one to x (a read, then a write); the parent joins C."""
    def main():
        yield spawn("C", adds(1))
        value = yield read("x")
        yield write("x", value + 1)
        yield join("C")
    return Scenario("spawning", variables={"x": 0}, threads={parent: main})


HANDED = {
    "spawn an object": ({"main": _spawns_an_account, "other": adds_one}, {}, {1, 2, 3}),
    "spawn a list changed later": ({"main": _spawns_a_list_then_changes_it, "other": adds_one}, {}, {1, 2, 3}),
    "queue an object": ({"producer": _puts_an_account, "consumer": _gets_an_account, "other": adds_one},
                        {"q": Queue()}, {1, 2, 3}),
    "submit an object": ({"main": _submits_an_account, "other": adds_one}, {"pool": ThreadPool(1)}, {1, 2, 3}),
}


def poll_flag():
    """A thread that waits for ``flag`` by polling it: a loop of reads."""
    while (yield read("flag")) == 0:
        pass


def raise_flag():
    yield write("flag", 1)


#: A polls until B raises the flag: every schedule may poll up to max_steps times.
POLLING = Scenario("polling", variables={"flag": 0}, threads={"A": poll_flag, "B": raise_flag})


def ready_handshake() -> Scenario:
    """A consumer C takes ``lock`` and waits on ``cond`` till ``ready``; a producer P takes
    the lock, sets ready, notifies and lets go: C lets go of the lock while it waits."""
    def producer():
        yield acquire("lock")
        yield write("ready", True)
        yield notify("cond")
        yield release("lock")

    def consumer():
        yield acquire("lock")
        while not (yield read("ready")):
            yield wait("cond")
        yield release("lock")

    return Scenario("waits", variables={"ready": False}, locks=["lock"], objects={"cond": Condition("lock")},
                    threads={"C": consumer, "P": producer})


def counter(threads: int, increments: int) -> Scenario:
    """``threads`` threads, each adding one to x ``increments`` times, a read then a write."""
    def count():
        for _ in range(increments):
            value = yield read("x")
            yield write("x", value + 1)

    return Scenario(f"counter {threads}x{increments}", variables={"x": 0},
                    threads={f"T{i}": count for i in range(threads)})
