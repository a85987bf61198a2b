"""Seat moves: threads built from one function whose arguments name different locks (the
philosophers' seats) are folded as twins are, when their steps show the bodies treat the
names only as names, and never otherwise."""

from functools import partial

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from explorer import Scenario, acquire, explore, read, release, write
from explorer._engine.model_graph import ModelGraph
from explorer._engine.program import Program
from explorer._engine.search import search
from explorer._engine.seats import seat_moves
from explorer.settings import Settings
from explorer.strategies import Stateful

from .helpers import examples
from .test_parallel import _parallel, _verdicts, small_units  # noqa: F401 - a fixture
from .test_stateful import explored


def philosopher(left, right):
    yield acquire(left)
    yield acquire(right)
    meals = yield read("meals")
    yield write("meals", meals + 1)
    yield release(right)
    yield release(left)
    return meals


def lower_fork_first(left, right):
    """The classic cure for the deadlock: it compares the forks' names."""
    first, second = sorted((left, right))
    yield acquire(first)
    yield acquire(second)
    meals = yield read("meals")
    yield write("meals", meals + 1)
    yield release(second)
    yield release(first)


def says_its_fork(left, right):
    yield acquire(left)
    yield acquire(right)
    yield release(right)
    yield release(left)
    return left


def table(body, seats: int, kinds=None, variables=None) -> Scenario:
    forks = [f"fork {seat}" for seat in range(seats)]
    return Scenario(f"{body.__name__} {seats}", variables=variables or {"meals": 0},
                    locks=kinds if kinds is not None else forks,
                    threads={f"P{seat}": partial(body, forks[seat], forks[(seat + 1) % seats])
                             for seat in range(seats)})


def walked(scenario, **options) -> tuple:
    """The result of a stateful search, and the seat moves its walk kept to the end."""
    strategy = Stateful(**options)
    result = search(Program(scenario), strategy, "stateful", Settings())
    return result, strategy.seat_moves


def assert_same_verdicts(result, reference):
    assert set(result.final_states) == set(reference.final_states)
    assert set(result.outcomes) == set(reference.outcomes)
    assert (result.deadlocked > 0, result.failed > 0) == (reference.deadlocked > 0, reference.failed > 0)
    assert {finding.kind for finding in result.findings} == {finding.kind for finding in reference.findings}
    assert {edge[:4] for edge in result.lock_order} == {edge[:4] for edge in reference.lock_order}
    assert result.complete and reference.complete


def test_the_philosophers_seats_are_the_rotations_of_the_table():
    program = Program(table(philosopher, 5))
    moves = seat_moves(program, {name: n for n, name in enumerate(program.lock_names)}, [False] * 5)
    assert [move.threads for move in moves] == [tuple((seat + turn) % 5 for seat in range(5)) for turn in range(5)]
    assert all(move.threads == move.locks for move in moves)  # each fork moves with its left philosopher


def test_threads_with_the_same_arguments_have_no_seat_moves_but_are_twins():
    counter = Scenario("twins", variables={"x": 0}, locks=["a", "b"],
                       threads={name: partial(philosopher, "a", "b") for name in ("T0", "T1")})
    program = Program(counter)
    assert seat_moves(program, {"a": 0, "b": 1}, [False, False]) == ()


def test_an_rlock_does_not_trade_places_with_a_lock():
    kinds = {"fork 0": "lock", "fork 1": "rlock", "fork 2": "lock"}
    program = Program(table(philosopher, 3, kinds))
    assert seat_moves(program, {name: n for n, name in enumerate(program.lock_names)}, [False, True, False]) == ()


@pytest.mark.parametrize("exact", [False, True])
def test_seat_moves_fold_the_philosophers_rotations_and_keep_every_verdict_and_finding(exact):
    scenario = table(philosopher, 5)
    plain, plain_keys = explored(scenario, "stateful")  # no symmetry: exhaustive's finding keys (tested)
    folded, moves = walked(scenario, symmetry=True, exact=exact)
    assert len(moves) == 5
    assert_same_verdicts(folded, plain)
    # one finding per site pair, as without the moves (a message may name another seat's philosopher)
    assert sorted(finding.kind for finding in folded.findings) == sorted(finding.kind for finding in plain.findings)
    assert folded.states < plain.states / 4  # about one state in five: one per rotation of the table
    unfolded, none = walked(scenario, symmetry=False)
    assert none == () and unfolded.states == plain.states


def test_the_outcomes_found_on_one_seat_stand_for_every_seat():
    scenario = table(philosopher, 3)
    exhaustive = explore(scenario, strategy="exhaustive")
    folded, moves = walked(scenario)
    assert len(moves) == 3
    assert len(exhaustive.outcomes) == 6  # each philosopher returns the meals it saw
    assert_same_verdicts(folded, exhaustive)


@pytest.mark.parametrize("body", [lower_fork_first, says_its_fork], ids=lambda body: body.__name__)
def test_a_body_that_does_more_with_a_lock_name_than_name_it_is_walked_without_seats(body):
    scenario = table(body, 3)
    exhaustive = explore(scenario, strategy="exhaustive")
    folded, moves = walked(scenario)
    assert moves == ()  # the check refused them, and the walk went again without
    assert_same_verdicts(folded, exhaustive)
    if body is lower_fork_first:
        assert exhaustive.deadlocked == 0 and folded.deadlocked == 0


# ---- generated rings -------------------------------------------------------------------

seated_op = st.one_of(
    st.tuples(st.just("read"), st.sampled_from(["x", "y"])),
    st.tuples(st.just("write"), st.sampled_from(["x", "y"]), st.integers(0, 2)),
    st.tuples(st.sampled_from(["acquire", "release"]), st.sampled_from(["L", "R", "L", "R", "l0"])),
    st.tuples(st.just("ordered")),  # both of its locks, the lower name first: not a seat's behaviour
    st.tuples(st.just("mine")),     # writes whether it sits at seat 0: neither
)


def seated(ops, left, right):
    register = 0
    for op in ops:
        kind = op[0]
        if kind == "read":
            register = yield read(op[1])
        elif kind == "write":
            yield write(op[1], register + op[2])
        elif kind == "ordered":
            first, second = sorted((left, right))
            yield acquire(first)
            yield acquire(second)
            yield release(second)
            yield release(first)
        elif kind == "mine":
            yield write("y", left == "l0")
        else:
            lock = {"L": left, "R": right}.get(op[1], op[1])
            yield (acquire if kind == "acquire" else release)(lock)
    return register


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(seated_op, min_size=1, max_size=3).map(tuple), st.integers(2, 3),
       st.one_of(st.sampled_from([["lock"] * 3, ["rlock"] * 3]),
                 st.lists(st.sampled_from(["lock", "rlock"]), min_size=3, max_size=3)),
       st.sampled_from([False, False, True]))
def test_stateful_with_seat_moves_agrees_with_exhaustive_on_generated_rings(ops, seats, kinds, odd_one):
    locks = {f"l{n}": kinds[n] for n in range(seats)}
    threads = {f"P{n}": partial(seated, ops, f"l{n}", f"l{(n + 1) % seats}") for n in range(seats)}
    if odd_one:  # one seat whose body reads first: a ring with fewer moves, or none
        threads["P0"] = partial(seated, (("read", "x"), *ops), "l0", f"l{1 % seats}")
    scenario = Scenario("ring", variables={"x": 0, "y": 0}, locks=locks, threads=threads)
    # dpor gives exhaustive enumeration's verdicts (tests/test_strategies.py), in far fewer runs
    reference = explore(scenario, strategy="dpor")
    program = Program(scenario)
    offered = seat_moves(program, {name: n for n, name in enumerate(program.lock_names)},
                         [kind == "rlock" for kind in locks.values()])
    for exact in (False, True):
        folded, moves = walked(scenario, exact=exact)
        event("seat moves kept" if moves else "seat moves refused" if offered else "no seat moves")
        assert_same_verdicts(folded, reference)
        assert folded.truncated == reference.truncated == 0


def test_the_graph_walk_counts_states_per_seat_class():
    program = Program(table(philosopher, 4))
    graph = ModelGraph(program, symmetry=True, exact=True, max_states=None, max_steps=1000)
    assert len(graph.moves) == 4
    assert graph.images[1][graph._root.locals[0]] == graph._root.locals[1]  # seat 0's start is seat 1's


# ---- on workers --------------------------------------------------------------------------


def test_two_workers_fold_the_seats_as_one_process_does(small_units):
    scenario = table(philosopher, 5)
    serial = explore(scenario, strategy="stateful")
    parallel = _parallel(scenario, strategy="stateful")
    assert parallel.workers == 2 and len(parallel.unit_seconds) > 5
    assert _verdicts(parallel) == _verdicts(serial)
    assert parallel.symmetric == serial.symmetric == (("P0", "P1", "P2", "P3", "P4"),)
    # every process keys a state under the same move (by digests): together they store about
    # what one process stores, where without the moves one process stores 4.5 times as many
    assert parallel.states < 1.5 * serial.states


def names_its_fork_when_second(left, right):
    """Names a fork in what it writes, but only once it has read that another came first."""
    yield acquire(left)
    seen = yield read("x")
    yield write("x", seen + 1)
    yield release(left)
    if seen:
        yield write("y", left)


def test_a_seat_move_that_fails_its_check_while_the_workers_walk_makes_the_search_serial(small_units):
    scenario = table(names_its_fork_when_second, 3, variables={"x": 0, "y": None})
    program = Program(scenario)
    assert ModelGraph(program, symmetry=True, exact=False, max_states=None, max_steps=1000).moves  # they start well
    exhaustive = explore(scenario, strategy="exhaustive")
    with pytest.warns(RuntimeWarning, match="a seat move failed its check"):
        parallel = explore(scenario, strategy="stateful", workers=2)
    assert parallel.workers == 1
    assert_same_verdicts(parallel, exhaustive)
    assert {state["y"] for state in parallel.final_states} == {None, "fork 0", "fork 1", "fork 2"}
    serial, moves = walked(scenario)
    assert moves == ()  # walked again without them
    assert_same_verdicts(serial, exhaustive)
