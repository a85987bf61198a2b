"""strategy="auto": dpor and stateful search take turns, and the first to finish gives the result."""

import subprocess
import sys
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from explorer import InvalidArgument, Scenario, acquire, explore, read, release, write
from explorer._engine import model_graph, portfolio
from explorer.json_format import result_to_dict
from explorer.testing import strategies as xst
from scenarios.dining_philosophers import dining

from .helpers import library, verdicts, writes

ROOT = Path(__file__).parent.parent


def count_up(increments):
    for _ in range(increments):
        value = yield read("x")
        yield write("x", value + 1)


def counter(threads, increments):
    """Unlocked increments: every trace differs, so dpor's traces are many and the states few."""
    body = partial(count_up, increments)
    return Scenario(f"counter {threads}x{increments}", variables={"x": 0},
                    threads={f"T{i}": body for i in range(threads)})


def as_searched(result):
    """Everything a search gives but its timings (and which strategies took turns)."""
    data = result_to_dict(result)
    del data["elapsed"]
    data.pop("contenders", None)  # auto's alone
    return data, result.executions, result.pruned, result.steps, result.states, result.symmetric


@contextmanager
def short_turns(stateful_first=False, only=None):
    """Turns of a step or two, and a graph walk that looks at its turn at every step: the
    two searches pause and go on from everywhere they can; ``stateful_first`` gives
    stateful search the first turn, so that it wins more races; ``only`` races that one
    strategy alone, which pauses at every turn and always wins."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(portfolio, "FIRST_TURN", 1)
        patch.setattr(model_graph, "CHECK_EVERY", 2)
        if stateful_first:
            patch.setattr(portfolio, "CONTENDERS", portfolio.CONTENDERS[::-1])
        if only is not None:
            patch.setattr(portfolio, "CONTENDERS", (only,))
        yield


def looping(variable, times, lock, returns):
    """A thread that adds one to ``variable`` ``times`` times in a loop, each time under
    ``lock`` unless it is None, and returns the last value it read if ``returns``."""
    def thread():
        value = None
        for _ in range(times):
            if lock is not None:
                yield acquire(lock)
            value = yield read(variable)
            yield write(variable, value + 1)
            if lock is not None:
                yield release(lock)
        return value if returns else None
    thread.times = times
    return thread


loops = st.builds(looping, st.sampled_from(["x", "y"]), st.integers(1, 2), st.sampled_from([None, "l"]),
                  st.booleans())


def test_auto_gives_dpors_very_result_where_dpor_finishes_within_its_first_turn():
    scenario = dining(4, ordered=False)
    auto = explore(scenario, strategy="auto")
    assert auto.strategy == "dpor"
    assert [name for name, _runs, _seconds in auto.contenders] == ["dpor", "stateful"]
    assert auto.contenders[1][1:] == (0, 0.0)  # stateful search never needed a turn
    assert as_searched(auto) == as_searched(explore(scenario))


def test_auto_gives_stateful_searchs_very_result_where_dpor_has_far_too_many_traces():
    scenario = counter(3, 3)
    auto = explore(scenario, strategy="auto")
    assert auto.complete and auto.strategy == "stateful"
    (winner, runs, _), (loser, tried, seconds) = auto.contenders
    assert (winner, loser) == ("stateful", "dpor") and runs == auto.executions
    assert tried > 0 and seconds > 0  # dpor had its turns, and ran executions in them
    assert as_searched(auto) == as_searched(explore(scenario, strategy="stateful"))
    assert sorted(dict(state)["x"] for state in auto.final_states) == list(range(2, 10))


def test_auto_decides_the_same_way_every_time_whatever_the_clock_says():
    scenario = counter(3, 3)
    first, second = explore(scenario, strategy="auto"), explore(scenario, strategy="auto")
    assert [entry[:2] for entry in first.contenders] == [entry[:2] for entry in second.contenders]
    assert as_searched(first) == as_searched(second)
    # and its JSON names the strategies that took turns, with no seconds: it is the same too
    assert result_to_dict(first)["contenders"] == result_to_dict(second)["contenders"] == [
        {"strategy": name, "executions": runs} for name, runs, _seconds in first.contenders]
    assert "contenders" not in result_to_dict(explore(scenario, strategy="stateful"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(xst.scenarios(threads=range(1, 4), max_steps_per_thread=4),
       st.sampled_from(["dpor first", "stateful first", "dpor alone", "stateful alone"]))
def test_searches_paused_at_every_turn_give_their_uninterrupted_results_and_exhaustive_verdicts(scenario, race):
    with short_turns(stateful_first=race == "stateful first",
                     only=race.split()[0] if race.endswith("alone") else None):
        auto = explore(scenario, strategy="auto")
    assert auto.strategy in portfolio.CONTENDERS
    if race.endswith("alone"):
        assert auto.strategy == race.split()[0]
    assert as_searched(auto) == as_searched(explore(scenario, strategy=auto.strategy))
    assert verdicts(auto) == verdicts(explore(scenario, strategy="exhaustive"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(loops, min_size=1, max_size=3).filter(lambda bodies: len(bodies) < 3 or sum(
    body.times for body in bodies) <= 4), st.booleans())
def test_loops_paused_at_every_turn_give_the_uninterrupted_results_and_dpors_verdicts(bodies, flip):
    scenario = Scenario("loops", variables={"x": 0, "y": 0}, locks=["l"],
                        threads={f"T{i}": body for i, body in enumerate(bodies)})
    with short_turns(stateful_first=flip):
        auto = explore(scenario, strategy="auto")
    event(f"{auto.strategy} first to finish" + ("" if auto.contenders[1][1] else ", the other never ran"))
    assert as_searched(auto) == as_searched(explore(scenario, strategy=auto.strategy))
    assert verdicts(auto) == verdicts(explore(scenario))  # dpor's: exhaustive's (tests/test_properties.py)


@pytest.mark.parametrize("scenario", library(), ids=lambda scenario: scenario.name)
def test_auto_on_the_scenario_library_gives_what_the_strategy_it_names_gives_alone(scenario):
    with short_turns():
        auto = explore(scenario, strategy="auto")
    alone = explore(scenario, strategy=auto.strategy)
    assert as_searched(auto) == as_searched(alone)
    other, = set(portfolio.CONTENDERS) - {auto.strategy}  # each agrees with exhaustive (test_stateful.py)
    assert verdicts(auto) == verdicts(explore(scenario, strategy=other))


def test_a_time_limit_stops_both_searches_and_the_result_says_it_is_incomplete():
    auto = explore(counter(4, 4), strategy="auto", time_limit=1.0)
    assert not auto.complete and auto.stop_reason == "time_limit"
    assert auto.strategy in portfolio.CONTENDERS and "time_limit" in auto.incomplete_reason


def test_a_budget_of_executions_bounds_each_search_and_leaves_dpors_result_when_both_spend_it():
    auto = explore(counter(3, 3), strategy="auto", max_executions=40)
    assert auto.strategy == "dpor" and auto.stop_reason == "max_executions" and not auto.complete
    assert auto.executions == 40
    assert [name for name, _runs, _seconds in auto.contenders] == ["dpor", "stateful"]


def test_a_search_that_stops_at_its_own_budget_drops_out_and_the_other_finishes():
    scenario = counter(2, 3)
    auto = explore(scenario, strategy="auto", max_states=5)  # stateful search stops at 5 states
    assert auto.complete and auto.strategy == "dpor"
    assert as_searched(auto) == as_searched(explore(scenario))


def test_auto_takes_the_stateful_options_and_refuses_workers_and_other_strategies_options():
    scenario = counter(2, 2)
    assert explore(scenario, strategy="auto", symmetry=False, exact_states=True).complete
    with pytest.raises(InvalidArgument, match="strategy='auto'.*workers"):
        explore(scenario, strategy="auto", workers=2)
    with pytest.raises(InvalidArgument, match="preemptions"):
        explore(scenario, strategy="auto", preemptions=1)
    with pytest.raises(InvalidArgument, match="'auto'"):
        explore(scenario, strategy="automatic")


def test_the_command_line_runs_auto_and_says_which_strategy_finished_first():
    done = subprocess.run([sys.executable, "-m", "explorer", "run", "scenarios/counter.py", "-k", "locked",
                           "--strategy", "auto"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "dpor (auto: finished first; stateful needed no turn)" in done.stdout


def test_a_dpor_search_cut_short_points_to_stateful_and_auto_and_auto_points_nowhere_else():
    cut = explore(counter(3, 3), max_executions=20)
    assert "strategy='auto'" in cut.render() and "strategy='stateful'" in cut.render()
    raced = explore(counter(3, 3), strategy="auto", max_executions=20)
    assert not raced.complete and "try strategy=" not in raced.render()


def test_a_stateful_search_cut_short_points_to_dpor_and_auto():
    apart = Scenario("each its own variable", variables={f"v{n}": 0 for n in range(12)},
                     threads={f"T{n}": writes(f"v{n}", 1) for n in range(12)})
    cut = explore(apart, strategy="stateful", max_executions=20)
    assert not cut.complete
    assert "try strategy='dpor'" in cut.render() and "strategy='auto'" in cut.render()
    assert explore(apart, strategy="dpor").executions == 1  # what the hint promises there


def test_a_walk_begun_again_without_seats_in_its_turn_still_gives_stateful_searchs_result():
    # the seat moves pass their check at the start and fail it mid-walk (tests/test_seats.py)
    from .test_seats import names_its_fork_when_second, table

    scenario = table(names_its_fork_when_second, 3, variables={"x": 0, "y": None})
    with short_turns(only="stateful"):
        auto = explore(scenario, strategy="auto")
    assert auto.strategy == "stateful" and auto.symmetric == ()  # no seats: walked again without them
    assert as_searched(auto) == as_searched(explore(scenario, strategy="stateful"))
    assert verdicts(auto) == verdicts(explore(scenario, strategy="exhaustive"))


def test_progress_is_reported_while_the_searches_take_turns_and_never_counts_more_than_they_ran():
    seen = []
    auto = explore(counter(3, 4), strategy="auto", progress=lambda runs, steps, seconds: seen.append((runs, steps)))
    assert auto.strategy == "stateful" and auto.contenders[1][1] >= 1024  # dpor reported at its 1,024th run
    assert seen, "no progress was reported"
    assert seen == sorted(seen)  # each search's counts only grow, and so does their sum
    assert seen[-1][0] <= sum(runs for _name, runs, _seconds in auto.contenders)
