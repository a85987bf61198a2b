"""Replay: exactly one schedule, refused clearly when it does not fit, checked for determinism."""

import random

import pytest

from explorer import (
    NondeterminismError,
    Scenario,
    ScheduleError,
    State,
    acquire,
    explore,
    read,
    release,
    replay,
    write,
)

from .helpers import abba


def increment():
    value = yield read("x")
    yield write("x", value + 1)
    return value


COUNTER = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})


def test_replay_returns_the_events_final_state_and_outcome_of_one_schedule():
    execution = replay(COUNTER, ["A", "B", "A", "B"])
    assert execution.status == "completed"
    assert execution.final_state == State(x=1)
    assert dict(execution.outcome) == {"x": 1, "A": 0, "B": 0}
    assert [(e.thread, e.kind, e.target, e.value) for e in execution.events] == [
        ("A", "read", "x", 0), ("B", "read", "x", 0), ("A", "write", "x", 1), ("B", "write", "x", 1),
    ]
    assert all(e.location.endswith(".py:" + e.location.rsplit(":", 1)[1]) for e in execution.events)


def test_an_unknown_thread_is_refused_with_its_position_and_the_threads():
    with pytest.raises(ScheduleError, match=r"position 2 \(step 3\) names 'C'.*\['A', 'B'\]"):
        replay(COUNTER, ["A", "B", "C"])


def test_a_thread_that_is_not_enabled_is_refused_with_the_enabled_set():
    with pytest.raises(ScheduleError, match=r"step 3\) asks for thread 'A'.*enabled: \['B'\]"):
        replay(COUNTER, ["A", "A", "A"])


def test_a_thread_blocked_on_a_lock_is_not_enabled():
    def locked():
        yield acquire("l")
        yield release("l")

    scenario = Scenario("locked", locks=["l"], threads={"A": locked, "B": locked})
    with pytest.raises(ScheduleError, match=r"asks for thread 'B'.*enabled: \['A'\]"):
        replay(scenario, ["A", "B"])


def test_a_short_schedule_is_refused_unless_extended_without_preemptions():
    with pytest.raises(ScheduleError, match="can still run after it"):
        replay(COUNTER, ["B"])
    extended = replay(COUNTER, ["B"], extend=True)
    assert extended.schedule == ("B", "B", "A", "A")


def test_a_long_schedule_is_refused():
    with pytest.raises(ScheduleError, match="not enabled|ended after"):
        replay(COUNTER, ["A", "A", "B", "B", "B"])


@pytest.mark.parametrize("schedule", ["ABAB", None, 3])
def test_a_schedule_that_is_not_a_list_of_names_is_refused(schedule):
    with pytest.raises(ScheduleError, match="a schedule is a list of thread names"):
        replay(COUNTER, schedule)


def test_replay_detects_a_scenario_that_uses_randomness():
    def noisy():
        yield write("x", random.random())

    scenario = Scenario("noisy", variables={"x": 0.0}, threads={"A": noisy})
    with pytest.raises(NondeterminismError, match=r"'noisy'.*step 1.*thread A did write"):
        replay(scenario, ["A"])


def test_every_explored_deadlock_trace_replays_to_a_deadlock():
    scenario = abba()
    (deadlock,) = explore(scenario).deadlocks
    execution = replay(scenario, deadlock.trace.schedule)
    assert execution.status == "deadlocked"
    assert execution.findings[0].cycle == deadlock.cycle
