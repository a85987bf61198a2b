"""Regressions found by a robustness hunt on parallel exploration (``workers=2``): each
test states what a parallel run does that a user met going otherwise."""

import warnings

import pytest

from explorer import Scenario, explore, read, write

from .test_parallel import _same, _without_timing, small_units  # noqa: F401 - a fixture


def _raises_when_it_reads_two(exception: type[BaseException]):
    def body():
        for i in range(2):
            value = yield read("x")
            if value == 2 and i == 1:
                raise exception
            yield write("x", value + 1)
    return body


class _OwnInterrupt(KeyboardInterrupt):
    pass


@pytest.mark.parametrize("strategy", ["exhaustive", "dpor", "bounded"])
@pytest.mark.parametrize("exception", [KeyboardInterrupt, _OwnInterrupt])
def test_a_keyboard_interrupt_a_thread_raises_stops_a_parallel_search_where_it_stops_the_serial_one(
        strategy, exception, small_units):  # noqa: F811 - the fixture
    body = _raises_when_it_reads_two(exception)
    scenario = Scenario("interrupts itself", variables={"x": 0}, threads={"A": body, "B": body, "C": body})
    serial = explore(scenario, strategy=strategy)
    parallel = explore(scenario, strategy=strategy, workers=2)
    assert serial.stop_reason == parallel.stop_reason == "interrupted" and parallel.workers == 2
    assert parallel.executions == serial.executions
    assert _same(parallel, serial) if strategy == "dpor" else _without_timing(parallel) == _without_timing(serial)


def test_a_scenario_that_changes_as_it_runs_is_reported_nondeterministic_by_the_workers_not_crashed_on(
        small_units):  # noqa: F811 - the fixture
    calls = [0]  # travels to each worker with the scenario: each process counts its own runs

    def body():
        calls[0] += 1
        for _ in range(3 if calls[0] < 200 else 1):  # after a while, a thread ends early
            value = yield read("x")
            yield write("x", value + 1)

    scenario = Scenario("changes as it runs", variables={"x": 0}, threads={"A": body, "B": body, "C": body})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a worker that crashed would make it a serial search, with a warning
        parallel = explore(scenario, strategy="exhaustive", workers=2)
    assert parallel.workers == 2 and parallel.stop_reason == "nondeterminism"
    assert "nondeterminism" in {finding.kind for finding in parallel.findings}
