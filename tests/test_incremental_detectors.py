"""The per-execution detectors as the search runs them: resumed where an execution stops
sharing the previous one's events, they find what the from-scratch functions find."""

from math import comb

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import explorer._engine.search as search_module
from explorer import Barrier, Scenario, acquire, explore, read, release, update, write
from explorer._engine.execution import Execution, _differs
from explorer._engine.program import Program
from explorer.detectors.lock_order import LockOrderEdges, lock_order_edges
from explorer.detectors.lost_update import LostUpdateKeys, lost_update_keys
from explorer.detectors.races import ACCESSES, RacePairs, race_pairs, witness_ranks
from explorer.strategies.dpor import DPOR
from explorer.strategies.exhaustive import Exhaustive
from explorer.testing import strategies as xst
from explorer.testing.strategies import StraightLine
from scenarios import abba, counter, dining_philosophers, fake_database

from .helpers import adds

QUICK = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

THREADS = 3
steps = st.one_of(
    st.builds(read, st.sampled_from("xy")),
    st.builds(write, st.sampled_from("xy"), st.integers(0, 1)),
    st.builds(update, st.sampled_from("xy"), st.just(abs)),
    st.builds(acquire, st.sampled_from("lm")),
    st.builds(release, st.sampled_from("lm")),
)
events = st.lists(st.tuples(st.integers(0, THREADS - 1), steps).map(lambda e: (e[0], e[1], None, None)),
                  max_size=12)


@st.composite
def runs_sharing_prefixes(draw):
    """Event lists one after another, each keeping a prefix of the one before (as
    consecutive executions of a search do), with how long a prefix each is said to share:
    at most what it does."""
    runs, last = [], []
    for _ in range(draw(st.integers(1, 8))):
        kept = draw(st.integers(0, len(last)))
        run = last[:kept] + draw(events)
        runs.append((run, draw(st.integers(0, kept))))
        last = run
    return runs


@QUICK
@given(runs_sharing_prefixes())
def test_resumed_detectors_find_what_the_from_scratch_ones_find_on_event_lists_sharing_prefixes(runs):
    lost, racing, ordering = LostUpdateKeys(), RacePairs(THREADS), LockOrderEdges()
    for run, agreed in runs:
        assert lost.of(run, agreed) == lost_update_keys(run)
        assert ordering.of(run, agreed) == lock_order_edges(run)
        pairs = racing.of(run, agreed, THREADS)
        assert pairs == race_pairs(run, THREADS)
        assert racing.ranks(run, 2, pairs) == witness_ranks(run, 2, pairs)


@QUICK
@given(st.lists(events, min_size=1, max_size=5))
def test_resumed_race_detection_starts_afresh_when_the_number_of_threads_grows(runs):
    racing = RacePairs(1)
    for k, run in enumerate(runs, start=THREADS):
        assert racing.of(run, len(run) // 2, k) == race_pairs(run, k)


def executions_in_search_order(scenario, limit=200):
    """The engine's executions of an exhaustive search, as the search loop runs them."""
    program, strategy, previous, runs = Program(scenario), Exhaustive(), [], []
    while strategy.begin() and len(runs) < limit:
        run = Execution(program)
        run.run(strategy.choose, 1000, previous)
        strategy.end()
        runs.append(run)
        previous = run.events
    return runs


@settings(QUICK, max_examples=150)
@given(xst.scenarios(objects="all", max_steps_per_thread=5, max_steps=10))
def test_resumed_detectors_agree_with_the_from_scratch_ones_on_every_execution_of_programs_of_every_kind(scenario):
    lost, racing, ordering = LostUpdateKeys(), RacePairs(1), LockOrderEdges()
    last = []
    for run in executions_in_search_order(scenario):
        events = run.events  # the edges objects recorded (semaphores, spawns, queues) ride along
        agreed = run.agreed if run.compared is last else 0
        assert not any(_differs(a, b) for a, b in zip(events[:agreed], last[:agreed]))  # as the engine compares
        k = len(run.pending)
        assert lost.of(events, agreed) == lost_update_keys(events)
        assert ordering.of(events, agreed) == lock_order_edges(events)
        pairs = racing.of(events, agreed, k)
        assert pairs == race_pairs(events, k)
        ranks = witness_ranks(events, run.preemptions, pairs)
        assert racing.ranks(events, run.preemptions, pairs) == ranks
        schedule = tuple(event[0] for event in events)
        assert [racing.rank(pair, run.preemptions, schedule) for pair in pairs] == ranks
        last = events


class _FromScratch:
    """A detector that analyses every execution whole, as the search did before it resumed."""

    def __init__(self, detect):
        self.detect, self.events = detect, []
        self.noted = []  # what the search keeps beside each pair (RacePairs.noted): nothing is shared
        # so every pair is counted as it is seen, none lazily (RacePairs.batches)
        self.calls, self.batches, self.high = 0, [], -1

    def of(self, events, _agreed, *k):
        self.events = events
        self.noted.clear()
        self.batches.clear()
        return self.detect(events, *k)

    def settle(self):
        """Nothing is owed: no pair was shared."""

    def ranks(self, events, preemptions, pairs):
        return witness_ranks(events, preemptions, pairs)

    def rank(self, pair, preemptions, _schedule):
        return witness_ranks(self.events, preemptions, [pair])[0]

    def around(self, key):
        """The first racing thread's last access to the variable, the second's first."""
        var, first, second = key[1], key[2], key[5]
        accesses = [(n, event[0]) for n, event in enumerate(self.events)
                    if event[1][0] in ACCESSES and event[1][1] == var]
        return ([n for n, thread in accesses if thread == first][-1],
                next(n for n, thread in accesses if thread == second))


def explored_from_scratch(scenario, strategy, **options):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search_module, "LostUpdateKeys", lambda: _FromScratch(lost_update_keys))
        patch.setattr(search_module, "RacePairs", lambda _k: _FromScratch(race_pairs))
        patch.setattr(search_module, "LockOrderEdges", lambda: _FromScratch(lock_order_edges))
        return explore(scenario, strategy=strategy, **options)


def shown(result):
    """What a result says, findings and their traces included (an exception a finding
    carries compares by identity, so a finding is compared by what it shows; a trace by
    its schedule and its text, since a nan it holds is unequal to itself)."""
    return (result.executions, result.outcomes, result.lock_order, result.stop_reason,
            [(f.kind, f.severity, f.thread, f.message, f.occurrences, f.trace.schedule, f.trace.render())
             for f in result.findings])


@settings(QUICK, max_examples=60)
@given(xst.scenarios(objects="all", max_steps_per_thread=5, max_steps=10),
       st.sampled_from(["exhaustive", "dpor", "stateful", "bounded"]))
def test_a_search_with_resumed_detectors_shows_the_same_findings_occurrences_and_traces_as_from_scratch(
        scenario, strategy):
    assert shown(explore(scenario, strategy=strategy)) == shown(explored_from_scratch(scenario, strategy))


@pytest.mark.parametrize("scenario", [counter.lost_update, dining_philosophers.dining_philosophers,
                                      fake_database.fake_database_update, abba.abba_deadlock])
@pytest.mark.parametrize("strategy", ["exhaustive", "dpor", "stateful", "bounded"])
def test_the_library_scenarios_show_the_same_results_with_resumed_detectors_as_from_scratch(scenario, strategy):
    assert shown(explore(scenario, strategy=strategy)) == shown(explored_from_scratch(scenario, strategy))


def first_x_then_own(first, own):
    def body():
        yield first
        for n in range(3):
            yield write(own, n)
    return body


@pytest.mark.parametrize("strategy", ["exhaustive", "bounded"])
def test_a_race_every_run_shares_with_the_last_is_counted_once_per_run(strategy):
    """A's write of x and B's read of x race in every run; the rest is each thread's own
    writes, so most runs share the racing pair with the run before and have more
    preemptions than its witness: it is counted lazily (RacePairs.batches), and must still
    count every run that shows it. The pair in one order is one key; the threads have
    the same shape, so each order is in half the runs."""
    scenario = Scenario("race, then own writes", variables={"x": 0, "a": 0, "b": 0},
                        threads={"A": first_x_then_own(write("x", 1), "a"), "B": first_x_then_own(read("x"), "b")})
    resumed = explore(scenario, strategy=strategy)
    [race] = [f for f in resumed.findings if f.kind == "race"]
    assert 2 * race.occurrences == resumed.executions
    assert strategy != "exhaustive" or resumed.executions == comb(8, 4)
    assert shown(resumed) == shown(explored_from_scratch(scenario, strategy))


@pytest.mark.parametrize("strategy", ["exhaustive", "dpor", "bounded"])
def test_a_run_the_time_limit_passes_before_its_races_are_noted_counts_for_none_of_them(strategy, monkeypatch):
    """Its pairs shared with the run before are counted lazily: they must not be counted
    for it when the time limit stops the noting (as from scratch, none of its pairs is)."""
    scenario = Scenario("adding twice", variables={"x": 0},
                        threads={"A": adds(2), "B": adds(2)})
    note = search_module._note_races

    def explored(explore_it):
        calls = [0]

        def noting(found, run, k, passed, racing, reorder=None):
            calls[0] += 1
            if calls[0] == 3:
                passed[0] = True  # the limit passes between the run's end and its noting
            return note(found, run, k, passed, racing, reorder)

        monkeypatch.setattr(search_module, "_note_races", noting)
        return explore_it()

    cut = explored(lambda: explore(scenario, strategy=strategy, time_limit=60))
    scratch = explored(lambda: explored_from_scratch(scenario, strategy, time_limit=60))
    assert cut.stop_reason == "time_limit" and cut.executions == 3
    assert shown(cut) == shown(scratch)


def dpor_analysing_from_scratch(scenario, **options):
    """dpor whose race analysis starts from the first step after every execution,
    instead of going on from the steps it shares with the last one analysed."""
    begin = DPOR.begin

    def forgetting(self):
        self.kept = 0
        return begin(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DPOR, "begin", forgetting)
        return explore(scenario, strategy="dpor", **options)


@settings(QUICK, max_examples=80)
@given(xst.scenarios(objects="all", max_steps_per_thread=5, max_steps=10))
@example(Scenario("rlocked", variables={"x": 0}, locks={"m": "rlock"},
                  threads={"A": StraightLine([("acquire", "m"), ("acquire", "m"), ("write", "x", 1),
                                              ("release", "m"), ("release", "m")]),
                           "B": StraightLine([("acquire", "m"), ("read", "x"), ("release", "m")])}))
def test_dpor_resuming_its_race_analysis_runs_the_executions_it_runs_analysing_each_from_scratch(scenario):
    # who holds each lock, happens-before and each lock's acquires, rewound to the first
    # new step: the same runs in the same order, so the same counts, findings and traces
    resumed = explore(scenario, strategy="dpor")
    assert shown(resumed) == shown(dpor_analysing_from_scratch(scenario))
    assert resumed.steps == dpor_analysing_from_scratch(scenario).steps


@pytest.mark.parametrize("scenario", [counter.lost_update, dining_philosophers.dining_philosophers,
                                      fake_database.fake_database_update, abba.abba_deadlock])
def test_dpor_resuming_its_race_analysis_agrees_with_analysing_from_scratch_on_the_library(scenario):
    assert shown(explore(scenario, strategy="dpor")) == shown(dpor_analysing_from_scratch(scenario))


def races_as_noted(scenario, strategy):
    """Every race entry the search kept (its count and rank), and every execution it noted
    (its events, preemptions and number of threads), recorded as the search notes them."""
    noted, kept = [], {}
    note = search_module._note_races

    def recording(found, run, *rest):
        note(found, run, *rest)
        # the events with the edges objects recorded (events.syncs); every thread started
        noted.append((run.events, run.preemptions, len(run.pending)))
        kept.update((key, entry) for key, entry in found.items() if key[0] == "race")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search_module, "_note_races", recording)
        explore(scenario, strategy=strategy)
    return noted, {key: (entry[2], entry[3]) for key, entry in kept.items()}


@settings(QUICK, max_examples=60)
@given(xst.scenarios(objects="all", max_steps_per_thread=4, max_steps=8),
       st.sampled_from(["exhaustive", "bounded"]))
@example(scenario=Scenario("barrier between accesses", variables={"x": 0}, objects={"phase": Barrier(2)},
                           threads={"A": StraightLine([("read", "x")]),
                                    "B": StraightLine([("read", "x"), ("wait", "phase"), ("read", "x")]),
                                    "C": StraightLine([("write", "x", 0), ("wait", "phase")])}),
         strategy="exhaustive")  # the barrier orders C's write before B's second read (CI)
def test_each_race_keeps_the_best_ranked_of_every_execution_showing_it_and_counts_them_all(scenario, strategy):
    # the search ranks only the pairs whose witness a run could beat: what it keeps is
    # what ranking every pair of every execution from scratch keeps
    noted, kept = races_as_noted(scenario, strategy)
    expected: dict = {}
    for events, preemptions, k in noted:
        pairs = race_pairs(events, k)
        for (key, _earlier, _later), rank in zip(pairs, witness_ranks(events, preemptions, pairs)):
            count, best = expected.get(key, (0, rank))
            expected[key] = (count + 1, min(best, rank))
    assert kept == expected


def adds_three():
    for _ in range(3):
        value = yield read("x")
        yield write("x", value + 1)


def test_each_race_is_counted_in_every_interleaving_that_runs_its_steps_in_its_order():
    # two threads of six steps: C(12, 6) = 924 interleavings, each showing every pair of
    # conflicting accesses (nothing orders them), keyed by which thread's step came first;
    # A's step i comes before B's step j in the paths through (i, b) with b <= j, then A
    noted, kept = races_as_noted(Scenario("two counters", variables={"x": 0},
                                          threads={"A": adds_three, "B": adds_three}), "exhaustive")
    assert len(noted) == comb(12, 6) == 924
    paths = {(i, j): sum(comb(i + b, b) * comb(5 - i + 6 - b, 6 - b) for b in range(j + 1))
             for i in range(6) for j in range(6)}
    expected = {}
    for i in range(6):
        for j in range(6):
            if i % 2 or j % 2:  # a write is odd: two reads do not race
                expected["race", "x", 0, i, i % 2 == 1, 1, j, j % 2 == 1] = paths[i, j]
                expected["race", "x", 1, j, j % 2 == 1, 0, i, i % 2 == 1] = 924 - paths[i, j]
    assert {key: count for key, (count, _rank) in kept.items()} == expected
