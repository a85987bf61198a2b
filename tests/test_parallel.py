"""Parallel exploration (``explore(..., workers=N)``, ``explorer run -j N``) gives the serial
result: every count, final state, outcome, finding and trace, for every strategy but
dpor and stateful. dpor runs the serial search's executions, one per trace, in another
order, plus runs that end in sleeping threads (``pruned``). Stateful search splits its
graph walk among workers that share their visited states: it gives the serial verdicts
(final states, outcomes, finding kinds), and counts the runs it makes, which differ.

Units are sized in seconds; here the coordinator hands out work after its first
execution and units are small, so that even the library's small scenarios are cut into
many units, sent to real worker processes and merged.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from explorer import InvalidArgument, Scenario, explore, read, write
from explorer._engine import coordinator
from explorer.json_format import result_to_dict
from explorer.strategies.random_walk import UNIT
from explorer.testing import strategies as xst
from scenarios.dining_philosophers import dining

from .helpers import DEEP, HANDED, counter, library, writes

ROOT = Path(__file__).resolve().parent.parent
SERIAL_IDENTICAL = ("exhaustive", "bounded", "random", "pct", "dpor")


#: Seconds per unit here: a few executions each.
SMALL = 0.01


@pytest.fixture
def small_units(monkeypatch):
    """Small units: the coordinator hands out work after its first execution, and a unit
    hands back what is left after a hundredth of a second."""
    monkeypatch.setattr(coordinator, "FIRST_SLICE", 0.0)
    monkeypatch.setattr(coordinator, "SLICE", SMALL)


def _without_timing(result) -> dict:
    data = result_to_dict(result)
    data.pop("elapsed")
    if result.strategy == "dpor" and result.workers > 1:
        # its units explore the traces in another order than the serial search: runs that
        # end in sleeping threads are not the same (the lists are in their witnesses' order)
        data.pop("pruned", None)
    return data


def _unordered(data):
    if isinstance(data, dict):
        return {key: _unordered(value) for key, value in data.items()}
    if isinstance(data, list):
        return sorted((_unordered(value) for value in data), key=lambda value: json.dumps(value, sort_keys=True))
    return data


def _same(parallel, serial) -> bool:
    """The parallel result is the serial one (see _without_timing for dpor's). Where a
    step fails, dpor's units run the branches after it again (the serial search knows of
    the failure before it starts them): then its runs differ, so their counts may, and a
    rerun may show a finding by another run (its message names the step, a race its
    accesses in the order that run had them): then the findings are compared by kind and
    severity, and their groups, which word them, are left out. So too where a unit ran a
    deadlocked execution that serial dpor covers with a thread explored before (blocked in
    that run, so it could not cover it there).

    Otherwise dpor's findings are the serial ones to their counts, but each shows the
    best run of those made (:func:`.tally.better`), and dpor's units may make another
    schedule of a trace than the serial search (a wakeup sequence is the first race's
    to reach its point, and units find races in another order): where that schedule
    scores otherwise, another trace may be shown. So findings are compared without what
    their witness words (message, marks, trace), and in no order (they are listed in
    their witnesses' order)."""
    if parallel.strategy == "dpor" and parallel.workers > 1:
        serial_data = result_to_dict(serial)
        serial_data.pop("elapsed")
        serial_data.pop("pruned", None)
        if serial.failed or parallel.deadlocked > serial.deadlocked:  # (see test_parallel_dpor)
            serial_data.pop("groups", None)
            parallel_data = _without_timing(parallel)
            parallel_data.pop("groups", None)
            return _uncounted(parallel_data) == _uncounted(serial_data)
        return _witness_apart(_without_timing(parallel)) == _witness_apart(serial_data)
    return _without_timing(parallel) == _without_timing(serial)


#: What a finding's witness run decides: its wording, its marks and its trace.
WITNESSED = ("message", "details", "trace")


def _witness_apart(data: dict) -> dict:
    data = dict(data)
    data["findings"] = _unordered([_race_apart(finding) if finding["kind"] == "race" else
                                   {key: value for key, value in finding.items() if key not in WITNESSED}
                                   for finding in data["findings"]])
    data["groups"] = _unordered([{key: len(value) if key == "findings" else value
                                  for key, value in group.items() if key != "summary"}
                                 for group in data["groups"]])
    return data


def _race_apart(finding: dict) -> dict:
    """A race finding without what its witness decides: which racing pair of its two places
    in the code it is worded from (and so its thread) is the witness's too. Its variable and
    its places stay: a step's line, or with none, its thread and the thread's own step number."""
    events = finding["trace"]["events"]

    def site(i):
        event = events[i]
        if event["location"] is not None:
            return event["kind"], event["location"]
        return event["kind"], event["thread"], sum(1 for earlier in events[:i] if earlier["thread"] == event["thread"])

    kept = {key: value for key, value in finding.items() if key not in WITNESSED and key != "thread"}
    return {**kept, "sites": sorted(site(i) for i in finding["details"]["steps"]),
            "variable": finding["details"]["variable"]}


def _uncounted(data):
    if isinstance(data, dict):
        return {key: _uncounted(value) for key, value in data.items()
                if key not in ("counts", "count", "occurrences", "message", "trace", "details", "thread")}
    if isinstance(data, list):
        return _unordered([_uncounted(value) for value in data])
    return data


def _parallel(scenario, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fall back to serial exploration would be a warning
        return explore(scenario, workers=2, **options)


# ---- the same result as a serial run ------------------------------------------------------------

#: Executions per exploration of the library here: all of most scenarios, the start of the rest
#: (sampling: twice as many draws in the deep tier).
BUDGET = {"exhaustive": 3000, "bounded": 3000, "random": 600 if DEEP else 300, "pct": 600 if DEEP else 300,
          "dpor": None}


@pytest.mark.parametrize("strategy", SERIAL_IDENTICAL)
def test_two_workers_give_the_serial_result_to_the_last_count_on_the_library(strategy, small_units):
    split = 0
    for scenario in library(exhaustive=True):
        serial = explore(scenario, strategy=strategy, max_executions=BUDGET[strategy])
        parallel = explore(scenario, strategy=strategy, max_executions=BUDGET[strategy], workers=2)
        assert _same(parallel, serial), scenario.name
        split += parallel.workers == 2
    assert split >= 30  # most scenarios really were cut into units run by workers


@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_a_sample_whose_draws_start_more_pool_threads_than_its_first_runs_on_the_workers(strategy):
    # the notebook's executor starts a second thread only in some draws: the coordinator's
    # first unit meets it, and the workers number it as the coordinator did (they fell
    # back to a serial search: "a unit met threads ... the first execution did not")
    from scenarios.seed_notebook import swallowed_type_error

    serial = explore(swallowed_type_error, strategy=strategy, max_executions=1000)
    parallel = _parallel(swallowed_type_error, strategy=strategy, max_executions=1000)
    assert parallel.workers == 2 and _same(parallel, serial)


EVERY_KIND = xst.scenarios(objects="all", max_steps_per_thread=5, max_steps=9)


@settings(deadline=None, database=None, max_examples=12, suppress_health_check=list(HealthCheck))
@given(EVERY_KIND)
def test_generated_scenarios_of_every_kind_give_the_serial_result_on_two_workers(scenario):
    _agrees_on_two_workers(scenario)


@pytest.mark.slow
@settings(deadline=None, database=None, max_examples=25, suppress_health_check=list(HealthCheck))
@given(xst.scenarios(objects="all", max_steps_per_thread=6, max_steps=11))
def test_more_and_larger_generated_scenarios_give_the_serial_result_on_two_workers(scenario):
    _agrees_on_two_workers(scenario)


def _verdicts(result) -> dict:
    """What a stateful search must agree on, whoever made its runs: the final states, the
    outcomes and the kinds of findings (each with the message that names its accesses)."""
    data = result_to_dict(result)
    return {"final_states": sorted(json.dumps(s["state"], sort_keys=True) for s in data["final_states"]),
            "outcomes": sorted(json.dumps([o["state"], o["returns"]], sort_keys=True) for o in data["outcomes"]),
            "findings": sorted({(f["kind"], f["severity"]) for f in data["findings"]}),
            "complete": data["complete"]}


def test_stateful_search_on_two_workers_gives_the_serial_verdicts_on_the_library(small_units):
    split = 0
    for scenario in library(exhaustive=True):
        serial = explore(scenario, strategy="stateful")
        parallel = _parallel(scenario, strategy="stateful")
        assert _verdicts(parallel) == _verdicts(serial), scenario.name
        split += parallel.workers == 2
    assert split >= 15  # the programs the graph walk covers were cut into units run by workers


def test_stateful_workers_share_their_states_so_together_they_store_about_the_serial_count(small_units):
    # counter 3x4: 51 to 77 units here (3x3, 1,546 states since twins' lost updates, took
    # 11 to 17, and once in CI only 8)
    scenario = counter(3, 4)
    serial = explore(scenario, strategy="stateful")
    parallel = _parallel(scenario, strategy="stateful")
    assert parallel.workers == 2 and len(parallel.unit_seconds) > 10
    assert _verdicts(parallel) == _verdicts(serial)
    # per-worker sets stored 2.2 times the serial count on counter 4x4; a shared table stores
    # each state once, but for the coordinator's and workers' symmetric twins (ordered
    # otherwise), and for states keyed apart by a lost update one process has seen and
    # another not yet (1.02 to 1.03 times here; 1.07 to 1.08 on counter 3x3 before the
    # workers shared the lost updates they see, 1.12 once in CI under load)
    assert parallel.states <= 1.25 * serial.states


def test_stateful_workers_tell_each_other_the_lost_updates_they_see_so_they_run_no_more_paths_than_serially(
        small_units):
    # a path is run to show what a walk sees first; each worker saw each lost update for
    # itself, and ran a path for it (20 or 21 runs against 16 here, 27 against 18 on
    # counter 5x2); the lost updates are facts in the shared table, and a worker that
    # reads one there runs no path for it, and keys its states as the one that saw it does
    scenario = counter(4, 3)
    serial = explore(scenario, strategy="stateful")
    parallel = _parallel(scenario, strategy="stateful")
    assert parallel.workers == 2 and len(parallel.unit_seconds) > 10
    assert _verdicts(parallel) == _verdicts(serial)
    assert parallel.executions <= serial.executions + 1


def test_stateful_workers_keep_sleep_sets_so_they_step_into_visited_states_about_as_rarely_as_serially(
        small_units):
    # philosophers who share no fork commute: serially the walk's sleep sets spare it most
    # steps into states visited (philosophers 5: 1,098 against 6,538 without); the workers'
    # table keeps each state's sleep set, and a unit's start carries the sleep sets of its
    # path's points, so units cut into a hundredth of a second spare them too (philosophers
    # 6, releases first: 907 to 918 against 863 serially; philosophers 5 before releases
    # went first: 1,418 to 1,704 against 1,098 when a start's last step began with an empty
    # sleep set)
    scenario = dining(6, ordered=False)
    serial = explore(scenario, strategy="stateful")
    parallel = _parallel(scenario, strategy="stateful")
    assert parallel.workers == 2 and len(parallel.unit_seconds) > 10
    assert _verdicts(parallel) == _verdicts(serial) and parallel.deadlocked
    assert parallel.pruned < 1.25 * serial.pruned


def test_stateful_search_with_a_state_budget_or_exact_states_runs_in_the_coordinator(small_units):
    for options in ({"max_states": 10_000}, {"exact_states": True}):
        serial = explore(counter(3, 2), strategy="stateful", **options)
        parallel = _parallel(counter(3, 2), strategy="stateful", **options)
        assert parallel.workers == 1 and _without_timing(parallel) == _without_timing(serial)


def _agrees_on_two_workers(scenario):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(coordinator, "FIRST_SLICE", 0.0)
        # a unit of a few executions: a generated scenario may have thousands, and a unit of
        # one execution each would spend the test on round trips to the workers
        patch.setattr(coordinator, "SLICE", SMALL / 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exhaustive = explore(scenario, strategy="exhaustive")
            assert _verdicts(explore(scenario, strategy="stateful", workers=2)) == \
                _verdicts(explore(scenario, strategy="stateful"))
            for strategy in SERIAL_IDENTICAL:
                options = {"max_executions": 300} if strategy in ("random", "pct") else {}
                serial = exhaustive if strategy == "exhaustive" else explore(scenario, strategy=strategy, **options)
                assert _same(explore(scenario, strategy=strategy, workers=2, **options), serial), strategy
    # explored serially instead is a pass only for a reason the scenario gives (a thread the
    # first execution never started); a worker that fails is a bug
    failed = [str(w.message) for w in caught if "a worker failed" in str(w.message)]
    assert not failed, failed


@pytest.mark.parametrize("case", list(HANDED))
def test_objects_made_afresh_in_each_run_and_handed_to_threads_give_the_serial_result_on_two_workers(
        case, small_units):
    # each worker makes its own objects: their steps compare by shape across processes too
    threads, objects, _totals = HANDED[case]
    scenario = Scenario(case, variables={"total": 0}, objects=objects, threads=threads)
    for strategy in ("exhaustive", "dpor"):
        serial = explore(scenario, strategy=strategy)
        assert serial.complete and _same(_parallel(scenario, strategy=strategy), serial), strategy


def _adds_nan():
    value = yield read("n")
    yield write("n", value + float("nan"))  # a NaN object of this process's, new in every run
    return value


def test_values_equal_under_double_equals_but_of_other_types_and_nans_give_the_serial_result_on_two_workers():
    # 1 and True are two final values, 0.0 and -0.0 two, and each run's NaN is one value,
    # whichever process made it (a unit's tally travels pickled: its NaNs arrive new)
    scenario = Scenario("1, True, -0.0 and NaN", variables={"x": 0, "z": 1.0, "n": 0.0},
                        threads={"A": writes("x", 1), "B": writes("x", True), "C": writes("z", 0.0),
                                 "D": writes("z", -0.0), "E": _adds_nan, "F": _adds_nan})
    serial = explore(scenario, strategy="exhaustive")
    assert len(serial.final_states) == 4 and len(serial.outcomes) == 4 * 3  # E, F read 0.0 and NaN, or both 0.0
    # only where both read 0.0 (a lost update): one per final state
    assert len([f for f in serial.findings if f.kind == "nonserializable"]) == 4
    _agrees_on_two_workers(scenario)


def test_races_of_steps_with_no_source_line_fold_alike_in_parallel_as_serially(small_units):
    # Found by CI: a step whose line is unknown (a generated StraightLine's) was folded by its
    # position in the witness's schedule. dpor's units may run another schedule of a trace
    # than the serial search, so C's first and second reads racing with B's write made one
    # finding serially (at the same positions in their witnesses) and two in parallel. A step
    # is now placed by its thread's own step number, the same in every schedule of the trace.
    line = xst.StraightLine
    scenario = Scenario("A: acq l | B: w x=0, acq l | C: r x, r x", variables={"x": 0, "y": 0},
                        locks={"l": "lock", "m": "lock"},
                        threads={"A": line([("acquire", "l")]), "B": line([("write", "x", 0), ("acquire", "l")]),
                                 "C": line([("read", "x"), ("read", "x")])})
    serial = explore(scenario, strategy="dpor")
    assert _same(_parallel(scenario, strategy="dpor"), serial)
    # one finding per pair of steps, whichever ran first: B's write against each of C's reads
    reads = set()
    for race in serial.races:
        events = race.trace.events
        at = next(i for i in race.details["steps"] if events[i].thread == "C")
        reads.add(sum(1 for event in events[:at] if event.thread == "C"))
    assert len(serial.races) == 2 and reads == {0, 1}


@pytest.mark.parametrize("budget", [1, 7, 40, 111])
def test_a_budget_keeps_the_first_executions_in_serial_order(budget, small_units):
    scenario = counter(3, 2)
    for strategy in ("exhaustive", "bounded"):
        serial = explore(scenario, strategy=strategy, max_executions=budget)
        parallel = _parallel(scenario, strategy=strategy, max_executions=budget)
        assert parallel.executions == serial.executions == budget
        assert parallel.stop_reason == serial.stop_reason == "max_executions"
        assert _without_timing(parallel) == _without_timing(serial)


def test_a_scenario_that_takes_seconds_is_split_among_workers_with_the_serial_counts():
    scenario = counter(2, 4)  # 12,870 interleavings: about a second serially
    serial = explore(scenario, strategy="exhaustive")
    parallel = _parallel(scenario, strategy="exhaustive")
    assert parallel.workers == 2 and len(parallel.unit_seconds) >= 1
    assert parallel.executions == serial.executions == 12_870
    assert parallel.final_states == serial.final_states


@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_a_long_sample_goes_to_the_workers_in_runs_of_several_seeds_with_the_serial_counts(strategy):
    budget = 30 * UNIT + 17  # 31 seeds' runs of executions, the last one short
    scenario = counter(3, 2)
    serial = explore(scenario, strategy=strategy, max_executions=budget)
    parallel = _parallel(scenario, strategy=strategy, max_executions=budget)
    assert parallel.workers == 2
    # the coordinator ran the first seed's; the workers' units each ran several, fewer at the end
    assert 1 <= len(parallel.unit_seconds) < 30
    assert parallel.executions == serial.executions == budget
    assert _without_timing(parallel) == _without_timing(serial)


def test_a_small_scenario_is_explored_by_the_coordinator_alone():
    result = _parallel(counter(2, 1), strategy="exhaustive")
    assert result.workers == 1 and result.executions == 6 and result.unit_seconds == ()


@pytest.mark.parametrize("strategy", ["exhaustive", "dpor"])
def test_a_unit_hands_back_its_work_at_once_when_a_worker_is_idle(strategy):
    """The flag of hunger.py raised: a unit splits after AT_LEAST seconds, not at the end
    of its slice; lowered, it runs on (to its budget here)."""
    from explorer._engine.hunger import AT_LEAST
    from explorer._engine.program import Program
    from explorer._engine.search import Deadline, Settings, drive
    from explorer._engine.tally import Tally
    from explorer._engine.units import strategy_for

    program = Program(counter(3, 4))  # 34,650 interleavings: seconds
    with program.session():
        for raised in (1, 0):
            tally = Tally()
            started = time.monotonic()
            about = drive(program, strategy_for(strategy, {}), Settings(max_executions=3000), tally,
                          Deadline(None), started, slice_end=started + 3600, hungry=bytearray([raised]))
            if raised:
                assert about["sliced"] and 0 < tally.executions < 3000
                assert time.monotonic() - started < AT_LEAST + 2  # not the hour of its slice
            else:
                assert not about["sliced"] and tally.executions == 3000
                assert tally.stop_reason == "max_executions"


def test_a_units_tally_travels_smaller_with_the_same_witnesses():
    """Tally.compact, which a worker calls before it sends a unit's tally: the witnesses'
    events are equal after, and their equal lists of enabled threads are one list each."""
    import pickle

    from explorer._engine.program import Program
    from explorer._engine.search import Deadline, Settings, drive
    from explorer._engine.tally import Tally
    from explorer._engine.units import strategy_for

    program = Program(counter(3, 2))
    with program.session():
        tally = Tally()
        drive(program, strategy_for("exhaustive", {}), Settings(), tally, Deadline(None), time.monotonic())
    runs = [events for _score, events in tally.witnesses.values()] + [entry[1] for entry in tally.found.values()]
    before = [list(events) for events in runs]
    lists_before = len({id(event[3]) for events in runs for event in events})
    size_before = len(pickle.dumps(tally))
    tally.compact()
    assert [list(events) for events in runs] == before
    assert len({id(event[3]) for events in runs for event in events}) < lists_before / 2
    assert len(pickle.dumps(tally)) < size_before


def test_a_unit_told_the_races_the_coordinator_saw_interleaved_ranks_fewer_runs_and_counts_every_one(monkeypatch):
    """Tally.bar_races: a unit that knows the fewest preemptions of a run showing a race
    interleaved counts the runs with more without ranking them; merged after the tally
    that holds those witnesses, the witnesses are that tally's and the counts add up."""
    from explorer._engine.program import Program
    from explorer._engine.search import Deadline, Settings, drive
    from explorer._engine.tally import Tally, race_bars
    from explorer._engine.units import strategy_for
    from explorer.detectors.races import RacePairs

    ranked = []
    rank = RacePairs.rank
    monkeypatch.setattr(RacePairs, "rank", lambda self, *args: ranked.append(1) or rank(self, *args))
    program = Program(counter(3, 2))

    def searched(bars=None):
        ranked.clear()
        tally = Tally()
        if bars is not None:
            tally.bar_races(bars)
        with program.session():
            drive(program, strategy_for("exhaustive", {}), Settings(), tally, Deadline(None), time.monotonic())
        tally.unbar_races()
        return tally, len(ranked)

    whole, ranks = searched()
    bars = race_bars(whole)
    assert bars  # the counter's races show interleaved
    barred, barred_ranks = searched(bars)
    assert barred_ranks < 0.75 * ranks  # 5,022 of 7,768 here
    races = {key: entry for key, entry in whole.found.items() if key[0] == "race"}
    assert {key: entry[2] for key, entry in barred.found.items() if key[0] == "race"} == {
        key: entry[2] for key, entry in races.items()}
    # bars no run reaches (no tally could hold their witnesses): every run only counts
    below, below_ranks = searched(dict.fromkeys(bars, -1))
    assert below_ranks < barred_ranks
    assert all(below.found[key][1] is None and below.found[key][2] == races[key][2] for key in bars)
    merged = Tally()
    merged.merge(whole)
    merged.merge(barred)
    for key, entry in races.items():
        assert merged.found[key][2] == 2 * entry[2]
        assert merged.found[key][1] is entry[1] and merged.found[key][3] == entry[3]
    with pytest.raises(AssertionError, match="internal bug"):  # merged before the tally its bars came from
        Tally().merge(below)


def test_units_handed_out_start_from_the_races_of_the_pieces_that_sort_before_every_unit_still_out():
    """coordinator.Bars: a piece counts once nothing still to run sorts before it, so a
    unit's bars only ever stand for witnesses merged before its own tally."""
    from types import SimpleNamespace

    from explorer._engine.tally import Tally, _Race

    def piece(key, *races):
        tally = Tally()
        for name, preemptions, serial in races:
            tally.found[("race", name)] = [_Race(("race", name), 0, 1), [], 1, (serial, preemptions)]
        return SimpleNamespace(key=key, tally=tally)

    bars = coordinator.Bars({("race", "x"): 3})
    first = bars.known
    bars.back(piece((2, 0), ("x", 1, False), ("y", 2, False)))
    bars.back(piece((1, 0), ("x", 2, False), ("z", 0, True)))  # z: shown serially only, no bar
    bars.settle([(1,), (2, 1)])  # unit (1,) is still out: neither piece counts yet
    assert bars.known is first and bars.known == {("race", "x"): 3}
    bars.settle([(1, 1), (2, 1)])  # (1, 0) sorts before both, (2, 0) before (2, 1) only
    assert bars.known == {("race", "x"): 2}
    assert first == {("race", "x"): 3}  # a unit handed out before keeps what it was given
    bars.settle([])  # nothing left out: every piece counts
    assert bars.known == {("race", "x"): 1, ("race", "y"): 2}


def test_a_units_tally_shares_equal_events_across_witnesses_but_keeps_one_and_true_apart():
    """Tally.compact shares equal events between the witnesses (pickle then writes each once),
    comparing values with their types: a write of 1 and one of True stay what they were."""
    import pickle

    from explorer._engine.program import Program
    from explorer._engine.search import Deadline, Settings, drive
    from explorer._engine.tally import Tally
    from explorer._engine.units import strategy_for

    def writes(value, mine):
        def body():
            yield write("x", value)
            yield write(mine, (yield read("x")))
        return body

    scenario = Scenario("one and True", variables={"x": 0, "a": 0, "b": 0, "c": 0},
                        threads={"A": writes(1, "a"), "B": writes(True, "b"), "C": writes(2, "c")})
    program = Program(scenario)
    with program.session():
        tally = Tally()
        drive(program, strategy_for("exhaustive", {}), Settings(), tally, Deadline(None), time.monotonic())
    runs = [events for _score, events in tally.witnesses.values()]
    before = [repr(list(events)) for events in runs]
    assert any("True" in text for text in before) and any("write('x', 1)" in text for text in before)
    distinct_before = len({id(event) for events in runs for event in events})
    size_before = len(pickle.dumps(tally))
    tally.compact()
    assert [repr(list(events)) for events in runs] == before
    assert len({id(event) for events in runs for event in events}) < distinct_before * 2 / 3
    assert len(pickle.dumps(tally)) < size_before * 2 / 3


def test_merged_tallies_show_the_smallest_of_equally_good_schedules_whichever_came_first():
    """Units come back in any order, and a reduced search's runs come in an order set by
    its races: of two runs that show a thing equally well (preemptions, steps), the one
    shown is the smaller schedule, as an exhaustive search, which runs schedules in that
    order, shows it."""
    import itertools

    from explorer._engine.program import Program
    from explorer._engine.search import Deadline, Settings, drive
    from explorer._engine.tally import Tally
    from explorer._engine.units import strategy_for
    from explorer.strategies.schedule import FollowSchedule

    program = Program(counter(2, 2))
    with program.session():
        serial = Tally()
        drive(program, strategy_for("exhaustive", {}), Settings(), serial, Deadline(None), time.monotonic())
        schedules = sorted(set(itertools.permutations([0] * 4 + [1] * 4)), reverse=True)
        assert len(schedules) == serial.executions == 70
        units = []
        for schedule in schedules:  # a unit per run, the largest schedule first
            unit = Tally()
            drive(program, FollowSchedule(schedule, program.thread_names), Settings(), unit, Deadline(None),
                  time.monotonic())
            units.append(unit)
    merged = units[0]
    for unit in units[1:]:
        merged.merge(unit)

    def shown(tally):
        return ({key: [event[0] for event in events] for key, (_score, events) in tally.witnesses.items()},
                {key: [event[0] for event in entry[1]] for key, entry in tally.found.items()})

    assert merged.executions == 70 and merged.outcome_counts == serial.outcome_counts
    assert shown(merged) == shown(serial)
    # there were ties to break: every outcome is shown equally well by several runs
    for key, (best, _events) in serial.witnesses.items():
        assert sum(1 for unit in units if unit.witnesses.get(key, (None,))[0] == best) > 1


def test_the_idle_worker_flag_is_removed_after_a_parallel_search(monkeypatch):
    from explorer._engine import hunger

    made = []
    create = hunger.Hunger.create
    monkeypatch.setattr(hunger.Hunger, "create", classmethod(lambda cls: made.append(create()) or made[-1]))
    result = _parallel(counter(2, 4), strategy="exhaustive")
    assert result.workers == 2 and len(made) == 1
    assert not Path(made[0].path).exists()


def test_where_no_flag_can_be_made_the_search_runs_on_slices_with_the_serial_result(monkeypatch):
    import tempfile

    from explorer._engine import hunger

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    mkstemp = tempfile.mkstemp
    monkeypatch.setattr(tempfile, "mkstemp", full)
    flag = hunger.Hunger.create()
    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    assert flag.path is None
    flag.set(True)  # nothing to raise: a no-op
    flag.close()
    monkeypatch.setattr(hunger.Hunger, "create", classmethod(lambda cls: flag))
    scenario = counter(2, 4)
    parallel = _parallel(scenario, strategy="exhaustive")
    assert parallel.workers == 2
    assert _without_timing(parallel) == _without_timing(explore(scenario, strategy="exhaustive"))


def test_a_worker_on_another_machine_has_no_idle_flag_and_splits_on_its_slice_alone(tmp_path):
    from explorer._engine.hunger import Hunger

    assert Hunger.attach(str(tmp_path / "explorer-hunger-on-another-machine")) is None
    flag = Hunger.create()
    try:
        seen = Hunger.attach(flag.path)
        assert seen.memory[0] == 0
        flag.set(True)
        assert seen.memory[0] == 1
        flag.set(False)
        assert seen.memory[0] == 0
        seen.close()
    finally:
        flag.close()
    assert not Path(flag.path).exists()


# ---- budgets, Ctrl-C, and what cannot be sent ---------------------------------------------------

def test_the_time_limit_stops_every_worker_and_the_result_says_it_is_incomplete():
    started = time.monotonic()
    result = _parallel(counter(3, 4), strategy="exhaustive", time_limit=2.0)
    assert time.monotonic() - started < 4.5
    assert not result.complete and result.stop_reason == "time_limit"
    assert result.workers == 2 and result.executions > 0
    assert not _worker_processes()


def test_ctrl_c_stops_every_worker_and_keeps_what_finished():
    timer = threading.Timer(2.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    started = time.monotonic()
    try:
        result = _parallel(counter(3, 4), strategy="exhaustive")
    finally:
        timer.cancel()
    assert time.monotonic() - started < 4.5
    assert not result.complete and result.stop_reason == "interrupted"
    assert result.executions > 0
    assert not _worker_processes()


def test_a_coordinator_killed_outright_leaves_no_files_in_shared_memory(tmp_path):
    """SIGKILL runs no code of the process it kills: the flag's and the visited table's
    files are the resource tracker's to remove, once the workers are gone too."""
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent("""
        import sys
        from explorer import Scenario, explore, read, write
        from explorer._engine import hunger, shared_visited

        def made(create):
            def make(*args, **kwargs):
                thing = create(*args, **kwargs)
                path = getattr(thing, "path", None) or thing.handle.path
                print(path, flush=True)
                return thing
            return make

        hunger.Hunger.create = classmethod(made(hunger.Hunger.create.__func__))
        shared_visited.SharedVisited.create = classmethod(made(shared_visited.SharedVisited.create.__func__))

        def increment():
            for _ in range(5):
                value = yield read("x")
                yield write("x", value + 1)

        if __name__ == "__main__":
            scenario = Scenario("slow", variables={"x": 0}, threads={n: increment for n in "ABCD"})
            explore(scenario, strategy="stateful", workers=2)
    """))
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        paths = [child.stdout.readline().strip() for _ in range(2)]
        assert all(Path(path).exists() for path in paths), paths
        time.sleep(1.0)  # the workers are running their units
    finally:
        child.kill()
        child.wait()
    deadline = time.monotonic() + 30
    while any(Path(path).exists() for path in paths) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [path for path in paths if Path(path).exists()]


def _worker_processes() -> list[int]:
    """This process's children still alive (the fork server's are its own, not ours)."""
    time.sleep(0.2)
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    if not children.exists():
        return []
    alive = []
    for pid in children.read_text().split():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"forkserver" not in cmdline and b"resource_tracker" not in cmdline:
            alive.append(int(pid))
    return alive


def test_a_scenario_defined_in_a_script_without_a_main_guard_reaches_the_workers(tmp_path):
    script = tmp_path / "mine.py"
    script.write_text(textwrap.dedent("""
        from explorer import Scenario, explore, read, write
        from explorer._engine import coordinator
        coordinator.FIRST_SLICE = coordinator.SLICE = 0.0

        def increment():
            value = yield read("x")
            yield write("x", value + 1)

        scenario = Scenario("mine", variables={"x": 0}, threads={"A": increment, "B": increment})
        result = explore(scenario, strategy="exhaustive", workers=2)
        print(result.workers, result.executions, sorted(dict(s)["x"] for s in result.final_states))
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == "2 6 [1, 2]"  # printed once: the workers never ran the script


def test_a_script_without_a_main_guard_runs_once_when_a_worker_is_idle_again_before_the_next_starts(tmp_path):
    # found by a hostile review: a submit starts no worker while one is idle, so where the
    # first worker had run its start-up task before the second submit, the second worker
    # started on the coordinator's first unit, and was shown the script as its __main__
    script = tmp_path / "mine.py"
    script.write_text(textwrap.dedent("""
        import time
        from concurrent.futures import ProcessPoolExecutor
        from explorer import Scenario, explore, read, write
        from explorer._engine import coordinator
        coordinator.FIRST_SLICE = coordinator.SLICE = 0.0
        print("top level", flush=True)
        submit = ProcessPoolExecutor.submit

        def slow(self, fn, /, *args, **kwargs):  # the first worker is idle again before the next submit
            future = submit(self, fn, *args, **kwargs)
            if fn.__name__ == "_ready":
                time.sleep(0.5)
            return future

        ProcessPoolExecutor.submit = slow

        def increment():
            value = yield read("x")
            yield write("x", value + 1)

        scenario = Scenario("mine", variables={"x": 0}, threads={"A": increment, "B": increment})
        result = explore(scenario, strategy="exhaustive", workers=2)
        print(result.workers, result.executions)
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["top level", "2 6"], done.stdout + done.stderr


def test_workers_run_the_explorer_the_coordinator_imported_from_a_source_tree(tmp_path):
    # a copy of explorer put first on sys.path by the script (another version's checkout),
    # while another explorer is installed: the workers must not fork from that one
    shutil.copytree(ROOT / "explorer", tmp_path / "tree" / "explorer",
                    ignore=shutil.ignore_patterns("__pycache__"))
    script = tmp_path / "mine.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path / "tree")!r})
        import explorer
        from explorer.backends.processes import ProcessBackend

        backend = ProcessBackend(1)
        print(explorer.__file__)
        print(backend.submit(eval, "__import__('explorer').__file__").result())
        backend.close()
    """))
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env=environment)
    assert done.returncode == 0, done.stderr
    mine, theirs = done.stdout.split("\n")[:2]
    assert mine == str(tmp_path / "tree" / "explorer" / "__init__.py")
    assert theirs == mine


#: What the thread below reads first: this process changes it, a worker imports this module afresh.
_FIRST_NAME = {0: "alpha"}


def _reads_in_an_order_of_this_process():
    for name in (_FIRST_NAME[0], "beta"):
        value = yield read(name)
        yield write(name, value + 1)


def test_a_scenario_a_worker_process_runs_otherwise_is_explored_serially_with_a_warning(small_units,
                                                                                       monkeypatch):
    # as code iterating over a set of strings does, when each process hashes with its own seed
    monkeypatch.setitem(_FIRST_NAME, 0, "gamma")
    scenario = Scenario("per process", variables={"alpha": 0, "beta": 0, "gamma": 0},
                        threads={"A": _reads_in_an_order_of_this_process, "B": _reads_in_an_order_of_this_process})
    with pytest.warns(RuntimeWarning, match=r"ran otherwise in a worker process than here .*PYTHONHASHSEED"):
        parallel = explore(scenario, strategy="exhaustive", workers=2)
    serial = explore(scenario, strategy="exhaustive")
    assert parallel.workers == 1 and parallel.complete
    assert _without_timing(parallel) == _without_timing(serial)


def _spins_when_it_reads_one(rounds):
    def body():
        for _ in range(rounds):
            value = yield read("x")
            if value == 1:
                while True:  # a step that never yields: the step timeout stops the search here
                    pass
            yield write("x", value + 1)
    return body


def test_a_hung_step_stops_a_parallel_search_where_it_stops_the_serial_one(small_units):
    def counting():
        for _ in range(2):
            value = yield read("x")
            yield write("x", value + 1)

    scenario = Scenario("hangs", variables={"x": 0},
                        threads={"A": counting, "B": counting, "C": _spins_when_it_reads_one(1)})
    serial = explore(scenario, strategy="exhaustive", step_timeout=0.2)
    parallel = explore(scenario, strategy="exhaustive", step_timeout=0.2, workers=2)
    assert serial.stop_reason == "step_timeout" and parallel.workers == 2
    assert _without_timing(parallel) == _without_timing(serial)


def test_ctrl_c_while_workers_start_keeps_what_the_coordinator_explored(monkeypatch):
    from explorer.backends import processes

    def interrupted(self, workers):
        raise KeyboardInterrupt

    monkeypatch.setattr(coordinator, "FIRST_SLICE", 0.05)
    monkeypatch.setattr(processes.ProcessBackend, "__init__", interrupted)
    scenario = Scenario("big", variables={"x": 0}, threads={name: _counting_three for name in "ABC"})
    result = explore(scenario, strategy="exhaustive", workers=2)
    assert result.stop_reason == "interrupted" and not result.complete
    assert result.executions > 0 and result.workers == 1


def _files_made_and_removed(monkeypatch) -> tuple[list, list]:
    """The files in shared memory this process makes, and those it removes, from now on."""
    from explorer._engine import shm

    made, removed = [], []

    def create(prefix, size):
        path, memory = create.original(prefix, size)
        made.append(path)
        return path, memory

    def remove(path):
        remove.original(path)
        removed.append(path)

    create.original, remove.original = shm.create, shm.remove
    monkeypatch.setattr(shm, "create", create)
    monkeypatch.setattr(shm, "remove", remove)
    return made, removed


def _pressing_ctrl_c_first(function):
    """``function``, with Ctrl-C pressed as it is entered (delivered as the real one is)."""
    def pressed(*args, **kwargs):
        signal.raise_signal(signal.SIGINT)
        return function(*args, **kwargs)
    return pressed


@pytest.mark.parametrize("strategy", ["exhaustive", "dpor", "stateful"])
def test_ctrl_c_while_the_search_is_split_for_the_workers_keeps_what_the_coordinator_explored(
        monkeypatch, strategy):
    # between the coordinator's own slice and the workers' start: the search is split into
    # units, and the files the workers share are made; nothing of that may be left behind
    from explorer.strategies import dpor_split, exhaustive, stateful

    monkeypatch.setattr(coordinator, "FIRST_SLICE", 0.05)
    where = {"exhaustive": exhaustive.Exhaustive, "dpor": dpor_split.SplitDPOR, "stateful": stateful.Stateful}
    monkeypatch.setattr(where[strategy], "split", _pressing_ctrl_c_first(where[strategy].split))
    made, _removed = _files_made_and_removed(monkeypatch)
    result = explore(counter(3, 4), strategy=strategy, workers=2)
    assert result.stop_reason == "interrupted" and not result.complete
    assert result.executions > 0 and result.workers == 1
    assert made == []  # stopped before the shared files are made


def test_ctrl_c_while_the_shared_files_are_made_is_held_until_they_are_known_then_stops_the_search(monkeypatch):
    monkeypatch.setattr(coordinator, "FIRST_SLICE", 0.05)
    monkeypatch.setattr(coordinator.Hunger, "create",
                        classmethod(_pressing_ctrl_c_first(coordinator.Hunger.create.__func__)))
    made, removed = _files_made_and_removed(monkeypatch)
    result = explore(counter(3, 4), strategy="stateful", workers=2)
    assert result.stop_reason == "interrupted" and not result.complete
    assert result.executions > 0 and result.workers == 1
    assert len(made) == 2 and sorted(removed) == sorted(made)  # the visited table's, the hunger flag's


def test_a_sample_with_a_budget_of_a_billion_stops_at_its_time_limit():
    # its units are made as they are handed out, not all billion executions' worth first
    started = time.monotonic()
    result = _parallel(counter(3, 4), strategy="random", max_executions=10**9, time_limit=1.0)
    assert result.stop_reason == "time_limit" and result.workers == 2
    assert time.monotonic() - started < 6
    assert not _worker_processes()


def _counting_three():
    for _ in range(3):
        value = yield read("x")
        yield write("x", value + 1)


def test_a_scenario_that_cannot_be_pickled_is_refused_in_one_line_naming_it(small_units):
    lock = threading.Lock()

    def holds():
        held = lock  # a closure over a lock: no process but this one can have it
        yield read("x")
        return held.locked()

    scenario = Scenario("holds a lock", variables={"x": 0}, threads={"A": holds, "B": holds})
    with pytest.raises(InvalidArgument, match="scenario 'holds a lock' cannot be sent to worker processes"):
        explore(scenario, strategy="exhaustive", workers=2)


def test_plain_code_in_an_unimportable_module_is_explored_serially_with_a_warning_saying_why(small_units):
    from explorer import program

    namespace = {}
    exec(compile(textwrap.dedent("""
        import threading
        def main():
            box = [0]
            def add():
                box[0] += 1
            t = threading.Thread(target=add)
            t.start(); t.join()
            return box[0]
    """), "<cell>", "exec"), namespace)
    namespace["main"].__module__ = "__main__"
    scenario = program("cell", namespace["main"])
    with pytest.warns(RuntimeWarning, match="explored serially, not on 2 workers"):
        result = explore(scenario, strategy="exhaustive", workers=2)
    assert result.workers == 1 and result.complete


@pytest.mark.parametrize("options, message", [
    ({"workers": 0}, "workers must be a whole number >= 1 or 'auto'"),
    ({"workers": "many"}, "workers must be a whole number >= 1 or 'auto'"),
    ({"workers": 2, "backend": "dask"}, "unknown backend 'dask'"),
    ({"workers": 2, "address": "ray://head:10001"}, "address= names a Ray cluster"),
    # a typo's hundred billion processes were started for any search past a quarter second
    ({"workers": 10**11}, "more processes than this machine can run usefully"),
    ({"workers": 10**11, "backend": "ray"}, "more than any Ray cluster has CPUs for"),
])
def test_parallel_options_are_checked(options, message):
    with pytest.raises(InvalidArgument, match=message):
        explore(counter(2, 1), **options)


# ---- the command line ---------------------------------------------------------------------------

def test_explorer_run_dash_j_two_prints_what_a_serial_run_prints(tmp_path):
    scenario = tmp_path / "counting.py"
    scenario.write_text(textwrap.dedent("""
        from explorer import Scenario, read, write

        def count():
            for _ in range(4):
                value = yield read("x")
                yield write("x", value + 1)

        counter = Scenario("counter 2x4", variables={"x": 0}, threads={"A": count, "B": count})
    """))  # 12,870 interleavings: about a second, so the coordinator hands out units
    runs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"j{jobs}.json"
        done = subprocess.run([sys.executable, "-m", "explorer", "run", "-j", jobs, "--strategy", "exhaustive",
                               "-q", "--json", str(out), str(scenario)],
                              capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert done.returncode == 1, done.stderr  # the counter loses updates
        data = json.loads(out.read_text())
        for entry in data["results"] if "results" in data else [data]:
            entry.pop("elapsed", None)
        runs[jobs] = (data, re.sub(r"[\d.]+ ?(s|ms)\b", "(time)", done.stdout))
    assert runs["1"] == runs["2"]
    assert "12870 executions" in runs["2"][1].replace(",", "")


@pytest.mark.parametrize(("options", "said"), [
    (["-j", "0"], "expected a number of workers (1 or more) or 'auto', got '0'"),
    (["--address", "head:6379"], "--address names a Ray cluster: it goes with --backend ray"),
    (["-j", "2", "--strategy", "auto"], "--strategy auto takes its turns in one process"),
    (["-j", "99999999999"], "-j 99999999999: 99,999,999,999 workers is more processes than this machine"),
])
def test_explorer_run_refuses_parallel_options_that_do_not_go_together_once_before_any_scenario(options, said):
    done = subprocess.run([sys.executable, "-m", "explorer", "run", "scenarios/counter.py", *options],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2
    assert said in done.stderr and done.stderr.count(said) == 1 and done.stdout == ""


def test_a_unit_that_waited_in_the_queue_has_that_much_less_time_before_the_limit():
    # found by a hostile review: a unit queued behind another counted its time left from
    # its own start, so a step that hung there ran on past the exploration's time limit
    from explorer._engine.units import Unit, _time_left

    sent = time.time()
    assert _time_left(Unit((1,), b"", 1.0, None, 1.0, sent - 0.6)) == pytest.approx(0.4, abs=0.05)
    assert _time_left(Unit((1,), b"", 1.0, None, 1.0, sent - 5.0)) == 0.001  # past it: at once
    assert _time_left(Unit((1,), b"", 1.0, None, 1.0, sent + 5.0)) == 1.0  # a clock ahead: never more
    assert _time_left(Unit((1,), b"", 1.0, None, 1.0)) == 1.0  # as a unit was sent before


@pytest.mark.skipif(not (os.path.exists("/proc/self/status") and os.path.isdir("/dev/shm")),
                    reason="Linux reports resident memory in /proc, shared memory apart")
def test_a_workers_reported_memory_leaves_out_the_shared_memory_it_maps():
    # a stateful worker maps the 64 MiB table of visited states and touches all its pages:
    # it is stored once for every worker, so a worker's peak leaves it out. Run in a fresh
    # process, whose high-water mark is its own.
    code = textwrap.dedent("""
        from explorer._engine import shm
        from explorer._engine.units import peak_mib

        def hwm():
            with open("/proc/self/status") as status:
                return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024

        before, whole = peak_mib(), hwm()
        path, memory = shm.create("explorer-test-", 48 << 20)
        try:
            for page in range(0, 48 << 20, 4096):
                memory[page] = 1
            print(before, peak_mib(), whole, hwm())
        finally:
            memory.close()
            shm.remove(path)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent).stdout
    before, after, whole_before, whole_after = map(float, out.split())
    assert whole_after - whole_before >= 40  # the pages touched count in the resident high-water mark
    assert after - before < 8  # but not in the worker's own peak
