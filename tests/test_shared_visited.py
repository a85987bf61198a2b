"""The table of visited states that the workers of a stateful search share
(explorer/_engine/shared_visited.py), and the fingerprints it holds
(explorer/_engine/fingerprints.py): what a visit answers, with sleep sets as a serial
search's own dict answers, and that processes agree."""

import multiprocessing
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import pytest

from explorer import read, write
from explorer._engine.fingerprints import Unstable, digest
from explorer._engine.shared_visited import MOST_FACTS, NEW, SharedVisited


@pytest.fixture
def table():
    made = SharedVisited.create(1 << 10)
    yield made
    made.close()


def test_a_state_not_seen_before_is_new_and_the_second_visit_is_cut(table):
    assert table.visit(12345, 0) == NEW
    assert table.visit(12345, 0) == 0
    assert len(table) == 1


def test_a_state_explored_with_threads_asleep_leaves_those_threads_to_a_visit_that_has_them_awake(table):
    table.visit(7, 0b0110)  # explored with threads 1 and 2 asleep
    assert table.visit(7, 0b0111) == 0  # fewer awake now: nothing left
    assert table.visit(7, 0b0010) == 0b0100  # thread 2 is awake now and was not then
    assert table.visit(7, 0b0010) == 0  # the stored set shrank to the intersection
    assert table.visit(7, 0) == 0b0010


def test_fingerprint_zero_and_fingerprints_that_share_a_slot_are_kept_apart(table):
    base = 5
    assert table.visit(base, 0) == NEW
    assert table.visit(base + (1 << 10), 0) == NEW  # the same home slot: the next one is probed
    assert table.visit(0, 0) == NEW
    assert table.visit(base + (1 << 10), 0) == 0 and table.visit(base, 0) == 0
    assert len(table) == 3


def test_a_full_table_says_so_instead_of_storing():
    small = SharedVisited.create(1 << 9)  # holds 384 states before it says it is full
    try:
        answers = [small.visit(n * 7919 + 1, 0) for n in range(1000)]
        assert answers[:384] == [NEW] * 384
        assert None in answers and len(small) < 1 << 9
        stored = [n for n, answer in enumerate(answers) if answer == NEW]
        assert all(small.visit(n * 7919 + 1, 0) == 0 for n in stored)  # what it stored stays
    finally:
        small.close()


def _visit_many(handle, seed: int, count: int) -> list[int]:
    table = SharedVisited.attach(handle)
    try:
        import random

        rng = random.Random(seed)
        return [n for n in (rng.randrange(1, 5000) for _ in range(count)) if table.visit(n, 0) == NEW]
    finally:
        table.close()


def test_two_processes_visiting_the_same_states_at_once_store_each_state_exactly_once():
    table = SharedVisited.create(1 << 14)
    try:
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(2, mp_context=context) as pool:
            firsts = [future.result() for future in
                      [pool.submit(_visit_many, table.handle, seed, 20_000) for seed in (1, 2)]]
        new = firsts[0] + firsts[1]
        assert len(new) == len(set(new)) == len(table)  # no state is new to both
        import random

        everything = set()
        for seed in (1, 2):
            rng = random.Random(seed)
            everything |= {rng.randrange(1, 5000) for _ in range(20_000)}
        assert set(new) == everything
    finally:
        table.close()


def _learn_and_read(handle, fact: int) -> bytes:
    table = SharedVisited.attach(handle)
    try:
        table.learn(fact)
        assert table.visit(99, 0) == 0  # the slots still follow the facts: the state stored there
        return table.known()
    finally:
        table.close()


def test_a_fact_one_process_learns_is_known_to_the_others_and_the_states_stay_apart_from_facts():
    table = SharedVisited.create(1 << 8, facts=25)  # a variable, five threads: 25 facts, 32 bytes
    try:
        assert table.known() == bytes(32)
        table.learn(3)
        assert table.visit(99, 0) == NEW
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            there = pool.submit(_learn_and_read, table.handle, 24).result()
        here = table.known()
        assert here == there and [n for n, byte in enumerate(here) if byte] == [3, 24]
        assert len(table) == 1  # learning a fact stored no state
    finally:
        table.close()


def test_a_table_asked_for_more_facts_than_it_holds_has_room_for_none():
    table = SharedVisited.create(1 << 8, facts=MOST_FACTS + 1)
    try:
        assert table.known() == b"" and table.visit(5, 0) == NEW
    finally:
        table.close()


def test_the_coordinator_removes_the_table_when_it_is_done(tmp_path):
    table = SharedVisited.create(1 << 8)
    path = table.handle.path
    table.close()
    import os

    assert not os.path.exists(path)


# ---- fingerprints ---------------------------------------------------------------------------------

PARTS = [(1, int), ("x", str), (None, type(None)), (True, bool), (1.5, float), b"ab",
         frozenset({("x", 1), ("y", 2)}), read("x"), write("x", 3), (("a",), ((1, 2), 3))]


def test_fingerprints_are_the_same_in_another_process_whose_string_hashes_differ():
    code = ("from explorer._engine.fingerprints import digest; from explorer import read, write; NoneType = type(None); "
            f"print([digest(p) for p in {PARTS!r}])".replace("<class '", "").replace("'>", ""))
    here = [digest(part) for part in PARTS]
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={"PYTHONHASHSEED": seed, "PATH": "", "PYTHONPATH": ":".join(sys.path)})
        assert eval(done.stdout) == here


WALK = """
import sys
from explorer import Scenario, acquire, read, release, write
from explorer._engine.model_graph import ModelGraph
from explorer._engine.program import Program

def body():
    value = yield read("x")  # unlocked: stale reads, races
    yield write("x", value + 1)
    yield acquire("l")  # locked: epochs that other threads come to know
    value = yield read("y")
    yield write("y", value + 1)
    yield release("l")

scenario = Scenario("s", variables={"x": 0, "y": 0}, locks=["l"], threads={"A": body, "B": body, "C": body})
graph = ModelGraph(Program(scenario), symmetry=True, exact=False, max_states=None, max_steps=100, stable=True)
for n in range(int(sys.argv[1])):  # entries another unit met first: this process numbers the rest apart
    graph._element(((n, "elsewhere"), n))
while graph.next_schedule() is not None:
    pass
print((len(graph.visited), sorted(graph.unshared)))
"""


def test_the_graph_walk_fingerprints_every_state_alike_in_processes_whose_string_hashes_differ():
    # what workers of a parallel stateful search put in their shared table: each state's
    # fingerprint, from its parts', its summaries' and its threads' digests
    seen = []
    for seed, numbered in (("1", "0"), ("2", "7")):
        done = subprocess.run([sys.executable, "-c", WALK, numbered], capture_output=True, text=True, check=True,
                              env={"PYTHONHASHSEED": seed, "PATH": "", "PYTHONPATH": ":".join(sys.path)})
        states, fingerprints = eval(done.stdout)
        assert states == len(fingerprints) == len(set(fingerprints)) > 50  # every state has one, its own
        seen.append(fingerprints)
    assert seen[0] == seen[1]


def test_unequal_parts_have_unequal_fingerprints_and_types_are_told_apart():
    parts = [1, True, 1.0, "1", (1,), frozenset({1}), (1, int), (1, bool), -1, -2, read("x"), write("x", 1),
             ("x", 1), frozenset(), ()]
    assert len({digest(part) for part in parts}) == len(parts)


def test_a_set_digests_alike_whatever_order_it_was_built_in():
    assert digest(frozenset(["a", "b", "c"])) == digest(frozenset(["c", "b", "a"]))


def _local_class():
    class Local:
        pass

    return Local


@pytest.mark.parametrize("value", [float("nan"), object(), [1], _local_class()])
def test_a_value_with_no_encoding_every_process_shares_is_unstable(value):
    with pytest.raises(Unstable):
        digest(value)
