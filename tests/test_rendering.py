"""Snapshot tests of the text a person reads."""

from explorer import Scenario, acquire, explore, read, release, replay, write

from .helpers import POLLING


def increment():
    value = yield read("x")
    yield write("x", value + 1)


def test_a_trace_renders_one_column_per_thread_and_one_row_per_step():
    scenario = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})
    text = replay(scenario, ["A", "B", "B", "A"]).trace.render(locations=False)
    assert text.splitlines() == [
        "  step  A            B",
        "     1  read x -> 0",
        "     2               read x -> 0",
        "     3               write x = 1",
        "     4  write x = 1",
    ]


def test_a_deadlock_trace_ends_with_the_blocked_acquisitions_and_where_they_wait():
    def take(first, second):
        yield acquire(first)
        yield acquire(second)
        yield release(second)
        yield release(first)

    scenario = Scenario("abba", locks=["a", "b"],
                        threads={"A": lambda: take("a", "b"), "B": lambda: take("b", "a")})
    (deadlock,) = explore(scenario).deadlocks
    last = deadlock.trace.render().splitlines()[-1]
    assert last.startswith("    --  BLOCKED acquire b  BLOCKED acquire a")
    assert last.count("test_rendering.py:") == 2


def test_a_result_summary_names_the_counts_and_marks_an_incomplete_run():
    scenario = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})
    text = explore(scenario, max_executions=3).render()
    assert text.splitlines()[0].startswith("scenario 'counter': 3 executions (3 completed), 12 steps")
    assert "INCOMPLETE: stopped at max_executions; nothing beyond this was checked" in text


def test_a_finding_in_a_result_ends_with_the_line_that_replays_it():
    def twice():
        yield acquire("l")
        yield acquire("l")

    text = explore(Scenario("twice", locks=["l"], threads={"A": twice})).render()
    assert "to replay: replay(scenario, ['A'])" in text



def test_a_step_repeated_in_a_row_renders_as_one_row_with_its_range_and_count():
    schedule = ["A"] * 6 + ["B", "A"]
    trace = replay(POLLING, schedule).trace
    assert trace.render(locations=False).splitlines() == [
        "  step  A                         B",
        "   1-6  read flag -> 0 (6 times)",
        "     7                            write flag = 1",
        "     8  read flag -> 1",
    ]
    assert len(trace.render(locations=False, fold=False).splitlines()) == 1 + 8
    assert len(trace.events) == 8  # the trace keeps every step; only its text folds


def test_three_repeated_steps_stay_three_rows_and_a_marked_step_is_never_folded():
    from dataclasses import replace as replaced
    from types import MappingProxyType

    assert len(replay(POLLING, ["A"] * 3 + ["B", "A"]).trace.render().splitlines()) == 1 + 5
    trace = replay(POLLING, ["A"] * 9 + ["B", "A"]).trace
    marked = replaced(trace, marks=MappingProxyType({4: "look here"}))
    rows = [" ".join(line.split("#")[0].split()) for line in marked.render().splitlines()[1:]]
    assert rows[:3] == ["1-4 read flag -> 0 (4 times)", "5 read flag -> 0 <- look here",
                        "6-9 read flag -> 0 (4 times)"]


def test_the_replay_line_of_a_long_run_of_one_thread_is_short_and_replays_the_same_schedule():
    from explorer.render import replay_hint

    schedule = ["A"] * 300 + ["B", "A"]
    trace = replay(POLLING, schedule).trace
    hint = replay_hint(trace)
    assert hint == "replay(scenario, ['A'] * 300 + ['B', 'A'])"
    assert eval(hint.removeprefix("replay(scenario, ")[:-1]) == schedule  # our own text
    assert replay_hint(replay(POLLING, ["A", "B", "A"]).trace) == "replay(scenario, ['A', 'B', 'A'])"


def test_a_result_explored_with_another_max_steps_replays_its_findings_with_it():
    result = explore(POLLING, max_steps=30)
    (line,) = [line for line in result.render().splitlines() if "['A'] * 30" in line]
    assert line.strip() == "to replay: replay(scenario, ['A'] * 30, max_steps=30)"
    scenario = POLLING  # noqa: F841 - the name the line uses
    assert eval(line.strip().removeprefix("to replay: ")).status == "truncated"  # our own text
