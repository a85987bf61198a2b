"""The stateful strategy: caching visited states changes how many executions run, never what is found."""

import gc
import json
import os
import re
import subprocess
import sys
from math import factorial
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from explorer import Event, Scenario, acquire, explore, read, release, replay, spawn, update, write
from explorer._engine import search as search_module
from explorer._engine.model_graph import ModelGraph
from explorer._engine.program import Program
from explorer._engine.search import search
from explorer._engine.state_keys import StateKeys
from explorer.detectors import PER_EXECUTION, lost_updates
from explorer.detectors.races import _site
from explorer.settings import Settings
from explorer.strategies import COMPLETE, STRATEGIES, Stateful
from explorer.testing import strategies as xst
from scenarios.dining_philosophers import dining

from .helpers import examples, library
from .reference import body
from .test_properties import VARIABLES, lock_kinds, op

SLOW = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def explored(scenario, strategy, **options):
    """The result, and every finding key the search gathered (races by thread and step
    number, before they are merged by source line, which the graph walk looks for). Stateful search runs without symmetry
    unless ``symmetry=True``: with it, a finding of one thread stands for its twins'.
    ``max_executions`` is a budget, as explore()'s."""
    keys = []
    original = search_module._public_findings

    def keep(program, found, locate):
        keys.append(set(found))
        return original(program, found, locate)

    search_module._public_findings = keep
    try:
        made = (Stateful(symmetry=options.get("symmetry", False), exact=options.get("exact", False))
                if strategy == "stateful" else STRATEGIES[strategy](0, None, None))
        result = search(Program(scenario), made, strategy, Settings(max_executions=options.get("max_executions")))
    finally:
        search_module._public_findings = original
    LAST["strategy"] = made
    return result, keys[0]


LAST: dict = {}  # the strategy explored() used last


def races(result) -> set:
    """Each race as the user sees it: its variable and the sites of its two accesses (their
    kinds and lines), which merge_races folds the racing pairs of steps by."""
    return {(finding.details["variable"], *sorted(_site(finding.trace.events, i) for i in finding.details["steps"]))
            for finding in result.findings if finding.kind == "race"}


def assert_same_findings(result, keys, exhaustive, exhaustive_keys) -> None:
    """``result`` and its finding keys show what exhaustive search's do: the same keys but
    races', and the same races by their sites."""
    assert {key for key in keys if key[0] != "race"} == {key for key in exhaustive_keys if key[0] != "race"}
    assert races(result) == races(exhaustive)


def assert_same_verdicts(scenario):
    """Stateful search finds what exhaustive search finds: every finding key but races',
    and every race by its sites (the graph walk looks for each pair of sites once, not
    for every pair of steps that shows it: races.merge_races folds those)."""
    exhaustive, exhaustive_keys = explored(scenario, "exhaustive")
    stateful, stateful_keys = explored(scenario, "stateful")
    assert_same_findings(stateful, stateful_keys, exhaustive, exhaustive_keys)
    assert set(stateful.final_states) == set(exhaustive.final_states)
    assert set(stateful.outcomes) == set(exhaustive.outcomes)
    assert (stateful.deadlocked > 0, stateful.failed > 0, stateful.truncated > 0) == \
           (exhaustive.deadlocked > 0, exhaustive.failed > 0, exhaustive.truncated > 0)
    assert {f.kind for f in stateful.findings} == {f.kind for f in exhaustive.findings}
    assert {edge[:4] for edge in stateful.lock_order} == {edge[:4] for edge in exhaustive.lock_order}
    assert stateful.complete == exhaustive.complete
    made = LAST["strategy"]
    if made.graph is None and made.paths:  # the walk gave up midway: replays run it all again
        assert stateful.executions <= exhaustive.executions + len(made.paths)
    else:
        assert stateful.executions <= exhaustive.executions
    return stateful


def failing(before, bad, after):
    """A reference thread that runs ``before``, raises if the value it last read is
    ``bad``, then runs ``after``: a failure that depends on the interleaving."""
    def run():
        register = yield from body(before)()
        if register == bad:
            raise ValueError(f"read {bad}")
        return (yield from body(after)())
    return run


ops = st.lists(op, max_size=2)
threads = st.one_of(ops.map(body), st.builds(failing, ops, st.integers(0, 2), ops))
thread_sets = st.dictionaries(st.sampled_from(["A", "B", "C"]), threads, min_size=1)


@SLOW
@given(thread_sets, lock_kinds)
def test_stateful_finds_exactly_what_exhaustive_finds_on_generated_scenarios(bodies, kinds):
    scenario = Scenario("generated", variables=dict.fromkeys(VARIABLES, 0), locks=kinds, threads=bodies)
    assert_same_verdicts(scenario)


@SLOW
@given(xst.scenarios(threads=range(1, 4), max_steps_per_thread=4))
def test_stateful_finds_exactly_what_exhaustive_finds_on_longer_threads(scenario):
    assert_same_verdicts(scenario)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(xst.scenarios(threads=range(2, 4), max_steps_per_thread=4, well_nested=True))
def test_stateful_finds_exactly_what_exhaustive_finds_with_well_nested_locks(scenario):
    assert_same_verdicts(scenario)


@pytest.mark.parametrize("scenario", library(exhaustive=True), ids=lambda scenario: scenario.name)
def test_stateful_gives_the_verdicts_of_exhaustive_exploration_on_the_scenario_library(scenario):
    assert_same_verdicts(scenario)


# One stateful search of a library scenario, twice, in a process that has run nothing
# else: one JSON line per search.
_TWICE = """
import json, sys
from explorer import explore
from tests.helpers import library
scenario, = [s for s in library(exhaustive=True) if s.name == sys.argv[1]]
for _ in range(2):
    r = explore(scenario, strategy="stateful")
    print(json.dumps([r.executions, r.pruned, r.states, sorted((repr(o), n) for o, n in r.outcomes.items()),
                      sorted((f.kind, f.occurrences, f.message) for f in r.findings)]))
"""
# Each of these was explored otherwise the first time in a process: the first read() of
# a variable handles a KeyError (a cache miss) inside the generator, which leaves None
# as the generator's exception state, and frame keys took that for a stack slot.
FIRST_TIME_DIFFERED = ["barrier phases", "bounded buffer", "lost update", "event handshake",
                       "check-then-act overdraft"]


def test_stateful_search_gives_the_same_result_the_first_time_and_every_time_in_a_process():
    root = Path(__file__).parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    running = {name: subprocess.Popen([sys.executable, "-c", _TWICE, name], cwd=root, env=env, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for name in FIRST_TIME_DIFFERED}
    runs = {}
    for name, process in running.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        runs[name] = [json.loads(line) for line in out.splitlines() if line.startswith("[")]
        assert len(runs[name]) == 2, out
        assert runs[name][0] == runs[name][1], name
    # Six runs, one per order in which the workers leave the barrier: the states the
    # seventh ran through differed from visited ones only by that None.
    assert runs["barrier phases"][0][0] == 6


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(thread_sets, lock_kinds)
def test_every_stateful_finding_trace_replays_to_the_same_finding(bodies, kinds):
    scenario = Scenario("generated", variables=dict.fromkeys(VARIABLES, 0), locks=kinds, threads=bodies)
    for finding in explore(scenario, strategy="stateful").findings:
        execution = replay(scenario, finding.trace)
        if finding.kind == "lock-order-cycle" and finding.details["steps"] is None:
            continue  # no explored execution takes every edge; see test_properties
        assert finding.message in {f.message for f in execution.findings}


def test_threads_on_disjoint_variables_run_far_fewer_executions_than_their_interleavings():
    def private(var):
        def run():
            for _ in range(2):
                value = yield read(var)
                yield write(var, value + 1)
        return run

    scenario = Scenario("independent", variables={f"v{i}": 0 for i in range(3)},
                        threads={f"T{i}": private(f"v{i}") for i in range(3)})
    result = explore(scenario, strategy="stateful")
    interleavings = factorial(12) // factorial(4) ** 3  # what exhaustive runs: 34,650
    assert result.complete and result.final_states == {next(iter(result.final_states)): result.executions}
    assert result.executions < interleavings // 100
    # every state is visited once: each thread at 0 to 4 steps taken
    assert result.states == 5 ** 3


def test_stateful_finds_the_philosophers_deadlock_in_a_few_dozen_executions():
    result = explore(dining(4, ordered=False), strategy="stateful")  # exhaustive: 1,167,000
    assert {"deadlock", "lock-order-cycle"} <= {f.kind for f in result.findings}
    assert result.complete and result.executions < 100


def adding(amount):
    def body():
        value = yield read("x")
        yield write("x", value + amount)
    return body


TWO_KINDS = Scenario("adders", variables={"x": 0},  # twins A0, A1 (thread 0, 1) and B0, B1 (2, 3)
                     threads={"A0": adding(1), "A1": adding(1), "B0": adding(2), "B1": adding(2)})


COUNTER_3X1 = Scenario("counter 3x1", variables={"x": 0}, threads={f"T{i}": adding(1) for i in range(3)})


def _walk_until(scenario, enough):
    graph = ModelGraph(Program(scenario), symmetry=True, exact=False, max_states=None, max_steps=1000)
    while not enough({frozenset((reader, writer)) for _var, reader, writer in graph.lost}):
        assert graph.next_schedule() is not None
    pairs = {frozenset((reader, writer)) for _var, reader, writer in graph.lost}
    assert {key for key in graph.seen if key[0] == "lost-update"} == {("lost-update", "x", *sorted(pair))
                                                                      for pair in pairs}
    return pairs


def test_a_lost_update_the_walk_sees_stands_for_every_pair_of_twins_from_then_on():
    # twins trade places in any run: the walk knows each pair's lost update once it sees one
    # pair's, and its keys leave out at once what could only show them (the last of the 20
    # pairs of counter 5x3 came after 68,423 of its 329,828 states; 261,838 states now)
    assert _walk_until(COUNTER_3X1, bool) == {frozenset(pair) for pair in ((0, 1), (0, 2), (1, 2))}
    across = {frozenset((a, b)) for a in (0, 1) for b in (2, 3)}  # one thread of each kind
    pairs = _walk_until(TWO_KINDS, lambda pairs: pairs & across)
    assert across <= pairs and pairs - across <= {frozenset((0, 1)), frozenset((2, 3))}


@pytest.mark.parametrize("scenario", [TWO_KINDS, COUNTER_3X1], ids=lambda scenario: scenario.name)
def test_the_result_lists_each_pair_of_twins_lost_update_with_a_trace_that_replays_to_it(scenario):
    # the walk runs a path for one pair's lost update; the others' come from its run with
    # the threads renumbered (search._close_under_symmetry): the pairs exhaustive finds
    stateful = explore(scenario, strategy="stateful")
    exhaustive = explore(scenario, strategy="exhaustive")

    def pairs(result):
        return sorted(tuple(sorted(set(re.findall(r"\b[AB]\d\b|\bT\d\b", finding.message))))
                      for finding in result.findings if finding.kind == "lost-update")

    assert pairs(stateful) == pairs(exhaustive) and len(pairs(stateful)) == len(set(pairs(stateful)))
    assert stateful.executions < len(pairs(stateful)) + 4  # not a path for each pair
    for finding in stateful.findings:
        again = replay(scenario, finding.trace)
        assert finding.message in {other.message for other in again.findings}, finding.message


def test_the_replaying_search_takes_twins_lost_updates_as_the_walk_does_and_lists_every_pair():
    # where the walk gives up, the replaying search keys its states with each noted lost
    # update and its twins' (StateKeys.note_lost); the assembly adds the twins' findings
    scenario = Scenario("counter 3x2", variables={"x": 0}, threads={f"T{i}": counting for i in range(3)})
    program = Program(scenario)
    replaying = search(program, Stateful(symmetry=True, graph=False), "stateful", Settings())
    exhaustive = explore(scenario, strategy="exhaustive")

    def pairs(result):
        return sorted(tuple(sorted(set(re.findall(r"\bT\d\b", finding.message))))
                      for finding in result.findings if finding.kind == "lost-update")

    assert pairs(replaying) == pairs(exhaustive) == [("T0", "T1"), ("T0", "T2"), ("T1", "T2")]
    assert set(replaying.outcomes) == set(exhaustive.outcomes)


def counting():
    for _ in range(2):
        value = yield read("x")
        yield write("x", value + 1)


def test_sleep_sets_spare_the_graph_walk_steps_that_commute_and_keep_every_state(monkeypatch):
    # Philosophers who share no fork take their steps in either order to one state: with
    # sleep sets the walk takes one order only. Every state is still visited, the
    # verdicts are exhaustive's, and far fewer steps lead into a state visited.
    scenario = dining(3, ordered=False)
    walk = ModelGraph.__init__  # releases taken first would visit fewer states: not here
    monkeypatch.setattr(ModelGraph, "__init__", lambda self, *a, **k: walk(self, *a, **{**k, "releases_first": False}))
    reduced = assert_same_verdicts(scenario)
    monkeypatch.setattr(ModelGraph, "_sleep_after", lambda self, state, thread, candidates: 0)
    every_order = assert_same_verdicts(scenario)
    assert reduced.deadlocked and reduced.states == every_order.states
    assert reduced.pruned * 2 < every_order.pruned


def test_the_graph_walk_takes_a_release_first_and_visits_fewer_states_with_the_same_verdicts(monkeypatch):
    # A thread about to release a lock it holds steps alone: nothing another thread can do
    # before that release conflicts with it (Godefroid's persistent sets).
    first = assert_same_verdicts(dining(3, ordered=False))
    bigger = explore(dining(5, ordered=False), strategy="stateful", symmetry=False)
    walk = ModelGraph.__init__
    monkeypatch.setattr(ModelGraph, "__init__", lambda self, *a, **k: walk(self, *a, **{**k, "releases_first": False}))
    every = assert_same_verdicts(dining(3, ordered=False))
    assert first.states < every.states
    every_bigger = explore(dining(5, ordered=False), strategy="stateful", symmetry=False)
    assert bigger.final_states.keys() == every_bigger.final_states.keys() and bigger.deadlocked
    assert {f.kind for f in bigger.findings} == {f.kind for f in every_bigger.findings}
    assert bigger.states * 2 < every_bigger.states


def test_a_release_by_a_thread_that_does_not_hold_the_lock_makes_the_walk_start_again_without_releases_first():
    # B releases l only when it reads 1, which A writes while holding l: a release that
    # races with A's own. Taking A's release first would hide the order where B's comes
    # first (A's then fails); the walk meets B about to release a lock it does not hold
    # and walks again without releases first.
    def holder():
        yield acquire("l")
        yield write("x", 1)
        yield release("l")

    def meddler():
        seen = yield read("x")
        if seen == 1:
            yield release("l")
        return seen

    scenario = Scenario("foreign release", variables={"x": 0}, locks=["l"], threads={"A": holder, "B": meddler})
    walk = Stateful(symmetry=False)
    search(Program(scenario), walk, "stateful", Settings())
    assert walk.graph is not None and not walk.graph.releases_first
    result = assert_same_verdicts(scenario)
    assert {"foreign-release", "error"} <= {f.kind for f in result.findings}


def _walked(ops, register=0):
    """A generated thread body of the steps the graph walk covers: reads and writes of two
    variables, blocks under one of two locks (nested too) and repeats, in a helper."""
    for op in ops:
        if op[0] == "read":
            register = yield read(op[1])
        elif op[0] == "write":
            yield write(op[1], register + op[2])
        elif op[0] == "locked":
            yield acquire(op[1])
            register = yield from _walked(op[2], register)
            yield release(op[1])
        else:  # ("repeat", times, body)
            for _ in range(op[1]):
                register = yield from _walked(op[2], register)
    return register


def _walked_steps(ops) -> int:
    return sum(2 + _walked_steps(op[2]) if op[0] == "locked" else op[1] * _walked_steps(op[2])
               if op[0] == "repeat" else 1 for op in ops)


_access = st.one_of(st.tuples(st.just("read"), st.sampled_from(["x", "y"])),
                    st.tuples(st.just("write"), st.sampled_from(["x", "y"]), st.integers(0, 1)))
_walked_ops = st.recursive(
    st.lists(_access, min_size=1, max_size=2).map(tuple),
    lambda inner: st.lists(st.one_of(_access,
                                     st.tuples(st.just("locked"), st.sampled_from(["l", "m"]), inner),
                                     st.tuples(st.just("repeat"), st.integers(1, 2), inner)),
                           min_size=1, max_size=2).map(tuple),
    max_leaves=4)


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_walked_ops, min_size=1, max_size=2), st.lists(st.integers(0, 1), min_size=2, max_size=3))
def test_the_graph_walk_with_sleep_sets_finds_what_exhaustive_finds_on_generated_programs_with_two_locks(
        distinct, picks):
    # the walk's own ground: its sleep sets treat steps on other variables and other locks
    # as commuting, and threads picking one body are twins (symmetry)
    bodies = [distinct[pick % len(distinct)] for pick in picks]
    assume(all(_walked_steps(body) <= (6 if len(picks) == 2 else 4) for body in bodies))
    threads = {f"T{n}": (lambda body=body: (yield from _walked(body))) for n, body in enumerate(bodies)}
    scenario = Scenario("walked", variables={"x": 0, "y": 0}, locks=["l", "m"], threads=threads)
    walk = Stateful(symmetry=False)
    search(Program(scenario), walk, "stateful", Settings())
    assert walk.graph is not None  # the walk explored it, not replays
    assert_same_verdicts(scenario)
    exhaustive = explore(scenario, strategy="exhaustive")
    twins = explore(scenario, strategy="stateful", symmetry=True)
    assert set(twins.final_states) == set(exhaustive.final_states)
    assert set(twins.outcomes) == set(exhaustive.outcomes)
    assert (twins.deadlocked > 0) == (exhaustive.deadlocked > 0)
    assert {f.kind for f in twins.findings} == {f.kind for f in exhaustive.findings}


def test_a_release_that_ends_the_run_is_not_taken_first():
    # A's release in a finally block is its last step before its exception ends the run:
    # taken first and alone, B never read y while A held m, and the lost update was missed
    def worker():
        yield acquire("m")
        try:
            yield write("y", 0)
            raise ValueError("worker fails")
        finally:
            yield release("m")

    def updater():
        yield acquire("m")
        yield release("m")
        seen = yield read("y")
        yield write("y", seen + 1)

    scenario = Scenario("release in finally", variables={"y": 0}, locks=["m"], threads={"A": worker, "B": updater})
    assert {"error", "lost-update", "race"} <= {f.kind for f in assert_same_verdicts(scenario).findings}


def test_a_release_where_closing_its_thread_fails_is_not_taken_first():
    # U's exception ends the run wherever T is; closed inside its try, T's finally yields
    # (a close error): taken first, T's release moved T out of the try before U could fail
    def t():
        try:
            yield acquire("m")
            yield write("x", 1)
            yield release("m")
        finally:
            yield write("x", 0)

    def u():
        if (yield read("x")) == 1:
            raise ValueError("saw 1")

    scenario = Scenario("close", variables={"x": 0}, locks=["m"], threads={"T": t, "U": u})
    assert {"close-error", "error", "race"} <= {f.kind for f in assert_same_verdicts(scenario).findings}


def test_twins_that_take_two_locks_in_both_orders_show_every_twins_edges_and_the_cycle():
    # With symmetry, a run stands for its twins' runs: the lock-order edges it shows stand
    # for theirs too (the outcomes were closed so, the edges were not: A's edges alone make
    # no cycle, which needs two threads)
    def body():
        yield acquire("c")
        yield acquire("b")
        yield release("c")
        yield acquire("c")
        yield acquire("c")
        yield release("c")
        yield release("c")

    scenario = Scenario("twins", locks={"b": "lock", "c": "rlock"}, threads={"A": body, "B": body, "C": body})
    exhaustive = explore(scenario, strategy="exhaustive")
    twins = explore(scenario, strategy="stateful")
    assert twins.symmetric and twins.executions < exhaustive.executions
    assert {edge[:4] for edge in twins.lock_order} == {edge[:4] for edge in exhaustive.lock_order}
    assert {f.kind for f in twins.findings} == {f.kind for f in exhaustive.findings} >= {"lock-order-cycle"}


def _unbalanced(ops):
    """A generated thread body whose lock steps need not pair up: a release of a lock
    another thread holds, or that nobody holds (caught, or not), an acquire never let go."""
    register = 0
    for op in ops:
        if op[0] == "read":
            register = yield read(op[1])
        elif op[0] == "write":
            yield write(op[1], register + op[2])
        elif op[0] == "acquire":
            yield acquire(op[1])
        elif op[0] == "release":
            yield release(op[1])
        elif op[0] == "catch":
            try:
                yield release(op[1])
            except RuntimeError:
                register += 1
        elif register == op[1]:  # ("if", value, op): one step, taken on what was read
            register = yield from _unbalanced([op[2]])
    return register


def test_a_thread_that_catches_a_release_of_a_free_lock_and_ends_is_followed_past_it():
    # T2's release of the free lock raises RuntimeError, which it catches, and then it ends.
    # The walk took "it ended" for "the exception escaped" and ran one path past the
    # release, where T0 takes the lock: the deadlock of T0 waiting for T1 was never found.
    bodies = [[("acquire", "l")], [("acquire", "l")], [("catch", "l")]]
    threads = {f"T{n}": (lambda body=body: (yield from _unbalanced(body))) for n, body in enumerate(bodies)}
    scenario = Scenario("caught, then ended", variables={"x": 0}, locks=["l"], threads=threads)
    result = assert_same_verdicts(scenario)
    waits = {finding.message.split(":")[1].split(",")[0] for finding in result.findings if finding.kind == "deadlock"}
    assert waits == {" T0 waits for lock 'l'", " T1 waits for lock 'l'"}


_lock_step = st.tuples(st.sampled_from(["acquire", "release", "catch"]), st.sampled_from(["l", "m"]))
_unbalanced_op = st.one_of(_access, _lock_step, st.tuples(st.just("if"), st.integers(0, 1), st.one_of(_access, _lock_step)))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_unbalanced_op, min_size=1, max_size=4), min_size=2, max_size=3))
def test_the_graph_walk_finds_what_exhaustive_finds_when_lock_steps_do_not_pair_up(bodies):
    assume(sum(map(len, bodies)) <= 9)
    threads = {f"T{n}": (lambda body=body: (yield from _unbalanced(body))) for n, body in enumerate(bodies)}
    scenario = Scenario("unbalanced", variables={"x": 0, "y": 0}, locks=["l", "m"], threads=threads)
    assert_same_verdicts(scenario)


def test_the_state_key_summarises_every_per_execution_detector():
    # The key keeps what lost updates and races depend on; a detector added to
    # PER_EXECUTION needs its own summary in explorer/_engine/state_keys.py.
    assert PER_EXECUTION == (lost_updates,)
    assert "stateful" in COMPLETE


def test_a_stale_read_keeps_two_otherwise_equal_states_apart():
    # A's write, then B's read, or B's read, then A's write: both reach B's write with
    # the same values, histories and knowledge (B synchronises with A through l after
    # both), but only after the second is B's read stale, and B's write a lost update.
    def take_and_write():
        yield acquire("l")
        yield write("x", 0)
        yield release("l")

    def b():
        yield acquire("l")
        yield read("x")
        yield release("l")
        yield acquire("l")
        yield release("l")
        yield from take_and_write()

    scenario = Scenario("stale", variables={"x": 0}, locks=["l"], threads={"A": take_and_write, "B": b})
    result = assert_same_verdicts(scenario)
    assert "lost-update" in {f.kind for f in result.findings} and result.pruned > 0


@pytest.mark.parametrize("walk", [True, False], ids=["graph walk", "replays"])
def test_a_stale_read_whose_lost_update_was_seen_no_longer_keeps_states_apart(walk, monkeypatch):
    # Three unlocked counters: every pair of them loses an update early on. From then on,
    # which thread overwrote a stale read can only show a lost update already seen, so
    # states that differ only there are one state: fewer states, the same verdicts.
    def count_twice():
        for _ in range(2):
            value = yield read("x")
            yield write("x", value + 1)

    objects = {} if walk else {"unused": Event()}  # an Event: the search replays, the walk stands aside
    scenario = Scenario("counters", variables={"x": 0}, objects=objects,
                        threads={name: count_twice for name in "ABC"})
    merged = assert_same_verdicts(scenario)
    assert "lost-update" in {f.kind for f in merged.findings}
    monkeypatch.setattr(ModelGraph, "_lost", lambda self, var, thread, writer: None)
    monkeypatch.setattr(StateKeys, "note_lost", lambda self, keys: None)
    apart = assert_same_verdicts(scenario)
    assert merged.states < apart.states


def test_what_a_thread_knows_keeps_two_otherwise_equal_states_apart():
    # B reads x once A has set the flag. If B took l after A released it, A's write of
    # x happens before B's read; if before, they race. Either way the program state is
    # the same when B reads x.
    def a():
        yield write("x", 1)
        yield acquire("l")
        yield release("l")
        yield write("flag", True)

    def b():
        yield acquire("l")
        yield release("l")
        if (yield read("flag")):
            yield read("x")

    scenario = Scenario("knowledge", variables={"x": 0, "flag": False}, locks=["l"], threads={"A": a, "B": b})
    result = assert_same_verdicts(scenario)
    assert "x" in {f.details["variable"] for f in result.findings if f.kind == "race"} and result.pruned > 0


def test_a_finished_thread_is_told_apart_by_its_history_while_its_accesses_can_still_race():
    # U reads the flag under l while W sets it and clears it, then reads or writes x,
    # depending on what it read; C writes x once U is done. W and U end the same either
    # way, but C's write races with U's read of x in one case and its write in the other.
    def w():
        yield acquire("m")
        for value in (1, 0):
            yield acquire("l")
            yield write("flag", value)
            yield release("l")
        yield release("m")

    def u():
        yield acquire("l")
        flag = yield read("flag")
        yield release("l")
        yield acquire("m")
        yield release("m")
        if flag:
            yield write("x", 0)
        else:
            yield read("x")
        yield write("done", True)

    def c():
        if (yield read("done")):
            yield write("x", 5)

    scenario = Scenario("finished", variables={"x": 0, "flag": 0, "done": False}, locks=["l", "m"],
                        threads={"W": w, "U": u, "C": c})
    result = assert_same_verdicts(scenario)
    assert result.pruned > 0


def test_equal_values_of_different_types_are_different_states():
    # A and B set x under l, to True and to 1, then say they are done; D looks at x's
    # type once both are. x == True and x == 1 are equal, yet D tells them apart.
    def setter(value, done):
        def run():
            yield acquire("l")
            yield write("x", value)
            yield release("l")
            yield write(done, True)
        return run

    def reader():
        if (yield read("a done")) and (yield read("b done")):
            return type((yield read("x"))).__name__
        return None

    scenario = Scenario("types", variables={"x": 0, "a done": False, "b done": False}, locks=["l"],
                        threads={"A": setter(True, "a done"), "B": setter(1, "b done"), "D": reader})
    result = assert_same_verdicts(scenario)
    assert {outcome["D"] for outcome in result.outcomes} == {"bool", "int", None}


def test_states_holding_unhashable_values_are_explored_without_caching():
    def scenario(value):
        def a():
            yield write("items", value)  # from here on every state holds it
            yield read("x")

        def b():  # its write and A's read, in either order, reach one state: cached, the second is cut
            yield write("x", 0)
            yield read("x")

        return Scenario("unhashable", variables={"items": (), "x": 0}, threads={"A": a, "B": b})

    unhashable = assert_same_verdicts(scenario([1]))
    hashable = assert_same_verdicts(scenario((1,)))
    assert unhashable.errors and hashable.pruned > 0
    # only the states before the write are stored (sleep sets still spare some runs)
    assert unhashable.states < hashable.states


@pytest.mark.parametrize("strategy", ["stateful", "dpor"])
def test_a_shortened_trace_words_each_race_it_shows_as_the_result_does(strategy):
    # Found by hypothesis: shortening one race's trace must also give the shorter run to the
    # other races it shows, or merging races by source line words them from another step pair.
    bodies = {"A": body([("read", "x")]),
              "B": failing([], 1, [("read", "x"), ("acquire", "l")]),
              "C": failing([("acquire", "l")], 1, [("write", "x", 0), ("release", "l")])}
    scenario = Scenario("generated", variables=dict.fromkeys(VARIABLES, 0), locks={"l": "lock", "m": "lock"},
                        threads=bodies)
    findings = explore(scenario, strategy=strategy).findings
    assert any(f.kind == "race" for f in findings)
    for finding in findings:
        assert finding.message in {f.message for f in replay(scenario, finding.trace).findings}


@pytest.mark.parametrize("walk", [True, False], ids=["graph walk", "replays"])
def test_a_budget_of_executions_bounds_a_search_whose_runs_end_in_states_visited(walk):
    """indexer(5): its runs meet in few states, so all but the first are cut at a state
    visited (83,520 of them when replaying, two minutes of work): a budget that counted
    only the runs reaching the end would never be hit. Runs cut, and steps of the graph
    walk into a visited state, count too."""
    from scenarios.indexer import indexer

    def bump(value):
        return value + 1

    scenario = indexer(5)
    if not walk:  # an update is a step the graph walk does not cover: the search replays
        scenario = Scenario(scenario.name, variables={**scenario.variables, "n": 0}, locks=scenario.locks,
                            threads={**scenario.threads, "U": lambda: (yield update("n", bump))})
    result = explore(scenario, strategy="stateful", max_executions=30)
    assert not result.complete and result.stop_reason == "max_executions"
    assert result.executions >= 1 and result.executions + result.pruned == 30
    assert "runs cut at a state already visited" in result.incomplete_reason  # why 30 is not 30 executions
    counter = Scenario("counter 4x4", variables={"x": 0}, threads={name: _four_increments for name in "ABCD"})
    for budget in (1, 10, 11, 50):  # runs handed out by the walk, and its steps into states visited
        bounded = explore(counter, strategy="stateful", max_executions=budget)
        assert bounded.executions + bounded.pruned == budget and bounded.stop_reason == "max_executions"
    complete = explore(indexer(3), strategy="stateful", max_executions=10_000)
    assert complete.complete and complete.executions + complete.pruned < 10_000


def _four_increments():
    for _ in range(4):
        value = yield read("x")
        yield write("x", value + 1)


def test_a_thread_the_graph_walk_gives_up_on_inside_a_finally_that_yields_prints_nothing(capfd, monkeypatch):
    # the walk learns the thread's steps on fresh generators; the update makes it give up,
    # and the generator it held then must be closed there, not by the garbage collector
    def increment():
        yield acquire("l")
        try:
            yield update("x", lambda value: value + 1)
        finally:
            yield release("l")

    ignored = []  # what Python would print as "Exception ignored in ...": a generator closed late
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: ignored.append(repr(unraisable.exc_value)))
    scenario = Scenario("finally", variables={"x": 0}, locks=["l"], threads={"A": increment, "B": increment})
    result = explore(scenario, strategy="stateful")
    gc.collect()
    assert set(result.final_states) == set(explore(scenario, strategy="exhaustive").final_states)
    assert ignored == [] and capfd.readouterr().err == ""


def test_stateful_search_leaves_no_generator_for_the_collector_to_close_noisily(monkeypatch):
    # Found by a review: a thread whose finally blocks yield (a deadlock holding a lock) was
    # closed by the graph walk, ignored GeneratorExit, and was closed again by the garbage
    # collector, which printed "Exception ignored ... generator ignored GeneratorExit"
    import gc
    import sys

    unraisable = []  # what Python would print as "Exception ignored in: <generator ...>"
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)

    def takes(first, second):
        yield acquire(first)
        try:
            yield acquire(second)
            try:
                yield update("x", lambda v: v + 1)
            finally:
                yield release(second)
        finally:
            yield release(first)

    scenario = Scenario("abba in finally blocks", variables={"x": 0}, locks=["a", "b"],
                        threads={"A": lambda: takes("a", "b"), "B": lambda: takes("b", "a")})
    for symmetry in (True, False):
        explored = explore(scenario, strategy="stateful", symmetry=symmetry)
        assert explored.deadlocked and "close-error" in {f.kind for f in explored.findings}
        gc.collect()
    assert not [str(u.exc_value) for u in unraisable], [str(u.exc_value) for u in unraisable]


def _adds_two():
    seen = yield read("y")
    yield write("y", (seen + 2) % 3)


def _reads_twice_then_writes_under_a_lock():
    for _ in range(2):
        seen = yield read("y")
        if seen == 0:
            yield write("y", 0)
    if seen == 2:
        yield acquire("l")
        yield write("y", 1)
        yield release("l")


def test_a_race_whose_steps_race_on_other_lines_in_another_run_is_still_shown_on_its_own():
    # found by a fuzzer: the walk saw the locked write race with the adder's steps, but the
    # search keeps races by thread and step number, and a later run took that key with the
    # unlocked write's line (the same step number of R, reached another way)
    scenario = Scenario("two lines, one step number", variables={"y": 0}, locks=["l"],
                        threads={"W": _adds_two, "R": _reads_twice_then_writes_under_a_lock})
    expected = races(explore(scenario, strategy="exhaustive"))
    assert len(expected) == 5
    for options in ({}, {"symmetry": False, "exact_states": True}):
        assert races(explore(scenario, strategy="stateful", **options)) == expected, options


def test_a_state_budget_that_stops_before_a_spawn_leaves_no_serial_baseline_and_no_internal_error():
    """The serial orders are made of the threads the search met; a run of them may start
    one it never met (A1, after a budget of one state): then there is no baseline."""
    def a1():
        yield read("x")

    def a():
        yield read("x")
        yield spawn("A1", a1)

    def reads():
        yield read("x")

    scenario = Scenario("spawns later", variables={"x": 0}, threads={"A": a, "B": reads, "C": reads, "D": reads})
    result = explore(scenario, strategy="stateful", max_states=1)
    assert not result.complete and result.findings == []
    assert explore(scenario, strategy="stateful").complete
