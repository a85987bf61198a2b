"""Issue 14's guarantees, each checked as a user meets it: never hang, never lie, never crash.

Exit codes (0 only for a complete run with no error finding, 5 when nothing was collected),
files (read only what is a file, write only where asked, never clobber), budgets that
hold at any size, and findings that survive hostile values.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from explorer import Scenario, explore, read, replay, write

ROOT = Path(__file__).parent.parent


def explorer(*args, timeout=120, **options):
    return subprocess.run([sys.executable, "-m", "explorer", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False, **options)


SOURCE = Path(__file__).read_text().splitlines()


def line(tag: str) -> str:
    """``test_robustness_guarantees.py:N``: the line of this file marked ``# @tag``."""
    (number,) = [n for n, text in enumerate(SOURCE, 1) if text.rstrip().endswith(f"# @{tag}")]
    return f"test_robustness_guarantees.py:{number}"


def scenario_file(folder: Path, source: str, name: str = "case.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


# ---- nothing checked is never "passed" -------------------------------------------------------

THREADED_BUT_NO_SCENARIO = """
    import threading
    counter = 0
    def work():
        global counter
        counter += 1
    threads = [threading.Thread(target=work) for _ in range(2)]
"""


@pytest.mark.parametrize("command", ["run", "list", "crosscheck"])
def test_a_file_without_scenarios_exits_five_and_says_how_to_write_one(tmp_path, command):
    path = scenario_file(tmp_path, THREADED_BUT_NO_SCENARIO)
    done = explorer(command, path)
    assert done.returncode == 5, done.stderr
    assert "no Scenario object at module level" in done.stderr and "uses threading" in done.stderr
    assert "yields read('x')" in done.stderr and done.stderr.count("\n") == 1


def test_an_empty_folder_exits_five_saying_it_holds_no_python_file(tmp_path):
    done = explorer("run", tmp_path)
    assert done.returncode == 5 and f"no Python file (.py) in {tmp_path}" in done.stderr


def test_a_k_that_matches_nothing_exits_five_and_lists_the_scenarios_found():
    done = explorer("run", "scenarios/counter.py", "-k", "no-such-name")
    assert done.returncode == 5 and done.stdout == ""
    assert "no scenario name contains 'no-such-name'" in done.stderr and "'lost update'" in done.stderr


class ClosedAfter:
    """A standard output whose reader goes away after ``lines`` lines (``| head -n lines``)."""

    def __init__(self, lines, fileno):
        self.lines, self.written, self._fileno = lines, [], fileno

    def write(self, text):
        if len(self.written) >= self.lines:
            raise BrokenPipeError(32, "Broken pipe")
        self.written.append(text)
        return len(text)

    def flush(self):
        pass

    def fileno(self):
        return self._fileno


def test_a_reader_that_closes_the_pipe_after_error_findings_never_gets_exit_zero(tmp_path, monkeypatch):
    from explorer import cli

    with open(tmp_path / "out", "w") as target:
        monkeypatch.setattr(sys, "stdout", ClosedAfter(3, target.fileno()))
        status = cli.main(["run", "scenarios/counter.py", "-q"])
    assert status == 1  # the first scenario (a lost update) was explored, and the pipe broke while printing it


def test_a_reader_that_closes_the_pipe_before_a_clean_run_ends_gets_exit_three_not_zero():
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run([sys.executable, "-m", "explorer", "run", "scenarios/counter.py", "-k", "locked"],
                              cwd=ROOT, stdout=writer, stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    finally:
        os.close(writer)
    assert done.returncode == 3 and "Traceback" not in done.stderr


def exits_the_process():
    import os as operating_system

    value = yield read("x")
    if value == 1:
        operating_system._exit(0)  # @os-exit
    yield write("x", value + 1)


def test_os_exit_in_a_thread_body_is_an_error_finding_not_the_end_of_the_process():
    scenario = Scenario("exits", variables={"x": 0}, threads={"A": exits_the_process, "B": exits_the_process})
    result = explore(scenario)
    errors = [f for f in result.findings if f.severity == "error" and "os._exit" in f.message]
    assert sorted(f.thread for f in errors) == ["A", "B"]  # whichever reads 1 second
    for error in errors:
        assert "os._exit(0) was called in a thread body" in error.message and "return from the body" in error.message
        assert line("os-exit") in error.message
        assert replay(scenario, error.trace).findings[0].message == error.message
    assert os._exit.__name__ == "_exit"  # the guard is gone once exploring is over


def test_the_cli_reports_os_exit_in_a_body_with_exit_one_and_a_summary(tmp_path):
    path = scenario_file(tmp_path, """
        import os
        from explorer import Scenario, read, write
        def body():
            value = yield read("x")
            if value == 1:
                os._exit(0)
            yield write("x", value + 1)
        exits = Scenario("exits", variables={"x": 0}, threads={"A": body, "B": body})
    """)
    done = explorer("run", path, "-q")
    assert done.returncode == 1 and "os._exit(0) was called in a thread body" in done.stdout
