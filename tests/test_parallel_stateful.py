"""A stateful search split among work units gives the serial verdicts however it splits.

A unit's walk splits at the end of its slice, or early when a worker is idle (the hunger
flag, :mod:`explorer._engine.hunger`): then it keeps only its deepest point's untried
branches and hands out those of every point above it. Here the units run in this process
(``InProcess``), their clock ticks once per reading (so that they split after a few
states, at places the same on every machine), and the flag can be held raised, so that
every split is an idle worker's.
"""

import itertools
import math
import time
import types
from concurrent.futures import Future

import pytest
from hypothesis import assume, given, reject
from hypothesis import strategies as st

from explorer import Scenario, explore
from explorer._engine import coordinator, model_graph, search, units
from explorer._engine.program import Program
from explorer._engine.watchdog import Deadline
from explorer.settings import Settings

from .helpers import counter
from .test_parallel import _verdicts
from .test_parallel_dpor import QUICK
from .test_parallel_dpor import InProcess as Here
from .test_stateful import _walked, _walked_ops, _walked_steps


@pytest.fixture
def split_after(monkeypatch):
    return splitter(monkeypatch)


def splitter(monkeypatch):
    """``split_after(ticks, hungry)``: every unit, the coordinator's first slice too, splits
    once its clock was read ``ticks`` times; with ``hungry``, as for an idle worker."""
    handed = []  # the starts of every split, as the walks handed them back

    def set_ticks(ticks: int, hungry: bool) -> None:
        clock = itertools.count()
        fake = types.SimpleNamespace(monotonic=lambda: float(next(clock)), time=time.time,
                                     perf_counter=time.perf_counter)
        for module in (coordinator, search, units, model_graph):
            monkeypatch.setattr(module, "time", fake)
        monkeypatch.setattr(coordinator, "FIRST_SLICE", ticks)
        monkeypatch.setattr(coordinator, "SLICE", ticks)
        monkeypatch.setattr(search, "AT_LEAST", ticks)  # a hungry split too, after that many readings
        flag = types.SimpleNamespace(memory=bytearray([int(hungry)]), close=lambda: None)
        monkeypatch.setattr(units.Hunger, "attach", classmethod(lambda cls, path: flag))
        monkeypatch.setattr(model_graph, "CHECK_EVERY", 2)  # the clock every other state (one, at least, a unit)

    real = model_graph.ModelGraph.split

    def split(self):
        starts = real(self)
        handed.append(starts)
        return starts

    monkeypatch.setattr(model_graph.ModelGraph, "split", split)
    set_ticks.handed = handed
    return set_ticks


class InProcess(Here):
    """Units run here, at once; what one raises goes back in its future, as a pool's does
    (a walk that meets a line its coordinator did not learn: the search runs serially)."""

    def submit(self, function, *args):
        future = Future()
        try:
            future.set_result(function(*args))
        except Exception as exc:  # noqa: BLE001 - handed back, as a worker process hands it
            future.set_exception(exc)
        return future


def in_process(scenario):
    program = Program(scenario)
    with program.session():
        try:
            result, used, seconds, *_ = coordinator.parallel_search(program, "stateful", {
                "symmetry": True, "exact": False, "max_states": None, "max_steps": Settings().max_steps},
                Settings(), Deadline(None), InProcess)
        except coordinator.Fallback:
            reject()  # a unit met a thread the first execution did not: explored serially
    return result, len(seconds) if used == 2 else 0  # and how many units ran on workers


def test_an_idle_workers_split_hands_out_the_branches_of_every_point_but_the_deepest(split_after):
    scenario = counter(3, 3)
    serial = explore(scenario, strategy="stateful")
    split_after(7, hungry=True)
    split, units_run = in_process(scenario)
    assert units_run > 20
    assert _verdicts(split) == _verdicts(serial)
    # some walk handed out branches of more than one point: starts of several prefix lengths
    deep = [starts for starts in split_after.handed
            if len({len(start[0]) for start in starts if start[1] is None}) > 1]
    assert deep, "no split handed out more than one point's branches"


@pytest.mark.parametrize("hungry", [False, True])
def test_a_stateful_search_split_after_a_few_states_gives_the_serial_verdicts_on_counters(hungry, split_after):
    for threads, times in ((2, 3), (3, 2), (2, 4)):
        scenario = counter(threads, times)
        serial = explore(scenario, strategy="stateful")
        every = explore(scenario, strategy="exhaustive")
        for ticks in (4, 13):
            split_after(ticks, hungry)
            split, _units = in_process(scenario)
            assert _verdicts(split) == _verdicts(serial), (scenario.name, ticks)
            assert set(split.final_states) == set(every.final_states)


@QUICK
@given(distinct=st.lists(_walked_ops, min_size=1, max_size=2), picks=st.lists(st.integers(0, 1), min_size=2, max_size=3),
       ticks=st.integers(min_value=2, max_value=12), hungry=st.booleans())
def test_a_stateful_search_split_anywhere_gives_the_verdicts_of_exhaustive_search_on_generated_programs(
        distinct, picks, ticks, hungry, split_after):
    # programs the graph walk covers (only its walks split): reads and writes, blocks under
    # two locks, repeats, in a helper; threads that pick one body are twins
    bodies = [distinct[pick % len(distinct)] for pick in picks]
    steps = [_walked_steps(body) for body in bodies]
    # exhaustive search runs every interleaving (at most the multinomial of the threads'
    # steps): three threads of five steps are 756,756 runs, minutes a program
    assume(math.factorial(sum(steps)) // math.prod(map(math.factorial, steps)) <= 5_000)
    threads = {f"T{n}": (lambda body=body: (yield from _walked(body))) for n, body in enumerate(bodies)}
    scenario = Scenario("walked", variables={"x": 0, "y": 0}, locks=["l", "m"], threads=threads)
    serial = explore(scenario, strategy="stateful")
    every = explore(scenario, strategy="exhaustive")
    split_after(ticks, hungry)
    split, _units = in_process(scenario)
    assert _verdicts(split) == _verdicts(serial)
    assert set(split.final_states) == set(every.final_states) and set(split.outcomes) == set(every.outcomes)
    assert (split.deadlocked > 0) == (every.deadlocked > 0)
    assert {f.kind for f in split.findings} == {f.kind for f in every.findings}
