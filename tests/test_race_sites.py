"""The graph walk looks for races by their sites (variable, kinds and lines), and lets an
epoch go once every pair of sites it could make was seen: fewer states, never a race,
outcome or finding less than exhaustive search shows, even when a line is reached late."""

import linecache
import warnings
from itertools import count

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from explorer import Scenario, acquire, explore, read, release, replay, write
from explorer._engine import coordinator
from explorer._engine.model_graph import ModelGraph
from explorer._engine.program import Program
from explorer._engine.race_sites import RaceSites, SitesGrew
from explorer.strategies import stateful as stateful_module

from . import test_stateful
from .test_bench_spin import bench
from .test_seats import philosopher, table
from .test_stateful import explored, races

_NAMES = count()


def compiled(name: str, statements: list) -> object:
    """A generator function whose every statement is a line of its own (so every access has
    a site of its own), from ``("read", var)``, ``("write", var, plus)``, ``("acquire",
    lock)``, ``("release", lock)``, ``("if", value, [...])`` (on the value last read) and
    ``("loop", times, [...])``; its source is kept by linecache, as a file's would be."""
    lines = [f"def {name}():", "    register = 0"]

    def emit(items, depth):
        pad = "    " * depth
        if not items:
            lines.append(pad + "pass")
        for item in items:
            kind = item[0]
            if kind == "read":
                lines.append(f"{pad}register = yield read({item[1]!r})")
            elif kind == "write":
                lines.append(f"{pad}yield write({item[1]!r}, register + {item[2]})")
            elif kind in ("acquire", "release"):
                lines.append(f"{pad}yield {kind}({item[1]!r})")
            elif kind == "if":
                lines.append(f"{pad}if register == {item[1]}:")
                emit(item[2], depth + 1)
            else:
                lines.append(f"{pad}for _ in range({item[1]}):")
                emit(item[2], depth + 1)

    emit(statements, 1)
    lines.append("    return register")
    source = "\n".join(lines) + "\n"
    filename = f"<generated {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"read": read, "write": write, "acquire": acquire, "release": release}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - the test's own generated code
    return namespace[name]


simple = st.one_of(st.tuples(st.just("read"), st.sampled_from("xy")),
                   st.tuples(st.just("write"), st.sampled_from("xy"), st.integers(0, 2)),
                   st.tuples(st.sampled_from(["acquire", "release"]), st.just("l")))
statement = st.one_of(simple, simple, simple,
                      st.tuples(st.just("if"), st.integers(0, 2), st.lists(simple, min_size=1, max_size=2)),
                      st.tuples(st.just("loop"), st.integers(1, 2), st.lists(simple, min_size=1, max_size=2)))
thread_body = st.lists(statement, min_size=1, max_size=4)


@st.composite
def programs(draw) -> Scenario:
    """Two or three threads, each a function of its own or a twin of the first (the same
    function: threads alike, for symmetry); their reads steer branches, so a line may be
    reached only in some interleavings."""
    first = compiled(f"thread{next(_NAMES)}", draw(thread_body))
    threads = {"A": first}
    for name in "BC"[:draw(st.integers(1, 2))]:
        threads[name] = first if draw(st.booleans()) else compiled(f"thread{next(_NAMES)}", draw(thread_body))
    return Scenario("generated lines", variables={"x": 0, "y": 0}, locks={"l": draw(st.sampled_from(["lock", "rlock"]))},
                    threads=threads)


def racing_kinds(result) -> set:
    """Each race's variable and the kinds of its two accesses."""
    return {(race[0], race[1][0], race[2][0]) for race in races(result)}


@settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(programs())
def test_the_walk_finds_every_race_by_its_lines_when_branches_reach_lines_late(scenario):
    assert_the_walk_finds_every_race_by_its_lines(scenario, budget=4_000)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(programs())
def test_the_walk_finds_every_race_by_its_lines_on_more_programs_whose_branches_reach_lines_late(scenario):
    assert_the_walk_finds_every_race_by_its_lines(scenario, budget=20_000)


def assert_the_walk_finds_every_race_by_its_lines(scenario, budget):
    """Stateful search, with and without symmetry, against exhaustive search of at most
    ``budget`` executions (a larger program is not a case)."""
    for name, function in scenario.threads.items():
        note(f"{name}: {''.join(linecache.getlines(function.__code__.co_filename))}")
    exhaustive, keys = explored(scenario, "exhaustive", max_executions=budget)
    assume(exhaustive.complete)
    for symmetry in (False, True):
        result, found = explored(scenario, "stateful", symmetry=symmetry)
        if not symmetry:  # every finding key but races' (those are by step number)
            assert {key for key in found if key[0] != "race"} == {key for key in keys if key[0] != "race"}
        # Every search keeps one witness per racing pair of step numbers, and where a branch
        # puts one step number on different lines in different runs, which lines show is the
        # witness's: so races compare here by variable and kinds; each one the walk shows is
        # real, its trace replayed shows it on the same lines.
        assert racing_kinds(result) == racing_kinds(exhaustive)
        for finding in result.findings:
            if finding.kind == "race":
                assert finding.message in {f.message for f in replay(scenario, finding.trace).findings}
        assert set(result.final_states) == set(exhaustive.final_states)
        assert set(result.outcomes) == set(exhaustive.outcomes)
        assert (result.deadlocked > 0, result.failed > 0) == (exhaustive.deadlocked > 0, exhaustive.failed > 0)
        assert {f.kind for f in result.findings} == {f.kind for f in exhaustive.findings}
        assert result.complete


def late_writer():
    value = yield read("x")
    yield write("x", value + 1)
    value = yield read("x")
    if value == 1:  # only where it went first: the walk tries that last, after the races were seen
        yield write("x", 10)
    return value


def incrementer():
    value = yield read("x")
    yield write("x", value + 1)


def test_a_line_reached_after_epochs_were_let_go_makes_the_walk_start_again_and_find_its_race():
    scenario = Scenario("late line", variables={"x": 0},
                        threads={"A": incrementer, "B": incrementer, "C": late_writer})
    result, _keys = explored(scenario, "stateful")
    walk = test_stateful.LAST["strategy"].graph
    assert walk.race_sites.walks == 1  # the write's line came late, once: one walk again
    exhaustive = explore(scenario, strategy="exhaustive")
    assert races(result) == races(exhaustive)
    line = f":{late_writer.__code__.co_firstlineno + 5}"  # its write of 10
    assert any(site[0] == "write" and site[1].endswith(line) for race in races(result) for site in race[1:])
    assert set(result.final_states) == set(exhaustive.final_states)


def test_after_so_many_walks_again_the_walk_stops_letting_epochs_go(monkeypatch):
    monkeypatch.setattr(stateful_module, "MAX_WALKS", 1)
    scenario = Scenario("late line", variables={"x": 0},
                        threads={"A": incrementer, "B": incrementer, "C": late_writer})
    result, _keys = explored(scenario, "stateful")
    sites = test_stateful.LAST["strategy"].graph.race_sites
    assert sites.walks == 1 and not sites.drops
    assert races(result) == races(explore(scenario, strategy="exhaustive"))


def test_letting_seen_epochs_go_halves_the_philosophers_states_with_the_same_verdicts(monkeypatch):
    # six philosophers sharing a meals counter, as benchmarks/bench_spin.py has them
    scenario = bench.scenario(bench.Row("philosophers-6", "philosophers", 6))
    kept = explore(scenario, strategy="stateful")
    monkeypatch.setattr(RaceSites, "is_dead", lambda *args: False)
    every = explore(scenario, strategy="stateful")
    assert kept.states * 1.6 < every.states
    assert set(kept.final_states) == set(every.final_states) and kept.deadlocked and every.deadlocked
    assert {f.kind for f in kept.findings} == {f.kind for f in every.findings}
    assert races(kept) == races(every)


def test_a_new_line_makes_the_walk_start_again_only_where_it_could_race_with_what_was_let_go():
    seen: set = set()
    sites = RaceSites(("A", "B"), [0, 0], seen)
    first_read, first_write = ("read", "f.py:1"), ("write", "f.py:2")
    sites.learn(0, "x", first_read)
    sites.learn(0, "x", first_write)
    accesses = [None, (0, first_read, "x", False)]  # an epoch of A's that read x on line 1
    assert not sites.is_dead(1, accesses, 0b10)  # its race with B's write on line 2: not seen yet
    seen.add(("race", "x", first_read, first_write))
    sites.version += 1
    assert sites.is_dead(1, accesses, 0b10)
    sites.learn(1, "x", ("read", "f.py:3"))  # a read races with no read: nothing let go is at stake
    with pytest.raises(SitesGrew):
        sites.learn(1, "x", ("write", "f.py:4"))


def test_an_access_without_a_line_keeps_every_epoch_it_may_race_with():
    seen: set = set()
    sites = RaceSites(("A", "B"), [0, 0], seen)
    read_site, write_site = ("read", "f.py:1"), ("write", "f.py:2")
    for site in (read_site, write_site, None):
        sites.learn(0, "x", site)
    seen.add(("race", "x", read_site, write_site))
    assert not sites.is_dead(1, [None, (0, read_site, "x", False)], 0b10)
    assert not sites.is_dead(1, [None, (0, 5, "x", False)], 0b10)  # (a step number: no line)


def test_a_walk_that_starts_again_on_a_new_line_leaves_its_tables_whole():
    # a worker keeps its walk for its next units: a local state half recorded would shift
    # every later one's site and fingerprint (found by the review helper)
    scenario = Scenario("late line", variables={"x": 0},
                        threads={"A": incrementer, "B": incrementer, "C": late_writer})
    walk = ModelGraph(Program(scenario), symmetry=False, exact=False, max_states=None, max_steps=1000, stable=True)
    with pytest.raises(SitesGrew):
        while walk.next_schedule() is not None:
            pass
    assert len(walk.sites) == len(walk.info) == len(walk.digests) == len(walk.locals)


def test_where_the_coordinator_let_no_epoch_go_a_line_a_worker_learns_late_costs_no_serial_search(monkeypatch):
    # its first execution handed out at once, the coordinator let no epoch go: so neither do the workers
    monkeypatch.setattr(coordinator, "FIRST_SLICE", 0.0)
    monkeypatch.setattr(coordinator, "SLICE", 0.001)
    scenario = Scenario("late line", variables={"x": 0},
                        threads={"A": incrementer, "B": incrementer, "C": late_writer})
    serial = explore(scenario, strategy="stateful")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # explored serially instead: a warning
        parallel = explore(scenario, strategy="stateful", workers=2)
    assert parallel.workers == 2
    assert set(parallel.final_states) == set(serial.final_states)
    assert {f.kind for f in parallel.findings} == {f.kind for f in serial.findings}
    assert racing_kinds(parallel) == racing_kinds(serial)


def test_a_strict_walk_raises_at_any_site_its_coordinator_did_not_learn():
    seen: set = set()
    sites = RaceSites(("A", "B"), [0, 0], seen, known={("x", 0): {("read", "f.py:1")}}, strict=True)
    sites.learn(1, "x", ("read", "f.py:1"))  # known
    with pytest.raises(SitesGrew):
        sites.learn(1, "x", ("read", "f.py:3"))  # a read: no epoch let go is at stake here, but
        # another process may have let one go against a write this one does not know of
    with pytest.raises(SitesGrew):
        sites.learn(1, "y", ("write", "f.py:4"))
    assert sites.sites == {("x", 0): {("read", "f.py:1")}}  # what it knew, untouched


def test_a_shared_walk_lets_epochs_go_only_where_its_coordinator_did_and_then_strictly():
    scenario = table(philosopher, 4)
    dropped = ModelGraph(Program(scenario), symmetry=True, exact=False, max_states=None, max_steps=1000, stable=True)
    while dropped.next_schedule() is not None:  # the whole walk: races seen, epochs let go
        pass
    assert dropped.race_sites.relied
    dropped.share(SharedVisitedStub())
    assert dropped.race_sites.strict and dropped.race_sites.drops
    fresh = ModelGraph(Program(scenario), symmetry=True, exact=False, max_states=None, max_steps=1000, stable=True)
    fresh.share(SharedVisitedStub())  # nothing let go before the table was shared: nothing after
    assert not fresh.race_sites.strict and not fresh.race_sites.drops


class SharedVisitedStub:
    """A table of visited states that takes whatever it is given, with no room for facts."""

    facts = b""

    def visit(self, fingerprint, asleep):
        return None

    def known(self):
        return self.facts


def test_a_worker_whose_first_step_is_at_a_line_its_coordinator_did_not_learn_gives_up_at_once(monkeypatch):
    # walking again without seats would meet it again, for ever (found by the review helper)
    walks = []

    def walk(*args, **options):
        walks.append(options)
        assert len(walks) <= 2, "the walk started again and again"
        return ModelGraph(*args, **options)

    monkeypatch.setattr(stateful_module, "ModelGraph", walk)
    scenario = Scenario("late line", variables={"x": 0},
                        threads={"A": incrementer, "B": incrementer, "C": late_writer})
    worker = stateful_module.Stateful(stable=True, sites={})
    with pytest.raises(SitesGrew):
        worker._walk(Program(scenario), seats=True, known_sites={}, strict_sites=True)
