"""Regressions that the property tests over every kind of object (test_object_properties.py)
found, each shrunk by hypothesis and by hand to its smallest scenario."""

import pytest

from explorer import Queue, Scenario, ScheduleError, acquire, explore, join, put, read, release, replay, spawn, write

from .helpers import assert_complete_strategies_agree, assert_findings_replay


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


def write_x():
    yield write("x", 1)


def spawn_a_writer():
    yield spawn("A1", write_x)


def test_a_finding_whose_trace_names_a_spawned_thread_replays_to_that_finding():
    # replay numbered only the scenario's own threads and refused the trace's "A1" as
    # no thread of the scenario.
    scenario = Scenario("spawned writer", variables={"x": 0}, threads={"A": spawn_a_writer, "B": write_x})
    race = next(finding for finding in explore(scenario).findings if finding.kind == "race")
    assert "A1" in race.trace.schedule
    assert race.message in {finding.message for finding in replay(scenario, race.trace).findings}
    assert_findings_replay(scenario)


def test_a_schedule_naming_a_thread_no_step_has_started_is_refused_as_no_thread_of_the_scenario():
    scenario = Scenario("spawned writer", variables={"x": 0}, threads={"A": spawn_a_writer, "B": write_x})
    with pytest.raises(ScheduleError, match="names 'A2', which is not a thread of scenario 'spawned writer', "
                                            "nor one started before step 2"):
        replay(scenario, ["A", "A2"])
    with pytest.raises(ScheduleError, match="names 'A1', which is not a thread of scenario"):
        replay(scenario, ["A1", "A"])


def put_an_item():
    yield put("jobs", 0)


def read_then_join_the_queue():
    yield read("x")
    yield join("jobs")


def test_dpor_tries_a_queue_join_before_a_put_even_behind_an_independent_step():
    # B's join (enabled only while no item is unfinished) follows its read of x. dpor ran
    # A's put first, and the backtracking point it planned for B (B's read, before the put)
    # was judged covered by the branch of A's put, since the read commutes with it: it
    # missed the run where B joins first and both finish.
    scenario = Scenario("put, or join first", variables={"x": 0}, objects={"jobs": Queue()},
                        threads={"A": put_an_item, "B": read_then_join_the_queue})
    assert_complete_strategies_agree(scenario)
    assert explore(scenario, strategy="dpor").completed == 1
