"""What `explorer run` says about each scenario, and the exit status it ends with, where a
run is cut short, checks nothing, misses shared state, or meets files it cannot use: a
verdict never claims more than the run showed, and a run that checked nothing never
exits 0."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).parent.parent


def explorer(*args, cwd=ROOT, timeout=120):
    return subprocess.run([sys.executable, "-m", "explorer", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, check=False)


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def expect_lines(stdout: str) -> list[str]:
    return [line.strip() for line in stdout.splitlines() if line.strip().startswith("expect:")]


def test_a_budget_that_cuts_a_lesson_short_makes_it_incomplete_not_failed_and_names_what_is_not_shown_yet():
    done = explorer("run", "scenarios/counter.py::lost_update", "scenarios/abba.py::abba_deadlock",
                    "--max-executions", "1", "-q")
    assert done.returncode == 3, done.stdout + done.stderr
    assert expect_lines(done.stdout) == [
        ("expect: holds so far (not shown yet: final state {x=1}, lost-update, nonserializable), but the "
         "exploration was INCOMPLETE"),
        "expect: holds so far (not shown yet: deadlock), but the exploration was INCOMPLETE"]
    assert done.stdout.rstrip().splitlines()[-1].startswith("== 2 scenarios: 2 incomplete;")
    # the whole search shows all of it, and passes
    assert explorer("run", "scenarios/counter.py::lost_update", "scenarios/abba.py::abba_deadlock").returncode == 0


def test_a_run_cut_short_that_shows_what_the_expect_rules_out_fails(tmp_path):
    path = write(tmp_path, "wrong.py", """
        from explorer import Expect, Scenario, read, write
        def increment():
            value = yield read("x")
            yield write("x", value + 1)
        wrong = Scenario("wrong", variables={"x": 0}, threads={"A": increment, "B": increment},
                         expect=Expect(outcomes=[{"x": 1}], findings={"lost-update", "race"}))
    """)
    done = explorer("run", path, "--max-executions", "1", "--strategy", "exhaustive", "-q")
    assert done.returncode == 1
    assert expect_lines(done.stdout) == ["expect: FAILS: final states: unexpected {x=2}"]


def test_an_expect_that_accepts_a_partial_result_still_wants_what_it_names(tmp_path):
    from explorer import Expect, Scenario, explore, read, write

    def increment():
        value = yield read("x")
        yield write("x", value + 1)

    counter = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})
    cut = explore(counter, strategy="exhaustive", max_executions=1)
    partial = Expect(outcomes=[{"x": 1}, {"x": 2}], complete=False)
    assert partial.problems(cut) == ["final states: never reached {x=1} in the executions explored (cut short)"]
    assert partial.surprises(cut) == [] and partial.unshown(cut) == ["final state {x=1}"]
    whole = Expect(outcomes=[{"x": 1}, {"x": 2}])
    assert whole.problems(cut)[0].startswith("exploration was incomplete")
    assert whole.unshown(explore(counter)) == []


def test_a_scenario_whose_threads_take_no_step_checked_nothing_and_the_run_exits_five(tmp_path):
    path = write(tmp_path, "empty.py", """
        from explorer import Scenario, read, write
        def nothing():
            return
            yield
        def increment():
            value = yield read("x")
            yield write("x", value + 1)
        empty = Scenario("empty", threads={"A": nothing})
        fine = Scenario("fine", variables={"x": 0}, threads={"A": increment})
    """)
    done = explorer("run", path)
    assert done.returncode == 5, done.stdout + done.stderr
    assert "checked nothing: no thread took a step (each returned before its first yield)" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].startswith("== 2 scenarios: 1 passed, 1 checked nothing;")
    assert explorer("run", f"{path}::fine").returncode == 0


def test_a_plain_program_whose_shared_global_is_untracked_is_incomplete_and_its_warning_counted(tmp_path):
    path = write(tmp_path, "worker.py", """
        import threading
        import explorer
        counter = 0
        def work():
            global counter
            for _ in range(3):
                counter += 1
        def main():
            threads = [threading.Thread(target=work) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return counter
        scenario = explorer.program("worker", main)
    """)
    done = explorer("run", path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "WARNING [untracked] global counter is written by" in done.stdout
    assert "INCOMPLETE: 1 untracked shared object above" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].startswith(
        "== 1 scenario: 1 incomplete; findings: 0 errors, 1 warning;")


def test_files_that_cannot_be_used_are_counted_on_the_closing_line_and_a_file_named_twice_runs_once(tmp_path):
    notes = write(tmp_path, "notes.txt", "not Python\n")
    empty = write(tmp_path, "threadless.py", """
        from explorer import Scenario
        threadless = Scenario("threadless", threads={})
    """)
    done = explorer("run", "scenarios/counter.py", "scenarios/counter.py", notes, empty, "-q")
    assert done.returncode == 2
    assert f"{notes}: cannot load: not a Python file: scenarios are loaded from .py files" in done.stderr
    assert "AttributeError" not in done.stderr
    assert done.stdout.count("scenarios/counter.py::lost_update") == 1
    assert done.stdout.rstrip().splitlines()[-1].startswith(
        "== 3 scenarios: 3 passed, 2 files could not be loaded;")


def test_traces_and_graphs_of_scenarios_titled_alike_go_to_files_of_their_own_and_replay_finds_each(tmp_path):
    for name in ("one.py", "two.py"):
        write(tmp_path, name, """
            from explorer import Scenario, read, write
            def increment():
                value = yield read("x")
                yield write("x", value + 1)
            counter = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})
        """.replace('"B": increment', '"B": increment, "C": increment' if name == "two.py" else '"B": increment'))
    done = explorer("run", "one.py", "two.py", "--save-trace", "traces", "--graph", "graphs", "-q", cwd=tmp_path)
    assert done.returncode == 1
    traces = sorted(path.name for path in (tmp_path / "traces").iterdir())
    assert "counter-0-lost-update.json" in traces and "counter-two-counter-0-lost-update.json" in traces
    assert {"counter-states.dot", "counter-two-counter-states.dot"} <= {p.name for p in (tmp_path / "graphs").iterdir()}
    saved = json.loads((tmp_path / "traces" / "counter-two-counter-0-lost-update.json").read_text())
    assert saved["source"] == "two.py::counter" and saved["scenario"] == "counter"
    again = explorer("replay", ".", "--trace", "traces/counter-two-counter-0-lost-update.json", cwd=tmp_path)
    assert again.returncode == 1 and again.stdout.startswith("two.py::counter")


def test_replay_takes_a_result_file_finding_for_the_scenario_file_name_picks(tmp_path):
    result = tmp_path / "result.json"
    assert explorer("run", "scenarios/counter.py", "--json", result, "-q").returncode == 0  # lessons hold
    again = explorer("replay", "scenarios/counter.py::lost_update", "--trace", result, "--finding", "0")
    assert again.returncode == 1, again.stderr
    assert again.stdout.startswith("scenarios/counter.py::lost_update\nexecution of 'lost update'")


def test_a_failure_before_the_first_step_replays_from_the_empty_schedule_the_run_printed(tmp_path):
    path = write(tmp_path, "early.py", """
        from explorer import Scenario, read
        def early():
            raise ValueError("before any step")
            yield read("x")
        early = Scenario("early", variables={"x": 0}, threads={"A": early})
    """)
    done = explorer("run", path)
    assert done.returncode == 1 and f"explorer replay {path}::early --schedule ''" in done.stdout
    again = explorer("replay", f"{path}::early", "--schedule", "")
    assert again.returncode == 1 and "raised ValueError: before any step" in again.stdout


def test_a_schedule_that_stops_early_is_finished_by_extend(tmp_path):
    path = write(tmp_path, "two.py", """
        from explorer import Scenario, read, write
        def increment():
            value = yield read("x")
            yield write("x", value + 1)
        two = Scenario("two", variables={"x": 0}, threads={"A": increment, "B": increment})
    """)
    short = explorer("replay", f"{path}::two", "--schedule", "A,B")
    assert short.returncode == 2 and "pass extend=True (--extend)" in short.stderr
    extended = explorer("replay", f"{path}::two", "--schedule", "A,B", "--extend")
    assert extended.returncode == 1 and "execution of 'two': completed, 4 steps" in extended.stdout


def test_sigterm_prints_the_partial_result_and_stops_the_workers(tmp_path):
    # a CI job's timeout: SIGTERM to the process and to its group (workers too), often twice
    path = write(tmp_path, "big.py", """
        from explorer import Scenario, read, write
        def increment():
            for _ in range(8):
                value = yield read("x")
                yield write("x", value + 1)
        big = Scenario("big", variables={"x": 0}, threads={"A": increment, "B": increment, "C": increment})
    """)
    for workers in ("1", "2"):
        process = subprocess.Popen([sys.executable, "-m", "explorer", "run", path, "--strategy", "exhaustive",
                                    "-q", "-j", workers], cwd=ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            time.sleep(2.0 if os.cpu_count() > 2 else 3.0)
            os.kill(process.pid, signal.SIGTERM)
            os.killpg(process.pid, signal.SIGTERM)
            out, err = process.communicate(timeout=60)
        finally:
            process.kill()
        assert process.returncode == 143, err
        assert "INCOMPLETE: interrupted" in out, out
        assert "explorer: stopped (SIGTERM); the result above is partial" in err
        assert "Traceback" not in err and "leaked" not in err, err


def test_a_threading_object_made_at_import_is_refused_only_for_the_program_that_reaches_it(tmp_path):
    path = write(tmp_path, "two_programs.py", """
        import threading
        import explorer

        cond = threading.Condition(); cond.acquire()  # held from import on: no fresh one starts so
        started = threading.Thread(target=print); started.start()  # a thread runs once

        class Base:
            def go(self):
                started.join()

        class Box(Base):
            def __init__(self):
                self.n = 0
            def bump(self):
                self.n += 1

        def main():
            box = Box()
            threads = [threading.Thread(target=box.bump) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return box.n

        def waits(condition=cond):
            with condition:
                condition.wait(0.1)

        def other():
            thread = threading.Thread(target=waits)
            thread.start()
            thread.join()

        def plain():
            thread = threading.Thread(target=lambda: None)
            thread.start()
            thread.join()

        inherits = explorer.program("inherits", main, track=[Box])
        waiter = explorer.program("waiter", other)
        apart = explorer.program("apart", plain)
    """)
    done = explorer("run", path, "-q")
    # Box's base joins started (line 6), waits() holds cond (line 5) as a default; plain() neither
    # (a free condition, or a thread not started, would be explored afresh in every run)
    assert f"{path}::inherits: global started (two_programs.py:6) is a Thread made at import and started" \
        in done.stderr
    assert f"{path}::waiter: global cond (two_programs.py:5) is a Condition made at import and its lock is held" \
        in done.stderr
    assert "explorer_scenarios" not in done.stderr
    assert "scenario 'apart': " in done.stdout
    assert done.returncode == 2 and "2 unusable" in done.stdout


def test_a_time_limit_that_ends_before_the_first_execution_asks_for_more_time_not_another_strategy():
    from explorer import Scenario, explore, read, write
    from explorer.render import render_result

    def increment():
        value = yield read("x")
        yield write("x", value + 1)

    counter = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})
    result = explore(counter, time_limit=1e-9)
    assert result.executions == 0 and result.stop_reason == "time_limit"
    text = render_result(result)
    assert "the time limit came before the first execution ended: give the search more time" in text
    assert "try strategy=" not in text


def test_a_lesson_imports_a_helper_beside_it_or_in_its_package(tmp_path):
    helper = """
        from explorer import read, write
        def inc():
            value = yield read("x")
            yield write("x", value + 1)
    """
    write(tmp_path, "base_lesson.py", helper)
    write(tmp_path, "uses.py", """
        from explorer import Expect, Scenario
        from base_lesson import inc
        uses = Scenario("uses", variables={"x": 0}, threads={"A": inc}, expect=Expect(outcomes=[{"x": 1}]))
    """)
    course = tmp_path / "pkg" / "course"
    course.mkdir(parents=True)
    (course / "__init__.py").write_text("")
    write(course, "common.py", helper)
    write(course, "lesson.py", """
        from explorer import Expect, Scenario
        from .common import inc
        from course.common import inc as same
        relative = Scenario("relative", variables={"x": 0}, threads={"A": inc, "B": same},
                            expect=Expect(outcomes=[{"x": 1}, {"x": 2}]))
    """)
    done = explorer("run", tmp_path / "uses.py", course / "lesson.py", "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().splitlines()[-1].startswith("== 2 scenarios: 2 passed;")


def test_a_thread_that_raises_in_one_interleaving_fails_an_expect_that_names_only_outcomes(tmp_path):
    lesson = write(tmp_path, "crash.py", """\
        from explorer import Expect, Scenario, read, write

        def increment():
            value = yield read("x")
            yield write("x", value + 1)

        def add_ten():
            value = yield read("x")
            if value == 1:
                raise TypeError("unsupported operand")
            yield write("x", value + 10)

        crash = Scenario("crash", variables={"x": 0}, threads={"A": increment, "B": add_ten},
                         expect=Expect(outcomes=[{"x": 1}, {"x": 10}, {"x": 11}]))
        named = Scenario("crash named", variables={"x": 0}, threads={"A": increment, "B": add_ten},
                         expect=Expect(outcomes=[{"x": 1}, {"x": 10}, {"x": 11}],
                                       findings={"error", "lost-update", "nonserializable", "race"}))
        """)
    done = explorer("run", lesson, "-q")
    assert done.returncode == 1, done.stdout + done.stderr
    assert expect_lines(done.stdout) == [
        ("expect: FAILS: findings: unexpected error (an execution fails; if that is the lesson, name 'error' "
         "in Expect(findings=...))"),
        "expect: holds (error, lost-update, nonserializable, race, as the scenario states)"]


def test_an_expect_that_names_no_findings_says_which_it_found_without_claiming_it_stated_them(tmp_path):
    lesson = write(tmp_path, "counter.py", """\
        from explorer import Expect, Scenario, read, write

        def increment():
            value = yield read("x")
            yield write("x", value + 1)

        counter = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment},
                           expect=Expect(outcomes=[{"x": 1}, {"x": 2}]))
        """)
    done = explorer("run", lesson, "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    assert expect_lines(done.stdout) == [
        "expect: holds (final states as the scenario states; findings not stated: lost-update, nonserializable, race)"]


def test_scenarios_made_in_a_loop_into_a_list_or_dict_are_collected_named_by_index_and_run_in_parallel(tmp_path):
    lessons = write(tmp_path, "family.py", """\
        from explorer import Expect, Scenario, read, write

        def adds(times):
            def body():
                for _ in range(times):
                    value = yield read("x")
                    yield write("x", value + 1)
            return body

        counters = [Scenario(f"counter 2x{n}", variables={"x": 0}, threads={"A": adds(n), "B": adds(n)},
                             expect=Expect(findings={"lost-update", "nonserializable", "race"})) for n in (1, 2)]
        by_name = {"solo": Scenario("solo", variables={"x": 0}, threads={"A": adds(1)},
                                    expect=Expect(outcomes=[{"x": 1}], findings=set()))}
        first = counters[0]
        """)
    listed = explorer("list", lessons)
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [
        f"{lessons}::first", f"{lessons}::counters[1]", f"{lessons}::by_name['solo']"], listed.stdout
    one = explorer("run", f"{lessons}::counters[1]", "-q", "-j", "2")
    assert one.returncode == 0 and "== 1 scenario: 1 passed;" in one.stdout, one.stdout + one.stderr
    failing = explorer("run", f"{lessons}::counters[1]", "--ignore-expect")
    assert failing.returncode == 1 and f"explorer replay '{lessons}::counters[1]' --schedule" in failing.stdout
    assert explorer("run", lessons, "-k", "solo", "-q").returncode == 0


def test_a_deadlock_in_one_interleaving_fails_an_expect_that_names_only_outcomes_unless_it_says_deadlock(tmp_path):
    lesson = write(tmp_path, "abba.py", """\
        from explorer import Expect, Scenario, acquire, release, write

        def takes(first, second, value):
            def body():
                yield acquire(first)
                yield acquire(second)
                yield write("x", value)
                yield release(second)
                yield release(first)
            return body

        threads = {"A": takes("a", "b", 1), "B": takes("b", "a", 2)}
        unsaid = Scenario("unsaid", variables={"x": 0}, locks=["a", "b"], threads=threads,
                          expect=Expect(outcomes=[{"x": 1}, {"x": 2}]))
        said = Scenario("said", variables={"x": 0}, locks=["a", "b"], threads=threads,
                        expect=Expect(outcomes=[{"x": 1}, {"x": 2}], deadlock=True))
        """)
    done = explorer("run", lesson, "-q")
    assert done.returncode == 1, done.stdout + done.stderr
    assert expect_lines(done.stdout) == [
        ("expect: FAILS: findings: unexpected deadlock (an execution fails; if that is the lesson, name 'deadlock' "
         "in Expect(findings=...) or say deadlock=True)"),
        ("expect: holds (final states and deadlock as the scenario states; findings not stated: deadlock, "
         "lock-order-cycle)")]


def test_a_scenario_under_two_names_or_imported_by_another_file_runs_once(tmp_path):
    write(tmp_path, "lessons.py", """\
        from explorer import Scenario, read

        def reads():
            yield read("x")

        solo = Scenario("solo", variables={"x": 0}, threads={"A": reads})
        alias = solo
        """)
    write(tmp_path, "more.py", "from lessons import solo\n")
    done = explorer("run", "lessons.py", "more.py", "-q", cwd=tmp_path)
    assert done.returncode == 0 and "== 1 scenario: 1 passed;" in done.stdout, done.stdout + done.stderr
    named = explorer("run", "lessons.py::alias", "-q", cwd=tmp_path)
    assert named.returncode == 0 and named.stdout.startswith("lessons.py::alias"), named.stdout + named.stderr


def test_a_scenario_imported_by_another_file_and_named_only_there_still_runs(tmp_path):
    # only the importing file's name for it is chosen: the file that made it is loaded for
    # another scenario, which must not make this one vanish
    write(tmp_path, "lessons.py", """\
        from explorer import Scenario, read

        def reads():
            yield read("x")

        first = Scenario("first", variables={"x": 0}, threads={"A": reads})
        second = Scenario("second", variables={"x": 0}, threads={"A": reads, "B": reads})
        """)
    write(tmp_path, "more.py", "from lessons import second\n")
    done = explorer("run", "lessons.py::first", "more.py::second", "-q", cwd=tmp_path)
    assert done.returncode == 0 and "== 2 scenarios: 2 passed;" in done.stdout, done.stdout + done.stderr
    both = explorer("run", "lessons.py", "more.py", "-q", cwd=tmp_path)
    assert both.returncode == 0 and "== 2 scenarios: 2 passed;" in both.stdout, both.stdout + both.stderr
    assert "more.py::second" not in both.stdout, both.stdout
