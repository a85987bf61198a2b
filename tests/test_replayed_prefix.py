"""A depth-first search's replayed prefix: each execution repeats the previous one's
choices up to the branch point, so the engine takes those threads without asking the
strategy, and runs their reads and writes on a short path (exhaustive and bounded search,
and dpor below its branch point). A search says exactly what it
says when every step takes the general path, nondeterministic programs included."""

import itertools
import json
from math import comb

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer import Scenario, acquire, explore, read, release, write
from explorer.strategies.base import DepthFirst
from explorer.strategies.dpor import DPOR
from explorer.strategies.exhaustive import Exhaustive
from explorer.testing import strategies as xst

from .helpers import adds, examples


def said(result) -> dict:
    """Everything a result says but its timing."""
    document = json.loads(result.to_json())
    document.pop("elapsed")
    return document


def explored_on_the_general_path(scenario, **options):
    with pytest.MonkeyPatch.context() as patch:
        patch.delattr(DepthFirst, "repeats")
        patch.delattr(DPOR, "repeats")
        return explore(scenario, **options)


@settings(deadline=None, database=None, max_examples=examples(80), suppress_health_check=[HealthCheck.too_slow])
@given(xst.scenarios(objects="all", max_steps_per_thread=5, max_steps=10),
       st.sampled_from([{"strategy": "exhaustive"}, {"strategy": "bounded", "preemptions": 1},
                        {"strategy": "bounded", "preemptions": 3}, {"strategy": "dpor"}]))
def test_a_depth_first_search_says_the_same_on_the_short_path_as_on_the_general_one(scenario, options):
    assert said(explore(scenario, **options)) == said(explored_on_the_general_path(scenario, **options))


def adds_then_raises(times):
    def body():
        yield from adds(times)()
        raise ValueError("added")
    return body


def adds_for_ever():
    value = yield read("x")
    while True:
        yield write("x", value + 1)
        value = yield read("x")


def adds_then_waits(times):
    def body():
        yield from adds(times)()
        yield acquire("m")  # held by the other thread: a deadlock in some runs
        yield release("m")
    return body


def holds_and_adds(times):
    def body():
        yield acquire("m")
        yield from adds(times)()
    return body


# A thread that ends, raises, runs out of steps or blocks right after a read or a write
# the short path replayed: the short path hands over to the general one there
ENDINGS = [
    ({"A": adds(2), "B": adds_then_raises(1)}, {}),
    ({"A": adds_then_raises(2), "B": adds_then_raises(1)}, {}),
    ({"A": adds(1), "B": adds_for_ever}, {"max_steps": 7}),
    ({"A": adds_then_waits(2), "B": holds_and_adds(1)}, {}),
    ({"A": adds(2), "B": adds(1), "C": adds_then_raises(1)}, {}),
]


@pytest.mark.parametrize("threads, limits", ENDINGS)
@pytest.mark.parametrize("options", [{"strategy": "exhaustive"}, {"strategy": "bounded", "preemptions": 1},
                                     {"strategy": "dpor"}])
def test_a_thread_that_ends_raises_runs_out_of_steps_or_blocks_after_a_replayed_step_says_what_it_says_on_the_general_path(
        threads, limits, options):
    scenario = Scenario("endings", variables={"x": 0}, locks={"m": "lock"}, threads=threads)
    short = explore(scenario, **options, **limits)
    assert short.executions > 1
    assert said(short) == said(explored_on_the_general_path(scenario, **options, **limits))


@pytest.mark.parametrize("increments", [2, 3])
def test_exhaustive_search_asks_its_strategy_once_per_edge_of_the_schedule_tree(increments, monkeypatch):
    # two threads of 2n steps each: the schedule tree's nodes are the pairs (a, b) of steps
    # taken, each reached by C(a + b, a) prefixes; every node but the root is one choice
    asked = []
    choose = Exhaustive.choose
    monkeypatch.setattr(Exhaustive, "choose", lambda self, enabled: asked.append(1) or choose(self, enabled))
    n = 2 * increments
    result = explore(Scenario("counter", variables={"x": 0}, threads={"A": adds(increments), "B": adds(increments)}),
                     strategy="exhaustive")
    assert result.executions == comb(2 * n, n) and result.steps == comb(2 * n, n) * 2 * n
    nodes = sum(comb(a + b, a) for a in range(n + 1) for b in range(n + 1))
    assert len(asked) == nodes - 1 < result.steps


def drifting_write():
    """A writes a value that changes from run to run, at its first step."""
    runs = itertools.count()

    def a():
        yield write("x", next(runs))
        yield read("x")
    return Scenario("drifting write", variables={"x": 0}, threads={"A": a, "B": adds(1)})


def drifting_read():
    """B reads what A wrote, and A writes another value in the third run: the value read
    in the replayed prefix differs, not the step."""
    runs = itertools.count()

    def a():
        yield write("x", 1 if next(runs) < 2 else 2)
        yield write("y", 0)
    return Scenario("drifting read", variables={"x": 0, "y": 0},
                    threads={"A": a, "B": adds(2)})


def ends_early():
    """A takes one step fewer from the third run on: a thread that ends within the prefix."""
    runs = itertools.count()

    def a():
        steps = 3 if next(runs) < 2 else 2
        for _ in range(steps):
            yield read("x")
    return Scenario("ends early", variables={"x": 0}, threads={"A": a, "B": adds(2)})


def runs_longer():
    """A reads twice in the first run and three times after: where the first run's enabled
    set lost A, A goes on, on the short path; B and C branch after that."""
    runs = itertools.count()

    def a():
        for _ in range(2 if next(runs) == 0 else 3):
            yield read("x")
    return Scenario("runs longer", variables={"x": 0}, threads={"A": a, "B": adds(1), "C": adds(1)})


def waits_in_another_place():
    """B's first step, which it takes only after the prefix, is a read in the first runs and
    then an acquire of the lock A holds: the enabled sets within the prefix differ."""
    runs = itertools.count()

    def a():
        yield acquire("l")
        yield write("x", 1)
        yield write("x", 2)
        yield release("l")

    def b():
        if next(runs) < 3:
            yield read("x")
        else:
            yield acquire("l")
            yield release("l")
    return Scenario("waits in another place", variables={"x": 0}, locks={"l": "lock"},
                    threads={"A": a, "B": b})


def fails_later(from_run: int = 1):
    """A raises after its first read from run ``from_run`` on: the run ends within the
    previous run's prefix, every step of it the same."""
    runs = itertools.count()

    def a():
        failing = next(runs) >= from_run
        yield read("x")
        if failing:
            raise ValueError("only in later runs")
        yield write("x", 1)
        yield read("y")

    def b():
        yield write("y", 1)
        yield read("x")
        yield write("x", 2)
    return Scenario("fails later", variables={"x": 0, "y": 0}, threads={"A": a, "B": b})


NONDETERMINISTIC = [drifting_write, drifting_read, ends_early, runs_longer, waits_in_another_place, fails_later]


@pytest.mark.parametrize("make", NONDETERMINISTIC)
@pytest.mark.parametrize("strategy", ["exhaustive", "bounded"])
def test_a_program_that_changes_within_the_replayed_prefix_is_reported_as_on_the_general_path(make, strategy):
    short = explore(make(), strategy=strategy)
    general = explored_on_the_general_path(make(), strategy=strategy)
    assert short.stop_reason == "nondeterminism" and not short.complete
    (finding,) = [f for f in short.findings if f.kind == "nondeterminism"]
    assert finding.message.startswith(f"scenario {make().name!r} is nondeterministic")
    assert said(short) == said(general)


@pytest.mark.parametrize("make", NONDETERMINISTIC)
def test_dpor_says_of_a_program_that_changes_within_its_replayed_prefix_what_it_says_on_the_general_path(make):
    assert said(explore(make(), strategy="dpor")) == said(explored_on_the_general_path(make(), strategy="dpor"))


@pytest.mark.parametrize("increments", [1, 2, 3])
def test_dpor_asks_its_strategy_only_from_each_executions_branch_point_on(increments, monkeypatch):
    # below its branch point an execution repeats the last one's choices: the engine takes
    # them, so the strategy is asked fewer times than there are steps, for the same runs,
    # one per Mazurkiewicz trace
    asked = []
    choose = DPOR.choose
    monkeypatch.setattr(DPOR, "choose", lambda self, enabled, pending: asked.append(1) or choose(self, enabled, pending))
    scenario = Scenario("counter", variables={"x": 0}, threads={"A": adds(increments), "B": adds(increments)})
    result = explore(scenario, strategy="dpor")
    short = len(asked)
    general = explored_on_the_general_path(scenario, strategy="dpor")
    assert said(result) == said(general)
    assert result.executions == traces(increments)
    assert short < result.steps == len(asked) - short  # the general path asks at every step


def traces(increments: int) -> int:
    """Mazurkiewicz traces of two threads that each read then write x ``increments`` times,
    counted by brute force: interleavings that order every conflicting pair alike (two
    reads commute) are one trace."""
    steps = ["read", "write"] * increments
    n = len(steps)
    seen = set()
    for firsts in itertools.combinations(range(2 * n), n):  # the positions thread A's steps take
        at = {("A", i): p for i, p in enumerate(firsts)}
        rest = [p for p in range(2 * n) if p not in firsts]
        at.update({("B", i): p for i, p in enumerate(rest)})
        seen.add(frozenset((i, j, at["A", i] < at["B", j]) for i in range(n) for j in range(n)
                           if "write" in (steps[i], steps[j])))
    return len(seen)


@pytest.mark.parametrize(("strategy", "from_run"), [("exhaustive", 1), ("exhaustive", 3), ("bounded", 1), ("bounded", 3),
                                                     ("dpor", 1), ("dpor", 3), ("dpor", 5)])
def test_a_thread_that_raises_only_in_later_runs_is_reported_as_nondeterministic(strategy, from_run):
    # a run that ends early ends where its schedule went on before: nondeterminism, at the
    # step after the last one both runs took. dpor's five runs all go through with
    # from_run=5: the first witness replayed at the end fails (it was an internal error)
    result = explore(fails_later(from_run), strategy=strategy)
    assert result.stop_reason == "nondeterminism" and not result.complete
    (finding,) = [f for f in result.findings if f.kind == "nondeterminism"]
    assert finding.message.startswith("scenario 'fails later' is nondeterministic: the same schedule ran "
                                      "differently after step 1: the run failed there, and before it went on")
    assert result.executions == (from_run + 1 if from_run < 5 else 5)


@pytest.mark.parametrize("from_run", [1, 2, 3, 5])
def test_stateful_search_reports_a_thread_that_raises_only_in_later_runs_as_nondeterministic(from_run):
    # its graph walk learns each step of a thread once, from fresh generators: a run the
    # engine makes that ends where the walk saw the path go on is nondeterminism too. The
    # generator the walk learned a thread's first step from is the one it learns the
    # second from: with from_run=1 no other generator of A ever goes on
    result = explore(fails_later(from_run), strategy="stateful")
    assert result.stop_reason == "nondeterminism" and not result.complete
    (finding,) = [f for f in result.findings if f.kind == "nondeterminism"]
    assert finding.message.startswith("scenario 'fails later' is nondeterministic: the same schedule ran "
                                      "differently after step 1: the run failed there, and before it went on "
                                      "(thread A ")


@pytest.mark.parametrize("strategy", ["random", "pct", "auto"])
def test_a_thread_that_raises_from_the_second_run_on_is_nondeterminism_whatever_the_strategy(strategy):
    # random and pct runs seldom repeat the last one's prefix, so the first run is replayed
    # at the end: it went on where its replay fails. auto's first run is dpor's, as with
    # dpor alone (stateful search's walk starts its generators when its turn comes)
    budget = {"max_executions": 50} if strategy in ("random", "pct") else {}
    result = explore(fails_later(1), strategy=strategy, **budget)
    assert result.stop_reason == "nondeterminism" and not result.complete
    (finding,) = [f for f in result.findings if f.kind == "nondeterminism"]
    assert finding.message.startswith("scenario 'fails later' is nondeterministic: the same schedule ran "
                                      "differently after step ")
    assert "the run failed there, and before it went on (thread " in finding.message

