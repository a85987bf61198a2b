"""The ``sleep`` step: a point where other threads may run and nothing else, which fair
schedules treat as a thread giving way, and which real threads take as ``time.sleep``."""

import time

import pytest

import explorer
from explorer import Event, Scenario, explore, is_set, load_trace, read, replay, set_event, sleep, write
from explorer.json_format import trace_to_json


def nap_then_increment():
    value = yield read("x")
    yield sleep(0.001)
    yield write("x", value + 1)


COUNTER = Scenario("napping counter", variables={"x": 0},
                   threads={"A": nap_then_increment, "B": nap_then_increment})


def poller():
    while not (yield is_set("go")):
        yield sleep(0.01)
    return (yield read("x"))


def setter():
    yield write("x", 1)
    yield set_event("go")


POLLER = Scenario("sleep poller", variables={"x": 0}, objects={"go": Event()},
                  threads={"P": poller, "S": setter})


@pytest.mark.parametrize("seconds", [-1, True, float("nan"), float("inf"), "1", None])
def test_sleep_refuses_what_is_not_a_number_of_seconds_at_least_zero(seconds):
    with pytest.raises(ValueError, match=r"sleep\(\) takes a number of seconds >= 0"):
        sleep(seconds)


def test_a_sleep_changes_nothing_but_where_threads_may_switch_so_every_strategy_agrees_with_exhaustive():
    every = explore(COUNTER, strategy="exhaustive")
    assert every.executions == 20  # 6 steps, 3 a thread: 6! / (3! 3!)
    assert {state["x"] for state in every.final_states} == {1, 2}
    assert {f.kind for f in every.findings} == {"lost-update", "nonserializable", "race"}
    for strategy in ("dpor", "stateful", "bounded"):
        result = explore(COUNTER, strategy=strategy, preemptions=3) if strategy == "bounded" else \
            explore(COUNTER, strategy=strategy)
        assert set(result.final_states) == set(every.final_states), strategy
        assert {f.kind for f in result.findings} == {f.kind for f in every.findings}, strategy


def test_a_sleep_shows_in_traces_and_a_trace_with_one_round_trips_through_json_and_replays():
    result = explore(COUNTER)
    lost = next(f for f in result.findings if f.kind == "lost-update")
    assert "sleep 0.001 s" in lost.trace.render()
    loaded = load_trace(trace_to_json(lost.trace, scenario=COUNTER))
    assert loaded == lost.trace == load_trace(result.to_json(), finding=result.findings.index(lost))
    again = replay(COUNTER, loaded)
    assert again.events == lost.trace.events
    assert again.final_state == {"x": 1}


def test_a_loop_that_polls_and_sleeps_ends_under_fair_schedules_in_every_strategy_that_keeps_them():
    every = explore(POLLER, fair=True)
    assert every.complete and every.strategy == "exhaustive"
    assert {outcome["P"] for outcome in every.outcomes} == {1}  # the poller reads x after S set it
    for strategy in ("dpor", "random", "pct"):
        result = explore(POLLER, fair=True, strategy=strategy, max_executions=300)
        assert set(result.outcomes) == set(every.outcomes), strategy
        assert result.truncated == 0, strategy


def test_without_fair_schedules_the_poller_may_poll_until_max_steps():
    result = explore(POLLER, max_steps=60, max_executions=200)
    assert result.truncated > 0 and not result.complete
    assert any(f.kind == "max-steps" for f in result.findings)


def test_real_threads_sleep_at_most_two_milliseconds_and_see_only_what_exploration_predicted():
    started = time.monotonic()
    check = explorer.crosscheck(COUNTER, runs=20)
    assert check.ok, check
    assert time.monotonic() - started >= 20 * 0.001  # every run's threads slept
    long_naps = Scenario("long naps", variables={"x": 0}, threads={"A": lambda: (yield sleep(30))})
    started = time.monotonic()
    assert explorer.crosscheck(long_naps, runs=5).ok
    assert time.monotonic() - started < 10  # not 150 s
    polled = explorer.crosscheck(POLLER, runs=10, fair=True)
    assert polled.ok, polled
