"""The DPOR literature's benchmarks (scenarios/lastzero.py, filesystem.py, indexer.py): dpor runs
one execution per Mazurkiewicz trace, counted here without explorer, and matches the counts the
papers and their tools record.

Where the recorded counts come from (see each scenario's docstring for the program):
lastzero(1..4) = 2, 5, 12, 28: Nidhugg, tests/smoke/reference.results.txt; lastzero(5) = 64:
Concuerror, tests/suites/dpor_tests/results/last_zero-test-inf-dpor.txt (optimal DPOR);
filesystem(16) = 8: Concuerror, tests/suites/dpor_tests/results/file_system_example-test-inf-dpor.txt.
filesystem(14) = 2 and indexer(12) = 8 follow from the programs (2**(n - 13) and 8**(n - 11),
derived in the scenarios' docstrings).
"""

import pytest

from explorer import explore, replay
from explorer._engine.program import Program
from explorer._engine.search import search
from explorer.settings import Settings
from explorer.strategies import STRATEGIES
from explorer.strategies.recording import Recording
from scenarios.filesystem import filesystem
from scenarios.indexer import indexer
from scenarios.lastzero import lastzero

from .test_strategies import canonical, verdicts


def conflict(a, b):
    """Two steps do not commute: the same variable and one writes, or the same lock."""
    if a[1] != b[1]:
        return False
    if a[0] in ("read", "write"):
        return "write" in (a[0], b[0])
    return True


def run_prefix(scenario, schedule):
    """Drive the scenario's generators along ``schedule`` with no help from explorer's engine:
    the events taken, each live thread's next step, and the threads that can take it."""
    values, owner, threads, pending = dict(scenario.variables), {}, {}, {}
    for name, factory in scenario.threads.items():
        threads[name] = factory()
        try:
            pending[name] = next(threads[name])
        except StopIteration:
            pass
    events = []
    for name in schedule:
        step = pending[name]
        sent = None
        if step[0] == "read":
            sent = values[step[1]]
        elif step[0] == "write":
            values[step[1]] = step[2]
        elif step[0] == "acquire":
            owner[step[1]] = name
        else:
            del owner[step[1]]
        events.append((name, step))
        try:
            pending[name] = threads[name].send(sent)
        except StopIteration:
            del pending[name]
    enabled = [name for name in scenario.threads
               if name in pending and not (pending[name][0] == "acquire" and pending[name][1] in owner)]
    return events, pending, enabled


def count_traces(scenario):
    """The number of Mazurkiewicz traces of maximal executions, by enumerating each trace's
    lexicographic normal form once (Anisimov and Knuth): the least schedule of its class, with
    threads ordered as declared. A schedule is in that form exactly when no step could move left
    past a later-declared thread's step and everything after it, all independent of it, so a
    depth-first search extends a prefix by a step only if the prefix's tail allows that."""
    assert set(scenario.locks.values()) <= {"lock"}, "plain locks only"
    rank = {name: k for k, name in enumerate(scenario.threads)}

    def normal_after(events, thread, step):
        for other, earlier in reversed(events):
            if other == thread or conflict(step, earlier):
                return True
            if rank[other] > rank[thread]:
                return False
        return True

    def visit(schedule):
        events, pending, enabled = run_prefix(scenario, schedule)
        if not enabled:
            return 1
        return sum(visit([*schedule, t]) for t in enabled if normal_after(events, t, pending[t]))

    return visit([])


SMALL = [
    lastzero(1), lastzero(2), lastzero(3), lastzero(4), lastzero(5),
    filesystem(2, blocks=2, inodes=2), filesystem(3, blocks=3, inodes=1), filesystem(4, blocks=4, inodes=4),
    indexer(2, size=7, messages=1), indexer(3, size=7, messages=1), indexer(4, size=7, messages=1),
    indexer(2, size=4, messages=2),
]


@pytest.mark.parametrize("scenario", SMALL, ids=lambda s: s.name)
def test_dpor_runs_one_execution_per_independently_counted_trace_of_the_small_benchmarks(scenario):
    assert explore(scenario, strategy="dpor").executions == count_traces(scenario)


@pytest.mark.parametrize("scenario", [lastzero(2), lastzero(3), indexer(3, size=7, messages=1),
                                      filesystem(2, blocks=2, inodes=2)], ids=lambda s: s.name)
def test_the_normal_form_count_equals_canonicalising_every_explored_schedule(scenario):
    recording = Recording(STRATEGIES["exhaustive"](0, None, None))
    search(Program(scenario), recording, "exhaustive", Settings())
    names = list(scenario.threads)
    traces = {canonical(replay(scenario, [names[i] for i in s], check_determinism=False).trace.events)
              for s in recording.schedules}
    assert count_traces(scenario) == len(traces)


@pytest.mark.parametrize(("scenario", "recorded"), [
    pytest.param(scenario, recorded, id=scenario.name) for scenario, recorded in [
        (lastzero(1), 2), (lastzero(2), 5), (lastzero(3), 12), (lastzero(4), 28), (lastzero(5), 64),
        (filesystem(14), 2), (filesystem(16), 8), (indexer(12), 8)]])
def test_dpor_runs_exactly_the_trace_counts_the_literature_records(scenario, recorded):
    result = explore(scenario, strategy="dpor")
    assert result.complete and result.executions == recorded
    assert not result.findings or {f.kind for f in result.findings} == {"race"}  # lastzero's reader races


@pytest.mark.parametrize("n", range(1, 9))
def test_lastzero_has_n_plus_three_times_two_to_the_n_minus_two_traces(n):
    assert explore(lastzero(n), strategy="dpor").executions * 4 == (n + 3) * 2 ** n


def test_below_the_papers_contention_threshold_the_benchmarks_are_one_trace():
    # Thread t + 13 shares thread t's first block and thread t + 11 repeats thread t's messages.
    assert explore(filesystem(13), strategy="dpor").executions == 1
    assert explore(indexer(11), strategy="dpor").executions == 1


@pytest.mark.parametrize("scenario", [
    lastzero(1), lastzero(2), lastzero(3), filesystem(2, blocks=2, inodes=2), filesystem(3, blocks=3, inodes=1),
    indexer(3, size=7, messages=1), indexer(2, size=4, messages=2),
], ids=lambda s: s.name)
def test_dpor_gives_the_verdicts_of_exhaustive_exploration_on_the_small_benchmarks(scenario):
    exhaustive, dpor = explore(scenario), explore(scenario, strategy="dpor")
    assert exhaustive.complete and dpor.complete
    assert verdicts(dpor) == verdicts(exhaustive)
    assert set(dpor.outcomes) == set(exhaustive.outcomes)
    assert (dpor.deadlocked > 0) == (exhaustive.deadlocked > 0)


def test_every_message_and_block_is_stored_once_in_every_final_state():
    for scenario in (filesystem(4, blocks=4, inodes=4), indexer(4, size=7, messages=1), indexer(12)):
        result = explore(scenario, strategy="dpor")
        assert result.final_states and not {f.kind for f in result.findings} & {"invariant", "error"}
    assert not filesystem(2).invariant({"inode[0]": 3, "inode[1]": 3})
    assert not indexer(1, messages=2).invariant({"table[0]": 11, "table[1]": 11})
