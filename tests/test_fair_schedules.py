"""Fair schedules (explore(fair=True), --fair): a thread that sleeps or whose timeout fires
lets every thread that could run meanwhile take a step before it goes on (CHESS's rule,
explorer/_engine/fairness.py), so polling loops end; the strategies that support it give
exhaustive enumeration's verdicts, and the others refuse it."""

import json
import queue
import threading
import time
import warnings
from collections import Counter

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import explorer
from explorer import Scenario, acquire, explore, read, release, replay, write
from explorer._engine import coordinator
from explorer.cli import main
from explorer.errors import InvalidArgument
from explorer.steps import Op
from explorer.testing import strategies as xst

from .helpers import examples

QUICK = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


# ---- the programs that poll ---------------------------------------------------------------------

def stopper():
    stop = threading.Event()
    q = queue.Queue()
    out = []

    def worker():
        while not stop.is_set():
            try:
                item = q.get(timeout=0.05)
            except queue.Empty:
                continue
            out.append(item * 2)
            q.task_done()

    t = threading.Thread(target=worker, daemon=True)
    t.start()
    for i in range(2):
        q.put(i)
    q.join()
    stop.set()
    t.join()
    return out


class Flag:
    def __init__(self):
        self.ready = False


def sleep_poller():
    flag = Flag()
    polls = []

    def waiter():
        while not flag.ready:
            polls.append(1)
            time.sleep(0.01)

    t = threading.Thread(target=waiter)
    t.start()
    flag.ready = True
    t.join()
    return len(polls)


def lock_retrier():
    lock = threading.Lock()
    tries = []

    def grabber():
        while not lock.acquire(timeout=0.01):
            tries.append(1)
        lock.release()

    lock.acquire()
    t = threading.Thread(target=grabber)
    t.start()
    lock.release()
    t.join()
    return len(tries)


STOPPER = explorer.program("stopper", stopper)
SLEEP_POLLER = explorer.program("sleep poller", sleep_poller, track=[Flag])
LOCK_RETRIER = explorer.program("lock retrier", lock_retrier)


def mains(result) -> Counter:
    return Counter({outcome["main"]: count for outcome, count in result.outcomes.items()})


@pytest.mark.parametrize("strategy", ["exhaustive", "dpor"])
def test_a_queue_polling_worker_stopped_by_an_event_explores_to_the_end_under_fair_schedules(strategy):
    # The worker takes 0 and 1 in that order (one worker, a FIFO queue) and main joins the
    # queue before it stops the worker: every run returns [0, 2]. Unfair, the worker's
    # get may time out for ever while main could run; fair, it times out at most twice in
    # a row while main could run and took no step, so every run ends.
    result = explore(STOPPER, strategy=strategy, fair=True)
    assert result.complete and result.fair and result.strategy == strategy
    assert not [f for f in result.findings if f.kind == "max-steps"]
    assert [list(returned) for returned in mains(result)] == [[0, 2]]


def test_fair_schedules_default_to_exhaustive_search():
    assert explore(LOCK_RETRIER, fair=True).strategy == "exhaustive"


def test_a_sleep_polling_loop_runs_three_fair_schedules_with_at_most_one_poll():
    # main: write ready=False, start W, write ready=True, join W. W: read ready, then
    # (sleep, read ready) while False. After the start:
    #   main writes True first: W reads True, no poll (main's join waits for W);
    #   W reads False first: main writes True then W sleeps and reads, or W sleeps first,
    #     which is a yield: main, schedulable at W's read and sleep, took no step, so W
    #     owes it and waits for main's write; W then reads True. One poll each.
    # Unfair schedules would also let W sleep and read False any number of times.
    result = explore(SLEEP_POLLER, fair=True)
    assert result.complete and result.executions == 3
    assert mains(result) == Counter({0: 1, 1: 2})
    reduced = explore(SLEEP_POLLER, strategy="dpor", fair=True)  # W's sleep is dependent with every step
    assert reduced.complete and set(reduced.outcomes) == set(result.outcomes)


def test_a_lock_acquire_timeout_retry_loop_runs_two_fair_schedules():
    # main holds the lock, starts G, releases, joins. G retries acquire(timeout) until it
    # gets it. After the start: main releases first (G gets it at once: no retry), or G
    # times out first, a yield: it owes main, whose release comes next, then G gets it.
    result = explore(LOCK_RETRIER, fair=True)
    assert result.complete and result.executions == 2
    assert mains(result) == Counter({0: 1, 1: 1})
    reduced = explore(LOCK_RETRIER, strategy="dpor", fair=True)
    assert reduced.complete and set(reduced.outcomes) == set(result.outcomes)


@pytest.mark.parametrize("scenario", [STOPPER, SLEEP_POLLER, LOCK_RETRIER], ids=lambda s: s.name)
def test_unfair_schedules_still_let_a_polling_loop_run_to_max_steps_and_the_finding_names_fair(scenario):
    result = explore(scenario, strategy="exhaustive", max_steps=12, max_executions=200)
    assert not result.fair and result.truncated
    finding = next(f for f in result.findings if f.kind == "max-steps")
    assert "--fair (explore(fair=True))" in finding.message


@pytest.mark.parametrize("strategy", ["bounded", "random", "pct"])
def test_the_other_strategies_that_keep_to_fair_schedules_see_only_fair_outcomes(strategy):
    every = explore(SLEEP_POLLER, fair=True)
    sampled = explore(SLEEP_POLLER, strategy=strategy, fair=True, max_executions=50)
    assert sampled.fair and set(sampled.outcomes) <= set(every.outcomes)
    if strategy == "bounded":
        assert sampled.complete and sampled.outcomes == every.outcomes


@pytest.mark.parametrize("strategy", ["stateful", "auto"])
def test_strategies_whose_reductions_assume_commuting_steps_refuse_fair_schedules(strategy):
    with pytest.raises(InvalidArgument, match=f"strategy '{strategy}' does not support fair=True.*exhaustive"):
        explore(SLEEP_POLLER, strategy=strategy, fair=True)


def test_fair_must_be_a_bool():
    with pytest.raises(InvalidArgument, match="fair must be True or False"):
        explore(SLEEP_POLLER, fair="yes")


def test_a_fair_trace_replays_with_fair_and_the_summary_and_json_say_the_search_was_fair():
    result = explore(SLEEP_POLLER, fair=True)
    race = next(f for f in result.findings if f.kind == "race")
    again = replay(SLEEP_POLLER, race.trace, fair=True)
    assert [(e.thread, e.kind) for e in again.trace.events] == [(e.thread, e.kind) for e in race.trace.events]
    assert "exhaustive over fair schedules" in result.render().splitlines()[0]
    assert "fair=True)" in result.render()  # the line that replays each finding's trace
    assert json.loads(result.to_json())["fair"] is True
    assert "fair" not in json.loads(explore(_scenario({"A": [("w", "x", 1)]})).to_json())


def test_every_replay_line_of_a_fair_search_says_fair_and_replays_the_finding_it_is_shown_with():
    import html
    import re

    from explorer.notebook import result_html
    from explorer.report_html import render_report
    from explorer.testing import assert_no_findings

    result = explore(SLEEP_POLLER, fair=True)
    assert result.findings
    with pytest.raises(AssertionError) as failed:
        assert_no_findings(SLEEP_POLLER, fair=True)
    pages = {"text": result.render(), "report": html.unescape(render_report([result])),
             "notebook": html.unescape(result_html(result)), "assertion": str(failed.value)}
    for where, page in pages.items():
        lines = re.findall(r"replay\(scenario, .*?\)(?=<|$)", page, flags=re.M)
        assert len(lines) >= len(result.findings), where  # a line for each finding (a group's: one)
        for line in lines:
            assert line.endswith(", fair=True)"), (where, line)
            again = eval(line, {"replay": replay, "scenario": SLEEP_POLLER})
            assert again.trace.schedule in [f.trace.schedule for f in result.findings], (where, line)


@pytest.mark.parametrize("strategy", ["exhaustive", "dpor"])
def test_fair_schedules_on_two_workers_give_the_serial_result(strategy, monkeypatch):
    monkeypatch.setattr(coordinator, "FIRST_SLICE", 0.0)
    monkeypatch.setattr(coordinator, "SLICE", 0.01)
    serial = explore(STOPPER, strategy=strategy, fair=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parallel = explore(STOPPER, strategy=strategy, fair=True, workers=2)
    assert parallel.fair and parallel.workers == 2
    assert (parallel.executions, parallel.outcomes) == (serial.executions, serial.outcomes)
    assert {f.kind for f in parallel.findings} == {f.kind for f in serial.findings}


def test_a_crosscheck_of_the_stopper_on_real_threads_finds_nothing_fair_exploration_missed():
    check = explorer.crosscheck(STOPPER, runs=30, fair=True)
    assert check.model.fair and check.model.complete
    assert not check.unexpected


def test_the_command_line_explores_fair_schedules_with_fair_and_refuses_it_for_stateful_search(tmp_path, capsys):
    file = tmp_path / "stopper.py"
    file.write_text("import explorer\nfrom tests.test_fair_schedules import stopper\n"
                    "scenario = explorer.program('stopper', stopper)\n")
    assert main(["run", "--fair", str(file)]) == 0
    out = capsys.readouterr().out
    assert "exhaustive over fair schedules" in out and "no findings" in out
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--fair", "--strategy", "stateful", str(file)])
    assert exit_.value.code == 2
    assert "--fair goes with --strategy exhaustive, dpor, bounded, random, pct" in capsys.readouterr().err


# ---- the rule itself, against an interpreter of it ----------------------------------------------
#
# Each thread is a straight line of ops on one lock "l" and variables x, y:
#   ("w", var, value)  a write
#   ("sleep",)         a yield
#   ("acq",)           a blocking acquire of l
#   ("poll",)          while not acquire(l, timeout=1): pass  (each timeout a yield)
#   ("rel",)           a release of l
# Critical sections are well nested and a thread never polls while it holds l, so every
# poll ends under fair schedules (the holder can always step).

def _body(ops):
    def body():
        for op in ops:
            if op[0] == "w":
                yield write(op[1], op[2])
            elif op[0] == "sleep":
                yield Op("sleep", "time", 0.01)
            elif op[0] == "acq":
                yield acquire("l")
            elif op[0] == "poll":
                while not (yield acquire("l", timeout=1.0)):
                    pass
            else:
                yield release("l")
    return body


def _scenario(programs):
    name = " | ".join(f"{t}: {' '.join(''.join(map(str, op)) for op in ops)}" for t, ops in programs.items())
    return Scenario(name, variables={"x": 0, "y": 0}, locks={"l": "lock"},
                    threads={t: _body(ops) for t, ops in programs.items()})


def _owed(thread, history):
    """Whom ``thread`` owes after ``history`` ([(schedulable, chosen, yielded), ...]), read
    off the rule as the docs state it: the threads schedulable at every step of its last
    stretch (its previous yield, or its start, to its last yield) that took no step in it
    and none since."""
    yields = [j for j, (_s, chosen, yielded) in enumerate(history) if chosen == thread and yielded]
    if not yields:
        return set()
    last = yields[-1]
    first = yields[-2] + 1 if len(yields) > 1 else 0
    stretch = history[first:last + 1]
    starved = set.intersection(*(set(s) for s, _c, _y in stretch))
    starved -= {chosen for _s, chosen, _y in stretch} | {thread}
    return starved - {chosen for _s, chosen, _y in history[last + 1:]}


class TooMany(Exception):
    """More fair schedules than a test should enumerate."""


def fair_runs(programs, limit=None):
    """(completed final states, deadlocked runs, runs) of every fair schedule, by brute force
    (``limit``: raise TooMany past that many runs)."""
    names = list(programs)
    finals, deadlocks, runs = Counter(), 0, 0

    def explore_from(pcs, owner, values, history):
        nonlocal deadlocks, runs
        enabled = []
        for i, t in enumerate(names):
            ops = programs[t]
            if pcs[i] < len(ops) and not (ops[pcs[i]][0] == "acq" and owner is not None):
                enabled.append(i)
        if not enabled:
            runs += 1
            if limit is not None and runs > limit:
                raise TooMany
            if all(pcs[i] == len(programs[t]) for i, t in enumerate(names)):
                finals[(values["x"], values["y"])] += 1
            else:
                deadlocks += 1
            return
        schedulable = [i for i in enabled if not (_owed(i, history) & set(enabled))]
        assert schedulable
        for i in schedulable:
            op = programs[names[i]][pcs[i]]
            new_pcs, new_owner, new_values, yielded = list(pcs), owner, dict(values), False
            if op[0] == "w":
                new_values[op[1]] = op[2]
                new_pcs[i] += 1
            elif op[0] == "sleep":
                yielded = True
                new_pcs[i] += 1
            elif op[0] in ("acq", "poll"):
                if owner is None:
                    new_owner = i
                    new_pcs[i] += 1
                else:
                    yielded = True  # the timeout fired: the loop tries again
            else:
                new_owner = None
                new_pcs[i] += 1
            explore_from(new_pcs, new_owner, new_values, history + [(schedulable, i, yielded)])

    explore_from([0] * len(names), None, {"x": 0, "y": 0}, [])
    return finals, deadlocks, runs


def _matches_brute_force(programs, limit=None):
    finals, deadlocks, runs = fair_runs(programs, limit)
    result = explore(_scenario(programs), strategy="exhaustive", fair=True)
    assert result.complete
    assert result.executions == runs
    assert result.deadlocked == deadlocks
    assert Counter({(state["x"], state["y"]): n for state, n in result.final_states.items()}) == finals
    return result


def test_a_sleep_lets_a_thread_that_could_run_write_first():
    # A: sleep, w x=1. B: w x=2. Unfair: 3 interleavings (x=1 once, x=2 twice). Fair: A's
    # sleep at its first step owes B (schedulable then): B writes before A's write, so
    # A, B, A and B, A, A are the runs, and both end with x=1.
    programs = {"A": [("sleep",), ("w", "x", 1)], "B": [("w", "x", 2)]}
    result = _matches_brute_force(programs)
    assert result.executions == 2 and dict(Counter({s["x"]: n for s, n in result.final_states.items()})) == {1: 2}
    assert explore(_scenario(programs), strategy="exhaustive").executions == 3


def test_a_thread_times_out_at_most_twice_while_the_holder_could_run_and_takes_no_step():
    # A holds l for two writes; B polls for l. Unfair: B could time out for ever. Fair:
    # B's first timeout owes A only if A was schedulable at every step since B started
    # and took none; its second, in a row, always owes A.
    programs = {"A": [("acq",), ("w", "x", 1), ("w", "x", 2), ("rel",)], "B": [("poll",), ("w", "y", 1), ("rel",)]}
    result = _matches_brute_force(programs)
    assert result.complete and not result.truncated


def test_three_threads_that_sleep_and_poll_run_exactly_the_fair_schedules():
    _matches_brute_force({"A": [("sleep",), ("acq",), ("w", "x", 1), ("rel",)],
                          "B": [("poll",), ("sleep",), ("w", "x", 2), ("rel",)],
                          "C": [("w", "y", 1), ("sleep",), ("w", "y", 2)]})


_WRITE = st.tuples(st.just("w"), st.sampled_from(["x", "y"]), st.integers(1, 2))
_PLAIN = st.one_of(_WRITE, st.just(("sleep",)))


@st.composite
def _programs(draw):
    programs = {}
    for t in "ABC"[:draw(st.integers(1, 3))]:
        ops = []
        for _ in range(draw(st.integers(1, 2))):
            kind = draw(st.sampled_from(["plain", "acq", "poll"]))
            inner = draw(st.lists(_PLAIN, min_size=1 if kind == "plain" else 0, max_size=2))
            ops += inner if kind == "plain" else [(kind,)] + inner + [("rel",)]
        programs[t] = ops[:4]
        if programs[t].count(("rel",)) < sum(op[0] in ("acq", "poll") for op in programs[t]):
            programs[t].append(("rel",))
    return programs


@settings(QUICK, max_examples=examples(200))
@given(_programs())
def test_exhaustive_search_under_fair_schedules_runs_exactly_the_schedules_the_rule_allows(programs):
    try:
        every = _matches_brute_force(programs, limit=2000)
    except TooMany:
        assume(False)
    reduced = explore(_scenario(programs), strategy="dpor", fair=True)
    assert reduced.complete and _verdicts(reduced) == _verdicts(every)
    assert reduced.executions <= every.executions


# ---- every supported strategy agrees with exhaustive enumeration ---------------------------------

def _sleeper():
    value = yield read("x")
    yield Op("sleep", "time", 0.01)
    yield write("x", value + 10)


def _with_a_sleeper(scenario):
    """The generated scenario with one more thread, Z, that reads x, sleeps and writes."""
    return Scenario(scenario.name + " | Z: r x, sleep, w x=x+10", variables=scenario.variables,
                    locks=dict(scenario.locks), threads={**scenario.threads, "Z": _sleeper},
                    objects=dict(scenario.objects), spurious_wakeups=scenario.spurious_wakeups)


def _verdicts(result):
    return (set(result.final_states), set(result.outcomes), result.deadlocked > 0,
            {f.kind for f in result.findings})


@settings(QUICK, max_examples=examples(60))
@given(xst.scenarios(threads=range(1, 3), objects="all", max_steps=8))
def test_every_strategy_that_supports_fair_schedules_gives_exhaustive_verdicts_with_timeouts_and_sleeps(scenario):
    scenario = _with_a_sleeper(scenario)
    every = explore(scenario, strategy="exhaustive", fair=True, max_steps=60)
    if not every.complete:
        return  # a bounded loop that fairness does not end within the budget: nothing to compare
    bounded = explore(scenario, strategy="bounded", preemptions=every.steps, fair=True, max_steps=60)
    assert bounded.complete and _verdicts(bounded) == _verdicts(every)
    assert bounded.executions == every.executions
    reduced = explore(scenario, strategy="dpor", fair=True, max_steps=60)
    assert reduced.complete and _verdicts(reduced) == _verdicts(every)
    for strategy in ("random", "pct"):
        sampled = explore(scenario, strategy=strategy, fair=True, max_steps=60, max_executions=30)
        assert set(sampled.outcomes) <= set(every.outcomes), strategy
        assert {f.kind for f in sampled.findings} <= {f.kind for f in every.findings}, strategy


def test_dpor_tries_a_sleep_on_both_sides_of_every_step_since_where_it_sleeps_decides_whom_it_owes():
    # x=1 at the end needs B's writes before A's: B must take l first. B's sleep owes A and
    # C when both could run at every step before it; with C holding l, A cannot run, and B's
    # sleep owes nobody: C, B sleeps, C releases, B takes l (then A), x=1. dpor taking the
    # sleep to commute with everything (it touches no object) ran it only where it owes A,
    # and never found x=1 (found by hypothesis); a step that may yield is dependent with
    # every step under fair schedules.
    programs = {"A": [("acq",), ("w", "x", 1), ("w", "x", 1), ("rel",)],
                "B": [("sleep",), ("acq",), ("w", "x", 1), ("w", "x", 2), ("rel",)],
                "C": [("acq",), ("rel",)]}
    every = _matches_brute_force(programs)
    reduced = explore(_scenario(programs), strategy="dpor", fair=True)
    assert {s["x"] for s in every.final_states} == {1, 2}
    assert {s["x"] for s in reduced.final_states} == {1, 2}


@pytest.mark.slow
@settings(QUICK, max_examples=examples(600))
@given(xst.scenarios(threads=range(1, 4), objects="all", max_steps=10))
def test_dpor_gives_exhaustive_verdicts_under_fair_schedules_on_larger_generated_scenarios(scenario):
    scenario = _with_a_sleeper(scenario)
    every = explore(scenario, strategy="exhaustive", fair=True, max_steps=60, max_executions=5000)
    assume(every.complete)
    reduced = explore(scenario, strategy="dpor", fair=True, max_steps=60)
    assert reduced.complete and _verdicts(reduced) == _verdicts(every)
    assert reduced.executions <= every.executions
