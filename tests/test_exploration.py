"""Exploration: counts, final states, outcomes, findings, budgets."""

import collections
import dataclasses
import re
from collections import Counter
from functools import partial

import pytest

from explorer import (
    InvalidArgument,
    Outcome,
    Scenario,
    State,
    acquire,
    crosscheck,
    explore,
    join,
    read,
    release,
    replay,
    spawn,
    update,
    write,
)

from .helpers import (
    HANDED,
    Account,
    abba,
    add_first,
    adds_one,
    assert_complete_strategies_agree,
    deposit,
    writes,
)


def increment():
    value = yield read("x")
    yield write("x", value + 1)
    return value


def locked_increment(lock="lock"):
    yield acquire(lock)
    value = yield from increment()
    yield release(lock)
    return value


COUNTER = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})


def test_unlocked_counter_loses_an_update_in_four_of_six_executions():
    result = explore(COUNTER, strategy="exhaustive")
    assert result.executions == result.completed == 6
    assert result.complete and result.stop_reason is None
    assert result.final_states == {State(x=1): 4, State(x=2): 2}
    assert result.steps == 24
    assert sorted(f.kind for f in result.findings) == ["lost-update", "nonserializable", "race", "race"]


def test_outcomes_hold_each_threads_return_value():
    result = explore(COUNTER, strategy="exhaustive")
    assert result.outcomes == {
        Outcome({"x": 1}, {"A": 0, "B": 0}): 4,
        Outcome({"x": 2}, {"A": 0, "B": 1}): 1,
        Outcome({"x": 2}, {"A": 1, "B": 0}): 1,
    }
    outcome = next(iter(result.outcomes))
    assert outcome["A"] == outcome.returns["A"] and outcome["x"] == outcome.state["x"]


def test_final_state_keys_are_read_only_hashable_mappings():
    state = next(iter(explore(COUNTER).final_states))
    assert dict(state) in ({"x": 1}, {"x": 2})
    with pytest.raises(TypeError):
        state["x"] = 5
    assert hash(state) == hash(State(dict(state)))


def _adds_nan():
    value = yield read("x")
    yield write("x", value + float("nan"))  # a new NaN object in every run
    return (value + 1.0,)  # NaN for the thread that read the other's


@pytest.mark.parametrize("strategy", ["exhaustive", "dpor", "stateful", "bounded", "random"])
def test_values_equal_under_double_equals_but_of_other_types_are_other_final_states(strategy):
    # 1 == True == 1.0 and 0.0 == -0.0, but each prints apart and a program can tell them apart
    scenario = Scenario("one, True and 1.0", variables={"x": 0, "y": 0.0},
                        threads={"A": writes("x", 1), "B": writes("x", True), "C": writes("x", 1.0)})
    result = explore(scenario, strategy=strategy, max_executions=600)
    assert result.complete or strategy == "random"
    assert {repr(state["x"]) for state in result.final_states} == {"1", "True", "1.0"}
    assert len(result.final_states) == 3 and len(result.outcomes) == 3
    assert "nonserializable" not in {f.kind for f in result.findings}  # each is some serial order's
    if strategy == "exhaustive":
        assert result.final_states == {State(x=1, y=0.0): 2, State(x=True, y=0.0): 2, State(x=1.0, y=0.0): 2}
    signs = Scenario("zeros", variables={"x": 1, "z": 0},
                     threads={"A": writes("x", 0.0), "B": writes("x", -0.0), "C": writes("z", True)})
    zeros = explore(signs, strategy=strategy, max_executions=600)
    # (the graph walk behind stateful once took its two ends for one, and ran only one)
    assert sorted(repr(state["x"]) for state in zeros.final_states) == ["-0.0", "0.0"]
    assert "nonserializable" not in {f.kind for f in zeros.findings}


def test_a_state_equals_a_mapping_by_double_equals_and_another_state_only_with_the_same_types():
    assert State(x=1) == {"x": True} and State(x=(1, 2)) == {"x": (True, 2)}
    assert State(x=1) != State(x=True) and State(x=(1, 2)) != State(x=(True, 2))
    assert State(x=0.0) != State(x=-0.0) and State(x=frozenset({1})) != State(x=frozenset({True}))
    assert State(x=float("nan")) == State(x=float("nan"))
    assert hash(State(x=float("nan"), y=(float("nan"),))) == hash(State(x=float("nan"), y=(float("nan"),)))


Point = collections.namedtuple("Point", "x y")


@dataclasses.dataclass(frozen=True)
class Reading:
    value: object
    note: str = dataclasses.field(default="", compare=False)


def test_named_tuples_and_frozen_dataclasses_keep_their_values_types_and_share_their_nans():
    assert State(p=Point(1, 2)) != State(p=Point(True, 2)) and State(p=Point(1, 2)) == {"p": Point(True, 2)}
    assert State(r=Reading(0.0)) != State(r=Reading(-0.0)) and State(r=Reading(1)) == State(r=Reading(1, "other"))
    assert State(p=Point(float("nan"), 1), r=Reading(float("nan"))) == State(p=Point(float("nan"), 1), r=Reading(float("nan")))
    assert State(c=complex(float("nan"), 1)) == State(c=complex(float("nan"), 1))


def _moves_to_a_new_nan_point():
    here = yield read("p")
    yield write("p", Point(here.x + float("nan"), here.y))  # a new NaN in a new Point, every run


@pytest.mark.parametrize("strategy", ["exhaustive", "dpor", "stateful"])
def test_a_named_tuple_holding_a_nan_made_afresh_in_every_run_is_one_final_state(strategy):
    scenario = Scenario("nan point", variables={"p": Point(0.0, 1)},
                        threads={"A": _moves_to_a_new_nan_point, "B": _moves_to_a_new_nan_point})
    result = explore(scenario, strategy=strategy)
    assert len(result.final_states) == 1 and len(result.outcomes) == 1
    assert {f.kind for f in result.findings} == {"lost-update", "race"}  # no run is its own outcome


@pytest.mark.parametrize("strategy", ["exhaustive", "dpor", "stateful"])
def test_a_nan_made_afresh_in_every_run_is_one_final_state_that_is_serializable(strategy):
    scenario = Scenario("nan", variables={"x": 0.0}, threads={"A": _adds_nan, "B": _adds_nan})
    result = explore(scenario, strategy=strategy)
    assert len(result.final_states) == 1 and set(result.outcomes) == set(explore(scenario).outcomes)
    assert len(result.outcomes) == 3  # A read 0.0 and B NaN, or the other way, or both 0.0: lost
    nonserializable = [f for f in result.findings if f.kind == "nonserializable"]
    assert len(nonserializable) == 1 and "A returned (1.0,), B returned (1.0,)" in nonserializable[0].message
    check = crosscheck(scenario, runs=20, model=result)
    assert check.runs == 20 and not check.unexpected


@pytest.mark.parametrize("kind", ["lock", "rlock"])
def test_locked_counter_has_two_executions_that_both_end_at_two(kind):
    scenario = Scenario("locked", variables={"x": 0}, locks={"lock": kind},
                        threads={"A": locked_increment, "B": locked_increment})
    result = explore(scenario)
    assert result.executions == 2
    assert result.final_states == {State(x=2): 2}
    assert result.findings == []


def test_abba_deadlock_is_reported_with_its_cycle_and_a_replayable_trace():
    scenario = abba()
    result = explore(scenario, strategy="exhaustive")
    assert (result.executions, result.completed, result.deadlocked) == (6, 4, 2)
    (deadlock,) = result.deadlocks
    assert deadlock.cycle == ["A", "B", "A"]
    assert deadlock.occurrences == 2
    assert deadlock.trace.schedule == ("A", "B")
    assert dict(deadlock.trace.blocked) == {"A": "b", "B": "a"}
    graph = deadlock.wait_for_graph()
    assert set(graph.edges(data="lock")) == {("A", "B", "b"), ("B", "A", "a")}
    assert replay(scenario, deadlock.trace).status == "deadlocked"


def test_a_plain_lock_acquired_twice_by_its_holder_deadlocks_on_itself():
    def twice():
        yield acquire("l")
        yield acquire("l")

    result = explore(Scenario("twice", locks={"l": "lock"}, threads={"A": twice}))
    (deadlock,) = result.deadlocks
    assert deadlock.cycle == ["A", "A"]
    assert "itself holds" in deadlock.message


def test_an_rlock_counts_its_owners_acquisitions():
    def twice_then_once_released():
        yield acquire("r")
        yield acquire("r")
        yield release("r")
        value = yield read("x")  # still held: depth 1
        yield write("x", value + 1)
        yield release("r")

    scenario = Scenario("rlock", variables={"x": 0}, locks={"r": "rlock"},
                        threads={"A": twice_then_once_released, "B": twice_then_once_released})
    result = explore(scenario)
    assert result.final_states == {State(x=2): result.executions}
    assert result.executions == 2  # held from first acquire to last release: no interleaving inside


def test_a_thread_that_raises_is_an_error_finding_and_the_others_still_explore():
    def fragile():
        value = yield read("x")
        if value == 1:
            raise ValueError("saw a one")
        yield write("x", 1)

    result = explore(Scenario("fragile", variables={"x": 0}, threads={"A": fragile, "B": fragile}), strategy="exhaustive")
    assert result.executions == 6 and result.failed == 2 and result.completed == 4
    raised = [f for f in result.errors if f.kind == "error"]  # errors also holds the nonserializable outcome
    assert {f.thread for f in raised} == {"A", "B"}
    error = raised[0]
    assert isinstance(error.exception, ValueError)
    assert "raised ValueError: saw a one" in error.message and "test_exploration.py" in error.message


def test_a_thread_called_with_the_wrong_arguments_fails_to_start_and_says_so():
    def update(name):
        yield read("x")

    result = explore(Scenario("signature", variables={"x": 0}, threads={"A": partial(update, 1, 2)}))
    (error,) = result.errors
    assert "did not start" in error.message and "TypeError" in error.message
    assert result.executions == 1 and result.failed == 1


@pytest.mark.parametrize("body, expected", [
    (lambda: 42, "returned int 42, not a generator"),
    (lambda: iter([read("x")]), "not a generator"),
])
def test_a_thread_body_that_is_not_a_generator_is_an_error_finding(body, expected):
    (error,) = explore(Scenario("plain", variables={"x": 0}, threads={"A": body})).errors
    assert expected in error.message


def test_a_coroutine_thread_body_is_an_error_and_leaves_no_never_awaited_warning(recwarn):
    async def body():
        return 1

    (error,) = explore(Scenario("async", threads={"A": body})).errors
    assert "coroutine" in error.message
    assert not [w for w in recwarn if "never awaited" in str(w.message)]


def test_yielding_a_non_step_names_the_thread_the_value_and_the_line():
    def odd():
        yield read("x")
        yield 42

    (error,) = explore(Scenario("odd", variables={"x": 0}, threads={"A": odd})).errors
    assert "thread A yielded 42 (int)" in error.message
    assert "test_exploration.py:" in error.message
    assert error.trace.schedule == ("A",)


def test_an_unknown_variable_or_lock_is_an_error_naming_the_declared_ones():
    def unknown():
        yield read("y")

    (error,) = explore(Scenario("unknown", variables={"x": 0}, threads={"A": unknown})).errors
    assert "'y' is not a declared variable" in error.message and "['x']" in error.message


def test_releasing_an_unheld_lock_is_an_error_like_threading_runtime_error():
    def release_first():
        yield release("l")

    (error,) = explore(Scenario("unheld", locks=["l"], threads={"A": release_first})).errors
    assert "RuntimeError('release unlocked lock')" in error.message
    assert isinstance(error.exception, RuntimeError)


def release_and_carry_on():
    try:
        yield release("l")
    except RuntimeError:
        pass  # as threading lets it be caught
    seen = yield read("x")
    yield write("x", seen + 1)
    return "went on"


def bump_x():
    seen = yield read("x")
    yield write("x", seen + 1)


def test_a_thread_that_catches_the_runtime_error_of_releasing_an_unheld_lock_goes_on_as_on_real_threads():
    # the refused release ended the run with an error before, whatever the thread did about it
    scenario = Scenario("caught", variables={"x": 0}, locks={"l": "lock"},
                        threads={"A": release_and_carry_on, "B": bump_x})
    for strategy in ("exhaustive", "dpor", "stateful"):
        result = explore(scenario, strategy=strategy)
        assert result.failed == 0 and "error" not in {f.kind for f in result.findings}, strategy
        assert {(o["x"], o["A"]) for o in result.outcomes} == {(1, "went on"), (2, "went on")}, strategy
    assert_complete_strategies_agree(scenario)
    check = crosscheck(scenario, runs=20)
    assert check.unexpected == [] and check.errors == Counter(), check.render()


def release_unheld_and_catch():
    try:
        yield release("l")
    except RuntimeError:
        pass


def take_and_give_back():
    yield acquire("l")
    yield release("l")


def test_dpor_tries_an_acquire_before_a_caught_release_of_a_lock_nobody_holds():
    # the release raises when nobody holds the lock, and frees another's hold when it comes
    # after the acquire (a foreign release, then the holder's own release raises): dpor took a
    # release never to race with a later acquire, and ran the first order only (found by a review)
    scenario = Scenario("caught release, then a user", locks={"l": "lock"},
                        threads={"A": release_unheld_and_catch, "B": take_and_give_back})
    for strategy in ("exhaustive", "dpor", "stateful"):
        assert {f.kind for f in explore(scenario, strategy=strategy).findings} == {"error", "foreign-release"}, strategy
    assert explore(scenario, strategy="dpor", workers=2).executions == 3
    assert_complete_strategies_agree(scenario)


def release_rlock_and_read_the_words():
    yield write("a", 1)
    try:
        yield release("r")
    except RuntimeError as error:
        if "un-acquired" not in str(error):  # threading's words for an RLock
            raise
    yield write("x", 3)


def write_b_read_x():
    yield write("b", 1)
    return (yield read("x"))


def test_stateful_follows_a_thread_that_catches_a_refused_rlock_release_by_its_words():
    scenario = Scenario("rlock words", variables={"a": 0, "b": 0, "x": 0}, locks={"r": "rlock"},
                        threads={"A": release_rlock_and_read_the_words, "B": write_b_read_x})
    assert {o["B"] for o in explore(scenario, strategy="stateful").outcomes} == {0, 3}
    assert_complete_strategies_agree(scenario)


def test_releasing_an_rlock_held_by_another_thread_is_an_error():
    def hold():
        yield acquire("r")
        yield release("r")

    def steal():
        yield release("r")

    result = explore(Scenario("steal", locks={"r": "rlock"}, threads={"A": hold, "B": steal}))
    messages = [f.message for f in result.errors]
    assert any("cannot release un-acquired lock" in m and "held by A" in m for m in messages)


def test_releasing_a_plain_lock_held_by_another_thread_is_allowed_but_warned():
    def hold():
        yield acquire("l")

    def release_for_it():
        yield release("l")

    result = explore(Scenario("foreign", locks=["l"], threads={"A": hold, "B": release_for_it}))
    assert "foreign-release" in {f.kind for f in result.warnings}
    assert result.completed >= 1


def test_a_thread_that_finishes_holding_a_lock_is_a_warning_and_the_lock_stays_held():
    def leaky():
        yield acquire("l")

    def later():
        yield acquire("l")
        yield release("l")

    result = explore(Scenario("leak", locks=["l"], threads={"A": leaky, "B": later}))
    assert [f.kind for f in result.warnings] == ["lock-held-at-exit"]
    (deadlock,) = result.deadlocks
    assert "finished without releasing it" in deadlock.message
    assert result.completed == 1  # only B first, then A keeps it


def test_a_thread_past_max_steps_is_a_finding_and_the_result_is_incomplete():
    def spin():
        while (yield read("flag")) == 0:
            pass

    result = explore(Scenario("spin", variables={"flag": 0}, threads={"A": spin}), max_steps=50)
    assert result.truncated == 1 and not result.complete
    (finding,) = [f for f in result.findings if f.kind == "max-steps"]
    assert "max_steps=50" in finding.message and len(finding.trace) == 50
    assert "max_steps" in result.incomplete_reason


def test_max_executions_stops_early_and_says_the_result_is_incomplete():
    result = explore(COUNTER, max_executions=4, strategy="exhaustive")
    assert result.executions == 4 and not result.complete
    assert result.stop_reason == "max_executions"
    assert sum(result.final_states.values()) == 4


def test_a_budget_equal_to_the_whole_space_still_counts_as_complete():
    result = explore(COUNTER, max_executions=6, strategy="exhaustive")
    assert result.executions == 6 and result.complete


def test_a_time_limit_that_expires_makes_the_result_incomplete():
    def long():
        for _ in range(8):
            value = yield read("x")
            yield write("x", value + 1)

    scenario = Scenario("long", variables={"x": 0}, threads={"A": long, "B": long, "C": long})
    result = explore(scenario, time_limit=0.05)
    assert not result.complete and result.stop_reason == "time_limit"


def test_nondeterministic_scenario_is_reported_with_the_step_and_stops_the_search():
    calls = []

    def drifting():
        calls.append(1)
        yield write("x", len(calls))  # differs from run to run
        yield read("x")

    result = explore(Scenario("drift", variables={"x": 0}, threads={"A": drifting, "B": increment}))
    (finding,) = [f for f in result.findings if f.kind == "nondeterminism"]
    assert "step 1" in finding.message and "write('x'" in finding.message
    assert result.stop_reason == "nondeterminism" and not result.complete


@pytest.mark.parametrize("kwargs, message", [
    ({"strategy": "dfs"}, "unknown strategy 'dfs'"),
    ({"max_executions": 0}, "max_executions must be a positive whole number"),
    ({"max_steps": 2.5}, "max_steps must be a positive whole number"),
    ({"time_limit": -1}, "time_limit must be a positive number"),
])
def test_bad_arguments_to_explore_are_refused_before_anything_runs(kwargs, message):
    with pytest.raises(InvalidArgument, match=message):
        explore(COUNTER, **kwargs)


def test_explore_refuses_something_that_is_not_a_scenario():
    with pytest.raises(TypeError, match="expected a Scenario"):
        explore({"threads": {}})


def test_generators_of_an_unfinished_execution_are_closed_in_thread_order():
    closed = []

    def waiter(name):
        try:
            yield acquire("l")
            yield acquire("l")
        finally:
            closed.append(name)

    explore(Scenario("close", locks=["l"], threads={"A": partial(waiter, "A"), "B": partial(waiter, "B")}))
    # every unfinished execution closes A then B, at once (search, serial runs, located replays)
    assert len(closed) >= 4 and closed == ["A", "B"] * (len(closed) // 2)


def test_a_generator_that_yields_after_being_closed_is_reported_not_fatal():
    def stubborn():
        yield acquire("l")
        while True:
            try:
                yield acquire("l")
            except GeneratorExit:
                pass

    result = explore(Scenario("stubborn", locks=["l"], threads={"A": stubborn}))
    assert any("while being closed" in f.message for f in result.warnings)
    assert result.deadlocks


def test_the_runs_kept_as_witnesses_share_the_events_of_their_common_prefix_but_one_is_not_true():
    """A run that replays the previous run's prefix logs that run's events where they hold
    plain values of the same types: the witnesses of many outcomes then cost little more
    than their differing suffixes. A write of True where the previous run wrote 1 (a
    thread that keeps state between runs) passes the replay's check, as equal, and is
    logged as it is: equal is not alike."""
    import itertools
    import time

    from explorer._engine.execution import Execution
    from explorer._engine.program import Program
    from explorer._engine.search import Deadline, Settings, drive
    from explorer._engine.tally import Tally
    from explorer._engine.units import strategy_for

    def writes(value, mine):
        def body():
            yield write("x", value)
            yield write(mine, (yield read("x")))
        return body

    program = Program(Scenario("writers", variables={"x": 0, "a": 0, "b": 0},
                               threads={"A": writes(1, "a"), "B": writes(2, "b")}))
    with program.session():
        tally = Tally()
        drive(program, strategy_for("exhaustive", {}), Settings(), tally, Deadline(None), time.monotonic())
    runs = [events for _score, events in tally.witnesses.values()]
    assert len(runs) > 2
    shared = sum(mine is theirs for first, second in itertools.combinations(runs, 2)
                 for mine, theirs in itertools.takewhile(lambda pair: pair[0][0] == pair[1][0], zip(first, second)))
    assert shared > 0

    written = iter([1, True])

    def flips():
        yield write("x", next(written))
        yield read("x")

    program = Program(Scenario("flips", variables={"x": 0}, threads={"A": flips}))
    with program.session():
        first = Execution(program)
        first.run(lambda enabled: enabled[0], 100, [])
        second = Execution(program)
        second.run(lambda enabled: enabled[0], 100, first.events)
    assert repr(first.events[0][1]) == "write('x', 1)" and repr(second.events[0][1]) == "write('x', True)"
    assert second.events[0] is not first.events[0] and second.events[1][2] is True


# ---- objects handed from thread to thread are compared as they were when handed ---------------

@pytest.mark.parametrize("strategy", ["exhaustive", "dpor", "stateful"])
@pytest.mark.parametrize("case", list(HANDED))
def test_an_object_made_afresh_in_each_run_and_handed_to_a_thread_is_no_nondeterminism(case, strategy):
    threads, objects, totals = HANDED[case]
    scenario = Scenario(case, variables={"total": 0}, objects=objects, threads=threads)
    explored = explore(scenario, strategy=strategy)
    assert explored.complete and not [f for f in explored.findings if f.kind == "nondeterminism"]
    # lost updates included: the other thread's 1 alone, the handed balance alone, or both
    assert {state["total"] for state in explored.final_states} == totals


def _one_of(handed):
    item = handed() if callable(handed) else next(handed)
    return item[0] if isinstance(item, tuple) else item


@pytest.mark.parametrize("strategy", ["exhaustive", "dpor", "stateful"])
@pytest.mark.parametrize("made", [lambda: (lambda: 1), lambda: iter((1,)), lambda: iter(range(1, 2)),
                                  lambda: zip((1,)), lambda: enumerate((1,), 1)],
                         ids=["lambda", "tuple iterator", "range iterator", "zip", "enumerate"])
def test_a_function_or_iterator_made_afresh_and_handed_to_a_spawned_thread_is_no_nondeterminism(made, strategy):
    # inside the spawn's argument tuple a lambda compared by identity, and so did an
    # iterator: every run after the first was reported as nondeterministic
    def child(handed):
        value = yield read("total")
        yield write("total", value + _one_of(handed))

    def main():
        yield spawn("W", child, made())
        yield join("W")

    scenario = Scenario("handed", variables={"total": 0}, threads={"main": main, "other": adds_one})
    explored = explore(scenario, strategy=strategy)
    assert explored.complete and not [f for f in explored.findings if f.kind == "nondeterminism"]
    assert {state["total"] for state in explored.final_states} == {1, 2}


def test_a_list_handed_to_a_child_is_shown_as_it_was_when_handed_where_runs_differ():
    made = []

    def parent():
        made.append(1)
        log = [len(made)]
        yield spawn("child", add_first, log)
        log.append(9)  # after the step: not what the step handed over
        yield join("child")

    explored = explore(Scenario("handed list", variables={"total": 0}, threads={"main": parent, "other": adds_one}))
    (finding,) = [f for f in explored.findings if f.kind == "nondeterminism"]
    assert "did spawn('child', add_first, ([1],)) before and spawn('child', add_first, ([2],)) now" in finding.message


def test_an_object_handed_to_a_thread_that_differs_between_runs_is_still_nondeterminism():
    made = []

    def parent():
        made.append(1)
        yield spawn("child", deposit, Account(len(made)))  # a balance that grows run after run
        yield join("child")

    explored = explore(Scenario("drifting account", variables={"total": 0},
                                threads={"main": parent, "other": adds_one}))
    (finding,) = [f for f in explored.findings if f.kind == "nondeterminism"]
    assert "step 1" in finding.message and "spawn('child'" in finding.message
    assert explored.stop_reason == "nondeterminism" and not explored.complete


def test_writing_an_object_compared_by_identity_is_named_as_the_cause_not_as_nondeterminism():
    def writer():
        yield write("x", Account(1))

    explored = explore(Scenario("account", variables={"x": 0}, threads={"A": writer, "B": _adds_x}))
    (finding,) = [f for f in explored.findings if f.kind == "nondeterminism"]
    assert re.match(r"scenario .account.: thread A at step \d wrote <.*Account object> to .x.", finding.message)
    assert "class Account compared by identity" in finding.message and "frozen dataclass" in finding.message


def test_a_list_changed_after_it_was_written_is_named_as_the_cause():
    def writer():
        items = [1]
        yield write("x", items)
        items.append(2)
        yield write("x", 0)

    explored = explore(Scenario("changed list", variables={"x": 0}, threads={"A": writer, "B": _adds_x}))
    (finding,) = [f for f in explored.findings if f.kind == "nondeterminism"]
    assert "thread A at step 1 wrote [1] to 'x'" in finding.message
    assert "changed it after writing it" in finding.message and "[1, 2]" in finding.message


def _adds_x():
    seen = yield read("x")
    yield write("x", seen + 1 if isinstance(seen, int) else 1)


class Token:
    """An object with neither __eq__ nor __hash__ of its own."""

    def __repr__(self):
        return "Token()"


def _counts_then_returns_a_token():
    seen = yield read("x")
    yield write("x", seen + 1)
    return Token()


def test_a_thread_returning_an_object_compared_by_identity_is_one_error_alike_on_every_strategy():
    # Found by a review: each run's Token() was an outcome of its own (6 exhaustive, 4 dpor),
    # and a single thread was called non-serializable
    scenario = Scenario("tokens", variables={"x": 0},
                        threads={"A": _counts_then_returns_a_token, "B": _counts_then_returns_a_token})
    for strategy in ("exhaustive", "dpor", "stateful", "bounded"):
        explored = explore(scenario, strategy=strategy)
        assert not explored.outcomes and "nonserializable" not in {f.kind for f in explored.findings}, strategy
        (error,) = [f for f in explored.findings if f.kind == "error"]
        assert error.message.startswith("scenario 'tokens': thread ") and "returned Token(): an object of class " \
            "Token compared by identity" in error.message and "frozen dataclass" in error.message


class HashedToken:
    """A hash of its own, but == by identity: each run's is unequal to the last's."""

    def __init__(self, value):
        self.value = value

    def __hash__(self):
        return hash(self.value)


def _writes_a_hashed_token():
    yield write("x", HashedToken(1))


def _reads_x():
    yield read("x")
    return 0


def test_an_object_with_a_hash_but_no_eq_of_its_own_is_named_as_compared_by_identity_not_called_nonserializable():
    # Found by review: the serial runs' tokens differed from the explored ones, so the one
    # final state was called non-serializable, and the write read as plain nondeterminism
    scenario = Scenario("hashed", variables={"x": None}, threads={"A": _writes_a_hashed_token, "B": _reads_x})
    for strategy in ("exhaustive", "dpor", "stateful"):
        kinds = {f.kind for f in explore(scenario, strategy=strategy).findings}
        assert "nonserializable" not in kinds and "error" in kinds, strategy
    (error,) = [f for f in explore(scenario).findings if f.kind == "error"]
    assert "an object of class HashedToken compared by identity" in error.message


MISSING = object()  # a sentinel: the same object in every run


def _counts_then_returns(made):
    seen = yield read("x")
    yield write("x", seen + 1)
    return made()


def test_a_thread_returning_a_fresh_object_without_attributes_is_the_same_error_not_a_nonserializable_outcome():
    # object(), a generator or a slotted instance made by the thread: each run's was an
    # outcome of its own, and the serial runs' objects differ from the explored ones, so a
    # serializable outcome was called non-serializable
    for made in (object, lambda: (i for i in ()), lambda: (1, object())):
        threads = {"A": partial(_counts_then_returns, made), "B": partial(_counts_then_returns, made)}
        scenario = Scenario("fresh", variables={"x": 0}, threads=threads)
        for strategy in ("exhaustive", "dpor", "stateful"):
            explored = explore(scenario, strategy=strategy)
            assert not explored.outcomes and "nonserializable" not in {f.kind for f in explored.findings}, strategy
            (error,) = [f for f in explored.findings if f.kind == "error"]
            assert "compared by identity, which each run makes afresh" in error.message, strategy


def test_a_thread_returning_a_module_level_sentinel_counts_its_outcomes_by_value():
    threads = {"A": partial(_counts_then_returns, lambda: MISSING), "B": partial(_counts_then_returns, lambda: MISSING)}
    explored = explore(Scenario("sentinel", variables={"x": 0}, threads=threads), strategy="exhaustive")
    assert sorted(explored.outcomes.values()) == [2, 4]
    assert {f.kind for f in explored.findings} == {"lost-update", "nonserializable", "race"}
    (lone,) = [f for f in explored.findings if f.kind == "nonserializable"]
    assert "final state x=1" in lone.message  # the lost update's, not a sentinel's


def test_an_update_that_leaves_a_list_in_a_variable_names_its_thread_and_step():
    def appends():
        yield update("log", lambda log: [*log, "A"])

    (error,) = explore(Scenario("log", variables={"log": ()}, threads={"A": appends})).findings
    assert error.message.startswith("scenario 'log': thread A wrote ['A'] (list) to 'log' at step 1, which is not "
                                    "hashable")


def test_a_body_that_cannot_be_called_so_is_an_error_that_names_no_file_of_explorers():
    # Found by a review: the TypeError of calling it was placed "at explorer/_engine/driver.py:44"
    def needs(value):
        yield write("x", value)

    (error,) = explore(Scenario("no argument", variables={"x": 0}, threads={"A": needs})).findings
    assert "missing 1 required positional argument: 'value'" in error.message
    assert "explorer/" not in error.message and "driver.py" not in error.message
