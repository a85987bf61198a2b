"""Snapshot tests of the text a person reads."""

from explorer import Scenario, acquire, explore, read, release, replay, write


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
