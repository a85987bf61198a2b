"""Faults found by a hunt with hostile input: each must stay a finding or a clear error,
never a crash, a hang, or the end of the explorer's process."""

import subprocess
import sys
import textwrap
import time

import pytest

from explorer import InvalidArgument, Scenario, ScenarioTypeError, explore, read, write
from explorer.cli import main


def _increment():
    value = yield read("x")
    yield write("x", value + 1)


def _counter(**options):
    return Scenario("counter", variables={"x": 0}, threads={"A": _increment, "B": _increment}, **options)


class _HashRaises:
    def __hash__(self):
        raise RuntimeError("no hash")


def test_a_written_or_returned_value_whose_hash_raises_is_an_error_finding_not_a_crash():
    def writes():
        yield write("x", _HashRaises())

    def returns():
        yield read("x")
        return _HashRaises()

    for threads in ({"A": writes}, {"A": returns}):
        (error,) = explore(Scenario("hash", variables={"x": 0}, threads=threads)).errors
        assert "whose hash() raised RuntimeError: no hash" in error.message


@pytest.mark.parametrize("exit_with", [SystemExit(0), GeneratorExit()])
def test_an_invariant_that_exits_is_a_finding_and_the_search_goes_on(exit_with):
    def invariant(state):
        raise exit_with

    result = explore(_counter(invariant=invariant))
    raised = [f for f in result.errors if f.kind == "invariant"]
    assert len(raised) == 2 and all(f"raised {type(exit_with).__name__}" in f.message for f in raised)
    assert result.complete and {f.kind for f in result.errors} >= {"lost-update", "invariant"}


def test_explorer_run_never_exits_zero_when_an_invariant_calls_sys_exit(tmp_path, capsys):
    path = tmp_path / "quits.py"
    path.write_text(textwrap.dedent("""
        import sys
        from explorer import Scenario, read, write
        def increment():
            value = yield read("x")
            yield write("x", value + 1)
        quits = Scenario("quits", variables={"x": 0}, threads={"A": increment}, invariant=lambda s: sys.exit(0))
        fine = Scenario("fine", variables={"x": 0}, threads={"A": increment})
    """))
    assert main(["run", str(path)]) == 1
    out = capsys.readouterr().out
    assert "invariant <lambda> raised SystemExit" in out and "2 scenarios" in out


def test_an_invariant_whose_exception_or_name_cannot_be_printed_is_still_reported():
    class Opaque(Exception):
        def __str__(self):
            raise RuntimeError("no str")

    class Nameless:
        def __repr__(self):
            raise RuntimeError("no repr")

        def __call__(self, state):
            raise Opaque()

    result = explore(_counter(invariant=Nameless()))
    (first, _second) = [f for f in result.errors if f.kind == "invariant"]
    assert "invariant <Nameless object> raised Opaque: <Opaque whose str() raised>" in first.message


def test_an_invariant_that_never_returns_is_stopped_at_the_time_limit_and_the_result_is_incomplete():
    def spins(state):
        while True:
            pass

    started = time.monotonic()
    result = explore(_counter(invariant=spins), time_limit=1, step_timeout=None)
    assert time.monotonic() - started < 10
    assert not result.complete and result.incomplete_reason.startswith("stopped at time_limit")


def test_a_check_that_never_returns_is_a_finding_after_step_timeout_and_runs_no_more():
    def spins(outcome):
        while True:
            pass

    started = time.monotonic()
    result = explore(_counter(check=spins), step_timeout=0.5)
    assert time.monotonic() - started < 10
    (hung,) = [f for f in result.errors if f.kind == "invariant"]
    assert "check spins ran for more than step_timeout=0.5s" in hung.message
    assert "it was not run on the other 1 outcome" in hung.message


class _EqualityRaises:
    def __eq__(self, other):
        raise RuntimeError("ambiguous")

    def __hash__(self):
        return 0


class _Unequal:
    def __eq__(self, other):
        return False

    def __hash__(self):
        return 0


@pytest.mark.parametrize("value, fragment", [(_EqualityRaises(), "whose == raised RuntimeError"),
                                             (_Unequal(), "which is not equal to itself")])
def test_an_initial_value_that_does_not_equal_itself_is_refused_where_the_scenario_is_made(value, fragment):
    with pytest.raises(ScenarioTypeError, match=f"Scenario 'odd': variable 'x' starts as .*{fragment}"):
        Scenario("odd", variables={"x": value}, threads={"A": _increment})
    explore(Scenario("nan", variables={"x": float("nan")}, threads={"A": lambda: iter(())}))  # NaN is one value


@pytest.mark.parametrize("budget", ["time_limit", "step_timeout"])
def test_a_budget_too_large_for_a_float_is_refused_naming_it(budget):
    with pytest.raises(InvalidArgument, match=f"{budget} is more seconds than a float holds; give None"):
        explore(_counter(), **{budget: 10 ** 400})


def _plain_file(tmp_path, source):
    path = tmp_path / "plain_program.py"
    path.write_text(textwrap.dedent(source))
    return path


def test_a_plain_thread_that_joins_the_main_thread_is_an_error_at_once_not_a_hang(tmp_path, capsys):
    path = _plain_file(tmp_path, """
        import threading
        import explorer
        MAIN = threading.main_thread()
        def joins_main():
            t = threading.Thread(target=lambda: threading.main_thread().join()); t.start(); t.join()
        def joins_global_main():
            t = threading.Thread(target=lambda: MAIN.join()); t.start(); t.join()
        def is_main():
            return threading.main_thread() is threading.current_thread() is MAIN
        a = explorer.program("joins main", joins_main)
        b = explorer.program("joins the global main", joins_global_main)
        c = explorer.program("is main", is_main)
    """)
    started = time.monotonic()
    main(["run", str(path), "-v", "--step-timeout", "30"])
    assert time.monotonic() - started < 20
    out = capsys.readouterr().out
    assert out.count("raised NotModelled: joining the main thread") == 2
    assert "main=True" in out


@pytest.mark.parametrize("made, used, why", [
    ("threading.Thread(target=print); OBJ.start()", "OBJ.join()", "and started before the exploration"),
    ("concurrent.futures.ThreadPoolExecutor(2); OBJ.submit(print).result()", "OBJ.submit(print).result()",
     "and its worker threads started before the exploration")])
def test_a_thread_or_pool_that_ran_before_the_exploration_is_refused_naming_it(tmp_path, capsys, made, used, why):
    # (one that has not run yet is explored afresh in every run: tests/test_plain_module_globals.py)
    path = _plain_file(tmp_path, f"""
        import concurrent.futures, threading
        import explorer
        OBJ = {made}
        def uses():
            {used}
        p = explorer.program("made at import", uses)
    """)
    assert main(["run", str(path)]) == 2
    captured = capsys.readouterr()
    kind = made.split("(")[0].split(".")[-1]
    assert f"global OBJ (plain_program.py:4) is a {kind} made at import {why}" in captured.out + captured.err
    assert "Traceback" not in captured.out + captured.err


@pytest.mark.parametrize("step", [lambda: __import__("explorer").wait("x"), lambda: __import__("explorer").acquire("x")])
def test_a_step_on_a_variable_that_takes_no_such_step_says_it_is_a_variable_not_undeclared(step):
    def body():
        yield step()

    (error,) = explore(Scenario("misnamed", variables={"x": 0}, threads={"A": body})).errors
    assert "but 'x' is a variable, which takes read, write, update, not " in error.message


def test_a_name_clash_with_an_object_is_worded_an_object():
    from explorer import ScenarioError, Semaphore

    with pytest.raises(ScenarioError, match="'x' names both a variable and an object"):
        Scenario("clash", variables={"x": 0}, objects={"x": Semaphore(1)}, threads={"A": _increment})


def test_a_plain_thread_made_daemon_after_its_start_raises_as_threading_does():
    import threading

    import explorer

    def daemon_after_start():
        worker = threading.Thread(target=lambda: None)
        worker.start()
        worker.daemon = True
        worker.join()

    (error,) = explore(explorer.program("daemon after start", daemon_after_start)).errors
    assert "raised RuntimeError: cannot set daemon status of active thread" in error.message


def test_os_exit_in_a_plain_programs_thread_or_pool_task_is_a_finding_and_the_explorer_goes_on(tmp_path):
    # a plain run patches threading.get_ident, and the guard asked it whether the exploring
    # thread called os._exit: it did not recognise it, and the process ended with status 3
    script = tmp_path / "exits.py"
    script.write_text(textwrap.dedent("""\
        import concurrent.futures, os, threading
        from explorer import explore, program

        def in_a_thread():
            threading.Thread(target=os._exit, args=(3,)).start()

        def in_a_task():
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                pool.submit(os._exit, 3)

        for main in (in_a_thread, in_a_task):
            result = explore(program(main.__name__, main))
            print(main.__name__, sorted({f.kind for f in result.findings}), "os._exit(3)" in result.findings[0].message)
        """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["in_a_thread ['error'] True", "in_a_task ['error'] True"]


def test_sys_exit_in_a_pool_task_is_kept_by_its_future_as_concurrent_futures_keeps_it():
    import concurrent.futures

    from explorer import program

    def task():
        sys.exit(3)

    def main():
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            future = pool.submit(task)
            try:
                future.result()
            except SystemExit as stop:
                return "SystemExit", stop.code
        return "returned"

    result = explore(program("sys.exit in a task", main), strategy="exhaustive")
    assert {outcome["main"] for outcome in result.outcomes} == {("SystemExit", 3)} and not result.findings
